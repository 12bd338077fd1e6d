"""Optimizers never apply a non-finite or stale gradient, and keep float16 models in float32.

Issue 10 ("Silent wrong results"): SGD and Adam refuse a step on a NaN/inf
gradient and change nothing; a failed backward leaves no stale gradient for
the next ``step()``; float16 parameters are updated through a float32 master
copy with float32 state (Adam's ``eps = 1e-8`` would round to 0 in float16).
"""

from __future__ import annotations

import numpy as np
import pytest

import convlib
from convlib.errors import NonFiniteError, NonFiniteGradientError
from convlib.layers import Dense, ReLU
from convlib.model import Sequential
from convlib.optim import SGD, Adam, StepLR


def _params(dtype=np.float64):
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal(2).astype(dtype)
    return [("w", w, np.ones_like(w)), ("b", b, np.ones_like(b))]


def _state(opt):
    names = ("velocity", "m", "v", "master")
    state = {
        k: [None if a is None else a.copy() for a in getattr(opt, k)]
        for k in names
        if hasattr(opt, k)
    }
    return state, opt.t, opt.lr, [v.copy() for _, v, _ in opt.params]


def _assert_same(before, after):
    (s0, t0, lr0, p0), (s1, t1, lr1, p1) = before, after
    assert (t0, lr0) == (t1, lr1)
    for a, b in zip(p0, p1):
        np.testing.assert_array_equal(a, b)
    for key in s0:
        for a, b in zip(s0[key], s1[key]):
            if a is None:
                assert b is None
            else:
                np.testing.assert_array_equal(a, b)


OPTIMIZERS = {
    "sgd": lambda p: SGD(p, lr=0.1),
    "momentum": lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: Adam(p, lr=0.01, schedule=StepLR(0.01, step_size=1, gamma=0.5)),
}


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("kind", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_non_finite_gradient_is_refused_and_nothing_changes(kind, bad, dtype):
    params = _params(dtype)
    opt = OPTIMIZERS[kind](params)
    opt.step()  # some state that could be spoilt
    params[1][2][1] = bad
    before = _state(opt)
    with pytest.raises(NonFiniteGradientError, match=r"parameter 'b' .*index \(1,\)") as info:
        opt.step()
    assert info.value.name == "b"
    _assert_same(before, _state(opt))
    # once the gradient is finite again the optimizer carries on
    params[1][2][1] = 1.0
    opt.step()
    assert opt.t == 2


def test_the_error_is_a_value_error_and_a_floating_point_error():
    assert issubclass(NonFiniteGradientError, NonFiniteError)
    assert issubclass(NonFiniteGradientError, ValueError)
    assert issubclass(NonFiniteGradientError, FloatingPointError)
    assert convlib.NonFiniteGradientError is NonFiniteGradientError


def test_a_large_finite_gradient_whose_sum_overflows_is_accepted():
    w = np.zeros(4, dtype=np.float32)
    g = np.full(4, 3e38, dtype=np.float32)  # finite; the sum is not
    SGD([(w, g)], lr=1e-38).step()
    assert np.isfinite(w).all()


def _mlp(dtype=np.float32):
    return Sequential([Dense(4, 5, rng=0, dtype=dtype), ReLU(), Dense(5, 3, rng=1, dtype=dtype)])


def test_a_failed_backward_leaves_no_stale_gradient_for_step(monkeypatch):
    model = _mlp()
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    model.forward(x)
    model.backward(np.ones((6, 3), np.float32))
    opt.step()
    model.forward(x)

    def broken(self, dout):
        raise MemoryError("out of memory in the middle of backward")

    monkeypatch.setattr(ReLU, "backward", broken)
    with pytest.raises(MemoryError):
        model.backward(np.ones((6, 3), np.float32))
    before = _state(opt)
    # layer 0 was never reached: its gradient must not be the previous step's
    with pytest.raises(NonFiniteGradientError, match=r"'0\.w'.*backward pass failed"):
        opt.step()
    _assert_same(before, _state(opt))


def test_a_backward_refused_at_the_first_layer_leaves_no_stale_gradient():
    model = _mlp()
    opt = Adam(model.parameters(), lr=0.1)
    x = np.ones((2, 4), np.float32)
    model.forward(x)
    model.backward(np.ones((2, 3), np.float32))
    model.forward(x)
    with pytest.raises(ValueError, match="dout"):
        model.backward(np.ones((2, 4), np.float32))  # wrong shape
    with pytest.raises(NonFiniteGradientError):
        opt.step()
    assert opt.t == 0


def test_a_single_layer_invalidates_its_gradients_when_its_backward_fails():
    layer = Dense(2, 2, rng=0)
    layer.forward(np.ones((1, 2)))
    layer.backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2)))
    assert np.isnan(layer.grads["w"]).all()


