"""A visitor's own points: files read whole or refused with the line at fault,
the packed form a link carries, and the decision-boundaries run that trains on them."""

import base64

import numpy as np
import pytest

from app.lessons import decision_boundaries as experiments
from app.lessons import own_points as op
from app.ml import datasets, decision_runs

GOOD = "x,y,label\n0.5,0.5,0\n-0.5,-0.5,1\n0.25,-0.75,1\n-1,1,0\n"


def rows(n: int, classes: int = 2) -> str:
    rng = np.random.default_rng(n)
    return "".join(f"{x:.4f},{y:.4f},{k % classes}\n" for k, (x, y) in enumerate(rng.uniform(-2, 2, (n, 2))))


def refused(data) -> str:
    with pytest.raises(ValueError) as error:
        op.parse_csv(data)
    return str(error.value)


# -- good files ---------------------------------------------------------------------------


def test_a_file_with_a_header_gives_its_points_in_order():
    X, y = op.parse_csv(GOOD.encode())
    assert X.tolist() == [[0.5, 0.5], [-0.5, -0.5], [0.25, -0.75], [-1.0, 1.0]]
    assert y.tolist() == [0, 1, 1, 0]


def test_the_header_is_optional():
    with_header = op.parse_csv(GOOD.encode())
    without = op.parse_csv(GOOD.split("\n", 1)[1].encode())
    assert np.array_equal(with_header.X, without.X) and np.array_equal(with_header.y, without.y)


def test_a_byte_order_mark_and_windows_line_ends_are_read_as_usual():
    data = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()
    assert np.array_equal(op.parse_csv(data).X, op.parse_csv(GOOD.encode()).X)


def test_semicolons_tabs_quotes_blank_lines_and_comments():
    data = '# my points\n\n"x";"y";"class"\n0.5;0.5;0\n-0.5;-0.5;1\n\n1;1;2\n2;2;0\n'
    assert op.parse_csv(data.encode()).y.tolist() == [0, 1, 2, 0]
    assert op.parse_csv(GOOD.replace(",", "\t").encode()).classes == 2


def test_five_classes_and_2000_rows_are_the_limits():
    points = op.parse_csv(rows(op.ROWS_MAX, classes=5).encode())
    assert len(points.y) == 2000 and points.classes == 5


def test_coordinates_are_kept_to_thousandths_and_labels_may_be_written_as_decimals():
    X, y = op.parse_csv(b"0.12345,-0.98765,1.0\n1,1,0\n2,2,0\n3,3,1\n")
    assert X[0].tolist() == [0.123, -0.988] and y.tolist() == [1, 0, 0, 1]


# -- bad files: a message naming the line, and nothing loaded --------------------------------


def test_an_empty_file_is_refused():
    assert "no points" in refused(b"")
    assert "no points" in refused(b"x,y,label\n\n")


def test_one_class_is_refused():
    assert "at least 2 classes" in refused(b"0,0,1\n1,1,1\n2,2,1\n3,3,1\n")


def test_six_classes_are_refused_at_the_line_of_the_sixth():
    message = refused(rows(12, classes=6).encode())
    assert message.startswith("line 6:") and "at most 5 classes" in message


def test_2001_rows_are_refused_at_the_line_of_the_2001st():
    message = refused(("x,y,label\n" + rows(2001)).encode())
    assert message.startswith("line 2002:") and "at most 2,000" in message


def test_nan_and_infinity_are_refused():
    assert refused(GOOD.replace("-0.5,-0.5", "nan,-0.5").encode()).startswith("line 3: x is nan")
    assert refused(GOOD.replace("-0.5,-0.5", "-0.5,inf").encode()).startswith("line 3: y is inf")


def test_text_in_a_number_column_is_refused():
    message = refused(GOOD.replace("0.25,-0.75", "0.25,abc").encode())
    assert message == "line 4: y is “abc”, not a number"


def test_a_line_with_two_fields_is_refused():
    assert refused(GOOD.replace("0.25,-0.75,1", "0.25,-0.75").encode()).startswith("line 4: 2 fields")


def test_huge_numbers_are_refused_by_the_coordinate_range():
    assert "outside −10 to 10" in refused(GOOD.replace("-1,1,0", "1e300,1,0").encode())
    assert refused(GOOD.replace("-1,1,0", "-1,1e999,0").encode()).startswith("line 5: y is inf")
    assert "line 5" in refused(GOOD.replace("-1,1,0", "-1,1,1e300").encode())


