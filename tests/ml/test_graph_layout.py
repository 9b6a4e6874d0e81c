"""Tests of the circle graph layout: objective, gradient, metrics, runs, limits."""

import math

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from app.ml import graph_layout as gl
from app.ml import optim

R = 1.0   # radius used throughout: touching distance 2


def numeric_gradient(f, X, h=1e-6):
    g = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        up, down = X.copy(), X.copy()
        up[idx] += h
        down[idx] -= h
        g[idx] = (f(up) - f(down)) / (2 * h)
    return g


def brute_force_crossings(X, E):
    """Proper crossings by the textbook orientation test, one pair at a time."""
    def side(a, b, c):
        return np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))

    count = 0
    for i in range(len(E)):
        for j in range(i + 1, len(E)):
            if len({*E[i], *E[j]}) < 4:
                continue
            a, b, c, d = X[E[i, 0]], X[E[i, 1]], X[E[j, 0]], X[E[j, 1]]
            if side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0:
                count += 1
    return count


def all_pairs_crossings(X, E):
    """The same test over every pair of edges at once (vectorized, no pruning)."""
    i, j = np.triu_indices(len(E), k=1)
    a, b, c, d = X[E[i, 0]], X[E[i, 1]], X[E[j, 0]], X[E[j, 1]]

    def side(p, q, r):
        return np.sign((q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0]))

    apart = np.array([len({*E[k], *E[l]}) == 4 for k, l in zip(i, j)])
    return int(np.sum(apart & (side(a, b, c) * side(a, b, d) < 0) & (side(c, d, a) * side(c, d, b) < 0)))


def is_connected(E, n):
    A = coo_matrix((np.ones(len(E)), (E[:, 0], E[:, 1])), shape=(n, n))
    return connected_components(A, directed=False)[0] == 1


# --------------------------------------------------------------------------
# Objective and gradient


def test_objective_known_values():
    touching = np.array([[0.0, 0.0], [2.0, 0.0]])
    loss, grad = gl.layout_loss_and_grad(touching, [[0, 1]], R, overlap_weight=3.0)
    assert loss == 0.0 and np.all(grad == 0.0)

    apart = np.array([[0.0, 0.0], [3.0, 0.0]])            # edge 1 longer than touching
    loss, grad = gl.layout_loss_and_grad(apart, [[0, 1]], R)
    assert loss == pytest.approx(1.0)
    np.testing.assert_allclose(grad, [[-2.0, 0.0], [2.0, 0.0]])

    overlapping = np.array([[0.0, 0.0], [0.0, 1.5]])      # 0.5 deep, no edge
    loss, grad = gl.layout_loss_and_grad(overlapping, np.empty((0, 2), int), R, overlap_weight=3.0)
    assert loss == pytest.approx(3.0 * 0.25)
    np.testing.assert_allclose(grad, [[0.0, 3.0], [0.0, -3.0]])   # pushes apart


def test_gradient_matches_finite_differences_with_overlaps():
    rng = np.random.default_rng(3)
    n = 25
    E = gl.make_graph("random", n, 4)
    X = rng.random((n, 2)) * 9.0
    w = 2.5
    pairs = gl._pairs_within(X, 2 * R)
    lengths = np.linalg.norm(X[E[:, 0]] - X[E[:, 1]], axis=1)
    assert len(pairs) >= 5 and np.sum(lengths > 2 * R) >= 5   # both terms are active

    loss, grad = gl.layout_loss_and_grad(X, E, R, w)
    numeric = numeric_gradient(lambda Z: gl.layout_loss_and_grad(Z, E, R, w)[0], X)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def test_gradient_scales_with_radius():
    rng = np.random.default_rng(5)
    E = gl.make_graph("tree", 12, 1)
    X = rng.random((12, 2)) * 4.0
    numeric = numeric_gradient(lambda Z: gl.layout_loss_and_grad(Z, E, 0.7)[0], X)
    np.testing.assert_allclose(gl.layout_loss_and_grad(X, E, 0.7)[1], numeric, rtol=1e-6, atol=1e-6)


def test_coincident_circles_are_pushed_apart_in_opposite_directions():
    X = np.array([[1.0, 1.0], [1.0, 1.0], [5.0, 5.0]])
    loss, grad = gl.layout_loss_and_grad(X, np.empty((0, 2), int), R, overlap_weight=1.0)
    assert loss == pytest.approx(4.0)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad[0], -grad[1])
    assert np.linalg.norm(grad[0]) == pytest.approx(4.0)   # |2 w depth| with depth 2
    np.testing.assert_array_equal(grad[2], [0.0, 0.0])


