"""convlib.precision: emulated float16/bfloat16 rounding, range counts, loss scalers."""

from __future__ import annotations

import numpy as np
import pytest

import convlib
from convlib.precision import (
    FORMATS,
    DynamicLossScaler,
    FloatFormat,
    StaticLossScaler,
    count_out_of_range,
    get_format,
    round_to_format,
)

F16 = FORMATS["float16"]
BF16 = FORMATS["bfloat16"]


# ------------------------------------------------------------------------------ formats
@pytest.mark.parametrize("name, dtype", [("float16", np.float16), ("float32", np.float32),
                                         ("float64", np.float64)])  # fmt: skip
def test_format_limits_match_numpy(name: str, dtype: type) -> None:
    form, info = FORMATS[name], np.finfo(dtype)
    assert form.max == float(info.max)
    assert form.tiny == float(info.tiny)
    assert form.smallest_subnormal == float(info.smallest_subnormal)
    assert form.eps == float(info.eps)


def test_bfloat16_limits() -> None:
    # 8 exponent bits like float32, 7 fraction bits: max = (2 - 2^-7) 2^127.
    assert BF16.max == (2 - 2**-7) * 2.0**127
    assert BF16.tiny == float(np.finfo(np.float32).tiny)
    assert BF16.smallest_subnormal == 2.0**-133
    assert BF16.eps == 2.0**-7


def test_get_format() -> None:
    assert get_format("BFloat16") is BF16
    custom = FloatFormat("float16", 5, 10)
    assert get_format(custom) is custom
    with pytest.raises(ValueError, match="fmt must be one of"):
        get_format("float8")
    with pytest.raises(TypeError, match="fmt must be a format name"):
        get_format(np.float16)


# ------------------------------------------------------------------------------ rounding
def _all_float32_samples() -> np.ndarray:
    """Random bit patterns (every exponent) plus hand-picked edge cases, as float32."""
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, size=200_000, dtype=np.uint64).astype(np.uint32)
    # Ties: the 16 dropped bits exactly 0x8000, with odd and even kept parts.
    ties = (rng.integers(0, 2**16, size=2000, dtype=np.uint64).astype(np.uint32) << 16) | 0x8000
    edges = np.array(
        [0.0, -0.0, 1.0, np.inf, -np.inf, np.finfo(np.float32).max, -np.finfo(np.float32).max,
         np.finfo(np.float32).tiny, np.finfo(np.float32).smallest_subnormal, BF16.max,
         1 + 2**-8, 1 + 2**-8 + 2**-9, 1 + 3 * 2**-8],
        dtype=np.float32,
    )  # fmt: skip
    x = np.concatenate([bits.view(np.float32), ties.view(np.float32), edges])
    return x[~np.isnan(x)]


def test_bfloat16_matches_ml_dtypes() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = _all_float32_samples()
    with np.errstate(over="ignore"):
        expected = x.astype(ml_dtypes.bfloat16).astype(np.float32)
    got = round_to_format(x, "bfloat16")
    np.testing.assert_array_equal(got, expected)


def _bfloat16_reference(x: float) -> float:
    """Round one float to bfloat16 from first principles: the nearest of its two neighbours."""
    if not np.isfinite(x) or x == 0:
        return x
    m, e = np.frexp(abs(x))  # |x| = m 2^e, m in [0.5, 1)
    e = max(int(e), -125)  # below float32's normal range the spacing stays 2^-133
    ulp = 2.0 ** (e - 8)
    lo = np.floor(abs(x) / ulp) * ulp
    hi = lo + ulp
    if abs(x) - lo < hi - abs(x):
        r = lo
    elif abs(x) - lo > hi - abs(x):
        r = hi
    else:  # a tie: the neighbour with an even last bit
        r = lo if round(lo / ulp) % 2 == 0 else hi
    if r > BF16.max:
        r = np.inf
    return float(np.copysign(r, x))


