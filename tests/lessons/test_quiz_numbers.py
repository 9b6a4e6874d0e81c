"""Every number of the lessons' quizzes (pages/*.quiz.md), recomputed from the lessons' own code.

A question's *facts* are phrases of its text with the values their numbers state,
computed here from app/lessons (the runs the lesson's steps show) and the lesson's
schema. Every number of a question's text must lie inside one of its facts, so a new
number cannot slip in unchecked. Tolerances:

- a plain value: within half a unit of the stated number's last digit
  ("0.693" within 0.0005, "52" within 0.5);
- Net(x): a number of a trained network, which another CPU's rounding may move a
  little: within 2 % of the stated number (or the half unit, if larger); Net(x, points=True):
  a percentage of a trained network, within 1 percentage point;
- Near(x, tol): within tol; Below(x) / Above(x): the stated number is a bound
  ("below 0.07": x < 0.07); Each([...]): every value; Not(check): a wrong option's claim is false;
- a power of ten (10⁴⁴): within half an order of magnitude.

Claims without numbers ("one colour everywhere", "zero up to rounding") are asserted
where their runs are computed. Links must open their own lesson at the step named,
with settings the lesson's schema accepts unchanged.
"""

from __future__ import annotations

import functools
import importlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

import app.main  # noqa: F401  (the site's cache and pages, as the lessons run in it)
from components.quiz import load_quiz

LESSONS = ("perceptron", "computational-graph", "decision-boundaries", "rnn", "graph-layout", "loss-landscape",
           "optimizer-lab")

# -- reading numbers --------------------------------------------------------------------------

_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
NUMBER = re.compile(r"(?<![\w.,])[−-]?\d+(?:,\d{3})*(?:\.\d+)?[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]*")
CODE = re.compile(r"`[^`]*`")


def numbers(text: str) -> list[tuple[tuple[int, int], str]]:
    """(span, token) of every number in `text`, outside code spans (note names like `C4:1`)."""
    code = [m.span() for m in CODE.finditer(text)]
    return [(m.span(), m.group()) for m in NUMBER.finditer(text)
            if not any(a <= m.start() < b for a, b in code)]


def stated(token: str) -> tuple[float, float, bool]:
    """(value, half a unit of its last digit, is a power of ten) of a number as written."""
    plain = token.replace("−", "-").replace(",", "")
    base, power = re.match(r"([-\d.]+)(.*)", plain).groups()
    if power:
        return float(base) ** int(power.translate(_SUPER)), 0.0, True
    decimals = len(base.split(".")[1]) if "." in base else 0
    return float(base), 0.5 * 10.0 ** -decimals, False


@dataclass(frozen=True)
class Near:
    value: float
    tol: float


@dataclass(frozen=True)
class Net:
    value: float
    points: bool = False


@dataclass(frozen=True)
class Below:
    value: float


@dataclass(frozen=True)
class Above:
    value: float


@dataclass(frozen=True)
class Each:
    values: tuple


@dataclass(frozen=True)
class Not:
    check: object


def holds(token: str, spec) -> bool:
    """Whether the number `token`, as written, states `spec`."""
    number, half, power = stated(token)
    if isinstance(spec, Not):
        return not holds(token, spec.check)
    if isinstance(spec, Each):
        return all(holds(token, v) for v in spec.values)
    if isinstance(spec, Below):
        return float(spec.value) < number
    if isinstance(spec, Above):
        return float(spec.value) > number
    if isinstance(spec, Near):
        return abs(float(spec.value) - number) <= spec.tol
    value = float(spec.value if isinstance(spec, Net) else spec)
    if power:
        return value > 0 and abs(math.log10(value) - math.log10(number)) <= 0.5
    if isinstance(spec, Net):
        half = max(half, 1.0 if spec.points else 0.02 * abs(number))
    return abs(value - number) <= half + 1e-12


# -- the lessons ------------------------------------------------------------------------------


def page_of(lesson: str):
    return importlib.import_module(f"pages.{lesson.replace('-', '_')}")


def step_of(lesson: str) -> dict[str, int]:
    """Figure name -> the 1-based number of the first step that shows it."""
    out: dict[str, int] = {}
    for number, step in enumerate(page_of(lesson).STEPS, start=1):
        out.setdefault(step.figure, number)
    return out


def question(lesson: str, qid: str):
    return next(q for q in load_quiz(lesson).questions if q.id == qid)


def link_query(lesson: str, qid: str) -> dict[str, str]:
    query = parse_qs(urlsplit(question(lesson, qid).see_href).query, keep_blank_values=True)
    return {key: values[-1] for key, values in query.items()}


