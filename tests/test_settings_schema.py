import pytest

from components.settings_schema import Schema, Setting, parse_step

SCHEMA = Schema((
    Setting("lr", "Learning rate", "float", 0.1, low=1e-5, high=10.0),
    Setting("epochs", "Epochs", "int", 100, low=1, high=5000),
    Setting("opt", "Optimizer", "choice", "sgd", choices=("sgd", "adam")),
    Setting("log", "Log scale", "bool", False),
    Setting("bits", "Bits", "text", "01", pattern=r"[01]{1,8}", pattern_help="up to 8 binary digits"),
))


def test_valid_strings_parse_to_typed_values():
    values, notices = SCHEMA.clean({"lr": "0.5", "epochs": "20", "opt": "adam", "log": "1", "bits": "0110"})
    assert values == {"lr": 0.5, "epochs": 20, "opt": "adam", "log": True, "bits": "0110"}
    assert notices == []


def test_missing_values_take_defaults_silently():
    values, notices = SCHEMA.clean({})
    assert values == SCHEMA.defaults() and notices == []


@pytest.mark.parametrize("name, raw", [
    ("lr", "-1"), ("lr", "nan"), ("lr", "inf"), ("lr", "1e999"), ("lr", "abc"), ("lr", True),
    ("epochs", "1e9"), ("epochs", "2.5"), ("epochs", "0"), ("epochs", "9" * 500),
    ("opt", "<script>"), ("log", "maybe"), ("bits", "0123"), ("bits", "0" * 1000), ("lr", [1, 2]),
])
def test_garbage_is_replaced_by_the_default_with_a_notice_naming_the_limit(name, raw):
    values, notices = SCHEMA.clean({name: raw})
    assert values[name] == SCHEMA.defaults()[name]
    assert len(notices) == 1
    setting = next(s for s in SCHEMA.settings if s.name == name)
    assert setting.label in notices[0] and setting.describe_limit() in notices[0]


def test_query_round_trip_keeps_only_changes():
    values, _ = SCHEMA.clean({"lr": "0.5", "opt": "adam"})
    query = SCHEMA.to_query(values, step=3)
    assert query == "step=3&lr=0.5&opt=adam"
    parsed = dict(pair.split("=") for pair in query.split("&"))
    assert SCHEMA.clean(parsed)[0] == values


def test_hide_keys():
    assert SCHEMA.hidden({"lr_hide": "1", "opt_hide": "0", "nope_hide": "1"}) == {"lr"}


@pytest.mark.parametrize("raw, expected, has_notice", [
    (None, 0, False), ("3", 2, False), ("0", 0, True), ("99", 0, True), ("x", 0, True), ("1", 0, False),
])
def test_parse_step(raw, expected, has_notice):
    step, notices = parse_step(raw, 5)
    assert step == expected and bool(notices) == has_notice


@pytest.mark.parametrize("raw, after", [("41", "42"), ("1", "2"), ("4999", "5000"), ("5000", "1"),
                                        ("garbage", "101"), ("", "101"), ("1e9", "101"), (None, "101")])
def test_next_value_counts_up_within_the_limits_and_wraps(raw, after):
    assert SCHEMA.next_value("epochs", raw) == after
