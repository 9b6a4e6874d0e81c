"""The melody RNN: forward against a plain reference, BPTT against finite
differences, sampling, training that memorizes, and the size limits."""

import numpy as np
import pytest

from app.ml import melodies, optim, rnn, train
from app.ml.melodies import BOUNDARY, VOCABULARY
from app.ml.rnn import IGNORE, RNN


def small_model(H=5, V=6, seed=3):
    model = RNN(V, H, clip=None)
    params = model.init(seed)
    rng = np.random.default_rng(seed + 100)
    params["b_h"] = rng.standard_normal(H) * 0.3      # non-zero biases, so their gradients are tested
    params["b_y"] = rng.standard_normal(V) * 0.3
    return model, params


def reference_losses(params, inputs, targets, h_shift=None, h_fixed=None):
    """Per-step losses of one sequence, straight from the cell's equations.

    inputs: (T, V) real input vectors (one-hot for tokens). h_shift: (t, vector)
    added to h_t after it is computed. h_fixed: {t: h} replacing h_{t-1} at step t.
    """
    H = params["W_hh"].shape[0]
    h = np.zeros(H)
    losses = []
    for t in range(len(targets)):
        if h_fixed and t in h_fixed:
            h = h_fixed[t]
        h = np.tanh(params["W_xh"] @ inputs[t] + params["W_hh"] @ h + params["b_h"])
        if h_shift is not None and h_shift[0] == t:
            h = h + h_shift[1]
        z = params["W_hy"] @ h + params["b_y"]
        logp = z - z.max() - np.log(np.sum(np.exp(z - z.max())))
        losses.append(-logp[targets[t]] if targets[t] != IGNORE else np.nan)
    return np.array(losses)


def reference_batch_loss(params, X, y, **kw):
    V = params["b_y"].shape[0]
    losses = np.concatenate([reference_losses(params, np.eye(V)[X[b]], y[b], **kw) for b in range(len(X))])
    return np.nanmean(losses)


def numeric_grad(f, params, eps=1e-6):
    grads = {}
    for name, p in params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][i] += eps
            minus[name][i] -= eps
            g[i] = (f(plus) - f(minus)) / (2 * eps)
        grads[name] = g
    return grads


def assert_grads_close(got, want, rtol=1e-6):
    for name in rnn.PARAM_NAMES:
        scale = max(np.abs(want[name]).max(), 1e-8)
        assert np.abs(got[name] - want[name]).max() <= rtol * scale + 1e-9, name


def ragged_batch(V=6, seed=0):
    rng = np.random.default_rng(seed)
    return rnn.pad_sequences([rng.integers(0, V, n) for n in (8, 5, 3)])


# ---------------------------------------------------------------- forward


def test_forward_matches_the_equations():
    model, params = small_model()
    tokens = np.array([0, 3, 3, 5, 1, 2])
    cache = rnn.forward(params, tokens)
    h = np.zeros(5)
    for t, token in enumerate(tokens):
        a = params["W_xh"][:, token] + params["W_hh"] @ h + params["b_h"]
        h = np.tanh(a)
        z = params["W_hy"] @ h + params["b_y"]
        np.testing.assert_allclose(cache.pre[t], a, atol=1e-12)
        np.testing.assert_allclose(cache.hs[t], h, atol=1e-12)
        np.testing.assert_allclose(cache.logits[t], z, atol=1e-12)
        np.testing.assert_allclose(cache.probs[t], np.exp(z) / np.exp(z).sum(), atol=1e-12)


def test_pad_sequences_shifts_and_pads_with_ignore():
    X, y = rnn.pad_sequences([[1, 2, 3, 4], [5, 6]])
    assert X.tolist() == [[1, 2, 3], [5, 0, 0]]
    assert y.tolist() == [[2, 3, 4], [6, IGNORE, IGNORE]]


