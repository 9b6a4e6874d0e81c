"""The graph-layout lesson's runs as a script: circles on a graph moved by an optimizer
until linked circles touch and none overlap (app.ml.graph_layout, app.lessons.graph_layout).

The site finds close pairs of circles with a k-d tree; the script finds them by sorting
the circles along x (numpy only), so it adds the same overlaps in another order: its
numbers agree with the site's to rounding, but a run through a big pile-up of circles
(the 2,000-circle grid from a random start) amplifies those differences and ends a few
per cent elsewhere.
"""

from __future__ import annotations

from app.lessons import graph_layout as lesson
from app.lessons.script_parts import (REPORT, Code, header, imports, literal, optimizer_call, optimizer_code, render,
                                      script, wrapped)

FAMILY_NAMES = {"random": "a random graph", "tree": "a random tree", "grid": "a triangular grid",
                "geometric": "a random geometric graph"}

#: What each narrated scene shows, for the script's first line.
SHOWS = {
    "intro": "momentum laying out a small tree",
    "descent": "gradient descent on the energy",
    "momentum": "gradient descent against momentum",
    "adaptive": "gradient descent, RMSprop and Adam at one rate",
    "tangle": "four optimizers on a tree that tangles",
    "big": "momentum on a grid of 2,000 circles",
    "smart": "a random start against a smart start",
    "race": "four optimizers from a smart start, L-BFGS among them",
}

_SETTINGS = '''
FAMILY, N, GRAPH_SEED = $family, $n, $seed  # the graph, and the seed of graph and start
STEPS = $steps  # optimizer steps of every run
RADIUS = 1.0  # every circle's radius: positions are in radii
CONTACT = 2 * RADIUS  # linked circles should be this far apart, and no pair closer
OVERLAP_WEIGHT = 4.0  # an overlap costs 4 times a stretched link of the same depth
SKIN = RADIUS  # the list of near pairs holds pairs within CONTACT + SKIN
'''

_CANONICAL = '''
def canonical(edges):
    """Edges as (m, 2) with i < j, sorted, each once."""
    edges = np.sort(np.asarray(edges, dtype=np.int64).reshape(-1, 2), axis=1)
    return np.unique(edges, axis=0) if len(edges) else edges
'''

_OWN_GRAPH = '''
# Your graph: its links, circles numbered in the order their names first appear in your file.
LINKS = $links


def make_graph(n, seed):
    return canonical(LINKS)
'''

_RANDOM_TREE = '''
def random_tree(n, rng):
    """A random recursive tree: node k hangs from a random earlier node; labels shuffled."""
    child = np.arange(1, n)
    parent = np.floor(rng.random(n - 1) * child).astype(np.int64)
    labels = rng.permutation(n)
    return labels[np.column_stack([parent, child])]
'''

GRAPHS = {
    "tree": '''
def make_graph(n, seed):
    return canonical(random_tree(n, np.random.default_rng(seed)))
''',
    "random": '''
def make_graph(n, seed):
    """A random tree plus n // 2 random extra links (average degree about 3)."""
    rng = np.random.default_rng(seed)
    tree = random_tree(n, rng)
    extra = rng.integers(0, n, size=(n // 2, 2)) if n > 1 else np.empty((0, 2), np.int64)
    return canonical(np.vstack([tree, extra[extra[:, 0] != extra[:, 1]]]))
''',
    "grid": '''
def make_graph(n, seed):
    """A grid of ceil(sqrt(n)) columns with one diagonal per cell: a triangular lattice,
    whose hexagonal packing has every link touching and no overlap."""
    cols = math.ceil(math.sqrt(n))
    k = np.arange(n)
    col = k % cols
    right = k[(col < cols - 1) & (k + 1 < n)]
    down = k[k + cols < n]
    diagonal = k[(col < cols - 1) & (k + cols + 1 < n)]
    return canonical(np.vstack([np.column_stack([right, right + 1]), np.column_stack([down, down + cols]),
                                np.column_stack([diagonal, diagonal + cols + 1])]))
''',
    "geometric": '''
def make_graph(n, seed):
    """Random points no closer than 1 (a Matern hard-core process: of two points closer than 1
    the one with the larger mark goes), joined when within 2.6 of each other, plus their
    minimum spanning tree so that the graph is connected."""
    rng = np.random.default_rng(seed)
    side = math.sqrt(2.2 * math.pi * n)
    candidates = 3 * n + 10
    while True:
        P = rng.random((candidates, 2)) * side
        mark = rng.random(candidates)
        close = pairs_within(P, 1.0)
        loser = np.where(mark[close[:, 0]] < mark[close[:, 1]], close[:, 1], close[:, 0])
        keep = np.setdiff1d(np.arange(candidates), loser)
        if len(keep) >= n:
            break
        candidates *= 2
    P = P[rng.choice(keep, size=n, replace=False)]
    return canonical(np.vstack([pairs_within(P, 2.6), spanning_tree(P)]))


def spanning_tree(P):
    """The Euclidean minimum spanning tree of the points P (Prim's algorithm): (n - 1, 2)."""
    n = len(P)
    inside, parent = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
    best = np.linalg.norm(P - P[0], axis=1)
    inside[0], tree = True, []
    for _ in range(n - 1):
        best[inside] = np.inf
        k = int(np.argmin(best))
        tree.append((parent[k], k))
        inside[k] = True
        d = np.linalg.norm(P - P[k], axis=1)
        closer = d < best
        best[closer], parent[closer] = d[closer], k
    return np.array(tree, dtype=np.int64).reshape(-1, 2)
''',
}

