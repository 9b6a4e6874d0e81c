"""The RNN lesson's runs as a script: a vanilla RNN trained on the tunes by (truncated)
backpropagation through time, and a melody it writes (app.ml.rnn, app.lessons.rnn)."""

from __future__ import annotations

from app.lessons import own_melody
from app.lessons import rnn as lesson
from app.lessons.script_parts import (DIVERGENCE, REPORT, Code, header, imports, literal, optimizer_call,
                                      optimizer_code, render, script, wrapped)
from app.ml import melodies

#: Narrated steps whose figures show the lesson's own network (trained with LESSON_NET).
LESSON_NET_STEPS = {
    "cell": "the lesson's network reading a tune, one note at a time",
    "unrolled": "the lesson's network unrolled over a tune",
    "probabilities": "the lesson's network guessing the next note",
    "temperature": "the lesson's network's guesses at several temperatures",
    "training": "training the lesson's network",
    "gradients": "how far back the lesson's network's gradients reach",
}

_DATA = '''
# The tunes as tokens: 0 is the start/end marker |, every other token a note event
# (pitch and length in beats), named in TOKENS. Every tune is | notes |.
TOKENS = $tokens
TUNES = {
$tunes
}
'''

_MODEL = '''
def init_params(H, V, seed):
    """Gaussian weights, zero biases: W_xh ~ N(0, 1/4), W_hh and W_hy ~ N(0, 1/H)."""
    rng = np.random.default_rng(seed)
    return {"W_xh": rng.standard_normal((H, V)) * 0.5, "W_hh": rng.standard_normal((H, H)) / math.sqrt(H),
            "b_h": np.zeros(H), "W_hy": rng.standard_normal((V, H)) / math.sqrt(H), "b_y": np.zeros(V)}


def batch(names):
    """One row per tune: inputs X = tune[:-1], targets y = tune[1:], padded to the longest
    row (X with 0, y with -1, a target that counts for nothing). X, y: (B, T)."""
    rows = [TUNES[name] for name in names]
    T = max(len(row) for row in rows) - 1
    X, y = np.zeros((len(rows), T), dtype=np.int64), np.full((len(rows), T), -1, dtype=np.int64)
    for b, row in enumerate(rows):
        X[b, :len(row) - 1], y[b, :len(row) - 1] = row[:-1], row[1:]
    return X, y


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def run(theta, X_tm):
    """The recurrence from h = 0 over time-major inputs X_tm (T, B):
    a_t = W_xh x_t + b_h + W_hh h_{t-1}, h_t = tanh(a_t), z_t = W_hy h_t + b_y.
    (x_t is one-hot, so W_xh x_t is column X_tm[t] of W_xh.) Returns hs (T, B, H), logits (T, B, V)."""
    pre = theta["W_xh"].T[X_tm] + theta["b_h"]
    hs = np.empty_like(pre)
    logits = np.empty(X_tm.shape + theta["b_y"].shape)
    for t in range(pre.shape[0]):
        if t > 0:
            pre[t] += hs[t - 1] @ theta["W_hh"].T
        hs[t] = np.tanh(pre[t])
        logits[t] = hs[t] @ theta["W_hy"].T
    return hs, logits + theta["b_y"]


def cross_entropy(probs, y_tm):
    """Mean -log p of the real targets (y = -1 counts for nothing), and their mask."""
    mask = y_tm != -1
    picked = np.take_along_axis(probs, np.where(mask, y_tm, 0)[..., None], axis=-1)[..., 0]
    return float(-np.sum(np.log(picked[mask])) / np.count_nonzero(mask)), mask


def loss_and_grad(theta, X, y):
    """Loss and gradient of a batch by backpropagation through time (BPTT):
    dz_t = (p_t - onehot(y_t)) / N, dh_t = W_hy^T dz_t + W_hh^T da_{t+1}, da_t = dh_t (1 - h_t^2).
    The gradient is cut every UNROLL steps (truncated BPTT: the future's term is left out at a
    cut), then scaled down to a global norm of CLIP when it is longer (clipping)."""
    X_tm, y_tm = X.T, y.T
    T = X_tm.shape[0]
    hs, logits = run(theta, X_tm)
    probs = softmax(logits)
    loss, mask = cross_entropy(probs, y_tm)
    dz = probs
    t_idx, b_idx = np.nonzero(mask)
    dz[t_idx, b_idx, y_tm[mask]] -= 1.0
    dz *= mask[..., None] / np.count_nonzero(mask)
    grads = {k: np.zeros_like(v) for k, v in theta.items()}
    dtanh = 1.0 - hs * hs
    dh, da = np.empty_like(hs), np.empty_like(hs)
    for t in range(T - 1, -1, -1):
        dh[t] = dz[t] @ theta["W_hy"]
        if t + 1 < T and (UNROLL is None or (t + 1) % UNROLL != 0):
            dh[t] += da[t + 1] @ theta["W_hh"]
        da[t] = dh[t] * dtanh[t]
        grads["W_hy"] += dz[t].T @ hs[t]
        if t > 0:
            grads["W_hh"] += da[t].T @ hs[t - 1]
    np.add.at(grads["W_xh"].T, X_tm, da)   # add da_t to the column of the token read at t
    grads["b_h"] = da.sum(axis=(0, 1))
    grads["b_y"] = dz.sum(axis=(0, 1))
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    if CLIP is not None and norm > CLIP:
        grads = {k: g * (CLIP / norm) for k, g in grads.items()}
    return loss, grads


def batch_loss(theta, X, y):
    """Mean cross-entropy of the batch's next notes, each row read from h = 0."""
    _, logits = run(theta, X.T)
    return cross_entropy(softmax(logits), y.T)[0]


def reproduces(theta, name, prime=3):
    """Whether the network, fed the first notes of a tune, guesses every later note (and the end)."""
    X, y = batch([name])
    guesses = softmax(run(theta, X.T)[1][:, 0]).argmax(axis=1)
    return bool(np.all(guesses[prime:] == y[0, prime:]))
'''

