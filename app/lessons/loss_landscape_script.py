"""The loss-landscape lesson's runs as a script: the training paths its slices are cut
through (app.lessons.loss_landscape). The slices themselves (losses on a grid of a
plane) are the site's drawing; the scripts train and print where the runs end."""

from __future__ import annotations

from app.lessons import decision_boundaries_script
from app.lessons import loss_landscape as lesson
from app.lessons.script_parts import (DIVERGENCE, OPTIMIZER_LABELS, REPORT, Code, header, imports, mlp_code,
                                      optimizer_call, optimizer_code, render, script)
from app.ml import datasets, decision_runs

_NOTE = ("The site also evaluates the loss on a grid of a plane through the run (the slice",
         "it draws); this script trains and prints where the run ends.")

# -- data ------------------------------------------------------------------------------------

_IRIS = '''
# Fisher's Iris data (UCI, CC BY 4.0): sepal length, sepal width, petal length,
# petal width (cm) and the species of 150 flowers, four flowers a line.
IRIS = """
$rows
"""
SPECIES = ("setosa", "versicolor", "virginica")
rows = [line.split(",") for line in IRIS.split()]
X = np.array([[float(v) for v in row[:4]] for row in rows])
y = np.array([SPECIES.index(row[4]) for row in rows])
'''

_BREAST_CANCER = '''
# The Wisconsin breast-cancer table (569 cases, 30 measurements, the diagnosis) is not
# written into this script: put the lesson's breast_cancer.csv (a header row, then one row
# per case, the last column "malignant" or "benign") next to it.
try:
    with open("breast_cancer.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
except FileNotFoundError:
    sys.exit("breast_cancer.csv is missing: put the data next to this script (see the comment above)")
X = np.array([[float(v) for v in row[:-1]] for row in rows])
y = np.array([{"malignant": 0, "benign": 1}[row[-1]] for row in rows])
'''

_DIGITS = '''
# The 1,797 handwritten digits of 8 x 8 pixels (UCI optical digits, CC BY 4.0) are not
# written into this script: put the lesson's digits.csv.gz (one image a row: 64 pixels
# from 0 to 16, row by row from the top left, then the digit) next to it.
try:
    with gzip.open("digits.csv.gz", "rt", newline="") as f:
        rows = [[int(v) for v in row] for row in csv.reader(f)]
except FileNotFoundError:
    sys.exit("digits.csv.gz is missing: put the data next to this script (see the comment above)")
X = np.array([row[:64] for row in rows]) / 16.0  # each pixel from 0 to 1
y = np.array([row[64] for row in rows])
'''

_DIGITS_RUN = '''
# The network's parameters in one row per step: W0 (pixel, hidden unit), b0, W1 (hidden unit,
# digit), b1, each array row by row.
path, losses = train($optimizer, init_params(SIZES, seed), steps=$steps)
flat = np.array([np.concatenate([theta[k].ravel() for k in ("W0", "b0", "W1", "b1")]) for theta in path])
D, H, C = SIZES


def name(k):
    """What parameter k of a flat row is, as the lesson names it (rows, columns, units from 1)."""
    if k < D * H:
        return f"pixel {k // H // 8 + 1},{k // H % 8 + 1} -> hidden unit {k % H + 1}"
    k -= D * H
    if k < H:
        return f"bias of hidden unit {k + 1}"
    k -= H
    if k < H * C:
        return f"hidden unit {k // C + 1} -> digit {k % C}"
    return f"bias of digit {k - H * C}"


moved = np.abs(flat[-1] - flat[0])                    # how far each parameter ends from its start
top = np.argsort(-moved, kind="stable")[:2]
travel = np.abs(np.diff(flat, axis=0)).sum(axis=0)    # the seed's ranking: the length of all its steps
by_steps = np.argsort(-travel, kind="stable")[:2]
report("steps_done", len(losses))
report("final_loss", loss_and_grad(path[-1], X, y)[0])
report("accuracy", evaluate(path[-1], X, y)[1])
report("top", top)
report("moved", moved[top])
report("by_steps", by_steps)
for k in top:
    print("moved most:", name(k))
for k in by_steps:
    print("longest travel:", name(k))
'''

_STANDARDIZE = '''
std = X.std(axis=0)
X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)  # each column to mean 0, std 1
'''

_TOY = '''
# The decision-boundary lesson's training points: $label, $points points, noise $noise, seed $seed.
X, y, _, _ = toy_set($points, $noise, seed=$seed, test_share=$test_share)
'''


