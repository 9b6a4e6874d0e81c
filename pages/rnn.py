"""Lesson: a recurrent network that learns melodies and writes new ones
(seed: visualizing the RNN that made music for a festival exhibit).

The lesson engine runs the steps; this module holds the layout and one view
per figure of the narration. Networks, training replays and melodies come
from app.lessons.rnn (the trainings are memoized here); `components.rnn_figures`
draws them. The browser plays and scrubs the runs, and plays melodies with
Web Audio (`assets/rnn.js`). The narrated steps show the lesson's own runs
(the numbers in rnn.md are measured on them); the "write a melody" step uses
the visitor's temperature and starting note, and free play every setting.
"""

from __future__ import annotations

import math
from pathlib import Path

import dash
import numpy as np
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from app.cache import memoize
from app.lessons import own_melody
from app.lessons import rnn as experiments
from app.lessons.rnn import (CLIP_DEMO, COPY_RUN, HELD_OUT, HIDDEN_MAX, HISTORY_EVERY, LESSON_NET, MELODY_MAX,
                             SHOWN_TUNE, STEPS_MAX, TOKENS, TUNE_NAMES, VOCAB, WORK_MAX, tune_tokens)
from app.ml import audio, melodies, optim, rnn
from components import rnn_figures as figures
from components.melody_keyboard import key_id, key_label, melody_keyboard
from components.computing import computing
from components.engine import Lesson, View
from components.ids import lesson_id, setting_id
from components.narration import load_steps
from components.settings_schema import Schema, Setting
from components.theme import BLUE, GREEN, MUTED, ORANGE, VERMILION

LESSON = "rnn"
STEPS = load_steps(Path(__file__).with_suffix(".md"))

TUNE_TITLES = {name: melodies.get_tune(name).title for name in TUNE_NAMES}
ALL_TUNES = ".".join(TUNE_NAMES)
UNIFORM_LOSS = math.log(VOCAB.size)         # nats of a uniform guess over the tokens
TEMPERATURES = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.3, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0)
MELODY_NOTES_MAX = 128                      # notes a WAV may be asked for
SMALL_NET = 16                              # free play's task: all seven tunes with this many units


# -- words for tokens and notes ---------------------------------------------------------------


def token_name(token: int) -> str:
    """A token in words: 'C4 for 1 beat' or 'the start/end marker |'."""
    if token == melodies.BOUNDARY:
        return "the start/end marker |"
    pitch, beats = VOCAB.notes[token - 1]
    return f"{melodies.pitch_name(pitch)} for {figures.beats_text(beats)}"


HOVER_NAMES = [f"{label} ({token_name(i)})" if i else "| (start/end of a tune)" for i, label in enumerate(TOKENS)]


def tune_notes(name: str) -> list[tuple[int, float]]:
    return list(melodies.get_tune(name).notes)


def note_hover(notes: list, what: str = "note") -> list[str]:
    """Hover texts of a tune's notes: which note, its token, and its two roles in training."""
    n = len(notes)
    return [f"{what} {i + 1} of {n}: {melodies.pitch_name(p)} for {figures.beats_text(b)}"
            f"<br>token {melodies.note_label((p, b))}<br>input at step {i + 1}, target of step {i}"
            for i, (p, b) in enumerate(notes)]


# -- settings ---------------------------------------------------------------------------------

_TUNE = "|".join(TUNE_NAMES)               # a tune name, as a regular expression

SCHEMA = Schema((
    Setting("hidden", "Hidden units H", "int", 64, low=2, high=HIDDEN_MAX,
            help=f"2 to {HIDDEN_MAX}; units × steps ≤ {WORK_MAX:,}"),
    Setting("unroll", "Unroll (BPTT steps)", "int", 32, low=rnn.UNROLL_MIN, high=rnn.UNROLL_MAX,
            help=f"{rnn.UNROLL_MIN} to {rnn.UNROLL_MAX}; {rnn.UNROLL_MAX} = whole tunes"),
    Setting("optimizer", "Optimizer", "choice", "adam", choices=tuple(optim.OPTIMIZERS),
            labels=tuple(spec.label for spec in optim.OPTIMIZERS.values())),
    Setting("lr", "Learning rate η", "float", 0.01, low=1e-5, high=10.0, help="10⁻⁵ to 10"),
    Setting("steps", "Training steps", "int", 150, low=1, high=STEPS_MAX),
    Setting("clip", "Clip gradient norm at", "float", 5.0, low=0.0, high=rnn.CLIP_MAX,
            help=f"0 = off, up to {rnn.CLIP_MAX:g}"),
    Setting("seed", "Seed", "int", 0, low=0, high=1_000_000, help="starting weights"),
    Setting("tunes", "Train on these tunes", "text", ALL_TUNES, widget="hidden",
            pattern=rf"(?:{_TUNE})(?:\.(?:{_TUNE})){{0,{len(TUNE_NAMES) - 1}}}",
            pattern_help=f"tune names joined by dots, from {', '.join(TUNE_NAMES)}"),
    Setting("heldout", "Hold out a tune", "choice", "none", choices=("none", *TUNE_NAMES),
            labels=("none", *(TUNE_TITLES[n] for n in TUNE_NAMES))),
    Setting("temperature", "Temperature", "float", 1.0, low=rnn.TEMPERATURE_MIN, high=rnn.TEMPERATURE_MAX,
            help=f"{rnn.TEMPERATURE_MIN:g} (careful) to {rnn.TEMPERATURE_MAX:g} (wild)"),
    Setting("start", "Starting note", "choice", "C4:1", choices=TOKENS[1:],
            labels=tuple(f"{label}  ({token_name(i + 1)})" for i, label in enumerate(TOKENS[1:]))),
    Setting("draw", "Melody number", "int", 0, low=0, high=1_000_000, help="the sampler's dice: 0 to 10⁶"),
    Setting("tempo", "Tempo (beats per minute)", "int", 120, low=40, high=240),
    Setting("melody", "Your melody", "text", "", widget="hidden", max_length=own_melody.TEXT_MAX,
            check=own_melody.check_melody, pattern_help=f"notes such as {own_melody.EXAMPLE}"),
))
NETWORK_SETTINGS = ("hidden", "unroll", "optimizer", "lr", "steps", "clip", "seed", "heldout")
MELODY_SETTINGS = ("temperature", "start", "draw", "tempo")