def test_model_adapter_matches_function():
    E = gl.make_graph("grid", 9, 0)
    model = gl.CircleLayoutModel(E, 9)
    X = model.init(2)
    assert X.shape == (9, 2)
    loss, grad = model.loss_and_grad(X, None, None)
    loss2, grad2 = gl.layout_loss_and_grad(X, E)
    assert loss == loss2
    np.testing.assert_array_equal(grad, grad2)


# --------------------------------------------------------------------------
# Graph families


@pytest.mark.parametrize("family", gl.FAMILIES)
def test_families_are_canonical_connected_and_deterministic(family):
    for n in (1, 2, 5, 40):
        E = gl.make_graph(family, n, 7)
        assert E.dtype == np.int64 and E.shape[1] == 2
        if len(E):
            assert np.all(E[:, 0] < E[:, 1]) and E.max() < n
            assert len(np.unique(E, axis=0)) == len(E)
        assert n == 1 or is_connected(E, n)
    np.testing.assert_array_equal(gl.make_graph(family, 60, 3), gl.make_graph(family, 60, 3))


def test_tree_and_random_sizes():
    assert len(gl.make_graph("tree", 50, 1)) == 49
    m = len(gl.make_graph("random", 1000, 1))
    assert 1000 <= m <= 1499   # a tree plus up to n // 2 extra edges
    assert not np.array_equal(gl.make_graph("tree", 50, 1), gl.make_graph("tree", 50, 2))


def test_grid_reference_layout_is_perfect():
    n = 30
    E = gl.make_graph("grid", n, 0)
    X = gl.reference_layout("grid", n, 0, radius=R)
    m = gl.layout_metrics(X, E, R, tolerance=0.0)
    assert m["overlapping_pairs"] == 0
    assert m["mean_edge_ratio"] == pytest.approx(1.0) and m["max_edge_ratio"] == pytest.approx(1.0)
    assert m["crossings"] == 0 and m["crossings_exact"]
    assert m["energy"] == pytest.approx(0.0, abs=1e-20)


def test_geometric_reference_layout_has_no_overlaps():
    E = gl.make_graph("geometric", 300, 2)
    X = gl.reference_layout("geometric", 300, 2, radius=R)
    m = gl.layout_metrics(X, E, R, tolerance=0.0)
    assert m["overlapping_pairs"] == 0 and m["max_overlap"] == 0.0
    assert m["max_edge_ratio"] <= gl._GEOMETRIC_LINK + 1e-9 or m["mean_edge_ratio"] < 3.0
    assert gl.reference_layout("random", 10, 0) is None


# --------------------------------------------------------------------------
# Metrics


def test_metrics_two_touching_circles():
    X = np.array([[0.0, 0.0], [2.0, 0.0]])
    m = gl.layout_metrics(X, [[0, 1]], R, tolerance=0.0)
    assert m["overlapping_pairs"] == 0
    assert m["max_overlap"] == 0.0
    assert m["mean_edge_ratio"] == pytest.approx(1.0) and m["max_edge_ratio"] == pytest.approx(1.0)
    assert m["crossings"] == 0 and m["crossings_exact"] is True


def test_metrics_overlap_and_tolerance():
    X = np.array([[0.0, 0.0], [1.99, 0.0], [10.0, 0.0], [11.0, 0.0]])   # 0.5% and 50% deep
    assert gl.layout_metrics(X, [], R, tolerance=0.0)["overlapping_pairs"] == 2
    m = gl.layout_metrics(X, [], R)                 # default: deeper than 1% of a diameter
    assert m["overlapping_pairs"] == 1
    assert m["max_overlap"] == pytest.approx(0.5)
    assert m["mean_edge_ratio"] is None


def test_metrics_known_crossing():
    # A unit square with both diagonals: the diagonals cross once; sides share ends.
    X = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]])
    E = [[0, 1], [1, 2], [2, 3], [0, 3], [0, 2], [1, 3]]
    m = gl.layout_metrics(X, E, R)
    assert m["crossings"] == 1 and m["crossings_exact"]
    # Segments that only touch, or lie on one line, do not count.
    T = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 0.0], [2.0, 3.0], [6.0, 0.0], [9.0, 0.0]])
    assert gl.count_crossings(T, np.array([[0, 1], [2, 3], [4, 5]]))[0] == 0