_PAIRS = '''
def pairs_within(X, distance):
    """Every pair i < j of points at most `distance` apart: (c, 2). Sorted by x, a point can
    only be that close to the points that follow it within `distance` in x: compare every
    point with its k-th follower, k = 1, 2, ..., while some follower is that close in x."""
    order = np.argsort(X[:, 0], kind="stable")
    x, y = X[order, 0], X[order, 1]
    found = [np.empty((0, 2), dtype=np.int64)]
    for k in range(1, len(X)):
        dx = x[k:] - x[:-k]
        if not np.any(dx <= distance):
            break
        i = np.flatnonzero((dx <= distance) & (dx * dx + (y[k:] - y[:-k]) ** 2 <= distance * distance))
        a, b = order[i], order[i + k]
        found.append(np.column_stack([np.minimum(a, b), np.maximum(a, b)]))
    return np.concatenate(found)
'''

_RANDOM_START = '''
def random_start(n, seed):
    """Uniform positions in a square of side 4 r sqrt(n) (the circles cover about 20%)."""
    side = 4.0 * RADIUS * math.sqrt(n)
    return (np.random.default_rng(seed).random((n, 2)) - 0.5) * side
'''

_SMART_START = '''
def hops_from(source, neighbours, n):
    """Breadth-first hop counts from `source` (inf where unreachable)."""
    hops = np.full(n, np.inf)
    hops[source], frontier, d = 0.0, np.array([source]), 0
    while len(frontier):
        d += 1
        reached = np.unique(np.concatenate([neighbours[i] for i in frontier]))
        frontier = reached[np.isinf(hops[reached])]
        hops[frontier] = d
    return hops


def smart_start(edges, n, seed, pivots=50):
    """Pivot MDS (Brandes & Pich 2006): positions whose distances follow hop counts from k
    pivots far apart; scaled so links are about one diameter long (but never so crowded that
    circles cover more than 80% of their disc), then jittered so equal nodes do not coincide."""
    rng = np.random.default_rng(seed)
    k = min(pivots, n)
    if n < 3 or len(edges) == 0:
        return random_start(n, seed)
    neighbours = [[] for _ in range(n)]
    for i, j in edges:
        neighbours[i].append(j)
        neighbours[j].append(i)
    neighbours = [np.array(v, dtype=np.int64) for v in neighbours]
    D = np.empty((n, k))
    nearest = np.full(n, np.inf)
    pivot = int(rng.integers(n))
    for c in range(k):
        D[:, c] = hops_from(pivot, neighbours, n)
        nearest = np.minimum(nearest, D[:, c])
        pivot = int(np.argmax(nearest))  # the node furthest from the pivots so far
    finite = np.isfinite(D)
    D[~finite] = D[finite].max() + 1.0
    S = D ** 2
    C = -0.5 * (S - S.mean(axis=0) - S.mean(axis=1, keepdims=True) + S.mean())  # double centring
    U, sigma, _ = np.linalg.svd(C, full_matrices=False)
    Y = U[:, :2] * np.sqrt(sigma[:2])
    if Y.shape[1] < 2:
        Y = np.column_stack([Y, np.zeros(n)])
    Y -= Y.mean(axis=0)
    lengths = np.linalg.norm(Y[edges[:, 0]] - Y[edges[:, 1]], axis=1)
    scale = 2.0 * RADIUS * lengths.sum() / max(float(lengths @ lengths), 1e-300)
    spread = math.sqrt(max(float(np.mean(np.sum(Y * Y, axis=1))), 1e-300))
    scale = max(scale, RADIUS * math.sqrt(n / (2.0 * 0.8)) / spread)
    Y = Y * scale
    crowd = np.array([np.count_nonzero(np.sum((Y - y) ** 2, axis=1) <= RADIUS * RADIUS) for y in Y])
    spread = RADIUS * (0.1 + 0.5 * np.sqrt(np.maximum(crowd - 2.0, 0.0)))
    Y = Y + rng.normal(size=(n, 2)) * spread[:, None]
    return np.clip(Y, -0.5e6 * RADIUS, 0.5e6 * RADIUS)
'''

