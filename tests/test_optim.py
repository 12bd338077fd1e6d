"""Optimizers, their pure update rules and schedules.

Checked against updates worked out by hand, against reference formulas
written here in the order PyTorch computes them (always run), and against
``torch.optim`` itself where torch is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import convlib
from convlib.exercises import ExerciseFailure, check_adam_step
from convlib.optim import SGD, Adam, CosineLR, ExponentialLR, OneCycleLR, StepLR
from convlib.update_rules import adam_update, momentum_update, nesterov_update, sgd_update


def pair(value, grad, dtype=np.float64):
    return np.array(value, dtype=dtype), np.array(grad, dtype=dtype)


# --------------------------------------------------------------------------- SGD


def test_sgd_plain_step_is_lr_times_gradient():
    p, g = pair([1.0, -2.0], [0.5, 4.0])
    SGD([(p, g)], lr=0.1).step()
    np.testing.assert_allclose(p, [1.0 - 0.05, -2.0 - 0.4])


def test_sgd_momentum_by_hand():
    p, g = pair([1.0], [0.5])
    opt = SGD([(p, g)], lr=0.1, momentum=0.9)
    opt.step()  # v = 0.5, p = 1 - 0.05
    np.testing.assert_allclose(p, [0.95])
    opt.step()  # v = 0.9 * 0.5 + 0.5 = 0.95, p = 0.95 - 0.095
    np.testing.assert_allclose(p, [0.855])
    g[:] = -1.0
    opt.step()  # v = 0.9 * 0.95 - 1 = -0.145, p = 0.855 + 0.0145
    np.testing.assert_allclose(p, [0.8695])
    np.testing.assert_allclose(opt.velocity[0], [-0.145])


def test_sgd_nesterov_by_hand():
    p, g = pair([1.0], [0.5])
    opt = SGD([(p, g)], lr=0.1, momentum=0.9, nesterov=True)
    opt.step()  # v = 0.5; p -= 0.1 * (0.5 + 0.9 * 0.5) = 0.095
    np.testing.assert_allclose(p, [0.905])
    opt.step()  # v = 0.95; p -= 0.1 * (0.5 + 0.855) = 0.1355
    np.testing.assert_allclose(p, [0.7695])


def test_sgd_weight_decay_adds_lambda_p_to_gradient():
    p, g = pair([2.0], [1.0])
    SGD([(p, g)], lr=0.1, weight_decay=0.5).step()  # g' = 1 + 0.5 * 2 = 2
    np.testing.assert_allclose(p, [1.8])
    np.testing.assert_allclose(g, [1.0])  # the gradient itself is left alone


def test_updates_in_place_and_keep_dtype():
    p, g = pair(np.ones((2, 3)), np.full((2, 3), 0.25), dtype=np.float32)
    ident = id(p)
    for opt in (SGD([(p, g)], lr=0.5, momentum=0.5), Adam([("w", p, g)], lr=0.1)):
        opt.step()
    assert id(p) == ident and p.dtype == np.float32
    assert np.all(p < 1)


def test_zero_grad():
    p, g = pair([1.0, 2.0], [3.0, 4.0])
    opt = SGD([(p, g)], lr=0.1)
    opt.zero_grad()
    assert np.all(g == 0)


# --------------------------------------------------------------------------- Adam


def test_adam_first_steps_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p, g = pair([1.0], [2.0])
    opt = Adam([(p, g)], lr=lr, betas=(b1, b2), eps=eps)
    opt.step()
    # m = 0.2, v = 0.004; m_hat = 2, v_hat = 4; p = 1 - 0.1 * 2 / (2 + eps)
    np.testing.assert_allclose(opt.m[0], [0.2])
    np.testing.assert_allclose(opt.v[0], [0.004])
    np.testing.assert_allclose(p, [1.0 - 0.1 * 2.0 / (2.0 + eps)], rtol=0, atol=1e-15)
    g[:] = -1.0
    opt.step()
    # m = 0.9 * 0.2 - 0.1 = 0.08;  v = 0.999 * 0.004 + 0.001 = 0.004996
    # m_hat = 0.08 / 0.19;          v_hat = 0.004996 / 0.001999
    m_hat, v_hat = 0.08 / 0.19, 0.004996 / 0.001999
    expected = 1.0 - 0.1 * 2.0 / (2.0 + eps) - lr * m_hat / (math.sqrt(v_hat) + eps)
    np.testing.assert_allclose(opt.m[0], [0.08])
    np.testing.assert_allclose(opt.v[0], [0.004996])
    np.testing.assert_allclose(p, [expected], rtol=1e-12)
    assert opt.t == 2


def test_adam_first_step_is_scale_free():
    p, g = pair([0.0, 0.0, 0.0], [1e-4, -3.0, 250.0])
    Adam([(p, g)], lr=0.01).step()
    np.testing.assert_allclose(p, [-0.01, 0.01, -0.01], rtol=1e-3)


def test_adam_weight_decay():
    p, g = pair([2.0], [0.0])
    opt = Adam([(p, g)], lr=0.1, weight_decay=0.5)
    opt.step()  # g' = 1: the first step moves by lr against it
    np.testing.assert_allclose(p, [1.9], rtol=1e-7)


# --------------------------------------------------------------------------- schedules


def test_schedule_sets_lr_of_each_step():
    p, g = pair([0.0], [1.0])
    opt = SGD([(p, g)], lr=1.0, schedule=StepLR(1.0, step_size=2, gamma=0.5))
    lrs = []
    for _ in range(5):
        opt.step()
        lrs.append(opt.lr)
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]
    np.testing.assert_allclose(p, [-3.25])


def test_cosine_and_exponential_values():
    s = CosineLR(0.1, total_steps=100, min_lr=0.01, warmup=10)
    assert s(0) == pytest.approx(0.01)
    assert s(9) == pytest.approx(0.1)
    assert s(10) == pytest.approx(0.1)
    assert s(55) == pytest.approx(0.01 + 0.09 * 0.5)
    assert s(100) == pytest.approx(0.01) and s(1000) == pytest.approx(0.01)
    e = ExponentialLR(0.2, gamma=0.1, period=10)
    assert e(5) == pytest.approx(0.2 * 0.1**0.5)


def test_schedule_returning_garbage_is_reported():
    p, g = pair([0.0], [1.0])
    opt = SGD([(p, g)], lr=1.0, schedule=lambda t: float("nan"))
    with pytest.raises(ValueError, match="step 0"):
        opt.step()


# --------------------------------------------------------------------------- misuse


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": 0}, "lr"),
        ({"lr": -1}, "lr"),
        ({"lr": 0.1, "momentum": 1.0}, "momentum"),
        ({"lr": 0.1, "nesterov": True}, "nesterov"),
        ({"lr": 0.1, "weight_decay": -1}, "weight_decay"),
    ],
)
def test_sgd_bad_hyperparameters(kwargs, match):
    p, g = pair([0.0], [1.0])
    with pytest.raises(ValueError, match=match):
        SGD([(p, g)], **kwargs)


def test_adam_bad_hyperparameters():
    p, g = pair([0.0], [1.0])
    with pytest.raises(ValueError, match="betas"):
        Adam([(p, g)], betas=(0.9,))
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        Adam([(p, g)], betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="eps"):
        Adam([(p, g)], eps=0)
    with pytest.raises(TypeError, match="lr"):
        Adam([(p, g)], lr="fast")


def test_bad_params():
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        SGD([(np.zeros(2), np.zeros(3))], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        SGD([(np.zeros(2, dtype=int), np.zeros(2))], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        SGD(np.zeros(3), lr=0.1)
    p, g = pair([0.0], [1.0])
    with pytest.raises(ValueError, match="twice"):
        SGD([(p, g), (p, g)], lr=0.1)


def test_bad_schedule_helpers():
    with pytest.raises(ValueError, match="step_size"):
        StepLR(0.1, step_size=0)
    with pytest.raises(ValueError, match="warmup"):
        CosineLR(0.1, total_steps=10, warmup=10)
    with pytest.raises(ValueError, match="min_lr"):
        CosineLR(0.1, total_steps=10, min_lr=1.0)
    with pytest.raises(TypeError, match="schedule"):
        SGD([pair([0.0], [1.0])], lr=0.1, schedule=0.5)


def test_schedule_classes_accept_numpy_scalars_and_refuse_bad_types():
    assert StepLR(np.float32(0.5), step_size=np.int64(2), gamma=np.float64(0.5))(2) == 0.25
    with pytest.raises(TypeError, match="step_size"):
        StepLR(0.1, step_size=1.5)
    with pytest.raises(TypeError, match="period"):
        ExponentialLR(0.1, gamma=0.5, period=True)
    with pytest.raises(ValueError, match="gamma"):
        ExponentialLR(0.1, gamma=float("inf"))


# --------------------------------------------------------------------------- pure update rules


def test_sgd_update_by_hand_and_weight_decay():
    p, g = pair([1.0, -2.0], [0.5, 4.0])
    np.testing.assert_allclose(sgd_update(p, g, 0.1), [0.95, -2.4], rtol=1e-15)
    # g' = g + 0.5 p = [1.0, 3.0]
    np.testing.assert_allclose(sgd_update(p, g, 0.1, weight_decay=0.5), [0.9, -2.3], rtol=1e-15)


def test_momentum_and_nesterov_update_by_hand():
    p, b = np.array([1.0]), np.zeros(1)
    for _ in range(2):
        p, b = momentum_update(p, np.array([0.5]), b, 0.1, 0.9)
    np.testing.assert_allclose(b, [0.95], rtol=1e-15)
    np.testing.assert_allclose(p, [0.855], rtol=1e-15)
    p, b = np.array([1.0]), np.zeros(1)
    for _ in range(2):
        p, b = nesterov_update(p, np.array([0.5]), b, 0.1, 0.9)
    np.testing.assert_allclose(b, [0.95], rtol=1e-15)
    np.testing.assert_allclose(p, [1.0 - 0.1 * (0.5 + 0.45) - 0.1 * (0.5 + 0.855)], rtol=1e-15)


def test_adam_update_by_hand():
    eps = 1e-8
    p, m, v = adam_update(
        np.array([1.0]), np.array([2.0]), np.zeros(1), np.zeros(1), 1, 0.1, 0.9, 0.999, eps
    )
    np.testing.assert_allclose(m, [0.2], rtol=1e-15)
    np.testing.assert_allclose(v, [0.004], rtol=1e-15)
    np.testing.assert_allclose(p, [1.0 - 0.1 * 2.0 / (2.0 + eps)], rtol=1e-15)
    p, m, v = adam_update(p, np.array([-1.0]), m, v, 2, 0.1, 0.9, 0.999, eps)
    m_hat, v_hat = 0.08 / 0.19, 0.004996 / 0.001999
    np.testing.assert_allclose(
        p, [1.0 - 0.1 * 2.0 / (2.0 + eps) - 0.1 * m_hat / (math.sqrt(v_hat) + eps)], rtol=1e-12
    )
    np.testing.assert_allclose((m, v), ([0.08], [0.004996]), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_update_rules_are_pure_and_keep_the_dtype(dtype):
    rng = np.random.default_rng(0)
    p, g, s1, s2 = (rng.standard_normal((3, 4)).astype(dtype) for _ in range(4))
    s2 = np.abs(s2)  # a second moment is never negative
    before = [a.copy() for a in (p, g, s1, s2)]
    results = [
        (sgd_update(p, g, 0.1, weight_decay=0.01),),
        momentum_update(p, g, s1, 0.1, 0.9, weight_decay=0.01),
        nesterov_update(p, g, s1, 0.1, 0.9, weight_decay=0.01),
        adam_update(p, g, s1, s2, 3, 0.1, 0.9, 0.999, 1e-8, weight_decay=0.01),
    ]
    for arr, old in zip((p, g, s1, s2), before):
        assert np.array_equal(arr, old)  # no argument was modified
    for result in results:
        for out in result:
            assert out.shape == p.shape and out.dtype == dtype
            assert not any(np.shares_memory(out, a) for a in (p, g, s1, s2))


def test_update_rules_accept_numpy_scalars_like_python_ones():
    p, g, b = np.array([1.0, -1.0]), np.array([0.5, 2.0]), np.array([0.25, 0.5])
    np.testing.assert_array_equal(sgd_update(p, g, np.float32(0.5)), sgd_update(p, g, 0.5))
    np.testing.assert_array_equal(
        momentum_update(p, g, b, np.float64(0.5), np.float32(0.5), weight_decay=np.array(0.25)),
        momentum_update(p, g, b, 0.5, 0.5, weight_decay=0.25),
    )
    np.testing.assert_array_equal(
        adam_update(
            p, g, b, b, np.int64(2), np.float32(0.5), np.float32(0.5), np.float32(0.75), 1e-8
        ),
        adam_update(p, g, b, b, 2, 0.5, 0.5, 0.75, 1e-8),
    )


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda p: sgd_update(p, np.zeros(3), 0.1),
            ValueError,
            r"grad has shape \(3,\) but param has shape \(2,\)",
        ),
        (lambda p: sgd_update(p, p, "fast"), TypeError, "lr"),
        (lambda p: sgd_update(p, p, -0.1), ValueError, "lr"),
        (lambda p: sgd_update(p, p, 0.1, weight_decay=-1), ValueError, "weight_decay"),
        (
            lambda p: momentum_update(p, p, np.zeros((2, 1)), 0.1, 0.9),
            ValueError,
            "velocity has shape",
        ),
        (lambda p: momentum_update(p, p, p, 0.1, 1.0), ValueError, "momentum"),
        (lambda p: nesterov_update(p, p, p, 0.1, float("nan")), ValueError, "momentum"),
        (lambda p: adam_update(p, p, p, p, 0, 0.1, 0.9, 0.999, 1e-8), ValueError, "t must be >= 1"),
        (
            lambda p: adam_update(p, p, p, p, 1.0, 0.1, 0.9, 0.999, 1e-8),
            TypeError,
            "t must be an integer",
        ),
        (lambda p: adam_update(p, p, p, p, 1, 0.1, 1.0, 0.999, 1e-8), ValueError, "beta1"),
        (lambda p: adam_update(p, p, p, p, 1, 0.1, 0.9, -0.1, 1e-8), ValueError, "beta2"),
        (lambda p: adam_update(p, p, p, p, 1, 0.1, 0.9, 0.999, 0.0), ValueError, "eps"),
        (
            lambda p: adam_update(p, p, ["a", "b"], p, 1, 0.1, 0.9, 0.999, 1e-8),
            TypeError,
            "m must hold real",
        ),
    ],
)
def test_update_rules_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(np.zeros(2))


def test_lr_zero_is_allowed_for_the_rules():
    # A schedule may end at 0 (CosineLR's default min_lr): the step is then no move.
    p = np.array([1.0, 2.0])
    np.testing.assert_array_equal(sgd_update(p, np.ones(2), 0.0), p)
    np.testing.assert_array_equal(
        adam_update(p, np.ones(2), np.zeros(2), np.zeros(2), 1, 0.0, 0.9, 0.999, 1e-8)[0], p
    )


def test_package_exports_the_rules():
    # (compared by name and module: pytest's doctest collection may import
    # convlib/update_rules.py a second time, as a distinct module object)
    for name in ("sgd_update", "momentum_update", "nesterov_update", "adam_update"):
        fn = getattr(convlib, name)
        assert (fn.__module__, fn.__name__) == ("convlib.update_rules", name)
        assert name in convlib.__all__


def test_the_classes_step_exactly_as_the_rules():
    rng = np.random.default_rng(3)
    start, grads = rng.standard_normal((4, 3)), rng.standard_normal((6, 4, 3))
    for make, rule in [
        (
            lambda ps: SGD(ps, lr=0.1, weight_decay=0.01),
            lambda p, g, s, t: (sgd_update(p, g, 0.1, weight_decay=0.01),),
        ),
        (
            lambda ps: SGD(ps, lr=0.1, momentum=0.8),
            lambda p, g, s, t: momentum_update(p, g, s[0], 0.1, 0.8),
        ),
        (
            lambda ps: SGD(ps, lr=0.1, momentum=0.8, nesterov=True),
            lambda p, g, s, t: nesterov_update(p, g, s[0], 0.1, 0.8),
        ),
        (
            lambda ps: Adam(ps, lr=0.1, weight_decay=0.01),
            lambda p, g, s, t: adam_update(
                p, g, s[0], s[1], t, 0.1, 0.9, 0.999, 1e-8, weight_decay=0.01
            ),
        ),
    ]:
        value, grad = start.copy(), np.zeros_like(start)
        opt = make([(value, grad)])
        p, state = start.copy(), [np.zeros_like(start), np.zeros_like(start)]
        for t, g in enumerate(grads, start=1):
            grad[...] = g
            opt.step()
            p, *new_state = rule(p, g, state, t)
            state[: len(new_state)] = new_state
            np.testing.assert_array_equal(value, p)  # bit for bit


# --------------------------------------------------------------------------- the exercise checker


def test_check_adam_step_passes_convlibs_adam_update(capsys):
    from convlib.exercises import ADAM_CASES

    assert check_adam_step(adam_update) == len(ADAM_CASES)
    assert check_adam_step(convlib.adam_update, seed=7, verbose=False) == len(ADAM_CASES)
    assert "all" in capsys.readouterr().out


def test_check_adam_step_fails_broken_variants_of_adam_update():
    def no_bias_correction(param, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        return param - lr * m / (np.sqrt(v) + eps), m, v

    with pytest.raises(ExerciseFailure, match="no bias correction"):
        check_adam_step(no_bias_correction, verbose=False)

    def step_counter_stuck(param, grad, m, v, t, lr, beta1, beta2, eps):
        return adam_update(param, grad, m, v, 1, lr, beta1, beta2, eps)

    with pytest.raises(ExerciseFailure, match="case 2"):  # right at t = 1, wrong from t = 2 on
        check_adam_step(step_counter_stuck, verbose=False)


# ------------------------------------------------------------------- reference formulas and PyTorch
#
# The classes must follow torch.optim.SGD / torch.optim.Adam step for step. The
# references below are written from PyTorch's documented algorithms, with the
# operations in the order its CPU code performs them (lerp for m, the bias
# corrections folded into a step size and a denominator), so they share no
# code and no rounding order with convlib.

STEPS = 30


def _torch_order_sgd(p, grads, lrs, momentum=0.0, nesterov=False, weight_decay=0.0):
    buf, out = None, []
    for g, lr in zip(grads, lrs):
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else buf * momentum + g
            g = g + momentum * buf if nesterov else buf
        p = p + (-lr) * g
        out.append(p)
    return np.array(out)


def _torch_order_adam(p, grads, lrs, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    m, v, out = np.zeros_like(p), np.zeros_like(p), []
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        if weight_decay:
            g = g + weight_decay * p
        m = m + (1 - beta1) * (g - m)  # exp_avg.lerp_(grad, 1 - beta1)
        v = v * beta2 + (1 - beta2) * (g * g)
        step_size = lr / (1 - beta1**t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
        p = p + (-step_size) * (m / denom)  # param.addcdiv_(m, denom, value=-step_size)
        out.append(p)
    return np.array(out)


SETTINGS = [
    ("sgd", dict(lr=0.05), {}),
    ("sgd", dict(lr=0.05, weight_decay=0.1), dict(weight_decay=0.1)),
    ("sgd", dict(lr=0.02, momentum=0.9), dict(momentum=0.9)),
    ("sgd", dict(lr=0.02, momentum=0.5, weight_decay=0.1), dict(momentum=0.5, weight_decay=0.1)),
    ("sgd", dict(lr=0.02, momentum=0.9, nesterov=True), dict(momentum=0.9, nesterov=True)),
    ("adam", dict(lr=0.01), {}),
    (
        "adam",
        dict(lr=0.01, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.1),
        dict(beta1=0.5, beta2=0.9, eps=1e-6, weight_decay=0.1),
    ),
]
IDS = ["sgd", "sgd-decay", "momentum", "momentum-decay", "nesterov", "adam", "adam-betas-decay"]


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal((6, 5))
    # gradients spanning several orders of magnitude, fresh at every step
    grads = [
        rng.standard_normal((6, 5)) * 10.0 ** rng.integers(-2, 2, (6, 5)) for _ in range(STEPS)
    ]
    return start, grads


def _run_convlib(kind, kwargs, start, grads, schedule=None):
    value, grad = start.copy(), np.zeros_like(start)
    cls = SGD if kind == "sgd" else Adam
    opt = cls([("w", value, grad)], schedule=schedule, **kwargs)
    path = []
    for g in grads:
        grad[...] = g
        opt.step()
        path.append(value.copy())
    return np.array(path)


def _assert_close_step_for_step(ours, reference):
    # every step, every entry, to a few units in the last place of the parameters' scale
    scale = np.abs(reference).max(axis=(1, 2), keepdims=True)
    assert np.all(np.abs(ours - reference) <= 1e-14 * scale)


@pytest.mark.parametrize("kind, kwargs, ref_kwargs", SETTINGS, ids=IDS)
def test_classes_match_pytorch_order_reference_step_for_step(kind, kwargs, ref_kwargs):
    start, grads = _problem()
    schedule = StepLR(kwargs["lr"], step_size=7, gamma=0.5)
    lrs = [schedule(t) for t in range(STEPS)]
    for sched, rates in ((None, [kwargs["lr"]] * STEPS), (schedule, lrs)):
        ours = _run_convlib(kind, kwargs, start, grads, sched)
        ref = (_torch_order_sgd if kind == "sgd" else _torch_order_adam)(
            start, grads, rates, **ref_kwargs
        )
        _assert_close_step_for_step(ours, ref)


@pytest.mark.parametrize("kind, kwargs, ref_kwargs", SETTINGS, ids=IDS)
def test_classes_match_torch_optim_step_for_step(kind, kwargs, ref_kwargs):
    torch = pytest.importorskip("torch")
    start, grads = _problem(1)
    p = torch.tensor(start.copy(), dtype=torch.float64, requires_grad=True)
    opt = (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)([p], **kwargs)
    theirs = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        theirs.append(p.detach().numpy().copy())
    _assert_close_step_for_step(_run_convlib(kind, kwargs, start, grads), np.array(theirs))


@pytest.mark.parametrize(
    "schedule",
    [
        StepLR(0.1, 2),
        ExponentialLR(0.1, 0.5, period=3),
        CosineLR(0.1, 10),
        CosineLR(0.1, 10, warmup=2),
        OneCycleLR(0.1, 10),
    ],
    ids=repr,
)
def test_schedules_refuse_a_negative_or_non_integer_step(schedule):
    with pytest.raises(ValueError, match=r"t must be >= 0, got -1"):
        schedule(-1)
    with pytest.raises(TypeError, match=r"t must be an integer"):
        schedule(2.5)
    assert schedule(np.int64(3)) == schedule(3)


@pytest.mark.parametrize(
    "params", [[np.zeros(3)], [np.zeros((2, 3))], ["w"], [3]], ids=["1d", "2d", "str", "int"]
)
def test_optimizer_refuses_bare_arrays_as_params(params):
    with pytest.raises(
        TypeError,
        match=r"params\[0\] must be a \(name, value, grad\) triple or a \(value, grad\) pair",
    ):
        SGD(params, lr=0.1)


def test_nesterov_must_be_a_bool():
    p, g = np.ones(2), np.ones(2)
    with pytest.raises(TypeError, match="nesterov must be a bool"):
        SGD([(p, g)], lr=0.1, momentum=0.9, nesterov="yes")
    assert SGD([(p, g)], lr=0.1, momentum=0.9, nesterov=np.bool_(True)).nesterov is True


# ---------------------------------------------------------------------------
# OneCycleLR
# ---------------------------------------------------------------------------


def test_one_cycle_by_hand():
    # T = 21, pct_start = 0.1: the peak is at u = 0.1 * 21 - 1 = 1.1.
    s = OneCycleLR(1.0, total_steps=21, pct_start=0.1, div_factor=10, final_div_factor=100)
    assert s(0) == pytest.approx(0.1)  # max_lr / div_factor
    up = 1.0 + (0.1 - 1.0) * 0.5 * (1 + math.cos(math.pi * 1 / 1.1))
    assert s(1) == pytest.approx(up)
    down = 1e-3 + (1.0 - 1e-3) * 0.5 * (1 + math.cos(math.pi * (11 - 1.1) / (20 - 1.1)))
    assert s(11) == pytest.approx(down)
    assert s(20) == pytest.approx(1e-3) and s(100) == pytest.approx(1e-3)  # / 10 / 100
    lrs = [s(t) for t in range(21)]
    assert lrs[0] < lrs[1] < 1.0 and max(lrs) < 1.0  # the peak u = 1.1 falls between steps
    assert np.all(np.diff(lrs[2:]) < 0)  # decreasing after it


def test_one_cycle_defaults_rise_for_30_percent():
    s = OneCycleLR(0.5, total_steps=1000)
    lrs = np.array([s(t) for t in range(1000)])
    assert np.argmax(lrs) == 299 and lrs.max() == pytest.approx(0.5)
    assert lrs[0] == pytest.approx(0.5 / 25) and lrs[-1] == pytest.approx(0.5 / 25 / 1e4)
    assert np.all(np.diff(lrs[:300]) > 0) and np.all(np.diff(lrs[299:]) < 0)


@pytest.mark.parametrize("total, pct", [(50, 0.3), (469 * 2, 0.3), (31, 0.25), (7, 0.5)])
def test_one_cycle_matches_torch(total, pct):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=1.0)
    ref = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.02, total_steps=total, pct_start=pct, cycle_momentum=False
    )
    expected = []
    for _ in range(total):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        ref.step()
    s = OneCycleLR(0.02, total_steps=total, pct_start=pct)
    np.testing.assert_allclose([s(t) for t in range(total)], expected, rtol=1e-12)


def test_one_cycle_drives_adam():
    p, g = pair([0.0], [1.0])
    schedule = OneCycleLR(0.1, total_steps=10)
    opt = Adam([(p, g)], lr=0.1, schedule=schedule)
    seen = []
    for _ in range(10):
        opt.step()
        seen.append(opt.lr)
    assert seen == [schedule(t) for t in range(10)]
    assert "OneCycleLR(max_lr=0.1, total_steps=10" in repr(schedule)


def test_one_cycle_refuses_a_rise_shorter_than_two_steps():
    with pytest.raises(ValueError, match="pct_start \\* total_steps - 1 must be > 0"):
        OneCycleLR(0.1, total_steps=3, pct_start=0.3)  # 0.9 - 1 < 0
    OneCycleLR(0.1, total_steps=4, pct_start=0.3)  # 1.2 - 1 > 0: accepted