def test_batch_loss_ignores_padding_and_matches_the_reference():
    _, params = small_model()
    X, y = ragged_batch()
    assert rnn.batch_loss(params, X, y) == pytest.approx(reference_batch_loss(params, X, y), rel=1e-12)
    # padding rows of X never change the loss
    X2 = X.copy()
    X2[y == IGNORE] = 4
    assert rnn.batch_loss(params, X2, y) == pytest.approx(rnn.batch_loss(params, X, y), rel=1e-12)


# ---------------------------------------------------------------- BPTT


def test_bptt_matches_finite_differences():
    model, params = small_model()
    X, y = ragged_batch()
    result = rnn.bptt(params, X, y)
    assert result.loss == pytest.approx(reference_batch_loss(params, X, y), rel=1e-12)
    assert not result.clipped
    want = numeric_grad(lambda p: reference_batch_loss(p, X, y), params)
    assert_grads_close(result.grads, want)
    loss, grads = model.loss_and_grad(params, X, y)
    assert loss == result.loss
    assert_grads_close(grads, want)


def test_truncated_bptt_is_the_gradient_with_the_state_frozen_at_chunk_starts():
    _, params = small_model()
    X, y = ragged_batch()
    unroll = 3
    # h_{t-1} entering each chunk (t = 3, 6) taken as a constant at the current params
    hs = [rnn.forward(params, X[b]).hs for b in range(len(X))]

    def surrogate(p):
        V = p["b_y"].shape[0]
        losses = [reference_losses(p, np.eye(V)[X[b]], y[b],
                                   h_fixed={t: hs[b][t - 1] for t in range(unroll, X.shape[1], unroll)})
                  for b in range(len(X))]
        return np.nanmean(np.concatenate(losses))

    truncated = rnn.bptt(params, X, y, unroll=unroll)
    assert_grads_close(truncated.grads, numeric_grad(surrogate, params))
    exact = rnn.bptt(params, X, y)
    assert not np.allclose(truncated.grads["W_hh"], exact.grads["W_hh"])
    long = rnn.bptt(params, X, y, unroll=X.shape[1])        # one chunk: nothing is cut
    assert_grads_close(long.grads, exact.grads, rtol=1e-12)


def test_clipping_rescales_to_the_threshold_and_keeps_the_direction():
    _, params = small_model()
    X, y = ragged_batch()
    free = rnn.bptt(params, X, y)
    clip = free.grad_norm / 4
    clipped = rnn.bptt(params, X, y, clip=clip)
    assert clipped.clipped and clipped.grad_norm == pytest.approx(free.grad_norm)
    norm = np.sqrt(sum(np.sum(g**2) for g in clipped.grads.values()))
    assert norm == pytest.approx(clip, rel=1e-12)
    for name in rnn.PARAM_NAMES:
        np.testing.assert_allclose(clipped.grads[name] * 4, free.grads[name], rtol=1e-12, atol=1e-15)
    loose = rnn.bptt(params, X, y, clip=free.grad_norm * 2)
    assert not loose.clipped
    assert_grads_close(loose.grads, free.grads, rtol=0)


def test_hidden_grad_norms_are_the_gradient_reaching_each_hidden_state():
    _, params = small_model()
    tokens = np.array([0, 3, 3, 5, 1, 2, 4])
    X, y = rnn.pad_sequences([tokens])
    result = rnn.bptt(params, X, y)
    V, eps = 6, 1e-6
    for t in range(X.shape[1]):
        fd = np.array([(np.nanmean(reference_losses(params, np.eye(V)[X[0]], y[0], h_shift=(t, eps * e)))
                        - np.nanmean(reference_losses(params, np.eye(V)[X[0]], y[0], h_shift=(t, -eps * e))))
                       / (2 * eps) for e in np.eye(5)])
        assert result.hidden_grad_norms[t] == pytest.approx(np.linalg.norm(fd), rel=1e-6)


