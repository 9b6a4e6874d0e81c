"""The scalar autograd engine: gradients against finite differences and the
perceptron's analytic gradients, the recorded graph, its schedules and layout."""

import math

import numpy as np
import pytest

from app.ml import autograd
from app.ml.autograd import (
    Value,
    backward_schedule,
    binary_cross_entropy,
    count_crossings,
    forward_schedule,
    layout_left_to_right,
    song_perceptron_graph,
    topological_order,
    trace,
    two_two_one_graph,
)


def finite_difference_check(build, point, h=1e-6, rel=1e-6, abs_=1e-8):
    """Engine gradients of build(leaves) at point against central differences."""
    leaves = {k: Value(v, label=k) for k, v in point.items()}
    out = build(leaves)
    out.backward()

    def at(name, delta):
        shifted = dict(point, **{name: point[name] + delta})
        return build({k: Value(v) for k, v in shifted.items()}).data

    for name in point:
        numeric = (at(name, h) - at(name, -h)) / (2 * h)
        assert leaves[name].grad == pytest.approx(numeric, rel=rel, abs=abs_), name


OPERATIONS = {
    "add": (lambda v: v["a"] + v["b"], {"a": 0.7, "b": -1.3}),
    "sub": (lambda v: v["a"] - v["b"], {"a": 0.7, "b": -1.3}),
    "mul": (lambda v: v["a"] * v["b"], {"a": 0.7, "b": -1.3}),
    "div": (lambda v: v["a"] / v["b"], {"a": 0.7, "b": -1.3}),
    "pow_number": (lambda v: v["a"] ** 3, {"a": -0.7}),
    "pow_negative": (lambda v: v["a"] ** -2, {"a": 1.7}),
    "pow_fraction": (lambda v: v["a"] ** 0.5, {"a": 2.3}),
    "pow_value": (lambda v: v["a"] ** v["b"], {"a": 1.7, "b": -0.6}),
    "rpow": (lambda v: 2.5 ** v["a"], {"a": 0.9}),
    "neg": (lambda v: -v["a"], {"a": 0.4}),
    "exp": (lambda v: v["a"].exp(), {"a": 0.4}),
    "log": (lambda v: v["a"].log(), {"a": 0.4}),
    "tanh": (lambda v: v["a"].tanh(), {"a": -0.8}),
    "sigmoid": (lambda v: v["a"].sigmoid(), {"a": 0.8}),
    "sigmoid_far_left": (lambda v: v["a"].sigmoid(), {"a": -20.0}),
    "relu_active": (lambda v: v["a"].relu(), {"a": 0.8}),
    "relu_inactive": (lambda v: v["a"].relu(), {"a": -0.8}),
    "bce": (lambda v: binary_cross_entropy(v["p"], v["y"]), {"p": 0.3, "y": 0.8}),
    "radd_rsub_rmul_rdiv": (lambda v: (2 + v["a"]) * (3 - v["a"]) / (1.5 * v["a"]) + 4 / v["a"],
                            {"a": 0.9}),
    "reused": (lambda v: v["a"] * v["a"] + v["a"].tanh() * v["a"], {"a": 0.6}),
    "composite": (lambda v: ((v["a"] * v["b"] + v["b"] ** 2).tanh() - v["a"] / (1 + v["b"].exp())).sigmoid()
                  * (v["a"] - v["b"]).relu().log(), {"a": 1.9, "b": -0.4}),
}


@pytest.mark.parametrize("name", OPERATIONS)
def test_gradient_matches_finite_differences(name):
    build, point = OPERATIONS[name]
    finite_difference_check(build, point)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow_value", "bce"])
def test_edges_carry_the_local_derivatives(name):
    build, point = OPERATIONS[name]
    a, b = (Value(v) for v in point.values())
    out = build(dict(zip(point, (a, b), strict=True)))
    out.backward()
    g = trace(out)
    local = {e.child: e.local for e in g.edges}
    ids = {node.data: node.id for node in g.nodes}
    x, y = a.data, b.data
    expected = {
        "add": lambda: (1.0, 1.0),
        "sub": lambda: (1.0, -1.0),
        "mul": lambda: (y, x),
        "div": lambda: (1 / y, -x / y**2),
        "pow_value": lambda: (y * x ** (y - 1), x**y * math.log(x)),
        "bce": lambda: ((x - y) / (x * (1 - x)), math.log(1 - x) - math.log(x)),
    }[name]()
    assert local[ids[x]] == pytest.approx(expected[0], rel=1e-12)
    assert local[ids[y]] == pytest.approx(expected[1], rel=1e-12)
    # with a single operation, the edges' flows are the inputs' grads
    assert (a.grad, b.grad) == pytest.approx(expected, rel=1e-12)