def test_crossings_match_brute_force():
    rng = np.random.default_rng(11)
    for seed in range(4):
        E = gl.make_graph("random", 35, seed)
        X = rng.random((35, 2)) * 20
        assert gl.count_crossings(X, E) == (brute_force_crossings(X, E), True, 0.0)


def test_crossings_exact_with_a_few_long_edges():
    # A good grid drawing plus three links across it: still counted exactly.
    E = gl.make_graph("grid", 144, 0)
    X = gl.reference_layout("grid", 144, 0)
    E = np.vstack([E, [[0, 143], [11, 132], [5, 138]]])
    count, exact, _ = gl.count_crossings(X, E, budget=8_000)   # fewer than all m^2 / 2 pairs
    assert exact and len(E) ** 2 / 2 > 8_000
    assert count == all_pairs_crossings(X, E) > 0


def test_crossing_estimate_is_close_and_flagged():
    rng = np.random.default_rng(2)
    E = gl.make_graph("random", 120, 1)
    X = rng.random((120, 2)) * 30
    exact = brute_force_crossings(X, E)
    count, is_exact, stderr = gl.count_crossings(X, E, budget=4_000, seed=1)
    assert not is_exact and stderr > 0
    assert abs(count - exact) <= 4 * stderr
    assert gl.count_crossings(X, E, budget=4_000, seed=1) == (count, is_exact, stderr)


# --------------------------------------------------------------------------
# Runs


def test_small_grid_reaches_zero_overlaps():
    n = 25
    E = gl.make_graph("grid", n, 0)
    for optimizer in ("adam", "lbfgs"):
        h = gl.run_layout(E, n, optimizer, 300, "smart", 0)
        assert h.diverged_at is None
        assert h.metrics["overlapping_pairs"] == 0
        assert h.metrics["crossings"] == 0
        assert h.metrics["max_edge_ratio"] < 1.02
        assert h.loss[-1] < 1e-3 * h.loss[0]
    lbfgs = gl.run_layout(E, n, "lbfgs", 300, "smart", 0)
    assert gl.layout_metrics(lbfgs.final_positions, E, tolerance=0.0)["overlapping_pairs"] == 0


def test_history_shapes_and_verlet_list_is_exact():
    n = 60
    E = gl.make_graph("random", n, 1)
    h = gl.run_layout(E, n, "adam", 80, "random", 1, anneal_from=0.2)
    assert h.positions.shape == (81, n, 2)
    np.testing.assert_array_equal(h.frame_steps, np.arange(81))
    assert h.loss.shape == h.overlap_weight.shape == (81,)
    assert h.overlap_weight[0] == pytest.approx(0.2 * gl.DEFAULT_OVERLAP_WEIGHT)
    assert h.overlap_weight[-1] == gl.DEFAULT_OVERLAP_WEIGHT
    assert np.all(np.diff(h.overlap_weight) >= 0)
    assert h.neighbour_queries < 81            # the list is reused between steps
    for t in (0, 17, 40, 80):                  # the kept list gives the exact loss
        exact, _ = gl.layout_loss_and_grad(h.positions[t], E, R, h.overlap_weight[t])
        assert h.loss[t] == pytest.approx(exact, rel=1e-12)
    assert h.metrics["steps_run"] == 80 and h.message == "ran 80 steps"


def test_runs_are_deterministic_for_a_seed():
    E = gl.make_graph("tree", 40, 5)
    for optimizer in ("momentum", "lbfgs"):
        a = gl.run_layout(E, 40, optimizer, 50, "random", 9)
        b = gl.run_layout(E, 40, optimizer, 50, "random", 9)
        np.testing.assert_array_equal(a.positions, b.positions)
        np.testing.assert_array_equal(a.loss, b.loss)
    c = gl.run_layout(E, 40, "momentum", 50, "random", 10)
    assert not np.array_equal(a.positions[0], c.positions[0])


@pytest.mark.parametrize("name", gl.OPTIMIZER_NAMES)
def test_every_optimizer_runs_and_lowers_the_loss(name):
    E = gl.make_graph("grid", 16, 0)
    h = gl.run_layout(E, 16, name, 40, "random", 3)
    assert h.diverged_at is None, h.message
    assert np.all(np.isfinite(h.loss)) and np.all(np.isfinite(h.positions))
    assert h.loss[-1] < h.loss[0]