@pytest.mark.parametrize("wrt", ["hidden", "input"])
def test_gradient_flow_matches_finite_differences(wrt):
    _, params = small_model()
    tokens = np.array([0, 3, 3, 5, 1, 2, 4, 4])
    t, V, H, eps = 5, 6, 5, 1e-6
    flow = rnn.gradient_flow(params, tokens, t, wrt=wrt)
    assert flow.shape == (t + 1,)
    onehot = np.eye(V)[tokens[:-1]]
    for k in range(t + 1):
        grad = []
        for e in np.eye(H if wrt == "hidden" else V):
            if wrt == "hidden":
                lp = reference_losses(params, onehot, tokens[1:], h_shift=(t - k, eps * e))[t]
                lm = reference_losses(params, onehot, tokens[1:], h_shift=(t - k, -eps * e))[t]
            else:
                up, down = onehot.copy(), onehot.copy()
                up[t - k] += eps * e
                down[t - k] -= eps * e
                lp = reference_losses(params, up, tokens[1:])[t]
                lm = reference_losses(params, down, tokens[1:])[t]
            grad.append((lp - lm) / (2 * eps))
        assert flow[k] == pytest.approx(np.linalg.norm(grad), rel=1e-6)


def test_gradients_vanish_through_time_at_initialization():
    params = RNN(VOCABULARY.size, 64).init(0)
    tokens = melodies.encode_tunes(["ode_to_joy"])
    flow = rnn.gradient_flow(params, tokens, 40)
    assert flow[40] < 1e-3 * flow[0]
    assert flow[10] < flow[0]


# ---------------------------------------------------------------- temperature and sampling


def test_temperature_known_answers():
    logits = np.array([0.0, np.log(2.0)])
    np.testing.assert_allclose(rnn.probabilities_with_temperature(logits, 1.0), [1 / 3, 2 / 3])
    np.testing.assert_allclose(rnn.probabilities_with_temperature(logits, 0.5), [1 / 5, 4 / 5])
    np.testing.assert_allclose(rnn.probabilities_with_temperature(logits + 100, 0.5), [1 / 5, 4 / 5])
    # huge logits stay finite: the largest wins outright at low temperature
    np.testing.assert_array_equal(rnn.probabilities_with_temperature([1e308, -1e308, 0.0], 0.05), [1, 0, 0])
    with pytest.raises(ValueError, match="NaN or inf"):
        rnn.probabilities_with_temperature([0.0, np.inf], 1.0)


def test_low_temperature_sharpens_and_high_flattens():
    logits = np.random.default_rng(0).standard_normal((3, 10)) * 2
    tops = [rnn.probabilities_with_temperature(logits, T).max(axis=1) for T in (0.05, 0.5, 1, 2, 5)]
    for sharper, flatter in zip(tops, tops[1:]):
        assert np.all(sharper > flatter)
    assert np.all(tops[0] > 0.99)
    assert np.all(tops[-1] < 0.3)
    np.testing.assert_allclose(rnn.probabilities_with_temperature(logits, 3).sum(axis=1), 1.0)


def test_sampling_draws_from_the_tempered_distribution():
    H, V, T = 4, 5, 2.0
    params = RNN(V, H).init(0)
    params = {k: np.zeros_like(v) for k, v in params.items()}
    params["b_y"] = np.array([0.0, 1.0, 2.0, -1.0, 0.5])          # the same logits at every step
    draws = np.concatenate([rnn.sample(params, 0, 512, T, seed=s) for s in range(8)])
    freq = np.bincount(draws, minlength=V) / len(draws)
    want = rnn.probabilities_with_temperature(params["b_y"], T)
    assert np.abs(freq - want).max() < 0.03


def test_sampling_is_deterministic_for_a_seed():
    params = RNN(VOCABULARY.size, 16).init(1)
    a = rnn.sample(params, [BOUNDARY, 5], 100, 1.5, seed=7)
    b = rnn.sample(params, [BOUNDARY, 5], 100, 1.5, seed=7)
    c = rnn.sample(params, [BOUNDARY, 5], 100, 1.5, seed=8)
    assert a.dtype == np.int64 and len(a) == 100
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sampling_stops_at_the_stop_token():
    params = RNN(3, 2).init(0)
    params = {k: np.zeros_like(v) for k, v in params.items()}
    params["b_y"] = np.array([-3.0, 0.0, 0.0])
    out = rnn.sample(params, 1, 512, 1.0, seed=0, stop_token=0)
    assert 0 < len(out) < 512 and BOUNDARY not in out


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def trained():
    return rnn.train_melodies(["twinkle", "mary", "london_bridge"], hidden_size=32, unroll=32,
                              lr=0.02, steps=150, seed=0, eval_every=50)


