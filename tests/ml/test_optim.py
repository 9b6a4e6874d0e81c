"""Tests for app.ml.optim: published update rules, purity, trees, checks, registry."""

import copy
import inspect
import math

import numpy as np
import pytest

from app.ml import optim

# --------------------------------------------------------------------------
# The problem every known-answer test uses: f(x) = 1/2 x'Ax - b'x, so
# grad f(x) = Ax - b, from x0 = [1, -2, 0.5], for STEPS steps.

A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.3]])
B = np.array([1.0, -1.0, 0.5])
X0 = np.array([1.0, -2.0, 0.5])
STEPS = 8


def quadratic_grad(x):
    return A @ x - B


# Trajectories (STEPS + 1 rows of x) produced by torch 2.13.0+cpu, float64
# (torch.set_default_dtype(torch.float64)), one parameter tensor p = x0 with
# torch.optim.<name>([p], **kwargs, foreach=False); each step sets
# p.grad = A @ p - b under torch.no_grad() and calls opt.step().
TORCH_TRAJECTORIES = [
    ('SGD', {'lr': 0.1}, [
        [1.0, -2.0, 0.5],
        [0.9, -1.96, 0.575],
        [0.828, -1.9204999999999999, 0.6469499999999999],
        [0.7756249999999999, -1.8827889999999998, 0.7159515],
        [0.73707695, -1.8476103799999999, 0.782128735],
        [0.7083343839999999, -1.8153457642, 0.8456170805500001],
        [0.6866013570099999, -1.7861402485909998, 0.9065554834175],
        [0.6699279623365499, -1.75998740125075, 0.9650816238867951],
        [0.6569489436981224, -1.7367866917202384, 1.0213289231952063],
    ]),
    ('SGD', {'lr': 0.1, 'momentum': 0.9}, [
        [1.0, -2.0, 0.5],
        [0.9, -1.96, 0.575],
        [0.738, -1.8845, 0.7144499999999999],
        [0.565025, -1.7792890000000001, 0.9062115],
        [0.42880444999999995, -1.6530456800000002, 1.137196285],
        [0.36021690399999995, -1.5183062722, 1.3940276165499998],
        [0.36633835500999995, -1.3911015754909999, 1.6637211118925],
        [0.43150123319054995, -1.2890985308921499, 1.9343556558537949],
        [0.5251523801404875, -1.2286481124405733, 2.1956780463611896],
    ]),
    ('SGD', {'lr': 0.05, 'momentum': 0.8, 'dampening': 0.3, 'weight_decay': 0.1}, [
        [1.0, -2.0, 0.5],
        [0.945, -1.97, 0.535],
        [0.8679425, -1.9254375, 0.5868],
        [0.7808198949999999, -1.86995475, 0.6510028625],
        [0.6941270605175, -1.806796660325, 0.7238407956749999],
        [0.6160789484210387, -1.7389226262912687, 0.8021249476978249],
        [0.5522270388002842, -1.6690711341833229, 0.8831949784323543],
        [0.5054376222420579, -1.5997770398589397, 0.9648697712612081],
        [0.476162205179745, -1.5333495951529283, 1.0453998680056469],
    ]),
    ('SGD', {'lr': 0.05, 'momentum': 0.9, 'nesterov': True, 'weight_decay': 0.1}, [
        [1.0, -2.0, 0.5],
        [0.8955, -1.943, 0.5665],
        [0.77451775, -1.86395625, 0.65774],
        [0.6572809195, -1.7682513499999999, 0.76798704875],
        [0.55829669088225, -1.6620667965274998, 0.8916863741725001],
        [0.4856457153917586, -1.5521035897888105, 1.0236204586957176],
        [0.4414479802386171, -1.4451442923030946, 1.159045279108521],
        [0.42313318883181605, -1.3475435003546432, 1.2937978743761027],
        [0.4251117153880383, -1.2647361332982916, 1.424370733790598],
    ]),
    ('SGD', {'lr': 0.05, 'momentum': 0.5, 'weight_decay': 0.1, 'maximize': True}, [
        [1.0, -2.0, 0.5],
        [1.045, -2.01, 0.46],
        [1.1187749999999999, -2.0247249999999997, 0.3995],
        [1.2172667499999998, -2.04123575, 0.32799775000000003],
        [1.34198541, -2.0576350874999996, 0.25011424500000007],
        [1.4974917472625, -2.0723775574874996, 0.16809728407500008],
        [1.690571780309625, -2.0838875160458747, 0.08304600087837506],
        [1.9301475170769362, -2.0903226790306024, -0.004488055871612441],
        [2.2275487084609824, -2.089395973711136, -0.09420319159562834],
    ]),
    ('Adagrad', {'lr': 0.1}, [
        [1.0, -2.0, 0.5],
        [0.90000000001, -1.900000000025, 0.5999999999866666],
        [0.840000000013904, -1.8363617045551148, 0.6682318250164858],
        [0.796620351847167, -1.7884938759993891, 0.7227282783735158],
        [0.7629783509213457, -1.750092582307248, 0.7691268277990968],
        [0.7359309775805402, -1.7182621056918161, 0.810037870386705],
        [0.7137155012414785, -1.691384188654385, 0.846920127486143],
        [0.6952151766757283, -1.6684393401971314, 0.8806860149631236],
        [0.679663316937237, -1.6487298610674275, 0.9119510850406309],
    ]),
    ('Adagrad', {'lr': 0.1, 'lr_decay': 0.1, 'weight_decay': 0.05, 'initial_accumulator_value': 0.2, 'eps': 1e-06}, [
        [1.0, -2.0, 0.5],
        [0.9079974102030849, -1.9254645118609526, 0.5851101543643935],
        [0.8555258384749034, -1.8747647822161226, 0.6418413209928197],
        [0.8194152391729937, -1.8368895280348634, 0.6845330972810709],
        [0.7924363022346216, -1.807032515645251, 0.7186338857503898],
        [0.771283318787475, -1.7826557855672318, 0.7468869983293587],
        [0.7541484146248401, -1.7622488050801426, 0.7708922233600048],
        [0.7399323749889686, -1.7448381531239117, 0.7916716849212428],
        [0.7279178114541723, -1.7297599964077084, 0.8099206909129596],
    ]),
    ('RMSprop', {'lr': 0.01}, [
        [1.0, -2.0, 0.5],
        [0.9000000099999991, -1.9000000249999938, 0.5999999866666684],
        [0.8398070873924077, -1.8361715608972173, 0.668414869287538],
        [0.7961653111972147, -1.7880248905191618, 0.7232012681240947],
        [0.7622369004712745, -1.7492977576604776, 0.7699683199689895],
        [0.7349034169521879, -1.7171202304248585, 0.8113112474286347],
        [0.7124173871219467, -1.6898930085198722, 0.8486792016864778],
        [0.6936717554615018, -1.6666116587123234, 0.8829779849248169],
        [0.677905737161607, -1.6465907944375955, 0.914818309454694],
    ]),
    ('RMSprop', {'lr': 0.01, 'alpha': 0.9, 'eps': 0.0001, 'weight_decay': 0.1, 'momentum': 0.8, 'centered': True}, [
        [1.0, -2.0, 0.5],
        [0.9666767646167828, -1.9666851749028318, 0.5333174678724417],
        [0.9155510842967255, -1.9151105591645867, 0.5850994644754639],
        [0.8547612806016172, -1.8527548714064008, 0.6481494552061082],
        [0.7897518040839699, -1.7842682275425434, 0.7181568510766738],
        [0.7246683462394233, -1.7128770268197218, 0.792312439523153],
        [0.6629416961992648, -1.641036810635564, 0.8686917384101485],
        [0.6074579211117944, -1.5708094385683458, 0.9459191771862119],
        [0.5604402704115398, -1.5040943800855684, 1.0229643483876658],
    ]),
    ('Adadelta', {}, [
        [1.0, -2.0, 0.5],
        [0.9968377381511013, -1.9968378211563764, 0.5031622495514084],
        [0.9936055522898701, -1.9936020385377764, 0.5064034030997884],
        [0.9903340672786085, -1.9903218257755244, 0.5096964068361591],
        [0.9870385961241455, -1.98701171967016, 0.5130279249597308],
        [0.9837283284507038, -1.9836804368370495, 0.5163900401544065],
        [0.9804093847227981, -1.9803337909175929, 0.5197775227149443],
        [0.9770861249418816, -1.9769759378281118, 0.5231866699682637],
        [0.9737618038141685, -1.973609997032366, 0.5266147294567392],
    ]),
    ('Adadelta', {'lr': 0.5, 'rho': 0.8, 'eps': 0.0001, 'weight_decay': 0.1}, [
        [1.0, -2.0, 0.5],
        [0.9888219693844224, -1.9888274161591422, 0.5111746399942467],
        [0.9771809309985134, -1.9771299335013055, 0.5229028338640997],
        [0.9653207378885035, -1.9651221299550834, 0.5349837200268847],
        [0.9533660355402872, -1.9529120886288458, 0.547318199727719],
        [0.9413927033405182, -1.940565610687672, 0.5598472623762669],
        [0.9294516075046848, -1.9281273907238285, 0.5725317841894672],
        [0.9175789494583606, -1.9156300591718667, 0.5853439455593891],
        [0.9058015404421467, -1.903098703371938, 0.5982629578556788],
    ]),
    ('Adam', {'lr': 0.1}, [
        [1.0, -2.0, 0.5],
        [0.900000001, -1.9000000025, 0.5999999986666666],
        [0.8017424939442681, -1.8009542812650563, 0.699760935680829],
        [0.7073866179861588, -1.7038686656913933, 0.79909838438912],
        [0.6201721033409681, -1.6101779380348682, 0.8978091074681619],
        [0.544315019960382, -1.52191180208767, 0.9956727447164043],
        [0.48406513374796634, -1.4418482105655643, 1.0924559405346583],
        [0.4421115481391744, -1.373477314406426, 1.1879199716981514],
        [0.4186190950718901, -1.3204758619192418, 1.281832454226504],
    ]),
    ('Adam', {'lr': 0.1, 'betas': (0.8, 0.9), 'eps': 1e-06, 'weight_decay': 0.1, 'amsgrad': True}, [
        [1.0, -2.0, 0.5],
        [0.9000000909090082, -1.9000001666663888, 0.5999998571430613],
        [0.8016785959080509, -1.8006738964682298, 0.6996372158625285],
        [0.7071150447963875, -1.7026615546347024, 0.7986179848989495],
        [0.6213753691143122, -1.606829138013457, 0.8966026653813387],
        [0.5503600404724995, -1.514508392447341, 0.9932012903880316],
        [0.4971319529229048, -1.4297994870817847, 1.0879698574141805],
        [0.46236104328843197, -1.3560805236829483, 1.1799170250879996],
        [0.4447942004908542, -1.2959792663453285, 1.26750512581072],
    ]),
    ('Adam', {'lr': 0.1, 'weight_decay': 0.1, 'maximize': True}, [
        [1.0, -2.0, 0.5],
        [1.0999999988888889, -2.099999995, 0.40000000125],
        [1.1999242119022964, -2.199834359407766, 0.2999026224457071],
        [1.2999201727002845, -2.2996814123251497, 0.19964772545267484],
        [1.4001501746213234, -2.39973260700327, 0.09917866139525096],
        [1.500764129357811, -2.5001592644846, -0.0015578409047779518],
        [1.6018920752995154, -2.6011057821863623, -0.10261178669366544],
        [1.7036438213684395, -2.7026910939499356, -0.20403002229732892],
        [1.8061109399872977, -2.8050122536983397, -0.30585633687846236],
    ]),
    ('AdamW', {'lr': 0.1}, [
        [1.0, -2.0, 0.5],
        [0.899000001, -1.8980000025, 0.5994999986666667],
        [0.7998683107493568, -1.7970872391055916, 0.6986598916884248],
        [0.7047985858527419, -1.698306153897759, 0.7972947247135229],
        [0.6170828743950948, -1.6031521202105858, 0.8952012042107029],
        [0.5409924088948266, -1.5137433590064606, 0.9921596364418253],
        [0.48079266130678955, -1.4329697073670478, 1.0879384267621488],
        [0.4391148151701405, -1.3644217494446673, 1.1823021998067198],
        [0.41601872609642787, -1.3117904262806375, 1.2750240062002898],
    ]),
    ('AdamW', {'lr': 0.1, 'betas': (0.8, 0.9), 'weight_decay': 0.5, 'amsgrad': True}, [
        [1.0, -2.0, 0.5],
        [0.850000001, -1.8000000024999998, 0.5749999986666666],
        [0.7109450712017066, -1.6134450742877466, 0.6459008415978327],
        [0.5882114245435499, -1.445828828460309, 0.712666241756455],
        [0.4915771664605288, -1.3075182442079232, 0.7752759772481103],
        [0.4248352062189055, -1.203744347581379, 0.8337627426695814],
        [0.3874199340102677, -1.1359927417527278, 0.8882343995083066],
        [0.375695915506434, -1.1020405964981876, 0.9388844153400508],
        [0.38412284142416714, -1.0930264602123716, 0.9859859989544594],
    ]),
]

