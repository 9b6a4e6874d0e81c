"""The decision-boundaries page with a visitor's own points: free play through the
lesson engine (too few points, enough, a damaged link), the point editor in the
layout, and an uploaded file read on the server."""

import base64

import numpy as np
import pytest

from app.lessons import own_points as op
from app.main import app
from components import point_editor
from pages import decision_boundaries as page

DEFAULTS = page.SCHEMA.defaults()
FREE = [s.figure for s in page.STEPS].index("free")
SMALL = dict(layers=1, width=4, epochs=20)


def outputs(**overrides):
    with app.server.test_request_context():
        return page.ENGINE.outputs(FREE, {**DEFAULTS, **SMALL, **overrides})


def notices(out) -> list[str]:
    return [str(n.children) for n in out["notices"]]


def packed(n: int, classes: int) -> str:
    rng = np.random.default_rng(n)
    return op.encode(op.check(rng.uniform(-1, 1, (n, 2)), np.arange(n) % classes))


def trace_names(out) -> list:
    return [t.get("name") for t in out["figure:areas"]["figure"]["data"]]


def test_your_points_is_a_data_set_and_its_editor_shows_only_for_it():
    assert "own" in page.SCHEMA.get("dataset").choices
    assert outputs()["editor-class"] == point_editor.OFF
    assert outputs(dataset="own", own=packed(12, 2))["editor-class"] == point_editor.ON


def test_too_few_points_show_the_plane_to_click_on_and_say_what_is_missing():
    out = outputs(dataset="own", own=packed(2, 2))
    assert out["editor-class"] == point_editor.ON and "ls-hidden" not in out["panel:settings"]
    assert "ls-hidden" not in out["box:areas"]
    assert any("2 points so far; a network needs at least 4" in n for n in notices(out))
    assert not any(n.startswith("Cannot compute") for n in notices(out))
    assert "class 0" in trace_names(out) and "class 1" in trace_names(out)


def test_the_network_trains_on_the_points_with_a_color_per_class():
    out = outputs(dataset="own", own=packed(40, 5))
    assert not any(n.startswith("Cannot compute") for n in notices(out))
    names = trace_names(out)
    assert [f"class {c}" for c in range(5)] == [n for n in names if n and "test" not in n]
    colors = {t["name"]: t["marker"]["color"] for t in out["figure:areas"]["figure"]["data"] if t.get("name")}
    assert len({colors[f"class {c}"] for c in range(5)}) == 5


@pytest.mark.parametrize("code", ["P!!", "not points", "P" + "A" * (op.CODE_MAX + 5), "PAAAA"])
def test_a_damaged_link_gets_a_note_beside_the_field_and_a_working_page(code):
    out = outputs(dataset="own", own=code)
    assert out["note:own"].startswith("Your points:") and out["value:own"] == ""
    assert "ls-hidden" not in out["box:areas"]
    assert not any(n.startswith("Cannot compute") for n in notices(out))


def test_a_link_with_points_builds_the_page_with_them_and_the_editor_on():
    code = packed(10, 3)
    with app.server.test_request_context():
        layout = page.layout(step=str(FREE + 1), dataset="own", own=code)
    text = str(layout)
    assert code in text and point_editor.ON in text


def test_an_uploaded_file_is_read_on_the_server():
    code, message = page.load_points(b"x,y,label\r\n0,0,0\r\n1,1,1\r\n2,0,2\r\n0,2,0\r\n")
    assert message == "4 points of 3 classes loaded"
    assert op.decode(code).y.tolist() == [0, 1, 2, 0]
    with pytest.raises(ValueError, match="line 3: 2 fields"):
        page.load_points(b"x,y,label\n0,0,0\n1,1\n2,0,2\n0,2,0\n")


def test_an_upload_is_refused_past_the_file_size_before_it_is_decoded():
    data = base64.b64encode(b"0" * (op.FILE_BYTES_MAX + 10)).decode()
    with pytest.raises(ValueError, match="over 200,000 bytes"):
        point_editor._file_bytes("data:text/csv;base64," + data, op.FILE_BYTES_MAX)
    with pytest.raises(ValueError, match="did not arrive whole"):
        point_editor._file_bytes("data:text/csv;base64,@@@", op.FILE_BYTES_MAX)
    assert point_editor._file_bytes("data:text/csv;base64," + base64.b64encode(b"1,2,0").decode(), 100) == b"1,2,0"