def test_bfloat16_against_first_principles() -> None:
    x = _all_float32_samples()[::50].astype(np.float64)
    expected = np.array([_bfloat16_reference(float(v)) for v in x])
    np.testing.assert_array_equal(round_to_format(x.astype(np.float32), "bfloat16"), expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        (1 + 2**-8, 1.0),  # tie, kept part even: down
        (1 + 3 * 2**-8, 1 + 2**-6),  # tie, kept part odd: up to even
        (1 + 2**-8 + 2**-9, 1 + 2**-7),  # above the tie: up
        (-(1 + 3 * 2**-8), -(1 + 2**-6)),
        (float(np.finfo(np.float32).max), np.inf),  # the carry makes inf
        (BF16.max, BF16.max),
        (2.0**-133, 2.0**-133),  # the smallest subnormal is kept
        (2.0**-134, 0.0),  # half of it: a tie, rounds to zero (even)
        (1.5 * 2.0**-134, 2.0**-133),
        (np.inf, np.inf),
        (-np.inf, -np.inf),
    ],
)
def test_bfloat16_edge_cases(value: float, expected: float) -> None:
    assert round_to_format(np.float32(value), "bfloat16")[()] == expected


def test_bfloat16_keeps_nan_and_sign_of_zero() -> None:
    nan_payload = np.array([0x7F800001, 0xFFFFFFFF], dtype=np.uint32).view(np.float32)
    assert np.isnan(round_to_format(nan_payload, "bfloat16")).all()
    z = round_to_format(np.float32(-0.0), "bfloat16")
    assert z == 0 and np.signbit(z)


@pytest.mark.parametrize(
    "value, expected",
    [
        (1 + 2**-11, 1.0),  # tie: to even
        (1 + 3 * 2**-11, 1 + 2**-9),
        (65504.0, 65504.0),
        (65519.0, 65504.0),  # below the midpoint to 2^16
        (65520.0, np.inf),  # the midpoint rounds to "2^16": inf
        (2.0**-24, 2.0**-24),  # smallest subnormal
        (2.0**-25, 0.0),  # half of it: tie to zero
        (1e-8, 0.0),
    ],
)
def test_float16_edge_cases(value: float, expected: float) -> None:
    assert round_to_format(np.float32(value), "float16")[()] == expected


def test_rounding_returns_float32_and_does_not_warn() -> None:
    x = np.array([[1e6, -1e6], [0.1, 3.0]])  # float64, overflowing float16
    r16 = round_to_format(x, "float16")
    assert r16.dtype == np.float32 and r16.shape == (2, 2)
    with np.errstate(over="ignore"):
        assert np.array_equal(r16, x.astype(np.float16).astype(np.float32))
    assert round_to_format(x, "float32").dtype == np.float32
    r64 = round_to_format(x, "float64")
    assert r64.dtype == np.float64 and np.array_equal(r64, x) and r64 is not x
    assert round_to_format([1, 2], "bfloat16").dtype == np.float32  # integers accepted


@pytest.mark.parametrize("fmt", ["float16", "bfloat16", "float32", "float64"])
def test_rounding_keeps_the_shape(fmt: str) -> None:
    scalar = round_to_format(1.0 + 2**-8 + 2**-9, fmt)
    assert scalar.shape == ()
    strided = np.arange(24.0).reshape(4, 6)[:, ::2].T  # not contiguous
    r = round_to_format(strided, fmt)
    assert r.shape == (3, 4) and np.array_equal(r, strided)  # small integers are exact


def test_rounding_error_is_within_half_an_ulp() -> None:
    x = np.random.default_rng(1).uniform(-100, 100, 10_000).astype(np.float32)
    for form in (F16, BF16):
        rel = np.abs(round_to_format(x, form) - x) / np.abs(x)
        assert rel.max() <= form.eps / 2
        assert rel.max() > form.eps / 4  # and it is really that coarse


