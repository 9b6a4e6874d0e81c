"""The decision-boundaries lesson's runs as a script: networks trained on a 2-D toy set
(app.ml.decision_runs), and the perceptron's plane (the perceptron lesson's run)."""

from __future__ import annotations

from app.lessons import decision_boundaries as lesson
from app.lessons import perceptron as perceptron_lesson
from app.lessons import perceptron_script
from app.lessons.script_parts import (DIVERGENCE, REPORT, Code, header, imports, mlp_code, optimizer_call,
                                      optimizer_code, render, script, wrapped)
from app.ml import datasets, decision_runs
from app.ml.decision_runs import RunSpec

#: What the narrated steps with networks show, for the script's first line.
SHOWS = {
    "lines": "a network without hidden layers draws straight borders",
    "width": "one hidden layer of 5, 20 and 100 neurons",
    "neurons": "what each of 5 hidden neurons draws",
    "depth5": "five hidden layers of 5, 20 and 100 neurons",
    "depth10": "ten hidden layers of 5, 20 and 100 neurons",
    "thin": "one wide layer against twenty thin ones",
    "grid": "the whole grid of widths and depths",
}

# -- the 2-D toy sets (app.ml.datasets.make_2d), one generator each --------------------------

_CLASS_SIZES = '''
def class_sizes(n, k):
    """n points over k classes as evenly as possible (the first classes get the rest)."""
    return [n // k + (1 if j < n % k else 0) for j in range(k)]
'''

MAKERS = {
    "gaussians": '''
def points(n, noise, rng):
    """Two Gaussian blobs around (-1, -1) and (1, 1), standard deviation `noise`."""
    y = np.repeat(np.arange(2), class_sizes(n, 2))
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])[y] + noise * rng.standard_normal((n, 2))
    return X, y
''',
    "circles": '''
def points(n, noise, rng):
    """Class 0 on a ring of radius 1, class 1 on a ring of radius 0.5, plus noise."""
    y = np.repeat(np.arange(2), class_sizes(n, 2))
    radius = np.where(y == 0, 1.0, 0.5)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    return X + noise * rng.standard_normal((n, 2)), y
''',
    "xor": '''
def points(n, noise, rng):
    """Points of the square [-1, 1]^2, class 1 where x and y share a sign, plus noise."""
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X + noise * rng.standard_normal((n, 2)), y
''',
    "spiral": '''
def points(n, noise, rng, arms=$arms):
    """Spiral arms: along arm j the radius grows to 1 while the angle sweeps 4 radians,
    with Gaussian noise (in radians) on the angle."""
    Xs, ys = [], []
    for j, size in enumerate(class_sizes(n, arms)):
        r = np.linspace(0.0, 1.0, size + 1)[1:]
        start = 2 * np.pi * j / arms
        t = np.linspace(start, start + 4.0, size) + noise * rng.standard_normal(size)
        Xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(size, j))
    return np.concatenate(Xs), np.concatenate(ys)
''',
}

_SPLIT = '''
def toy_set(n, noise, seed, test_share):
    """n points (rows shuffled), split into training and test points, both from `seed`."""
    rng = np.random.default_rng(seed)
    X, y = points(n, noise, rng)
    order = rng.permutation(n)
    X, y = X[order].astype(float), y[order].astype(int)
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(np.floor(test_share * n))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]
'''


_OWN = '''
# Your points: x, y and the class of each (the site keeps coordinates to thousandths).
POINTS = $rows


def toy_set(n, noise, seed, test_share):
    """Your points (noise is not used), split into training and test points by `seed`."""
    table = np.asarray(POINTS, dtype=float).reshape(-1, 3)
    X, y = table[:, :2], table[:, 2].astype(int)
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(np.floor(test_share * n))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]
'''


def data_code(dataset: str, own: tuple = ()) -> str:
    """The generator of one toy set and the split, as the lesson makes them (own: the visitor's
    points (x, y, label), written into the script)."""
    if dataset == datasets.OWN_2D:
        return render(_OWN, rows=Code(wrapped(own))).strip("\n")
    spiral = dataset.startswith("spiral")
    maker = render(MAKERS["spiral"], arms=int(dataset[-1])) if spiral else MAKERS[dataset]
    return script(_CLASS_SIZES if dataset != "xor" else "", maker, _SPLIT).rstrip("\n")


