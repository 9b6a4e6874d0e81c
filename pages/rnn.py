"""Lesson: a recurrent network that learns melodies and writes new ones
(seed: visualizing the RNN that made music for a festival exhibit).

The network is `app.ml.rnn` (an Elman RNN trained by backpropagation through
time) on the tunes of `app.ml.melodies`; `components.rnn_figures` draws it.
Every run is memoized on scalars; the browser plays and scrubs it, and plays
melodies with Web Audio (`assets/rnn.js`). The narrated steps show the
lesson's own runs (the numbers in rnn.md are measured on them); the
"write a melody" step uses the visitor's temperature and starting note, and
free play every setting.
"""

from __future__ import annotations

import math
from pathlib import Path

import dash
import numpy as np
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from app.cache import memoize
from app.ml import audio, melodies, optim, rnn, train
from components import rnn_figures as figures
from components.ids import lesson_id, player_id, setting_id
from components.lesson import lesson_shell, setting_control
from components.narration import load_steps
from components.player import animated_graph, step_player
from components.settings_schema import Schema, Setting, parse_step
from components.theme import BLUE, GREEN, MUTED, ORANGE, VERMILION

LESSON = "rnn"
STEPS = load_steps(Path(__file__).with_suffix(".md"))
FIGURE_OF_STEP = [s.figure for s in STEPS]
STEP_PLAY = {s.figure: s.play for s in STEPS}

VOCAB = melodies.VOCABULARY
TOKENS = VOCAB.labels                       # '|', 'G3:1', ...: what the charts call each token
TUNE_NAMES = melodies.TUNE_NAMES
TUNE_TITLES = {name: melodies.get_tune(name).title for name in TUNE_NAMES}
ALL_TUNES = ".".join(TUNE_NAMES)
UNIFORM_LOSS = math.log(VOCAB.size)         # nats of a uniform guess over the tokens

# -- the lesson's runs (rnn.md states their numbers) ----------------------------------------
#: (tunes, held-out tune, hidden, unroll, optimizer, lr, steps, seed, clip); clip 0 = off.
LESSON_NET = (TUNE_NAMES, "", 64, 32, "adam", 0.01, 150, 0, 5.0)
SHOWN_TUNE = "twinkle"                      # the tune read step by step
HELD_OUT = "mary"                           # the tune left out in the memorization step
CLIP_DEMO = ("sgd", 3.0, (0.0, 1.0))        # plain gradient descent, η = 3, clipping off / at 1
HISTORY_EVERY = 5                           # training steps between frames of a replayed run
EVAL_EVERY = 5                              # training steps between scores of the tunes
TEMPERATURES = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.3, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0)
COPY_RUN = 4                                # notes in a row that count as "copied from a tune"

# -- limits of free play: a run at the largest settings trains in a few seconds -----------
HIDDEN_MAX = 128
STEPS_MAX = 400
WORK_MAX = 128 * 200                        # hidden units × training steps of one run (~2 s of CPU)
MELODY_MAX = 64                             # notes written after the starting note
MELODY_NOTES_MAX = 128                      # notes a WAV may be asked for
SMALL_NET = 16                              # free play's task: all seven tunes with this many units

SCHEMA = Schema((
    Setting("hidden", "Hidden units H", "int", 64, low=2, high=HIDDEN_MAX),
    Setting("unroll", "Unroll (BPTT steps)", "int", 32, low=rnn.UNROLL_MIN, high=rnn.UNROLL_MAX),
    Setting("optimizer", "Optimizer", "choice", "adam", choices=tuple(optim.OPTIMIZERS)),
    Setting("lr", "Learning rate", "float", 0.01, low=1e-5, high=10.0),
    Setting("steps", "Training steps", "int", 150, low=1, high=STEPS_MAX),
    Setting("clip", "Clip gradient norm at", "float", 5.0, low=0.0, high=rnn.CLIP_MAX),
    Setting("seed", "Seed", "int", 0, low=0, high=1_000_000),
    Setting("tunes", "Tunes", "text", ALL_TUNES, pattern=r"[a-z_]{1,40}(\.[a-z_]{1,40}){0,%d}" % (len(TUNE_NAMES) - 1),
            pattern_help="tune names joined by dots, e.g. twinkle.mary"),
    Setting("heldout", "Held-out tune", "choice", "none", choices=("none", *TUNE_NAMES)),
    Setting("temperature", "Temperature", "float", 1.0, low=rnn.TEMPERATURE_MIN, high=rnn.TEMPERATURE_MAX),
    Setting("start", "Starting note", "choice", "C4:1", choices=TOKENS[1:]),
    Setting("draw", "Melody number", "int", 0, low=0, high=1_000_000),
    Setting("tempo", "Tempo", "int", 120, low=40, high=240),
))