PAGE = dict(
    path="/rnn", name="A network that writes melodies", order=4, lesson=True, icon="rnn.svg",
    title="A network that writes melodies — Learnscape", steps=len(STEPS),
    description="A recurrent network reads seven tunes note by note, learns to predict the next one, "
                "and writes new melodies you can hear — mostly by remembering.",
)

#: The figure slots, their heights (px), and the slots each figure of the narration shows, in display order.
HEIGHTS = {"roll": 380, "cell": 440, "hidden": 400, "bars": 370, "curves": 480, "flow": 430}
SLOTS = tuple(HEIGHTS)
SHOWN = {
    "sequence": ("roll",), "cell": ("cell", "bars"), "unrolled": ("roll", "hidden"),
    "probabilities": ("hidden", "bars"), "temperature": ("bars",), "training": ("roll", "curves"),
    "gradients": ("flow",), "clipping": ("curves",), "memorize": ("curves", "roll"),
    "generate": ("roll", "bars"), "free": ("roll", "bars", "curves", "flow"),
}


# -- computations, memoized at the edge -------------------------------------------------------

network = memoize()(experiments.network)
training_history = memoize()(experiments.training_history)


def lesson_history() -> dict:
    """The lesson network's training replayed every HISTORY_EVERY steps (experiments.training_history)."""
    tunes, _, *run = LESSON_NET
    return training_history(tunes, *run, SHOWN_TUNE, HISTORY_EVERY)


def reading(tune: str) -> dict:
    """The lesson network reading `tune` (experiments.reading)."""
    return experiments.reading(network(*LESSON_NET)["params"], tune)


def melody(net: tuple, temperature: float, start: str, draw: int) -> dict:
    """A melody written by the network `network(*net)` (experiments.melody); for a network
    trained with the visitor's melody (net[9]), that melody and what it writes after it."""
    if len(net) > 9:
        return own_melody.continuation(network(*net)["params"], net[0], net[9], temperature, draw, MELODY_MAX,
                                       COPY_RUN)
    return experiments.melody(network(*net)["params"], net[0], temperature, start, draw)


# -- views --------------------------------------------------------------------------------------


def show(figure: str, payloads: dict, *, summary: list | None = None, melody_data: dict | None = None,
         notices: list | None = None, achieved: bool = False) -> View:
    """What a step shows: its payloads aligned, each in its slot in display order, and the
    panels it uses (the summary when it has one, the audio bar with a melody)."""
    order = SHOWN[figure]
    used = {"summary": bool(summary), "audio": melody_data is not None,
            "generation": figure in ("generate", "free"), "settings": figure == "free", "own": figure == "free"}
    return View(
        figures=dict(zip(order, align([payloads[name] for name in order]))),
        panels=[name for name, shown in used.items() if shown],
        outputs={**{f"slot:{name}": f"rnn-slot rnn-order-{k}" for k, name in enumerate(order)},
                 "summary": summary or [], "melody": melody_data},
        notices=notices or [], achieved=achieved)


def align(payloads: list[dict]) -> list[dict]:
    """Payloads of one step with the same number of frames and the same captions, so
    that the player's caption always belongs to the frame shown (shorter ones hold
    their last frame)."""
    longest = max(payloads, key=lambda p: len(p["frames"]))
    count = len(longest["frames"])
    for payload in payloads:
        frames = payload["frames"]
        payload["frames"] = frames + [frames[-1]] * (count - len(frames))
        payload["labels"] = longest["labels"]
        payload["start"] = longest["start"]
    return payloads


def _melody_data(notes: list, tempo: int, title: str) -> dict:
    return {"notes": [[int(p), float(b)] for p, b in notes], "bpm": int(tempo), "title": title}


def sequence_view(ctx) -> View:
    """Twinkle on the roll, and the input → target pairs training makes of it."""
    notes = tune_notes(SHOWN_TUNE)
    tokens = tune_tokens(SHOWN_TUNE)
    title = f"{TUNE_TITLES[SHOWN_TUNE]}: {len(notes)} notes, {sum(b for _, b in notes):g} beats"
    pairs = [html.Span([html.Strong(TOKENS[a]), " → ", TOKENS[b]], className="rnn-pair",
                       title=f"step {t}: input {token_name(a)}, target {token_name(b)}")
             for t, (a, b) in enumerate(zip(tokens[:-1], tokens[1:]))]
    summary = [
        html.H3(f"What the network is trained on: {len(pairs)} pairs (input → target) from this tune"),
        html.Div(pairs, className="rnn-pairs"),
    ]
    roll = figures.tune_roll(notes, title, note_hover(notes), name=TUNE_TITLES[SHOWN_TUNE])
    return show(ctx.figure, {"roll": roll}, summary=summary,
                melody_data=_melody_data(notes, ctx.values["tempo"], TUNE_TITLES[SHOWN_TUNE]))