_TRAIN = DIVERGENCE + '''

def train(tunes, held_out, H, optimizer, steps, seed):
    """Full-batch training on whole tunes; stops if the loss or a weight stops being finite."""
    X, y = batch(tunes)
    theta = init_params(H, len(TOKENS), seed)
    init, update = optimizer
    state = init(theta)
    losses = []
    with np.errstate(all="ignore"):  # a rate too large overflows: checked at every step
        for step in range(steps):
            loss, grads = loss_and_grad(theta, X, y)
            updates, state = update(grads, state, theta)
            new = {k: theta[k] + updates[k] for k in theta}
            why = divergence(loss, new)
            if why:
                print(f"diverged at step {step + 1}: {why}")
                break
            theta = new
            losses.append(loss)
    return theta, losses


def report_net(name, theta, losses, tunes, held_out):
    report(name + ".steps_done", len(losses))
    report(name + ".last_step_loss", losses[-1] if losses else float("nan"))
    report(name + ".tunes_loss", batch_loss(theta, *batch(tunes)))
    report(name + ".reproduced", [reproduces(theta, t) for t in tunes if t != "your melody"])
    if "your melody" in tunes:
        report(name + ".melody_learned", reproduces(theta, "your melody", min(3, len(TUNES["your melody"]) - 2)))
    if held_out:
        report(name + ".held_out_loss", batch_loss(theta, *batch([held_out])))
'''

_RUNS = '''
HIDDEN = $hidden  # hidden units H
UNROLL = $unroll  # the gradient flows back at most this many steps (None: the whole tune)
STEPS = $steps  # training steps, each on all tunes at once
SEED = $seed  # the starting weights
'''

_MELODY = '''
def sample(theta, prime, length, temperature, seed):
    """Notes drawn one at a time from softmax(z / temperature), after reading `prime` from h = 0;
    stops when the network draws the end marker (token 0)."""
    rng = np.random.default_rng(seed)
    h = np.zeros(theta["W_hh"].shape[0])
    for token in prime:
        h = np.tanh(theta["W_xh"][:, token] + theta["W_hh"] @ h + theta["b_h"])
    drawn = []
    for _ in range(length):
        z = theta["W_hy"] @ h + theta["b_y"]
        cdf = np.cumsum(softmax((z - z.max()) / temperature))
        token = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(cdf) - 1)
        if token == 0:
            break
        drawn.append(token)
        h = np.tanh(theta["W_xh"][:, token] + theta["W_hh"] @ h + theta["b_h"])
    return drawn


$begin
print("melody:", " ".join(TOKENS[t] for t in notes))
report("melody", notes)
'''

_FROM_NOTE = '''
# A melody from the note $start: at most $limit notes after it, temperature $temperature, dice $draw.
first = TOKENS.index($start)
notes = [first] + sample(theta, [0, first], $limit, temperature=$temperature, seed=$draw)'''

_AFTER_YOURS = '''
# Your melody, and at most $limit notes the network writes after it (temperature $temperature, dice $draw).
given = TUNES["your melody"][1:]
notes = given + sample(theta, [0] + given, $limit, temperature=$temperature, seed=$draw)'''


