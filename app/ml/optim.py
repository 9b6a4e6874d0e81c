"""Optimizers as pairs of pure functions, in the style of optax.

An optimizer is a ``GradientTransformation(init, update)``::

    opt = adam(lr=1e-3)
    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)

``params``, ``grads`` and ``updates`` are a numpy array or a flat dict
``{name: ndarray}`` (a "tree"). ``init`` and ``update`` never modify their
inputs: they return new arrays and a new NamedTuple state, so the history of a
run is simply the list of its states.

The update rules, keyword names, defaults and argument checks of ``sgd``,
``adagrad``, ``rmsprop``, ``adadelta``, ``adam`` and ``adamw`` are those that
``torch.optim`` documents for the class of the same name, so numbers agree with
what students meet next (the tests hold them to trajectories torch produced).
``maximize=True`` negates the gradient before weight decay is added, as torch
computes it. Two deliberate differences: every ``eps`` must be strictly
positive (torch allows 0, which divides by zero on a zero gradient), and a
centered RMSprop variance is clipped at 0 before its square root (it can only
go below 0 by rounding, where torch would return NaN).

Textbook variants that differ from torch get their own names:
``kochenderfer_nesterov`` (Kochenderfer & Wheeler, *Algorithms for
Optimization*) and the hypergradient methods of Baydin et al. (2018),
``hypergradient_sgd`` and ``hypergradient_adam``.

``OPTIMIZERS`` is a registry of specs (name, label, description, scalar
hyperparameters with default, min, max, log scale) for UI selectors, and
``make(name, **hyper)`` builds an optimizer from it, enforcing those ranges.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, NamedTuple

import numpy as np

Tree = np.ndarray | dict[str, np.ndarray]

__all__ = [
    "GradientTransformation",
    "apply_updates",
    "tree_map",
    "tree_vdot",
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "kochenderfer_nesterov",
    "kochenderfer_position",
    "hypergradient_sgd",
    "hypergradient_adam",
    "adam_bias_corrected",
    "SGDState",
    "AdagradState",
    "RMSpropState",
    "AdadeltaState",
    "AdamState",
    "KochenderferNesterovState",
    "HypergradientSGDState",
    "HypergradientAdamState",
    "HyperparameterSpec",
    "OptimizerSpec",
    "OPTIMIZERS",
    "make",
]


class GradientTransformation(NamedTuple):
    """An optimizer: ``init(params) -> state``, ``update(grads, state, params) -> (updates, state)``."""

    init: Callable[[Tree], Any]
    update: Callable[[Tree, Any, Tree], tuple[Tree, Any]]


# --------------------------------------------------------------------------
# Trees: a numpy array, or a flat dict of them.


def tree_map(fn: Callable[..., Any], tree: Tree, *rest: Tree) -> Any:
    """Apply ``fn`` leaf by leaf to ``tree`` and the trees in ``rest``.

    All trees must have the same structure: all arrays, or dicts with the same
    keys. Leaves are passed as float arrays. Returns a tree of ``fn``'s results.
    """
    if isinstance(tree, dict):
        for other in rest:
            if not isinstance(other, dict) or other.keys() != tree.keys():
                raise ValueError(
                    f"trees differ in structure: expected a dict with keys "
                    f"{sorted(tree)}, got {_describe(other)}"
                )
        return {k: fn(*_leaves(k, tree[k], *(other[k] for other in rest))) for k in tree}
    for other in rest:
        if isinstance(other, dict):
            raise ValueError(f"trees differ in structure: expected an array, got {_describe(other)}")
    return fn(*_leaves(None, tree, *rest))


def _leaves(key: str | None, *leaves: Any) -> list[np.ndarray]:
    arrays = [np.array(leaf, dtype=float) for leaf in leaves]  # copies: state never aliases inputs
    shape = arrays[0].shape
    for a in arrays[1:]:
        if a.shape != shape:
            where = f" for {key!r}" if key is not None else ""
            raise ValueError(f"shapes differ{where}: {shape} and {a.shape}")
    return arrays


def _describe(tree: Any) -> str:
    if isinstance(tree, dict):
        return f"a dict with keys {sorted(tree)}"
    return f"a {type(tree).__name__}"


def _unzip(tree: Any, n: int) -> tuple:
    """Turn a tree whose leaves are n-tuples into an n-tuple of trees."""
    if isinstance(tree, dict):
        return tuple({k: v[i] for k, v in tree.items()} for i in range(n))
    return tuple(tree)


def tree_vdot(a: Tree, b: Tree) -> float:
    """Sum over all leaves of the dot product of ``a`` and ``b`` (a scalar)."""
    dots = tree_map(lambda x, y: float(np.vdot(x, y)), a, b)
    return float(sum(dots.values())) if isinstance(dots, dict) else dots


def _zeros_like(tree: Tree, fill: float = 0.0) -> Tree:
    return tree_map(lambda p: np.full(p.shape, fill), tree)


def apply_updates(params: Tree, updates: Tree) -> Tree:
    """Return ``params + updates`` leaf by leaf (new arrays; inputs untouched)."""
    if (type(params) is np.ndarray and type(updates) is np.ndarray and params.shape == updates.shape
            and params.dtype == updates.dtype == np.float64):
        return params + updates   # the same sum, without tree_map's float copies
    return tree_map(lambda p, u: p + u, params, updates)


# --------------------------------------------------------------------------
# Argument checks, named like torch's.


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _in_range(name: str, value: Any, low: float, high: float = math.inf, *,
              low_open: bool = False, high_open: bool = False) -> float:
    """Check that ``value`` is a finite real in the given interval; return it as float."""
    value = _number(name, value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open or high == math.inf else "]"
        high_text = "inf" if high == math.inf else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{low:g}, {high_text}{right}, got {value!r}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _betas(betas: Any) -> tuple[float, float]:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    return (_in_range("beta1 (betas[0])", beta1, 0.0, 1.0, high_open=True),
            _in_range("beta2 (betas[1])", beta2, 0.0, 1.0, high_open=True))


def _lr(lr: Any) -> float:
    return _in_range("lr", lr, 0.0)


def _eps(eps: Any) -> float:
    return _in_range("eps", eps, 0.0, low_open=True)


def _weight_decay(weight_decay: Any) -> float:
    return _in_range("weight_decay", weight_decay, 0.0)


# --------------------------------------------------------------------------
# SGD (torch.optim.SGD)


class SGDState(NamedTuple):
    """count: steps taken; momentum_buffer: b_t, a tree like params (None without momentum)."""

    count: int
    momentum_buffer: Tree | None


def sgd(lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
        weight_decay: float = 0.0, nesterov: bool = False,
        maximize: bool = False) -> GradientTransformation:
    r"""Stochastic gradient descent, with momentum and Nesterov as torch.optim.SGD.

    Per step t (g = gradient, theta = params)::

        g <- -g if maximize
        g <- g + weight_decay * theta
        b_t = g                                    (t = 1)
        b_t = momentum * b_{t-1} + (1 - dampening) * g   (t > 1)
        g <- g + momentum * b_t   if nesterov else   b_t
        theta <- theta - lr * g

    Raises ValueError for lr, momentum, dampening, weight_decay outside
    [0, inf), and for nesterov without momentum > 0 and dampening == 0.
    """
    lr = _lr(lr)
    mu = _in_range("momentum", momentum, 0.0)
    tau = _in_range("dampening", dampening, 0.0)
    wd = _weight_decay(weight_decay)
    nesterov = _flag("nesterov", nesterov)
    maximize = _flag("maximize", maximize)
    if nesterov and (mu <= 0 or tau != 0):
        raise ValueError("nesterov=True requires momentum > 0 and dampening == 0")

    def init(params):
        return SGDState(count=0, momentum_buffer=_zeros_like(params) if mu != 0 else None)

    def update(grads, state, params):
        first = state.count == 0

        def leaf(g, p, b):
            if maximize:
                g = -g
            if wd != 0:
                g = g + wd * p
            if mu != 0:
                b = g if first else mu * b + (1 - tau) * g
                g = g + mu * b if nesterov else b
            return -lr * g, b

        buffers = state.momentum_buffer if mu != 0 else params   # a stand-in leaf() ignores
        updates, b = _unzip(tree_map(leaf, grads, params, buffers), 2)
        return updates, SGDState(count=state.count + 1, momentum_buffer=b if mu != 0 else None)

    return GradientTransformation(init, update)


def momentum(lr: float = 1e-3, momentum: float = 0.9) -> GradientTransformation:
    """Heavy-ball momentum: ``sgd(lr, momentum=momentum)``."""
    return sgd(lr=lr, momentum=momentum)


def nesterov(lr: float = 1e-3, momentum: float = 0.9) -> GradientTransformation:
    """Nesterov momentum as torch has it: ``sgd(lr, momentum=momentum, nesterov=True)``."""
    return sgd(lr=lr, momentum=momentum, nesterov=True)


# --------------------------------------------------------------------------
# Adagrad (torch.optim.Adagrad)


class AdagradState(NamedTuple):
    """count: steps taken; sum: running sum of squared gradients, a tree like params."""

    count: int
    sum: Tree


def adagrad(lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0, eps: float = 1e-10,
            maximize: bool = False) -> GradientTransformation:
    r"""Adagrad as torch.optim.Adagrad. Per step t::

        g <- -g if maximize
        lr_t = lr / (1 + (t - 1) * lr_decay)
        g <- g + weight_decay * theta
        sum <- sum + g^2
        theta <- theta - lr_t * g / (sqrt(sum) + eps)

    Raises ValueError for lr, lr_decay, weight_decay, initial_accumulator_value
    outside [0, inf) and eps outside (0, inf).
    """
    lr = _lr(lr)
    decay = _in_range("lr_decay", lr_decay, 0.0)
    wd = _weight_decay(weight_decay)
    acc0 = _in_range("initial_accumulator_value", initial_accumulator_value, 0.0)
    eps = _eps(eps)
    maximize = _flag("maximize", maximize)

    def init(params):
        return AdagradState(count=0, sum=_zeros_like(params, acc0))

    def update(grads, state, params):
        t = state.count + 1
        clr = lr / (1 + (t - 1) * decay)

        def leaf(g, p, s):
            if maximize:
                g = -g
            if wd != 0:
                g = g + wd * p
            s = s + g * g
            return -clr * g / (np.sqrt(s) + eps), s

        updates, s = _unzip(tree_map(leaf, grads, params, state.sum), 2)
        return updates, AdagradState(count=t, sum=s)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------
# RMSprop (torch.optim.RMSprop)


class RMSpropState(NamedTuple):
    """count; square_avg: v_t; grad_avg: running mean of g (None unless centered);
    momentum_buffer: b_t (None without momentum). Trees like params."""

    count: int
    square_avg: Tree
    grad_avg: Tree | None
    momentum_buffer: Tree | None


def rmsprop(lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
            weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
            maximize: bool = False) -> GradientTransformation:
    r"""RMSprop as torch.optim.RMSprop. Per step::

        g <- -g if maximize
        g <- g + weight_decay * theta
        v <- alpha * v + (1 - alpha) * g^2
        v~ = v
        if centered: g_avg <- alpha * g_avg + (1 - alpha) * g;  v~ = v - g_avg^2
        if momentum > 0: b <- momentum * b + g / (sqrt(v~) + eps);  theta <- theta - lr * b
        else:            theta <- theta - lr * g / (sqrt(v~) + eps)

    Raises ValueError for lr, weight_decay, momentum outside [0, inf), alpha
    outside [0, 1] and eps outside (0, inf).
    """
    lr = _lr(lr)
    alpha = _in_range("alpha", alpha, 0.0, 1.0)
    eps = _eps(eps)
    wd = _weight_decay(weight_decay)
    mu = _in_range("momentum", momentum, 0.0)
    centered = _flag("centered", centered)
    maximize = _flag("maximize", maximize)

    def init(params):
        return RMSpropState(
            count=0,
            square_avg=_zeros_like(params),
            grad_avg=_zeros_like(params) if centered else None,
            momentum_buffer=_zeros_like(params) if mu > 0 else None,
        )

    def update(grads, state, params):
        def leaf(g, p, v, g_avg, b):
            if maximize:
                g = -g
            if wd != 0:
                g = g + wd * p
            v = alpha * v + (1 - alpha) * g * g
            v_tilde = v
            if centered:
                g_avg = alpha * g_avg + (1 - alpha) * g
                v_tilde = np.maximum(v - g_avg * g_avg, 0.0)
            step = g / (np.sqrt(v_tilde) + eps)
            if mu > 0:
                b = mu * b + step
                step = b
            return -lr * step, v, g_avg, b

        results = tree_map(leaf, grads, params, state.square_avg,   # params: stand-ins leaf() ignores
                           state.grad_avg if centered else params,
                           state.momentum_buffer if mu > 0 else params)
        updates, v, g_avg, b = _unzip(results, 4)
        return updates, RMSpropState(
            count=state.count + 1,
            square_avg=v,
            grad_avg=g_avg if centered else None,
            momentum_buffer=b if mu > 0 else None,
        )

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------
# Adadelta (torch.optim.Adadelta)


class AdadeltaState(NamedTuple):
    """count; square_avg: v_t, running mean of g^2; acc_delta: u_t, running mean of dx^2."""

    count: int
    square_avg: Tree
    acc_delta: Tree


def adadelta(lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
             weight_decay: float = 0.0, maximize: bool = False) -> GradientTransformation:
    r"""Adadelta as torch.optim.Adadelta. Per step::

        g <- -g if maximize
        g <- g + weight_decay * theta
        v <- rho * v + (1 - rho) * g^2
        dx = sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * dx^2
        theta <- theta - lr * dx

    Raises ValueError for lr, weight_decay outside [0, inf), rho outside [0, 1]
    and eps outside (0, inf).
    """
    lr = _lr(lr)
    rho = _in_range("rho", rho, 0.0, 1.0)
    eps = _eps(eps)
    wd = _weight_decay(weight_decay)
    maximize = _flag("maximize", maximize)

    def init(params):
        return AdadeltaState(count=0, square_avg=_zeros_like(params), acc_delta=_zeros_like(params))

    def update(grads, state, params):
        def leaf(g, p, v, u):
            if maximize:
                g = -g
            if wd != 0:
                g = g + wd * p
            v = rho * v + (1 - rho) * g * g
            dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
            u = rho * u + (1 - rho) * dx * dx
            return -lr * dx, v, u

        updates, v, u = _unzip(tree_map(leaf, grads, params, state.square_avg, state.acc_delta), 3)
        return updates, AdadeltaState(count=state.count + 1, square_avg=v, acc_delta=u)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------
# Adam and AdamW (torch.optim.Adam, torch.optim.AdamW)


class AdamState(NamedTuple):
    """count: t; m: first moment m_t; v: second moment v_t; v_max: running max
    of v_t (None unless amsgrad). Trees like params. See ``adam_bias_corrected``."""

    count: int
    m: Tree
    v: Tree
    v_max: Tree | None


def _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled):
    lr = _lr(lr)
    beta1, beta2 = _betas(betas)
    eps = _eps(eps)
    wd = _weight_decay(weight_decay)
    amsgrad = _flag("amsgrad", amsgrad)
    maximize = _flag("maximize", maximize)

    def init(params):
        return AdamState(count=0, m=_zeros_like(params), v=_zeros_like(params),
                         v_max=_zeros_like(params) if amsgrad else None)

    def update(grads, state, params):
        t = state.count + 1
        bias1 = 1 - beta1**t
        bias2 = 1 - beta2**t

        def leaf(g, p, m, v, v_max):
            if maximize:
                g = -g
            decay = 0.0
            if decoupled:
                decay = -lr * wd * p           # AdamW: theta <- theta - lr * wd * theta
            elif wd != 0:
                g = g + wd * p                 # Adam: L2 penalty folded into g
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat = m / bias1
            if amsgrad:
                v_max = np.maximum(v_max, v)
                v_hat = v_max / bias2
            else:
                v_hat = v / bias2
            return decay - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, v_max

        results = tree_map(leaf, grads, params, state.m, state.v,
                           state.v_max if amsgrad else params)   # params: a stand-in leaf() ignores
        updates, m, v, v_max = _unzip(results, 4)
        return updates, AdamState(count=t, m=m, v=v, v_max=v_max if amsgrad else None)

    return GradientTransformation(init, update)


def adam(lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0, amsgrad: bool = False,
         maximize: bool = False) -> GradientTransformation:
    r"""Adam (Kingma & Ba) as torch.optim.Adam. Per step t::

        g <- -g if maximize
        g <- g + weight_decay * theta
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)
        v_max <- max(v_max, v)  (amsgrad);  v_hat = (v_max if amsgrad else v) / (1 - beta2^t)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    Raises ValueError for lr, weight_decay outside [0, inf), betas outside
    [0, 1) and eps outside (0, inf).
    """
    return _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=False)


def adamw(lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
          weight_decay: float = 1e-2, amsgrad: bool = False,
          maximize: bool = False) -> GradientTransformation:
    r"""AdamW (Loshchilov & Hutter) as torch.optim.AdamW: Adam with decoupled
    weight decay, ``theta <- theta - lr * weight_decay * theta`` applied to the
    parameters before the Adam step, instead of adding it to the gradient."""
    return _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)


def adam_bias_corrected(state: AdamState,
                        betas: tuple[float, float] = (0.9, 0.999)) -> tuple[Tree, Tree]:
    """The bias-corrected moments ``(m_hat, v_hat)`` of an Adam or AdamW state.

    betas: those the optimizer was built with.

    Works on a single state and on stacked states (``count: (T+1,)``, moments
    ``(T+1, ...)``, see ``train.stack_states``). ``v_hat`` uses ``v_max`` when the
    state has one (amsgrad). At count 0 both are 0.
    """
    beta1, beta2 = _betas(betas)
    count = np.asarray(state.count, dtype=float)
    v = state.v_max if state.v_max is not None else state.v

    def corrected(x, beta):
        c = count.reshape(count.shape + (1,) * (x.ndim - count.ndim))
        bias = 1 - beta**c
        return np.divide(x, bias, out=np.zeros(np.broadcast_shapes(x.shape, bias.shape)),
                         where=bias != 0)

    return (tree_map(lambda m: corrected(m, beta1), state.m),
            tree_map(lambda x: corrected(x, beta2), v))


# --------------------------------------------------------------------------
# Kochenderfer & Wheeler's Nesterov momentum


class KochenderferNesterovState(NamedTuple):
    """count; velocity: v_k of the textbook, a tree like params."""

    count: int
    velocity: Tree


def kochenderfer_nesterov(lr: float = 1e-3, beta: float = 0.9) -> GradientTransformation:
    r"""Nesterov momentum as in Kochenderfer & Wheeler, *Algorithms for Optimization*::

        v <- beta * v - lr * grad f(x + beta * v)
        x <- x + v

    The textbook needs the gradient at the look-ahead point ``x + beta v``,
    while an update sees only the gradient at the parameters it is given. So
    the parameters this optimizer moves are the look-ahead points
    ``y = x + beta v`` (the usual change of variables for Nesterov momentum).
    Substituting ``x = y - beta v``::

        v' = beta * v - lr * grad f(y)
        y' = x' + beta v' = y + beta * v' - lr * grad f(y)

    With ``v_0 = 0`` we have ``y_0 = x_0``; the textbook iterate is recovered
    with ``kochenderfer_position(params, state, beta) = y - beta v``. (In this form
    it is the same sequence of points as ``nesterov(lr, momentum=beta)``,
    whose buffer is ``b = -v / lr``.)

    Raises ValueError for lr outside [0, inf) and beta outside [0, 1).
    """
    lr = _lr(lr)
    beta = _in_range("beta", beta, 0.0, 1.0, high_open=True)

    def init(params):
        return KochenderferNesterovState(count=0, velocity=_zeros_like(params))

    def update(grads, state, params):
        def leaf(g, v):
            v = beta * v - lr * g
            return beta * v - lr * g, v

        updates, v = _unzip(tree_map(leaf, grads, state.velocity), 2)
        return updates, KochenderferNesterovState(count=state.count + 1, velocity=v)

    return GradientTransformation(init, update)


def kochenderfer_position(params: Tree, state: KochenderferNesterovState, beta: float) -> Tree:
    """The textbook iterate ``x = y - beta v`` from the look-ahead parameters ``y``.

    beta: the one the optimizer was built with.

    Works on stacked histories too (params and velocity both ``(T+1, ...)``).
    """
    beta = _in_range("beta", beta, 0.0, 1.0, high_open=True)
    return tree_map(lambda y, v: y - beta * v, params, state.velocity)


# --------------------------------------------------------------------------
# Hypergradient descent (Baydin, Cornish, Martinez Rubio, Schmidt & Wood, 2018)


class HypergradientSGDState(NamedTuple):
    """count; lr: alpha_t, the learning rate used by the last step (float);
    hypergradient: h_t of the last step (float); prev_grad: g_{t-1}, a tree."""

    count: int
    lr: float
    hypergradient: float
    prev_grad: Tree


def hypergradient_sgd(lr: float = 1e-3, hyper_lr: float = 1e-6) -> GradientTransformation:
    r"""SGD with hypergradient descent on its learning rate (SGD-HD). Per step t::

        h_t = grad f(theta_{t-1}) . (-grad f(theta_{t-2}))     (0 at t = 1)
        alpha_t = alpha_{t-1} - hyper_lr * h_t
        theta_t = theta_{t-1} - alpha_t * grad f(theta_{t-1})

    The dot product runs over all parameters, so there is one global learning
    rate, kept in the state. Consecutive gradients that agree raise it; ones
    that disagree lower it. ``alpha`` is not clipped (nor is it in the
    paper's algorithms) and can become negative when ``hyper_lr`` is too
    large. Defaults follow the authors' reference code.

    Raises ValueError for lr or hyper_lr outside [0, inf).
    """
    lr0 = _lr(lr)
    beta = _in_range("hyper_lr", hyper_lr, 0.0)

    def init(params):
        return HypergradientSGDState(count=0, lr=lr0, hypergradient=0.0, prev_grad=_zeros_like(params))

    def update(grads, state, params):
        grads = tree_map(lambda g, p: g, grads, params)  # float copies, shapes checked
        h = -tree_vdot(grads, state.prev_grad)
        alpha = state.lr - beta * h
        updates = tree_map(lambda g: -alpha * g, grads)
        return updates, HypergradientSGDState(count=state.count + 1, lr=alpha, hypergradient=h,
                                              prev_grad=grads)

    return GradientTransformation(init, update)


class HypergradientAdamState(NamedTuple):
    """count; lr: alpha_t of the last step; hypergradient: h_t; m, v: Adam moments;
    prev_direction: m_hat_{t-1} / (sqrt(v_hat_{t-1}) + eps), a tree (0 at the start)."""

    count: int
    lr: float
    hypergradient: float
    m: Tree
    v: Tree
    prev_direction: Tree


def hypergradient_adam(lr: float = 1e-3, hyper_lr: float = 1e-8,
                       betas: tuple[float, float] = (0.9, 0.999),
                       eps: float = 1e-8) -> GradientTransformation:
    r"""Adam with hypergradient descent on its learning rate (Adam-HD). Per step t::

        g_t = grad f(theta_{t-1})
        h_t = g_t . (-d_{t-1}),   d_{t-1} = m_hat_{t-1} / (sqrt(v_hat_{t-1}) + eps)   (d_0 = 0)
        alpha_t = alpha_{t-1} - hyper_lr * h_t
        m, v, m_hat, v_hat as in ``adam``
        theta_t = theta_{t-1} - alpha_t * m_hat_t / (sqrt(v_hat_t) + eps)

    One global learning rate, kept in the state, not clipped. Follows the
    paper's algorithm with torch's Adam form (eps added to sqrt(v_hat)); the
    default hyper_lr is that of the authors' reference code.

    Raises ValueError for lr, hyper_lr outside [0, inf), betas outside [0, 1)
    and eps outside (0, inf).
    """
    lr0 = _lr(lr)
    beta = _in_range("hyper_lr", hyper_lr, 0.0)
    beta1, beta2 = _betas(betas)
    eps = _eps(eps)

    def init(params):
        return HypergradientAdamState(count=0, lr=lr0, hypergradient=0.0, m=_zeros_like(params),
                                      v=_zeros_like(params), prev_direction=_zeros_like(params))

    def update(grads, state, params):
        grads = tree_map(lambda g, p: g, grads, params)
        t = state.count + 1
        h = -tree_vdot(grads, state.prev_direction)
        alpha = state.lr - beta * h

        def leaf(g, m, v):
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            d = (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
            return -alpha * d, m, v, d

        updates, m, v, d = _unzip(tree_map(leaf, grads, state.m, state.v), 4)
        return updates, HypergradientAdamState(count=t, lr=alpha, hypergradient=h, m=m, v=v,
                                               prev_direction=d)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------
# Registry for UI selectors


class HyperparameterSpec(NamedTuple):
    """One scalar hyperparameter: kind is "float" or "bool" (min/max None for bool)."""

    name: str
    label: str
    default: float | bool
    min: float | None = None
    max: float | None = None
    log_scale: bool = False
    kind: str = "float"


class OptimizerSpec(NamedTuple):
    """A selectable optimizer: ``make(name, **hyper)`` builds it."""

    name: str
    label: str
    description: str
    hyperparameters: tuple[HyperparameterSpec, ...]

    def defaults(self) -> dict[str, float | bool]:
        """{hyperparameter name: default}."""
        return {h.name: h.default for h in self.hyperparameters}


def _h(name, label, default, lo=None, hi=None, log=False):
    return HyperparameterSpec(name, label, default, lo, hi, log,
                              "bool" if isinstance(default, bool) else "float")


def _lr_spec(default):
    return _h("lr", "learning rate", default, 1e-6, 100.0, True)


_WEIGHT_DECAY = _h("weight_decay", "weight decay", 0.0, 0.0, 1.0)
_BETA1 = _h("beta1", "β₁ (first-moment decay)", 0.9, 0.0, 0.999)
_BETA2 = _h("beta2", "β₂ (second-moment decay)", 0.999, 0.0, 0.9999)


def _eps_spec(default):
    return _h("eps", "ε", default, 1e-12, 1.0, True)


_SPECS = [
    OptimizerSpec(
        "sgd", "SGD",
        "Gradient descent, optionally with momentum, dampening, Nesterov and weight decay.",
        (_lr_spec(1e-3), _h("momentum", "momentum", 0.0, 0.0, 0.999),
         _h("dampening", "dampening", 0.0, 0.0, 1.0), _WEIGHT_DECAY,
         _h("nesterov", "Nesterov", False))),
    OptimizerSpec(
        "momentum", "Momentum",
        "Heavy-ball momentum: each step keeps a fraction of the previous one.",
        (_lr_spec(1e-3), _h("momentum", "momentum", 0.9, 0.0, 0.999))),
    OptimizerSpec(
        "nesterov", "Nesterov",
        "Momentum that corrects its step with the gradient at a look-ahead point.",
        (_lr_spec(1e-3), _h("momentum", "momentum", 0.9, 0.001, 0.999))),
    OptimizerSpec(
        "kochenderfer_nesterov", "Nesterov (textbook)",
        "Nesterov momentum as Kochenderfer & Wheeler write it: a velocity and a look-ahead gradient.",
        (_lr_spec(1e-3), _h("beta", "β (momentum)", 0.9, 0.0, 0.999))),
    OptimizerSpec(
        "adagrad", "Adagrad",
        "Per-parameter steps that shrink with the sum of all squared gradients so far.",
        (_lr_spec(1e-2), _h("lr_decay", "learning-rate decay", 0.0, 0.0, 1.0), _WEIGHT_DECAY,
         _h("initial_accumulator_value", "initial accumulator", 0.0, 0.0, 1.0),
         _eps_spec(1e-10))),
    OptimizerSpec(
        "rmsprop", "RMSprop",
        "Per-parameter steps scaled by a running average of squared gradients.",
        (_lr_spec(1e-2), _h("alpha", "α (smoothing)", 0.99, 0.0, 0.9999), _eps_spec(1e-8),
         _WEIGHT_DECAY, _h("momentum", "momentum", 0.0, 0.0, 0.999),
         _h("centered", "centered", False))),
    OptimizerSpec(
        "adadelta", "Adadelta",
        "Steps sized by running averages of squared gradients and of squared steps.",
        (_lr_spec(1.0),
         _h("rho", "ρ (smoothing)", 0.9, 0.0, 0.9999), _eps_spec(1e-6), _WEIGHT_DECAY)),
    OptimizerSpec(
        "adam", "Adam",
        "Momentum and per-parameter scaling, with bias-corrected moment estimates.",
        (_lr_spec(1e-3), _BETA1, _BETA2, _eps_spec(1e-8), _WEIGHT_DECAY,
         _h("amsgrad", "AMSGrad", False))),
    OptimizerSpec(
        "adamw", "AdamW",
        "Adam with weight decay applied to the parameters, not to the gradient.",
        (_lr_spec(1e-3), _BETA1, _BETA2, _eps_spec(1e-8),
         _h("weight_decay", "weight decay", 1e-2, 0.0, 1.0), _h("amsgrad", "AMSGrad", False))),
    OptimizerSpec(
        "hypergradient_sgd", "SGD-HD",
        "SGD that tunes its own learning rate by hypergradient descent.",
        (_lr_spec(1e-3), _h("hyper_lr", "hypergradient learning rate", 1e-6, 1e-10, 1.0, True))),
    OptimizerSpec(
        "hypergradient_adam", "Adam-HD",
        "Adam that tunes its own learning rate by hypergradient descent.",
        (_lr_spec(1e-3), _h("hyper_lr", "hypergradient learning rate", 1e-8, 1e-12, 1e-1, True),
         _BETA1, _BETA2, _eps_spec(1e-8))),
]

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in _SPECS}

_FACTORIES: dict[str, Callable[..., GradientTransformation]] = {
    "sgd": sgd, "momentum": momentum, "nesterov": nesterov,
    "kochenderfer_nesterov": kochenderfer_nesterov, "adagrad": adagrad, "rmsprop": rmsprop,
    "adadelta": adadelta, "adam": adam, "adamw": adamw,
    "hypergradient_sgd": hypergradient_sgd, "hypergradient_adam": hypergradient_adam,
}


def make(name: str, **hyper: float | bool) -> GradientTransformation:
    """Build the optimizer ``name`` from ``OPTIMIZERS``; missing hyperparameters take their defaults.

    Every value must lie within its spec's [min, max] (the ranges the UI
    offers); ``beta1``/``beta2`` are passed on as ``betas``. Raises ValueError
    for an unknown name, an unknown hyperparameter or a value out of range.
    """
    spec = OPTIMIZERS.get(name)
    if spec is None:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
    known = {h.name: h for h in spec.hyperparameters}
    unknown = sorted(set(hyper) - set(known))
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {', '.join(map(repr, unknown))} for {name!r}; "
                         f"known: {', '.join(known)}")
    values: dict[str, Any] = {}
    for h in spec.hyperparameters:
        value = hyper.get(h.name, h.default)
        if h.kind == "bool":
            values[h.name] = _flag(h.name, value)
        else:
            values[h.name] = _in_range(h.name, value, h.min, h.max)
    if "beta1" in values:
        values["betas"] = (values.pop("beta1"), values.pop("beta2"))
    return _FACTORIES[name](**values)