def _signed_sum(terms: list[float]) -> str:
    text = f"{terms[0]:.2f}".replace("-", "−")
    for v in terms[1:]:
        text += f" {'−' if v < 0 else '+'} {abs(v):.2f}"
    return text


def reading_view(ctx) -> View:
    """The lesson network reading Twinkle, a frame per note: the cell's numbers, the hidden
    state, or the next-note probabilities."""
    r = reading(SHOWN_TUNE)
    inputs, targets = r["inputs"], r["targets"]
    T = len(inputs)
    steps = list(range(T))
    labels = [f"step {t} of {T - 1}: {TOKENS[inputs[t]]} → {TOKENS[targets[t]]}" for t in steps]
    p_target = r["probs"][np.arange(T), targets]
    bar_titles = [f"After reading {TOKENS[inputs[t]]} (step {t}): p(target {TOKENS[targets[t]]}) = {p_target[t]:.0%}"
                  for t in steps]
    bars = figures.probability_bars(r["probs"], list(TOKENS), [int(y) for y in targets], bar_titles, labels,
                                    marked_name="the true next note (target)", hover_names=HOVER_NAMES)
    if ctx.figure == "cell":
        unit = int(np.argmax(r["hs"].std(axis=0)))
        H = r["hs"].shape[1]
        rows = np.stack([r["h_prev"], r["x_part"], r["m_part"], np.broadcast_to(r["b_h"], (T, H)), r["pre"],
                         r["hs"]], axis=1)
        equations = [
            f"<b>unit {unit + 1}</b>:  a = {_signed_sum([r['x_part'][t, unit], r['m_part'][t, unit], r['b_h'][unit]])}"
            f" = {r['pre'][t, unit]:.2f}".replace("= -", "= −")
            + f"   →   h = tanh({r['pre'][t, unit]:.2f}) = {r['hs'][t, unit]:.2f}".replace("-", "−")
            + f"<br>then z = W<sub>hy</sub> h<sub>t</sub> + b<sub>y</sub> and p = softmax(z): "
              f"p(next = {TOKENS[targets[t]]}) = {p_target[t]:.0%}, in the bars below"
            for t in steps]
        titles = [f"Step {t}: input x<sub>t</sub> = {TOKENS[inputs[t]]} (one-hot), target {TOKENS[targets[t]]}"
                  for t in steps]
        span = float(np.ceil(np.percentile(np.abs(rows[:, 1:5]), 99)))
        cell = figures.cell_figure(rows, unit, equations, titles, labels, span=max(span, 1.0))
        return show(ctx.figure, {"cell": cell, "bars": bars})
    heat_titles = [f"Hidden state h<sub>t</sub>, {r['hs'].shape[1]} units × {T} steps — step {t}: "
                   f"read {TOKENS[inputs[t]]}" for t in steps]
    hidden = figures.hidden_heatmap(r["hs"], [TOKENS[i] for i in inputs], steps, heat_titles, labels)
    if ctx.figure == "probabilities":
        return show(ctx.figure, {"hidden": hidden, "bars": bars})
    notes = tune_notes(SHOWN_TUNE)
    roll_titles = [f"{TUNE_TITLES[SHOWN_TUNE]} — step {t}: reading "
                   + ("the start marker |" if t == 0 else f"note {t}, {TOKENS[inputs[t]]}") for t in steps]
    roll = figures.reading_roll(notes, roll_titles[0], note_hover(notes), [t - 1 for t in steps], roll_titles, labels)
    return show(ctx.figure, {"roll": roll, "hidden": hidden})


def temperature_view(ctx) -> View:
    """Which note opens a tune, at temperatures from 0.05 to 5."""
    logits = reading(SHOWN_TUNE)["logits"][0]            # after the start marker: which note opens a tune?
    dists = experiments.tempered(logits, TEMPERATURES)
    reference = experiments.tempered(logits, (1.0,))[0]
    titles = []
    for t, p in zip(TEMPERATURES, dists):
        top = np.argsort(-p)[:3]
        titles.append(f"Temperature {t:g}: the first note of a tune — "
                      + ", ".join(f"{TOKENS[i]} {p[i]:.0%}" for i in top))
    labels = [f"temperature {t:g}" for t in TEMPERATURES]
    bars = figures.probability_bars(dists, list(TOKENS), [-1] * len(TEMPERATURES), titles, labels,
                                    marked_name="", hover_names=HOVER_NAMES, reference=reference,
                                    reference_name="at temperature 1")
    return show(ctx.figure, {"bars": bars})