def test_a_value_used_twice_gets_the_sum_of_both_gradients():
    x = Value(3.0, label="x")
    out = x * x
    out.backward()
    assert x.grad == 6.0
    g = trace(out)
    assert [(e.child, e.slot, e.flow) for e in g.edges] == [(0, 0, 3.0), (0, 1, 3.0)]


def test_backward_twice_gives_the_same_gradients():
    a, b = Value(0.5), Value(-2.0)
    out = (a * b).tanh() + a
    out.backward()
    first = (a.grad, b.grad)
    out.backward()
    assert (a.grad, b.grad) == first


def test_deep_chains_do_not_hit_the_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y + x
    y.backward()
    assert y.data == 5001.0 and x.grad == 5001.0


def test_ieee_results_instead_of_exceptions():
    assert (Value(1.0) / 0).data == math.inf
    assert (Value(-1.0) / 0).data == -math.inf
    assert math.isnan((Value(0.0) / 0).data)
    assert Value(0.0).log().data == -math.inf
    assert math.isnan(Value(-1.0).log().data)
    assert Value(1000.0).exp().data == math.inf
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)
    assert (Value(0.0) ** -1).data == math.inf
    assert (Value(10.0) ** 400).data == math.inf
    assert Value(800.0).sigmoid().data == 1.0 and Value(-800.0).sigmoid().data == 0.0


def test_derivatives_at_special_points():
    x = Value(0.0)
    root = x**0.5
    root.backward()
    assert x.grad == math.inf            # documented: the slope of sqrt at 0
    constant = x**0
    constant.backward()
    assert constant.data == 1.0 and x.grad == 0.0
    a, b = Value(0.0), Value(2.0)
    (a**b).backward()                    # 0**b is flat in b
    assert (a.grad, b.grad) == (0.0, 0.0)


@pytest.mark.parametrize("bad", ["1", 1j, None, True, [1.0]])
def test_value_holds_only_real_numbers(bad):
    with pytest.raises(TypeError):
        Value(bad)
    with pytest.raises(TypeError):
        Value(1.0) + bad


def song_cases():
    rng = np.random.default_rng(7)
    for _ in range(20):
        yield rng.integers(0, 2, 3).astype(float), rng.normal(0, 2, 3), rng.normal(), float(rng.integers(0, 2))


def test_song_perceptron_gradients_are_the_analytic_ones():
    for x, w, b, y in song_cases():
        loss, inputs = song_perceptron_graph(x, w, b, y)
        loss.backward()
        z = x @ w + b
        p = 1 / (1 + math.exp(-z))
        assert loss.data == pytest.approx(-(y * math.log(p) + (1 - y) * math.log(1 - p)), rel=1e-12)
        for i in range(3):
            assert inputs[f"w{i + 1}"].grad == pytest.approx((p - y) * x[i], rel=1e-12, abs=1e-15)
            assert inputs[f"x{i + 1}"].grad == pytest.approx((p - y) * w[i], rel=1e-12, abs=1e-15)
        assert inputs["b"].grad == pytest.approx(p - y, rel=1e-12)


def test_song_perceptron_agrees_with_the_perceptron_model():
    from app.ml.perceptron import Perceptron

    model = Perceptron(n_features=3)
    for x, w, b, y in song_cases():
        loss, inputs = song_perceptron_graph(x, w, b, y)
        loss.backward()
        value, grads = model.loss_and_grad({"w": w, "b": np.array(b)}, x[None, :], np.array([y]))
        assert loss.data == pytest.approx(value, rel=1e-9)
        assert [inputs[f"w{i}"].grad for i in (1, 2, 3)] == pytest.approx(grads["w"], rel=1e-9, abs=1e-15)
        assert inputs["b"].grad == pytest.approx(float(grads["b"]), rel=1e-9)


def test_song_perceptron_graph_has_the_lesson_shape():
    loss, _ = song_perceptron_graph([1, 0, 1], [0.5, -1.0, 2.0], 0.1, 1)
    g = trace(loss)
    ops = [node.op for node in g.nodes]
    assert ops.count("*") == 3 and ops.count("+") == 3
    assert ops.count("sigmoid") == 1 and ops[-1] == "bce"
    labels = {node.label for node in g.nodes}
    assert {"x1", "x2", "x3", "w1", "w2", "w3", "b", "y", "z", "p", "L"} <= labels


@pytest.mark.parametrize("args, words", [
    (([1, 0], [1, 1, 1], 0, 1), "shape"),
    (([1, 0, 1], [1, np.nan, 1], 0, 1), "finite"),
    (([1, 0, 1], [1, 1, 1], np.inf, 1), "finite"),
    (([1, 0, 1], [1, 1, 1], 0, 2), "[0, 1]"),
    (([1, 0, 1], ["a", 1, 1], 0, 1), "w"),
    (([1, 1, 1], [20, 20, 20], 0, 1), "30"),
    (([], [], 0, 1), "shape"),
])
def test_song_perceptron_rejects_bad_inputs(args, words):
    with pytest.raises(ValueError) as error:
        song_perceptron_graph(*args)
    assert words in str(error.value)


