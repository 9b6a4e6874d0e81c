"""Every claim of the computational-graph narration, recomputed from the lesson's own code.

The graphs are exact (no training, no randomness but the perceptron lesson's seed-0
weights), so each number is checked as the text writes it: rounded to the digits shown.
"""

import math
import re
from pathlib import Path

import numpy as np
import pytest

from app.lessons import computational_graph as lesson
from app.lessons import perceptron as perceptron_lesson
from app.ml import expression
from app.ml.perceptron import Perceptron
from components.graph_figures import number_text
from components.narration import load_steps

STEPS = {s.figure: s for s in load_steps(Path(__file__).parents[2] / "pages" / "computational_graph.md")}


def says(figure: str, *texts: str):
    s = STEPS[figure]
    text = " ".join((s.body, s.question, s.answer, s.task)).replace("\n", " ")
    for t in texts:
        assert t in text, f"the narration of {figure!r} should say {t!r}"


def shown(v: float) -> str:
    """A value as the figure shows it, with an ASCII minus (as the narration's formulas write it)."""
    return number_text(v).replace("−", "-")


@pytest.fixture(scope="module")
def song():
    run = lesson.lesson_song_run()
    values = {label: v for label, v in zip(run["before"]["labels"], run["before"]["data"])}
    grads = {label: g for label, g in zip(run["before"]["labels"], run["before"]["grad"])}
    after = {label: v for label, v in zip(run["after"]["labels"], run["after"]["data"])}
    return run, values, grads, after


def edge(record: dict, child: str, parent: str) -> int:
    """The index of the edge child -> parent (labels)."""
    c, p = record["labels"].index(child), record["labels"].index(parent)
    return next(k for k, (a, b) in enumerate(zip(record["child"], record["parent"])) if (a, b) == (c, p))


def test_the_song_and_the_weights_are_the_perceptron_lessons():
    np.testing.assert_allclose(lesson.SONG_W, np.round(Perceptron(n_features=3).init(0)["w"], 4), atol=0)
    assert lesson.SONG_X == [0, 1, 1] and lesson.SONG_Y == 1 and lesson.SONG_B == 0.0
    says("graph", "$w = (%.4f, %.4f, %.4f)$" % lesson.SONG_W, "$b = 0$", "$x = (0, 1, 1)$", "$y = 1$")


def test_the_graph_has_the_operations_the_narration_lists(song):
    ops = song[0]["before"]["ops"]
    assert sum(op == "*" for op in ops) == 3 and sum(op == "+" for op in ops) == 3
    assert {op for op in ops if op} == {"*", "+", "sigmoid", "bce"}
    says("graph", "three products ×, three sums +, the sigmoid σ and the loss **bce**")


def test_the_forward_numbers(song):
    _, values, _, _ = song
    z, p, loss = values["z"], values["p"], values["L"]
    assert z == pytest.approx(sum(x * w for x, w in zip(lesson.SONG_X, lesson.SONG_W)), abs=1e-15)
    assert p == pytest.approx(1 / (1 + math.exp(-z))) and loss == pytest.approx(-math.log(p))
    says("forward", f"$z = {shown(z)}$", f"$p = \\sigma({shown(z)}) = {shown(p)}$", f"{100 * p:.0f} % probability",
         f"$$L = -\\log p = {shown(loss)}.$$")


def test_the_backward_numbers(song):
    run, values, grads, _ = song
    before = run["before"]
    local = before["local"][edge(before, "z", "p")]
    assert local == pytest.approx(values["p"] * (1 - values["p"]))
    assert grads["p"] == pytest.approx(-1 / values["p"])
    assert grads["z"] == pytest.approx(local * grads["p"]) == pytest.approx(values["p"] - 1)
    says("backward", f"$\\partial L/\\partial z = {shown(local)} \\times ({shown(grads['p'])}) = {shown(grads['z'])}$")
    assert float(shown(local)) * float(shown(grads["p"])) == pytest.approx(float(shown(grads["z"])), abs=5e-4)