def history_view(ctx) -> View:
    """The lesson network's training replayed: loss and guesses, or the gradient's reach into the past."""
    history = lesson_history()
    net = network(*LESSON_NET)
    at, loss = history["at"], history["loss"]
    n_tunes = len(LESSON_NET[0])
    final_loss = float(net["train_tune_loss"][-1])
    loss_at = [float(loss[k]) if k < len(loss) else final_loss for k in at]
    labels = [f"training step {k} · loss {l:.3f} · {r} of {n_tunes} tunes reproduced"
              for k, l, r in zip(at, loss_at, history["reproduced"])]
    tokens = tune_tokens(SHOWN_TUNE)
    if ctx.figure == "gradients":
        flows = history["flows"]
        k = np.arange(flows.shape[1])
        far = min(40, flows.shape[1] - 1)
        titles = [f"How much the loss at the end of {TUNE_TITLES[SHOWN_TUNE]} depends on the past<br>"
                  f"<sup>after {s} training steps: {far} steps back, the gradient is {f[far] / f[0]:.2g} × "
                  "the gradient of the last step</sup>" for s, f in zip(at, flows)]
        flow = figures.flow_figure(k, flows, flows[0], titles, labels, current_name="after this many training steps",
                                   reference_name="at initialization (step 0)")
        return show(ctx.figure, {"flow": _mark_cut(flow, len(tokens) - 2, LESSON_NET[3])})
    steps = np.arange(len(loss) + 1)
    curves = figures.curves_figure([
        {"title": "Loss on the seven tunes (cross-entropy, nats per note)", "ytitle": "loss (log scale)", "log": True,
         "series": [{"name": "training loss", "x": steps, "y": np.append(loss, final_loss), "color": ORANGE}],
         "hlines": [{"y": UNIFORM_LOSS, "text": f"uniform guess: ln {VOCAB.size} = {UNIFORM_LOSS:.2f}"}]},
        {"title": "Tunes reproduced note for note (after their first 3 notes)", "ytitle": "tunes",
         "series": [{"name": "tunes reproduced", "x": at, "y": history["reproduced"], "color": GREEN}],
         "hlines": [{"y": n_tunes, "text": f"all {n_tunes}", "color": GREEN}]},
    ], labels, frame_x=at)
    notes = tune_notes(SHOWN_TUNE)
    targets = tokens[1:]
    predicted, right, hovers, titles = [], [], [], []
    for s, guess in zip(at, history["guesses"]):
        # guess[t] is the guess of targets[t]; draw the guesses of the notes (t < n), not of the end marker
        g = guess[:len(notes)]
        predicted.append([VOCAB.notes[i - 1] if i else None for i in g])
        right.append([bool(a == b) for a, b in zip(g, targets[:len(notes)])])
        hovers.append([f"guess for note {t + 1} ({TOKENS[targets[t]]}): {TOKENS[i]}" for t, i in enumerate(g)])
        titles.append(f"{TUNE_TITLES[SHOWN_TUNE]} after {s} training steps: "
                      f"{int(np.sum(guess == targets))} of {len(targets)} next notes guessed right")
    roll = figures.prediction_roll(notes, predicted, right, note_hover(notes), hovers, titles, labels)
    return show(ctx.figure, {"curves": curves, "roll": roll}, summary=_training_summary(net))


def _training_summary(net: dict) -> list:
    """How the lesson network was trained: the cut of BPTT and whether clipping ever acted."""
    _, _, _, unroll, _, lr, steps, _, clip = LESSON_NET
    chunks = experiments.bptt_chunks(len(tune_tokens(SHOWN_TUNE)) - 1, unroll)
    norms = net["grad_norm"]
    clipped = int(np.sum(norms > clip))
    return [
        html.H3(f"How this network was trained: Adam, η = {lr:g}, {steps} steps"),
        html.P(f"Backpropagation through time is cut every {unroll} steps: the {sum(chunks)} predictions of "
               f"{TUNE_TITLES[SHOWN_TUNE]} are learned in chunks of {' and '.join(map(str, chunks))}."),
        html.P(f"Gradients are clipped at norm {clip:g}: "
               + (f"at {clipped} of the {len(norms)} steps" if clipped else "never in this run")
               + f"; the largest norm was {norms.max():.2f}, at step {int(norms.argmax())}."),
    ]


def _mark_cut(payload: dict, t: int, unroll: int) -> dict:
    """The flow figure of the prediction at step t, with the steps back that training's
    truncated gradient never reaches shaded."""
    reach = experiments.bptt_reach(t, unroll)
    if reach >= t:
        return payload
    layout = payload["figure"]["layout"]
    layout["shapes"] = [*layout.get("shapes", []), {
        "type": "rect", "xref": "x", "yref": "paper", "x0": reach + 0.5, "x1": t + 0.5, "y0": 0, "y1": 1,
        "fillcolor": MUTED, "opacity": 0.15, "line": {"width": 0}, "layer": "below"}]
    layout["annotations"] = [*layout.get("annotations", []), {
        "x": (reach + t + 1) / 2, "y": 0.03, "xref": "x", "yref": "paper", "showarrow": False,
        "text": f"beyond the cut at step {t - reach}:<br>no gradient in training", "font": {"color": MUTED}}]
    return payload


def clipping_view(ctx) -> View:
    """Plain gradient descent with a large step, with and without clipping."""
    optimizer, lr, clips = CLIP_DEMO
    tunes, held, hidden, unroll, _, _, steps, seed, _ = LESSON_NET
    runs = [network(tunes, held, hidden, unroll, optimizer, lr, steps, seed, c) for c in clips]
    at = np.arange(0, steps + 1, HISTORY_EVERY)
    names = ["no clipping", f"clipped at norm {clips[1]:g}"]
    colors = [VERMILION, BLUE]

    def loss_at(run, k):
        return float(run["loss"][k]) if k < len(run["loss"]) else float(run["train_tune_loss"][-1])

    labels = [f"step {k} · loss {loss_at(runs[0], k):.2f} without clipping, {loss_at(runs[1], k):.2f} with"
              for k in at]
    x = np.arange(steps + 1)
    curves = figures.curves_figure([
        {"title": f"Loss, plain gradient descent with η = {lr:g}", "ytitle": "loss (log scale)", "log": True,
         "series": [{"name": n, "x": x, "y": np.append(r["loss"], r["train_tune_loss"][-1]), "color": c}
                    for n, r, c in zip(names, runs, colors)],
         "hlines": [{"y": UNIFORM_LOSS, "text": f"uniform guess {UNIFORM_LOSS:.2f}"}]},
        {"title": "Gradient norm ‖g‖ before clipping", "ytitle": "‖g‖ (log scale)", "log": True,
         "series": [{"name": n, "x": x[:-1], "y": r["grad_norm"], "color": c, "width": 2}
                    for n, r, c in zip(names, runs, colors)],
         "hlines": [{"y": clips[1], "text": f"clip threshold {clips[1]:g}", "color": BLUE}]},
    ], labels, frame_x=at)
    return show(ctx.figure, {"curves": curves})