def test_two_two_one_accumulates_the_gradient_of_each_input():
    x, W, b, v, c, y = [0.8, -1.2], [[0.5, -1.0], [1.5, 0.7]], [0.1, -0.2], [1.3, -0.9], 0.05, 1.0
    loss, inputs = two_two_one_graph(x, W, b, v, c, y)
    loss.backward()
    # analytic backprop
    W, x, v = np.array(W), np.array(x), np.array(v)
    h = np.tanh(W @ x + b)
    p = 1 / (1 + np.exp(-(v @ h + c)))
    delta_hidden = (p - y) * v * (1 - h**2)
    dx = W.T @ delta_hidden
    assert [inputs["x1"].grad, inputs["x2"].grad] == pytest.approx(dx, rel=1e-12)
    dW = np.array([[inputs[f"w{j}{i}"].grad for i in (1, 2)] for j in (1, 2)])
    np.testing.assert_allclose(dW, np.outer(delta_hidden, x), rtol=1e-12)
    # x1 feeds two neurons: two edges, two different flows, their sum is its grad
    g = trace(loss)
    x1 = next(node.id for node in g.nodes if node.label == "x1")
    flows = [e.flow for e in g.edges if e.child == x1]
    assert len(flows) == 2 and flows[0] != pytest.approx(flows[1])
    assert sum(flows) == pytest.approx(g.nodes[x1].grad, rel=1e-12)
    assert flows == pytest.approx(W[:, 0] * delta_hidden, rel=1e-12)


@pytest.mark.parametrize("activation", autograd.HIDDEN_ACTIVATIONS)
def test_two_two_one_matches_finite_differences(activation):
    point = {"x1": 0.8, "x2": -1.2, "w11": 0.5, "w12": -1.0, "w21": 1.5, "w22": 0.7,
             "b1": 0.1, "b2": -0.2, "v1": 1.3, "v2": -0.9, "c": 0.05}

    def loss_at(values):
        return two_two_one_graph(
            [values["x1"], values["x2"]],
            [[values["w11"], values["w12"]], [values["w21"], values["w22"]]],
            [values["b1"], values["b2"]], [values["v1"], values["v2"]], values["c"], 0.0, activation)

    loss, inputs = loss_at(point)
    loss.backward()
    h = 1e-6
    for name in point:
        up, down = dict(point), dict(point)
        up[name] += h
        down[name] -= h
        numeric = (loss_at(up)[0].data - loss_at(down)[0].data) / (2 * h)
        assert inputs[name].grad == pytest.approx(numeric, rel=1e-6, abs=1e-9), name


def test_two_two_one_rejects_bad_inputs():
    good = ([0.8, -1.2], [[0.5, -1.0], [1.5, 0.7]], [0.1, -0.2], [1.3, -0.9], 0.05, 1.0)
    with pytest.raises(ValueError, match="activation"):
        two_two_one_graph(*good, activation="softmax")
    with pytest.raises(ValueError, match="shape"):
        two_two_one_graph(good[0], [0.5, -1.0], *good[2:])
    with pytest.raises(ValueError, match="finite"):
        two_two_one_graph([0.8, np.nan], *good[1:])
    with pytest.raises(ValueError, match="30"):
        two_two_one_graph(good[0], good[1], good[2], [40.0, -40.0], 0.0, 1.0)


def test_trace_is_topological_and_deterministic():
    loss, _ = two_two_one_graph([0.8, -1.2], [[0.5, -1.0], [1.5, 0.7]], [0.1, -0.2], [1.3, -0.9], 0.05, 1.0)
    loss.backward()
    g = trace(loss)
    assert [node.id for node in g.nodes] == list(range(len(g.nodes)))
    assert all(e.child < e.parent for e in g.edges)
    assert g.root == len(g.nodes) - 1 and g.nodes[g.root].grad == 1.0
    assert trace(loss) == g
    assert [v.data for v in topological_order(loss)] == [node.data for node in g.nodes]
    # every grad is the sum of the flows that arrive at it
    arriving = np.zeros(len(g.nodes))
    for e in g.edges:
        arriving[e.child] += e.flow
    arriving[g.root] = 1.0
    assert arriving == pytest.approx([node.grad for node in g.nodes], rel=1e-12, abs=1e-15)