_ENERGY = '''
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def energy_and_grad(X, edges, pairs):
    """E = sum over links of max(0, d - 2r)^2 + w sum over pairs of max(0, 2r - d)^2, and dE/dX.

    `pairs` must include every pair closer than 2r; the rest add nothing."""
    n = len(X)
    x, y = X[:, 0], X[:, 1]
    ei, ej = edges[:, 0], edges[:, 1]
    dx, dy = x[ei] - x[ej], y[ei] - y[ej]
    d = np.sqrt(dx * dx + dy * dy)
    stretch = np.maximum(d - CONTACT, 0.0)
    energy = float(stretch @ stretch)
    pull = 2.0 * stretch / np.maximum(d, CONTACT)  # links pull their ends together
    rows, cols, fx, fy = ei, ej, pull * dx, pull * dy
    if len(pairs):
        pi, pj = pairs[:, 0], pairs[:, 1]
        px, py = x[pi] - x[pj], y[pi] - y[pj]
        d = np.sqrt(px * px + py * py)
        near = np.flatnonzero(d < CONTACT)
        if len(near):
            pi, pj, px, py, d = pi[near], pj[near], px[near], py[near], d[near]
            depth = CONTACT - d
            energy += OVERLAP_WEIGHT * float(depth @ depth)
            same = d < 1e-12 * CONTACT
            if same.any():  # coincident centres: push along a fixed direction per pair
                angle = GOLDEN_ANGLE * (pi[same] * 7919.0 + pj[same])
                px, py, d = px.copy(), py.copy(), d.copy()
                px[same], py[same], d[same] = np.cos(angle), np.sin(angle), 1.0
            push = -2.0 * OVERLAP_WEIGHT * depth / d  # overlapping circles push each other apart
            rows, cols = np.concatenate([rows, pi]), np.concatenate([cols, pj])
            fx, fy = np.concatenate([fx, push * px]), np.concatenate([fy, push * py])
    grad = np.empty((n, 2))
    grad[:, 0] = np.bincount(rows, fx, minlength=n) - np.bincount(cols, fx, minlength=n)
    grad[:, 1] = np.bincount(rows, fy, minlength=n) - np.bincount(cols, fy, minlength=n)
    return energy, grad


class PiledUp(Exception):
    pass


def near_pairs(near, X):
    """(positions, pairs within CONTACT + SKIN) for X: kept while no circle has moved more than
    SKIN / 2 since the list was made (then no other pair can have come closer than CONTACT)."""
    if near is not None:
        moved = X - near[0]
        if float(np.max(moved[:, 0] ** 2 + moved[:, 1] ** 2, initial=0.0)) <= (0.5 * SKIN) ** 2:
            return near
    pairs = pairs_within(X, CONTACT + SKIN)
    limit = 256 * len(X)
    if (near is None or len(near[1]) > limit // 8) and len(pairs) > limit:
        raise PiledUp(f"more than {limit:,} near pairs (256 per circle)")
    return X.copy(), pairs


def runaway(X):
    """Why positions count as diverged, or None."""
    if not np.isfinite(X).all():
        return "the parameters became non-finite"
    if np.abs(X).max() > 1e6 * RADIUS:
        return "a circle went beyond 1e+06 radii"
    return None
'''