def memorize_view(ctx) -> View:
    """Six tunes learned, one held out: the two losses, and the guesses for the held-out tune."""
    tunes = tuple(n for n in TUNE_NAMES if n != HELD_OUT)
    net = network(tunes, HELD_OUT, *LESSON_NET[2:])
    steps = net["eval_steps"]
    labels = [f"step {s} · loss: trained tunes {a:.2f}, held-out tune {b:.2f}"
              for s, a, b in zip(steps, net["train_tune_loss"], net["held_out_loss"])]
    curves = figures.curves_figure([
        {"title": "Loss per note: the six training tunes and the held-out one",
         "ytitle": "loss (nats per note)",
         "series": [{"name": "the six training tunes", "x": steps, "y": net["train_tune_loss"], "color": BLUE},
                    {"name": f"{TUNE_TITLES[HELD_OUT]} (never trained on)", "x": steps, "y": net["held_out_loss"],
                     "color": VERMILION}],
         "hlines": [{"y": UNIFORM_LOSS, "text": f"uniform guess: ln {VOCAB.size} = {UNIFORM_LOSS:.2f}"}]},
    ], labels, frame_x=steps)
    notes = tune_notes(HELD_OUT)
    guess = experiments.guesses(net["params"], HELD_OUT)
    targets = tune_tokens(HELD_OUT)[1:]
    g = guess[:len(notes)]
    title = (f"{TUNE_TITLES[HELD_OUT]}, never trained on: {int(np.sum(guess == targets))} of {len(targets)} "
             f"next notes guessed right")
    roll = figures.prediction_roll(
        notes, [[VOCAB.notes[i - 1] if i else None for i in g]], [[bool(a == b) for a, b in zip(g, targets)]],
        note_hover(notes), [[f"guess for note {t + 1} ({TOKENS[targets[t]]}): {TOKENS[i]}" for t, i in enumerate(g)]],
        [title], [labels[-1]])
    return show(ctx.figure, {"curves": curves, "roll": roll})


def _generation(net: tuple, values: dict, *, start: str) -> dict:
    """Roll and bars of a melody written by network(*net), its summary, store data and whether
    it is one of the training tunes note for note."""
    m = melody(net, float(values["temperature"]), values["start"], int(values["draw"]))
    tokens, dists, sources = m["tokens"], m["dists"], m["sources"]
    n = len(tokens)
    notes = [VOCAB.notes[i - 1] for i in tokens]
    tunes = net[0]
    temperature = float(values["temperature"])
    drawn = [int(t) for t in tokens[1:]] + ([melodies.BOUNDARY] if m["stopped"] else [-1])
    given = m.get("given", 0)      # notes of the visitor's melody, before the network's
    bar_titles = []
    for k in range(n):
        after = f"After {TOKENS[tokens[k]]} (note {k + 1})"
        if k + 1 < given:
            bar_titles.append(f"{after}: your next note {TOKENS[drawn[k]]} had p = {dists[k, drawn[k]]:.0%}")
        elif drawn[k] >= 0:
            what = "the end of the melody" if drawn[k] == melodies.BOUNDARY else f"note {k + 2}"
            bar_titles.append(f"{after}: drew {TOKENS[drawn[k]]} ({what}), p = {dists[k, drawn[k]]:.0%} "
                              f"at temperature {temperature:g}")
        else:
            bar_titles.append(f"{after}: the melody reached its limit of {MELODY_MAX + 1} notes")
    labels = [f"note {k + 1} of {n}: {TOKENS[tokens[k]]}" for k in range(n)]
    roll_titles = [f"A new melody — {k + 1} of {n} notes, temperature {temperature:g}" for k in range(n)]
    names = [TUNE_TITLES[t] for t in tunes] + ["your melody"]
    hover = [f"note {i + 1}: {melodies.pitch_name(p)} for {figures.beats_text(b)}<br>"
             + (f"in a run of notes copied from {names[s]}" if s >= 0 else f"in no run of {COPY_RUN} notes of a tune")
             for i, ((p, b), s) in enumerate(zip(notes, sources))]
    # colours follow the lesson's tune order, so a tune keeps its colour whichever tunes are trained on
    everywhere = [TUNE_NAMES.index(tunes[s]) if 0 <= s < len(tunes) else (len(TUNE_NAMES) if s >= 0 else -1)
                  for s in sources]
    roll = figures.generated_roll(notes, everywhere, [TUNE_TITLES[t] for t in TUNE_NAMES] + names[-1:], hover,
                                  roll_titles, labels, start=start)
    if given:
        _colour_own(roll, [s == len(TUNE_NAMES) for s in everywhere])
    bars = figures.probability_bars(dists, list(TOKENS), drawn, bar_titles, labels, marked_name="the token drawn",
                                    hover_names=HOVER_NAMES, start=start)
    copied = {}
    for s in sources:
        if s >= 0:
            copied[names[s]] = copied.get(names[s], 0) + 1
    whole = [names[i] for i, name in enumerate(tunes) if list(tune_tokens(name)[1:-1]) == [int(t) for t in tokens]]
    end = "The network ended it itself (it drew the end marker |)." if m["stopped"] else \
        f"It did not end by itself; the page stops at {MELODY_MAX + 1} notes."
    summary = [
        html.H3(f"This melody: {n} notes, {sum(b for _, b in notes):g} beats"),
        html.P(f"It is {whole[0]}, note for note." if whole else
               f"{sum(copied.values())} of its {n} notes lie in runs of {COPY_RUN} or more notes copied from "
               "the training tunes" + (": " + ", ".join(f"{k} {v}" for k, v in sorted(copied.items(), key=lambda kv: -kv[1]))
                                       if copied else "") + "."),
        html.P(end),
    ] + ([html.P(f"The first {given} notes are your melody; the network wrote the {n - given} after them "
                 "(the starting note is not used).")] if given else [])
    return {"payloads": {"roll": roll, "bars": bars}, "summary": summary,
            "melody": _melody_data(notes, values["tempo"], "melody"), "achieved": bool(whole)}