def link_values(lesson: str, qid: str) -> dict:
    """The settings a question's link opens its lesson with, as the lesson's schema cleans them."""
    query = link_query(lesson, qid)
    query.pop("step", None)
    values, notes = page_of(lesson).SCHEMA.check(query)
    assert notes == {}, notes
    return values


def first_below(values, threshold: float) -> int:
    return int(np.argmax(np.asarray(values) < threshold))


@functools.lru_cache(maxsize=None)
def perceptron() -> dict:
    from app.lessons import perceptron as ex
    d = page_of("perceptron").SCHEMA.defaults()
    step = step_of("perceptron")

    def run(songs, lr=d["lr"], epochs=d["epochs"], seed=d["seed"]):
        return ex.training_run(songs, d["optimizer"], lr, epochs, seed)

    hedge = run(ex.UNLEARNABLE)
    loss, probs = hedge["loss"][-1], hedge["probs"][-1]
    worst = 100 * probs[np.argmax(abs(probs - 0.5))]
    _, y = ex.decode_songs(ex.UNLEARNABLE)
    seeds = range(20)
    ends = np.array([run(ex.UNLEARNABLE, seed=s)["loss"][-1] for s in seeds])
    free = link_values("perceptron", "what-would-help")
    assert free["songs"] == ex.UNLEARNABLE                 # free play starts on Ben's four songs
    longer = ex.training_run(free["songs"], free["optimizer"], free["lr"], free["epochs"], free["seed"])
    big_lr = 10.0
    bigger = run(ex.UNLEARNABLE, lr=big_lr)
    learn = run(ex.LEARNABLE)
    w, b = learn["w"][-1], learn["b"][-1]

    def p(*features):
        return 100 * ex.predict(learn, np.array(features, dtype=float))

    piano = p(0, 0, 1)
    return {
        "hedge": [
            ("see", "(step 5)", step["train"]),
            ("prompt", "for 300 epochs at learning rate 1", d["epochs"], d["lr"]),
            ("option 1", "near 100 %, the disliked ones near 0 %", 100 * y.max(), 100 * y.min()),
            ("option 3", "All four at 50 %", worst),
            ("answer", "All four end at 50 % and the loss at 0.693 = log 2", worst, loss, math.exp(loss)),
            ("answer", "each of the 20 starting seeds 0 to 19, the loss after 300 epochs is within 0.001 of log 2",
             len(seeds), seeds[0], seeds[-1], d["epochs"], Below(abs(ends - math.log(2)).max()),
             Each(tuple(np.exp(ends)))),
        ],
        "what-would-help": [
            ("see", "5,000 epochs", free["epochs"]),
            ("prompt", "stuck at 0.693", loss),
            ("why 1", "after 5,000 epochs at learning rate 1 the loss is still 0.693",
             free["epochs"], free["lr"], longer["loss"][-1]),
            ("why 2", "at learning rate 10 the loss after 300 epochs is above 3", big_lr, d["epochs"],
             Above(bigger["loss"][-1])),
            ("why 3", "seeds 0 to 19 ends at the same 0.693", seeds[0], seeds[-1], Each(tuple(ends))),
            ("why 4", "(step 7)", step["learnable"]),
            ("why 4", "a loss below 0.07", Below(learn["loss"][-1])),
        ],
        "piano-alone": [
            ("see", "(step 8)", step["predict"]),
            ("option 1", "More than 90 %", Not(Above(piano))),
            ("option 2", "About 50 %", Not(Near(piano, 10))),
            ("option 3", "Less than 20 %", Below(piano)),
            ("answer", "16 %", piano),
            ("answer", "about 6.1 for piano and 5.2 for sad, with a bias of −7.8", w[2], w[1], b),
            ("answer", "σ(6.1 − 7.8) = σ(−1.7) = 16 %", w[2], -b, w[2] + b, piano),
            ("answer", "the sum pass 0", Above(w[1] + w[2] + b)),
            ("answer", "a sad piano song gets 97 %", p(0, 1, 1)),
        ],
    }


