"""The RNN lesson's experiments: networks trained on the tunes, what they read,
how their training went, and the melodies they write.

Pure functions over app.ml.rnn and app.ml.melodies: settings in, arrays out.
A tune is named as in `melodies.TUNE_NAMES`; a network as the arguments of
`network` (see LESSON_NET); a note token by its label, e.g. 'C4:1'.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Mapping, Sequence

import numpy as np

from app.lessons import own_melody
from app.ml import melodies, optim, rnn, train

VOCAB = melodies.VOCABULARY
TOKENS = VOCAB.labels                       # '|', 'G3:1', ...: the label of each token id
TUNE_NAMES = melodies.TUNE_NAMES

# -- the lesson's runs (the narration states their numbers) ----------------------------------
#: network() arguments: (tunes, held-out tune, hidden, unroll, optimizer, lr, steps, seed, clip); clip 0 = off.
LESSON_NET = (TUNE_NAMES, "", 64, 32, "adam", 0.01, 150, 0, 5.0)
SHOWN_TUNE = "twinkle"                      # the tune read step by step
HELD_OUT = "mary"                           # the tune left out in the memorization step
CLIP_DEMO = ("sgd", 3.0, (0.0, 1.0))        # plain gradient descent, η = 3, clipping off / at 1
HISTORY_EVERY = 5                           # training steps between frames of a replayed run
EVAL_EVERY = 5                              # training steps between scores of the tunes
COPY_RUN = 4                                # notes in a row that count as "copied from a tune"

# -- limits of free play: a run at the largest settings trains in a few seconds -------------
HIDDEN_MAX = 128
STEPS_MAX = 400
WORK_MAX = 128 * 200                        # hidden units × training steps of one run (~2 s of CPU)
MELODY_MAX = 64                             # notes written after the starting note
COPY_TOKENS_MAX = 1024                      # tokens copied_from compares (it takes time ∝ n × tune notes)


def _whole(name: str, value, low: int, high: int) -> int:
    """`value` as an int in [low, high]; ValueError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low:,} to {high:,}, got {value!r}")
    return int(value)


def _token_ids(name: str, values) -> list[int]:
    """A 1-d sequence of whole numbers (possibly empty) as ints; ValueError for NaN, inf or fractions."""
    a = np.asarray(values)
    if a.ndim != 1 or not (a.size == 0 or np.issubdtype(a.dtype, np.number)) or np.iscomplexobj(a):
        raise ValueError(f"{name} must be a list of token ids, got {str(values)[:40]}")
    if a.size > COPY_TOKENS_MAX:
        raise ValueError(f"{name} has {a.size:,} tokens, more than the limit of {COPY_TOKENS_MAX:,}")
    if a.size and not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
        raise ValueError(f"{name} must hold whole token ids (no NaN, inf or fractions)")
    return [int(t) for t in a]


def tune_tokens(name: str) -> np.ndarray:
    """| notes |: (n + 2,) int token ids of one tune; ValueError for an unknown name."""
    return melodies.encode_tunes([name])


def token_of(label: str) -> int:
    """The token id of a note label such as 'C4:1' (not the marker |)."""
    if label not in TOKENS[1:]:
        raise ValueError(f"unknown note {str(label)[:20]!r}; notes are written like {TOKENS[1]!r}")
    return TOKENS.index(label)


def copied_from(tokens, tunes: Sequence, min_run: int = COPY_RUN) -> list[int]:
    """For each token of a melody, the index in `tunes` of the tune that holds the
    longest run of consecutive melody tokens through it (at least `min_run` long), or -1.

    tokens: (n,) note ids; tunes: lists of note ids (no boundary markers); n and
    every tune at most COPY_TOKENS_MAX long.
    """
    tokens = _token_ids("tokens", tokens)
    tunes = [_token_ids(f"tune {s}", seq) for s, seq in enumerate(tunes)]
    min_run = _whole("min_run", min_run, 1, COPY_TOKENS_MAX)
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


def bptt_chunks(predictions: int, unroll: int | None) -> list[int]:
    """How truncated BPTT cuts a tune's `predictions` steps: the chunk lengths, in order.

    The hidden state flows on from chunk to chunk; the gradient stops at each cut.
    unroll None (or at least `predictions`) leaves one chunk, the exact gradient.
    """
    predictions = _whole("predictions", predictions, 1, rnn.SEQUENCE_MAX)
    size = predictions if unroll is None else _whole("unroll", unroll, rnn.UNROLL_MIN, rnn.UNROLL_MAX)
    return [min(size, predictions - start) for start in range(0, predictions, size)]