def generate_view(ctx) -> View:
    """A melody written by the lesson network at the visitor's temperature, note and number."""
    made = _generation(LESSON_NET, ctx.values, start="first")
    return show(ctx.figure, made["payloads"], summary=made["summary"], melody_data=made["melody"],
                achieved=made["achieved"])


def free_view(ctx) -> View:
    """The visitor's own network: its training, its reach into the past, and a melody it writes."""
    net_args = experiments.free_play_net(ctx.values)
    net = network(*net_args)
    notices = []
    if net["message"]:
        notices.append(f"Training stopped: {net['message']}. Try a smaller learning rate or clipping.")
    made = _generation(net_args, ctx.values, start="last")
    payloads = made["payloads"]
    tunes, held = net_args[0], net_args[1]
    x = np.arange(len(net["loss"]))
    loss_series = [{"name": "training loss", "x": x, "y": net["loss"], "color": ORANGE}]
    if held:
        loss_series.append({"name": f"{TUNE_TITLES[held]} (held out)", "x": net["eval_steps"],
                            "y": net["held_out_loss"], "color": VERMILION})
    clip = net_args[8]
    norm_lines = [{"y": clip, "text": f"clip threshold {clip:g}", "color": BLUE}] if clip else []
    payloads["curves"] = figures.curves_figure([
        {"title": "Loss (nats per note)", "ytitle": "loss (log scale)", "log": True, "series": loss_series,
         "hlines": [{"y": UNIFORM_LOSS, "text": f"uniform guess {UNIFORM_LOSS:.2f}"}]},
        {"title": "Gradient norm before clipping", "ytitle": "‖g‖ (log scale)", "log": True,
         "series": [{"name": "‖g‖", "x": x, "y": net["grad_norm"], "color": MUTED, "width": 2}],
         "hlines": norm_lines},
    ], [], title="")
    k = np.arange(len(net["flow_init"]))
    payloads["flow"] = figures.flow_figure(
        k, net["flow_trained"][None], net["flow_init"],
        [f"How much the loss at the end of {TUNE_TITLES[tunes[0]]} depends on the past<br>"
         f"<sup>{k[-1]} steps back, the gradient is {net['flow_trained'][-1] / net['flow_trained'][0]:.2g} × "
         f"that of the last step after training, {net['flow_init'][-1] / net['flow_init'][0]:.2g} × before</sup>"],
        [""], current_name="after training", reference_name="at initialization")
    reproduced = [TUNE_TITLES[n] for n, ok in zip(tunes, net["reproduced"]) if ok]
    final = float(net["train_tune_loss"][-1])
    facts = [html.P(f"Trained on {len(tunes)} tune{'s' if len(tunes) > 1 else ''} for {len(net['loss'])} steps: "
                    f"the loss went from {net['loss'][0]:.2f} to {final:.3f} nats per note."
                    if len(net["loss"]) else "No training step was completed."),
             html.P(f"Reproduced note for note: {len(reproduced)} of {len(tunes)}"
                    + (f" ({', '.join(reproduced)})." if reproduced else "."))]
    clipped = int(np.sum(net["grad_norm"] > clip)) if clip else 0
    if clip:
        facts.append(html.P(f"Clipping rescaled {clipped} of {len(net['grad_norm'])} gradients."))
    if held:
        facts.append(html.P(f"{TUNE_TITLES[held]}, held out: loss {net['held_out_loss'][-1]:.2f} nats per note "
                            f"(a uniform guess: {UNIFORM_LOSS:.2f}); {net['held_out_right']:.0%} of its next notes "
                            "guessed right."))
    if net.get("melody_learned") is not None:
        facts.append(html.P("Your melody: the network " + ("writes it out note for note after its first 3 notes."
                                                           if net["melody_learned"] else
                                                           "does not yet write it out after its first 3 notes.")))
    learned_all_small = (net_args[2] <= SMALL_NET and set(tunes) == set(TUNE_NAMES)
                         and bool(np.all(net["reproduced"])))
    return show(ctx.figure, payloads, summary=[html.H3("Your network")] + facts + made["summary"],
                melody_data=made["melody"], notices=notices, achieved=learned_all_small)


VIEWS = {
    "sequence": sequence_view, "cell": reading_view, "unrolled": reading_view, "probabilities": reading_view,
    "temperature": temperature_view, "training": history_view, "gradients": history_view,
    "clipping": clipping_view, "memorize": memorize_view, "generate": generate_view, "free": free_view,
}