TORCH_FACTORIES = {
    "SGD": optim.sgd, "Adagrad": optim.adagrad, "RMSprop": optim.rmsprop,
    "Adadelta": optim.adadelta, "Adam": optim.adam, "AdamW": optim.adamw,
}


def _case_id(case):
    name, kwargs, _ = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


# --------------------------------------------------------------------------
# Hand-written references, transcribed from the pseudo-code torch.optim
# documents for each class (loops over mutable variables, on purpose unlike
# the module). maximize negates the gradient first, as torch computes it.


def ref_sgd(grad, x, steps, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False, maximize=False):
    xs, b = [x.copy()], None
    for t in range(1, steps + 1):
        g = grad(x)
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * x
        if momentum != 0:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        x = x - lr * g
        xs.append(x)
    return np.array(xs)


def ref_adagrad(grad, x, steps, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10):
    xs, s = [x.copy()], np.full_like(x, initial_accumulator_value)
    for t in range(1, steps + 1):
        g = grad(x)
        clr = lr / (1 + (t - 1) * lr_decay)
        if weight_decay != 0:
            g = g + weight_decay * x
        s = s + g**2
        x = x - clr * g / (np.sqrt(s) + eps)
        xs.append(x)
    return np.array(xs)


def ref_rmsprop(grad, x, steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                momentum=0.0, centered=False):
    xs = [x.copy()]
    v, b, g_ave = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    for _ in range(steps):
        g = grad(x)
        if weight_decay != 0:
            g = g + weight_decay * x
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v_tilde - g_ave**2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            x = x - lr * b
        else:
            x = x - lr * g / (np.sqrt(v_tilde) + eps)
        xs.append(x)
    return np.array(xs)