@functools.lru_cache(maxsize=None)
def computational_graph() -> dict:
    from app.lessons import computational_graph as ex
    step = step_of("computational-graph")
    run = ex.lesson_song_run()
    before, after = run["before"], run["after"]
    value = dict(zip(before["labels"], before["data"]))
    grad = dict(zip(before["labels"], before["grad"]))
    b_edge = [k for k in range(len(before["child"])) if before["labels"][before["child"][k]] == "b"]
    [local_b] = [before["local"][k] for k in b_edge]

    def song(v: dict) -> dict:
        return ex.song_run((v["x1"], v["x2"], v["x3"]), (v["w1"], v["w2"], v["w3"]), v["b"], v["y"], v["lr"])

    bigger = link_values("computational-graph", "larger-step")
    double = song(bigger)
    dbefore, dafter = double["before"], double["after"]
    changes = [dafter["data"][i] - dbefore["data"][i] for i in double["params"]]
    changes_one = [after["data"][i] - before["data"][i] for i in run["params"]]
    assert changes[0] == changes_one[0] == 0.0              # w1: its feature is 0
    losses = []
    for lr in (0.5, 1.0, 2.0, 5.0, 10.0):
        stepped = song({**bigger, "lr": lr})["after"]
        losses.append(stepped["data"][stepped["root"]])
    assert losses == sorted(losses, reverse=True)           # a longer step, a lower loss, for one liked song
    z_after = dict(zip(dafter["labels"], dafter["data"]))
    shared = link_values("computational-graph", "used-three-times")
    assert shared["graph"] == "expression" and shared["expr"] == "x*y + x*z + x".replace(" ", "")
    expr = ex.expression_run(shared["expr"], shared["vars"])
    xs, gx = dict(zip(expr["names"], expr["values"])), dict(zip(expr["names"], expr["grads"]))
    last_term = ex.expression_run("x", "x=1.5")["grads"][0]
    return {
        "bias-gradient": [
            ("see", "(step 4)", step["gradients"]),
            ("prompt", "p = 0.624", value["p"]),
            ("prompt", "y = 1", value["y"]),
            ("option 1", "0", grad["w1"]),
            ("why 1", "x₁ (modern) is 0", value["x1"]),
            ("option 2", "−0.376", grad["b"]),
            ("why 2", "local derivative 1", local_b),
            ("why 2", "p − y = 0.624 − 1", value["p"], value["y"]),
            ("option 3", "0.624", value["p"]),
            ("why 3", "y = 1", value["y"]),
            ("option 4", "1", local_b),
            ("why 4", "∂L/∂z = −0.376", grad["z"]),
        ],
        "larger-step": [
            ("see", "η = 2", bigger["lr"]),
            ("prompt", "With learning rate η = 1", ex.SONG_LR),
            ("prompt", "from 0.471 down to 0.178", before["data"][before["root"]], after["data"][after["root"]]),
            ("prompt", "with η = 2 do", bigger["lr"]),
            ("option 2", "the same 0.178", after["data"][after["root"]]),
            ("option 3", "lower than 0.178", Below(dafter["data"][dafter["root"]])),
            ("answer", "It ends at 0.061", dafter["data"][dafter["root"]]),
            ("answer", "grow by 0.751 each instead of 0.376", Each(tuple(changes[1:])), Each(tuple(changes_one[1:]))),
            ("answer", "z rises from 0.508 to 2.76 and p to 0.94", value["z"], z_after["z"], z_after["p"]),
            ("answer", "even η = 10 lowers it, to below 0.0001", 10.0, Below(losses[-1])),
        ],
        "used-three-times": [
            ("prompt", "x = 1.5, y = 0.5 and z = 2", xs["x"], xs["y"], xs["z"]),
            ("option 1", "1", last_term),
            ("option 2", "1.5", Each((xs["x"], gx["y"], gx["z"]))),
            ("option 3", "3.5", gx["x"]),
            ("why 3", "y + z + 1 = 0.5 + 2 + 1", last_term, xs["y"], xs["z"], last_term),
            ("option 4", "0.5", xs["y"]),
        ],
    }