ENGINE = Lesson(
    LESSON, SCHEMA, STEPS, VIEWS,
    graphs=HEIGHTS,
    panels={"summary": "ls-panel rnn-summary", "audio": "rnn-audio", "generation": "ls-panel", "settings": "ls-panel",
            "own": "ls-panel mk-panel"},
    outputs={
        **{f"slot:{name}": (Output(lesson_id("slot", LESSON, name=name), "className"), "rnn-slot ls-hidden")
           for name in SLOTS},
        "summary": (Output(lesson_id("panel", LESSON, name="summary"), "children"), []),
        "melody": (Output(lesson_id("melody", LESSON), "data"), None),
    },
)
show_step = ENGINE.register()


# -- layout ---------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    return ENGINE.page(query, stage)


def stage(values: dict, hidden: set) -> list:
    return [
        ENGINE.step_player(label="frame"),
        _settings_panel(values, hidden),
        _own_melody_panel(values, hidden),
        _generation_panel(values, hidden),
        computing(html.Div([_slot(name) for name in SLOTS]
                           + [html.Div(id=ENGINE.panel_id("summary"), className="ls-panel rnn-summary ls-hidden")],
                           className="rnn-figures"),
                  "Training the network and writing its melodies", delay_show=400),
        dcc.Store(id=lesson_id("melody", LESSON)),
    ]


def _slot(name: str) -> html.Div:
    """The place of a figure on the stage; the view's class for it orders it among the step's figures."""
    content = ENGINE.graph(name)
    if name == "roll":   # the piano roll carries the playhead, and the audio bar under it
        content = [html.Div([content, html.Div(className="rnn-playhead", **{"aria-hidden": "true"})],
                            className="rnn-roll"),
                   _audio_panel()]
    return html.Div(content, id=lesson_id("slot", LESSON, name=name), className="rnn-slot ls-hidden")


def _audio_panel() -> html.Div:
    return html.Div(
        [
            html.Button("♪ Play melody", id=lesson_id("play", LESSON), className="rnn-play",
                        title="Hear the melody on the roll (your browser synthesizes it)"),
            html.Button("■ Stop", id=lesson_id("stop", LESSON), className="rnn-stop", title="Stop playing"),
            html.Button("⬇ Download WAV", id=lesson_id("wav", LESSON), className="rnn-wav",
                        title="The same melody as a WAV file, synthesized on the server"),
            html.Span("", id=lesson_id("audio-status", LESSON), className="rnn-audio-status", role="status"),
            html.Span("", id=lesson_id("wav-message", LESSON), className="rnn-audio-status"),
            dcc.Download(id=lesson_id("download", LESSON)),
        ],
        id=ENGINE.panel_id("audio"), className="rnn-audio ls-hidden",
    )


def _generation_panel(values: dict, hidden: set) -> html.Div:
    another = html.Button("↻ Another melody", id=lesson_id("another", LESSON), className="rnn-another",
                          title="Same network and temperature, the next melody number")
    return html.Div(
        [html.H3("Write a melody"),
         html.Div(ENGINE.controls(values, hidden, MELODY_SETTINGS) + [another], className="ls-controls")],
        id=ENGINE.panel_id("generation"), className="ls-panel ls-hidden",
    )


def _settings_panel(values: dict, hidden: set) -> html.Div:
    chosen = values["tunes"].split(".")
    return html.Div(
        [
            html.H3("Train your own network"),
            html.Div(ENGINE.controls(values, hidden, NETWORK_SETTINGS), className="ls-controls"),
            html.Div(
                [
                    html.Label(SCHEMA.get("tunes").label, className="ls-control-label"),
                    dcc.Checklist(id=lesson_id("tune-list", LESSON), value=[n for n in TUNE_NAMES if n in chosen],
                                  options=_tune_options(values["heldout"]), inline=True,
                                  className="ls-checklist rnn-tunes"),
                    html.P(id=lesson_id("tunes-message", LESSON), className="ls-message ls-hidden"),
                    *ENGINE.controls(values, hidden, ("tunes",)),
                ],
                className="rnn-tune-choice" + (" ls-hidden" if "tunes" in hidden else ""),
            ),
        ],
        id=ENGINE.panel_id("settings"), className="ls-panel ls-hidden",
    )


def _tune_options(held_out) -> list[dict]:
    return [{"label": TUNE_TITLES[n] + (" (held out)" if n == held_out else ""), "value": n,
             "disabled": n == held_out} for n in TUNE_NAMES]


# -- callbacks that are not step plumbing -----------------------------------------------------

@dash.callback(
    Output(setting_id(LESSON, "tunes"), "value"),
    Output(lesson_id("tunes-message", LESSON), "children"),
    Output(lesson_id("tunes-message", LESSON), "className"),
    Input(lesson_id("tune-list", LESSON), "value"),
    prevent_initial_call=True,
)
def tunes_from_list(chosen):
    """The ticked tunes as the `tunes` setting (in the lesson's order)."""
    chosen = chosen if isinstance(chosen, list) else []
    names = [n for n in TUNE_NAMES if n in chosen]
    if not names:
        return dash.no_update, "Tick at least one tune to train on.", "ls-message is-error"
    return ".".join(names), "", "ls-message ls-hidden"


@dash.callback(
    Output(lesson_id("tune-list", LESSON), "options"),
    Input(setting_id(LESSON, "heldout"), "value"),
)
def mark_held_out(held_out):
    return _tune_options(held_out if held_out in TUNE_NAMES else "none")


@dash.callback(
    Output(setting_id(LESSON, "draw"), "value"),
    Input(lesson_id("another", LESSON), "n_clicks"),
    State(setting_id(LESSON, "draw"), "value"),
    prevent_initial_call=True,
)
def another_melody(_clicks, draw):
    return SCHEMA.next_value("draw", draw)