def test_every_sum_passes_the_gradient_on_and_each_weight_gets_it_times_its_feature(song):
    run, values, grads, _ = song
    before = run["before"]
    sums = [i for i, op in enumerate(before["ops"]) if op == "+"]
    assert all(before["grad"][i] == grads["z"] for i in sums) and grads["b"] == grads["z"]
    for i, x in enumerate(lesson.SONG_X, start=1):
        assert grads[f"w{i}"] == pytest.approx(grads["z"] * x, abs=0)
    formula = [*((values["p"] - lesson.SONG_Y) * np.array(lesson.SONG_X)), values["p"] - lesson.SONG_Y]
    np.testing.assert_allclose(run["grads_formula"], formula, rtol=1e-12)
    says("gradients", f"$\\partial L/\\partial z = p - y = {shown(grads['z'])}$",
         f"${shown(grads['w2'])}$ for $w_2$ and $w_3$", "$0$ for $w_1$", "Exactly 0", "($n = 1$)")


def test_the_update_numbers(song):
    run, values, grads, after = song
    step = -lesson.SONG_LR * grads["z"]
    says("update", "$\\eta = 1$", f"grows by ${step:.4f}$", f"from $0$ to ${step:.4f}$",
         f"$w_2$ goes from ${values['w2']:.4f}$ to\n${after['w2']:.4f}$".replace("\n", " "),
         f"$w_3$ from ${values['w3']:.4f}$ to ${after['w3']:.4f}$", f"stays at ${values['w1']:.4f}$",
         f"from ${shown(values['p'])}$ to ${shown(after['p'])}$",
         f"down from {shown(values['L'])} to {shown(after['L'])}")
    assert after["w1"] == values["w1"]
    for name in ("w2", "w3", "b"):
        assert after[name] == pytest.approx(values[name] + step, abs=1e-15)
    assert round(values["w2"], 4) + round(step, 4) == pytest.approx(round(after["w2"], 4), abs=1e-12)


def test_the_perceptron_lessons_own_first_update_lowers_the_piano_weight():
    r = perceptron_lesson.training_run(perceptron_lesson.UNLEARNABLE, "sgd", 1.0, 1, 0)
    X, y = perceptron_lesson.decode_songs(perceptron_lesson.UNLEARNABLE)
    assert int(np.sum(X[:, 2] * (y == 0))) == 2, "two disliked piano songs"
    says("update", f"from {r['w'][0, 2]:.3f} to {r['w'][1, 2]:.3f}")
    assert r["w"][1, 2] < r["w"][0, 2] and lesson.lesson_song_run()["after"]["data"][
        lesson.lesson_song_run()["params"][2]] > lesson.SONG_W[2]


def test_the_shared_input_gets_two_parts_that_add_up_as_shown():
    record = lesson.shared_run()
    assert lesson.NET["x"] == (0, 1) and lesson.NET["y"] == 1
    says("shared", "$x = (0, 1)$", "$y = 1$", "picked by hand")
    for name in ("x1", "x2"):
        i = record["labels"].index(name)
        parts = [record["flow"][k] for k, c in enumerate(record["child"]) if c == i]
        assert len(parts) == 2 and sum(parts) == pytest.approx(record["grad"][i], abs=1e-15)
        # rounded as the figure and the table show them, the parts still add up to the gradient
        assert sum(float(shown(p)) for p in parts) == pytest.approx(float(shown(record["grad"][i])), abs=1e-9)
    x2 = record["labels"].index("x2")
    first, second = (number_text(record["flow"][k]) for k, c in enumerate(record["child"]) if c == x2)
    says("shared", f"{first} + ({second}) = {number_text(record['grad'][x2])}", "disagree in sign")
    assert second.startswith("−") and not first.startswith("−")


def test_free_play_names_the_parsers_functions_and_its_task_can_be_done():
    says("free", *[f"`{name}`" for name in expression.FUNCTIONS], "`x*y + x*z + x`")
    run = lesson.expression_run("x*y + x*z + x", "")
    parts = [run["record"]["flow"][k] for k, c in enumerate(run["record"]["child"])
             if c == run["record"]["labels"].index("x")]
    assert run["uses"][0] == 3 and len(parts) == 3 and sum(parts) == pytest.approx(run["grads"][0])


def test_no_number_in_the_narration_is_left_unchecked():
    """A number added to the narration must be added here, with a test above if it is measured."""
    measured = {"0.105", "0.1257", "0.1321", "0.178", "0.235", "0.2435", "0.302", "0.3756", "0.376", "0.407",
                "0.471", "0.487", "0.508", "0.624", "0.640", "0.6404", "0.837", "1.0160", "1.6", "62"}
    given = {"0", "1"}
    found = set()
    for s in STEPS.values():
        found |= set(re.findall(r"(?<![\w.])\d+(?:[.,]\d+)*", " ".join((s.body, s.question, s.answer, s.task))))
    assert found <= measured | given, sorted(found - measured - given)