PAGE = dict(
    path="/rnn", name="A network that writes melodies", order=4, lesson=True, icon="rnn.svg",
    title="A network that writes melodies — Learnscape", steps=len(STEPS),
    description="A recurrent network reads seven tunes note by note, learns to predict the next one, "
                "and writes new melodies you can hear — mostly by remembering.",
)

SLOTS = ("roll", "cell", "hidden", "bars", "curves", "flow")
HEIGHTS = {"roll": 380, "cell": 440, "hidden": 400, "bars": 370, "curves": 480, "flow": 430}
VIEWS = {  # slots each step shows, in order of the frames they share
    "sequence": ("roll",), "cell": ("cell", "bars"), "unrolled": ("roll", "hidden"),
    "probabilities": ("hidden", "bars"), "temperature": ("bars",), "training": ("roll", "curves"),
    "gradients": ("flow",), "clipping": ("curves",), "memorize": ("curves", "roll"),
    "generate": ("roll", "bars"), "free": ("roll", "bars", "curves", "flow"),
}
WITH_MELODY = {"sequence", "generate", "free"}
WITH_GENERATION = {"generate", "free"}


# -- words for tokens and notes ---------------------------------------------------------------


def token_name(token: int) -> str:
    """A token in words: 'C4 for 1 beat' or 'the start/end marker |'."""
    if token == melodies.BOUNDARY:
        return "the start/end marker |"
    pitch, beats = VOCAB.notes[token - 1]
    return f"{melodies.pitch_name(pitch)} for {figures.beats_text(beats)}"


HOVER_NAMES = [f"{label} ({token_name(i)})" if i else "| (start/end of a tune)" for i, label in enumerate(TOKENS)]


def tune_tokens(name: str) -> np.ndarray:
    """| notes |: (n + 2,) int token ids of one tune."""
    return melodies.encode_tunes([name])


def tune_notes(name: str) -> list[tuple[int, float]]:
    return list(melodies.get_tune(name).notes)


def note_hover(notes: list, what: str = "note") -> list[str]:
    """Hover texts of a tune's notes: which note, its token, and its two roles in training."""
    n = len(notes)
    return [f"{what} {i + 1} of {n}: {melodies.pitch_name(p)} for {figures.beats_text(b)}"
            f"<br>token {melodies.note_label((p, b))}<br>input at step {i + 1}, target of step {i}"
            for i, (p, b) in enumerate(notes)]


def copied_from(tokens, tunes: list, min_run: int = COPY_RUN) -> list[int]:
    """For each token of a melody, the index in `tunes` of the tune that holds the
    longest run of consecutive melody tokens through it (at least `min_run` long), or -1.

    tokens: (n,) note ids; tunes: lists of note ids (no boundary markers).
    """
    tokens = [int(t) for t in tokens]
    n = len(tokens)
    best, source = [0] * n, [-1] * n
    for j in range(n):
        for s, seq in enumerate(tunes):
            for start in range(len(seq)):
                length = 0
                while j + length < n and start + length < len(seq) and tokens[j + length] == seq[start + length]:
                    length += 1
                if length >= min_run:
                    for i in range(j, j + length):
                        if length > best[i]:
                            best[i], source[i] = length, s
    return source


# -- computations, memoized on scalars ---------------------------------------------------