def ref_adadelta(grad, x, steps, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    xs, v, u = [x.copy()], np.zeros_like(x), np.zeros_like(x)
    for _ in range(steps):
        g = grad(x)
        if weight_decay != 0:
            g = g + weight_decay * x
        v = v * rho + g**2 * (1 - rho)
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = u * rho + dx**2 * (1 - rho)
        x = x - lr * dx
        xs.append(x)
    return np.array(xs)


def ref_adam(grad, x, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled=False):
    beta1, beta2 = betas
    xs = [x.copy()]
    m, v, v_max = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        g = grad(x)
        if maximize:
            g = -g
        if decoupled:
            x = x - lr * weight_decay * x
        elif weight_decay != 0:
            g = g + weight_decay * x
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
        xs.append(x)
    return np.array(xs)


def ref_adamw(grad, x, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
              amsgrad=False):
    return ref_adam(grad, x, steps, lr, betas, eps, weight_decay, amsgrad, decoupled=True)


REFERENCES = {
    "SGD": ref_sgd, "Adagrad": ref_adagrad, "RMSprop": ref_rmsprop,
    "Adadelta": ref_adadelta, "Adam": ref_adam, "AdamW": ref_adamw,
}


def run_transform(opt, grad, x0, steps):
    """Trajectory (steps + 1, ...) of params under ``opt`` with gradient ``grad(params)``."""
    params, state = x0, opt.init(x0)
    out = [params]
    for _ in range(steps):
        updates, state = opt.update(grad(params), state, params)
        params = optim.apply_updates(params, updates)
        out.append(params)
    return out


def as_dict(x):
    return {"head": x[:2], "tail": x[2:]}


def as_array(d):
    return np.concatenate([d["head"], d["tail"]])


def dict_grad(grad):
    return lambda d: as_dict(grad(as_array(d)))


# --------------------------------------------------------------------------
# Known answers


@pytest.mark.parametrize("case", TORCH_TRAJECTORIES, ids=_case_id)
def test_matches_torch_with_array_params(case):
    name, kwargs, expected = case
    got = np.array(run_transform(TORCH_FACTORIES[name](**kwargs), quadratic_grad, X0, STEPS))
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", TORCH_TRAJECTORIES, ids=_case_id)
def test_matches_torch_with_dict_params(case):
    name, kwargs, expected = case
    traj = run_transform(TORCH_FACTORIES[name](**kwargs), dict_grad(quadratic_grad), as_dict(X0), STEPS)
    assert all(set(p) == {"head", "tail"} for p in traj)
    got = np.array([as_array(p) for p in traj])
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", TORCH_TRAJECTORIES, ids=_case_id)
def test_hand_reference_matches_torch(case):
    name, kwargs, expected = case
    got = REFERENCES[name](quadratic_grad, X0.copy(), STEPS, **kwargs)
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-12, atol=1e-14)