def test_schedules_follow_the_passes():
    loss, _ = song_perceptron_graph([1, 0, 1], [0.5, -1.0, 2.0], 0.1, 1)
    loss.backward()
    g = trace(loss)
    assert forward_schedule(loss) == forward_schedule(g) == tuple(range(len(g.nodes)))
    order = backward_schedule(g)
    assert sorted(order, key=lambda e: (e.parent, e.slot)) == sorted(g.edges, key=lambda e: (e.parent, e.slot))
    assert order[0].parent == g.root
    for k, edge in enumerate(order):
        # the parent's grad is complete: nothing flows into the parent after this edge
        assert all(later.child != edge.parent for later in order[k:])
    assert backward_schedule(loss) == order


def test_trace_and_layout_enforce_the_size_limit():
    x = Value(1.0)
    y = x
    for _ in range(autograd.MAX_GRAPH_NODES):
        y = y + 1
    with pytest.raises(ValueError, match=str(autograd.MAX_GRAPH_NODES)):
        trace(y)
    n = autograd.MAX_GRAPH_NODES + 1
    big = autograd.Graph(tuple(autograd.Node(i, "", "", 0.0, 0.0) for i in range(n)), (), n - 1)
    with pytest.raises(ValueError, match="MAX_GRAPH_NODES"):
        layout_left_to_right(big)


def test_layout_goes_left_to_right_without_overlaps():
    loss, _ = song_perceptron_graph([1, 0, 1], [0.5, -1.0, 2.0], 0.1, 1)
    g = trace(loss)
    pos = layout_left_to_right(g)
    assert sorted(pos) == list(range(len(g.nodes)))
    assert len(set(pos.values())) == len(pos)
    assert all(pos[e.child][0] < pos[e.parent][0] for e in g.edges)
    assert pos[g.root][0] == max(x for x, _ in pos.values())
    # inputs sit just before their first use: the bias beside the last sum, y beside the loss
    labels = {node.label: node.id for node in g.nodes}
    assert pos[labels["b"]][0] == pos[labels["z"]][0] - 1
    assert pos[labels["y"]][0] == pos[labels["L"]][0] - 1
    assert count_crossings(g, pos) == 0
    assert layout_left_to_right(g) == pos


def test_barycenter_sweeps_remove_crossings():
    a, b, c, d, e, f = (Value(float(i), label=f"v{i}") for i in range(6))
    # products of the same inputs far apart in the topological order
    tangled = (a * d + b * e) * (c * f + a * e) + (b * f + c * d)
    g = trace(tangled)
    assert count_crossings(g, layout_left_to_right(g)) < count_crossings(g, layout_left_to_right(g, sweeps=0))
    for root in ((a + b) * (b + c) * (c + d) * (d + a), a * b + b * c + c * a, (a * b).tanh() * (b - a).exp()):
        g = trace(root)
        assert count_crossings(g, layout_left_to_right(g)) <= count_crossings(g, layout_left_to_right(g, sweeps=0))
    with pytest.raises(ValueError, match="LAYOUT_SWEEPS"):
        layout_left_to_right(g, sweeps=10**6)


def test_count_crossings_on_known_pictures():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    g = trace((a * 2) + (b * 3))
    ids = {node.label: node.id for node in g.nodes if node.label}
    straight = layout_left_to_right(g)
    assert count_crossings(g, straight) == 0
    # swap the two products: both of their input pairs now cross over
    products = [node.id for node in g.nodes if node.op == "*"]
    swapped = dict(straight)
    swapped[products[0]], swapped[products[1]] = straight[products[1]], straight[products[0]]
    assert count_crossings(g, swapped) == 4
    assert ids == {"a": 0, "2": 1, "b": 3, "3": 4}  # constants show their numbers


def crossings_by_orientation(graph, positions):
    """Reference: every pair of edges without a common node, by the orientation test."""
    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    ends = [(positions[e.child], positions[e.parent], {e.child, e.parent}) for e in graph.edges]
    count = 0
    for k, (a, b, nodes_ab) in enumerate(ends):
        for c, d, nodes_cd in ends[k + 1:]:
            if not nodes_ab & nodes_cd and side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0:
                count += 1
    return count


def test_count_crossings_agrees_with_the_orientation_test():
    rng = np.random.default_rng(3)
    a, b, c, d, e, f = (Value(float(i)) for i in range(6))
    root = ((a * d + b * e) * (c * f + a * e)).tanh() + (b * f + c * d) * a.exp() - (e / f).relu()
    g = trace(root)
    layout = layout_left_to_right(g)
    assert count_crossings(g, layout) == crossings_by_orientation(g, layout)
    for _ in range(5):
        shuffled = {k: (x, float(rng.normal())) for k, (x, _) in layout.items()}
        assert count_crossings(g, shuffled) == crossings_by_orientation(g, shuffled) > 0
    flat = {k: (x, 0.0) for k, (x, _) in layout.items()}
    assert count_crossings(g, flat) == 0        # touching along a line is not crossing
    with pytest.raises(ValueError, match="different x"):
        count_crossings(g, {k: (0.0, y) for k, (_, y) in layout.items()})
