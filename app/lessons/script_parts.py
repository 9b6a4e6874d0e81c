"""Pieces of the "this run as Python" scripts that several lessons share.

A script is text made from templates (string.Template, `$name` fields) whose
fields are filled with Python literals, so a float keeps every digit (repr).
Here: the report helper every script prints its numbers with, and the
optimizers of `app.ml.optim` written out as small numpy functions with the
same update rules (torch.optim's), the same order of operations and the same
defaults, so a script's run follows the lesson's to the last digits.

An optimizer in a script is `init, update = adam(lr=...)`, with
`state = init(theta)` and `updates, state = update(grads, state, theta)` over
dicts of arrays, and `theta = {k: theta[k] + updates[k] for k in theta}`.
"""

from __future__ import annotations

import math
import numbers
from string import Template

import numpy as np

from app.ml import optim


class Code(str):
    """Text that `render` puts into a script as it is (not as a literal)."""


def literal(value) -> str:
    """A Python literal of `value` that reads back to the same value (floats with every digit)."""
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, numbers.Integral):
        return repr(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isfinite(value):
            return repr(value)
        return "float('nan')" if math.isnan(value) else f"float('{'-' if value < 0 else ''}inf')"
    if isinstance(value, np.ndarray):
        return literal(value.tolist())
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str) or value is None:
        return repr(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def wrapped(items, indent: int = 4, width: int = 100, brackets: str = "[]") -> str:
    """The literal of a sequence of `items` (a list; brackets="()" for a tuple), its items over
    lines of at most `width` characters, indented by `indent` (the closing bracket by 4 less)."""
    lines, line = [], ""
    for item in (literal(v) + "," for v in items):
        if line and len(line) + 1 + len(item) > width - indent:
            lines.append(line)
            line = item
        else:
            line = f"{line} {item}" if line else item
    lines.append(line)
    pad = " " * indent
    return brackets[0] + "\n" + "\n".join(pad + text for text in lines) + "\n" + " " * (indent - 4) + brackets[1]


def render(template: str, **fields) -> str:
    """`template` with every `$name` replaced by the literal of fields[name] (Code as it is)."""
    return Template(template).substitute({name: literal(value) for name, value in fields.items()})


def script(*parts: str) -> str:
    """Parts of a script, two blank lines apart, ending in one newline."""
    return "\n\n\n".join(part.strip("\n") for part in parts if part.strip()) + "\n"


def imports(*modules: str) -> str:
    """The script's imports: json, the standard-library `modules`, and numpy."""
    return "\n".join(f"import {name}" for name in sorted({"json", *modules})) + "\n\nimport numpy as np"


REPORT = '''
def report(name, value):
    """Print one result as `name = value`, the value as JSON with every digit."""
    if not isinstance(value, str):
        value = np.asarray(value, dtype=float).tolist()
    print(name, "=", json.dumps(value))
'''

#: A training step's divergence check, as the lesson's (app.ml.divergence) words it; a script
#: puts it before its training loop and prints "diverged at step 37: <why>" (steps from 1).
DIVERGENCE = '''
def divergence(loss, theta):
    """Why a training step diverged, in words, or None: its loss or its new parameters not finite."""
    if not np.isfinite(loss):
        return f"the loss became {float(loss)}"
    if not all(np.all(np.isfinite(p)) for p in theta.values()):
        return "the parameters became non-finite"
    return None
'''


def header(first_line: str, *lines: str) -> str:
    """The script's opening comment: what it reproduces, then how to read and change it."""
    text = [f"# {first_line}"] + [f"# {line}" if line else "#" for line in lines]
    text += ["#", "# Needs only Python 3 and numpy. Change a number below and run it again."]
    return "\n".join(text)


# -- optimizers -----------------------------------------------------------------------------

_SGD = '''
def sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """SGD as torch.optim.SGD: b = momentum b + (1 - dampening) g (b = g at first), step -lr b."""
    def init(theta):
        return {"t": 0, "buffer": {k: np.zeros_like(p) for k, p in theta.items()}}

    def update(grads, state, theta):
        buffer, updates = {}, {}
        for k, g in grads.items():
            if weight_decay != 0:
                g = g + weight_decay * theta[k]
            if momentum != 0:
                b = g if state["t"] == 0 else momentum * state["buffer"][k] + (1 - dampening) * g
                buffer[k] = b
                g = g + momentum * b if nesterov else b
            updates[k] = -lr * g
        return updates, {"t": state["t"] + 1, "buffer": buffer}

    return init, update
'''

_ADAGRAD = '''
def adagrad(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    """Adagrad as torch.optim.Adagrad: sum += g^2, step -lr_t g / (sqrt(sum) + eps)."""
    def init(theta):
        return {"t": 0, "sum": {k: np.full(p.shape, initial_accumulator_value) for k, p in theta.items()}}

    def update(grads, state, theta):
        t = state["t"] + 1
        lr_t = lr / (1 + (t - 1) * lr_decay)
        total, updates = {}, {}
        for k, g in grads.items():
            if weight_decay != 0:
                g = g + weight_decay * theta[k]
            total[k] = state["sum"][k] + g * g
            updates[k] = -lr_t * g / (np.sqrt(total[k]) + eps)
        return updates, {"t": t, "sum": total}

    return init, update
'''

_RMSPROP = '''
def rmsprop(lr, alpha=0.99, eps=1e-08, weight_decay=0.0, momentum=0.0, centered=False):
    """RMSprop as torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2, step -lr g / (sqrt(v) + eps)."""
    def init(theta):
        zeros = {k: np.zeros_like(p) for k, p in theta.items()}
        return {"v": zeros, "g_avg": zeros, "buffer": zeros}

    def update(grads, state, theta):
        v, g_avg, buffer, updates = {}, {}, {}, {}
        for k, g in grads.items():
            if weight_decay != 0:
                g = g + weight_decay * theta[k]
            v[k] = alpha * state["v"][k] + (1 - alpha) * g * g
            v_tilde = v[k]
            g_avg[k] = state["g_avg"][k]
            if centered:  # subtract the squared running mean of g: a variance
                g_avg[k] = alpha * g_avg[k] + (1 - alpha) * g
                v_tilde = np.maximum(v[k] - g_avg[k] * g_avg[k], 0.0)
            step = g / (np.sqrt(v_tilde) + eps)
            buffer[k] = state["buffer"][k]
            if momentum > 0:
                buffer[k] = momentum * buffer[k] + step
                step = buffer[k]
            updates[k] = -lr * step
        return updates, {"v": v, "g_avg": g_avg, "buffer": buffer}

    return init, update
'''

_ADADELTA = '''
def adadelta(lr, rho=0.9, eps=1e-06, weight_decay=0.0):
    """Adadelta as torch.optim.Adadelta: steps sized by running means of g^2 and of the steps^2."""
    def init(theta):
        zeros = {k: np.zeros_like(p) for k, p in theta.items()}
        return {"v": zeros, "u": zeros}

    def update(grads, state, theta):
        v, u, updates = {}, {}, {}
        for k, g in grads.items():
            if weight_decay != 0:
                g = g + weight_decay * theta[k]
            v[k] = rho * state["v"][k] + (1 - rho) * g * g
            dx = np.sqrt(state["u"][k] + eps) / np.sqrt(v[k] + eps) * g
            u[k] = rho * state["u"][k] + (1 - rho) * dx * dx
            updates[k] = -lr * dx
        return updates, {"v": v, "u": u}

    return init, update
'''

_ADAM = '''
def adam(lr, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False, decoupled=False):
    """Adam as torch.optim.Adam (decoupled=True: AdamW, weight decay on theta, not in g)."""
    beta1, beta2 = betas

    def init(theta):
        zeros = {k: np.zeros_like(p) for k, p in theta.items()}
        return {"t": 0, "m": zeros, "v": zeros, "v_max": zeros}

    def update(grads, state, theta):
        t = state["t"] + 1
        m, v, v_max, updates = {}, {}, {}, {}
        for k, g in grads.items():
            if weight_decay != 0 and not decoupled:
                g = g + weight_decay * theta[k]
            m[k] = beta1 * state["m"][k] + (1 - beta1) * g
            v[k] = beta2 * state["v"][k] + (1 - beta2) * g * g
            m_hat = m[k] / (1 - beta1**t)                 # bias-corrected moments
            v_max[k] = np.maximum(state["v_max"][k], v[k]) if amsgrad else v[k]
            v_hat = v_max[k] / (1 - beta2**t)
            updates[k] = -lr * m_hat / (np.sqrt(v_hat) + eps)
            if decoupled:
                updates[k] = -lr * weight_decay * theta[k] + updates[k]
        return updates, {"t": t, "m": m, "v": v, "v_max": v_max}

    return init, update
'''

_KOCHENDERFER = '''
def kochenderfer_nesterov(lr, beta=0.9):
    """Nesterov momentum as Kochenderfer & Wheeler write it, v = beta v - lr grad f(x + beta v),
    moving the look-ahead points y = x + beta v (so each gradient is taken where it is needed)."""
    def init(theta):
        return {"v": {k: np.zeros_like(p) for k, p in theta.items()}}

    def update(grads, state, theta):
        v, updates = {}, {}
        for k, g in grads.items():
            v[k] = beta * state["v"][k] - lr * g
            updates[k] = beta * v[k] - lr * g
        return updates, {"v": v}

    return init, update
'''

_HYPER_SGD = '''
def hypergradient_sgd(lr, hyper_lr=1e-06):
    """SGD-HD (Baydin et al. 2018): the rate alpha follows -hyper_lr times the hypergradient
    h = -g . g_previous, one rate for all parameters."""
    def init(theta):
        return {"alpha": lr, "g_prev": {k: np.zeros_like(p) for k, p in theta.items()}}

    def update(grads, state, theta):
        h = -sum(float(np.vdot(grads[k], state["g_prev"][k])) for k in grads)
        alpha = state["alpha"] - hyper_lr * h
        return {k: -alpha * g for k, g in grads.items()}, {"alpha": alpha, "g_prev": dict(grads)}

    return init, update
'''

_HYPER_ADAM = '''
def hypergradient_adam(lr, hyper_lr=1e-08, betas=(0.9, 0.999), eps=1e-08):
    """Adam-HD (Baydin et al. 2018): Adam whose rate alpha follows -hyper_lr times the
    hypergradient h = -g . d_previous (d: Adam's last direction)."""
    beta1, beta2 = betas

    def init(theta):
        zeros = {k: np.zeros_like(p) for k, p in theta.items()}
        return {"t": 0, "alpha": lr, "m": zeros, "v": zeros, "d": zeros}

    def update(grads, state, theta):
        t = state["t"] + 1
        h = -sum(float(np.vdot(grads[k], state["d"][k])) for k in grads)
        alpha = state["alpha"] - hyper_lr * h
        m, v, d, updates = {}, {}, {}, {}
        for k, g in grads.items():
            m[k] = beta1 * state["m"][k] + (1 - beta1) * g
            v[k] = beta2 * state["v"][k] + (1 - beta2) * g * g
            d[k] = (m[k] / (1 - beta1**t)) / (np.sqrt(v[k] / (1 - beta2**t)) + eps)
            updates[k] = -alpha * d[k]
        return updates, {"t": t, "alpha": alpha, "m": m, "v": v, "d": d}

    return init, update
'''

#: optimizer name -> (the function the script defines, its code)
_FUNCTIONS = {
    "sgd": ("sgd", _SGD), "momentum": ("sgd", _SGD), "nesterov": ("sgd", _SGD),
    "kochenderfer_nesterov": ("kochenderfer_nesterov", _KOCHENDERFER), "adagrad": ("adagrad", _ADAGRAD),
    "rmsprop": ("rmsprop", _RMSPROP), "adadelta": ("adadelta", _ADADELTA), "adam": ("adam", _ADAM),
    "adamw": ("adam", _ADAM), "hypergradient_sgd": ("hypergradient_sgd", _HYPER_SGD),
    "hypergradient_adam": ("hypergradient_adam", _HYPER_ADAM),
}


def optimizer_code(*names: str) -> str:
    """The definitions the optimizers `names` need (each once, in a fixed order)."""
    needed = {_FUNCTIONS[name][1] for name in names}
    return "\n\n\n".join(code.strip("\n") for _, code in dict.fromkeys(_FUNCTIONS.values()) if code in needed)


def optimizer_call(name: str, hyper: dict | None = None, *, lr: str | None = None) -> str:
    """The call that builds optimizer `name` of optim.OPTIMIZERS with `hyper` (others at
    their defaults), as optim.make builds it, e.g. "adam(lr=0.01, betas=(0.9, 0.999), ...)".
    lr: code to write for the learning rate instead of its number (e.g. a variable's name).

    Raises ValueError for what optim.make refuses (unknown names, values out of range).
    """
    hyper = dict(hyper or {})
    optim.make(name, **hyper)   # the same checks as the lesson's
    values = {**optim.OPTIMIZERS[name].defaults(), **hyper}
    if lr is not None:
        values["lr"] = Code(lr)
    if "beta1" in values:   # torch's pair, in beta1's place
        betas = (float(values["beta1"]), float(values["beta2"]))
        values = {("betas" if k == "beta1" else k): (betas if k == "beta1" else v)
                  for k, v in values.items() if k != "beta2"}
    if name in ("momentum", "nesterov"):
        values["nesterov"] = name == "nesterov"
    if name == "adamw":
        values["decoupled"] = True
    function = _FUNCTIONS[name][0]
    arguments = ", ".join(f"{key}={literal(_number(value))}" for key, value in values.items())
    return f"{function}({arguments})"


def _number(value):
    """Hyperparameters as the optimizers take them: bools stay bools, numbers become floats."""
    return value if isinstance(value, (bool, np.bool_, tuple, Code)) else float(value)


OPTIMIZER_LABELS = {name: spec.label for name, spec in optim.OPTIMIZERS.items()}


# -- a multilayer perceptron (app.ml.mlp) ----------------------------------------------------

ACTIVATIONS = {
    "relu": '''
def activation(z):
    return np.maximum(z, 0.0)                    # relu


def activation_slope(z, a):
    return (z > 0).astype(z.dtype)               # relu'(z): 1 where z > 0
''',
    "tanh": '''
def activation(z):
    return np.tanh(z)


def activation_slope(z, a):
    return 1.0 - a * a                           # tanh'(z) = 1 - tanh(z)^2
''',
    "sigmoid": '''
def activation(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))        # sigmoid, written with tanh: it never overflows


def activation_slope(z, a):
    return a * (1.0 - a)
''',
    "linear": '''
def activation(z):
    return z                                     # no activation: the network stays linear


def activation_slope(z, a):
    return np.ones_like(z)
''',
}

LOSSES = {
    "softmax_ce": '''
def point_losses(out, labels):
    """Cross-entropy of softmax(out) for each point: logsumexp(out) - out[label]; out: (n, m)."""
    top = out.max(axis=1)
    return np.log(np.exp(out - top[:, None]).sum(axis=1)) + top - out[np.arange(len(labels)), labels]


def loss_slope(out, labels):
    """d(point loss)/d out = softmax(out) - onehot(label): (n, m)."""
    e = np.exp(out - out.max(axis=1, keepdims=True))
    grad = e / e.sum(axis=1, keepdims=True)
    grad[np.arange(len(labels)), labels] -= 1.0
    return grad
''',
    "squared_error": '''
def point_losses(out, labels):
    """Half the squared distance of the outputs to the one-hot label, for each point."""
    diff = out - np.eye(out.shape[1])[labels]
    return 0.5 * (diff * diff).sum(axis=1)


def loss_slope(out, labels):
    """d(point loss)/d out = out - onehot(label): (n, m)."""
    return out - np.eye(out.shape[1])[labels]
''',
}

MLP = '''
def init_params(sizes, seed):
    """Random weights, zero biases: {"W0": (d0, d1), "b0": (d1,), "W1": ...}.

    He normal, W ~ N(0, 2 / fan_in), for relu networks; Glorot uniform otherwise."""
    rng = np.random.default_rng(seed)
    theta = {}
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if ACTIVATION == "relu":
            theta[f"W{l}"] = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))
        else:
            r = np.sqrt(6.0 / (fan_in + fan_out))
            theta[f"W{l}"] = rng.uniform(-r, r, (fan_in, fan_out))
        theta[f"b{l}"] = np.zeros(fan_out)
    return theta


def forward(theta, X):
    """Pre-activations zs[l] = a_l W_l + b_l and layer inputs As[l] (As[0] = X); zs[-1] is the output."""
    layers = len(theta) // 2
    zs, As = [], [X]
    for l in range(layers):
        zs.append(As[-1] @ theta[f"W{l}"] + theta[f"b{l}"])
        if l < layers - 1:
            As.append(activation(zs[-1]))
    return zs, As


def loss_and_grad(theta, X, labels):
    """Mean loss (+ L1/L2 penalty on the weights) and its gradient by backpropagation:
    delta = dL/d out, dL/dW_l = a_l^T delta, dL/db_l = sum of delta, delta <- (delta W_l^T) f'(z)."""
    layers = len(theta) // 2
    zs, As = forward(theta, X)
    weights = [theta[f"W{l}"] for l in range(layers)]
    penalty = L1 * sum(np.abs(W).sum() for W in weights) + 0.5 * L2 * sum((W * W).sum() for W in weights)
    loss = float(point_losses(zs[-1], labels).mean() + penalty)
    delta = loss_slope(zs[-1], labels) / len(labels)
    grads = {}
    for l in range(layers - 1, -1, -1):
        W = theta[f"W{l}"]
        grads[f"W{l}"] = As[l].T @ delta + L1 * np.sign(W) + L2 * W
        grads[f"b{l}"] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ W.T) * activation_slope(zs[l - 1], As[l])
    return loss, {k: grads[k] for k in theta}


def evaluate(theta, X, labels):
    """The data loss (no penalty) and the share of points classified right."""
    out = forward(theta, X)[0][-1]
    return float(point_losses(out, labels).mean()), float(np.mean(out.argmax(axis=1) == labels))
'''


MLP_RESIDUAL = '''
def skips(sizes, residual):
    """For each weight layer l: whether its input a_l is added to its output (a skip connection
    around every hidden layer after the first whose input and output widths are equal)."""
    layers = len(sizes) - 1
    return [residual and 0 < l < layers - 1 and sizes[l] == sizes[l + 1] for l in range(layers)]


def init_params(sizes, seed, residual=False):
    """Random weights, zero biases: He normal, W ~ N(0, 2 / fan_in), for relu networks, Glorot
    uniform otherwise. In a residual network the K layers with a skip are scaled by 1/sqrt(K)."""
    rng = np.random.default_rng(seed)
    skip = skips(sizes, residual)
    branch_scale = 1.0 / np.sqrt(max(1, sum(skip)))
    theta = {}
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if ACTIVATION == "relu":
            W = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))
        else:
            r = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-r, r, (fan_in, fan_out))
        theta[f"W{l}"] = W * branch_scale if skip[l] else W
        theta[f"b{l}"] = np.zeros(fan_out)
    return theta


def sizes_of(theta):
    layers = len(theta) // 2
    return [theta["W0"].shape[0]] + [theta[f"W{l}"].shape[1] for l in range(layers)]


def forward(theta, X, residual=False):
    """z_l = a_l W_l + b_l; a_{l+1} = f(z_l), plus a_l where a skip goes around the layer."""
    skip = skips(sizes_of(theta), residual)
    layers = len(theta) // 2
    zs, As = [], [X]
    for l in range(layers):
        zs.append(As[-1] @ theta[f"W{l}"] + theta[f"b{l}"])
        if l < layers - 1:
            As.append(activation(zs[-1]) + As[-1] if skip[l] else activation(zs[-1]))
    return zs, As


def loss_and_grad(theta, X, labels, residual=False):
    """Mean loss and its gradient by backpropagation; through a skip the gradient of a_{l+1}
    also flows straight back to a_l: g_l = delta_l W_l^T + g_{l+1}."""
    skip = skips(sizes_of(theta), residual)
    layers = len(theta) // 2
    zs, As = forward(theta, X, residual)
    loss = float(point_losses(zs[-1], labels).mean())
    delta = loss_slope(zs[-1], labels) / len(labels)
    grads, g = {}, None
    for l in range(layers - 1, -1, -1):
        W = theta[f"W{l}"]
        grads[f"W{l}"] = As[l].T @ delta
        grads[f"b{l}"] = delta.sum(axis=0)
        if l > 0:
            g = delta @ W.T + g if skip[l] else delta @ W.T  # dL/da_l
            f_z = activation(zs[l - 1]) if skip[l - 1] else As[l]  # f(z_{l-1}) without the skip
            delta = g * activation_slope(zs[l - 1], f_z)
    return loss, {k: grads[k] for k in theta}


def evaluate(theta, X, labels, residual=False):
    """The loss and the share of points classified right."""
    out = forward(theta, X, residual)[0][-1]
    return float(point_losses(out, labels).mean()), float(np.mean(out.argmax(axis=1) == labels))
'''


def mlp_code(activation: str, loss: str, l1: float = 0.0, l2: float = 0.0, residual: bool = False) -> str:
    """The network's code for one activation and loss, with its L1 and L2 rates (residual:
    with skip connections, and without penalties)."""
    if residual:
        settings = render("ACTIVATION = $activation  # of the hidden layers; the output layer is linear",
                          activation=activation)
        return script(settings, ACTIVATIONS[activation], LOSSES[loss], MLP_RESIDUAL).rstrip("\n")
    settings = render("ACTIVATION = $activation  # of the hidden layers; the output layer is linear\n"
                      "L1, L2 = $l1, $l2  # weight penalties", activation=activation, l1=float(l1), l2=float(l2))
    return script(settings, ACTIVATIONS[activation], LOSSES[loss], MLP).rstrip("\n")
