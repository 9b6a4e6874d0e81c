"""The optimizer lab's runs as a script: a line fitted to noisy points, epoch by epoch,
with an optional learning-rate rule after each epoch (app.lessons.optimizer_lab)."""

from __future__ import annotations

from app.lessons import optimizer_lab as lab
from app.lessons.script_parts import (DIVERGENCE, OPTIMIZER_LABELS, REPORT, Code, header, mlp_code, optimizer_call,
                                      optimizer_code, render, script, imports)
from app.ml import adaptive, optim

#: The optimizers' float hyperparameters beyond lr, as free play offers them (blank = default).
HYPER = tuple(dict.fromkeys(h.name for spec in optim.OPTIMIZERS.values() for h in spec.hyperparameters
                            if h.kind == "float" and h.name != "lr"))

_PROBLEM = '''
noise, seed = $noise, $seed  # the points' noise and the seed of data, start and batch order
N_POINTS = 50
TARGET = 0.01  # "reached": the loss within 0.01 of the best line's


def problem(seed):
    """50 points around y = 0.5 x + 1 (x uniform in [0, 4]) and a start near (m, b) = (-2, 3)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 4.0, N_POINTS)
    y = 0.5 * x + 1.0 + noise * rng.standard_normal(N_POINTS)
    start = np.array([-2.0, 3.0]) + 0.3 * np.random.default_rng(seed).standard_normal(2)
    return x, y, {"line": start}  # theta["line"] = [m, b]


def loss_and_grad(theta, x, y):
    """Mean squared error of the line y_hat = m x + b, and its gradient."""
    m, b = theta["line"]
    r = m * x + b - y
    return float(np.mean(r * r)), {"line": np.array([2.0 * np.mean(r * x), 2.0 * np.mean(r)])}


def best_loss(x, y):
    """The least-squares line's loss: m = cov(x, y) / var(x), b = mean(y) - m mean(x)."""
    dx = x - x.mean()
    m = float(np.dot(dx, y - y.mean())) / float(np.dot(dx, dx))
    b = y.mean() - m * x.mean()
    return float(np.mean((m * x + b - y) ** 2))
'''

_RULES = {
    "boost": '''
def boost(max_angle=30.0, grow=1.5, max_scale=64.0):
    """Raise the rate (x grow) while consecutive epochs point the same way (angle <= max_angle)."""
    def after_epoch(state, before, after, loss_before, loss_after, full_loss):
        change = {k: after[k] - before[k] for k in after}
        angle = math.nan if state is None else angle_between(change, state["change"])
        scale = min(state["scale"] * grow, max_scale) if angle <= max_angle else 1.0
        return scale, after, loss_after, {"scale": scale, "change": change}
    return after_epoch


def angle_between(a, b):
    """Degrees between two changes seen as flat vectors; nan if either is zero."""
    dot = lambda u, v: sum(float(np.vdot(u[k], v[k])) for k in u)
    norm = math.sqrt(dot(a, a) * dot(b, b))
    if norm == 0.0 or not math.isfinite(norm):
        return math.nan
    return math.degrees(math.acos(min(1.0, max(-1.0, dot(a, b) / norm))))
''',
    "careful": '''
def careful(jump=0.0, cut=0.5):
    """Cut the rate (x cut) whenever the loss rises over an epoch by more than jump x |loss|."""
    def after_epoch(state, before, after, loss_before, loss_after, full_loss):
        scale = 1.0 if state is None else state
        if loss_after > loss_before + jump * abs(loss_before):
            scale = max(scale * cut, SCALE_MIN)
        return scale, after, loss_after, scale
    return after_epoch
''',
    "eve": '''
def eve(max_doublings=4):
    """Look further along the epoch's change d: go to before + k d, k = 2, 4, 8, ..., while
    the loss keeps falling (each look costs one extra loss evaluation)."""
    def after_epoch(state, before, after, loss_before, loss_after, full_loss):
        change = {k: after[k] - before[k] for k in after}
        best, best_loss = after, loss_after
        for i in range(1, max_doublings + 1):
            candidate = {k: before[k] + 2.0**i * change[k] for k in before}
            loss = full_loss(candidate)
            if not loss < best_loss:
                break
            best, best_loss = candidate, loss
        return 1.0, best, best_loss, state
    return after_epoch
''',
}