def test_rounding_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="x must hold real numbers"):
        round_to_format(np.ones(3) + 1j, "float16")
    with pytest.raises(TypeError, match="x must"):
        round_to_format(["a"], "float16")


# ------------------------------------------------------------------------------ counts
def test_count_out_of_range() -> None:
    x = np.array([1e5, -7e4, 1e-8, -2e-8, 1e-6, 3e-5, 1.0, 0.0, np.inf, np.nan])
    c = count_out_of_range(x, "float16")
    assert (c.size, c.overflow, c.underflow, c.subnormal, c.nonfinite) == (10, 2, 2, 2, 2)
    assert c.fraction("overflow") == 0.2
    b = count_out_of_range(x, "bfloat16")  # float32's range: nothing out of it
    assert (b.overflow, b.underflow, b.subnormal, b.nonfinite) == (0, 0, 0, 2)
    assert count_out_of_range(np.zeros((0, 3)), "float16").fraction("underflow") == 0.0
    with pytest.raises(ValueError, match="what must be"):
        c.fraction("overflows")


def test_count_boundaries_follow_the_rounding() -> None:
    # 65519 rounds down to the max, 65520 up to inf; 2^-25 to 0, just above it to 2^-24.
    c = count_out_of_range(np.array([65519.0, 65520.0, 2.0**-25, 2.0**-25 * 1.01]), "float16")
    assert (c.overflow, c.underflow, c.subnormal) == (1, 1, 1)


# ------------------------------------------------------------------------------ loss scaling
class _RecordingOptimizer:
    """Minimal stand-in with convlib's optimizer interface, recording what step() saw."""

    def __init__(self, grads: list[np.ndarray]) -> None:
        self.params = [(f"p{i}", np.zeros_like(g), g) for i, g in enumerate(grads)]
        self.seen: list[list[np.ndarray]] = []

    def step(self) -> None:
        self.seen.append([g.copy() for _, _, g in self.params])


def test_static_scaler_scales_and_unscales() -> None:
    scaler = StaticLossScaler(256.0)
    dout = np.array([1e-6, -2e-7], dtype=np.float32)
    np.testing.assert_array_equal(scaler.scale(dout), dout * 256)
    assert scaler.scale(dout).dtype == np.float32
    g = np.array([256e-6, 512.0], dtype=np.float32)
    opt = _RecordingOptimizer([g])
    assert scaler.step(opt) is True
    np.testing.assert_array_equal(opt.seen[0][0], np.array([1e-6, 2.0], dtype=np.float32))
    assert (scaler.steps, scaler.skipped, scaler.scale_value) == (1, 0, 256.0)


def test_static_scaler_skips_an_overflowed_step() -> None:
    scaler = StaticLossScaler(8.0)
    g = np.array([1.0, np.inf], dtype=np.float32)
    other = np.array([16.0], dtype=np.float32)
    opt = _RecordingOptimizer([other, g])
    assert scaler.step(opt) is False
    assert opt.seen == [] and scaler.skipped == 1 and scaler.scale_value == 8.0
    assert other[0] == 16.0  # nothing was unscaled


def test_loss_scaling_keeps_small_gradients_in_float16() -> None:
    # A gradient of 1e-8 underflows in float16; scaled by 2^10 it does not,
    # and unscaled in float32 it comes back to within float16's rounding.
    true = np.full(4, 1e-8)
    assert np.all(round_to_format(true, "float16") == 0)
    scaler = StaticLossScaler(2.0**10)
    g = round_to_format(scaler.scale(true.astype(np.float32)), "float16")
    opt = _RecordingOptimizer([g])
    scaler.step(opt)
    np.testing.assert_allclose(opt.seen[0][0], true, rtol=2 * F16.eps)


