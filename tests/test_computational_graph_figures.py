"""The computational graph's figure at every step: legible type, titles that keep their
lines from frame to frame, and every edge's number clear of the nodes, of the numbers
under them and of the other edges' numbers."""

import itertools

import numpy as np
import pytest

from app.lessons import computational_graph as experiments
from app.main import app  # noqa: F401 - the pages need the app
from components import graph_figures as figures
from components.theme import VERMILION
from pages import computational_graph as page
from tests.figure_checks import assert_every_step_legible, every_step


@pytest.fixture(scope="module")
def steps():
    return every_step(page)


def test_every_step_s_graph_is_legible_and_its_title_never_jumps(steps):
    assert_every_step_legible(steps, ["graph"], title_chars=figures.TITLE_CHARS)


def _label_boxes(record: dict, height: int):
    g = figures._geometry(record, height)
    xs, ys = figures._label_points(record, g)
    boxes = []
    for k, (x, y) in enumerate(zip(xs, ys)):
        px = ((x - g["xrange"][0]) * g["px_per_x"], (y - g["yrange"][0]) * g["px_per_y"])
        half_w = figures._text_px(f"×{figures.number_text(record['local'][k])}", figures.EDGE_PX) / 2
        half_h = figures.EDGE_PX / 2 + 2
        boxes.append((px[0] - half_w, px[1] - half_h, px[0] + half_w, px[1] + half_h))
    return g, boxes


def test_edge_numbers_cover_no_node_no_value_and_no_other_edge_number():
    """The song's graph writes every edge's number at once (the step 3 and 4 figures)."""
    record = experiments.lesson_song_run()["before"]
    g, boxes = _label_boxes(record, figures.figure_height(record))
    assert not g["dense"]
    obstacles = figures._obstacles(record, g)
    for box in boxes:
        for other in obstacles:
            assert figures._overlap(np.array(box), other) == 0
    for a, b in itertools.combinations(boxes, 2):
        assert figures._overlap(np.array(a), np.array(b)) == 0


def test_the_figure_names_the_gradients_colour_as_it_draws_it():
    assert figures.TONE["backward"] == VERMILION
    assert "gradient in red-orange" in figures.LEGEND and VERMILION in figures.LEGEND