@functools.lru_cache(maxsize=None)
def decision_boundaries() -> dict:
    from app.lessons import decision_boundaries as ex
    from app.ml import decision_runs as dr
    step = step_of("decision-boundaries")

    def lesson_run(layers: int, width: int) -> dict:
        # Fewer frames and a coarser grid than the page: the training itself is the same.
        return dr.train_run(ex.lesson_spec(layers, width)._replace(frames=1, resolution=8))

    [(lin_layers, _)] = ex.STEP_NETS["lines"]
    lines = lesson_run(lin_layers, 1)
    spec = ex.lesson_spec(20, 5)
    (wide_l, wide_w), (thin_l, thin_w) = ex.STEP_NETS["thin"]
    wide, thin = lesson_run(wide_l, wide_w), lesson_run(thin_l, thin_w)
    assert len(np.unique(thin["grid_class"][-1])) == 1      # one colour everywhere
    assert np.abs(thin["loss"] - thin["loss"][0]).max() < 0.001
    model, _, data = dr.build(spec)

    def dead_layers(epochs: int) -> list[int]:
        params = dr.train_run(spec._replace(epochs=epochs, frames=1, resolution=8))["params"]
        hidden = model.hidden_activations(model.unflatten(params), data.X_train)
        return [i + 1 for i, h in enumerate(hidden) if not h.any()]

    [dead] = dead_layers(3)
    hidden = model.hidden_activations(model.unflatten(thin["params"]), data.X_train)
    assert dead_layers(2) == [] and [i + 1 for i, h in enumerate(hidden) if not h.any()] == [dead]
    stuck_values = link_values("decision-boundaries", "luck-of-the-start")
    stuck = dr.train_run(ex.free_spec(stuck_values)._replace(frames=1, resolution=8, neuron_resolution=0))
    learns = dr.train_run(ex.free_spec({**stuck_values, "seed": 0})._replace(frames=1, resolution=8,
                                                                          neuron_resolution=0))
    assert len(np.unique(stuck["grid_class"][-1])) == 1
    return {
        "wedges": [
            ("see", "(step 2)", step["lines"]),
            ("prompt", "After 200 epochs, what share of the 300 training points", spec.epochs,
             len(lines["y_train"])),
            ("answer", "52 %", Net(100 * lines["accuracy"][-1], points=True)),
        ],
        "dead-layer": [
            ("see", "(step 7)", step["thin"]),
            ("prompt", "The 20 × 5 net and the 1 × 100 net both have 100 hidden neurons",
             thin_l, thin_w, wide_l, wide_w, Each((thin_l * thin_w, wide_l * wide_w))),
            ("prompt", "The 1 × 100 net gets 99.7 % of the training points right", wide_l, wide_w,
             Net(100 * wide["accuracy"][-1], points=True)),
            ("prompt", "the 20 × 5 net paints", thin_l, thin_w),
            ("why 1", "the 1 × 100 net has the same 100 neurons and gets 99.7 % right", wide_l, wide_w,
             wide_l * wide_w, Net(100 * wide["accuracy"][-1], points=True)),
            ("why 2", "its loss is 1.10 at epoch 200, as at epoch 0", Each((thin["loss"][-1], thin["loss"][0])),
             spec.epochs, 0),
            ("why 3", "from epoch 3 on, all five ReLU neurons of layer 11", 3, dead),
            ("why 4", "the same learning rate, 0.01", Each((spec.lr, ex.lesson_spec(wide_l, wide_w).lr))),
            ("why 4", "it stays at 1.10", Each(tuple(thin["loss"]))),
        ],
        "luck-of-the-start": [
            ("see", "10 layers of 5 neurons, seed 1", stuck_values["layers"], stuck_values["width"],
             stuck_values["seed"]),
            ("prompt", "10 hidden layers of 5 neurons learns the spiral from the starting weights of seed 0: "
                       "97 % of the test points", stuck_values["layers"], stuck_values["width"], 0,
             Net(100 * learns["test_accuracy"][-1], points=True)),
            ("prompt", "to 1.", stuck_values["seed"]),
            ("answer", "Its loss stays at 1.10", Each(tuple(stuck["loss"]))),
            ("answer", "35 % of the training points and 31 % of the test points",
             Net(100 * stuck["accuracy"][-1], points=True), Net(100 * stuck["test_accuracy"][-1], points=True)),
            ("answer", "like the 20 × 5 net", thin_l, thin_w),
            ("answer", "With only 5 ReLU neurons per layer", stuck_values["width"]),
        ],
    }