def test_a_label_that_is_not_a_class_is_refused():
    assert "not a class" in refused(GOOD.replace("-1,1,0", "-1,1,cat").encode())
    assert "not a class" in refused(GOOD.replace("-1,1,0", "-1,1,-1").encode())
    assert "not a class" in refused(GOOD.replace("-1,1,0", "-1,1,0.5").encode())


def test_too_few_points_are_refused():
    assert "at least 4" in refused(b"0,0,0\n1,1,1\n")


def test_a_file_over_the_size_limit_or_not_text_is_refused():
    assert "bytes; at most" in refused(b"0" * (op.FILE_BYTES_MAX + 1))
    assert refused(b"0,0,0\n1,1,\xff\n").startswith("line 2: not text")


# -- the packed form ------------------------------------------------------------------------


def test_the_packed_form_round_trips_every_point_and_label():
    for n in (1, 2, 3, 7, 300, op.ROWS_MAX):
        rng = np.random.default_rng(n)
        points = op.check(rng.uniform(-10, 10, (n, 2)), rng.integers(0, 5, n))
        code = op.encode(points)
        assert len(code) == op.packed_length(n) <= op.CODE_MAX
        back = op.decode(code)
        assert np.array_equal(back.X, points.X) and np.array_equal(back.y, points.y)


def test_the_packed_form_is_safe_in_a_link_and_about_250_points_fit_beside_the_other_settings():
    code = op.encode(op.parse_csv(rows(300).encode()))
    assert set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert op.packed_length(250) < op.LINK_MAX - 400 and op.packed_length(340) > op.LINK_MAX


def test_no_points_pack_to_nothing():
    assert op.encode(op.empty()) == "" and len(op.decode("").y) == 0


@pytest.mark.parametrize("code", ["x", "P", "P!!!!", "PAAAA", "P" + "A" * (op.CODE_MAX + 3), "PAAAAAAAA"])
def test_a_damaged_packed_text_is_refused(code):
    with pytest.raises(ValueError):
        op.decode(code)


def test_packed_points_out_of_the_limits_are_refused():
    # x = 20.000 and label 7: whole int16 values and nibbles, but outside the lesson's limits
    raw = np.array([[20000, 0]], dtype=">i2").tobytes() + bytes([0x70])
    with pytest.raises(ValueError, match="outside"):
        op.decode("P" + base64.urlsafe_b64encode(raw).decode().rstrip("="))
    raw = np.array([[0, 0]], dtype=">i2").tobytes() + bytes([0x70])
    with pytest.raises(ValueError, match="not a class"):
        op.decode("P" + base64.urlsafe_b64encode(raw).decode().rstrip("="))


def test_checked_code_is_the_schema_check():
    code = op.encode(op.parse_csv(GOOD.encode()))
    assert op.checked_code(code) == code
    with pytest.raises(ValueError):
        op.checked_code("P!!")


# -- the run that trains on them ------------------------------------------------------------


def free_values(**overrides) -> dict:
    values = {"dataset": "spiral3", "points": 600, "noise": 0.2, "test": 0.5, "data_seed": 0, "layers": 1,
              "width": 4, "activation": "relu", "loss": "softmax_ce", "optimizer": "adam", "lr": 0.03, "batch": 0,
              "reg": "none", "rate": 0.0, "epochs": 30, "seed": 0}
    return {**values, **overrides}


def test_the_free_play_run_trains_on_the_points_of_the_link():
    points = op.parse_csv(rows(40, classes=4).encode())
    spec = experiments.free_spec(free_values(dataset=datasets.OWN_2D, own=op.encode(points), test=0.25))
    assert spec.points == 40 and decision_runs.classes_of(spec) == 4
    run = experiments.run_of(spec, experiments.MemoryStore())
    shown = np.vstack([run["X_train"], run["X_test"]])
    assert len(run["X_train"]) == 30 and run["classes"] == 4
    assert sorted(map(tuple, shown.tolist())) == sorted(map(tuple, points.X.tolist()))


def test_a_free_play_run_without_enough_points_says_what_they_lack():
    with pytest.raises(ValueError, match="your points: 0 points"):
        experiments.free_spec(free_values(dataset=datasets.OWN_2D))
    one_class = op.encode(op.check([[0, 0], [1, 1], [2, 2], [3, 3]], [1, 1, 1, 1]))
    with pytest.raises(ValueError, match="at least 2 classes"):
        experiments.free_spec(free_values(dataset=datasets.OWN_2D, own=one_class))


def test_the_lesson_data_sets_ignore_the_points():
    spec = experiments.free_spec(free_values(own="P!!"))
    assert spec.own == () and spec.dataset == "spiral3"