def test_dynamic_scaler_state_machine() -> None:
    scaler = DynamicLossScaler(init_scale=8.0, growth_factor=2.0, backoff_factor=0.5,
                               growth_interval=3)  # fmt: skip
    good = np.ones(2, dtype=np.float32)
    bad = np.array([1.0, np.nan], dtype=np.float32)
    outcomes = []
    for grad in [good, good, good, good, bad, good, bad, bad, good, good, good]:
        opt = _RecordingOptimizer([grad.copy()])
        outcomes.append((scaler.step(opt), scaler.scale_value, scaler.good_steps))
    assert outcomes == [
        (True, 8.0, 1), (True, 8.0, 2), (True, 16.0, 0),  # three good steps: grow
        (True, 16.0, 1),
        (False, 8.0, 0),  # overflow: halve, the run starts again
        (True, 8.0, 1),
        (False, 4.0, 0), (False, 2.0, 0),
        (True, 2.0, 1), (True, 2.0, 2), (True, 4.0, 0),
    ]  # fmt: skip
    assert scaler.history == [8, 8, 8, 16, 16, 8, 8, 4, 2, 2, 2]
    assert (scaler.steps, scaler.skipped) == (11, 3)
    assert "skipped=3" in repr(scaler)
    scaler.update(False)  # update() alone: what step() does after an overflow
    assert (scaler.scale_value, scaler.good_steps, scaler.steps) == (2.0, 0, 11)


def test_dynamic_scaler_unscales_with_the_scale_it_used() -> None:
    scaler = DynamicLossScaler(init_scale=4.0, growth_interval=1)
    opt = _RecordingOptimizer([np.array([8.0], dtype=np.float32)])
    scaler.step(opt)  # unscaled by 4, then the scale grows to 8
    assert opt.seen[0][0][0] == 2.0 and scaler.scale_value == 8.0


def test_scaler_with_convlib_optimizer_and_float32_master_weights() -> None:
    # The emulation of mixed precision: float32 master weights, gradients
    # computed from a float16 copy, scaled; the optimizer updates the master.
    rng = np.random.default_rng(0)
    master = np.zeros((3, 2), dtype=np.float32)  # so that the step is read off exactly
    x = rng.standard_normal((4, 3)).astype(np.float32)
    dout = 1e-7 * rng.standard_normal((4, 2)).astype(np.float32)  # tiny upstream gradient
    grad = np.zeros_like(master)
    opt = convlib.SGD([("w", master, grad)], lr=1.0)
    exact = x.T @ dout
    for scaler, underflows in ((StaticLossScaler(1.0), True), (StaticLossScaler(2.0**12), False)):
        before = master.copy()
        grad[...] = round_to_format(x.T @ round_to_format(scaler.scale(dout), "float16"), "float16")
        assert scaler.step(opt)
        step = before - master
        err = np.abs(step - exact).max() / np.abs(exact).max()
        assert (err > 0.05) == underflows  # the unscaled run loses the gradient's digits
    with pytest.raises(TypeError, match="float16 gradient divided by the scale"):
        half = np.zeros(2, dtype=np.float16)
        StaticLossScaler().step(convlib.SGD([("w16", half.copy(), half)], lr=1.0))


@pytest.mark.parametrize(
    "make, exc, words",
    [
        (lambda: StaticLossScaler(0.0), ValueError, "scale must be in"),
        (lambda: StaticLossScaler(np.inf), ValueError, "scale must be a finite"),
        (lambda: StaticLossScaler("big"), TypeError, "scale must be a real"),
        (lambda: DynamicLossScaler(growth_factor=1.0), ValueError, "growth_factor"),
        (lambda: DynamicLossScaler(backoff_factor=1.0), ValueError, "backoff_factor"),
        (lambda: DynamicLossScaler(growth_interval=0), ValueError, "growth_interval"),
        (lambda: DynamicLossScaler(growth_interval=2.5), TypeError, "growth_interval"),
        (lambda: StaticLossScaler().step(object()), TypeError, "optimizer must be"),
        (lambda: StaticLossScaler().scale("x"), TypeError, "dout"),
    ],
)
def test_bad_arguments(make, exc, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=words):
        make()