def data_code(data: str) -> tuple[str, tuple[str, ...], int]:
    """Code that sets X (n, d) and y (n,) as the lesson loads `data`, the modules it
    imports, and the number of classes."""
    if data == "iris":
        rows = (datasets.DATA_DIR / "iris.csv").read_text().split()[1:]   # the shipped table, as it is
        lines = [" ".join(rows[k:k + 4]) for k in range(0, len(rows), 4)]
        return render(_IRIS, rows=Code("\n".join(lines))) + _STANDARDIZE, (), 3
    if data == "breast-cancer":
        return _BREAST_CANCER + _STANDARDIZE, ("csv", "sys"), 2
    spec = decision_runs.RunSpec(dataset=data)
    return script(decision_boundaries_script.data_code(data),
                  render(_TOY, label=datasets.DATASETS_2D[data].label, points=spec.points, noise=spec.noise,
                         seed=spec.data_seed, test_share=spec.test_share)).rstrip("\n"), (), \
        datasets.DATASETS_2D[data].n_classes


# -- models ----------------------------------------------------------------------------------

_LOGISTIC = '''
def init_params(seed):
    """W ~ N(0, $scale^2), b = 0: {"W": (d, c), "b": (c,)}."""
    rng = np.random.default_rng(seed)
    return {"W": $scale * rng.standard_normal((X.shape[1], CLASSES)), "b": np.zeros(CLASSES)}


def loss_and_grad(theta, X, y):
    """Softmax regression: mean cross-entropy of softmax(X W + b) and its gradient.
    dL/dS = (softmax(S) - onehot(y)) / n, dL/dW = X^T dL/dS, dL/db = sum of dL/dS."""
    n = len(y)
    S = X @ theta["W"] + theta["b"]
    top = S.max(axis=-1, keepdims=True)
    logsumexp = (top + np.log(np.exp(S - top).sum(axis=-1, keepdims=True)))[..., 0]
    loss = float(np.mean(logsumexp - S[np.arange(n), y]))
    e = np.exp(S - top)
    dS = e / e.sum(axis=-1, keepdims=True)
    dS[np.arange(n), y] -= 1.0
    dS /= n
    return loss, {"W": X.T @ dS, "b": dS.sum(axis=0)}
'''

_SVM = '''
L2 = 0.01  # weight penalty (l2 / 2) ||W||^2


def init_params(seed):
    """W ~ N(0, 0.01^2), b = 0: {"W": (d, 1), "b": (1,)}."""
    rng = np.random.default_rng(seed)
    return {"W": 0.01 * rng.standard_normal((X.shape[1], 1)), "b": np.zeros(1)}


def loss_and_grad(theta, X, y):
    """Linear SVM: mean hinge loss max(0, 1 - t f(x)), t = +-1, f = x W + b, plus the penalty.
    A point counts where it violates the margin (1 - t f > 0)."""
    t = np.where(y == 1.0, 1.0, -1.0)
    f = (X @ theta["W"])[:, 0] + theta["b"][0]
    slack = 1.0 - t * f
    loss = float(np.mean(np.maximum(0.0, slack))) + 0.5 * L2 * float(np.sum(theta["W"] * theta["W"]))
    dL_df = np.where(slack > 0.0, -t, 0.0) / len(t)
    return loss, {"W": X.T @ dL_df[:, None] + L2 * theta["W"], "b": np.array([dL_df.sum()])}
'''

_MLP_INIT = '''
SIZES = $sizes  # inputs, hidden layers, classes
'''

_RUN = DIVERGENCE + '''

def train(optimizer, theta, steps):
    """Full-batch steps; stops if the loss or a weight stops being finite.
    Returns the parameters after every step and the loss before each."""
    init, update = optimizer
    state = init(theta)
    path, losses = [theta], []
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
            path.append(theta)
            losses.append(loss)
    return path, losses


def report_run(name, path, losses):
    flat = np.concatenate([p.ravel() for p in path[-1].values()])
    report(name + ".steps_done", len(losses))
    report(name + ".final_loss", loss_and_grad(path[-1], X, y)[0])
    report(name + ".weights_norm", np.linalg.norm(flat))
    report(name + ".weights_first", flat[:5])
'''

_ONE = '''
theta = $init
path, losses = train($optimizer, theta, steps=$steps)
report_run("run", path, losses)
'''

_RACE = '''
# Three optimizers from one start.
start = init_params(seed=$seed)
for name, optimizer in (
    $runs
):
    path, losses = train(optimizer, start, steps=$steps)
    report_run(name, path, losses)

# The same three at every step size of RATES: the final loss (NaN where training diverged).
RATES = $rates
for name, make in (
    $makers
):
    finals = []
    for lr in RATES:
        path, losses = train(make(lr), start, steps=$steps)
        finals.append(loss_and_grad(path[-1], X, y)[0] if len(losses) == $steps else float("nan"))
    report(name + ".sweep", finals)
'''

