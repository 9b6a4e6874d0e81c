"""The RNN lesson's figures at every step: legible type, titles a phone holds that keep
their lines from frame to frame, legends below the plot, and axis labels that fit."""

import numpy as np
import pytest

from app.main import app  # noqa: F401 - the pages need the app
from components import figure_fit as fit
from components import rnn_figures as figures
from pages import rnn as page
from tests.figure_checks import assert_every_step_legible, every_step, shown


@pytest.fixture(scope="module")
def steps():
    return every_step(page)


def test_every_step_s_figures_are_legible(steps):
    assert_every_step_legible(steps, page.SLOTS)


def test_the_pitch_axis_names_no_two_pitches_a_semitone_apart():
    layout = shown(figures.tune_roll([(60, 1.0), (62, 2.0)], "A tune", ["C4", "D4"]))[0]["layout"]
    named = layout["yaxis"]["tickvals"]
    assert min(np.diff(named)) >= 2 and 60 in named


@pytest.mark.parametrize("beats, most", [(16, 4), (48, 8), (130, 64)])
def test_the_time_axis_is_labelled_every_few_bars_at_most_eight_times(beats, most):
    step = figures.beat_labels(beats)
    assert step % 4 == 0 and beats / step <= 8 and step <= most


def test_the_cell_s_equation_is_written_in_lines_a_phone_holds(steps):
    cell = steps[[s.figure for s in page.STEPS].index("cell")]["figure:cell"]
    for figure in shown(cell):
        (note,) = [a for a in figure["layout"]["annotations"] if "unit" in a["text"]]
        lines = fit.lines_of(note["text"])
        assert all(fit.visible_length(line) <= figures.EQUATION_CHARS for line in lines)
        assert note["xshift"] < 0 and note["font"]["size"] >= fit.MIN_TEXT_PX


def test_the_hidden_state_s_steps_stay_apart_as_categories(steps):
    hidden = steps[[s.figure for s in page.STEPS].index("unrolled")]["figure:hidden"]
    x = hidden["figure"]["data"][0]["x"]
    assert len(set(x)) == len(x) and hidden["figure"]["layout"]["xaxis"]["type"] == "category"