@functools.lru_cache(maxsize=None)
def rnn() -> dict:
    from app.lessons import rnn as ex
    from app.ml import melodies
    from app.ml import rnn as model
    step = step_of("rnn")
    tunes, _, hidden, unroll, optimizer, lr, steps, seed, clip = ex.LESSON_NET
    net = ex.network(*ex.LESSON_NET)
    after_marker = model.forward(net["params"], np.array([melodies.BOUNDARY])).probs[0]
    pct = {label: 100 * after_marker[ex.TOKENS.index(label)] for label in ("C4:1", "E4:1", "G4:1.5")}
    openings = Counter(ex.TOKENS[ex.tune_tokens(name)[1]] for name in tunes)
    assert sorted(openings) == sorted(pct)
    for label, p in pct.items():
        assert abs(p - 100 * openings[label] / len(tunes)) < 1.0     # the odds of the openings
    six = tuple(name for name in tunes if name != ex.HELD_OUT)
    mem = ex.network(six, ex.HELD_OUT, hidden, unroll, optimizer, lr, steps, seed, clip)
    vocab = len(ex.TOKENS)
    mary = mem["held_out_loss"]
    lowest = int(np.argmin(mary))
    assert mem["eval_steps"][0] == 0 and mary[-1] > math.log(vocab) and mary[-1] == mary.max()
    mary_notes = len(ex.tune_tokens(ex.HELD_OUT)) - 1
    demo_opt, demo_lr, (off, _) = ex.CLIP_DEMO
    wild = ex.network(tunes, "", hidden, unroll, demo_opt, demo_lr, steps, seed, off)
    assert wild["loss"][-1] > math.log(vocab)
    return {
        "first-note": [
            ("see", "(step 4)", step["probabilities"]),
            ("prompt", "Of the 7 tunes, 3 start on `C4:1`, 3 on `E4:1` and 1 on `G4:1.5`",
             len(tunes), openings["C4:1"], openings["E4:1"], openings["G4:1.5"]),
            ("option 1", "Almost 100 %", Not(Near(pct["C4:1"], 5))),
            ("option 2", "About 43 %", Net(pct["C4:1"], points=True)),
            ("option 3", "About 14 %", Not(Near(pct["C4:1"], 5))),
            ("answer", "43 %, the same 43 % for `E4:1`, and 14 % for `G4:1.5`: that is 3/7, 3/7 and 1/7",
             Net(pct["C4:1"], points=True), Net(pct["E4:1"], points=True), Net(pct["G4:1.5"], points=True), openings["C4:1"], len(tunes),
             openings["E4:1"], len(tunes), openings["G4:1.5"], len(tunes)),
        ],
        "held-out-tune": [
            ("see", "(step 9)", step["memorize"]),
            ("prompt", "trains on 6 tunes", len(six)),
            ("prompt", "its loss on Mary is 3.70 nats per note", Net(mary[0])),
            ("prompt", "after 150 steps", steps),
            ("option 1", "Near 0", Not(Near(mary[-1], 1))),
            ("why 1", "falls to 0.051", Net(mem["loss"][-1])),
            ("why 2", "lowest at step 5, 2.76 nats", mem["eval_steps"][lowest], Net(mary[lowest])),
            ("why 3", "6.50 nats", Net(mary[-1])),
            ("why 3", "among 29 tokens (ln 29 = 3.37)", vocab, vocab, math.log(vocab)),
            ("why 3", "6 of Mary's 27 next notes", round(mem["held_out_right"] * mary_notes), mary_notes),
        ],
        "exploding": [
            ("see", "(step 8)", step["clipping"]),
            ("prompt", "η = 3, and no clipping: at step 5 the gradient's norm jumps to 37", demo_lr,
             int(np.argmax(wild["grad_norm"])), Net(wild["grad_norm"].max())),
            ("prompt", "within 150 steps", steps),
            ("answer", "the loss ends at more than 10 times a uniform guess (3.37)",
             Above(wild["loss"][-1] / math.log(vocab)), math.log(vocab)),
            ("answer", "step 8", step["clipping"]),
        ],
    }