def bptt_reach(t: int, unroll: int | None) -> int:
    """How many steps back the gradient of the prediction at step t reaches in training:
    back to the start of its chunk (t mod unroll), or to step 0 without a cut."""
    t = _whole("t", t, 0, rnn.SEQUENCE_MAX - 1)
    return t if unroll is None else t % _whole("unroll", unroll, rnn.UNROLL_MIN, rnn.UNROLL_MAX)


def guesses(params: dict, tune: str) -> np.ndarray:
    """(n + 1,) the network's most likely next token after each token of | tune
    (entry t guesses token t + 1 of tune_tokens(tune)), reading from h = 0."""
    return rnn.forward(params, tune_tokens(tune)[:-1]).probs.argmax(axis=1)


def network(tunes: tuple, held_out: str, hidden: int, unroll: int, optimizer: str, lr: float, steps: int,
            seed: int, clip: float, melody: str = "") -> dict:
    """One network trained on `tunes` (whole tunes, full batch), and what the lesson shows of it.

    held_out: "" or a tune scored but never trained on; clip: 0 for no clipping.
    Returns params (dict of arrays), loss (T,) nats per note, grad_norm (T,) before clipping,
    eval_steps (E,), train_tune_loss (E,), held_out_loss (E,) (NaN without a held-out tune),
    diverged_at (None or the step, counted from 1, that diverged), message ("" or why training
    stopped, e.g. "diverged at step 2: the parameters became non-finite"), reproduced
    (len(tunes),) bools, held_out_right: share of
    the held-out tune's next notes guessed right (NaN without), flow_init / flow_trained:
    (t + 1,) ||dL_t/dh_{t-k}|| at the last prediction of the first tune, before and after training.
    melody: "" or the visitor's melody (`own_melody`), trained on as one more tune;
    then melody_learned says whether the network writes it out after its first notes.
    Raises ValueError for settings outside the model's limits.
    """
    tunes = melodies.check_tune_names(tunes)
    with np.errstate(over="ignore", invalid="ignore"):
        fit = functools.partial(own_melody.train_with_melody, tunes, melody) if melody else \
            functools.partial(rnn.train_melodies, tunes)
        run = fit(hidden, unroll, lr, optimizer, steps, seed, clip or None,
                    held_out=(held_out,) if held_out else (), eval_every=EVAL_EVERY)
        first = tune_tokens(tunes[0])
        last = len(first) - 2
        held_right = rnn.next_token_accuracy(run.params, tune_tokens(held_out)) if held_out else math.nan
        return {
            "params": run.params, "loss": run.loss, "grad_norm": run.grad_norm, "eval_steps": run.eval_steps,
            "train_tune_loss": run.train_tune_loss, "held_out_loss": run.held_out_loss,
            "diverged_at": run.diverged_at, "message": run.message,
            "reproduced": np.array([rnn.tune_accuracy(run.params, name) == 1.0 for name in tunes]),
            "held_out_right": held_right,
            "flow_init": rnn.gradient_flow(run.model.init(seed), first, last),
            "flow_trained": rnn.gradient_flow(run.params, first, last),
            "melody_learned": own_melody.melody_learned(run.params, melody) if melody else None,
        }


def training_history(tunes: tuple, hidden: int, unroll: int, optimizer: str, lr: float, steps: int, seed: int,
                     clip: float, shown: str, every: int) -> dict:
    """A training run replayed with every step's parameters, summarised every `every` steps.

    Arguments as `network` (no held-out tune); shown: the tune whose guesses and gradient flow are kept.
    Returns loss (T,) nats per note before each step, at (F,) training steps, guesses (F, n + 1) the
    most likely next token at each step of `shown`, reproduced (F,) tunes reproduced note for note,
    flows (F, n + 1) ||dL/dh_{t-k}|| for the last prediction of `shown`.
    """
    tunes = melodies.check_tune_names(tunes)
    every = _whole("every", every, 1, rnn.STEPS_MAX)
    tokens = tune_tokens(shown)
    model = rnn.RNN(VOCAB.size, hidden, clip or None, unroll)
    hist = train.run(model, optim.make(optimizer, lr=lr), rnn.tune_batch(tunes), steps, seed)
    at = np.arange(0, hist.steps_done + 1, every)
    guessed, reproduced, flows = [], [], []
    for k in at:
        params = {name: hist.params[name][k] for name in rnn.PARAM_NAMES}
        guessed.append(guesses(params, shown))
        reproduced.append(sum(rnn.tune_accuracy(params, name) == 1.0 for name in tunes))
        flows.append(rnn.gradient_flow(params, tokens, len(tokens) - 2))
    return {"loss": hist.loss, "at": at, "guesses": np.array(guessed), "reproduced": np.array(reproduced),
            "flows": np.array(flows)}


