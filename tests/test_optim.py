"""Optimizers and schedules against updates worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convlib.optim import SGD, Adam, CosineLR, ExponentialLR, StepLR


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
