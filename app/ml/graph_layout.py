"""Circle graph layout: the optimizer playground of the graph-layout lesson.

Every node of a graph is a circle of radius ``r``. A layout is a position per
circle, ``X: (n, 2) float`` in the same length unit as ``r``. Connected circles
should touch and no two circles should overlap, so the objective is

    E(X) = sum_{(i, j) in edges} max(0, d_ij - 2r)^2
         + w * sum_{i < j}       max(0, 2r - d_ij)^2,      d_ij = |x_i - x_j|

(units: length squared). The first sum pulls linked circles together until
they touch; the second pushes overlapping circles apart, with the overlap
weight ``w`` (default 4: an overlap shows sooner than a long link). Both
terms are squared hinges, so E has a continuous gradient

    dE/dx_i = sum_edges 2 max(0, d_ij - 2r) (x_i - x_j) / d_ij
            - w sum_pairs 2 max(0, 2r - d_ij) (x_i - x_j) / d_ij

and ML optimizers (``app.ml.optim``) minimize it step by step, the way they
move the weights of a network: the reader watches the circles move.

Only circles closer than 2r overlap, so the overlap sum never looks at all
n^2/2 pairs: a k-d tree (``scipy.spatial.cKDTree``) lists the candidate pairs
within 2r + skin, and the list is rebuilt only when some circle has moved more
than skin/2 since the last query (a Verlet list). Between two rebuilds no pair
can come from beyond 2r + skin to within 2r, so the objective stays exact.

What is here:

- ``make_graph(family, n, seed)``: random connected graphs (as in the seed),
  random trees, and two families with a known good layout, a triangular grid
  and a random geometric graph (``reference_layout`` gives that layout).
- ``layout_loss_and_grad`` and ``layout_metrics`` (overlapping pairs, edge
  lengths relative to touching, edge crossings).
- Starts: ``random_start`` and ``smart_start`` (pivot MDS).
- ``run_layout``: a whole run with any optimizer of ``app.ml.optim`` or the
  quasi-Newton ``lbfgs`` written here, returning a ``LayoutHistory``.
- ``tangle_rate``: how often runs end tangled, per optimizer.

All sizes are bounded by the module constants below; functions raise
ValueError naming the limit.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree, shortest_path
from scipy.spatial import Delaunay, cKDTree

from app.ml import divergence, optim

# --------------------------------------------------------------------------
# Limits and constants

MAX_NODES = 20_000              # circles in one layout
MAX_EDGES = 200_000             # edges in one graph
MAX_STEPS = 10_000              # optimizer steps in one run
MAX_NODE_STEPS = 20_000_000     # n * steps of one run: bounds the work of a request
MAX_KEPT_FLOATS = 2_000_000     # position floats a history keeps (frames are sub-sampled)
MAX_TRIALS = 1_000              # runs in one tangle_rate
MAX_PIVOTS = 200                # pivots of the smart start
MAX_NEAR_PAIRS_PER_NODE = 256   # candidate pairs per circle before a run counts as piled up
RADIUS_RANGE = (1e-3, 1e3)      # allowed circle radius
MAX_OVERLAP_WEIGHT = 1e4        # largest overlap weight w
DIVERGENCE_EXTENT = 1e6         # a run diverges when a circle is this many radii from the origin
DEFAULT_OVERLAP_WEIGHT = 4.0    # w: an overlap costs 4x a stretched link of the same depth

OVERLAP_TOLERANCE = 0.01        # metrics count a pair as overlapping when d < 2r (1 - this)
_ROUNDING = 1e-9                # overlaps shallower than this share of a diameter are rounding
CROSSING_PAIR_BUDGET = 1_000_000  # segment tests before crossings are estimated

FAMILIES = ("random", "tree", "grid", "geometric")
INITS = ("random", "smart")

# Hyperparameters the lesson starts from, for positions in units of the radius.
# Anything not named here takes the default of optim.OPTIMIZERS.
LESSON_DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"lr": 0.02},
    "momentum": {"lr": 0.02, "momentum": 0.9},
    "nesterov": {"lr": 0.02, "momentum": 0.9},
    "kochenderfer_nesterov": {"lr": 0.02, "beta": 0.9},
    "adagrad": {"lr": 0.5},
    "rmsprop": {"lr": 0.02},
    "adadelta": {"lr": 1.0},
    "adam": {"lr": 0.1},
    "adamw": {"lr": 0.1, "weight_decay": 0.0},
    "hypergradient_sgd": {"lr": 0.02, "hyper_lr": 1e-6},
    "hypergradient_adam": {"lr": 0.1, "hyper_lr": 1e-6},
}
OPTIMIZER_NAMES: tuple[str, ...] = tuple(optim.OPTIMIZERS) + ("lbfgs",)

_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


# --------------------------------------------------------------------------
# Argument checks


def _count(name: str, value: Any, low: int, high: int, limit_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < low or value > high:
        raise ValueError(f"{name} must be between {low} and {high:,} ({limit_name}), got {value:,}")
    return value


def _real(name: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if (value <= low if low_open else value < low) or value > high:
        left = "(" if low_open else "["
        raise ValueError(f"{name} must be in {left}{low:g}, {high:g}], got {value!r}")
    return value


def _seed(seed: Any) -> int:
    return _count("seed", seed, 0, 2**63 - 1, "a non-negative integer")


def _nodes(n: Any) -> int:
    return _count("n (number of circles)", n, 1, MAX_NODES, "MAX_NODES")


def _radius(radius: Any) -> float:
    return _real("radius", radius, RADIUS_RANGE[0], RADIUS_RANGE[1])


def _edges(edges: Any, n: int) -> np.ndarray:
    """Check an edge list and return it canonical: (m, 2) int64, i < j, sorted, no duplicates."""
    e = np.asarray(edges)
    if e.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    if e.ndim != 2 or e.shape[1] != 2:
        raise ValueError(f"edges must have shape (m, 2), got {e.shape}")
    if not np.issubdtype(e.dtype, np.integer):
        raise ValueError(f"edges must be integer node indices, got dtype {e.dtype}")
    if len(e) > MAX_EDGES:
        raise ValueError(f"a graph may have at most {MAX_EDGES:,} edges (MAX_EDGES), got {len(e):,}")
    if e.min() < 0 or e.max() >= n:
        raise ValueError(f"edge endpoints must be in [0, {n - 1}] for n={n}, "
                         f"got values from {e.min()} to {e.max()}")
    if np.any(e[:, 0] == e[:, 1]):
        k = int(np.flatnonzero(e[:, 0] == e[:, 1])[0])
        raise ValueError(f"edge {k} joins node {e[k, 0]} to itself; self-loops are not allowed")
    return _canonical(e.astype(np.int64))


def _layout(positions: Any, radius: float) -> np.ndarray:
    """Check a layout given without n: (n, 2) finite floats, 1 <= n <= MAX_NODES."""
    X = np.asarray(positions, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"positions must have shape (n, 2), got {X.shape}")
    return _positions(X, _nodes(X.shape[0]), radius)


def _canonical(e: np.ndarray) -> np.ndarray:
    if len(e) and (e[:, 0] < e[:, 1]).all():
        keys = e[:, 0] * (int(e.max()) + 1) + e[:, 1]
        if (np.diff(keys) > 0).all():       # canonical already (as every edge list made here is): no sort
            return e
    e = np.sort(e, axis=1)
    return np.unique(e, axis=0) if len(e) else e.reshape(0, 2)


def _positions(X: Any, n: int, radius: float, name: str = "positions") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.shape != (n, 2):
        raise ValueError(f"{name} must have shape ({n}, 2), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    if n and np.abs(X).max() > DIVERGENCE_EXTENT * radius:
        raise ValueError(f"{name} must lie within {DIVERGENCE_EXTENT:g} radii of the origin "
                         f"(DIVERGENCE_EXTENT)")
    return np.ascontiguousarray(X)


# --------------------------------------------------------------------------
# Graph families


def make_graph(family: str, n: int, seed: int = 0) -> np.ndarray:
    """Edges of a graph of the given family: (m, 2) int64, i < j, sorted, no duplicates.

    family:
      "random"    a random tree plus n // 2 random extra edges (average degree
                  about 3), as in the seed: connected, usually not planar.
      "tree"      a random recursive tree (node k hangs from a random earlier
                  node), labels shuffled.
      "grid"      a grid of ceil(sqrt(n)) columns with one diagonal per cell,
                  i.e. a triangular lattice: its hexagonal packing has every
                  edge touching, no overlap and no crossing (energy 0).
      "geometric" random points no closer than one diameter (hard-core
                  thinning), joined when within 2.6 diameters, plus their
                  Euclidean minimum spanning tree so the graph is connected.
    n: 1..MAX_NODES. Same (family, n, seed) gives the same graph.
    """
    return _generate(family, _nodes(n), _seed(seed))[0]


def reference_layout(family: str, n: int, seed: int = 0, radius: float = 1.0) -> np.ndarray | None:
    """The known good layout of ``make_graph(family, n, seed)``, (n, 2) float, or None.

    "grid": the hexagonal packing (all edges exactly touching, no overlaps,
    no crossings). "geometric": the generating points scaled so the hard-core
    distance is one diameter (no overlaps). Other families have none.
    """
    _, unit_positions = _generate(family, _nodes(n), _seed(seed))
    return None if unit_positions is None else unit_positions * (2.0 * _radius(radius))


def _generate(family: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(edges, positions in units of one diameter or None)."""
    rng = np.random.default_rng(seed)
    if family == "random":
        tree = _random_tree(n, rng)
        extra = rng.integers(0, n, size=(n // 2, 2)) if n > 1 else np.empty((0, 2), np.int64)
        extra = extra[extra[:, 0] != extra[:, 1]]
        return _canonical(np.vstack([tree, extra])), None
    if family == "tree":
        return _canonical(_random_tree(n, rng)), None
    if family == "grid":
        return _triangular_grid(n)
    if family == "geometric":
        return _geometric(n, rng)
    raise ValueError(f"unknown graph family {family!r}; known: {', '.join(FAMILIES)}")


def _random_tree(n: int, rng: np.random.Generator) -> np.ndarray:
    child = np.arange(1, n)
    parent = np.floor(rng.random(n - 1) * child).astype(np.int64)   # uniform in [0, child)
    labels = rng.permutation(n)
    return labels[np.column_stack([parent, child])]


def _triangular_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    cols = math.ceil(math.sqrt(n))
    k = np.arange(n)
    row, col = k // cols, k % cols
    right = k[(col < cols - 1) & (k + 1 < n)]
    down = k[k + cols < n]
    diagonal = k[(col < cols - 1) & (k + cols + 1 < n)]
    edges = np.vstack([np.column_stack([right, right + 1]),
                       np.column_stack([down, down + cols]),
                       np.column_stack([diagonal, diagonal + cols + 1])])
    # Lattice vectors (1, 0) along a row and (-1/2, sqrt(3)/2) down a column:
    # right, down and diagonal neighbours are all exactly one diameter away.
    positions = np.column_stack([col - 0.5 * row, row * (math.sqrt(3.0) / 2.0)]).astype(float)
    return _canonical(edges), positions


_GEOMETRIC_LINK = 2.6   # join points closer than this many hard-core distances


def _geometric(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # Matern type II hard-core process: throw points, then drop every point
    # that has a neighbour closer than 1 with a smaller random mark.
    side = math.sqrt(2.2 * math.pi * n)
    candidates = 3 * n + 10
    while True:
        P = rng.random((candidates, 2)) * side
        mark = rng.random(candidates)
        close = cKDTree(P).query_pairs(1.0, output_type="ndarray")
        loser = np.where(mark[close[:, 0]] < mark[close[:, 1]], close[:, 1], close[:, 0])
        keep = np.setdiff1d(np.arange(candidates), loser)
        if len(keep) >= n:
            break
        candidates *= 2
    P = P[rng.choice(keep, size=n, replace=False)]
    near = cKDTree(P).query_pairs(_GEOMETRIC_LINK, output_type="ndarray")
    return _canonical(np.vstack([near, _euclidean_mst(P)])), P


def _euclidean_mst(P: np.ndarray) -> np.ndarray:
    n = len(P)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    if n < 4:
        candidates = np.array([(i, j) for i in range(n) for j in range(i + 1, n)])
    else:   # the minimum spanning tree is a subgraph of the Delaunay triangulation
        tri = Delaunay(P).simplices
        candidates = _canonical(np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]]))
    length = np.linalg.norm(P[candidates[:, 0]] - P[candidates[:, 1]], axis=1)
    mst = minimum_spanning_tree(coo_matrix((length, (candidates[:, 0], candidates[:, 1])),
                                           shape=(n, n))).tocoo()
    return np.column_stack([mst.row, mst.col]).astype(np.int64)


