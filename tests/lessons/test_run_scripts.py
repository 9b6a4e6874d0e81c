"""Every lesson's run as a script: run in a subprocess in an empty folder, its printed
numbers agree with the lesson's own experiment functions, and it imports nothing but
numpy and the standard library.

Numbers are compared to 1e-9 relative (1e-12 absolute for numbers near 0) unless a
test says why it allows more.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.lessons import computational_graph as cg
from app.lessons import decision_boundaries as db
from app.lessons import graph_layout as gl
from app.lessons import loss_landscape as ll
from app.lessons import optimizer_lab as lab
from app.lessons import own_graph, own_melody, own_points
from app.lessons import perceptron as perceptron
from app.lessons import rnn as rnn
from app.lessons.decision_boundaries_script import net_name
from app.lessons.graph_layout_script import run_keys
from app.lessons.run_scripts import SCRIPTS, script_for
from app.ml import adaptive, datasets, decision_runs
from pages import computational_graph as cg_page
from pages import decision_boundaries as db_page
from pages import graph_layout as gl_page
from pages import loss_landscape as ll_page
from pages import optimizer_lab as lab_page
from pages import perceptron as perceptron_page
from pages import rnn as rnn_page

PAGES = {page.LESSON: page for page in (perceptron_page, cg_page, db_page, rnn_page, gl_page, ll_page, lab_page)}
BREAST_CANCER = datasets.DATA_DIR / "breast_cancer.csv"
ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"numpy"} | set(sys.stdlib_module_names)     # what a script may import


def defaults(page, **changes) -> dict:
    """The lesson's cleaned settings: its defaults with `changes`."""
    values, notes = page.SCHEMA.check({})
    assert not notes
    return {**values, **changes}


def run_script(text: str, folder, files=()) -> dict:
    """Run the script in `folder` (empty but for `files`) with this Python; its `name = json` lines."""
    numbers = {}
    for line in script_output(text, folder, files):
        name, sep, value = line.partition(" = ")
        if sep:
            numbers[name] = json.loads(value)
    return numbers


def script_output(text: str, folder, files=()) -> list[str]:
    """Every line the script prints when run in `folder` (empty but for `files`) with this Python."""
    assert imported_modules(text) <= ALLOWED
    (folder / "run.py").write_text(text)
    for path in files:
        shutil.copy(path, folder)
    done = subprocess.run([sys.executable, "run.py"], cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def close(actual, expected, rtol: float = 1e-9, atol: float = 1e-12):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=rtol, atol=atol)


def imported_modules(text: str) -> set[str]:
    """The top-level names of every module the script imports."""
    names = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import"
            names.add(node.module.split(".")[0])
    return names


# -- every step of every lesson has a script that stands alone ---------------------------------


@pytest.mark.parametrize("lesson, figure", [(lesson, figure) for lesson, page in PAGES.items()
                                             for figure in dict.fromkeys(step.figure for step in page.STEPS)])
def test_every_step_has_a_script_of_numpy_and_the_standard_library(lesson, figure):
    text = script_for(lesson, defaults(PAGES[lesson]), figure)
    compile(text, f"{lesson}-{figure}.py", "exec")
    assert imported_modules(text) <= ALLOWED
    assert text.startswith("# ")
    assert "app." not in text and str(ROOT) not in text   # nothing of this project, no path of it


def test_every_lesson_has_its_script():
    assert set(SCRIPTS) == set(PAGES)


def test_bad_links_give_the_script_of_the_settings_used():
    """The engine cleans a garbage step and garbage settings before asking for the script."""
    engine = perceptron_page.ENGINE
    text = engine.code("garbage", {"lr": "nan", "epochs": "1e99", "songs": "<script>", "seed": "-4"})
    assert text == script_for("perceptron", defaults(perceptron_page), engine.steps[0].figure)


# -- each lesson's numbers, for its defaults and one changed setting ---------------------------


@pytest.mark.parametrize("changes", [{}, {"optimizer": "adam", "lr": 0.05, "epochs": 120, "seed": 3,
                                          "songs": "0111.1011.0010.1110.1101"}])