def _random_problem(seed, maximize=False):
    """A random convex quadratic in 5 dimensions plus a cubic term, so gradients are not linear.

    Returns (grad, x0). With maximize, the gradient of the negated function,
    so that ascending it stays bounded.
    """
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(5, 5))
    H = M @ M.T / 5 + 0.1 * np.eye(5)
    c = rng.normal(size=5)
    sign = -1.0 if maximize else 1.0
    return (lambda x: sign * (H @ x - c + 0.1 * x**3)), rng.normal(size=5)


@pytest.mark.parametrize("case", TORCH_TRAJECTORIES, ids=_case_id)
def test_matches_hand_reference_on_a_nonlinear_problem(case):
    name, kwargs, _ = case
    grad, x0 = _random_problem(seed=len(kwargs), maximize=kwargs.get("maximize", False))
    got = np.array(run_transform(TORCH_FACTORIES[name](**kwargs), grad, x0, 30))
    expected = REFERENCES[name](grad, x0.copy(), 30, **kwargs)
    assert np.all(np.isfinite(expected)) and not np.allclose(expected[-1], x0)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-13)


def test_torch_cases_exercise_the_options():
    """The amsgrad and centered cases would pass with the plain rule if their
    branch never changed anything; make sure it does on this problem."""
    opt = optim.adam(lr=0.1, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True)
    params, state_ams = X0, opt.init(X0)
    differs = False
    for _ in range(STEPS):
        updates, state_ams = opt.update(quadratic_grad(params), state_ams, params)
        params = optim.apply_updates(params, updates)
        differs |= not np.allclose(state_ams.v_max, state_ams.v)
    assert differs
    plain = ref_rmsprop(quadratic_grad, X0.copy(), STEPS, lr=0.01, alpha=0.9, eps=1e-4,
                        weight_decay=0.1, momentum=0.8, centered=False)
    centered = ref_rmsprop(quadratic_grad, X0.copy(), STEPS, lr=0.01, alpha=0.9, eps=1e-4,
                           weight_decay=0.1, momentum=0.8, centered=True)
    assert not np.allclose(plain, centered)


def test_sgd_first_steps_by_hand():
    # f(x) = x^2 / 2, g = x, x0 = 1, lr = 0.5, momentum = 0.5:
    # b1 = 1, x1 = 0.5; b2 = 0.5 * 1 + 0.5 = 1, x2 = 0.5 - 0.5 = 0
    traj = run_transform(optim.sgd(lr=0.5, momentum=0.5), lambda x: x, np.array([1.0]), 2)
    np.testing.assert_allclose(np.concatenate(traj), [1.0, 0.5, 0.0])


def test_adam_first_step_is_lr_times_sign():
    # With bias correction, m_hat = g and v_hat = g^2 on step 1: the step is -lr * g / (|g| + eps).
    g = np.array([3.0, -0.2, 1e-3])
    opt = optim.adam(lr=0.1)
    updates, _ = opt.update(g, opt.init(np.zeros(3)), np.zeros(3))
    np.testing.assert_allclose(updates, -0.1 * g / (np.abs(g) + 1e-8))


def test_momentum_and_nesterov_aliases_are_sgd():
    grad, x0 = _random_problem(seed=3)
    np.testing.assert_array_equal(
        np.array(run_transform(optim.momentum(lr=0.05), grad, x0, 10)),
        np.array(run_transform(optim.sgd(lr=0.05, momentum=0.9), grad, x0, 10)))
    np.testing.assert_array_equal(
        np.array(run_transform(optim.nesterov(lr=0.05, momentum=0.8), grad, x0, 10)),
        np.array(run_transform(optim.sgd(lr=0.05, momentum=0.8, nesterov=True), grad, x0, 10)))


# --------------------------------------------------------------------------
# Kochenderfer & Wheeler's Nesterov momentum