def test_transformation_passed_in_is_used():
    E = gl.make_graph("grid", 16, 0)
    slow = gl.run_layout(E, 16, optim.sgd(lr=1e-4), 20, "random", 3)
    fast = gl.run_layout(E, 16, optim.sgd(lr=1e-2), 20, "random", 3)
    assert slow.optimizer == "custom"
    assert fast.loss[-1] < slow.loss[-1] < slow.loss[0]


def test_lbfgs_two_loop_satisfies_the_secant_condition():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    A = A @ A.T + 6 * np.eye(6)                  # a convex quadratic's Hessian
    from collections import deque
    memory = deque(maxlen=4)
    for _ in range(4):
        s = rng.normal(size=6)
        y = A @ s
        memory.append((s, y, 1.0 / (s @ y)))
    s, y, _ = memory[-1]
    np.testing.assert_allclose(gl._two_loop(y, memory), -s, rtol=1e-10)   # H y = s


def test_lbfgs_beats_sgd_on_the_same_budget():
    E = gl.make_graph("geometric", 80, 2)
    sgd = gl.run_layout(E, 80, "sgd", 60, "smart", 2)
    lbfgs = gl.run_layout(E, 80, "lbfgs", 60, "smart", 2)
    assert lbfgs.loss[-1] < sgd.loss[-1]
    assert lbfgs.evaluations >= len(lbfgs.loss)


def test_diverging_run_stops_and_names_the_step():
    E = gl.make_graph("random", 50, 0)
    h = gl.run_layout(E, 50, gl.layout_optimizer("sgd", lr=10.0), 200, "random", 0)
    assert h.diverged_at is not None and 1 <= h.diverged_at < 200
    assert f"diverged at step {h.diverged_at}" in h.message
    assert len(h.loss) == h.diverged_at                 # steps 0 .. diverged_at - 1
    assert h.frame_steps[-1] == h.diverged_at - 1
    assert np.all(np.isfinite(h.loss)) and np.all(np.isfinite(h.positions))


def test_runaway_is_caught_at_the_step_it_happens():
    # Every circle moves +0.3 radius a step (less than skin / 2, so the Verlet list is kept
    # between rebuilds) from 2 radii inside DIVERGENCE_EXTENT: the first step past it ends the run.
    drift = optim.GradientTransformation(lambda p: None, lambda g, s, p: (np.full(p.shape, [0.3, 0.0]), s))
    start = np.array([[gl.DIVERGENCE_EXTENT - 2.0, y] for y in (0.0, 10.0, 20.0)])
    x, first_out = start, None
    for t in range(1, 20):
        x = x + np.full(x.shape, [0.3, 0.0])
        if np.abs(x).max() > gl.DIVERGENCE_EXTENT:
            first_out = t
            break
    for final_only in (False, True):
        h = gl.run_layout(np.empty((0, 2), int), 3, drift, 19, start, final_only=final_only)
        assert h.diverged_at == first_out == 7
        assert "beyond 1e+06 radii" in h.message
        assert h.metrics["steps_run"] == first_out - 1


@pytest.mark.parametrize("name", gl.OPTIMIZER_NAMES)
def test_final_only_runs_end_exactly_as_recorded_runs(name):
    # tangle_rate keeps only the last layout; the run itself must be the very same
    E = gl.make_graph("tree", 12, 4)
    for seed, steps, hyper in ((4, 60, {}), (5, 60, {}), (6, 25, {"lr": 5.0} if name != "lbfgs" else {})):
        opt = gl.layout_optimizer(name, **hyper)
        full = gl.run_layout(E, 12, opt, steps, "random", seed)
        last = gl.run_layout(E, 12, opt, steps, "random", seed, final_only=True)
        assert last.positions.shape == (1, 12, 2)
        assert last.frame_steps.tolist() == [full.frame_steps[-1]] == [full.metrics["steps_run"]]
        assert last.final_positions.tobytes() == full.final_positions.tobytes()
        assert last.loss.tobytes() == full.loss.tobytes()
        assert last.overlap_weight.tobytes() == full.overlap_weight.tobytes()
        assert last.metrics == full.metrics          # energy and crossings included, exactly
        assert (last.diverged_at, last.message, last.evaluations, last.neighbour_queries) == \
            (full.diverged_at, full.message, full.evaluations, full.neighbour_queries)