def test_perceptron(tmp_path, changes):
    values = defaults(perceptron_page, **changes)
    out = run_script(script_for("perceptron", values, "free"), tmp_path)
    run = perceptron.training_run(values["songs"], values["optimizer"], values["lr"], values["epochs"],
                                  values["seed"])
    assert out["epochs_done"] == len(run["loss"]) - 1
    close(out["w"], run["w"][-1])
    close(out["b"], run["b"][-1])
    close(out["loss"], run["loss"][-1])
    close(out["p_like"], run["probs"][-1])


def test_perceptron_learnable_step_trains_on_the_better_songs(tmp_path):
    out = run_script(script_for("perceptron", defaults(perceptron_page), "learnable"), tmp_path)
    close(out["loss"], perceptron.training_run(perceptron.LEARNABLE, "sgd", 1.0, 300, 0)["loss"][-1])


def _song_checks(out, run):
    before, after = run["before"], run["after"]
    grads = [before["grad"][i] for i in run["params"]]
    close(out["loss"], before["data"][before["root"]])
    close([*out["grad_w"], out["grad_b"]], grads)
    close([*out["w_new"], out["b_new"]], [after["data"][i] for i in
                                          [cg.node_index(after, n) for n in ("w1", "w2", "w3", "b")]])
    close(out["loss_new"], after["data"][after["root"]])


@pytest.mark.parametrize("changes", [{}, {"x1": 0.5, "w2": -2.0, "b": 1.5, "y": 0.25, "lr": 3.0}])
def test_computational_graph_song(tmp_path, changes):
    values = defaults(cg_page, **changes)
    out = run_script(script_for("computational-graph", values, "free"), tmp_path)
    run = cg.song_run(tuple(float(values[f"x{i}"]) for i in (1, 2, 3)), tuple(values[f"w{i}"] for i in (1, 2, 3)),
                      values["b"], values["y"], values["lr"])
    _song_checks(out, run)


@pytest.mark.parametrize("text, variables", [
    ("tanh(w*x + b) + x**2", "w=0.5,x=1.5,b=-1"),
    ("-x**2 + 2 ** -1 * y / (x - y) - (a - (b - c)) + exp(log(x)) * sigmoid(-x) - relu(x - 5) + x ** y ** 0.5",
     "x=3,y=0.5,a=1,b=2,c=4"),
])
def test_computational_graph_expression(tmp_path, text, variables):
    values = defaults(cg_page, graph="expression", expr=text, vars=variables)
    out = run_script(script_for("computational-graph", values, "free"), tmp_path)
    run = cg.expression_run(text, variables)
    close(out["f"], run["result"])
    close([out["grad_" + name] for name in run["names"]], run["grads"])


def test_computational_graph_update_step_is_the_lessons_song(tmp_path):
    out = run_script(script_for("computational-graph", defaults(cg_page, w1=3.0), "update"), tmp_path)
    _song_checks(out, cg.lesson_song_run())


def _decision_checks(out, spec):
    run = decision_runs.train_run(spec)
    key = net_name(spec.layers, spec.width)
    assert out[key + ".epochs_done"] == run["curve_epochs"][-1]
    close(out[key + ".train_loss"], run["loss"][-1])
    close(out[key + ".train_accuracy"], run["accuracy"][-1])
    close(out[key + ".test_loss"], run["test_loss"][-1])
    close(out[key + ".test_accuracy"], run["test_accuracy"][-1])
    close(out[key + ".weights_norm"], np.linalg.norm(run["params"]))
    close(out[key + ".weights_first"], run["params"][:5])


@pytest.mark.parametrize("changes", [{}, {"dataset": "circles", "points": 200, "layers": 1, "width": 6,
                                          "activation": "tanh", "loss": "squared_error", "optimizer": "rmsprop",
                                          "batch": 16, "reg": "l2", "rate": 0.01, "epochs": 30, "seed": 3,
                                          "data_seed": 4}])
