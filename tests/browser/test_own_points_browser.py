"""The decision-boundaries lesson on a visitor's own points, in headless Chromium:
points added by clicking and removed by a right-click, CSV files uploaded (a good
one and bad ones), the network trained on them, and the link that holds them."""

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from app.main import app
from pages.decision_boundaries import STEPS
from tests.browser.helpers import assert_clean, start, wait_until

FREE = [s.figure for s in STEPS].index("free") + 1
PATH = f"/decision-boundaries?step={FREE}&dataset=own&layers=1&width=4&epochs=30"
AREAS = ".db-figures .ls-figure .js-plotly-plot"
pytestmark = pytest.mark.browser


def plot(dash_duo):
    return dash_duo.find_element(AREAS)


def shown_points(dash_duo) -> list:
    """The points the areas figure draws (training and test), as (x, y, class name)."""
    return dash_duo.driver.execute_script(
        "const gd = document.querySelector(arguments[0]); if (!gd || !gd.data) return [];"
        "const out = [];"
        "gd.data.filter(t => (t.name || '').startsWith('class')).forEach(t => (t.x || []).forEach((x, i) =>"
        "  out.push([x, t.y[i], t.name.replace(' (test)', '')])));"
        "return out;", AREAS)


def field_points(dash_duo) -> list:
    """The points the hidden setting holds, decoded as the editor does."""
    return dash_duo.driver.execute_script(
        "const f = document.querySelector('input[id*=\"\\\\\"name\\\\\":\\\\\"own\\\\\"\"]');"
        "return window.learnscapePointEditor.decode(f ? f.value : '').map(p => [p.x, p.y, p.c]);")


def areas_text(dash_duo) -> str:
    found = dash_duo.driver.find_elements("css selector", AREAS + " .infolayer")
    return found[0].text if found else ""


def screen_point(dash_duo, x: float, y: float) -> tuple[int, int]:
    """Where plane point (x, y) is in the window (px), with the plane scrolled to the middle
    of the window, clear of the step player that sticks to its top."""
    return tuple(dash_duo.driver.execute_script(
        "const gd = document.querySelector(arguments[0]); gd.scrollIntoView({block: 'center'});"
        "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis; const r = gd.getBoundingClientRect();"
        "return [Math.round(r.left + xa._offset + xa.l2p(arguments[1])),"
        "        Math.round(r.top + ya._offset + ya.l2p(arguments[2]))];", AREAS, x, y))


def steady_screen_point(dash_duo, x: float, y: float) -> tuple[int, int]:
    """`screen_point` once the page has stopped moving (a notice or panel above the plane
    may still be changing height): two readings a moment apart agree."""
    last = [None]

    def settled():
        here = screen_point(dash_duo, x, y)
        same, last[0] = here == last[0], here
        return here if same else None

    return wait_until(settled, 10, "the plane at rest")


def click_at(dash_duo, x: float, y: float, *, right: bool = False):
    actions = ActionChains(dash_duo.driver)
    pointer = actions.w3c_actions.pointer_action
    pointer.move_to_location(*steady_screen_point(dash_duo, x, y))
    pointer.context_click() if right else pointer.click()
    actions.perform()


def choose_class(dash_duo, c: int):
    dash_duo.find_element(f'.pe-classes input[value="{c}"]').click()


def own_in_link(dash_duo) -> str:
    return dash_duo.driver.execute_script("return new URL(window.location.href).searchParams.get('own') || ''")


def notices(dash_duo) -> str:
    return " ".join(e.text for e in dash_duo.driver.find_elements("css selector", ".ls-notices"))


def message(dash_duo) -> str:
    return dash_duo.find_element(".pe-message").text


def link_note(dash_duo) -> str:
    return dash_duo.find_element(".pe-link").text


def open_free_play(dash_duo):
    start(dash_duo, app, PATH)
    wait_until(lambda: "0 points so far" in notices(dash_duo), 30, "the empty plane's notice")
    wait_until(lambda: dash_duo.driver.execute_script(
        "const gd = document.querySelector(arguments[0]); return Boolean(gd && gd._fullLayout && gd._fullLayout.xaxis);",
        AREAS),
        10, "the plane")
    assert dash_duo.find_element(".pe-editor.is-on").is_displayed()


def upload(dash_duo, path):
    dash_duo.find_element('[id*="pe-upload"] input[type="file"]').send_keys(str(path))