_RUN = DIVERGENCE + '''

SCALE_MIN, SCALE_MAX = 2.0**-20, 2.0**10  # the rate factor a rule may set


def run(model, optimizer, X, y, theta, seed, epochs, batch=None, rule=None):
    """Train epoch by epoch: shuffled batches (None: one full-batch step per epoch), each an
    optimizer step scaled by the rule's factor; after each epoch the rule may change it.

    Returns the parameters and the full-data loss after every epoch, the factors used, and
    why training stopped early ("" if it did not)."""
    init, update = optimizer
    rng = np.random.default_rng(seed)  # the batch order
    state, scale, rule_state = init(theta), 1.0, None
    loss, _ = model(theta, X, y)
    params, losses, scales, message = [theta], [loss], [], ""
    with np.errstate(all="ignore"):  # a rate too large overflows: checked after each epoch
        for epoch in range(epochs):
            before, loss_before = theta, loss
            scales.append(scale)
            order = rng.permutation(len(X)) if batch else None
            for start in range(0, len(X), batch or len(X)):
                rows = slice(None) if order is None else order[start:start + batch]
                _, grads = model(theta, X[rows], y[rows])
                updates, state = update(grads, state, theta)
                theta = {k: theta[k] + scale * updates[k] for k in theta}
            loss, _ = model(theta, X, y)
            why = divergence(loss, theta)
            if why:
                message = f"diverged in epoch {epoch + 1}: {why}"
                break
            if rule is not None:
                scale, theta, loss, rule_state = rule(rule_state, before, theta, loss_before, loss,
                                                      lambda p: model(p, X, y)[0])
                scale = min(max(scale, SCALE_MIN), SCALE_MAX)
            params.append(theta)
            losses.append(loss)
    return {"params": params, "loss": np.array(losses), "scales": scales[:len(params) - 1], "message": message}
'''

_ONE_RUN = '''
x, y, start = problem(seed)
floor = best_loss(x, y)
$runs
'''

_REPORT_RUN = '''
def report_run(name, result):
    if result["message"]:
        print(name, result["message"])
    report(name + ".epochs_done", len(result["params"]) - 1)
    report(name + ".m_b", result["params"][-1]["line"])
    report(name + ".loss", result["loss"][-1])
    report(name + ".excess", result["loss"][-1] - floor)  # loss above the best line's
'''

_COMPARE = '''
# The same run without and with the rule, on the data and start of each seed of $seeds.
optimizer = $optimizer
for name, rule in $variants:
    reached, final = [], []
    for s in $seeds:
        x, y, start = problem(s)
        result = run(loss_and_grad, optimizer, x, y, start, s, epochs=$epochs, batch=$batch, rule=rule)
        excess = result["loss"] - best_loss(x, y)
        hits = np.flatnonzero(excess <= TARGET)
        reached.append(float(hits[0]) if len(hits) else float("nan"))
        diverged = len(result["params"]) <= $epochs
        final.append(float("nan") if diverged else excess[-1])
    report(name + ".epochs_to_target", reached)
    report(name + ".final_excess", final)
'''

_RACE = '''
# Every optimizer from the same start, full batch, at the rate of RATES whose loss above
# the best line's is lowest on average over the epochs, on a log scale.
RATES = $rates
x, y, start = problem(seed)
floor = best_loss(x, y)
for name, make in $optimizers:
    best = None
    for lr in RATES:
        result = run(loss_and_grad, make(lr), x, y, start, seed, epochs=$epochs)
        excess = result["loss"] - floor
        finished = len(result["params"]) == $epochs + 1
        score = float(np.mean(np.log10(np.maximum(excess, 1e-12)))) if finished else float("inf")
        if best is None or score < best[0]:
            best = (score, lr, excess[-1])
    report(name + ".lr", best[1])
    report(name + ".excess", best[2])
'''

_MLP_RUNS = '''
# The Wisconsin breast-cancer table (569 cases, 30 measurements, the diagnosis) is not
# written into this script: put the lesson's breast_cancer.csv (a header row, then one row
# per case, the last column "malignant" or "benign") next to it.
try:
    with open("breast_cancer.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
except FileNotFoundError:
    sys.exit("breast_cancer.csv is missing: put the data next to this script (see the comment above)")
X = np.array([[float(v) for v in row[:-1]] for row in rows])
labels = np.array([{"malignant": 0, "benign": 1}[row[-1]] for row in rows])
std = X.std(axis=0)
X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)  # each column to mean 0, std 1

for name, lr in $runs:
    theta = init_params($sizes, seed=0)
    result = run(loss_and_grad, adam(lr=lr), X, labels, theta, seed=0, epochs=$epochs, batch=$batch)
    if result["message"]:
        print(name, result["message"])
    report(name + ".loss", result["loss"][-1])
    report(name + ".accuracy", evaluate(result["params"][-1], X, labels)[1])
'''