def test_decision_boundaries(tmp_path, changes):
    values = defaults(db_page, **changes)
    out = run_script(script_for("decision-boundaries", values, "free"), tmp_path)
    _decision_checks(out, db.free_spec(values))


def test_decision_boundaries_own_points(tmp_path):
    X = np.round(np.random.default_rng(1).uniform(-2, 2, (60, 2)), 3)
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 0] > 1)
    values = defaults(db_page, dataset="own", own=own_points.encode(own_points.Points(X, y)), epochs=60)
    out = run_script(script_for("decision-boundaries", values, "free"), tmp_path)
    _decision_checks(out, db.free_spec(values))


def test_decision_boundaries_skip_step(tmp_path):
    """The script trains all three versions; the residual one is the new arithmetic, checked here."""
    out = run_script(script_for("decision-boundaries", defaults(db_page), "skip"), tmp_path)
    for variant in ("residual",):
        end = db.seed_summary(*db.SKIP_NET, 0, variant)
        assert out[variant + ".epochs_done"] == len(end["loss"]) - 1
        close(out[variant + ".train_loss"], end["final_loss"])
        close(out[variant + ".train_accuracy"], end["accuracy"])
        close(out[variant + ".test_accuracy"], end["test_accuracy"])
        close(out[variant + ".weights_norm"], np.linalg.norm(end["params"]))


@pytest.mark.parametrize("changes", [{}, {"hidden": 16, "unroll": 8, "optimizer": "rmsprop", "lr": 0.02, "steps": 60,
                                          "clip": 1.0, "seed": 3, "tunes": "twinkle.mary.ode_to_joy",
                                          "heldout": "mary", "temperature": 0.5, "start": "E4:1", "draw": 7}])
def test_rnn(tmp_path, changes):
    values = defaults(rnn_page, **changes)
    out = run_script(script_for("rnn", values, "free"), tmp_path)
    args = rnn.free_play_net(values)
    net = rnn.network(*args)
    assert out["net.steps_done"] == len(net["loss"])
    close(out["net.last_step_loss"], net["loss"][-1])
    close(out["net.tunes_loss"], net["train_tune_loss"][-1])
    assert out["net.reproduced"] == net["reproduced"].tolist()
    if args[1]:
        close(out["net.held_out_loss"], net["held_out_loss"][-1])
    melody = rnn.melody(net["params"], args[0], values["temperature"], values["start"], values["draw"])
    assert out["melody"] == melody["tokens"].tolist()


def test_rnn_with_the_visitors_melody(tmp_path):
    values = defaults(rnn_page, melody=own_melody.check_melody("C4:1 E4:1 G4:1 E4:1 C4:2"), hidden=24, steps=80,
                      tunes="twinkle.mary", temperature=0.7, draw=3)
    out = run_script(script_for("rnn", values, "free"), tmp_path)
    args = rnn.free_play_net(values)
    net = rnn.network(*args)
    close(out["net.last_step_loss"], net["loss"][-1])
    close(out["net.tunes_loss"], net["train_tune_loss"][-1])
    assert out["net.melody_learned"] == net["melody_learned"]
    follow = own_melody.continuation(net["params"], args[0], args[9], 0.7, 3, rnn.MELODY_MAX, rnn.COPY_RUN)
    assert out["melody"] == follow["tokens"].tolist()


