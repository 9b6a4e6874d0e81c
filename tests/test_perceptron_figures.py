"""The perceptron's figures at every step: legible type, titles a phone holds, legends
clear of the plot and of the axis titles, and the songs' names clear of each other."""

import itertools

import numpy as np
import pytest

from app.lessons.perceptron import LEARNABLE, UNLEARNABLE, decode_songs, song_titles
from app.main import app
from components import perceptron_figures as figures
from pages import perceptron as page
from tests.figure_checks import assert_legend_below, assert_legible, shown


@pytest.fixture(scope="module")
def steps():
    with app.server.test_request_context():
        return [page.ENGINE.outputs(i, page.SCHEMA.defaults()) for i in range(len(page.STEPS))]


@pytest.mark.parametrize("name", ["cube", "bars", "curves"])
def test_every_step_s_figures_are_legible(steps, name):
    for step, out in enumerate(steps):
        try:
            assert_legible(out[f"figure:{name}"])
        except AssertionError as error:
            raise AssertionError(f"step {step + 1}, {name}: {error}") from None


def test_the_curves_legend_has_a_band_of_its_own_under_the_epoch_axis(steps):
    layout = steps[4]["figure:curves"]["figure"]["layout"]
    assert_legend_below(layout["legend"])
    assert layout["xaxis2"]["title"]["text"] == "epoch" and layout["xaxis2"]["automargin"] is True


@pytest.mark.parametrize("songs", [LEARNABLE, UNLEARNABLE, "0000.0010.0100.0110.1000.1010.1100.1110"])
def test_song_names_are_16_px_and_placed_clear_of_each_other_and_of_every_corner(songs):
    X, y = decode_songs(songs)
    notes = figures._song_labels(X, song_titles(songs))
    assert len(notes) == len({tuple(p) for p in X})
    for note in notes:
        assert "size" not in note["font"], "names take the figure's own size (16 px, 20 on an exhibit)"
    corners = figures._on_screen(np.array([[n["x"], n["y"], n["z"]] for n in notes]))
    boxes = [figures._box(at, (n["ax"], -n["ay"]), n["text"]) for at, n in zip(corners, notes)]
    for a, b in itertools.combinations(boxes, 2):
        assert figures._overlap(a, b) == 0
    everywhere = figures._on_screen(np.array(list(itertools.product((0, 1), repeat=3))))
    for box in boxes:
        for x, yy in everywhere:
            assert figures._overlap(box, np.array([x - 9, yy - 9, x + 9, yy + 9])) == 0


def test_songs_sharing_a_corner_share_one_label():
    X = np.array([[0, 1, 1], [0, 1, 1]])
    (note,) = figures._song_labels(X, ["Old ballad", "Second ballad"])
    assert note["text"].count("<br>") >= 1 and "Old" in note["text"] and "Second" in note["text"]


def test_a_bar_per_song_named_in_short_lines_and_a_legend_swatch_per_colour(steps):
    figure = shown(steps[1]["figure:bars"])[0]
    names = figure["data"][0]["x"]
    assert all(len(line) <= 9 for name in names for line in name.split("<br>"))
    legend = [t for t in figure["data"] if t.get("showlegend", True) is not False]
    assert {t["marker"]["color"] for t in legend if t["type"] == "bar"} == {figures.POSITIVE, figures.NEGATIVE}