@dash.callback(
    Output(lesson_id("download", LESSON), "data"),
    Output(lesson_id("wav-message", LESSON), "children"),
    Input(lesson_id("wav", LESSON), "n_clicks"),
    State(lesson_id("melody", LESSON), "data"),
    prevent_initial_call=True,
)
def download_wav(_clicks, data):
    """The melody on the roll as a WAV file (synthesized with numpy), or a message why not."""
    try:
        notes, bpm = melody_from_store(data)
        wav = audio.melody_to_wav_bytes(notes, bpm)
    except ValueError as error:
        return dash.no_update, f"No WAV: {error}."
    return dcc.send_bytes(wav, "learnscape-melody.wav", type="audio/wav"), ""


def melody_from_store(data) -> tuple[list[tuple[int, float]], float]:
    """(notes, bpm) from the melody store's data; ValueError naming what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("notes"), list) or not data["notes"]:
        raise ValueError("there is no melody on this step")
    if len(data["notes"]) > MELODY_NOTES_MAX:
        raise ValueError(f"a melody here has at most {MELODY_NOTES_MAX} notes")
    notes = []
    for note in data["notes"]:
        if not isinstance(note, list) or len(note) != 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in note):
            raise ValueError("each note must be [pitch, beats]")
        notes.append((note[0], note[1]))
    tempo, _ = SCHEMA.clean({"tempo": data.get("bpm")})
    return notes, float(tempo["tempo"])


clientside_callback(
    ClientsideFunction("rnn", "audio"),
    Output(lesson_id("audio-status", LESSON), "children"),
    Input(lesson_id("play", LESSON), "n_clicks"),
    Input(lesson_id("stop", LESSON), "n_clicks"),
    Input(lesson_id("melody", LESSON), "data"),
    prevent_initial_call=True,
)

# -- the visitor's own melody ------------------------------------------------------------------

OWN_COLOR = "#1f2430"        # the visitor's notes on the roll: ink, a colour no tune has


def _colour_own(roll: dict, own: list[bool]) -> None:
    """Paint the notes of the visitor's melody (and their legend entry) in OWN_COLOR, in place."""
    for frame in roll["frames"]:
        for patch in frame.get("data", []):
            colors = patch.get("marker", {}).get("color")
            if isinstance(colors, list):
                patch["marker"]["color"] = [OWN_COLOR if mine else c for c, mine in zip(colors, own)]
    for trace in roll["figure"]["data"]:
        if trace.get("name") == "copied from your melody":
            trace["marker"]["color"] = OWN_COLOR


KEYS = {pitch: melodies.pitch_name(pitch) for pitch in own_melody.PITCHES}


def _own_melody_panel(values: dict, hidden: set) -> html.Div:
    return html.Div(
        [html.H3("Your own melody"),
         melody_keyboard(LESSON, values["melody"], KEYS, own_melody.LENGTHS, own_melody.DURATIONS,
                         limit=own_melody.NOTES_MAX, example=own_melody.EXAMPLE),
         *ENGINE.controls(values, hidden, ("melody",))],
        id=ENGINE.panel_id("own"), className="ls-panel mk-panel ls-hidden",
    )


@dash.callback(
    Output(setting_id(LESSON, "melody"), "value", allow_duplicate=True),
    Output(lesson_id("melody-message", LESSON), "children"),
    Output(lesson_id("melody-message", LESSON), "className"),
    Input(lesson_id("melody-use", LESSON), "n_clicks"),
    Input(lesson_id("melody-drop", LESSON), "n_clicks"),
    State(lesson_id("melody-text", LESSON), "value"),
    prevent_initial_call=True,
)
def use_melody(_use, _drop, text):
    """The note text as the `melody` setting, checked whole on the server: a bad note is
    named and the setting keeps its value (nothing half-loaded)."""
    if dash.ctx.triggered_id == lesson_id("melody-drop", LESSON):
        return "", "Training on the tunes only.", "ls-message is-ok"
    try:
        checked = own_melody.check_melody(text if isinstance(text, str) else "")
    except ValueError as error:
        return dash.no_update, f"Not used: {error}.", "ls-message is-error"
    if not checked:
        return dash.no_update, "Write or play a melody first.", "ls-message is-error"
    count = len(checked.split())
    return checked, f"Training with your melody of {count} notes.", "ls-message is-ok"


@dash.callback(
    Output(key_id(LESSON, ALL), "disabled"),
    Output(key_id(LESSON, ALL), "title"),
    Input(lesson_id("melody-length", LESSON), "value"),
)
def keys_for_length(length):
    """Keys the lesson has no token for at the chosen length are disabled, and say why."""
    if not isinstance(length, (int, float)) or isinstance(length, bool):
        return [False] * len(KEYS), [f"Add {name}" for name in KEYS.values()]
    lengths = [own_melody.LENGTHS[pitch] for pitch in KEYS]
    return ([length not in ok for ok in lengths],
            [f"Add {name}:{length:g}" if length in ok else f"{key_label(name, ok)}, not {length:g}"
             for name, ok in zip(KEYS.values(), lengths)])


clientside_callback(
    ClientsideFunction("melody_keyboard", "edit"),
    Output(lesson_id("melody-text", LESSON), "value"),
    Input(key_id(LESSON, ALL), "n_clicks"),
    Input(lesson_id("melody-undo", LESSON), "n_clicks"),
    Input(lesson_id("melody-clear", LESSON), "n_clicks"),
    State(lesson_id("melody-length", LESSON), "value"),
    State(lesson_id("melody-text", LESSON), "value"),
    prevent_initial_call=True,
)

__all__ = ["PAGE", "SCHEMA", "STEPS", "ENGINE", "layout", "show_step", "network", "melody"]