def _layout_checks(out, scene):
    frames, metric_frames = gl.scene_frames(scene)
    for key, run in zip(run_keys(scene), scene.runs):
        result = gl.layout_run(scene.family, scene.n, scene.seed, run.optimizer, run.hyper, run.init, scene.steps,
                               frames, metric_frames, graph=scene.graph)
        final = result["final"]
        assert out[key + ".steps_run"] == final["steps_run"]
        close(out[key + ".energy"], result["loss"][-1])
        assert out[key + ".overlapping_pairs"] == final["overlapping_pairs"]
        close(out[key + ".mean_link_ratio"], final["mean_edge_ratio"])
        assert final["crossings_exact"] and out[key + ".crossings"] == final["crossings"]
        # the lesson keeps positions as float32 for the browser
        close(out[key + ".first_positions"], result["positions"][-1][:3], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("changes", [{}, {"family": "grid", "init": "smart", "optimizer": "adam", "n": 60,
                                          "steps": 200, "seed": 3}])
def test_graph_layout(tmp_path, changes):
    """The lesson finds overlapping pairs with a k-d tree and the script by comparing coordinates,
    so they add the same overlaps in another order: these runs agree to rounding (a run through
    a big pile-up of circles can amplify such differences; the script's header says so)."""
    values = defaults(gl_page, **changes)
    out = run_script(script_for("graph-layout", values, "free"), tmp_path)
    _layout_checks(out, gl.playground_scene(values)[0])


def test_graph_layout_own_graph(tmp_path):
    graph = own_graph.parse_edge_list("a b\nb c\nc d\nd a\na c\ne a\nf e\ng f\n")
    values = defaults(gl_page, graph=own_graph.encode(graph.n, graph.edges), optimizer="adam")
    out = run_script(script_for("graph-layout", values, "free"), tmp_path)
    _layout_checks(out, gl.playground_scene(values)[0])


def _landscape_checks(out, args):
    run = ll.training_path(*args)
    X, y, _, classes = ll.load_problem(args[1])
    model = ll.build_model(args[0], X, classes)
    assert out["run.steps_done"] == len(run["path"]) - 1
    close(out["run.weights_norm"], np.linalg.norm(run["path"][-1]))
    close(out["run.weights_first"], run["path"][-1][:5])
    # the lesson's own final loss of a network is evaluated in float32 for its grid; compare in float64
    close(out["run.final_loss"], model.loss_and_grad(model.unflatten(run["path"][-1]), X, y)[0])


def test_loss_landscape_free_play(tmp_path):
    values = defaults(ll_page)
    out = run_script(script_for("loss-landscape", values, "free"), tmp_path)
    _landscape_checks(out, (values["model"], values["data"], values["optimizer"], values["lr"], values["steps"],
                            values["seed"]))


def test_loss_landscape_svm_on_breast_cancer_reads_the_data_file(tmp_path):
    values = defaults(ll_page, model="svm", data="breast-cancer", optimizer="momentum", lr=0.02, steps=120, seed=5)
    text = script_for("loss-landscape", values, "free")
    missing = subprocess.run([sys.executable, "-c", text], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "breast_cancer.csv is missing" in missing.stderr
    out = run_script(text, tmp_path, [BREAST_CANCER])
    _landscape_checks(out, ("svm", "breast-cancer", "momentum", 0.02, 120, 5))


def test_loss_landscape_switching_ball_step(tmp_path):
    out = run_script(script_for("loss-landscape", defaults(ll_page), "switch"), tmp_path)
    ball = ll.switching_ball()
    assert out["ball.steps"] == len(ball["loss"]) - 1 and out["ball.switches"] == ball["switches"].tolist()
    close(out["ball.final_loss"], ball["loss"][-1])
    close(out["gd.final_loss"], ball["gd"][-1])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_loss_landscape_digits_step_reads_the_data_file(tmp_path, optimizer):
    text = script_for("loss-landscape", defaults(ll_page, digit_optimizer=optimizer), "digits")
    missing = subprocess.run([sys.executable, "-c", text], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "digits.csv.gz is missing" in missing.stderr
    lines = script_output(text, tmp_path, [datasets.DATA_DIR / datasets.DIGITS_FILE])
    out = {name: json.loads(value) for name, sep, value in (line.partition(" = ") for line in lines) if sep}
    run = ll.digit_run(optimizer)
    facts = ll.two_parameter_facts(run)
    X, y, model, names = ll.digit_problem()
    assert out["steps_done"] == ll.DIGIT_STEPS and out["top"] == list(facts["top"])
    assert out["by_steps"] == list(facts["by_steps"])
    close(out["moved"], facts["moved"])
    close(out["final_loss"], model.loss_and_grad(model.unflatten(run["path"][-1]), X, y)[0])
    close(out["accuracy"], run["accuracy"])
    # it names the two as the lesson does (with an ASCII arrow)
    assert [line.split(": ", 1)[1] for line in lines if line.startswith("moved most:")] == \
        [names[k].replace("→", "->") for k in facts["top"]]


def test_loss_landscape_features_step(tmp_path):
    out = run_script(script_for("loss-landscape", defaults(ll_page), "features"), tmp_path)
    land = ll.feature_landscape()
    close(out["w"], land["w"][-1], rtol=1e-9, atol=1e-12)
    close(out["b"], land["b"][-1])
    close(out["final_loss"], land["path_loss"][-1])


@pytest.mark.parametrize("changes", [{}, {"optimizer": "adam", "lr": 0.3, "beta1": 0.8, "rule": "eve", "batch": 7,
                                          "epochs": 40, "seed": 5, "noise": 1.0}])
def test_optimizer_lab(tmp_path, changes):
    values = defaults(lab_page, **changes)
    out = run_script(script_for("optimizer-lab", values, "free"), tmp_path)
    hyper = (("lr", values["lr"]),) + ((("beta1", values["beta1"]),) if values["beta1"] != "" else ())
    rule = values["rule"]
    params = tuple((p.name, values[p.name]) for p in adaptive.RULES[rule].params)
    run = lab.fit_run(values["noise"], values["seed"], values["optimizer"], hyper, values["epochs"], values["batch"],
                      rule, params)
    assert out["run.epochs_done"] == len(run["lr_scale"])
    close(out["run.m_b"], run["params"][-1])
    close(out["run.loss"], run["loss"][-1])
    close(out["run.excess"], run["excess"][-1])
    result = lab.comparison(values["noise"], values["optimizer"], hyper, (("none", ()), (rule, params)),
                            values["epochs"], values["batch"], values["seed"], lab.FREE_SEEDS)
    for v, name in enumerate(result["names"]):
        close(out[name + ".epochs_to_target"], result["epochs_to"][v])
        close(out[name + ".final_excess"], result["excess"][v, :, -1])


def test_optimizer_lab_race_step(tmp_path):
    out = run_script(script_for("optimizer-lab", defaults(lab_page), "race"), tmp_path)
    for run in lab.race():
        assert out[run["optimizer"] + ".lr"] == run["lr"]
        close(out[run["optimizer"] + ".excess"], run["excess"][-1])


# -- a diverging run says so in the lesson's words -------------------------------------------


def _diverging_landscape():
    values = defaults(ll_page, model="mlp-1x20", data="breast-cancer", optimizer="sgd", lr=10.0, steps=200)
    args = (values["model"], values["data"], values["optimizer"], values["lr"], values["steps"], values["seed"])
    return "loss-landscape", values, ll.training_path(*args)["message"]


def _diverging_network():
    values = defaults(db_page, activation="linear", loss="squared_error", optimizer="sgd", lr=10.0, batch=5,
                      layers=2, width=16, epochs=50)
    return "decision-boundaries", values, decision_runs.train_run(db.free_spec(values))["message"]


def _diverging_melodies():
    values = defaults(rnn_page, optimizer="rmsprop", lr=10.0, clip=0.0)
    return "rnn", values, rnn.network(*rnn.free_play_net(values))["message"]


def _diverging_line():
    values = defaults(lab_page, lr=10.0, epochs=300, rule="none")
    hyper = (("lr", values["lr"]),) + ((("beta1", values["beta1"]),) if values["beta1"] != "" else ())
    run = lab.fit_run(values["noise"], values["seed"], values["optimizer"], hyper, values["epochs"], values["batch"],
                      "none", ())
    return "optimizer-lab", values, "run " + run["message"]


@pytest.mark.parametrize("lesson_run", [_diverging_landscape, _diverging_network, _diverging_melodies,
                                        _diverging_line])
def test_a_diverging_run_prints_the_lessons_message(tmp_path, lesson_run):
    lesson, values, message = lesson_run()
    assert message.startswith(("diverged at step ", "diverged in epoch ", "run diverged in epoch "))
    lines = script_output(script_for(lesson, values, "free"), tmp_path, [BREAST_CANCER])
    assert message in lines
