"""Benchmark: training the melody RNN until it reproduces the tunes (goal: <= 2 s).

Prints JSON lines:
- ``learnscape``: ``rnn.train_melodies()`` with its defaults on all tunes (wall
  time, median of 3, and tunes reproduced), then the training time and steps
  until every tune is reproduced (each note after the boundary and the first
  3 notes is the most likely next token), with truncated and with exact BPTT.
- ``min-char-rnn-style``: the peer, the classic numpy RNN loop (one sequence
  at a time, vector operations per time step, as in Karpathy's min-char-rnn),
  on the same tunes with the same initial parameters, loss, clipping and Adam,
  timed to the same criterion. Its first loss and gradient must equal ours.

Run: ``python bench/bench_rnn.py``. The OpenBLAS thread setting is printed
because multi-threaded BLAS on a busy machine slows these small products.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.ml import melodies, optim, rnn  # noqa: E402

GOAL_S = 2.0
HIDDEN, UNROLL, LR, CLIP, SEED = 64, 32, 0.01, 5.0, 0
CHECK_EVERY = 5
MAX_STEPS = 400
PRIME = 3


def emit(**fields):
    print(json.dumps({"bench": "rnn", **fields}), flush=True)


def reproduced(params) -> int:
    return sum(rnn.tune_accuracy(params, name, prime=PRIME) == 1.0 for name in melodies.TUNE_NAMES)


def train_until_reproduced(step_fn, params, state):
    """Run step_fn until all tunes are reproduced; time only the training steps."""
    spent, steps = 0.0, 0
    while steps < MAX_STEPS:
        start = time.perf_counter()
        for _ in range(CHECK_EVERY):
            params, state = step_fn(params, state)
        spent += time.perf_counter() - start
        steps += CHECK_EVERY
        if reproduced(params) == len(melodies.TUNE_NAMES):
            return spent, steps
    return spent, None


# ----------------------------------------------------------------- learnscape


def bench_learnscape():
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        result = rnn.train_melodies()
        runs.append(time.perf_counter() - start)
    seconds = float(np.median(runs))
    emit(impl="learnscape", what="train_melodies() defaults, all tunes", steps=len(result.loss),
         hidden=result.model.hidden_size, unroll=result.model.unroll,
         seconds_median_of_3=round(seconds, 3), seconds_per_step=round(seconds / len(result.loss), 5),
         final_loss=round(float(result.loss[-1]), 4),
         tunes_reproduced=f"{reproduced(result.params)}/{len(melodies.TUNE_NAMES)}")

    X, y = rnn.tune_batch(melodies.TUNE_NAMES)
    for unroll in (UNROLL, None):
        model = rnn.RNN(melodies.VOCABULARY.size, HIDDEN, CLIP, unroll)
        opt = optim.adam(lr=LR)

        def step(params, state):
            _, grads = model.loss_and_grad(params, X, y)
            updates, state = opt.update(grads, state, params)
            return optim.apply_updates(params, updates), state

        params = model.init(SEED)
        spent, steps = train_until_reproduced(step, params, opt.init(params))
        emit(impl="learnscape", what="until all tunes reproduced", unroll=unroll, steps=steps,
             seconds=round(spent, 3), seconds_per_step=round(spent / (steps or MAX_STEPS), 5),
             goal_s=GOAL_S, within_goal=steps is not None and spent <= GOAL_S,
             first_loss=model.loss_and_grad(params, X, y)[0])


# ----------------------------------------------------------------- peer: min-char-rnn style


def peer_loss_and_grad(params, sequences):
    """Karpathy's min-char-rnn loop, per sequence and per time step, full BPTT, mean loss."""
    Wxh, Whh, bh, Why, by = (params[k] for k in rnn.PARAM_NAMES)
    V, H = Why.shape
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    loss, count = 0.0, 0
    for seq in sequences:
        xs, hs, ps = {}, {-1: np.zeros(H)}, {}
        for t in range(len(seq) - 1):
            xs[t] = np.zeros(V)
            xs[t][seq[t]] = 1
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
            z = Why @ hs[t] + by
            ps[t] = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
            loss += -np.log(ps[t][seq[t + 1]])
        count += len(seq) - 1
        dhnext = np.zeros(H)
        for t in reversed(range(len(seq) - 1)):
            dy = ps[t].copy()
            dy[seq[t + 1]] -= 1
            grads["W_hy"] += np.outer(dy, hs[t])
            grads["b_y"] += dy
            dh = Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            grads["b_h"] += dhraw
            grads["W_xh"] += np.outer(dhraw, xs[t])
            grads["W_hh"] += np.outer(dhraw, hs[t - 1])
            dhnext = Whh.T @ dhraw
    grads = {k: g / count for k, g in grads.items()}
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    if norm > CLIP:
        grads = {k: g * (CLIP / norm) for k, g in grads.items()}
    return loss / count, grads


def bench_peer():
    sequences = [melodies.encode_tunes([name]) for name in melodies.TUNE_NAMES]
    opt = optim.adam(lr=LR)

    def step(params, state):
        _, grads = peer_loss_and_grad(params, sequences)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    # exact BPTT for both, so the first losses and gradients must agree
    params = rnn.RNN(melodies.VOCABULARY.size, HIDDEN).init(SEED)
    peer_loss, peer_grads = peer_loss_and_grad(params, sequences)
    ours = rnn.bptt(params, *rnn.tune_batch(melodies.TUNE_NAMES), clip=CLIP)
    agree = max(float(np.abs(peer_grads[k] - ours.grads[k]).max()) for k in rnn.PARAM_NAMES)
    spent, steps = train_until_reproduced(step, params, opt.init(params))
    emit(impl="min-char-rnn-style", what="until all tunes reproduced", unroll=None, steps=steps,
         seconds=round(spent, 3),
         seconds_per_step=round(spent / max(steps or MAX_STEPS, 1), 5), first_loss=peer_loss,
         loss_difference=abs(peer_loss - ours.loss), max_grad_difference=agree)


if __name__ == "__main__":
    emit(what="settings", hidden=HIDDEN, unroll=UNROLL, lr=LR, clip=CLIP, optimizer="adam",
         tunes=len(melodies.TUNE_NAMES), notes=int(sum(len(melodies.get_tune(n).notes) for n in melodies.TUNE_NAMES)),
         openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS", "default"), cpus=os.cpu_count())
    bench_learnscape()
    bench_peer()