@pytest.mark.parametrize("name", ["twinkle", "mary", "london_bridge"])
def test_trained_model_reproduces_a_training_tune_at_low_temperature(trained, name):
    notes = list(melodies.get_tune(name).notes)
    prime = [BOUNDARY, *VOCABULARY.encode(notes[:2])]
    out = rnn.sample(trained.params, prime, 100, 0.05, seed=0, stop_token=BOUNDARY)
    assert VOCABULARY.decode(out) == notes[2:]
    assert rnn.tune_accuracy(trained.params, name, prime=2) == 1.0


def test_training_lowers_the_loss_and_records_its_history(trained):
    assert trained.diverged_at is None
    assert trained.loss.shape == trained.grad_norm.shape == (150,)
    assert trained.loss[0] == pytest.approx(np.log(VOCABULARY.size), rel=0.2)   # near uniform at the start
    assert trained.loss[-1] < 0.15
    assert trained.eval_steps.tolist() == [0, 50, 100, 150]
    assert np.all(np.isnan(trained.held_out_loss))
    assert trained.train_tune_loss[-1] < trained.loss[-1] + 0.01    # after the last step, not before it


def test_training_is_deterministic_for_a_seed():
    a = rnn.train_melodies(["hot_cross_buns"], hidden_size=8, steps=20, seed=4)
    b = rnn.train_melodies(["hot_cross_buns"], hidden_size=8, steps=20, seed=4)
    c = rnn.train_melodies(["hot_cross_buns"], hidden_size=8, steps=20, seed=5)
    np.testing.assert_array_equal(a.loss, b.loss)
    for name in rnn.PARAM_NAMES:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert not np.array_equal(a.loss, c.loss)


def test_held_out_tune_shows_memorization_not_generalization():
    names = [n for n in melodies.TUNE_NAMES if n != "mary"]
    run = rnn.train_melodies(names, held_out=["mary"], hidden_size=32, lr=0.02, steps=100, eval_every=25)
    assert run.train_tune_loss[-1] < 0.2
    assert run.held_out_loss[-1] > np.log(VOCABULARY.size)        # worse than a uniform guess
    assert run.held_out_loss[-1] > run.held_out_loss[0]


def test_model_fits_train_run_and_matches_train_melodies():
    X, y = rnn.tune_batch(["mary", "hot_cross_buns"])
    model = RNN(VOCABULARY.size, 8, clip=5.0, unroll=16)
    hist = train.run(model, optim.adam(lr=0.01), (X, y), steps=15, seed=2)
    run = rnn.train_melodies(["mary", "hot_cross_buns"], hidden_size=8, unroll=16, lr=0.01, steps=15, seed=2)
    np.testing.assert_allclose(hist.loss, run.loss, rtol=1e-12)
    assert hist.params["W_hh"].shape == (16, 8, 8)


def test_flatten_unflatten_round_trip():
    model, params = small_model()
    vec = model.flatten(params)
    assert vec.shape == (6 * 5 + 5 * 5 + 5 + 6 * 5 + 6,)
    back = model.unflatten(vec)
    for name in rnn.PARAM_NAMES:
        np.testing.assert_array_equal(back[name], params[name])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("temperature", [0, -1, 0.01, 5.5, float("nan"), float("inf"), True])