# --------------------------------------------------------------------------
# Objective and gradient


class _Links(NamedTuple):
    """The terms of E: the m edges, then candidate pairs (k links in all), as places
    in X.ravel() = (x_0, y_0, x_1, y_1, ...).

    first, second: (2k,) int; entries 2l and 2l + 1 are 2i and 2i + 1, the
    places of x_i and y_i, for node i at link l's first (second) end.
    """

    first: np.ndarray
    second: np.ndarray
    edges: int

    @property
    def pairs(self) -> int:
        return len(self.first) // 2 - self.edges


def _links(edges: np.ndarray, pairs: np.ndarray) -> _Links:
    """The links of edges: (m, 2) int, then pairs: (c, 2) int."""
    places = np.empty((2, len(edges) + len(pairs), 2), dtype=np.int64)   # [end, link, x or y]
    places[:, :, 0] = 2 * np.concatenate([edges, pairs]).T
    places[:, :, 1] = places[:, :, 0] + 1
    return _Links(places[0].ravel(), places[1].ravel(), len(edges))


def _objective(X: np.ndarray, links: _Links, contact: float,
               overlap_weight: float) -> tuple[float, np.ndarray]:
    """E(X) and dE/dX: (float, (n, 2)) for positions X: (n, 2).

    links: the edges and candidate pairs, which include every pair closer than
    ``contact`` (= 2r); pairs further apart add nothing.
    """
    n = X.shape[0]
    m, k = links.edges, len(links.first) // 2
    xy = X.ravel()
    D = xy[links.first] - xy[links.second]   # (2k,): dx, dy of every link
    D2 = D * D
    d = np.sqrt(D2[0::2] + D2[1::2])
    reach = np.maximum(d[:m], contact)
    stretch = reach - contact              # max(0, d - contact), exactly
    energy = float(stretch.dot(stretch))   # ndarray.dot: as @, with less call overhead
    # Every link gets a force coefficient; pairs that do not overlap keep 0, and their
    # +-0 terms leave the gradient's sums exactly as if they were left out.
    coef = np.zeros(k)
    np.divide(2.0 * stretch, reach, out=coef[:m])

    if overlap_weight > 0 and k > m:
        d = d[m:]                          # the pairs' distances from here on
        near = (d < contact).nonzero()[0]
        if len(near):
            d = d[near]
            depth = contact - d
            energy += overlap_weight * float(depth.dot(depth))
            same = d < 1e-12 * contact
            if np.count_nonzero(same):
                # Coincident centres: the gradient has no direction there; push
                # along a fixed direction per pair (a valid subgradient).
                x = 2 * (m + near[same])           # places of their dx (then dy) in D
                angle = _GOLDEN_ANGLE * (links.first[x] // 2 * 7919.0 + links.second[x] // 2)
                D[x], D[x + 1], d[same] = np.cos(angle), np.sin(angle), 1.0
            coef[m:][near] = -2.0 * overlap_weight * depth / d

    force = coef.repeat(2) * D
    grad = (np.bincount(links.first, force, minlength=2 * n)
            - np.bincount(links.second, force, minlength=2 * n))
    return energy, grad.reshape(n, 2)


def _pairs_within(X: np.ndarray, distance: float) -> np.ndarray:
    """All pairs i < j with |x_i - x_j| <= distance: (c, 2) int64."""
    tree = cKDTree(X, balanced_tree=False, compact_nodes=False)
    return tree.query_pairs(distance, output_type="ndarray").astype(np.int64, copy=False)


def layout_loss_and_grad(positions: np.ndarray, edges: np.ndarray, radius: float = 1.0,
                         overlap_weight: float = DEFAULT_OVERLAP_WEIGHT) -> tuple[float, np.ndarray]:
    """The objective E and its exact gradient at one layout.

    positions: (n, 2) float, same unit as radius; edges: (m, 2) int.
    Returns (E: float, dE/dX: (n, 2) float). Overlapping pairs are found
    with a k-d tree, not an all-pairs matrix.
    """
    r = _radius(radius)
    w = _real("overlap_weight", overlap_weight, 0.0, MAX_OVERLAP_WEIGHT)
    X = _layout(positions, r)
    E = _edges(edges, len(X))
    return _objective(X, _links(E, _pairs_within(X, 2.0 * r)), 2.0 * r, w)


@dataclass(frozen=True, eq=False)
class CircleLayoutModel:
    """The layout as a model for the generic trainer (``train.run``).

    params: (n, 2) positions; ``X``, ``y`` are unused (there is no data set,
    only the graph). Each call finds overlapping pairs afresh, so it is exact
    but slower than ``run_layout``, which keeps a Verlet list.
    """

    edges: np.ndarray
    n: int
    radius: float = 1.0
    overlap_weight: float = DEFAULT_OVERLAP_WEIGHT

    def init(self, seed: int) -> np.ndarray:
        return random_start(self.n, seed, self.radius)

    def loss_and_grad(self, params: np.ndarray, X: Any = None, y: Any = None) -> tuple[float, np.ndarray]:
        return layout_loss_and_grad(params, self.edges, self.radius, self.overlap_weight)


# --------------------------------------------------------------------------
# Near pairs kept between steps (Verlet list)


class _PiledUp(Exception):
    """More candidate pairs than MAX_NEAR_PAIRS_PER_NODE * n."""


class _NearPairs(NamedTuple):
    reference: np.ndarray   # (n, 2) positions when the list was built
    links: _Links           # the edges, then all pairs within contact + skin at ``reference``
    queries: int            # how many times the list has been built
    bound: float            # largest |coordinate| of ``reference``, plus skin


def _moved_little(near: _NearPairs, X: np.ndarray, skin: float) -> bool:
    """Whether every circle of X: (n, 2) is within skin / 2 of the list's reference
    (False for non-finite X)."""
    moved = X - near.reference
    moved *= moved
    return bool((moved[:, 0] + moved[:, 1]).max() <= (0.5 * skin) ** 2)   # n >= 1: max has a value


def _near_pairs(near: _NearPairs | None, X: np.ndarray, edges: np.ndarray, contact: float,
                skin: float) -> _NearPairs:
    """The candidate list for X (with edges: (m, 2) int), rebuilt only if some circle moved
    more than skin / 2."""
    if near is not None and _moved_little(near, X, skin):
        return near
    return _listed(near, X, edges, contact, skin)


def _listed(near: _NearPairs | None, X: np.ndarray, edges: np.ndarray, contact: float,
            skin: float) -> _NearPairs:
    """A new candidate list for X, replacing ``near`` (None: the first)."""
    n = len(X)
    limit = MAX_NEAR_PAIRS_PER_NODE * n
    tree = cKDTree(X, balanced_tree=False, compact_nodes=False)
    if near is None or near.links.pairs > limit // 8:
        # Count before listing when circles crowd, so a pile-up cannot allocate n^2 pairs.
        if (tree.count_neighbors(tree, contact + skin) - n) // 2 > limit:
            raise _PiledUp(f"more than {limit:,} near pairs "
                           f"({MAX_NEAR_PAIRS_PER_NODE} per circle, MAX_NEAR_PAIRS_PER_NODE)")
    pairs = tree.query_pairs(contact + skin, output_type="ndarray").astype(np.int64, copy=False)
    return _NearPairs(X.copy(), _links(edges, pairs), 1 if near is None else near.queries + 1,
                      float(np.abs(X).max()) + skin)


def _advance(near: _NearPairs, X: np.ndarray, edges: np.ndarray, contact: float, skin: float,
             radius: float) -> tuple[_NearPairs, str | None]:
    """The candidate list at a step's new positions X: (n, 2), and why X ends the run (None
    if it does not): ``_bad_positions``, or circles piled up."""
    if _moved_little(near, X, skin):
        # Then X is finite and no coordinate is beyond near.bound - skin / 2 (the skin
        # leaves room for rounding): within DIVERGENCE_EXTENT, X needs no other check.
        return near, None if near.bound <= DIVERGENCE_EXTENT * radius else _bad_positions(X, radius)
    why = _bad_positions(X, radius)
    if why is None:
        try:
            near = _listed(near, X, edges, contact, skin)
        except _PiledUp as crowded:
            why = f"circles piled up, {crowded}"
    return near, why


# --------------------------------------------------------------------------
# Starts


def random_start(n: int, seed: int = 0, radius: float = 1.0) -> np.ndarray:
    """Uniform positions in a square of side 4r sqrt(n) (circles cover about 20%): (n, 2)."""
    n, r = _nodes(n), _radius(radius)
    side = 4.0 * r * math.sqrt(n)
    return (np.random.default_rng(_seed(seed)).random((n, 2)) - 0.5) * side


_SMART_DENSITY = 0.8   # share of the plane the circles of a smart start may cover at most


def smart_start(edges: np.ndarray, n: int, seed: int = 0, radius: float = 1.0,
                pivots: int = 50) -> np.ndarray:
    """Pivot MDS (Brandes & Pich 2006): positions whose distances follow graph distances.

    Breadth-first distances from k pivots (chosen far apart: each next pivot
    is the node furthest from those chosen) give D: (n, k) hop counts.
    Double centring -1/2 D^2 and taking its top two singular directions
    embeds the nodes in the plane the way classical MDS would. The result is
    scaled so edges are about one diameter long (least squares), but never
    so small that the circles would cover more than 80% of a disc of the
    same spread (graphs of small diameter, such as random graphs, would
    otherwise pile up), then jittered so that nodes with equal distances do
    not coincide (more where more circles crowd one spot).
    Unconnected parts are placed one hop beyond the furthest node.
    Returns (n, 2) float.
    """
    n, r, rng = _nodes(n), _radius(radius), np.random.default_rng(_seed(seed))
    E = _edges(edges, n)
    k = min(_count("pivots", pivots, 1, MAX_PIVOTS, "MAX_PIVOTS"), n)
    if n < 3 or len(E) == 0:
        return random_start(n, seed, radius)
    adjacency = coo_matrix((np.ones(len(E)), (E[:, 0], E[:, 1])), shape=(n, n)).tocsr()
    D = np.empty((n, k))
    nearest = np.full(n, np.inf)
    pivot = int(rng.integers(n))
    for c in range(k):
        D[:, c] = shortest_path(adjacency, directed=False, unweighted=True, indices=pivot)
        nearest = np.minimum(nearest, D[:, c])
        pivot = int(np.argmax(nearest))   # inf (another component) wins first
    finite = np.isfinite(D)
    D[~finite] = D[finite].max() + 1.0
    S = D ** 2
    C = -0.5 * (S - S.mean(axis=0) - S.mean(axis=1, keepdims=True) + S.mean())
    U, sigma, _ = np.linalg.svd(C, full_matrices=False)
    # C C^T ~ (k / n) B^2 for the full centred matrix B, so sigma ~ eigenvalue of B
    # up to one factor, and classical MDS coordinates are u * sqrt(eigenvalue).
    Y = U[:, :2] * np.sqrt(sigma[:2])
    if Y.shape[1] < 2:
        Y = np.column_stack([Y, np.zeros(n)])
    Y -= Y.mean(axis=0)
    lengths = np.linalg.norm(Y[E[:, 0]] - Y[E[:, 1]], axis=1)
    scale = 2.0 * r * lengths.sum() / max(float(lengths @ lengths), 1e-300)
    # Graphs of small diameter (random graphs) would be squeezed by that scale:
    # keep at least the spread of a disc that circles fill to _SMART_DENSITY.
    spread = math.sqrt(max(float(np.mean(np.sum(Y * Y, axis=1))), 1e-300))
    scale = max(scale, r * math.sqrt(n / (2.0 * _SMART_DENSITY)) / spread)
    Y = Y * scale
    # Hop distances are integers, so nodes with equal distances to every pivot
    # (leaves of one parent, say) land on one spot. Jitter each node by 0.1 r,
    # and where c >= 3 circles lie within one radius of it (itself included)
    # by 0.5 r sqrt(c - 2) more, which spreads a pile over about the area it
    # needs. Pairs are left to the gradient: a wider jitter would fold grids.
    crowd = cKDTree(Y).query_ball_point(Y, r, return_length=True)
    spread = r * (0.1 + 0.5 * np.sqrt(np.maximum(crowd - 2.0, 0.0)))
    Y = Y + rng.normal(size=(n, 2)) * spread[:, None]
    limit = 0.5 * DIVERGENCE_EXTENT * r
    return np.clip(Y, -limit, limit)


def _start(init: Any, edges: np.ndarray, n: int, seed: int, radius: float) -> np.ndarray:
    if isinstance(init, str):
        if init == "random":
            return random_start(n, seed, radius)
        if init == "smart":
            return smart_start(edges, n, seed, radius)
        raise ValueError(f"unknown init {init!r}; known: {', '.join(INITS)} or an (n, 2) array")
    return _positions(init, n, radius, "init positions").copy()


# --------------------------------------------------------------------------
# Quality metrics


def layout_metrics(positions: np.ndarray, edges: np.ndarray, radius: float = 1.0, *,
                   tolerance: float = OVERLAP_TOLERANCE, seed: int = 0,
                   overlap_weight: float = DEFAULT_OVERLAP_WEIGHT) -> dict[str, Any]:
    """How good a layout is. positions: (n, 2) float; edges: (m, 2) int.

    Returns a dict:
      overlapping_pairs  pairs with d < 2r (1 - tolerance) (default: deeper than 1%
                         of a diameter; tolerance=0 counts every overlap deeper
                         than rounding, 1e-9 of a diameter)
      max_overlap        deepest overlap as a fraction of the diameter (0 if none)
      mean_edge_ratio, max_edge_ratio   edge length / 2r (1 = touching); None without edges
      crossings          pairs of edges (without a shared end) whose segments cross
      crossings_exact    True when every candidate pair was tested; False when the
                         count is estimated from a sample of edges (more than
                         CROSSING_PAIR_BUDGET candidate pairs)
      crossings_stderr   standard error of the estimate (0 when exact)
      energy             E(X) with the given overlap weight
    """
    r = _radius(radius)
    tol = _real("tolerance", tolerance, 0.0, 0.5)
    w = _real("overlap_weight", overlap_weight, 0.0, MAX_OVERLAP_WEIGHT)
    X = _layout(positions, r)
    n = len(X)
    E = _edges(edges, n)
    contact = 2.0 * r

    tree = cKDTree(X)
    below = contact * (1.0 - max(tol, _ROUNDING))
    overlapping = (int(tree.count_neighbors(tree, below)) - n) // 2
    if n > 1:
        nearest = tree.query(X, k=2)[0][:, 1].min()
        max_overlap = max(0.0, (contact - float(nearest)) / contact)
    else:
        max_overlap = 0.0
    lengths = np.linalg.norm(X[E[:, 0]] - X[E[:, 1]], axis=1) / contact
    crossings, exact, stderr = count_crossings(X, E, seed=seed)
    energy, _ = _objective(X, _links(E, _pairs_within(X, contact)), contact, w)
    return {
        "nodes": n,
        "edges": len(E),
        "overlapping_pairs": overlapping,
        "max_overlap": max_overlap,
        "mean_edge_ratio": float(lengths.mean()) if len(E) else None,
        "max_edge_ratio": float(lengths.max()) if len(E) else None,
        "crossings": crossings,
        "crossings_exact": exact,
        "crossings_stderr": stderr,
        "energy": energy,
    }


def count_crossings(positions: np.ndarray, edges: np.ndarray, *, seed: int = 0,
                    budget: int = CROSSING_PAIR_BUDGET) -> tuple[int, bool, float]:
    """Edge crossings of a straight-line drawing: (count, exact, standard error).

    positions: (n, 2) float; edges: (m, 2) int. Only proper crossings count:
    edges sharing an end, touching or collinear segments do not.

    Exact when it takes at most ``budget`` segment tests: the k longest
    edges are tested against every edge, and the others against the edges
    whose midpoints are within the sum of both half-lengths (found with a k-d
    tree), since farther segments cannot meet; k (0, 1, 4, 16, ...) is
    chosen to need few tests.
    Otherwise s = budget // m random edges (``seed``) are each tested
    against all m edges and the count is estimated as m / (2s) times their
    crossings (unbiased), rounded; the standard error comes with it.
    """
    X, E = np.asarray(positions, dtype=float), np.asarray(edges, dtype=np.int64)
    m = len(E)
    if m < 2:
        return 0, True, 0.0
    segments = _Segments(E, X)
    half = 0.5 * np.hypot(segments.bx - segments.ax, segments.by - segments.ay)
    order = np.argsort(-half, kind="stable")
    mid = np.column_stack([segments.ax + segments.bx, segments.ay + segments.by]) * 0.5

    def near_pairs(n_long):   # k-d tree on the other midpoints, its reach, and its pair count
        tree = cKDTree(mid[order[n_long:]])
        reach = 2.0 * float(half[order[n_long]])
        return tree, reach, (int(tree.count_neighbors(tree, reach)) - (m - n_long)) // 2

    # How many of the longest edges to test against all: candidate pairs grow
    # about as reach^2, so predict the cheapest of k = 0, 1, 4, 16, ... and count it.
    tree, reach, candidates = near_pairs(0)
    n_long = 0
    options = [4**k for k in range(12) if 4**k <= budget // (2 * m) and 4**k < m]
    if candidates > 0 and options:
        predicted = [candidates * (half[order[k]] / half[order[0]]) ** 2 + k * m for k in options]
        k = options[int(np.argmin(predicted))]
        if min(predicted) < candidates:
            tree_k, reach_k, candidates_k = near_pairs(k)
            if candidates_k + k * m < candidates:
                tree, reach, candidates, n_long = tree_k, reach_k, candidates_k, k
    cost = candidates + n_long * m
    long, short = order[:n_long], order[n_long:]
    rank = np.full(m, m)
    rank[long] = np.arange(n_long)
    if cost <= budget:
        total = 0
        for chunk in np.array_split(long, max(1, n_long * m // _CHUNK)):
            p, q = np.repeat(chunk, m), np.tile(np.arange(m), len(chunk))
            keep = rank[q] > rank[p]          # each long pair once, every long-short pair
            total += int(segments.cross(p[keep], q[keep]).sum())
        if candidates:
            pairs = short[tree.query_pairs(reach, output_type="ndarray")]
            for chunk in np.array_split(pairs, max(1, len(pairs) // _CHUNK)):
                p, q = chunk[:, 0], chunk[:, 1]
                gap = np.hypot(segments.ax[p] + segments.bx[p] - segments.ax[q] - segments.bx[q],
                               segments.ay[p] + segments.by[p] - segments.ay[q] - segments.by[q])
                near = gap <= 2.0 * (half[p] + half[q])
                total += int(segments.cross(p[near], q[near]).sum())
        return total, True, 0.0

    rng = np.random.default_rng(_seed(seed))
    s = max(2, min(m, budget // m))
    sample = rng.choice(m, size=s, replace=False)
    per_edge = np.zeros(s)
    for chunk in np.array_split(np.arange(s), max(1, s * m // _CHUNK)):
        p, q = np.repeat(sample[chunk], m), np.tile(np.arange(m), len(chunk))
        hits = segments.cross(p, q)
        per_edge += np.bincount(np.repeat(chunk, m)[hits], minlength=s)
    estimate = m / (2.0 * s) * per_edge.sum()
    stderr = m / 2.0 * math.sqrt(per_edge.var(ddof=1) / s * (1.0 - s / m))
    return int(round(estimate)), False, stderr


_CHUNK = 250_000   # segment pairs tested at once (bounds temporary memory)


class _Segments:
    """The edges of a drawing as segments (a -> b), coordinates as 1-D arrays."""

    def __init__(self, E: np.ndarray, X: np.ndarray):
        self.E = E
        self.ax, self.ay = X[E[:, 0], 0], X[E[:, 0], 1]
        self.bx, self.by = X[E[:, 1], 0], X[E[:, 1], 1]

    def _side(self, s: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Sign of the cross product (b - a) x (p - a) for segments s: which side p is on."""
        ax, ay = self.ax[s], self.ay[s]
        return np.sign((self.bx[s] - ax) * (py - ay) - (self.by[s] - ay) * (px - ax))

    def cross(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """(k,) bool: segment p[k] properly crosses segment q[k] (no shared end)."""
        E = self.E
        apart = ((E[p, 0] != E[q, 0]) & (E[p, 0] != E[q, 1])
                 & (E[p, 1] != E[q, 0]) & (E[p, 1] != E[q, 1]))
        # q's ends on opposite sides of p's line, then p's ends on opposite sides of q's.
        straddle = apart & (self._side(p, self.ax[q], self.ay[q])
                            * self._side(p, self.bx[q], self.by[q]) < 0)
        hit = np.flatnonzero(straddle)
        p2, q2 = p[hit], q[hit]
        straddle[hit] = (self._side(q2, self.ax[p2], self.ay[p2])
                         * self._side(q2, self.bx[p2], self.by[p2]) < 0)
        return straddle


# --------------------------------------------------------------------------
# Optimizers


@dataclass(frozen=True)
class LBFGS:
    """Settings of the limited-memory BFGS quasi-Newton method (see ``lbfgs``)."""

    memory: int = 10
    c1: float = 1e-4
    max_backtracks: int = 30
    max_move: float = 4.0      # longest move of any circle in one iteration, in radii
    gtol: float = 1e-9         # stop when the largest gradient entry is below this


def lbfgs(memory: int = 10, c1: float = 1e-4, max_backtracks: int = 30,
          max_move: float = 4.0, gtol: float = 1e-9) -> LBFGS:
    """L-BFGS (Nocedal & Wright, Algorithms 7.4 and 3.1).

    Each iteration: the two-loop recursion turns the last ``memory`` steps
    s_k = x_{k+1} - x_k and gradient changes y_k = g_{k+1} - g_k into the
    direction p = -H g, H ~ inverse Hessian with H_0 = (s.y / y.y) I. Then a
    backtracking line search halves the step t (from 1, or smaller so that
    no circle moves more than ``max_move`` radii) until the Armijo condition
    E(x + t p) <= E(x) + c1 t g.p holds. Pairs with s.y <= 0 are skipped, and
    a direction that is not downhill is replaced by -g.
    """
    return LBFGS(memory=_count("memory", memory, 1, 100, "at most 100"),
                 c1=_real("c1", c1, 0.0, 0.5, low_open=True),
                 max_backtracks=_count("max_backtracks", max_backtracks, 1, 100, "at most 100"),
                 max_move=_real("max_move", max_move, 0.0, 1e3, low_open=True),
                 gtol=_real("gtol", gtol, 0.0, 1e3))


def layout_optimizer(name: str, **hyper: Any) -> optim.GradientTransformation | LBFGS:
    """An optimizer by name with the lesson's defaults (``LESSON_DEFAULTS``).

    name: one of ``OPTIMIZER_NAMES`` (every optimizer of ``optim.OPTIMIZERS``
    plus "lbfgs"). ``hyper`` overrides defaults; values are checked against
    the ranges of ``optim.OPTIMIZERS`` (ValueError for NaN, negative or
    out-of-range rates).
    """
    if name == "lbfgs":
        return lbfgs(**hyper)
    if name not in optim.OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZER_NAMES)}")
    return optim.make(name, **{**LESSON_DEFAULTS.get(name, {}), **hyper})


def _optimizer(optimizer: Any) -> tuple[optim.GradientTransformation | LBFGS, str]:
    if isinstance(optimizer, str):
        return layout_optimizer(optimizer), optimizer
    if isinstance(optimizer, LBFGS):
        return optimizer, "lbfgs"
    if callable(getattr(optimizer, "init", None)) and callable(getattr(optimizer, "update", None)):
        return optimizer, "custom"
    raise ValueError(f"optimizer must be a name ({', '.join(OPTIMIZER_NAMES)}), an "
                     f"optim.GradientTransformation or an LBFGS, got {type(optimizer).__name__}")


# --------------------------------------------------------------------------
# Runs


@dataclass(frozen=True, eq=False)
class LayoutHistory:
    """One optimization run.

    positions:      (F, n, 2) float, the layout at steps ``frame_steps``. All
                    steps 0..last are kept when (last + 1) * n * 2 <=
                    MAX_KEPT_FLOATS; otherwise F = MAX_KEPT_FLOATS // (2n)
                    frames evenly spaced over the planned steps, always
                    including step 0 and the last step run. A run with
                    ``final_only`` keeps the last step run alone (F = 1).
    frame_steps:    (F,) int, increasing, the step of each frame.
    loss:           (S + 1,) float, E at every step 0..S (with that step's
                    overlap weight), S = steps run; every value is finite.
    overlap_weight: (S + 1,) float, the weight w used at each step.
    diverged_at:    None, or the step (steps count from 1, step 0 being the
                    start) whose update gave non-finite or runaway positions,
                    piled circles up, or a non-finite loss; the run stops
                    before recording it, so diverged_at == steps run + 1.
    message:        one sentence saying how the run ended, e.g. "diverged at
                    step 11: the parameters became non-finite; try a smaller
                    learning rate" (``app.ml.divergence``).
    metrics:        ``layout_metrics`` of the last layout, plus "steps_run".
    optimizer:      the optimizer's name ("custom" for a transformation passed in).
    evaluations:    objective evaluations (L-BFGS line searches use several per step).
    neighbour_queries: how often the k-d tree was queried.
    """

    positions: np.ndarray
    frame_steps: np.ndarray
    loss: np.ndarray
    overlap_weight: np.ndarray
    diverged_at: int | None
    message: str
    metrics: dict[str, Any]
    optimizer: str
    evaluations: int
    neighbour_queries: int

    @property
    def final_positions(self) -> np.ndarray:
        """(n, 2) the layout at the last step run."""
        return self.positions[-1]


def frame_steps_for(n: int, steps: int) -> np.ndarray:
    """Steps whose layouts a run of ``steps`` steps on n circles keeps: (F,) int.

    Every step when (steps + 1) * 2n <= MAX_KEPT_FLOATS, else
    MAX_KEPT_FLOATS // (2n) (at least 2) evenly spaced steps from 0 to steps.
    """
    frames = max(2, MAX_KEPT_FLOATS // (2 * n))
    if steps + 1 <= frames:
        return np.arange(steps + 1)
    return np.unique(np.round(np.linspace(0, steps, frames)).astype(np.int64))


@dataclass
class _Recorder:
    """Collects a run's frames and losses (local to one run)."""

    wanted: frozenset[int]   # steps whose positions are kept (``close`` adds the last)
    frames: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    weight: list = field(default_factory=list)

    def record(self, t: int, X: np.ndarray, energy: float, w: float) -> None:
        self.loss.append(energy)
        self.weight.append(w)
        if t in self.wanted:
            self.frames.append(X)
            self.steps.append(t)

    def close(self, t: int, X: np.ndarray) -> None:
        if not self.steps or self.steps[-1] != t:
            self.frames.append(X)
            self.steps.append(t)


def _weight_schedule(w: float, anneal_from: float | None, steps: int) -> np.ndarray:
    """w_t for t = 0..steps: w * anneal_from**(1 - t / (steps / 2)) over the first half, then w."""
    t = np.arange(steps + 1, dtype=float)
    if anneal_from is None or steps == 0:
        return np.full(steps + 1, w)
    progress = np.minimum(1.0, t / max(1.0, 0.5 * steps))
    return w * anneal_from ** (1.0 - progress)


def _bad_positions(X: np.ndarray, radius: float) -> str | None:
    """Why positions X ((n, 2), or flattened) end a run, or None: ``divergence.reason``'s
    non-finite parameters, else graph layout's own, a circle beyond DIVERGENCE_EXTENT radii."""
    if np.abs(X).max() <= DIVERGENCE_EXTENT * radius:   # False for NaN too: one pass checks both
        return None
    return divergence.reason(None, X, f"a circle went beyond {DIVERGENCE_EXTENT:g} radii (DIVERGENCE_EXTENT)")


class _Outcome(NamedTuple):
    """How a run loop ended."""

    X: np.ndarray              # (n, 2) positions at the last recorded step
    last: int                  # the last recorded step
    diverged_at: int | None
    message: str
    evaluations: int
    near: _NearPairs


def run_layout(edges: np.ndarray, n: int, optimizer: Any = "adam", steps: int = 300,
               init: Any = "smart", seed: int = 0, *, radius: float = 1.0,
               overlap_weight: float = DEFAULT_OVERLAP_WEIGHT, anneal_from: float | None = None,
               skin: float | None = None, final_only: bool = False) -> LayoutHistory:
    """Minimize E from a start, step by step, and return the history.

    edges: (m, 2) int; n: circles, 1..MAX_NODES; optimizer: an
    ``optim.GradientTransformation``, an ``LBFGS``, or a name from
    ``OPTIMIZER_NAMES`` (built with ``layout_optimizer``); steps:
    0..MAX_STEPS with n * steps <= MAX_NODE_STEPS; init: "random", "smart"
    or an (n, 2) array; seed: for the start.
    overlap_weight: w of E. anneal_from: if given (in (0, 1]), w ramps
    geometrically from anneal_from * w to w over the first half of the run,
    letting circles pass through each other early on.
    skin: Verlet-list margin in length units (default: one radius).
    final_only: keep only the last layout (positions (1, n, 2), for callers
    that need just the end, as ``tangle_rate``); the run is the same.

    A step whose update makes positions non-finite or runaway, or piles
    circles up, or whose loss is non-finite, ends the run
    (``app.ml.divergence``): ``diverged_at`` names it and the history stops
    at the step before. L-BFGS may also stop early when its
    gradient vanishes or the line search finds no decrease.
    """
    n = _nodes(n)
    E = _edges(edges, n)
    steps = _count("steps", steps, 0, MAX_STEPS, "MAX_STEPS")
    if n * steps > MAX_NODE_STEPS:
        raise ValueError(f"n * steps must be at most {MAX_NODE_STEPS:,} (MAX_NODE_STEPS), "
                         f"got {n:,} * {steps:,} = {n * steps:,}")
    r = _radius(radius)
    w = _real("overlap_weight", overlap_weight, 0.0, MAX_OVERLAP_WEIGHT)
    if anneal_from is not None:
        anneal_from = _real("anneal_from", anneal_from, 0.0, 1.0, low_open=True)
    skin = r if skin is None else _real("skin", skin, 0.0, 10.0 * r, low_open=True)
    seed = _seed(seed)
    opt, name = _optimizer(optimizer)
    X0 = _start(init, E, n, seed, r)

    weights = _weight_schedule(w, anneal_from, steps).tolist()   # floats: cheaper to index and multiply
    recorder = _Recorder(frozenset() if final_only else frozenset(frame_steps_for(n, steps).tolist()))
    try:
        near = _listed(None, X0, E, 2.0 * r, skin)
    except _PiledUp as crowded:
        raise ValueError(f"the start piles circles up: {crowded}") from None
    run = _run_lbfgs if isinstance(opt, LBFGS) else _run_gradient
    with divergence.quiet():
        end = run(opt, X0, E, r, skin, weights, near, recorder)
    recorder.close(end.last, end.X)
    metrics = layout_metrics(end.X, E, r, overlap_weight=w)
    metrics["steps_run"] = end.last
    return LayoutHistory(
        positions=np.stack(recorder.frames),
        frame_steps=np.array(recorder.steps, dtype=np.int64),
        loss=np.array(recorder.loss),
        overlap_weight=np.array(recorder.weight),
        diverged_at=end.diverged_at,
        message=end.message,
        metrics=metrics,
        optimizer=name,
        evaluations=end.evaluations,
        neighbour_queries=end.near.queries,
    )


def _run_gradient(opt, X, E, r, skin, weights, near, recorder) -> _Outcome:
    """Steps x_t = x_{t-1} + update(grad E_{w_{t-1}}(x_{t-1})) with an optim transformation."""
    contact = 2.0 * r
    steps = len(weights) - 1
    energy, grad = _objective(X, near.links, contact, weights[0])
    recorder.record(0, X, energy, weights[0])
    state = opt.init(X)
    for t in range(1, steps + 1):
        updates, state = opt.update(grad, state, X)
        X_new = optim.apply_updates(X, updates)
        near, why = _advance(near, X_new, E, contact, skin, r)
        evaluations = t                         # objective evaluations so far
        if why is None:
            energy, grad = _objective(X_new, near.links, contact, weights[t])
            evaluations += 1
            if not math.isfinite(energy):       # X_new is finite here: only the loss can fail
                why = divergence.reason(energy, X_new)
        if why is not None:
            return _Outcome(X, t - 1, t, divergence.message("step", t, why) + "; try a smaller learning rate",
                            evaluations, near)
        X = X_new
        recorder.record(t, X, energy, weights[t])
    return _Outcome(X, steps, None, f"ran {steps} steps", steps + 1, near)


def _run_lbfgs(opt: LBFGS, X, E, r, skin, weights, near, recorder) -> _Outcome:
    """L-BFGS iterations on E_{w_{t-1}}, one recorded step each (see ``lbfgs``)."""
    contact = 2.0 * r
    steps = len(weights) - 1
    shape = X.shape
    evaluations = 0

    def evaluate(x, w, near):
        nonlocal evaluations
        evaluations += 1
        near = _near_pairs(near, x.reshape(shape), E, contact, skin)
        energy, grad = _objective(x.reshape(shape), near.links, contact, w)
        return energy, grad.ravel(), near

    def outcome(x, last, diverged_at, message):
        return _Outcome(x.reshape(shape), last, diverged_at, message, evaluations, near)

    x = X.ravel().copy()
    f, g, near = evaluate(x, weights[0], near)
    recorder.record(0, X, f, weights[0])
    memory: deque = deque(maxlen=opt.memory)
    for t in range(1, steps + 1):
        if np.abs(g).max() <= opt.gtol:         # g has 2n >= 2 entries
            return outcome(x, t - 1, None, f"converged at step {t - 1}: gradient below {opt.gtol:g}")
        p = _two_loop(g, memory)
        slope = float(g @ p)
        if not slope < 0:                       # not downhill: forget the curvature pairs
            memory.clear()
            p, slope = -g, -float(g @ g)
        longest = float(np.sqrt(np.max(p[0::2] ** 2 + p[1::2] ** 2)))
        step = min(1.0, opt.max_move * r / longest)
        for _ in range(opt.max_backtracks):     # Armijo backtracking
            x_new = x + step * p
            why = _bad_positions(x_new, r)
            if why is None:
                try:
                    f_new, g_new, near = evaluate(x_new, weights[t - 1], near)
                except _PiledUp as crowded:
                    return outcome(x, t - 1, t, divergence.message("step", t, f"circles piled up, {crowded}"))
                if math.isfinite(f_new) and f_new <= f + opt.c1 * step * slope:
                    break
            step *= 0.5
        else:
            if why is not None:
                return outcome(x, t - 1, t, divergence.message("step", t, why))
            return outcome(x, t - 1, None, f"stopped at step {t - 1}: the line search found no "
                                           f"decrease (converged to rounding)")
        s, y = x_new - x, g_new - g
        sy = float(s.dot(y))
        if sy > 1e-12 * (math.sqrt(s.dot(s)) * math.sqrt(y.dot(y))):   # |s| |y|, as np.linalg.norm
            memory.append((s, y, 1.0 / sy))
        x, f, g = x_new, f_new, g_new
        if weights[t] != weights[t - 1]:        # annealing changed the objective: re-evaluate
            f, g, near = evaluate(x, weights[t], near)
        recorder.record(t, x.reshape(shape), f, weights[t])
    return outcome(x, steps, None, f"ran {steps} steps")


def _two_loop(g: np.ndarray, memory: deque) -> np.ndarray:
    """-H g by the L-BFGS two-loop recursion over memory = [(s, y, 1 / s.y), ...] (oldest first)."""
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


# --------------------------------------------------------------------------
# How often runs end tangled


def tangle_rate(optimizer_name: str, n: int = 12, trials: int = 50, seed: int = 0, *,
                family: str = "tree", steps: int = 1000, init: str = "random",
                energy_threshold: float = 0.01, **hyper: Any) -> dict[str, Any]:
    """Share of runs that end tangled, over ``trials`` random graphs and starts.

    Trial k lays out ``make_graph(family, n, seed + k)`` from a start with seed
    ``seed + k`` with ``layout_optimizer(optimizer_name, **hyper)``. A run ends
    tangled when its final drawing has an edge crossing or its energy per
    edge is above ``energy_threshold`` (r^2 units: a stuck fold or an edge
    held apart). Use a family whose graphs have a crossing-free, zero-energy
    layout ("tree" with small n, "grid") so that tangled means stuck.
    trials: 1..MAX_TRIALS. Returns a dict with the counts and the rate.
    """
    trials = _count("trials", trials, 1, MAX_TRIALS, "MAX_TRIALS")
    threshold = _real("energy_threshold", energy_threshold, 0.0, 1e6)
    seed = _seed(seed)
    opt = layout_optimizer(optimizer_name, **hyper)
    crossed = high = tangled = diverged = 0
    energies = []
    for k in range(trials):
        edges = make_graph(family, n, seed + k)
        h = run_layout(edges, n, opt, steps, init, seed + k, final_only=True)
        per_edge = h.metrics["energy"] / max(1, len(edges))
        energies.append(per_edge)
        c, e = h.metrics["crossings"] > 0, per_edge > threshold
        crossed += c
        high += e
        tangled += c or e
        diverged += h.diverged_at is not None
    return {
        "optimizer": optimizer_name, "family": family, "n": n, "trials": trials, "steps": steps,
        "tangled": tangled, "rate": tangled / trials,
        "with_crossings": crossed, "high_energy": high, "diverged": diverged,
        "median_energy_per_edge": float(np.median(energies)),
    }
