"""The perceptron lesson's run as a script: one sigmoid neuron trained on Ben's songs."""

from __future__ import annotations

from app.lessons import perceptron as lesson
from app.lessons.script_parts import (DIVERGENCE, REPORT, Code, imports, header, optimizer_call, optimizer_code,
                                      render, script)

#: What each step's figure shows, for the script's first line.
SHOWS = {
    "predictions": "the perceptron's first guesses, and the run that improves them",
    "update": "the first update, and the run it starts",
    "train": "training on the seed's four songs",
    "why": "training on four songs that no plane can split",
    "learnable": "training on better songs, which a plane can split",
    "predict": "the trained perceptron rating new songs",
    "free": "free play: training on the songs of the table",
}
#: Which songs each step trains on (as the page chooses them); free play: the table's.
STEP_SONGS = {"learnable": lesson.LEARNABLE, "predict": lesson.LEARNABLE}

_DATA = '''
# The songs: modern, sad, piano (1 = yes, 0 = no) and whether Ben likes it.
songs = np.array([
$rows
], dtype=float)
X, y = songs[:, :3], songs[:, 3]                 # X: (n, 3) features, y: (n,) likes

epochs = $epochs  # full-batch steps, one per epoch
seed = $seed  # the starting weights
'''

_MODEL = '''
def sigmoid(z):
    """1 / (1 + e^-z), written so that no exponential overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def loss_and_grad(theta):
    """Mean cross-entropy of the songs, and its gradient {"w": (3,), "b": ()}.

    z = X w + b, p = sigmoid(z); dL/dw = X^T (p - y) / n, dL/db = mean(p - y).
    """
    z = X @ theta["w"] + theta["b"]
    loss = np.mean(np.logaddexp(0.0, z) - y * z)  # = -mean[y log p + (1 - y) log(1 - p)]
    residual = sigmoid(z) - y
    return float(loss), {"w": X.T @ residual / len(y), "b": np.array(residual.mean())}
'''

_TRAIN = DIVERGENCE + '''

# The optimizer, its learning rate and the rest of its settings:
init, update = $optimizer
rng = np.random.default_rng(seed)
theta = {"w": rng.normal(0.0, 1.0, 3), "b": np.array(0.0)}   # w ~ N(0, 1), b = 0
state = init(theta)
done = 0
with np.errstate(all="ignore"):                  # a rate too large overflows: checked below
    for epoch in range(epochs):
        loss, grads = loss_and_grad(theta)
        updates, state = update(grads, state, theta)
        new = {k: theta[k] + updates[k] for k in theta}
        why = divergence(loss, new)
        if why:
            print(f"diverged at step {epoch + 1}: {why}")
            break
        theta, done = new, epoch + 1

final_loss, _ = loss_and_grad(theta)
report("epochs_done", done)
report("w", theta["w"])
report("b", theta["b"])
report("loss", final_loss)
report("p_like", sigmoid(X @ theta["w"] + theta["b"]))
'''


def songs_of(values: dict, figure: str) -> str:
    """The songs (link text) the step showing `figure` trains on."""
    if figure == "free":
        return values["songs"]
    return STEP_SONGS.get(figure, lesson.UNLEARNABLE)


def script_text(values: dict, figure: str, first: str | None = None) -> str:
    """The script of the perceptron lesson's run for `values` at the step showing `figure`
    (first: another first line, for a lesson that shows this run too).

    ValueError for songs the model refuses (as the lesson says it)."""
    if figure in SHOWS:
        title = f"The perceptron lesson: {SHOWS[figure]}."
    else:
        title = "The perceptron lesson: this step draws the songs; this script reproduces free play."
        figure = "free"
    first = first or title
    songs = songs_of(values, figure)
    X, y = lesson.decode_songs(songs)
    lesson.check_songs(X, y)
    rows = "\n".join(f"    [{int(a)}, {int(b)}, {int(c)}, {int(d)}],   # {name}"
                     for (a, b, c), d, name in zip(X, y, lesson.song_titles(songs)))
    call = optimizer_call(values["optimizer"], {"lr": float(values["lr"])})
    return script(
        header(first, "One sigmoid neuron p = sigmoid(w . x + b) learns whether Ben likes a song,",
               "by full-batch steps of the optimizer on the cross-entropy, as the lesson trains it."),
        imports(), REPORT,
        render(_DATA, rows=Code(rows), epochs=int(values["epochs"]), seed=int(values["seed"])),
        _MODEL, optimizer_code(values["optimizer"]), render(_TRAIN, optimizer=Code(call)))