_BALL = '''
# The ball: on each slice only the two parameters with the steepest slope where the ball is
# move; it rolls down by gradient descent on them (step size LR) until a step lowers the loss
# by less than SETTLED (or after MAX_STEPS steps), and the next slice goes through that point.
SLICES, LR, MAX_STEPS, SETTLED = $slices, $lr, $max_steps, $settled
D = X.shape[1]


def flat(theta):
    return np.concatenate([theta["W"].ravel(), theta["b"]])


def unflat(vec):
    return {"W": vec[:D * CLASSES].reshape(D, CLASSES), "b": vec[D * CLASSES:]}


theta = flat(init_params(seed))
losses, switches = [loss_and_grad(unflat(theta), X, y)[0]], []
for _ in range(SLICES):
    switches.append(len(losses) - 1)
    i, j = np.argsort(-np.abs(flat(loss_and_grad(unflat(theta), X, y)[1])), kind="stable")[:2]
    for _ in range(MAX_STEPS):
        theta = theta.copy()
        theta[[i, j]] -= LR * flat(loss_and_grad(unflat(theta), X, y)[1])[[i, j]]
        losses.append(loss_and_grad(unflat(theta), X, y)[0])
        if losses[-2] - losses[-1] < SETTLED:
            break
report("ball.steps", len(losses) - 1)
report("ball.switches", switches)
report("ball.final_loss", losses[-1])

# Gradient descent on all parameters at once: the same start, step size and number of steps.
path, gd = train($sgd, init_params(seed), steps=len(losses) - 1)
report("gd.final_loss", loss_and_grad(path[-1], X, y)[0])
'''

_FEATURES = '''
# Versicolor (0) against virginica (1), the four measurements standardized and reduced
# to their two principal components: the features F (100, 2).
keep = y > 0
X = X[keep]
std = X.std(axis=0)
X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
y = y[keep] - 1
_, _, components = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
F = (X - X.mean(axis=0)) @ components[:2].T
F *= np.where(F[y == 1].mean(axis=0) >= F[y == 0].mean(axis=0), 1.0, -1.0)  # virginica: the high end
X = F
'''

_FEATURES_RUN = '''
# p(virginica) = sigmoid(w1 F1 + w2 F2 + b): the two-class softmax regression depends on
# its weights only through w = W[:, 1] - W[:, 0] and b = b[1] - b[0].
path, losses = train($optimizer, init_params(seed=$seed), steps=$steps)
theta = path[-1]
report("steps_done", len(losses))
report("w", theta["W"][:, 1] - theta["W"][:, 0])
report("b", theta["b"][1] - theta["b"][0])
report("final_loss", loss_and_grad(theta, X, y)[0])
'''


def model_code(model: str, data: str, classes: int, d: int) -> tuple[str, str]:
    """The model's code and the expression that builds its starting parameters (seed: `seed`)."""
    if model == "logistic":
        return render(_LOGISTIC, scale=0.5), "init_params(seed)"
    if model == "svm":
        if classes != 2:
            raise ValueError("the linear SVM separates two classes")
        return _SVM, "init_params(seed)"
    layers, width = lesson.NETS[model[4:]]
    return (script(mlp_code("relu", "softmax_ce"), render(_MLP_INIT, sizes=(d, *[width] * layers, classes))),
            "init_params(SIZES, seed)")


def run_script(first: str, model: str, data: str, optimizer: str, lr: float, steps: int, seed: int) -> str:
    """The script of `lesson.training_path(model, data, optimizer, lr, steps, seed)`."""
    lesson._check_int("steps", steps, 1, lesson.MAX_STEPS)
    X, _, features, classes = lesson.load_problem(data)
    lesson.build_model(model, X, classes)            # the lesson's refusals (e.g. a 3-class SVM)
    load, modules, n_classes = data_code(data)
    code, init = model_code(model, data, n_classes, X.shape[1])
    return script(
        header(first, f"{_describe(model)} trained on {_DATA_NAMES.get(data, data)} by full-batch steps.", *_NOTE),
        imports(*modules), REPORT, load, f"CLASSES = {n_classes}\nseed = {int(seed)}  # the starting weights",
        code, optimizer_code(optimizer), _RUN,
        render(_ONE, init=Code(init), optimizer=Code(optimizer_call(optimizer, {"lr": float(lr)})), steps=int(steps)))


_DATA_NAMES = {"iris": "the Iris data (standardized)", "breast-cancer": "the breast-cancer data (standardized)"}


def _describe(model: str) -> str:
    if model == "logistic":
        return "Softmax (logistic) regression"
    if model == "svm":
        return "A linear SVM"
    layers, width = lesson.NETS[model[4:]]
    return f"A relu network of {layers} hidden layer{'s' if layers > 1 else ''} of {width}"