def test_frames_are_subsampled_when_large(monkeypatch):
    assert len(gl.frame_steps_for(100, 50)) == 51
    steps = gl.frame_steps_for(gl.MAX_NODES, 1000)
    assert steps[0] == 0 and steps[-1] == 1000
    assert len(steps) * gl.MAX_NODES * 2 <= gl.MAX_KEPT_FLOATS
    monkeypatch.setattr(gl, "MAX_KEPT_FLOATS", 200)       # 5 frames of 20 circles
    E = gl.make_graph("grid", 20, 0)
    h = gl.run_layout(E, 20, "adam", 30, "smart", 0)
    assert h.positions.shape == (5, 20, 2) and h.positions.size <= 200
    np.testing.assert_array_equal(h.frame_steps, [0, 8, 15, 22, 30])
    assert h.loss.shape == (31,)


def test_smart_start_untangles_a_grid():
    n = 400
    E = gl.make_graph("grid", n, 1)
    smart = gl.layout_metrics(gl.smart_start(E, n, 1), E)
    scattered = gl.layout_metrics(gl.random_start(n, 1), E)
    assert smart["crossings"] < 0.01 * scattered["crossings"]
    assert smart["mean_edge_ratio"] < 1.5 < scattered["mean_edge_ratio"]


def test_smart_start_spreads_graphs_of_small_diameter():
    n = 500
    E = gl.make_graph("random", n, 1)
    smart = gl.layout_metrics(gl.smart_start(E, n, 1), E)
    scattered = gl.layout_metrics(gl.random_start(n, 1), E)
    assert smart["overlapping_pairs"] < 2 * n                   # not one pile
    assert smart["crossings"] < 0.2 * scattered["crossings"]


def test_smart_start_separates_nodes_with_equal_distances():
    n = 300                                   # a star: every leaf is one hop from the hub
    E = np.column_stack([np.zeros(n - 1, int), np.arange(1, n)])
    X = gl.smart_start(E, n, 0)
    assert len(np.unique(np.round(X, 6), axis=0)) == n
    assert gl.layout_metrics(X, E)["overlapping_pairs"] < 2 * n


def test_smart_start_handles_disconnected_graphs_and_tiny_ones():
    E = np.array([[0, 1], [1, 2], [2, 3], [4, 5], [5, 6], [6, 7]])    # two paths
    X = gl.smart_start(E, 9, 0)                                       # node 8 alone
    assert X.shape == (9, 2) and np.all(np.isfinite(X))
    assert gl.layout_metrics(X, E)["mean_edge_ratio"] < 3.0
    single = gl.run_layout(np.empty((0, 2), int), 1, "adam", 3, "smart", 0)
    assert single.positions.shape == (4, 1, 2) and single.metrics["overlapping_pairs"] == 0


def test_tangle_rate_counts():
    result = gl.tangle_rate("adam", n=8, trials=3, seed=0, family="tree", steps=60)
    assert result["trials"] == 3
    assert 0 <= result["tangled"] <= 3 and result["rate"] == result["tangled"] / 3
    assert result["tangled"] >= max(result["with_crossings"], result["high_energy"])


# --------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("n", [0, -1, gl.MAX_NODES + 1, 10**7])
def test_bad_sizes_name_the_limit(n):
    with pytest.raises(ValueError, match="MAX_NODES"):
        gl.make_graph("tree", n, 0)
    with pytest.raises(ValueError, match="MAX_NODES"):
        gl.run_layout(np.empty((0, 2), int), n, "adam", 10)


def test_bad_run_arguments():
    E = gl.make_graph("tree", 10, 0)
    with pytest.raises(ValueError, match="MAX_STEPS"):
        gl.run_layout(E, 10, "adam", gl.MAX_STEPS + 1)
    with pytest.raises(ValueError, match="MAX_NODE_STEPS"):
        gl.run_layout(gl.make_graph("tree", gl.MAX_NODES, 0), gl.MAX_NODES, "adam", gl.MAX_STEPS)
    with pytest.raises(ValueError, match="steps must be an integer"):
        gl.run_layout(E, 10, "adam", 2.5)
    with pytest.raises(ValueError, match="unknown optimizer"):
        gl.run_layout(E, 10, "newton", 5)
    with pytest.raises(ValueError, match="unknown init"):
        gl.run_layout(E, 10, "adam", 5, "spiral")
    with pytest.raises(ValueError, match="init positions must be finite"):
        gl.run_layout(E, 10, "adam", 5, np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match=r"init positions must have shape \(10, 2\)"):
        gl.run_layout(E, 10, "adam", 5, np.zeros((9, 2)))
    with pytest.raises(ValueError, match="overlap_weight"):
        gl.run_layout(E, 10, "adam", 5, overlap_weight=-1.0)
    with pytest.raises(ValueError, match="anneal_from"):
        gl.run_layout(E, 10, "adam", 5, anneal_from=0.0)
    with pytest.raises(ValueError, match="radius"):
        gl.run_layout(E, 10, "adam", 5, radius=float("inf"))
    with pytest.raises(ValueError, match="seed"):
        gl.run_layout(E, 10, "adam", 5, seed=-3)