@memoize()
def network(tunes: tuple, held_out: str, hidden: int, unroll: int, optimizer: str, lr: float, steps: int,
            seed: int, clip: float) -> dict:
    """One network trained on `tunes` (whole tunes, full batch), and what the page shows of it.

    held_out: "" or a tune scored but never trained on; clip: 0 for no clipping.
    Returns params (dict of arrays), loss (T,), grad_norm (T,) before clipping, eval_steps (E,),
    train_tune_loss (E,), held_out_loss (E,) (NaN without a held-out tune), diverged_at,
    reproduced (len(tunes),) bools, held_out_right: share of the held-out tune's next notes
    guessed right (NaN without), flow_init / flow_trained: (t + 1,) ||dL_t/dh_{t-k}|| at the
    last prediction of the first tune, before and after training.
    Raises ValueError (from app.ml) for settings outside the model's limits.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        run = rnn.train_melodies(tunes, hidden, unroll, lr, optimizer, steps, seed, clip or None,
                                 held_out=(held_out,) if held_out else (), eval_every=EVAL_EVERY)
        first = tune_tokens(tunes[0])
        last = len(first) - 2
        held_right = math.nan
        if held_out:
            held_right = rnn.next_token_accuracy(run.params, tune_tokens(held_out))
        return {
            "params": run.params, "loss": run.loss, "grad_norm": run.grad_norm, "eval_steps": run.eval_steps,
            "train_tune_loss": run.train_tune_loss, "held_out_loss": run.held_out_loss,
            "diverged_at": run.diverged_at,
            "reproduced": np.array([rnn.tune_accuracy(run.params, name) == 1.0 for name in tunes]),
            "held_out_right": held_right,
            "flow_init": rnn.gradient_flow(run.model.init(seed), first, last),
            "flow_trained": rnn.gradient_flow(run.params, first, last),
        }


@memoize()
def lesson_history() -> dict:
    """The lesson network's training replayed with every step's parameters (train.run),
    summarised every HISTORY_EVERY steps.

    Returns loss (T,), at (F,) training steps, guesses (F, n) the most likely next token at
    each step of SHOWN_TUNE, reproduced (F,) tunes reproduced, flows (F, n) ||dL/dh_{t-k}||
    for the last prediction of SHOWN_TUNE.
    """
    tunes, _, hidden, unroll, optimizer, lr, steps, seed, clip = LESSON_NET
    model = rnn.RNN(VOCAB.size, hidden, clip, unroll)
    hist = train.run(model, optim.make(optimizer, lr=lr), rnn.tune_batch(tunes), steps, seed)
    tokens = tune_tokens(SHOWN_TUNE)
    at = np.arange(0, hist.steps_done + 1, HISTORY_EVERY)
    guesses, reproduced, flows = [], [], []
    for k in at:
        params = {name: hist.params[name][k] for name in rnn.PARAM_NAMES}
        guesses.append(rnn.forward(params, tokens[:-1]).probs.argmax(axis=1))
        reproduced.append(sum(rnn.tune_accuracy(params, name) == 1.0 for name in tunes))
        flows.append(rnn.gradient_flow(params, tokens, len(tokens) - 2))
    return {"loss": hist.loss, "at": at, "guesses": np.array(guesses), "reproduced": np.array(reproduced),
            "flows": np.array(flows)}


@memoize()
def reading(tune: str) -> dict:
    """The lesson network reading `tune` from h = 0, with the three terms of a_t.

    Returns inputs (T,), targets (T,) token ids; h_prev, x_part = W_xh x_t,
    m_part = W_hh h_{t-1}, pre = a_t, hs = h_t: (T, H); b_h (H,); probs, logits (T, V).
    """
    params = network(*LESSON_NET)["params"]
    tokens = tune_tokens(tune)
    inputs, targets = tokens[:-1], tokens[1:]
    cache = rnn.forward(params, inputs)
    h_prev = np.vstack([np.zeros((1, cache.hs.shape[1])), cache.hs[:-1]])
    return {"inputs": inputs, "targets": targets, "h_prev": h_prev, "x_part": params["W_xh"][:, inputs].T,
            "m_part": h_prev @ params["W_hh"].T, "b_h": params["b_h"], "pre": cache.pre, "hs": cache.hs,
            "probs": cache.probs, "logits": cache.logits}


@memoize()
def melody(net: tuple, temperature: float, start: str, draw: int) -> dict:
    """A melody written by the network `network(*net)`, from the note `start` (a token label).

    Returns tokens (n,) the notes (start first), dists (n, V): row k the tempered
    distribution the note after tokens[k] was drawn from, stopped: whether the network
    ended the melody (drew the end marker) before MELODY_MAX notes, sources (n,) index
    into net's tunes of the tune each note was copied from (-1: none).
    """
    params = network(*net)["params"]
    first = TOKENS.index(start)
    drawn = rnn.sample(params, [melodies.BOUNDARY, first], MELODY_MAX, temperature, draw,
                       stop_token=melodies.BOUNDARY)
    tokens = np.concatenate([[first], drawn]).astype(int)
    logits = rnn.forward(params, np.concatenate([[melodies.BOUNDARY], tokens])).logits[1:]
    dists = rnn.probabilities_with_temperature(logits, temperature)
    notes_of = [list(tune_tokens(name)[1:-1]) for name in net[0]]
    return {"tokens": tokens, "dists": dists, "stopped": len(drawn) < MELODY_MAX,
            "sources": np.array(copied_from(tokens, notes_of))}


# -- settings -------------------------------------------------------------------------------


def clean(raw: dict) -> tuple[dict, list[str]]:
    """SCHEMA.clean, plus the tune names checked: (values, notices)."""
    values, notices = SCHEMA.clean(raw)
    try:
        names = melodies.check_tune_names(tuple(dict.fromkeys(values["tunes"].split("."))))
        values["tunes"] = ".".join(names)
    except ValueError as error:
        notices.append(f"Tunes: {error}; training on all {len(TUNE_NAMES)}.")
        values["tunes"] = ALL_TUNES
    return values, notices


def free_net(values: dict) -> tuple:
    """network() arguments of free play; ValueError if no tune is left to train on."""
    held = "" if values["heldout"] == "none" else values["heldout"]
    tunes = tuple(n for n in values["tunes"].split(".") if n != held)
    if not tunes:
        raise ValueError(f"{TUNE_TITLES[held]} is held out, so no tune is left to train on; "
                         "tick another tune or hold out none")
    work = int(values["hidden"]) * int(values["steps"])
    if work > WORK_MAX:
        raise ValueError(f"{values['hidden']} hidden units × {values['steps']} training steps = {work:,}, more than "
                         f"the limit of {WORK_MAX:,} (for example 128 units × 200 steps, or 64 × 400) that keeps "
                         "a run to a few seconds")
    return (tunes, held, int(values["hidden"]), int(values["unroll"]), values["optimizer"],
            float(values["lr"]), int(values["steps"]), int(values["seed"]), float(values["clip"]))


# -- layout ---------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    values, notices = clean(query)
    step, step_notices = parse_step(query.get("step"), len(STEPS))
    hidden = SCHEMA.hidden(query)
    slots = {name: html.Div(animated_graph(LESSON, name, height=HEIGHTS[name]),
                            id=lesson_id("slot", LESSON, name=name), className="rnn-slot ls-hidden")
             for name in SLOTS}
    slots["roll"] = html.Div(
        [html.Div([animated_graph(LESSON, "roll", height=HEIGHTS["roll"]),
                   html.Div(className="rnn-playhead", **{"aria-hidden": "true"})], className="rnn-roll"),
         _audio_panel()],
        id=lesson_id("slot", LESSON, name="roll"), className="rnn-slot ls-hidden")
    stage = [
        step_player(LESSON, label="frame"),
        _settings_panel(values, hidden),
        _generation_panel(values, hidden),
        dcc.Loading(html.Div([slots[name] for name in SLOTS]
                             + [html.Div(id=lesson_id("summary", LESSON), className="ls-panel rnn-summary ls-hidden")],
                             className="rnn-figures"),
                    type="circle", delay_show=400),
        dcc.Store(id=lesson_id("melody", LESSON)),
    ]
    return lesson_shell(LESSON, STEPS, stage, step=step, notices=notices + step_notices,
                        defaults=SCHEMA.defaults())


def _text_input(name: str, value) -> dcc.Input:
    return dcc.Input(id=setting_id(LESSON, name), type="text", value=str(value), debounce=True)


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
        id=lesson_id("audio", LESSON), className="rnn-audio ls-hidden",
    )


def _generation_panel(values: dict, hidden: set) -> html.Div:
    notes = [{"label": f"{label}  ({token_name(i + 1)})", "value": label} for i, label in enumerate(TOKENS[1:])]
    return html.Div(
        [
            html.H3("Write a melody"),
            html.Div(
                [
                    setting_control(LESSON, "temperature", "Temperature", _text_input("temperature", values["temperature"]),
                                    hidden="temperature" in hidden,
                                    help_text=f"{rnn.TEMPERATURE_MIN:g} (careful) to {rnn.TEMPERATURE_MAX:g} (wild)"),
                    setting_control(LESSON, "start", "Starting note", dcc.Dropdown(
                        id=setting_id(LESSON, "start"), options=notes, value=values["start"], clearable=False),
                        hidden="start" in hidden),
                    setting_control(LESSON, "draw", "Melody number", _text_input("draw", values["draw"]),
                                    hidden="draw" in hidden, help_text="the sampler's dice: 0 to 10⁶"),
                    setting_control(LESSON, "tempo", "Tempo (beats per minute)", _text_input("tempo", values["tempo"]),
                                    hidden="tempo" in hidden, help_text="40 to 240"),
                    html.Button("↻ Another melody", id=lesson_id("another", LESSON), className="rnn-another",
                                title="Same network and temperature, the next melody number"),
                ],
                className="ls-controls",
            ),
        ],
        id=lesson_id("generation", LESSON), className="ls-panel ls-hidden",
    )


def _settings_panel(values: dict, hidden: set) -> html.Div:
    optimizers = [{"label": spec.label, "value": name} for name, spec in optim.OPTIMIZERS.items()]
    chosen = values["tunes"].split(".")
    return html.Div(
        [
            html.H3("Train your own network"),
            html.Div(
                [
                    setting_control(LESSON, "hidden", "Hidden units H", _text_input("hidden", values["hidden"]),
                                    hidden="hidden" in hidden,
                                    help_text=f"2 to {HIDDEN_MAX}; units × steps ≤ {WORK_MAX:,}"),
                    setting_control(LESSON, "unroll", "Unroll (BPTT steps)", _text_input("unroll", values["unroll"]),
                                    hidden="unroll" in hidden,
                                    help_text=f"{rnn.UNROLL_MIN} to {rnn.UNROLL_MAX}; {rnn.UNROLL_MAX} = whole tunes"),
                    setting_control(LESSON, "optimizer", "Optimizer", dcc.Dropdown(
                        id=setting_id(LESSON, "optimizer"), options=optimizers, value=values["optimizer"],
                        clearable=False), hidden="optimizer" in hidden),
                    setting_control(LESSON, "lr", "Learning rate η", _text_input("lr", values["lr"]),
                                    hidden="lr" in hidden, help_text="10⁻⁵ to 10"),
                    setting_control(LESSON, "steps", "Training steps", _text_input("steps", values["steps"]),
                                    hidden="steps" in hidden, help_text=f"1 to {STEPS_MAX}"),
                    setting_control(LESSON, "clip", "Clip gradient norm at", _text_input("clip", values["clip"]),
                                    hidden="clip" in hidden, help_text=f"0 = off, up to {rnn.CLIP_MAX:g}"),
                    setting_control(LESSON, "seed", "Seed", _text_input("seed", values["seed"]),
                                    hidden="seed" in hidden, help_text="starting weights"),
                    setting_control(LESSON, "heldout", "Hold out a tune", dcc.Dropdown(
                        id=setting_id(LESSON, "heldout"), value=values["heldout"], clearable=False,
                        options=[{"label": "none", "value": "none"}]
                        + [{"label": TUNE_TITLES[n], "value": n} for n in TUNE_NAMES]),
                        hidden="heldout" in hidden),
                ],
                className="ls-controls",
            ),
            html.Div(
                [
                    html.Label("Train on these tunes", className="ls-control-label"),
                    dcc.Checklist(id=lesson_id("tune-list", LESSON), value=[n for n in TUNE_NAMES if n in chosen],
                                  options=_tune_options(values["heldout"]), inline=True,
                                  className="ls-checklist rnn-tunes"),
                    html.P(id=lesson_id("tunes-message", LESSON), className="ls-message ls-hidden"),
                    dcc.Input(id=setting_id(LESSON, "tunes"), type="hidden", value=values["tunes"]),
                ],
                className="rnn-tune-choice" + (" ls-hidden" if "tunes" in hidden else ""),
            ),
        ],
        id=lesson_id("settings", LESSON), className="ls-panel ls-hidden",
    )


def _tune_options(held_out) -> list[dict]:
    return [{"label": TUNE_TITLES[n] + (" (held out)" if n == held_out else ""), "value": n,
             "disabled": n == held_out} for n in TUNE_NAMES]


# -- the step callback ----------------------------------------------------------------------


@dash.callback(
    *[Output(player_id("frames", LESSON, name=name), "data") for name in SLOTS],
    *[Output(lesson_id("slot", LESSON, name=name), "className") for name in SLOTS],
    Output(lesson_id("summary", LESSON), "children"),
    Output(lesson_id("summary", LESSON), "className"),
    Output(lesson_id("melody", LESSON), "data"),
    Output(lesson_id("audio", LESSON), "className"),
    Output(lesson_id("generation", LESSON), "className"),
    Output(lesson_id("settings", LESSON), "className"),
    Output(lesson_id("notices", LESSON), "children"),
    Output(lesson_id("notices", LESSON), "className"),
    Output(lesson_id("achieved", LESSON), "data"),
    Input(lesson_id("step", LESSON), "data"),
    *[Input(setting_id(LESSON, name), "value") for name in SCHEMA.names],
)
def show_step(step, *raw):
    """Every figure, panel and message of a step, from the step index and every setting."""
    values, notices = clean(dict(zip(SCHEMA.names, raw)))
    index = step if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(STEPS) else 0
    if index != step:
        notices.append(f"Step “{str(step)[:20]}” does not exist; showing step 1 of {len(STEPS)}.")
    figure = FIGURE_OF_STEP[index]
    try:
        view = build(figure, values, notices)
    except ValueError as error:   # a limit of the model, or a busy server: say so, show the first step
        notices.append(f"Cannot compute this step: {error}.")
        figure, view = "sequence", build("sequence", SCHEMA.defaults(), notices)
    payloads = align([view["payloads"][name] for name in VIEWS[figure]])
    by_slot = dict(zip(VIEWS[figure], payloads))
    for payload in payloads:
        payload["autoplay"] = STEP_PLAY.get(figure, False)
    shown, hidden = "ls-panel", "ls-panel ls-hidden"
    summary = view.get("summary") or []
    return (
        *[by_slot.get(name) for name in SLOTS],
        *[f"rnn-slot rnn-order-{VIEWS[figure].index(name)}" if name in by_slot else "rnn-slot ls-hidden"
          for name in SLOTS],
        summary, "ls-panel rnn-summary" + ("" if summary else " ls-hidden"),
        view.get("melody"),
        "rnn-audio" if figure in WITH_MELODY else "rnn-audio ls-hidden",
        shown if figure in WITH_GENERATION else hidden,
        shown if figure == "free" else hidden,
        [html.P(n) for n in notices], "ls-notices" if notices else "ls-notices is-empty",
        [index] if view.get("achieved") else [],
    )


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


def build(figure: str, values: dict, notices: list) -> dict:
    """{"payloads": {slot: payload}, "summary": children, "melody": store data, "achieved": bool}."""
    if figure == "sequence":
        return _sequence_view(values)
    if figure in ("cell", "unrolled", "probabilities"):
        return _reading_view(figure)
    if figure == "temperature":
        return _temperature_view()
    if figure in ("training", "gradients"):
        return _history_view(figure)
    if figure == "clipping":
        return _clipping_view()
    if figure == "memorize":
        return _memorize_view()
    if figure == "generate":
        return _generation(LESSON_NET, values, start="first")
    return _free_view(values, notices)


def _melody_data(notes: list, tempo: int, title: str) -> dict:
    return {"notes": [[int(p), float(b)] for p, b in notes], "bpm": int(tempo), "title": title}


def _sequence_view(values: dict) -> dict:
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
    return {"payloads": {"roll": figures.tune_roll(notes, title, note_hover(notes), name=TUNE_TITLES[SHOWN_TUNE])},
            "summary": summary, "melody": _melody_data(notes, values["tempo"], TUNE_TITLES[SHOWN_TUNE])}


def _signed_sum(terms: list[float]) -> str:
    text = f"{terms[0]:.2f}".replace("-", "−")
    for v in terms[1:]:
        text += f" {'−' if v < 0 else '+'} {abs(v):.2f}"
    return text


def _reading_view(figure: str) -> dict:
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
    if figure == "cell":
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
        return {"payloads": {"cell": cell, "bars": bars}}
    heat_titles = [f"Hidden state h<sub>t</sub>, {r['hs'].shape[1]} units × {T} steps — step {t}: "
                   f"read {TOKENS[inputs[t]]}" for t in steps]
    hidden = figures.hidden_heatmap(r["hs"], [TOKENS[i] for i in inputs], steps, heat_titles, labels)
    if figure == "probabilities":
        return {"payloads": {"hidden": hidden, "bars": bars}}
    notes = tune_notes(SHOWN_TUNE)
    roll_titles = [f"{TUNE_TITLES[SHOWN_TUNE]} — step {t}: reading "
                   + ("the start marker |" if t == 0 else f"note {t}, {TOKENS[inputs[t]]}") for t in steps]
    roll = figures.reading_roll(notes, roll_titles[0], note_hover(notes), [t - 1 for t in steps], roll_titles, labels)
    return {"payloads": {"roll": roll, "hidden": hidden}}


def _temperature_view() -> dict:
    logits = reading(SHOWN_TUNE)["logits"][0]            # after the start marker: which note opens a tune?
    dists = np.array([rnn.probabilities_with_temperature(logits, t) for t in TEMPERATURES])
    reference = rnn.probabilities_with_temperature(logits, 1.0)
    titles = []
    for t, p in zip(TEMPERATURES, dists):
        top = np.argsort(-p)[:3]
        titles.append(f"Temperature {t:g}: the first note of a tune — "
                      + ", ".join(f"{TOKENS[i]} {p[i]:.0%}" for i in top))
    labels = [f"temperature {t:g}" for t in TEMPERATURES]
    bars = figures.probability_bars(dists, list(TOKENS), [-1] * len(TEMPERATURES), titles, labels,
                                    marked_name="", hover_names=HOVER_NAMES, reference=reference,
                                    reference_name="at temperature 1")
    return {"payloads": {"bars": bars}}


def _history_view(figure: str) -> dict:
    history = lesson_history()
    net = network(*LESSON_NET)
    at, loss = history["at"], history["loss"]
    n_tunes = len(LESSON_NET[0])
    final_loss = float(net["train_tune_loss"][-1])
    loss_at = [float(loss[k]) if k < len(loss) else final_loss for k in at]
    labels = [f"training step {k} · loss {l:.3f} · {r} of {n_tunes} tunes reproduced"
              for k, l, r in zip(at, loss_at, history["reproduced"])]
    tokens = tune_tokens(SHOWN_TUNE)
    if figure == "gradients":
        flows = history["flows"]
        k = np.arange(flows.shape[1])
        far = min(40, flows.shape[1] - 1)
        titles = [f"How much the loss at the end of {TUNE_TITLES[SHOWN_TUNE]} depends on the past<br>"
                  f"<sup>after {s} training steps: {far} steps back, the gradient is {f[far] / f[0]:.2g} × "
                  "the gradient of the last step</sup>" for s, f in zip(at, flows)]
        flow = figures.flow_figure(k, flows, flows[0], titles, labels, current_name="after this many training steps",
                                   reference_name="at initialization (step 0)")
        return {"payloads": {"flow": flow}}
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
    return {"payloads": {"curves": curves, "roll": roll}}


def _clipping_view() -> dict:
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
    return {"payloads": {"curves": curves}}


def _memorize_view() -> dict:
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
    tokens = tune_tokens(HELD_OUT)
    guess = rnn.forward(net["params"], tokens[:-1]).probs.argmax(axis=1)
    targets = tokens[1:]
    g = guess[:len(notes)]
    title = (f"{TUNE_TITLES[HELD_OUT]}, never trained on: {int(np.sum(guess == targets))} of {len(targets)} "
             f"next notes guessed right")
    roll = figures.prediction_roll(
        notes, [[VOCAB.notes[i - 1] if i else None for i in g]], [[bool(a == b) for a, b in zip(g, targets)]],
        note_hover(notes), [[f"guess for note {t + 1} ({TOKENS[targets[t]]}): {TOKENS[i]}" for t, i in enumerate(g)]],
        [title], [labels[-1]])
    return {"payloads": {"curves": curves, "roll": roll}}


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
    bar_titles = []
    for k in range(n):
        after = f"After {TOKENS[tokens[k]]} (note {k + 1})"
        if drawn[k] >= 0:
            what = "the end of the melody" if drawn[k] == melodies.BOUNDARY else f"note {k + 2}"
            bar_titles.append(f"{after}: drew {TOKENS[drawn[k]]} ({what}), p = {dists[k, drawn[k]]:.0%} "
                              f"at temperature {temperature:g}")
        else:
            bar_titles.append(f"{after}: the melody reached its limit of {MELODY_MAX + 1} notes")
    labels = [f"note {k + 1} of {n}: {TOKENS[tokens[k]]}" for k in range(n)]
    roll_titles = [f"A new melody — {k + 1} of {n} notes, temperature {temperature:g}" for k in range(n)]
    names = [TUNE_TITLES[t] for t in tunes]
    hover = [f"note {i + 1}: {melodies.pitch_name(p)} for {figures.beats_text(b)}<br>"
             + (f"in a run of notes copied from {names[s]}" if s >= 0 else f"in no run of {COPY_RUN} notes of a tune")
             for i, ((p, b), s) in enumerate(zip(notes, sources))]
    # colours follow the lesson's tune order, so a tune keeps its colour whichever tunes are trained on
    everywhere = [TUNE_NAMES.index(tunes[s]) if s >= 0 else -1 for s in sources]
    roll = figures.generated_roll(notes, everywhere, [TUNE_TITLES[t] for t in TUNE_NAMES], hover, roll_titles,
                                  labels, start=start)
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
    ]
    return {"payloads": {"roll": roll, "bars": bars}, "summary": summary,
            "melody": _melody_data(notes, values["tempo"], "melody"), "achieved": bool(whole)}


def _free_view(values: dict, notices: list) -> dict:
    try:
        net_args = free_net(values)
        net = network(*net_args)
    except ValueError as error:
        notices.append(f"Cannot train this network: {error}. Showing the lesson's network.")
        net_args = LESSON_NET
        net = network(*net_args)
    if net["diverged_at"] is not None:
        notices.append(f"Training stopped at step {net['diverged_at']}: the loss or the weights stopped being "
                       "finite numbers. Try a smaller learning rate or clipping.")
    view = _generation(net_args, values, start="last")
    tunes, held = net_args[0], net_args[1]
    x = np.arange(len(net["loss"]))
    loss_series = [{"name": "training loss", "x": x, "y": net["loss"], "color": ORANGE}]
    if held:
        loss_series.append({"name": f"{TUNE_TITLES[held]} (held out)", "x": net["eval_steps"],
                            "y": net["held_out_loss"], "color": VERMILION})
    clip = net_args[8]
    norm_lines = [{"y": clip, "text": f"clip threshold {clip:g}", "color": BLUE}] if clip else []
    view["payloads"]["curves"] = figures.curves_figure([
        {"title": "Loss (nats per note)", "ytitle": "loss (log scale)", "log": True, "series": loss_series,
         "hlines": [{"y": UNIFORM_LOSS, "text": f"uniform guess {UNIFORM_LOSS:.2f}"}]},
        {"title": "Gradient norm before clipping", "ytitle": "‖g‖ (log scale)", "log": True,
         "series": [{"name": "‖g‖", "x": x, "y": net["grad_norm"], "color": MUTED, "width": 2}],
         "hlines": norm_lines},
    ], [], title="")
    k = np.arange(len(net["flow_init"]))
    view["payloads"]["flow"] = figures.flow_figure(
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
    view["summary"] = [html.H3("Your network")] + facts + view["summary"]
    view["achieved"] = (net_args[2] <= SMALL_NET and set(tunes) == set(TUNE_NAMES)
                        and bool(np.all(net["reproduced"])))
    return view


# -- smaller callbacks --------------------------------------------------------------------


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

__all__ = ["PAGE", "SCHEMA", "STEPS", "layout", "show_step", "network", "melody", "copied_from"]