def test_points_are_added_by_clicking_and_removed_by_a_right_click(dash_duo):
    open_free_play(dash_duo)
    wanted = [(-0.8, -0.8, 0), (-0.6, 0.7, 0), (0.7, -0.5, 0), (0.8, 0.8, 1), (0.4, 0.2, 1), (-0.2, 0.9, 1)]
    for k, (x, y, c) in enumerate(wanted):
        if k in (0, 3):
            choose_class(dash_duo, c)
        click_at(dash_duo, x, y)
        wait_until(lambda: len(field_points(dash_duo)) == k + 1, 10, f"point {k + 1} in the setting")
        # The server's answer redraws the plane and its notices; a click during that lands elsewhere.
        wait_until(lambda: len(shown_points(dash_duo)) == k + 1, 60, f"the plane redrawn with {k + 1} points")
    held = field_points(dash_duo)
    assert [p[2] for p in held] == [c for _, _, c in wanted]
    assert np.allclose([p[:2] for p in held], [w[:2] for w in wanted], atol=0.03)   # a pixel or two
    wait_until(lambda: "Your network: 1 × 4" in areas_text(dash_duo), 60, "the network trained on 6 points")
    wait_until(lambda: len(shown_points(dash_duo)) == 6, 10, "the 6 points in the figure")
    assert {p[2] for p in shown_points(dash_duo)} == {"class 0", "class 1"}
    assert own_in_link(dash_duo) and "The link holds your 6 points." == link_note(dash_duo)

    x, y, _ = held[4]
    click_at(dash_duo, x, y, right=True)
    wait_until(lambda: len(field_points(dash_duo)) == 5, 10, "the point removed from the setting")
    wait_until(lambda: len(shown_points(dash_duo)) == 5, 60, "the network trained on 5 points")
    assert not any(np.allclose(p[:2], (x, y)) for p in shown_points(dash_duo))
    wait_until(lambda: link_note(dash_duo) == "The link holds your 5 points.", 10, "the link's note")

    x, y, c = field_points(dash_duo)[0]
    drag(dash_duo, (x, y), (-1.0, 0.1))
    wait_until(lambda: np.allclose(field_points(dash_duo)[0][:2], (-1.0, 0.1), atol=0.03), 10, "the point moved")
    assert len(field_points(dash_duo)) == 5 and field_points(dash_duo)[0][2] == c
    wait_until(lambda: any(np.allclose(p[:2], field_points(dash_duo)[0][:2]) for p in shown_points(dash_duo)), 60,
               "the network trained on the moved point")
    assert_clean(dash_duo)


def drag(dash_duo, start: tuple, end: tuple):
    actions = ActionChains(dash_duo.driver)
    pointer = actions.w3c_actions.pointer_action
    pointer.move_to_location(*screen_point(dash_duo, *start))
    pointer.pointer_down()
    (x0, y0), (x1, y1) = screen_point(dash_duo, *start), screen_point(dash_duo, *end)
    for k in range(1, 6):
        pointer.move_to_location(round(x0 + (x1 - x0) * k / 5), round(y0 + (y1 - y0) * k / 5))
    pointer.pointer_up()
    actions.perform()


def test_good_and_bad_files_and_the_link_that_holds_them(dash_duo, tmp_path):
    open_free_play(dash_duo)
    rng = np.random.default_rng(1)
    X = rng.uniform(-1.5, 1.5, (60, 2))
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    good = tmp_path / "points.csv"
    good.write_bytes(b"\xef\xbb\xbfx,y,label\r\n" + "".join(
        f"{a:.3f},{b:.3f},{c}\r\n" for (a, b), c in zip(X, labels)).encode())
    upload(dash_duo, good)
    wait_until(lambda: message(dash_duo) == "points.csv: 60 points of 3 classes loaded.", 20, "the file loaded")
    wait_until(lambda: len(shown_points(dash_duo)) == 60, 60, "the network trained on the file's points")
    assert sorted(map(tuple, np.round([p[:2] for p in shown_points(dash_duo)], 3).tolist())) == \
        sorted(map(tuple, np.round(X, 3).tolist()))
    assert {p[2] for p in shown_points(dash_duo)} == {"class 0", "class 1", "class 2"}
    code = own_in_link(dash_duo)
    assert code and len(dash_duo.driver.current_url) < 2000
    wait_until(lambda: link_note(dash_duo) == "The link holds your 60 points.", 10, "the link's note")

    # a link with the points opens to the same points
    dash_duo.driver.get(dash_duo.driver.current_url)
    wait_until(lambda: len(shown_points(dash_duo)) == 60, 60, "the points of the link")

    for name, text, reason in (
        ("two-fields.csv", "x,y,label\n0,0,0\n1,1\n2,2,1\n3,3,0\n", "line 3: 2 fields; each line needs 3: x, y, label"),
        ("six-classes.csv", "".join(f"{k},{k},{k}\n" for k in range(6)), "line 6: the label 5 is not a class"),
    ):
        (tmp_path / name).write_text(text)
        upload(dash_duo, tmp_path / name)
        wait_until(lambda: message(dash_duo).startswith(f"{name} was not loaded: {reason}"), 20, f"{name} refused")
        assert len(field_points(dash_duo)) == 60 and own_in_link(dash_duo) == code   # nothing half-loaded

    huge = tmp_path / "huge.csv"
    huge.write_text("0,0,0\n" * 50_000)
    upload(dash_duo, huge)
    wait_until(lambda: message(dash_duo) == "huge.csv was not loaded: the file has 300,000 bytes; at most 200,000.",
               20, "the file over the size limit refused")
    assert len(field_points(dash_duo)) == 60

    many = tmp_path / "many.csv"
    big = rng.uniform(-2, 2, (500, 2))
    many.write_text("".join(f"{a:.3f},{b:.3f},{k % 2}\n" for k, (a, b) in enumerate(big)))
    upload(dash_duo, many)
    wait_until(lambda: message(dash_duo) == "many.csv: 500 points of 2 classes loaded.", 20, "the big file loaded")
    wait_until(lambda: link_note(dash_duo).startswith("The link cannot hold your 500 points"), 20,
               "the note that the link leaves them out")
    assert own_in_link(dash_duo) == "" and len(dash_duo.driver.current_url) < 2000
    wait_until(lambda: len(shown_points(dash_duo)) == 500, 60, "the network trained on 500 points")
    assert len(field_points(dash_duo)) == 500
    assert_clean(dash_duo)