def rosenbrock_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def test_kochenderfer_matches_the_look_ahead_formulation():
    lr, beta = 2e-4, 0.9
    # The textbook: v <- beta v - lr grad(x + beta v); x <- x + v.
    x, v = np.array([-1.2, 1.0]), np.zeros(2)
    textbook_x, textbook_v = [x], [v]
    for _ in range(40):
        v = beta * v - lr * rosenbrock_grad(x + beta * v)
        x = x + v
        textbook_x.append(x)
        textbook_v.append(v)

    opt = optim.kochenderfer_nesterov(lr=lr, beta=beta)
    y, state = np.array([-1.2, 1.0]), opt.init(np.array([-1.2, 1.0]))
    for k in range(41):
        np.testing.assert_allclose(state.velocity, textbook_v[k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(optim.kochenderfer_position(y, state, beta), textbook_x[k],
                                   rtol=1e-12, atol=1e-15)
        # the parameters the optimizer moves are the look-ahead points x + beta v
        np.testing.assert_allclose(y, textbook_x[k] + beta * textbook_v[k], rtol=1e-12, atol=1e-15)
        updates, state = opt.update(rosenbrock_grad(y), state, y)
        y = optim.apply_updates(y, updates)
    assert not np.allclose(textbook_x[-1], textbook_x[0])


def test_kochenderfer_visits_the_same_points_as_torch_nesterov():
    got = run_transform(optim.kochenderfer_nesterov(lr=2e-4, beta=0.9), rosenbrock_grad,
                        np.array([-1.2, 1.0]), 30)
    torch_form = run_transform(optim.nesterov(lr=2e-4, momentum=0.9), rosenbrock_grad,
                               np.array([-1.2, 1.0]), 30)
    np.testing.assert_allclose(np.array(got), np.array(torch_form), rtol=1e-12)


def test_kochenderfer_position_of_stacked_history():
    opt = optim.kochenderfer_nesterov(lr=0.1, beta=0.5)
    params, state = np.array([1.0, 2.0]), opt.init(np.array([1.0, 2.0]))
    ys, vs = [params], [state.velocity]
    for _ in range(3):
        updates, state = opt.update(params, state, params)
        params = optim.apply_updates(params, updates)
        ys.append(params)
        vs.append(state.velocity)
    stacked = optim.KochenderferNesterovState(count=np.arange(4), velocity=np.array(vs))
    np.testing.assert_allclose(optim.kochenderfer_position(np.array(ys), stacked, 0.5),
                               np.array(ys) - 0.5 * np.array(vs))


# --------------------------------------------------------------------------
# Hypergradient descent (Baydin et al. 2018)


def ref_sgd_hd(grad, x, steps, lr, hyper_lr):
    """Algorithm 1 of the paper (SGD-HD): lrs and xs."""
    alpha, grad_prev = lr, np.zeros_like(x)
    xs, alphas = [x.copy()], []
    for _ in range(steps):
        g = grad(x)
        h = g @ (-grad_prev)
        alpha = alpha - hyper_lr * h
        x = x - alpha * g
        grad_prev = g
        xs.append(x)
        alphas.append(alpha)
    return np.array(xs), np.array(alphas)


def ref_adam_hd(grad, x, steps, lr, hyper_lr, betas=(0.9, 0.999), eps=1e-8):
    """Algorithm 3 of the paper (Adam-HD), eps added to sqrt(v_hat) as torch's Adam does."""
    beta1, beta2 = betas
    alpha, m, v, du = lr, np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    xs, alphas = [x.copy()], []
    for t in range(1, steps + 1):
        g = grad(x)
        h = g @ du                     # du = d u_{t-1} / d alpha
        alpha = alpha - hyper_lr * h
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        direction = (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        x = x - alpha * direction
        du = -direction
        xs.append(x)
        alphas.append(alpha)
    return np.array(xs), np.array(alphas)


def _run_hd(opt, grad, x0, steps):
    params, state = x0, opt.init(x0)
    xs, lrs = [params], []
    for _ in range(steps):
        updates, state = opt.update(grad(params), state, params)
        params = optim.apply_updates(params, updates)
        xs.append(params)
        lrs.append(state.lr)
    return xs, np.array(lrs)


def test_hypergradient_sgd_by_hand():
    # f = x^2 / 2, x0 = 1, lr 0.5, hyper_lr 0.1:
    # t1: g = 1,     h = 0,        alpha = 0.5,     x = 0.5
    # t2: g = 0.5,   h = -0.5,     alpha = 0.55,    x = 0.225
    # t3: g = 0.225, h = -0.1125,  alpha = 0.56125, x = 0.225 * (1 - 0.56125) = 0.09871875
    xs, lrs = _run_hd(optim.hypergradient_sgd(lr=0.5, hyper_lr=0.1), lambda x: x, np.array([1.0]), 3)
    np.testing.assert_allclose(np.concatenate(xs), [1.0, 0.5, 0.225, 0.09871875])
    np.testing.assert_allclose(lrs, [0.5, 0.55, 0.56125])


@pytest.mark.parametrize("params_kind", ["array", "dict"])
def test_hypergradient_sgd_matches_the_paper(params_kind):
    grad, x0 = _random_problem(seed=7)
    expected_x, expected_lr = ref_sgd_hd(grad, x0.copy(), 25, lr=0.05, hyper_lr=0.01)
    opt = optim.hypergradient_sgd(lr=0.05, hyper_lr=0.01)
    if params_kind == "dict":
        xs, lrs = _run_hd(opt, lambda d: {"a": grad(np.concatenate([d["a"], d["b"]]))[:3],
                                          "b": grad(np.concatenate([d["a"], d["b"]]))[3:]},
                          {"a": x0[:3], "b": x0[3:]}, 25)
        xs = [np.concatenate([p["a"], p["b"]]) for p in xs]
    else:
        xs, lrs = _run_hd(opt, grad, x0, 25)
    np.testing.assert_allclose(np.array(xs), expected_x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lrs, expected_lr, rtol=1e-12)
    assert not np.allclose(lrs, 0.05)


@pytest.mark.parametrize("params_kind", ["array", "dict"])
def test_hypergradient_adam_matches_the_paper(params_kind):
    grad, x0 = _random_problem(seed=8)
    expected_x, expected_lr = ref_adam_hd(grad, x0.copy(), 25, lr=0.05, hyper_lr=1e-3,
                                          betas=(0.8, 0.99), eps=1e-6)
    opt = optim.hypergradient_adam(lr=0.05, hyper_lr=1e-3, betas=(0.8, 0.99), eps=1e-6)
    if params_kind == "dict":
        xs, lrs = _run_hd(opt, lambda d: {"a": grad(np.concatenate([d["a"], d["b"]]))[:3],
                                          "b": grad(np.concatenate([d["a"], d["b"]]))[3:]},
                          {"a": x0[:3], "b": x0[3:]}, 25)
        xs = [np.concatenate([p["a"], p["b"]]) for p in xs]
    else:
        xs, lrs = _run_hd(opt, grad, x0, 25)
    np.testing.assert_allclose(np.array(xs), expected_x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lrs, expected_lr, rtol=1e-12)
    assert not np.allclose(lrs, 0.05)


@pytest.mark.parametrize("factory, hyper_lr", [(optim.hypergradient_sgd, 0.01),
                                               (optim.hypergradient_adam, 0.01)])
def test_hypergradient_lr_grows_when_steps_agree_and_shrinks_when_they_overshoot(factory, hyper_lr):
    # f = x^2 / 2. A small lr keeps x on one side of 0: consecutive steps agree, lr grows.
    _, lrs = _run_hd(factory(lr=0.05, hyper_lr=hyper_lr), lambda x: x, np.array([1.0]), 10)
    assert np.all(np.diff(lrs[1:]) > 0)
    # An lr that jumps over the minimum makes consecutive gradients disagree: lr shrinks.
    xs, lrs = _run_hd(factory(lr=1.5, hyper_lr=hyper_lr), lambda x: x, np.array([1.0]), 2)
    assert xs[1][0] < 0 < xs[0][0]
    assert lrs[1] < lrs[0] == 1.5


def test_hypergradient_with_zero_hyper_lr_is_the_plain_method():
    grad, x0 = _random_problem(seed=9)
    np.testing.assert_allclose(np.array(run_transform(optim.hypergradient_sgd(lr=0.05, hyper_lr=0.0), grad, x0, 15)),
                               np.array(run_transform(optim.sgd(lr=0.05), grad, x0, 15)), rtol=1e-13)
    np.testing.assert_allclose(np.array(run_transform(optim.hypergradient_adam(lr=0.05, hyper_lr=0.0), grad, x0, 15)),
                               np.array(run_transform(optim.adam(lr=0.05), grad, x0, 15)), rtol=1e-13)


# --------------------------------------------------------------------------
# Adam internals


def test_adam_bias_corrected_single_and_stacked():
    opt = optim.adam(lr=0.1, betas=(0.8, 0.9))
    params = {"w": np.array([1.0, -1.0]), "b": np.array([0.5])}
    state = opt.init(params)
    states = [state]
    for k in range(4):
        grads = {"w": np.array([1.0 + k, -2.0]), "b": np.array([0.3 * k])}
        _, state = opt.update(grads, state, params)
        states.append(state)
    m_hat, v_hat = optim.adam_bias_corrected(state, (0.8, 0.9))
    np.testing.assert_allclose(m_hat["w"], state.m["w"] / (1 - 0.8**4))
    np.testing.assert_allclose(v_hat["b"], state.v["b"] / (1 - 0.9**4))

    stacked = optim.AdamState(
        count=np.array([s.count for s in states]),
        m={k: np.stack([s.m[k] for s in states]) for k in params},
        v={k: np.stack([s.v[k] for s in states]) for k in params},
        v_max=None,
    )
    m_hats, v_hats = optim.adam_bias_corrected(stacked, (0.8, 0.9))
    assert m_hats["w"].shape == (5, 2)
    np.testing.assert_array_equal(m_hats["w"][0], 0.0)  # count 0: defined as 0, not 0/0
    for t in range(1, 5):
        np.testing.assert_allclose(m_hats["w"][t], states[t].m["w"] / (1 - 0.8**t))
        np.testing.assert_allclose(v_hats["w"][t], states[t].v["w"] / (1 - 0.9**t))


# --------------------------------------------------------------------------
# Purity, determinism, trees

ALL_CONFIGS = [
    (optim.sgd, dict(lr=0.1)),
    (optim.sgd, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    (optim.sgd, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    (optim.adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    (optim.rmsprop, dict(lr=0.01)),
    (optim.rmsprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    (optim.adadelta, dict(weight_decay=0.1)),
    (optim.adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    (optim.adamw, dict(lr=0.1)),
    (optim.kochenderfer_nesterov, dict(lr=0.1)),
    (optim.hypergradient_sgd, dict(lr=0.1, hyper_lr=0.01)),
    (optim.hypergradient_adam, dict(lr=0.1, hyper_lr=0.01)),
]


def _config_id(config):
    factory, kwargs = config
    return factory.__name__ + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def assert_same(a, b):
    """Exact equality of trees / NamedTuple states / scalars."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif a is None:
        assert b is None
    else:
        np.testing.assert_array_equal(a, b)


def _tree_params():
    return {"w": np.array([[0.5, -1.0], [2.0, 0.1]]), "b": np.array([0.3])}


def _tree_grads(k):
    return {"w": np.array([[1.0, -0.5], [0.2, 0.1 * k]]), "b": np.array([-1.0 + k])}


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=_config_id)
def test_init_and_update_never_modify_their_inputs(config):
    factory, kwargs = config
    opt = factory(**kwargs)
    params = _tree_params()
    params_copy = copy.deepcopy(params)
    state = opt.init(params)
    assert_same(params, params_copy)
    for k in range(3):
        grads = _tree_grads(k)
        grads_copy, state_copy = copy.deepcopy(grads), copy.deepcopy(state)
        updates, new_state = opt.update(grads, state, params)
        assert_same(grads, grads_copy)
        assert_same(state, state_copy)
        assert_same(params, params_copy)
        # the new state keeps no reference to the caller's arrays
        new_state_copy = copy.deepcopy(new_state)
        for tree in (grads, params):
            for leaf in tree.values():
                leaf += 100.0
        assert_same(new_state, new_state_copy)
        params = copy.deepcopy(params_copy)
        state = new_state
        new_params = optim.apply_updates(params, updates)
        assert_same(params, params_copy)
        assert new_params["w"] is not params["w"]


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=_config_id)
def test_deterministic(config):
    factory, kwargs = config
    grad, x0 = _random_problem(seed=11)
    first = run_transform(factory(**kwargs), grad, x0, 12)
    second = run_transform(factory(**kwargs), grad, x0, 12)
    np.testing.assert_array_equal(np.array(first), np.array(second))


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=_config_id)
def test_dict_params_equal_array_params(config):
    factory, kwargs = config
    grad, x0 = _random_problem(seed=12, maximize=kwargs.get("maximize", False))

    def to_dict(x):
        return {"first": x[:1], "rest": x[1:].reshape(2, 2)}

    def to_array(d):
        return np.concatenate([d["first"], d["rest"].ravel()])

    flat = run_transform(factory(**kwargs), grad, x0, 12)
    assert np.all(np.isfinite(np.array(flat)))
    tree = run_transform(factory(**kwargs), lambda d: to_dict(grad(to_array(d))), to_dict(x0), 12)
    np.testing.assert_allclose(np.array([to_array(d) for d in tree]), np.array(flat), rtol=1e-13, atol=1e-15)


def test_integer_params_are_treated_as_float():
    opt = optim.sgd(lr=0.5)
    params = np.array([1, 2, 3])
    updates, _ = opt.update(np.array([1, 1, 1]), opt.init(params), params)
    np.testing.assert_array_equal(optim.apply_updates(params, updates), [0.5, 1.5, 2.5])


def test_nan_gradients_propagate_without_raising():
    opt = optim.adam(lr=0.1)
    params = np.zeros(2)
    updates, state = opt.update(np.array([np.nan, 1.0]), opt.init(params), params)
    assert np.isnan(updates[0]) and np.isfinite(updates[1])


@pytest.mark.parametrize("grads, message", [
    ({"w": np.zeros((2, 2))}, "structure"),
    ({"w": np.zeros((2, 2)), "b": np.zeros(1), "extra": np.zeros(1)}, "structure"),
    ({"w": np.zeros((2, 3)), "b": np.zeros(1)}, "shapes differ for 'w'"),
    (np.zeros(5), "structure"),
])
def test_mismatched_grads_raise_value_error(grads, message):
    opt = optim.adam()
    params = _tree_params()
    with pytest.raises(ValueError, match=message):
        opt.update(grads, opt.init(params), params)


def test_tree_vdot_and_tree_map():
    a = {"x": np.array([1.0, 2.0]), "y": np.array([[3.0]])}
    b = {"x": np.array([4.0, 5.0]), "y": np.array([[6.0]])}
    assert optim.tree_vdot(a, b) == 1 * 4 + 2 * 5 + 3 * 6
    assert optim.tree_vdot(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 11.0
    summed = optim.tree_map(lambda u, v: u + v, a, b)
    np.testing.assert_array_equal(summed["y"], [[9.0]])


# --------------------------------------------------------------------------
# Argument checks

BAD_ARGUMENTS = [
    (optim.sgd, dict(lr=-0.1), r"lr must be in \[0, inf\)"),
    (optim.sgd, dict(lr=math.nan), "lr must be finite"),
    (optim.sgd, dict(lr=math.inf), "lr must be finite"),
    (optim.sgd, dict(lr="0.1"), "lr must be a real number"),
    (optim.sgd, dict(lr=None), "lr must be a real number"),
    (optim.sgd, dict(momentum=-0.5), r"momentum must be in \[0, inf\)"),
    (optim.sgd, dict(dampening=-1), r"dampening must be in \[0, inf\)"),
    (optim.sgd, dict(weight_decay=-1e-3), r"weight_decay must be in \[0, inf\)"),
    (optim.sgd, dict(nesterov=True), "nesterov=True requires momentum > 0 and dampening == 0"),
    (optim.sgd, dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov=True requires"),
    (optim.sgd, dict(nesterov="yes"), "nesterov must be True or False"),
    (optim.sgd, dict(maximize=1), "maximize must be True or False"),
    (optim.momentum, dict(momentum=math.nan), "momentum must be finite"),
    (optim.nesterov, dict(momentum=0.0), "nesterov=True requires momentum > 0"),
    (optim.adagrad, dict(lr_decay=-0.1), r"lr_decay must be in \[0, inf\)"),
    (optim.adagrad, dict(initial_accumulator_value=-1), r"initial_accumulator_value must be in \[0, inf\)"),
    (optim.adagrad, dict(eps=0.0), r"eps must be in \(0, inf\)"),
    (optim.rmsprop, dict(alpha=1.5), r"alpha must be in \[0, 1\]"),
    (optim.rmsprop, dict(momentum=-1), r"momentum must be in \[0, inf\)"),
    (optim.rmsprop, dict(eps=-1e-8), r"eps must be in \(0, inf\)"),
    (optim.rmsprop, dict(centered=None), "centered must be True or False"),
    (optim.adadelta, dict(rho=1.01), r"rho must be in \[0, 1\]"),
    (optim.adadelta, dict(lr=-1), r"lr must be in \[0, inf\)"),
    (optim.adam, dict(betas=(1.0, 0.999)), r"beta1 \(betas\[0\]\) must be in \[0, 1\)"),
    (optim.adam, dict(betas=(0.9, -0.1)), r"beta2 \(betas\[1\]\) must be in \[0, 1\)"),
    (optim.adam, dict(betas=(0.9, math.nan)), r"beta2 \(betas\[1\]\) must be finite"),
    (optim.adam, dict(betas=0.9), r"betas must be a pair"),
    (optim.adam, dict(betas=(0.9, 0.99, 0.999)), r"betas must be a pair"),
    (optim.adam, dict(eps=0), r"eps must be in \(0, inf\)"),
    (optim.adam, dict(amsgrad="false"), "amsgrad must be True or False"),
    (optim.adamw, dict(weight_decay=-0.01), r"weight_decay must be in \[0, inf\)"),
    (optim.adamw, dict(lr=math.inf), "lr must be finite"),
    (optim.kochenderfer_nesterov, dict(beta=1.0), r"beta must be in \[0, 1\)"),
    (optim.kochenderfer_nesterov, dict(lr=-1), r"lr must be in \[0, inf\)"),
    (optim.hypergradient_sgd, dict(hyper_lr=-1e-3), r"hyper_lr must be in \[0, inf\)"),
    (optim.hypergradient_sgd, dict(lr=math.nan), "lr must be finite"),
    (optim.hypergradient_adam, dict(hyper_lr=math.inf), "hyper_lr must be finite"),
    (optim.hypergradient_adam, dict(betas=(0.9, 1.0)), r"beta2 \(betas\[1\]\) must be in \[0, 1\)"),
    (optim.hypergradient_adam, dict(eps=0.0), r"eps must be in \(0, inf\)"),
]


@pytest.mark.parametrize("factory, kwargs, message", BAD_ARGUMENTS,
                         ids=[f"{f.__name__}-{k}" for f, k, _ in BAD_ARGUMENTS])
def test_bad_hyperparameters_raise_value_error(factory, kwargs, message):
    with pytest.raises(ValueError, match=message):
        factory(**kwargs)


def test_boundary_values_are_accepted():
    optim.sgd(lr=0.0, momentum=0.0)
    optim.adam(betas=(0.0, 0.0))
    optim.rmsprop(alpha=1.0)
    optim.adadelta(rho=0.0)
    optim.adam(lr=np.float32(0.1), betas=(np.float64(0.5), 0.5))
    optim.sgd(nesterov=np.bool_(True), momentum=0.5)


# --------------------------------------------------------------------------
# Registry


def test_registry_builds_every_optimizer_with_its_defaults():
    params = {"w": np.array([1.0, -2.0]), "b": np.array([0.5])}
    for name, spec in optim.OPTIMIZERS.items():
        assert spec.name == name and spec.label and spec.description
        opt = optim.make(name)
        assert isinstance(opt, optim.GradientTransformation)
        updates, _ = opt.update({"w": np.array([1.0, 1.0]), "b": np.array([1.0])}, opt.init(params), params)
        assert updates["w"].shape == (2,)


def test_registry_defaults_are_those_of_the_factories():
    factories = {name: getattr(optim, name) for name in optim.OPTIMIZERS}
    for name, spec in optim.OPTIMIZERS.items():
        signature = inspect.signature(factories[name]).parameters
        for h in spec.hyperparameters:
            if h.name in ("beta1", "beta2"):
                expected = signature["betas"].default[0 if h.name == "beta1" else 1]
            else:
                expected = signature[h.name].default
            assert h.default == expected, (name, h.name)
            if h.kind == "float":
                assert h.min <= h.default <= h.max, (name, h.name)
                assert not h.log_scale or h.min > 0, (name, h.name)
            else:
                assert h.kind == "bool" and isinstance(h.default, bool)


def test_make_maps_betas_and_passes_hyperparameters():
    grad, x0 = _random_problem(seed=13)
    np.testing.assert_array_equal(
        np.array(run_transform(optim.make("adam", lr=0.1, beta1=0.8, beta2=0.95, amsgrad=True), grad, x0, 10)),
        np.array(run_transform(optim.adam(lr=0.1, betas=(0.8, 0.95), amsgrad=True), grad, x0, 10)))
    np.testing.assert_array_equal(
        np.array(run_transform(optim.make("rmsprop", lr=0.02, centered=True, momentum=0.3), grad, x0, 10)),
        np.array(run_transform(optim.rmsprop(lr=0.02, centered=True, momentum=0.3), grad, x0, 10)))


@pytest.mark.parametrize("name, hyper, message", [
    ("lbfgs", {}, "unknown optimizer 'lbfgs'; known: sgd"),
    ("adam", {"betas": (0.9, 0.99)}, "unknown hyperparameter.*'betas'.*known: lr, beta1, beta2"),
    ("sgd", {"learning_rate": 0.1}, "unknown hyperparameter.*'learning_rate'"),
    ("adam", {"lr": 1000.0}, r"lr must be in \[1e-06, 100\]"),
    ("adadelta", {"lr": 1e-7}, r"lr must be in \[1e-06, 100\]"),
    ("adam", {"beta1": 0.9999}, r"beta1 must be in \[0, 0.999\]"),
    ("sgd", {"momentum": math.nan}, "momentum must be finite"),
    ("sgd", {"nesterov": "on"}, "nesterov must be True or False"),
    ("sgd", {"nesterov": True}, "nesterov=True requires momentum > 0"),
])
def test_make_rejects_bad_requests(name, hyper, message):
    with pytest.raises(ValueError, match=message):
        optim.make(name, **hyper)