def features_script() -> str:
    """The script of lesson.feature_landscape() (step 1)."""
    load, _, _ = data_code("iris")
    load = load.replace(_STANDARDIZE, "")
    return script(
        header("The loss landscape: logistic regression on two features of the Iris data (the first step).",
               *_NOTE),
        imports(), REPORT, load, _FEATURES, "CLASSES = 2", render(_LOGISTIC, scale=1.5), optimizer_code("sgd"),
        _RUN, render(_FEATURES_RUN, optimizer=Code(optimizer_call("sgd", {"lr": 0.5})), seed=2, steps=150))


def race_script() -> str:
    """The script of lesson.optimizer_race()'s three runs (the optimizers step)."""
    model, data, steps, seed = lesson.RACE_PROBLEM
    load, modules, classes = data_code(data)
    code, _ = model_code(model, data, classes, 4)
    runs = "\n    ".join(f"({name!r}, {optimizer_call(name, {'lr': lr})})," for name, lr in lesson.RACE)
    makers = "\n    ".join(f"({name!r}, lambda lr: {optimizer_call(name, lr='lr')})," for name, _ in lesson.RACE)
    return script(
        header("The loss landscape: three optimizers from one start on the Iris data.",
               f"{_describe(model)}, {steps} full-batch steps each.", *_NOTE),
        imports(*modules), REPORT, load, f"CLASSES = {classes}", code,
        optimizer_code(*(name for name, _ in lesson.RACE)), _RUN,
        render(_RACE, seed=seed, runs=Code(runs), steps=steps, rates=lesson.RACE_RATES, makers=Code(makers)))


def ball_script() -> str:
    """The script of lesson.switching_ball() (the switch step)."""
    model, data = lesson.BALL_PROBLEM
    load, modules, classes = data_code(data)
    code, _ = model_code(model, data, classes, 4)
    return script(
        header("The loss landscape: a ball that rolls down one slice of the loss after another (seed 0).",
               f"{_describe(model)} on the Iris data; the site draws each slice the ball rolls on."),
        imports(*modules), REPORT, load, f"CLASSES = {classes}\nseed = 0  # the starting weights", code,
        optimizer_code("sgd"), _RUN,
        render(_BALL, slices=lesson.BALL_SLICES, lr=float(lesson.BALL_LR), max_steps=lesson.BALL_MAX_STEPS,
               settled=float(lesson.BALL_SETTLED), sgd=Code(optimizer_call("sgd", {"lr": float(lesson.BALL_LR)}))))


def digits_script(optimizer: str) -> str:
    """The script of lesson.digit_run(optimizer) (the digits step): the run and its two parameters that
    moved most."""
    lr = lesson.DIGIT_OPTIMIZERS[optimizer]
    return script(
        header(f"The loss landscape: a relu network on 1,797 images of digits, trained by "
               f"{OPTIMIZER_LABELS[optimizer]} (seed 0).",
               "Which two of its parameters moved most? The site slices the loss through them."),
        imports("csv", "gzip", "sys"), REPORT, _DIGITS, "seed = 0  # the starting weights",
        script(mlp_code("relu", "softmax_ce"), render(_MLP_INIT, sizes=lesson.DIGIT_SIZES)),
        optimizer_code(optimizer), _RUN,
        render(_DIGITS_RUN, optimizer=Code(optimizer_call(optimizer, {"lr": float(lr)})),
               steps=lesson.DIGIT_STEPS))


def script_text(values: dict, figure: str) -> str:
    """The script of the run the step showing `figure` slices (free play: the settings')."""
    if figure == "features":
        return features_script()
    if figure == "optimizers":
        return race_script()
    if figure == "switch":
        return ball_script()
    if figure == "digits":
        return digits_script(values["digit_optimizer"])
    if figure == "skip":
        return decision_boundaries_script.skip_script(
            "The loss landscape: the decision-boundary lesson's thin deep network without and with skips.",
            ("plain", "residual"), _NOTE)
    if figure in ("directions", "centring"):
        model, data, optimizer, lr, steps = lesson.DIRECTIONS_RUN
        return run_script(f"The loss landscape: the run whose {'planes' if figure == 'directions' else 'centres'} "
                          "this step compares.", model, data, optimizer, lr, steps, 0)
    if figure == "nets":
        layers, width = lesson.NETS[values["net"]]
        seed = int(values.get("net_seed", 0))
        spec = decision_runs.width_depth_spec(layers, width, seed)
        return decision_boundaries_script.spec_script(
            f"The loss landscape: the decision-boundary lesson's {layers} x {width} network on the spiral "
            f"(seed {seed}).", [spec], _NOTE)
    if figure in ("top", "pca", "ball"):
        run = lesson.CASE_RUNS["logistic" if figure == "top" else values["case"]]
        return run_script("The loss landscape: the run this step slices.", *run)
    first = ("The loss landscape: free play with these settings." if figure == "free" else
             "The loss landscape: this step has no run of its own; this script reproduces free play.")
    return run_script(first, values["model"], values["data"], values["optimizer"], float(values["lr"]),
                      int(values["steps"]), int(values["seed"]))