def test_bad_temperature_is_refused_with_the_limit(temperature):
    params = RNN(4, 3).init(0)
    with pytest.raises(ValueError, match=r"temperature must be in \[0.05, 5\]"):
        rnn.sample(params, 0, 10, temperature, seed=0)
    with pytest.raises(ValueError, match=r"temperature must be in \[0.05, 5\]"):
        rnn.probabilities_with_temperature([0.0, 1.0], temperature)


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden_size": 10**5}, r"hidden_size must be in \[1, 256\]"),
    ({"hidden_size": 0}, r"hidden_size must be in \[1, 256\]"),
    ({"tune_names": ["yesterday"]}, "unknown tune 'yesterday'"),
    ({"held_out": ["nope"]}, "unknown tune 'nope'"),
    ({"tune_names": []}, "at least one tune"),
    ({"held_out": ["mary"], "tune_names": ["mary", "twinkle"]}, "both trained on and held out: mary"),
    ({"unroll": 1}, r"unroll must be in \[2, 64\]"),
    ({"unroll": 65}, r"unroll must be in \[2, 64\]"),
    ({"steps": 0}, r"steps must be in \[1, 5000\]"),
    ({"steps": 10**6}, r"steps must be in \[1, 5000\]"),
    ({"clip": -1.0}, r"clip must be None .* \(0, CLIP_MAX=1000\]"),
    ({"lr": float("nan")}, "lr"),
    ({"optimizer_name": "magic"}, "unknown optimizer 'magic'"),
    ({"seed": -1}, "seed must be an integer >= 0"),
])
def test_bad_training_settings_are_refused_with_the_limit(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rnn.train_melodies(**{"steps": 1, **kwargs})


def test_bad_tokens_and_params_are_refused():
    model, params = small_model()
    X, y = ragged_batch()
    with pytest.raises(ValueError, match=r"token ids in \[0, 5\]"):
        rnn.forward(params, [0, 6])
    with pytest.raises(ValueError, match="integer token ids"):
        rnn.forward(params, [0.5, 1.0])
    with pytest.raises(ValueError, match="integer token ids"):
        rnn.forward(params, [np.nan])
    with pytest.raises(ValueError, match="is empty"):
        rnn.forward(params, [])
    with pytest.raises(ValueError, match="limit 4096"):
        rnn.forward(params, np.zeros(5000, dtype=int))
    with pytest.raises(ValueError, match="same shape"):
        rnn.bptt(params, X, y[:, :-1])
    with pytest.raises(ValueError, match="no targets"):
        rnn.bptt(params, X, np.full_like(y, IGNORE))
    bad = dict(params, W_hh=params["W_hh"] * np.nan)
    with pytest.raises(ValueError, match=r"params\['W_hh'\] contains NaN or inf"):
        model.loss_and_grad(bad, X, y)
    with pytest.raises(ValueError, match=r"must have shape \(5, 5\)"):
        rnn.bptt(dict(params, W_hh=np.zeros((5, 4))), X, y)
    with pytest.raises(ValueError, match="this model has H=7"):
        RNN(6, 7).loss_and_grad(params, X, y)


def test_sizes_beyond_the_limits_are_refused():
    with pytest.raises(ValueError, match=r"hidden_size must be in \[1, 256\]"):
        RNN(VOCABULARY.size, 10**5)
    with pytest.raises(ValueError, match=r"vocab_size must be in \[2, 512\]"):
        RNN(10**4, 8)
    params = RNN(4, 256).init(0)
    X = np.zeros((500, 64), dtype=int)
    with pytest.raises(ValueError, match="BATCH_CELLS_MAX=4000000"):
        rnn.bptt(params, X, X)
    with pytest.raises(ValueError, match=r"length must be in \[1, 512\]"):
        rnn.sample(params, 0, 513, 1.0, seed=0)
    with pytest.raises(ValueError, match=r"length must be in \[1, 512\]"):
        rnn.sample(params, 0, 0, 1.0, seed=0)
    with pytest.raises(ValueError, match=r"t must be in \[0, 2\]"):
        rnn.gradient_flow(params, [0, 1, 2, 3], 3)
    with pytest.raises(ValueError, match="wrt must be"):
        rnn.gradient_flow(params, [0, 1, 2, 3], 1, wrt="weights")