def reading(params: dict, tune: str) -> dict:
    """The network `params` reading `tune` from h = 0, with the three terms of a_t.

    Returns inputs (T,), targets (T,) token ids; h_prev, x_part = W_xh x_t,
    m_part = W_hh h_{t-1}, pre = a_t, hs = h_t: (T, H); b_h (H,); probs, logits (T, V).
    """
    tokens = tune_tokens(tune)
    inputs, targets = tokens[:-1], tokens[1:]
    cache = rnn.forward(params, inputs)
    h_prev = np.vstack([np.zeros((1, cache.hs.shape[1])), cache.hs[:-1]])
    return {"inputs": inputs, "targets": targets, "h_prev": h_prev, "x_part": params["W_xh"][:, inputs].T,
            "m_part": h_prev @ params["W_hh"].T, "b_h": params["b_h"], "pre": cache.pre, "hs": cache.hs,
            "probs": cache.probs, "logits": cache.logits}


def tempered(logits, temperatures: Sequence[float]) -> np.ndarray:
    """(K, V): softmax(logits / T) for each of the K temperatures; logits (V,)."""
    temperatures = tuple(temperatures)
    if not temperatures:
        raise ValueError("name at least one temperature")
    return np.array([rnn.probabilities_with_temperature(logits, t) for t in temperatures])


def melody(params: dict, tunes: Sequence[str], temperature: float, start: str, draw: int,
           limit: int = MELODY_MAX) -> dict:
    """A melody the network `params` writes from the note `start` (a token label),
    drawing at most `limit` notes after it at `temperature` with the dice `draw`.

    tunes: the tunes the network learned, to say which one each note was copied from.
    Returns tokens (n,) the notes (start first), dists (n, V): row k the tempered
    distribution the note after tokens[k] was drawn from, stopped: whether the network
    ended the melody (drew the end marker) before `limit` notes, sources (n,) index
    into `tunes` of the tune each note was copied from (-1: none).
    """
    first = token_of(start)
    notes_of = [list(tune_tokens(name)[1:-1]) for name in melodies.check_tune_names(tunes)]
    drawn = rnn.sample(params, [melodies.BOUNDARY, first], limit, temperature, draw, stop_token=melodies.BOUNDARY)
    tokens = np.concatenate([[first], drawn]).astype(int)
    logits = rnn.forward(params, np.concatenate([[melodies.BOUNDARY], tokens])).logits[1:]
    return {"tokens": tokens, "dists": rnn.probabilities_with_temperature(logits, temperature),
            "stopped": len(drawn) < limit, "sources": np.array(copied_from(tokens, notes_of), dtype=int)}


def free_play_net(values: Mapping) -> tuple:
    """network() arguments of free play from its settings (hidden, unroll, optimizer, lr,
    steps, clip, seed, tunes: names joined by dots, heldout: a name or "none", and melody:
    "" or the visitor's melody text, passed on as network()'s tenth argument).

    ValueError if no tune is left to train on, or hidden units × steps exceed WORK_MAX.
    """
    held = "" if values["heldout"] == "none" else melodies.get_tune(values["heldout"]).name
    named = melodies.check_tune_names(tuple(dict.fromkeys(str(values["tunes"]).split("."))))
    tunes = tuple(n for n in named if n != held)
    if not tunes:
        raise ValueError(f"{melodies.get_tune(held).title} is held out, so no tune is left to train on; "
                         "tick another tune or hold out none")
    hidden = _whole("hidden units", values["hidden"], 1, HIDDEN_MAX)
    steps = _whole("training steps", values["steps"], 1, STEPS_MAX)
    if hidden * steps > WORK_MAX:
        raise ValueError(f"{hidden} hidden units × {steps} training steps = {hidden * steps:,}, more than "
                         f"the limit of {WORK_MAX:,} (for example 128 units × 200 steps, or 64 × 400) that keeps "
                         "a run to a few seconds")
    own = (values["melody"],) if values.get("melody") else ()     # the visitor's melody, if any
    return (tunes, held, hidden, int(values["unroll"]), values["optimizer"], float(values["lr"]), steps,
            int(values["seed"]), float(values["clip"]), *own)
