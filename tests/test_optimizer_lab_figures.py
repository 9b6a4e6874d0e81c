"""The optimizer lab's figures at every step: legible type, titles a phone holds, legends
below the plot; in the race every optimizer has a colour and a dash of its own."""

import pytest

from app.main import app  # noqa: F401 - the pages need the app
from app.ml import optim
from components import optimizer_lab_figures as figures
from pages import optimizer_lab as page
from tests.figure_checks import assert_every_step_legible, every_step, shown

RACE = [s.figure for s in page.STEPS].index("race")


@pytest.fixture(scope="module")
def steps():
    return every_step(page)


def test_every_step_s_figures_are_legible(steps):
    assert_every_step_legible(steps, page.ENGINE.graphs)


def test_every_optimizer_has_a_style_no_other_has():
    assert set(figures.OPTIMIZER_STYLES) == set(optim.OPTIMIZERS)
    colours = [colour for colour, _ in figures.OPTIMIZER_STYLES.values()]
    assert len(set(colours)) == len(colours)
    assert len(set(figures.OPTIMIZER_STYLES.values())) == len(colours)


def _styles(traces) -> list[tuple[str, str]]:
    return [(t["line"]["color"], t["line"].get("dash", "solid")) for t in traces]


def test_every_line_of_the_race_has_its_own_colour_and_dash(steps):
    out = steps[RACE]
    curves = [t for t in shown(out["figure:wide"])[0]["data"] if t.get("mode") == "lines"]
    paths = [t for t in shown(out["figure:left"])[0]["data"] if t.get("mode") == "lines" and t.get("line")]
    for traces in (curves, paths):
        assert len(traces) == len(optim.OPTIMIZERS)
        styles = _styles(traces)
        assert len(set(styles)) == len(styles) and len({c for c, _ in styles}) == len(styles)
    assert _styles(curves) == _styles(paths)
    bars = shown(out["figure:right"])[0]["data"][0]["marker"]["color"]
    assert sorted(bars) == sorted(c for c, _ in _styles(curves))


def test_the_race_s_path_chart_names_every_optimizer_in_its_legend(steps):
    figure = shown(steps[RACE]["figure:left"])[0]
    named = [t["name"].replace("<br>", " ") for t in figure["data"] if t.get("showlegend", True) is not False
             and t.get("mode") == "lines"]
    assert sorted(named) == sorted(spec.label for spec in optim.OPTIMIZERS.values())


def test_the_loss_axis_title_is_two_short_lines(steps):
    layout = shown(steps[RACE]["figure:wide"])[0]["layout"]
    assert layout["yaxis"]["title"]["text"] == "loss above<br>the best line's"


def test_the_standing_keeps_one_scale_for_every_epoch(steps):
    payload = steps[RACE]["figure:right"]
    ranges = {tuple(figure["layout"]["xaxis"]["range"]) for figure in shown(payload)}
    assert len(ranges) == 1
    low, high = ranges.pop()
    values = [v for f in payload["frames"] for v in f["data"][0]["x"] if v is not None]
    assert 10 ** low <= min(values) and max(values) <= 10 ** high