@functools.lru_cache(maxsize=None)
def graph_layout() -> dict:
    from app.lessons import graph_layout as ex
    from app.ml import graph_layout as gl
    step = step_of("graph-layout")

    def final(figure: str, k: int = 0) -> tuple[dict, dict]:
        scene = ex.NARRATED[figure]
        run = scene.runs[k]
        frames, metric_frames = ex.scene_frames(scene)
        result = ex.layout_run(scene.family, scene.n, scene.seed, run.optimizer, run.hyper, run.init, scene.steps,
                               frames, metric_frames, scene.arrows)
        return result, dict(run.hyper)

    (sgd, sgd_hyper), (mom, mom_hyper) = final("momentum", 0), final("momentum", 1)
    assert mom["loss"][-1] < 1e-9 and mom["final"]["overlapping_pairs"] == mom["final"]["crossings"] == 0
    (fast, fast_hyper), (rms, rms_hyper), (adam, adam_hyper) = (final("adaptive", k) for k in range(3))
    assert rms["diverged_at"] is None and adam["diverged_at"] is None
    start = gl.random_start(ex.NARRATED["adaptive"].n, ex.NARRATED["adaptive"].seed)
    edges = gl.make_graph(*ex.TREE)
    steepest = np.linalg.norm(gl.layout_loss_and_grad(start, edges)[1], axis=1).max()
    big = ex.NARRATED["smart"]
    (folded, _), (smart, _) = final("smart", 0), final("smart", 1)
    assert [run.init for run in big.runs] == ["random", "smart"]
    assert abs(1 / (1 - mom_hyper["momentum"]) - 10) < 1e-9    # "about ten times η"
    return {
        "momentum": [
            ("see", "(step 4)", step["momentum"]),
            ("prompt", "the tree of 16 circles", ex.NARRATED["momentum"].n),
            ("prompt", "gradient descent with η = 0.02 stops at E ≈ 11.9, with 6 crossing links", sgd_hyper["lr"],
             sgd["loss"][-1], sgd["final"]["crossings"]),
            ("prompt", "momentum β = 0.9", mom_hyper["momentum"]),
            ("answer", "E falls below 0.01 by step 98", 0.01, first_below(mom["loss"], 0.01)),
            # momentum's steps add up to η / (1 − β): ten times η at β = 0.9
            ("answer", "with β = 0.9 momentum's steps add up to about ten times η", mom_hyper["momentum"]),
            ("answer", "Step 6 compares each optimizer", step["tangle"]),
        ],
        "too-large": [
            ("see", "(step 5)", step["adaptive"]),
            ("prompt", "η = 0.3, 15 times the rate of step 3", fast_hyper["lr"], fast_hyper["lr"] / sgd_hyper["lr"],
             step["descent"]),
            ("option 1", "15 times faster", fast_hyper["lr"] / sgd_hyper["lr"]),
            ("why 1", "a gradient of 62.5, so its first step is 19 radii long", steepest,
             fast_hyper["lr"] * steepest / ex.RADIUS),
            ("option 2", "at step 11", fast["diverged_at"]),
            ("why 2", "the same η = 0.3", Each((rms_hyper["lr"], adam_hyper["lr"]))),
            ("option 3", "as with η = 0.02", sgd_hyper["lr"]),
            ("why 3", "at step 11", fast["diverged_at"]),
        ],
        "folded-grid": [
            ("see", "(step 8)", step["smart"]),
            ("prompt", "2,000 circles", big.n),
            ("prompt", "after 200 steps of momentum, 5,910 pairs of circles overlap and links cross 12,344 times",
             big.steps, folded["final"]["overlapping_pairs"], folded["final"]["crossings"]),
            ("why 2", "η = 0.3", fast_hyper["lr"]),
            ("why 3", "after the same 200 steps, 0 overlapping pairs, 0 crossings, and links 1.008 times touching",
             big.steps, smart["final"]["overlapping_pairs"], smart["final"]["crossings"],
             smart["final"]["mean_edge_ratio"]),
        ],
    }


@functools.lru_cache(maxsize=None)
def loss_landscape() -> dict:
    from app.lessons import loss_landscape as ex
    step = step_of("loss-landscape")
    model, data, *_, seed = ex.CASE_RUNS["svm"]
    assert (model, data) == ("svm", "breast-cancer")
    run = ex.training_path(*ex.CASE_RUNS["svm"])
    # The explained variance and the losses along the path do not depend on the grid's resolution.
    svm = ex.landscape_slice(run, model, data, "pca", ex.MIN_RESOLUTION, 1.0, seed)
    assert svm["steps"][10] == 10
    race = ex.optimizer_race(ex.MIN_RESOLUTION)
    assert [r["name"] for r in race["runs"]] == ["sgd", "momentum", "adam"] and ex.RACE_PROBLEM[:2] == ("logistic",
                                                                                                         "iris")
    overlap = 100 * np.array(race["overlap"])
    assert abs(overlap[0, 2] - 80) < 5                       # "about four fifths"
    return {
        "one-direction": [
            ("see", "(step 3)", step["pca"]),
            ("prompt", "has 31 parameters", svm["n_params"]),
            ("prompt", "holds 97.3 %", 100 * svm["ratio"][0]),
            ("*", "the 301 points of the path, 97.3 % lies along one direction and 2.3 % along the second",
             len(run["path"]), 100 * svm["ratio"][0], 100 * svm["ratio"][1]),
            ("*", "all 31 parameters", svm["n_params"]),
            ("*", "shows 97.3 %", 100 * svm["ratio"][0]),
            ("*", "a plane through 2 of 31 dimensions", 2, svm["n_params"]),
        ],
        "pca-cannot-compare": [
            ("see", "(step 6)", step["optimizers"]),
            ("prompt", "holds 99.9 %", overlap[0, 0]),
            ("answer", "79.0 %, and Adam's own plane holds only 76.1 %", overlap[0, 2], overlap[2, 0]),
        ],
        "path-off-the-plane": [
            ("see", "(step 4)", step["ball"]),
            ("prompt", "the loss at step 0 of training is 0.993, but the PCA surface under that point of the path "
                       "is only 0.962", svm["steps"][0], svm["path_loss"][0], svm["plane_loss"][0]),
            ("option 2", "At step 0 the path", svm["steps"][0]),
            ("*", "After 10 steps the two differ by only 0.001", svm["steps"][10],
             abs(svm["path_loss"][10] - svm["plane_loss"][10])),
            ("*", "a gap of 0.03", svm["path_loss"][0] - svm["plane_loss"][0]),
        ],
    }