def test_backward_after_forward_gives_finite_gradients_as_before():
    model = _mlp()
    model.forward(np.ones((2, 4), np.float32))
    model.backward(np.ones((2, 3), np.float32))
    assert all(np.isfinite(p.grad).all() for p in model.parameters())


# -- float16 models: float32 state and master weights --------------------------------


def _half_problem(seed=0):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal((4, 3)).astype(np.float16)
    g = (rng.standard_normal((4, 3)) * 1e-3).astype(np.float16)
    return p, g


def test_adam_step_on_float16_matches_a_float32_reference():
    p16, g16 = _half_problem()
    ref_p, ref_g = p16.astype(np.float32), g16.astype(np.float32)
    opt16 = Adam([("p", p16, g16)], lr=1e-3)
    ref = Adam([("p", ref_p, ref_g)], lr=1e-3)
    for _ in range(3):
        opt16.step()
        ref.step()
    assert p16.dtype == np.float16 and np.isfinite(p16).all()
    np.testing.assert_array_equal(p16, ref_p.astype(np.float16))
    assert opt16.m[0].dtype == opt16.v[0].dtype == np.float32
    np.testing.assert_allclose(opt16.master[0], ref_p, rtol=1e-6)
    assert opt16.eps == 1e-8


def test_adam_on_float16_with_tiny_gradients_stays_finite():
    # g**2 underflows to 0 in float16 and eps = 1e-8 rounds to 0: 0 / 0 before the fix
    p = np.ones(3, np.float16)
    g = np.array([1e-7, -1e-7, 0.0], np.float16)
    Adam([(p, g)], lr=1e-3).step()
    assert np.isfinite(p).all()
    np.testing.assert_array_equal(p, np.float16([1 - 1e-3, 1 + 1e-3, 1]))


def test_small_updates_accumulate_in_the_float32_master_copy():
    # lr * g = 1e-4 is below half a float16 step at 1.0 (4.9e-4): without a
    # master copy the parameter would never move.
    p, g = np.ones(2, np.float16), np.ones(2, np.float16)
    opt = SGD([(p, g)], lr=1e-4, momentum=0.0)
    for _ in range(20):
        opt.step()
    assert opt.master[0].dtype == np.float32
    np.testing.assert_allclose(opt.master[0], 1 - 20e-4, rtol=1e-5)
    np.testing.assert_array_equal(p, np.float16(1 - 20e-4))


def test_sgd_momentum_velocity_is_float32_for_float16_parameters():
    p, g = _half_problem(1)
    opt = SGD([(p, g)], lr=0.1, momentum=0.9)
    opt.step()
    assert opt.velocity[0].dtype == np.float32


def test_the_master_copy_follows_a_parameter_changed_from_outside():
    p, g = np.ones(2, np.float16), np.zeros(2, np.float16)
    opt = SGD([(p, g)], lr=0.1)
    p[...] = 5.0  # e.g. model.load(...)
    opt.step()
    np.testing.assert_array_equal(p, [5.0, 5.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_master_copy_for_float32_and_float64(dtype):
    params = _params(dtype)
    opt = Adam(params, lr=1e-3)
    assert opt.master == [None, None]
    assert opt.m[0].dtype == dtype


RULES = {
    "sgd_update": lambda p, g: convlib.sgd_update(p, g, 0.1),
    "momentum_update": lambda p, g: convlib.momentum_update(p, g, np.ones_like(p), 0.1, 0.9),
    "nesterov_update": lambda p, g: convlib.nesterov_update(p, g, np.ones_like(p), 0.1, 0.9),
    "adam_update": lambda p, g: convlib.adam_update(
        p, g, np.ones_like(p), np.ones_like(p), 3, 0.1, 0.9, 0.999, 1e-8
    ),
}


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_pure_update_rules_refuse_a_non_finite_gradient(rule, bad):
    param = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    grad = np.array([0.1, bad, 0.2], dtype=np.float32)
    kept = param.copy(), grad.copy()
    with pytest.raises(NonFiniteGradientError, match=r"grad must be finite.*grad\[1\]") as info:
        RULES[rule](param, grad)
    assert info.value.name == "grad"
    np.testing.assert_array_equal(param, kept[0])
    np.testing.assert_array_equal(grad, kept[1])


@pytest.mark.parametrize("rule", sorted(RULES))
def test_pure_update_rules_accept_a_large_finite_gradient(rule):
    param = np.ones(3)
    out = RULES[rule](param, np.full(3, 1e100))
    assert all(np.isfinite(a).all() for a in (out if isinstance(out, tuple) else (out,)))