def free_hyper(values: dict) -> dict:
    """The free-play optimizer's hyperparameters as the page takes them: lr and the chosen
    optimizer's own non-blank ones, or lr alone if the optimizer refuses those."""
    own = {h.name for h in optim.OPTIMIZERS[values["optimizer"]].hyperparameters}
    hyper = {"lr": float(values["lr"]),
             **{name: float(values[name]) for name in HYPER if name in own and values.get(name) not in ("", None)}}
    try:
        lab.build_optimizer(values["optimizer"], tuple(hyper.items()))
    except ValueError:
        hyper = {"lr": float(values["lr"])}
    return hyper


def _rule_call(rule: str, params: dict) -> str:
    return "None" if rule == "none" else f"{rule}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


def _free_rule(values: dict) -> tuple[str, dict]:
    rule = values["rule"]
    params = {p.name: (int if p.kind == "int" else float)(values[p.name]) for p in adaptive.RULES[rule].params} \
        if rule != "none" else {}
    return rule, params


def _line_runs(runs: list[tuple]) -> str:
    """Code that runs and reports `runs`: (name, optimizer, hyper, epochs, batch, rule, rule params)."""
    blocks = []
    for name, optimizer, hyper, epochs, batch, rule, params in runs:
        batch_code = "None" if batch == lab.N_POINTS else repr(int(batch))
        blocks.append(f"optimizer = {optimizer_call(optimizer, hyper)}\n"
                      f"rule = {_rule_call(rule, params)}\n"
                      f"result = run(loss_and_grad, optimizer, x, y, start, seed, epochs={epochs}, "
                      f"batch={batch_code}, rule=rule)\n"
                      f"report_run({name!r}, result)")
    return "\n\n".join(blocks)


def _pieces(optimizers, rules) -> list[str]:
    return [optimizer_code(*optimizers), *(_RULES[r] for r in dict.fromkeys(rules) if r != "none"), _RUN]


def _narrated(figure: str) -> tuple[str, list[tuple]] | None:
    """The first line and the runs of a narrated step that trains lines, or None."""
    noise_seed = "noise 0.5, seed 0"
    if figure == "fit":
        name, hyper, epochs = lab.FIT
        return f"gradient descent fitting the line ({noise_seed})", [("fit", name, dict(hyper), epochs,
                                                                       lab.N_POINTS, "none", {})]
    if figure.startswith("inside-") and figure[7:] in lab.INSIDE:
        name, hyper, steps = lab.INSIDE[figure[7:]]
        return (f"inside {OPTIMIZER_LABELS[name]}, step by step ({noise_seed})",
                [(figure[7:], name, dict(hyper), steps, lab.N_POINTS, "none", {})])
    if figure == "sizes-line":
        return (f"two runs whose epoch sizes and angles the step compares ({noise_seed})",
                [(f"run{i}", name, dict(hyper), lab.SIZES_LINE_EPOCHS, batch, "none", {})
                 for i, (_, name, hyper, batch) in enumerate(lab.SIZES_LINE)])
    if figure.startswith("rule-") and figure[5:] in lab.RULE_DEMO:
        rule = figure[5:]
        name, hyper, epochs = lab.RULE_DEMO[rule]
        return (f"{OPTIMIZER_LABELS[name]} without and with the rule \"{rule}\" ({noise_seed})",
                [(which, name, dict(hyper), epochs, lab.N_POINTS, r, {})
                 for which, r in (("without", "none"), ("with", rule))])
    return None


def script_text(values: dict, figure: str) -> str:
    """The script of the optimizer lab's run(s) at the step showing `figure`, or of free play."""
    what = "The optimizer lab"
    if figure == "sizes-mlp":
        return _mlp_script()
    if figure == "compare":
        return _compare_script(values)
    if figure == "race":
        return _race_script()
    narrated = _narrated(figure)
    if narrated is not None:
        first, runs = narrated
        noise, seed = lab.NARRATED
        first = f"{what}: {first}."
    else:
        first = (f"{what}: free play with these settings." if figure == "free" else
                 f"{what}: this step draws the data; this script reproduces free play with these settings.")
        noise, seed = float(values["noise"]), int(values["seed"])
        rule, params = _free_rule(values)
        runs = [("run", values["optimizer"], free_hyper(values), int(values["epochs"]), int(values["batch"]),
                 rule, params)]
    parts = [header(first, "A line y_hat = m x + b fitted to 50 noisy points by its mean squared error.",
                    "An epoch is a pass over the points in batches, each batch one optimizer step."),
             imports(*(["math"] if "boost" in [r[5] for r in runs] else [])), REPORT,
             render(_PROBLEM, noise=float(noise), seed=int(seed)),
             *_pieces([r[1] for r in runs], [r[5] for r in runs]), _REPORT_RUN,
             render(_ONE_RUN, runs=Code(_line_runs(runs)))]
    if figure == "free" and runs[0][5] != "none":
        parts.append(_free_comparison(values, runs[0]))
    return script(*parts)