@functools.lru_cache(maxsize=None)
def optimizer_lab() -> dict:
    from app.lessons import optimizer_lab as ex
    from app.ml import optim
    step = step_of("optimizer-lab")
    v = link_values("optimizer-lab", "too-large-rate")
    assert (v["optimizer"], v["rule"]) == ("sgd", "none")
    wild = ex.fit_run(v["noise"], v["seed"], v["optimizer"], (("lr", v["lr"]),), v["epochs"], v["batch"], v["rule"])
    assert (v["noise"], v["seed"]) == ex.NARRATED and v["epochs"] >= 100
    name, fit_hyper, epochs = ex.FIT
    calm = ex.fit_run(*ex.NARRATED, name, fit_hyper, epochs, ex.N_POINTS)
    assert calm["excess"][-1] < 0.05                          # "converges"
    (x, _), _ = ex.problem(*ex.NARRATED)
    curvature = 2 / len(x) * np.array([[x @ x, x.sum()], [x.sum(), len(x)]])
    limit = 2 / np.linalg.eigvalsh(curvature).max()          # gradient descent diverges above it
    inside = ex.inside_run("momentum")
    hyper = dict(ex.INSIDE["momentum"][1])
    beta = hyper["momentum"]
    momentum = optim.make("momentum", lr=1.0, momentum=beta)
    state, g = momentum.init(np.zeros(2)), np.array([1.0, -2.0])
    for _ in range(300):
        update, state = momentum.update(g, state, np.zeros(2))
    assert np.allclose(update, -g / (1 - beta), rtol=1e-9)  # a steady gradient: steps 10 times as long
    gd, adam = ex.sizes_of_line_runs()
    late = gd["angle"][10:]
    assert ex.SIZES_LINE[1][1] == "adam"
    return {
        "too-large-rate": [
            ("see", "η = 0.2", v["lr"]),
            ("prompt", "converges with η = 0.05", dict(fit_hyper)["lr"]),
            ("prompt", "about η = 0.15", limit),
            ("prompt", "with η = 0.2?", v["lr"]),
            ("option 1", "4 times faster", v["lr"] / dict(fit_hyper)["lr"]),
            ("answer", "after 10 epochs the loss is 340,000 above the best, after 100 about 10⁴⁴", 10,
             Near(wild["excess"][10], 5_000), 100, wild["excess"][100]),
        ],
        "momentum-buffer": [
            ("see", "(step 4)", step["inside-momentum"]),
            ("prompt", "β = 0.9", beta),
            ("why 1", "With η = 0.02 the first step moves the slope by 0.41 and the third already by 0.74",
             hyper["lr"], abs(inside["step"][0][0]), abs(inside["step"][2][0])),
            ("option 2", "Up to 10 times", 1 / (1 - beta)),
            ("why 2", "g + 0.9 g + 0.81 g + … = g / (1 − 0.9) = 10 g", beta, beta ** 2, 1, beta, 1 / (1 - beta)),
            ("why 3", "10 times the gradient", 1 / (1 - beta)),
        ],
        "angles": [
            ("see", "(step 6)", step["sizes-line"]),
            ("prompt", "batches of 5 points", ex.SIZES_LINE[1][3]),
            ("prompt", "first passes 90° at epoch 43", 90, int(np.argmax(adam["angle"] > 90)) + 1),
            ("why 1", "its loss ends 0.0004 above the best", adam["excess"][-1]),
            ("why 2", "94° on average over the last 20 epochs", np.nanmean(adam["angle"][-20:]), 20),
            ("why 3", "angles near 0°", Near(np.nanmax(late), 1.0)),
        ],
    }


FACTS = {"perceptron": perceptron, "computational-graph": computational_graph,
         "decision-boundaries": decision_boundaries, "rnn": rnn, "graph-layout": graph_layout,
         "loss-landscape": loss_landscape, "optimizer-lab": optimizer_lab}