@pytest.mark.parametrize("lr", [float("nan"), -0.1, float("inf"), 1e9])
def test_bad_learning_rates(lr):
    with pytest.raises(ValueError, match="lr"):
        gl.layout_optimizer("adam", lr=lr)
    with pytest.raises(ValueError, match="lr"):
        gl.layout_optimizer("sgd", lr=lr)


def test_bad_lbfgs_settings():
    with pytest.raises(ValueError, match="memory"):
        gl.layout_optimizer("lbfgs", memory=0)
    with pytest.raises(ValueError, match="c1"):
        gl.lbfgs(c1=float("nan"))


def test_bad_edges():
    with pytest.raises(ValueError, match=r"endpoints must be in \[0, 4\]"):
        gl.layout_loss_and_grad(np.zeros((5, 2)), [[0, 5]])
    with pytest.raises(ValueError, match="self-loops"):
        gl.layout_metrics(np.zeros((5, 2)), [[2, 2]])
    with pytest.raises(ValueError, match="integer"):
        gl.run_layout([[0.0, 1.0]], 5, "adam", 5)
    with pytest.raises(ValueError, match="shape"):
        gl.run_layout([0, 1, 2], 5, "adam", 5)
    with pytest.raises(ValueError, match="MAX_EDGES"):
        gl.run_layout(np.zeros((gl.MAX_EDGES + 1, 2), dtype=int), 5, "adam", 5)


def test_bad_positions_for_metrics_and_loss():
    E = [[0, 1]]
    with pytest.raises(ValueError, match="finite"):
        gl.layout_metrics(np.array([[0.0, np.inf], [1.0, 1.0]]), E)
    with pytest.raises(ValueError, match="DIVERGENCE_EXTENT"):
        gl.layout_loss_and_grad(np.array([[0.0, 1e300], [1.0, 1.0]]), E)
    with pytest.raises(ValueError, match="MAX_NODES"):
        gl.layout_loss_and_grad(np.zeros((0, 2)), np.empty((0, 2), int))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        gl.layout_metrics(np.zeros(6), E)


def test_piled_up_start_is_refused():
    n = 600                                   # all at one point: n^2 / 2 near pairs
    with pytest.raises(ValueError, match="MAX_NEAR_PAIRS_PER_NODE"):
        gl.run_layout(np.empty((0, 2), int), n, "adam", 5, np.zeros((n, 2)))


def test_bad_family_and_trials():
    with pytest.raises(ValueError, match="unknown graph family"):
        gl.make_graph("lattice", 10, 0)
    with pytest.raises(ValueError, match="MAX_TRIALS"):
        gl.tangle_rate("adam", trials=0)
    with pytest.raises(ValueError, match="MAX_TRIALS"):
        gl.tangle_rate("adam", trials=gl.MAX_TRIALS + 1)


def test_limits_are_consistent():
    assert gl.MAX_NODES == 20_000
    assert gl.MAX_NODES * gl.MAX_STEPS > gl.MAX_NODE_STEPS >= gl.MAX_NODES * 500
    assert math.isfinite(gl.DIVERGENCE_EXTENT)


def test_edges_come_out_canonical_whether_or_not_they_went_in_canonical():
    """An edge list already canonical is returned as it is (no sort); any other is sorted
    within rows, deduplicated and sorted by rows: both give the same list."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 60))
        e = rng.integers(0, n, size=(int(rng.integers(1, 80)), 2))
        e = e[e[:, 0] != e[:, 1]].astype(np.int64)
        expected = np.unique(np.sort(e, axis=1), axis=0)
        assert np.array_equal(gl._edges(e, n), expected)
        assert np.array_equal(gl._edges(expected, n), expected)