_RUN = '''
def run(optimizer, X, edges, steps):
    """Steps X <- X + update(dE/dX); stops when positions run away or circles pile up.
    Returns the last positions, the energy at every step, and how the run ended."""
    near = near_pairs(None, X)
    energy, grad = energy_and_grad(X, edges, near[1])
    energies = [energy]
    init, update = optimizer
    state = init({"X": X})
    for t in range(1, steps + 1):
        updates, state = update({"X": grad}, state, {"X": X})
        X_new = X + updates["X"]
        reason = runaway(X_new)
        if reason is None:
            try:
                near = near_pairs(near, X_new)
            except PiledUp as crowded:
                reason = f"circles piled up, {crowded}"
        if reason is None:
            energy, grad = energy_and_grad(X_new, edges, near[1])
            if not math.isfinite(energy):
                reason = f"the loss became {energy}"
        if reason is not None:
            return X, energies, f"diverged at step {t}: {reason}; try a smaller learning rate"
        X = X_new
        energies.append(energy)
    return X, energies, f"ran {steps} steps"
'''

_LBFGS = '''
def lbfgs(memory=10, c1=1e-4, max_backtracks=30, max_move=4.0, gtol=1e-9):
    """L-BFGS (Nocedal & Wright, Algorithms 7.4 and 3.1): the last `memory` steps s and gradient
    changes y turn the gradient into a quasi-Newton direction p (two-loop recursion); a
    backtracking line search halves the step until E falls enough (Armijo), no circle moving
    more than `max_move` radii at once."""
    return ("lbfgs", memory, c1, max_backtracks, max_move, gtol)


def two_loop(g, memory):
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(memory):
        a = rho * float(s @ q)
        q -= a * y
        alphas.append(a)
    if memory:
        s, y, _ = memory[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), a in zip(memory, reversed(alphas)):
        b = rho * float(y @ q)
        q += (a - b) * s
    return -q


def run_lbfgs(settings, X, edges, steps):
    """L-BFGS iterations, one per step; like `run`, with a line search inside each step."""
    _, size, c1, max_backtracks, max_move, gtol = settings
    shape = X.shape
    near = near_pairs(None, X)

    def evaluate(x):
        nonlocal near
        near = near_pairs(near, x.reshape(shape))
        energy, grad = energy_and_grad(x.reshape(shape), edges, near[1])
        return energy, grad.ravel()

    x = X.ravel().copy()
    f, g = evaluate(x)
    energies, memory = [f], []
    for t in range(1, steps + 1):
        if np.max(np.abs(g), initial=0.0) <= gtol:
            return x.reshape(shape), energies, f"converged at step {t - 1}: gradient below {gtol:g}"
        p = two_loop(g, memory)
        slope = float(g @ p)
        if not slope < 0:  # not downhill: forget the curvature pairs
            memory.clear()
            p, slope = -g, -float(g @ g)
        longest = float(np.sqrt(np.max(p[0::2] ** 2 + p[1::2] ** 2)))
        step = min(1.0, max_move * RADIUS / longest)
        for _ in range(max_backtracks):  # Armijo backtracking
            x_new = x + step * p
            reason = runaway(x_new.reshape(shape))
            if reason is None:
                try:
                    f_new, g_new = evaluate(x_new)
                except PiledUp as crowded:
                    return x.reshape(shape), energies, f"diverged at step {t}: circles piled up, {crowded}"
                if math.isfinite(f_new) and f_new <= f + c1 * step * slope:
                    break
            step *= 0.5
        else:
            if reason is not None:
                return x.reshape(shape), energies, f"diverged at step {t}: {reason}"
            return x.reshape(shape), energies, (f"stopped at step {t - 1}: the line search found no "
                                                f"decrease (converged to rounding)")
        s, y = x_new - x, g_new - g
        if float(s @ y) > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            memory.append((s, y, 1.0 / float(s @ y)))
            del memory[:-size]
        x, f, g = x_new, f_new, g_new
        energies.append(f)
    return x.reshape(shape), energies, f"ran {steps} steps"
'''

_METRICS = '''
def crossings(X, edges):
    """Pairs of links (without a shared end) whose segments properly cross, testing every pair."""
    ax, ay, bx, by = X[edges[:, 0], 0], X[edges[:, 0], 1], X[edges[:, 1], 0], X[edges[:, 1], 1]

    def side(s, px, py):  # which side of segment s the point p is on
        return np.sign((bx[s] - ax[s]) * (py - ay[s]) - (by[s] - ay[s]) * (px - ax[s]))

    m, total = len(edges), 0
    for p in range(m - 1):
        q = np.arange(p + 1, m)
        apart = ((edges[q, 0] != edges[p, 0]) & (edges[q, 0] != edges[p, 1])
                 & (edges[q, 1] != edges[p, 0]) & (edges[q, 1] != edges[p, 1]))
        q = q[apart]
        hit = side(p, ax[q], ay[q]) * side(p, bx[q], by[q]) < 0
        q = q[hit]
        total += int(np.count_nonzero(side(q, ax[p], ay[p]) * side(q, bx[p], by[p]) < 0))
    return total


def report_layout(name, X, edges, energies, message):
    print(name + ":", message)
    lengths = np.linalg.norm(X[edges[:, 0]] - X[edges[:, 1]], axis=1) / CONTACT
    close = pairs_within(X, CONTACT * (1.0 - 0.01))  # deeper than 1% of a diameter
    report(name + ".steps_run", len(energies) - 1)
    report(name + ".energy", energies[-1])
    report(name + ".overlapping_pairs", len(close))
    report(name + ".mean_link_ratio", lengths.mean() if len(edges) else float("nan"))  # 1 = touching
    report(name + ".crossings", crossings(X, edges))
    report(name + ".first_positions", X[:3])
'''