def _data(melody: str = "") -> str:
    """The tokens and the tunes (and the visitor's melody: its start marker and notes, no end)."""
    tunes = {name: lesson.tune_tokens(name).tolist() for name in lesson.TUNE_NAMES}
    if melody:
        tunes["your melody"] = own_melody.melody_tokens(melody).tolist()
    rows = "\n".join(f"    {name!r}: {wrapped(tokens, indent=8)}," for name, tokens in tunes.items())
    return render(_DATA, tokens=Code(wrapped(lesson.TOKENS)), tunes=Code(rows))


def _nets_code(nets: list[tuple[str, tuple]]) -> str:
    """Code that trains and reports each (name, network() arguments); they share H, unroll, steps, seed."""
    blocks = []
    for name, (tunes, held, hidden, unroll, optimizer, lr, steps, seed, clip, *melody) in nets:
        tunes = tuple(tunes) + (("your melody",) if melody and melody[0] else ())
        blocks.append(f"CLIP = {literal(float(clip)) if clip else 'None'}  # the largest gradient norm "
                      f"(None: no clipping)\n"
                      f"optimizer = {optimizer_call(optimizer, {'lr': float(lr)})}\n"
                      f"tunes, held_out = {literal(tunes)}, {held!r}\n"
                      f"theta, losses = train(tunes, held_out, HIDDEN, optimizer, STEPS, SEED)\n"
                      f"report_net({name!r}, theta, losses, tunes, held_out)")
    return "\n\n".join(blocks)


def nets_script(first: str, nets: list[tuple[str, tuple]], melody: tuple | None = None) -> str:
    """A script that trains `nets` (name, network() arguments) and, if `melody` = (temperature,
    start, draw) is given, lets the last one write a melody."""
    for _, args in nets:   # the lesson's own check of the tunes, with its message
        melodies.check_tune_names(args[0])
    _, (_, _, hidden, unroll, optimizer, _, steps, seed, _, *own) = nets[0]
    own = own[0] if own else ""
    unroll_code = "None" if unroll is None else repr(int(unroll))
    yours = ["Your melody is one more row of the batch: its notes weigh as much as a tune's."] if own else []
    parts = [header(first, "A vanilla RNN reads the tunes note by note and learns to predict the next one,",
                    "trained on all of them at once by backpropagation through time.", *yours),
             imports("math"), REPORT, _data(own),
             render(_RUNS, hidden=int(hidden), unroll=Code(unroll_code), steps=int(steps), seed=int(seed)),
             _MODEL, optimizer_code(*{args[4] for _, args in nets}), _TRAIN, _nets_code(nets)]
    if melody is not None:
        temperature, start, draw = melody
        begin = render(_AFTER_YOURS if own else _FROM_NOTE, start=start, limit=lesson.MELODY_MAX,
                       temperature=float(temperature), draw=int(draw))
        parts.append(render(_MELODY, begin=Code(begin.strip("\n"))))
    return script(*parts)


def script_text(values: dict, figure: str) -> str:
    """The script of the network(s) the step showing `figure` trains (free play: the settings')."""
    net = lesson.LESSON_NET
    tunes, held, hidden, unroll, _, _, steps, seed, _ = net
    melody = (float(values["temperature"]), values["start"], int(values["draw"]))
    if figure in LESSON_NET_STEPS:
        return nets_script(f"The RNN lesson: {LESSON_NET_STEPS[figure]}.", [("net", net)])
    if figure == "clipping":
        optimizer, lr, clips = lesson.CLIP_DEMO
        nets = [(f"clip_{c:g}" if c else "no_clip", (tunes, held, hidden, unroll, optimizer, lr, steps, seed, c))
                for c in clips]
        return nets_script("The RNN lesson: plain gradient descent with a large rate, without and with clipping.",
                           nets)
    if figure == "memorize":
        kept = tuple(n for n in lesson.TUNE_NAMES if n != lesson.HELD_OUT)
        return nets_script(f"The RNN lesson: trained on six tunes, scored on {lesson.HELD_OUT!r}, never trained on.",
                           [("net", (kept, lesson.HELD_OUT, *net[2:]))])
    if figure == "generate":
        return nets_script("The RNN lesson: the lesson's network writes a melody.", [("net", net)], melody)
    first = ("The RNN lesson: free play with these settings." if figure == "free" else
             "The RNN lesson: this step draws a tune; this script reproduces free play with these settings.")
    return nets_script(first, [("net", lesson.free_play_net(values))], melody)