#: The figure of the step each question's link opens.
LINKED_FIGURES = {
    "perceptron": {"hedge": "train", "what-would-help": "free", "piano-alone": "predict"},
    "computational-graph": {"bias-gradient": "gradients", "larger-step": "free", "used-three-times": "free"},
    "decision-boundaries": {"wedges": "lines", "dead-layer": "thin", "luck-of-the-start": "free"},
    "rnn": {"first-note": "probabilities", "held-out-tune": "memorize", "exploding": "clipping"},
    "graph-layout": {"momentum": "momentum", "too-large": "adaptive", "folded-grid": "smart"},
    "loss-landscape": {"one-direction": "pca", "pca-cannot-compare": "optimizers", "path-off-the-plane": "ball"},
    "optimizer-lab": {"too-large-rate": "free", "momentum-buffer": "inside-momentum", "angles": "sizes-line"},
}


# -- the tests --------------------------------------------------------------------------------


def parts(q) -> dict[str, str]:
    """A question's texts by name ("prompt", "option 2", "why 2", "answer", "see"), whitespace folded."""
    texts = {"prompt": q.prompt, "answer": q.answer, "see": q.see_label}
    for k, option in enumerate(q.options, start=1):
        texts[f"option {k}"], texts[f"why {k}"] = option.text, option.explanation
    return {name: re.sub(r"\s+", " ", text).strip() for name, text in texts.items()}


def test_the_checker_reads_numbers_as_written():
    assert [t for _, t in numbers("From 5,000 to −0.376, 10⁴⁴ and `C4:1` (step 5): 3/7.")] == \
        ["5,000", "−0.376", "10⁴⁴", "5", "3", "7"]
    assert stated("0.693") == (0.693, 0.0005, False) and stated("−7.8")[0] == -7.8
    assert stated("10⁴⁴") == (1e44, 0.0, True) and stated("340,000")[0] == 340_000
    assert holds("0.693", math.log(2)) and not holds("0.69", 0.6931 + 0.01)
    assert holds("0.07", Below(0.06)) and not holds("0.07", Below(0.08))
    assert holds("3", Above(3.1)) and holds("90", Not(Above(16)))
    assert holds("52", Net(52.9, points=True)) and not holds("52", Net(53.6, points=True))
    assert holds("41", Net(40.2)) and not holds("41", Net(40.1)) and holds("0.051", Net(0.0515))
    assert holds("10⁴⁴", 1.2e44) and not holds("10⁴⁴", 1e46)


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_number_of_the_quiz_is_recomputed(lesson):
    facts = FACTS[lesson]()
    problems = []
    for q in load_quiz(lesson).questions:
        texts = parts(q)
        covered = {name: [] for name in texts}
        for where, phrase, *specs in facts.get(q.id, []):
            places = [name for name in texts if where in ("*", name) and phrase in texts[name]]
            if not places:
                problems.append(f"{q.id}: {phrase!r} is not in {where}")
                continue
            tokens = [t for _, t in numbers(phrase)]
            if len(tokens) != len(specs):
                problems.append(f"{q.id}: {phrase!r} states {len(tokens)} numbers, the fact checks {len(specs)}")
                continue
            problems += [f"{q.id}: {phrase!r}: {token} is not {spec!r}" for token, spec in zip(tokens, specs)
                         if not holds(token, spec)]
            for name in places:
                start = texts[name].find(phrase)
                while start >= 0:
                    covered[name].append((start, start + len(phrase)))
                    start = texts[name].find(phrase, start + 1)
        for name, text in texts.items():
            for (a, b), token in numbers(text):
                if not any(lo <= a and b <= hi for lo, hi in covered[name]):
                    problems.append(f"{q.id}, {name}: the number {token} in “…{text[max(0, a - 30):b + 10]}…” "
                                    "is not checked")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_link_opens_its_lesson_at_the_step_that_shows_the_answer(lesson):
    page = page_of(lesson)
    names = set(page.SCHEMA.names)
    for q in load_quiz(lesson).questions:
        link = urlsplit(q.see_href)
        assert link.path == page.PAGE["path"], q.id
        query = link_query(lesson, q.id)
        step = int(query["step"])
        assert page.STEPS[step - 1].figure == LINKED_FIGURES[lesson][q.id], q.id
        assert set(query) - {"step"} <= names, q.id
        values = link_values(lesson, q.id)                  # accepted without a note
        for key, raw in query.items():
            if key != "step":
                cleaned = values[key]
                assert str(cleaned) == raw or float(cleaned) == float(raw), (q.id, key)
    assert set(LINKED_FIGURES[lesson]) == {q.id for q in load_quiz(lesson).questions}


def test_code_spans_of_the_rnn_quiz_name_real_notes():
    from app.lessons.rnn import TOKENS
    for q in load_quiz("rnn").questions:
        for text in parts(q).values():
            for span in CODE.findall(text):
                assert span.strip("`") in TOKENS, span