_MAIN = '''
edges = make_graph(N, GRAPH_SEED)
$runs
'''


def _run_code(name: str, optimizer: str, hyper: tuple, init: str) -> str:
    start = "random_start(N, GRAPH_SEED)" if init == "random" else "smart_start(edges, N, GRAPH_SEED)"
    if optimizer == "lbfgs":
        call, runner = f"lbfgs({', '.join(f'{k}={literal(v)}' for k, v in hyper)})", "run_lbfgs"
    else:
        call, runner = optimizer_call(optimizer, dict(hyper)), "run"
    return (f"X, energies, message = {runner}({call},\n"
            f"    {start}, edges, STEPS)\n"
            f"report_layout({name!r}, X, edges, energies, message)")


def scene_script(first: str, scene: lesson.Scene, extra: tuple[str, ...] = ()) -> str:
    """A script that runs every run of `scene` and prints where each ends."""
    names = [r.optimizer for r in scene.runs]
    inits = {r.init for r in scene.runs}
    gradient = [n for n in names if n != "lbfgs"]
    if scene.graph:
        _, links = lesson.graph_edges("", 0, 0, scene.graph)
        graph, described = [_CANONICAL, render(_OWN_GRAPH, links=Code(wrapped(links.tolist())))], "Your graph"
    else:
        graph = [_CANONICAL, *([_RANDOM_TREE] if scene.family in ("tree", "random") else []), GRAPHS[scene.family]]
        described = FAMILY_NAMES[scene.family].capitalize()
    return script(
        header(first, *extra,
               f"{described} of {scene.n:,} circles of radius 1: the energy pulls linked",
               "circles until they touch and pushes overlapping ones apart; optimizers minimize it",
               "the way they train a network's weights.",
               "The site finds overlapping circles with a k-d tree, this script by sorting them along x:",
               "both add the same overlaps, in another order. The numbers agree to rounding, but a",
               "run through a big pile-up of circles can amplify those differences and end elsewhere."),
        imports("math"), REPORT,
        render(_SETTINGS, family="your graph" if scene.graph else scene.family, n=scene.n, seed=scene.seed,
               steps=scene.steps),
        *graph, _PAIRS, _RANDOM_START, _SMART_START if "smart" in inits else "", _ENERGY,
        optimizer_code(*gradient) if gradient else "", _RUN if gradient else "", _LBFGS if "lbfgs" in names else "",
        _METRICS,
        render(_MAIN, runs=Code("\n\n".join(_run_code(k, r.optimizer, r.hyper, r.init)
                                            for k, r in zip(run_keys(scene), scene.runs)))))


def run_keys(scene: lesson.Scene) -> list[str]:
    """The names the script prints each run of `scene` under."""
    names = [r.optimizer for r in scene.runs]
    return [name if names.count(name) == 1 else f"{name}_{r.init}" for name, r in zip(names, scene.runs)]


def script_text(values: dict, figure: str) -> str:
    """The script of the runs the step showing `figure` lays out (free play: the settings')."""
    if figure in lesson.NARRATED and lesson.NARRATED[figure].steps > 0:
        extra = ("The step also measures how often each optimizer ends tangled over 50 random trees;",
                 "this script runs the scene itself.") if figure == "tangle" else ()
        return scene_script(f"Graph layout: {SHOWS.get(figure, 'the step')}.", lesson.NARRATED[figure], extra)
    scene, notes = lesson.playground_scene(values)
    first = ("Graph layout: the playground with these settings." if figure == "free" else
             "Graph layout: this step draws a fixed layout; this script reproduces the playground.")
    return scene_script(first, scene, tuple(notes))