# -- training --------------------------------------------------------------------------------

_SETTINGS = '''
# The data: $label, $points points ($test_text for testing).
X_train, y_train, X_test, y_test = toy_set($points, $noise, seed=$data_seed, test_share=$test_share)
CLASSES = $classes
'''

_TRAIN = DIVERGENCE + '''

def train(hidden, optimizer, epochs, batch, seed):
    """A network of `hidden` layer widths, trained epoch by epoch on the training points:
    batches of `batch` points (0: all of them) in an order shuffled anew each epoch."""
    theta = init_params((2, *hidden, CLASSES), seed)
    init, update = optimizer
    state = init(theta)
    n = len(X_train)
    batch = batch if 0 < batch < n else n
    with np.errstate(all="ignore"):  # a rate too large overflows: checked at every step
        for epoch in range(epochs):
            order = np.random.default_rng([seed, epoch]).permutation(n) if batch < n else None
            for begin in range(0, n, batch):
                rows = slice(None) if order is None else order[begin:begin + batch]
                loss, grads = loss_and_grad(theta, X_train[rows], y_train[rows])
                updates, state = update(grads, state, theta)
                new = {k: theta[k] + updates[k] for k in theta}
                why = divergence(loss, new)
                if why:
                    print(f"diverged in epoch {epoch + 1}: {why}")
                    return theta, epoch
                theta = new
    return theta, epochs


def report_net(name, theta, epochs_done):
    """The network's numbers: data loss and accuracy on both parts, and its weights."""
    flat = np.concatenate([p.ravel() for p in theta.values()])
    report(name + ".epochs_done", epochs_done)
    for part, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        if len(X):
            loss, accuracy = evaluate(theta, X, y)
            report(f"{name}.{part}_loss", loss)
            report(f"{name}.{part}_accuracy", accuracy)
    report(name + ".weights_norm", np.linalg.norm(flat))
    report(name + ".weights_first", flat[:5])
'''

_RUNS = '''
optimizer = $optimizer
for name, hidden in $nets:
    theta, done = train(hidden, optimizer, epochs=$epochs, batch=$batch, seed=$seed)
    report_net(name, theta, done)
'''


_SKIP = DIVERGENCE + '''

optimizer = $optimizer
for name, residual, residual_start in $variants:
    theta = init_params($sizes, seed=$seed, residual=residual_start)
    init, update = optimizer
    state = init(theta)
    steps = 0
    with np.errstate(all="ignore"):  # checked at every step
        for epoch in range($epochs):  # full-batch steps, one per epoch
            loss, grads = loss_and_grad(theta, X_train, y_train, residual)
            updates, state = update(grads, state, theta)
            new = {k: theta[k] + updates[k] for k in theta}
            why = divergence(loss, new)
            if why:
                print(f"{name} diverged at step {epoch + 1}: {why}")
                break
            theta, steps = new, epoch + 1
    flat = np.concatenate([p.ravel() for p in theta.values()])
    report(name + ".epochs_done", steps)
    for part, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        loss, accuracy = evaluate(theta, X, y, residual)
        report(f"{name}.{part}_loss", loss)
        report(f"{name}.{part}_accuracy", accuracy)
    report(name + ".weights_norm", np.linalg.norm(flat))
'''

#: The skip step's versions: (name, skip connections in the model, the residual network's start).
SKIP_VARIANTS = {"plain": (False, False), "residual": (True, True), "plain-scaled": (False, True)}