def _free_comparison(values: dict, run: tuple) -> str:
    """Free play's with/without comparison over FREE_SEEDS seeds, when the lesson can run it."""
    _, optimizer, hyper, epochs, batch, rule, params = run
    steps = 2 * lab.FREE_SEEDS * epochs * adaptive.steps_per_epoch(lab.N_POINTS, lab.batch_size(batch))
    if steps > adaptive.COMPARE_STEPS_MAX:
        return f"# (The page skips its with/without comparison: {steps:,} optimizer steps are too many.)"
    seed = int(values["seed"])
    return render(_COMPARE, seeds=Code(f"range({seed}, {seed + lab.FREE_SEEDS})"), epochs=epochs,
                  batch=Code("None" if batch == lab.N_POINTS else repr(batch)),
                  optimizer=Code(optimizer_call(optimizer, hyper)),
                  variants=Code(f"((\"none\", None), ({rule!r}, {_rule_call(rule, params)}))"))


def _compare_script(values: dict) -> str:
    label, name, hyper = lab.CASES[values["case"]]
    variants = "(" + ", ".join(f"({r!r}, {_rule_call(r, {})})" for r in ("none", *adaptive.RULES)) + ")"
    return script(
        header(f"The optimizer lab: {label}, without and with every rule, over "
               f"{lab.COMPARE_SEEDS} seeds (noise 0.5).",
               "A line y_hat = m x + b fitted to 50 noisy points by its mean squared error;",
               "each seed has its own points and start. Prints, per variant and seed, the first",
               "epoch within 0.01 of the best line's loss (NaN: never) and the final excess."),
        imports("math"), REPORT, render(_PROBLEM, noise=lab.NARRATED[0], seed=lab.NARRATED[1]),
        *_pieces([name], adaptive.RULES),
        render(_COMPARE, seeds=Code(f"range(0, {lab.COMPARE_SEEDS})"), epochs=lab.COMPARE_EPOCHS, batch=Code("None"),
               optimizer=Code(optimizer_call(name, dict(hyper))), variants=Code(variants)))


def _race_script() -> str:
    makers = ",\n    ".join(
        f"({name!r}, lambda lr: {optimizer_call(name, lr='lr')})"
        for name in optim.OPTIMIZERS)
    return script(
        header("The optimizer lab: every optimizer from the same start, each at its best rate "
               "(noise 0.5, seed 0).",
               "A line y_hat = m x + b fitted to 50 noisy points by its mean squared error.",
               f"The step also races them again on {lab.RACE_SEEDS} seeds at those rates; this script "
               "runs the race of seed 0."),
        imports(), REPORT, render(_PROBLEM, noise=lab.NARRATED[0], seed=lab.NARRATED[1]),
        *_pieces(list(optim.OPTIMIZERS), []),
        render(_RACE, rates=lab.RACE_RATES, epochs=lab.RACE_EPOCHS, optimizers=Code(f"(\n    {makers},\n)")))


def _mlp_script() -> str:
    runs = tuple((f"run{i}", lr) for i, (_, lr) in enumerate(lab.MLP_RUNS))
    return script(
        header(f"The optimizer lab: a {' x '.join(map(str, lab.MLP_SIZES))} relu network on the breast-cancer "
               f"data, Adam at two rates.",
               f"{lab.MLP_EPOCHS} epochs in batches of {lab.MLP_BATCH}, the cross-entropy of the diagnosis.",
               "This script needs the data file named below; it does not contain the data."),
        imports("csv", "sys"), REPORT, mlp_code("relu", "softmax_ce"), optimizer_code("adam"),
        _RUN, render(_MLP_RUNS, runs=runs, sizes=lab.MLP_SIZES, epochs=lab.MLP_EPOCHS, batch=lab.MLP_BATCH))