def skip_script(first: str, variants: tuple[str, ...], extra: tuple[str, ...] = ()) -> str:
    """A script that trains the skip step's network (SKIP_NET, seed 0) in each of `variants`."""
    layers, width = lesson.SKIP_NET
    spec = decision_runs.width_depth_spec(layers, width, 0)
    rows = tuple((name, *SKIP_VARIANTS[name]) for name in variants)
    return script(
        header(first, *extra,
               f"A relu network of {layers} hidden layers of {width} on the spiral, trained by full-batch Adam.",
               "\"residual\": skip connections, a_{l+1} = f(z_l) + a_l, from a start whose skipped layers are",
               "scaled down; \"plain-scaled\": no skips, but that same start."),
        imports(), REPORT, data_code(spec.dataset), _settings(spec),
        mlp_code(spec.activation, spec.loss, residual=True), optimizer_code(spec.optimizer),
        render(_SKIP, optimizer=Code(optimizer_call(spec.optimizer, {"lr": float(spec.lr)})), variants=rows,
               sizes=Code(f"(2, *[{width}] * {layers}, CLASSES)"), seed=0, epochs=int(spec.epochs)))


def _settings(spec: RunSpec) -> str:
    """The lines that make the data of `spec`: its points, split, and classes."""
    own = spec.dataset == datasets.OWN_2D
    label = datasets.OWN_2D_LABEL if own else datasets.DATASETS_2D[spec.dataset].label
    return render(_SETTINGS, label=Code(label), points=int(spec.points), noise=float(spec.noise),
                  data_seed=int(spec.data_seed), test_share=float(spec.test_share),
                  test_text=Code(f"{int(spec.points * spec.test_share)} of them held out"),
                  classes=decision_runs.classes_of(spec))


def net_name(layers: int, width: int) -> str:
    """The key a network's numbers are printed under, e.g. "5x20" ("0x0": no hidden layer)."""
    return f"{layers}x{width if layers else 0}"


def spec_script(first: str, specs: list[RunSpec], extra: tuple[str, ...] = ()) -> str:
    """A script that trains the networks of `specs` (same data and training settings,
    different layers and widths) and prints their final numbers."""
    spec = specs[0]
    decision_runs.build(spec)          # ValueError for settings out of the lesson's limits
    nets = tuple((net_name(s.layers, s.width), tuple([s.width] * s.layers)) for s in specs)
    reg = spec.regularization
    return script(
        header(first, *extra,
               "A fully connected network classifies points of the plane; the optimizer minimizes",
               "the mean loss over the training points (plus any L1/L2 penalty on the weights)."),
        imports(), REPORT, data_code(spec.dataset, spec.own), _settings(spec),
        mlp_code(spec.activation, spec.loss, spec.reg_rate if reg == "l1" else 0.0,
                 spec.reg_rate if reg == "l2" else 0.0),
        optimizer_code(spec.optimizer), _TRAIN,
        render(_RUNS, optimizer=Code(optimizer_call(spec.optimizer, {"lr": float(spec.lr)})), nets=nets,
               epochs=int(spec.epochs), batch=int(spec.batch_size), seed=int(spec.seed)))


def script_text(values: dict, figure: str) -> str:
    """The script of the runs the step showing `figure` trains (free play: the settings')."""
    if figure == "plane":
        settings = {"optimizer": "sgd", "lr": lesson.PERCEPTRON_LR, "epochs": lesson.PERCEPTRON_EPOCHS,
                    "seed": lesson.PERCEPTRON_SEED, "songs": perceptron_lesson.LEARNABLE}
        return perceptron_script.script_text(
            settings, "free", first="Decision boundaries: the perceptron's plane, trained on the perceptron "
                                    "lesson's better songs.")
    if figure == "skip":
        return skip_script("Decision boundaries: a thin deep network without and with skip connections.",
                           tuple(SKIP_VARIANTS),
                           ("The step also shows every seed's end of the plain and the residual network;",
                            "this script trains seed 0's."))
    if figure in lesson.STEP_NETS:
        specs = lesson.step_specs(figure, values)
        slow = ("Training the biggest of these networks takes a while (a minute or more).",) \
            if any(s.layers * s.width >= 500 for s in specs) else ()
        return spec_script(f"Decision boundaries: {SHOWS.get(figure, 'the lesson networks')} "
                           "(the lesson's spiral runs).", specs,
                           ("The site also draws each network's decision areas on a grid; this script",
                            "prints the numbers of the training.", *slow))
    first = ("Decision boundaries: free play with these settings." if figure == "free" else
             "Decision boundaries: this step has no network of its own; this script reproduces free play.")
    return spec_script(first, [lesson.free_spec(values)])
