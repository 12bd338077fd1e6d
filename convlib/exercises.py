"""Checkers that grade a reader's own implementations.

Each ``check_*`` function calls the reader's function on a ladder of cases,
from the simplest (one image, one channel, stride 1, no padding) to the
general one, compares every result with convlib's reference, and stops at the
first case that fails with a message in a learner's words: which case, which
output, where it is worst, and -- because the ladder adds one feature at a
time -- which feature broke it and the classic mistake that usually causes
it. On success it prints one line and returns the number of cases passed.

The functions the reader writes have plain signatures (no caches)::

    conv_forward(x, w, b, stride, pad) -> out
    conv_backward(dout, x, w, stride, pad) -> (dx, dw, db)
    maxpool_forward(x, pool, stride, pad) -> out
    maxpool_backward(dout, x, pool, stride) -> dx
    softmax_cross_entropy(logits, labels) -> (loss, dlogits)
    batchnorm_backward(dout, x, gamma, eps) -> (dx, dgamma, dbeta)
    adam_step(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)

Images are NHWC, conv filters ``(KH, KW, C, F)``, ``pad`` an int (that many
pixels on every side), ``pool`` and ``stride`` ints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .batchnorm import batchnorm_backward, batchnorm_forward
from .conv import conv2d_backward, conv2d_forward
from .gradcheck import _rel_errors
from .losses import softmax_cross_entropy
from .optim import Adam
from .pooling import maxpool2d_backward, maxpool2d_forward

__all__ = [
    "ADAM_CASES",
    "BATCHNORM_CASES",
    "CONV_CASES",
    "POOL_BACKWARD_CASES",
    "POOL_FORWARD_CASES",
    "SOFTMAX_CASES",
    "Case",
    "ExerciseFailure",
    "check_adam_step",
    "check_batchnorm_backward",
    "check_conv_backward",
    "check_conv_forward",
    "check_maxpool_backward",
    "check_maxpool_forward",
    "check_softmax_cross_entropy",
]

_TOL = 1e-6


class ExerciseFailure(AssertionError):
    """Raised by a checker; the message explains what went wrong."""


@dataclass(frozen=True)
class Case:
    """One rung of a ladder: what it adds, and its options."""

    adds: str
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        opts = ", ".join(f"{k} {v}" for k, v in self.options.items())
        return f"'{self.adds}' ({opts})" if opts else f"'{self.adds}'"


@dataclass
class Outcome:
    """What one case found: problems (empty when it passed) and hints."""

    problems: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# The shared machinery
# --------------------------------------------------------------------------


def _call(fn: Callable[..., Any], case: Case, *args: Any) -> Any:
    """Call the reader's function with copies, turning exceptions into advice."""
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except Exception as exc:  # the reader's code may fail in any way
        raise ExerciseFailure(
            f"your function raised {type(exc).__name__}: {exc}\n  on case {case.describe()}"
        ) from exc


def _as_result(name: str, value: Any, shape: tuple[int, ...]) -> tuple[np.ndarray | None, str | None]:
    """The value as a float64 array of the expected shape, or a problem."""
    if value is None:
        return None, f"{name} is None; return an array of shape {shape}"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"{name} is a {type(value).__name__}, not an array of numbers"
    if arr.shape != shape:
        return None, f"{name} has shape {arr.shape}, expected {shape}"
    return arr, None


def _compare(name: str, yours: np.ndarray, expected: np.ndarray) -> str | None:
    """``None`` when they agree, else a line saying where they differ most."""
    yours, expected = np.asarray(yours, dtype=float), np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(yours)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(yours))[0])
        return f"{name} contains {yours[bad]} at index {bad} (overflow, or 0/0?)"
    errs = _rel_errors(yours, expected, 1e-3)
    if errs.size == 0 or errs.max() <= _TOL:
        return None
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errs)), errs.shape))
    where = f" at index {worst}" if worst else ""
    return (
        f"{name} is wrong: relative error {errs.max():.2e}{where} "
        f"(yours {yours[worst]:.6g}, expected {expected[worst]:.6g}); "
        f"{100 * float((errs > _TOL).mean()):.0f}% of entries are off"
    )


def _scale_hint(name: str, yours: np.ndarray, expected: np.ndarray) -> str | None:
    """Say so when ``yours`` is ``expected`` times a constant other than 1."""
    yours, expected = np.asarray(yours, dtype=float), np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(yours)):
        return None
    mask = np.abs(expected) > 1e-3 * np.abs(expected).max()
    if not mask.any():
        return None
    ratio = yours[mask] / expected[mask]
    if np.allclose(ratio, ratio.flat[0], rtol=1e-6) and not np.isclose(ratio.flat[0], 1.0):
        return f"{name} is the right answer times {ratio.flat[0]:.6g}: a missing or extra factor"
    return None


def _check_outputs(
    outcome: Outcome, names: Sequence[str], result: Any, expected: Sequence[np.ndarray]
) -> list[np.ndarray | None]:
    """Shape-check and compare each returned array; record problems."""
    if len(names) > 1:
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            outcome.problems.append(f"return the tuple ({', '.join(names)})")
            return [None] * len(names)
    else:
        result = (result,)
    arrays: list[np.ndarray | None] = []
    for name, value, ref in zip(names, result, expected):
        arr, problem = _as_result(name, value, np.shape(ref))
        if problem:
            outcome.problems.append(problem)
        else:
            problem = _compare(name, arr, ref)
            if problem:
                outcome.problems.append(problem)
                scale = _scale_hint(name, arr, ref)
                if scale:
                    outcome.hints.append(scale)
        arrays.append(arr)
    return arrays


def _run_ladder(
    what: str, cases: Sequence[Case], run_case: Callable[[Case, int], Outcome], verbose: bool
) -> int:
    passed: list[Case] = []
    for i, case in enumerate(cases):
        outcome = run_case(case, i)
        if not outcome.problems:
            passed.append(case)
            continue
        lines = [f"{what} check FAILED on case {i + 1} of {len(cases)}, {case.describe()}"]
        lines += [f"  - {p}" for p in outcome.problems]
        lines += [f"  hint: {h}" for h in dict.fromkeys(outcome.hints)]
        if passed:
            lines.append(
                f"  ({len(passed)} simpler case(s) passed, up to '{passed[-1].adds}', so look "
                f"first at what this case adds: {case.adds})"
            )
        raise ExerciseFailure("\n".join(lines))
    if verbose:
        print(f"{what}: all {len(cases)} cases passed")
    return len(cases)


def _normal(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------


def _conv_case(adds: str, x: tuple, w: tuple, stride: int = 1, pad: int = 0) -> Case:
    return Case(adds, {"x": x, "w": w, "stride": stride, "pad": pad})


CONV_CASES: tuple[Case, ...] = (
    _conv_case("one image, one channel, one filter", (1, 5, 5, 1), (3, 3, 1, 1)),
    _conv_case("non-square input and kernel", (1, 6, 5, 1), (3, 2, 1, 1)),
    _conv_case("several input channels", (1, 5, 5, 3), (3, 3, 3, 1)),
    _conv_case("several filters", (1, 5, 6, 2), (3, 3, 2, 4)),
    _conv_case("a batch of images", (3, 5, 5, 2), (3, 3, 2, 2)),
    _conv_case("a 1x1 kernel", (2, 4, 4, 3), (1, 1, 3, 2)),
    _conv_case("padding 1", (2, 5, 5, 2), (3, 3, 2, 2), pad=1),
    _conv_case("padding 2, even kernel", (1, 5, 6, 2), (2, 2, 2, 3), pad=2),
    _conv_case("stride 2 that tiles the input", (2, 7, 7, 2), (3, 3, 2, 2), stride=2),
    _conv_case("stride 2 that does not tile the input", (2, 8, 8, 2), (3, 3, 2, 2), stride=2),
    _conv_case("stride 3 with padding 1", (2, 8, 7, 2), (3, 3, 2, 3), stride=3, pad=1),
)


def _conv_data(case: Case, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    o = case.options
    return _normal(seed, *o["x"]), _normal(seed + 1, *o["w"]), _normal(seed + 2, o["w"][3])


def _conv_feature_hint(o: dict[str, Any]) -> str:
    if o["stride"] > 1:
        return f"output pixel (i, j) reads the window starting at input (i*{o['stride']}, j*{o['stride']})"
    if o["pad"]:
        return "pad the input with zeros first, then slide the window over the padded input"
    if o["x"][3] > 1:
        return "each output pixel sums over the kernel's rows, columns AND all input channels"
    if o["w"][3] > 1:
        return "filter f (w[..., f]) produces output channel f"
    if o["x"][0] > 1:
        return "every image of the batch is convolved independently"
    return "out[n, i, j, f] = b[f] + sum over p, q, c of x[n, i+p, j+q, c] * w[p, q, c, f]"


def check_conv_forward(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade a convolution forward pass ``fn(x, w, b, stride, pad) -> out``.

    Parameters
    ----------
    fn : callable
        ``x (N, H, W, C)``, ``w (KH, KW, C, F)``, ``b (F,)``, int ``stride``,
        int ``pad`` (zeros on every side) -> ``out (N, OH, OW, F)``, a
        cross-correlation (no kernel flip).
    seed : int
        Seed of the random test data.
    verbose : bool
        Print a line on success.

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        An ``AssertionError`` naming the first failing case, where the output
        is wrong, and a likely cause.
    """

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        x, w, b = _conv_data(case, seed + 10 * i)
        expected, _ = conv2d_forward(x, w, b, stride=o["stride"], padding=o["pad"])
        outcome = Outcome()
        (yours,) = _check_outputs(outcome, ["out"], _call(fn, case, x, w, b, o["stride"], o["pad"]), [expected])
        if outcome.problems and yours is not None:
            flipped, _ = conv2d_forward(x, w[::-1, ::-1], b, stride=o["stride"], padding=o["pad"])
            if _compare("out", yours, flipped) is None:
                outcome.hints.append(
                    "your output is a true convolution (kernel flipped); deep learning's "
                    "'convolution' is a cross-correlation: out[i, j] = sum x[i+p, j+q] w[p, q]"
                )
            elif _compare("out", yours, expected - b) is None:
                outcome.hints.append("the bias is missing: add b[f] to every pixel of output channel f")
        if outcome.problems and not outcome.hints:
            outcome.hints.append(_conv_feature_hint(o))
        return outcome

    return _run_ladder("conv forward", CONV_CASES, run, verbose)


def check_conv_backward(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade a convolution backward pass ``fn(dout, x, w, stride, pad) -> (dx, dw, db)``.

    The forward it differentiates is ``out = conv(x, w, b, stride, pad)``
    (cross-correlation, ``pad`` zeros on every side).

    Parameters
    ----------
    fn : callable
        ``dout (N, OH, OW, F)``, ``x (N, H, W, C)``, ``w (KH, KW, C, F)``,
        int ``stride``, int ``pad`` -> ``dx (N, H, W, C)``,
        ``dw (KH, KW, C, F)``, ``db (F,)``.
    seed : int
        Seed of the random test data.
    verbose : bool
        Print a line on success.

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case and gradient, and the likely mistake:
        kernel not flipped for ``dx``, stride ignored when scattering ``dx``,
        ``dout`` not dilated by the stride for ``dw``, padding not cropped
        from ``dx`` (or cropped with ``a[p:-p]``), ``db`` summed over the
        wrong axes, a missing factor.
    """

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        s, p = o["stride"], o["pad"]
        x, w, b = _conv_data(case, seed + 10 * i)
        out, cache = conv2d_forward(x, w, b, stride=s, padding=p)
        dout = _normal(seed + 10 * i + 3, *out.shape)
        expected = conv2d_backward(dout, cache)
        outcome = Outcome()
        result = _call(fn, case, dout, x, w, s, p)
        ydx, ydw, ydb = _check_outputs(outcome, ["dx", "dw", "db"], result, expected)
        if not outcome.problems:
            return outcome
        if isinstance(result, (tuple, list)) and len(result) == 3:
            _shape_hints(outcome, [np.shape(r) if r is not None else None for r in result], o, cache)
        if ydx is not None and _compare("dx", ydx, expected[0]):
            _, cache_f = conv2d_forward(x, w[::-1, ::-1], b, stride=s, padding=p)
            if _compare("dx", ydx, conv2d_backward(dout, cache_f)[0]) is None:
                outcome.hints.append(
                    "dx is a FULL convolution of dout with the kernel rotated by 180 degrees "
                    "(w[::-1, ::-1]); yours uses the kernel unrotated"
                )
            elif s > 1:
                outcome.hints.append(
                    "dx is right with stride 1 but not here: when you send dout back, output "
                    f"pixel (i, j) came from the input window starting at (i*{s}, j*{s}), not "
                    "(i, j) -- use the stride when scattering (or dilate dout with zeros)"
                )
            elif p:
                outcome.hints.append(
                    "with padding, compute the gradient of the PADDED input, then crop the "
                    "padding away: dx = dx_padded[:, pad:pad+H, pad:pad+W, :]"
                )
        if ydw is not None and _compare("dw", ydw, expected[1]):
            if s > 1:
                outcome.hints.append(
                    "dw is right with stride 1 but not here: dw is a correlation of x with dout "
                    f"DILATED by the stride ({s - 1} zero(s) between dout's pixels): output pixel "
                    f"(i, j) pairs with the window starting at (i*{s}, j*{s})"
                )
            elif p:
                outcome.hints.append("dw must correlate the zero-PADDED input with dout")
        if ydb is not None and _compare("db", ydb, expected[2]):
            outcome.hints.append(
                "db[f] is the sum of dout[:, :, :, f] over the batch, rows and columns "
                "(axes 0, 1, 2): every output pixel of channel f added b[f] once"
            )
        if not outcome.hints:
            outcome.hints.append(_conv_feature_hint(o))
        return outcome

    return _run_ladder("conv backward", CONV_CASES, run, verbose)


def _shape_hints(outcome: Outcome, shapes: list[Any], o: dict[str, Any], cache: Any) -> None:
    dx_shape, dw_shape, db_shape = shapes
    if dx_shape is not None and dx_shape != tuple(o["x"]):
        if dx_shape == cache.x_padded.shape:
            outcome.hints.append("dx still includes the padding: crop it, dx_padded[:, pad:pad+H, pad:pad+W, :]")
        if 0 in dx_shape:
            outcome.hints.append(
                "dx is empty: a[p:-p] with p = 0 is a[0:0], an empty slice (-0 is 0); "
                "crop with explicit ends, a[p:p+H]"
            )
    if db_shape is not None and db_shape != (o["w"][3],):
        outcome.hints.append(
            f"db has one entry per filter, shape ({o['w'][3]},): sum dout over axes (0, 1, 2)"
        )
    if dw_shape is not None and dw_shape != tuple(o["w"]):
        outcome.hints.append("dw always has the kernel's shape (KH, KW, C, F)")


# --------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------


def _pool_case(adds: str, x: tuple, pool: int = 2, stride: int = 2, pad: int = 0, **kw: Any) -> Case:
    return Case(adds, {"x": x, "pool": pool, "stride": stride, "pad": pad, **kw})


POOL_FORWARD_CASES: tuple[Case, ...] = (
    _pool_case("one image, one channel, 2x2 windows", (1, 4, 4, 1)),
    _pool_case("several channels and a batch", (2, 4, 6, 3)),
    _pool_case("3x3 windows, stride 3", (1, 6, 6, 2), pool=3, stride=3),
    _pool_case("overlapping windows (stride 1)", (2, 5, 5, 2), pool=3, stride=1),
    _pool_case("a stride that does not tile the input", (1, 5, 7, 2)),
    _pool_case("padding 1 on negative inputs", (2, 5, 5, 2), pool=3, stride=2, pad=1, negative=True),
)

POOL_BACKWARD_CASES: tuple[Case, ...] = (
    _pool_case("one image, one channel, 2x2 windows", (1, 4, 4, 1)),
    _pool_case("several channels and a batch", (2, 4, 6, 3)),
    _pool_case("a stride that does not tile the input", (1, 5, 7, 2)),
    _pool_case("overlapping windows (stride 1)", (2, 5, 5, 2), pool=3, stride=1),
    _pool_case("ties: several maxima in a window", (2, 4, 4, 2), ties=True),
)


def _pool_input(case: Case, seed: int) -> np.ndarray:
    o = case.options
    if o.get("ties"):
        return np.random.default_rng(seed).integers(0, 2, size=o["x"]).astype(np.float64)
    x = _normal(seed, *o["x"])
    return -np.abs(x) - 0.1 if o.get("negative") else x


def check_maxpool_forward(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade a max-pooling forward pass ``fn(x, pool, stride, pad) -> out``.

    Parameters
    ----------
    fn : callable
        ``x (N, H, W, C)``, int ``pool`` (square windows), int ``stride``,
        int ``pad`` -> ``out (N, OH, OW, C)``; padded pixels must never win
        (pad with ``-inf``).
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case; spots padding with zeros, a stride
        ignored, channels mixed up.
    """

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        x = _pool_input(case, seed + i)
        expected, _ = maxpool2d_forward(x, o["pool"], o["stride"], o["pad"])
        outcome = Outcome()
        (yours,) = _check_outputs(outcome, ["out"], _call(fn, case, x, o["pool"], o["stride"], o["pad"]), [expected])
        if outcome.problems and yours is not None and o["pad"]:
            p = o["pad"]
            zero_padded, _ = maxpool2d_forward(np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))), o["pool"], o["stride"])
            if _compare("out", yours, zero_padded) is None:
                outcome.hints.append(
                    "you padded with zeros: on negative inputs a padded 0 wins the max. "
                    "Pad with -inf so that padding can never be the maximum"
                )
        if outcome.problems and not outcome.hints:
            outcome.hints.append(
                f"output pixel (i, j) is the max of x[i*s:i*s+{o['pool']}, j*s:j*s+{o['pool']}] "
                "(of the padded input), separately for every image and channel"
            )
        return outcome

    return _run_ladder("max pool forward", POOL_FORWARD_CASES, run, verbose)


def check_maxpool_backward(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade a max-pooling backward pass ``fn(dout, x, pool, stride) -> dx``.

    No padding. Where a window holds several equal maxima, any split of its
    gradient among them is accepted as long as the window passes on exactly
    ``dout`` in total (convlib sends it all to the first one); sending the
    full gradient to every tied maximum is not.

    Parameters
    ----------
    fn : callable
        ``dout (N, OH, OW, C)``, ``x (N, H, W, C)``, int ``pool``, int
        ``stride`` -> ``dx (N, H, W, C)``.
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case; spots gradients copied to every tied
        maximum, overlapping windows overwriting instead of adding, rows a
        non-tiling stride never visits.
    """

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        x = _pool_input(case, seed + i)
        out, cache = maxpool2d_forward(x, o["pool"], o["stride"])
        dout = _normal(seed + 100 + i, *out.shape)
        expected = maxpool2d_backward(dout, cache)
        outcome = Outcome()
        result = _call(fn, case, dout, x, o["pool"], o["stride"])
        if o.get("ties"):
            yours, problem = _as_result("dx", result, x.shape)
            if problem:
                outcome.problems.append(problem)
                return outcome
            _check_tied(outcome, yours, x, dout, o)
            return outcome
        (yours,) = _check_outputs(outcome, ["dx"], result, [expected])
        if outcome.problems and yours is not None:
            if o["stride"] < o["pool"]:
                outcome.hints.append(
                    "windows overlap here: an input that is the max of two windows must receive "
                    "the SUM of both gradients (use +=, not =)"
                )
            else:
                outcome.hints.append(
                    "each window sends its dout to the position of its maximum; every other "
                    "input, including rows and columns no window covers, gets 0"
                )
        return outcome

    return _run_ladder("max pool backward", POOL_BACKWARD_CASES, run, verbose)


def _check_tied(outcome: Outcome, dx: np.ndarray, x: np.ndarray, dout: np.ndarray, o: dict[str, Any]) -> None:
    """Non-overlapping windows with ties: gradient only at maxima, summing to dout."""
    k, s = o["pool"], o["stride"]
    _, oh, ow, _ = dout.shape
    for i in range(oh):
        for j in range(ow):
            win_x = x[:, i * s : i * s + k, j * s : j * s + k, :]
            win_dx = dx[:, i * s : i * s + k, j * s : j * s + k, :]
            is_max = win_x == win_x.max(axis=(1, 2), keepdims=True)
            if np.any(np.abs(win_dx[~is_max]) > 1e-12):
                outcome.problems.append(f"window ({i}, {j}) sends gradient to an element that is not its maximum")
                return
            total = win_dx.sum(axis=(1, 2))
            target = dout[:, i, j, :]
            if not np.allclose(total, target, rtol=1e-9, atol=1e-12):
                n_max = is_max.sum(axis=(1, 2))
                outcome.problems.append(
                    f"the gradient that window ({i}, {j}) passes on sums to "
                    f"{total.ravel()[0]:.6g} instead of its dout {target.ravel()[0]:.6g}"
                )
                if np.allclose(total, n_max * target):
                    outcome.hints.append(
                        "you gave the FULL gradient to every tied maximum, so the window passes on "
                        "(number of maxima) x dout. The max is one element's value: give it to one "
                        "of them (convlib: the first in row-major order), or split it among them"
                    )
                return


# --------------------------------------------------------------------------
# Softmax cross-entropy
# --------------------------------------------------------------------------

SOFTMAX_CASES: tuple[Case, ...] = (
    Case("one example, three classes", {"n": 1, "k": 3, "scale": 1.0}),
    Case("a batch of examples", {"n": 5, "k": 4, "scale": 1.0}),
    Case("many classes", {"n": 8, "k": 10, "scale": 3.0}),
    Case("large logits (around 1000)", {"n": 4, "k": 5, "scale": 1000.0}),
    Case("very negative logits (around -1000)", {"n": 4, "k": 5, "scale": -1000.0}),
)


def check_softmax_cross_entropy(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade ``fn(logits, labels) -> (loss, dlogits)``, softmax + cross-entropy.

    The loss is the MEAN over the batch of ``-log softmax(logits)[label]``,
    so ``dlogits = (softmax(logits) - onehot(labels)) / N``.

    Parameters
    ----------
    fn : callable
        ``logits (N, K)`` float, ``labels (N,)`` int -> ``(loss, dlogits)``
        with ``loss`` a scalar and ``dlogits (N, K)``.
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case; spots overflow (the max not subtracted
        before ``exp``), a sum instead of a mean, a missing one-hot term.
    """

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        rng = np.random.default_rng(seed + i)
        logits = rng.standard_normal((o["n"], o["k"]))
        if abs(o["scale"]) > 100:
            logits = o["scale"] + 5 * logits
        else:
            logits *= o["scale"]
        labels = rng.integers(0, o["k"], size=o["n"])
        loss, dlogits = softmax_cross_entropy(logits, labels)
        outcome = Outcome()
        result = _call(fn, case, logits, labels)
        ylo, ydl = _check_outputs(outcome, ["loss", "dlogits"], result, [np.asarray(loss), dlogits])
        if not outcome.problems:
            return outcome
        finite = all(v is None or np.all(np.isfinite(v)) for v in (ylo, ydl))
        if not finite:
            outcome.hints.append(
                "exp(1000) overflows to inf (and exp(-1000) underflows to 0): subtract each "
                "row's maximum from the logits before exp -- softmax does not change, and "
                "log-sum-exp stays finite"
            )
        if ylo is not None and np.isfinite(ylo) and np.isclose(ylo, loss * o["n"]) and o["n"] > 1:
            outcome.hints.append("the loss is the MEAN over the batch, not the sum")
        if ydl is not None and np.all(np.isfinite(ydl)) and o["n"] > 1 and np.allclose(ydl, dlogits * o["n"]):
            outcome.hints.append("dlogits must be divided by N, because the loss is a mean over N examples")
        return outcome

    return _run_ladder("softmax cross-entropy", SOFTMAX_CASES, run, verbose)


# --------------------------------------------------------------------------
# Batch normalization
# --------------------------------------------------------------------------

BATCHNORM_CASES: tuple[Case, ...] = (
    Case("a small batch of dense features", {"x": (4, 3)}),
    Case("a larger batch", {"x": (16, 5)}),
    Case("conv features (N, H, W, C), statistics per channel", {"x": (2, 3, 3, 4)}),
)


def check_batchnorm_backward(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade a training-mode batch-norm backward ``fn(dout, x, gamma, eps) -> (dx, dgamma, dbeta)``.

    The forward normalizes every feature (the last axis) with the batch mean
    and the biased batch variance, then scales by ``gamma`` and shifts by
    ``beta``; statistics are over every axis but the last.

    Parameters
    ----------
    fn : callable
        ``dout`` and ``x`` of shape ``(N, D)`` or ``(N, H, W, C)``, ``gamma``
        of shape ``(D,)``, float ``eps`` -> ``dx`` (shape of ``x``),
        ``dgamma``, ``dbeta`` (shape of ``gamma``).
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case; spots ``dgamma``/``dbeta`` averaged
        instead of summed, and a ``dx`` that forgets the mean and variance
        depend on ``x``.
    """
    eps = 1e-5

    def run(case: Case, i: int) -> Outcome:
        shape = case.options["x"]
        rng = np.random.default_rng(seed + i)
        x = 2.0 + 3.0 * rng.standard_normal(shape)
        c = shape[-1]
        gamma, beta = rng.uniform(0.5, 1.5, c), rng.standard_normal(c)
        out, cache = batchnorm_forward(x, gamma, beta, np.zeros(c), np.ones(c), training=True, eps=eps)
        dout = rng.standard_normal(out.shape)
        expected = batchnorm_backward(dout, cache)
        outcome = Outcome()
        result = _call(fn, case, dout, x, gamma, eps)
        ydx, ydg, ydb = _check_outputs(outcome, ["dx", "dgamma", "dbeta"], result, expected)
        m = x.size // c
        for name, y, ref in (("dgamma", ydg, expected[1]), ("dbeta", ydb, expected[2])):
            if y is not None and _compare(name, y, ref) and np.allclose(y * m, ref):
                outcome.hints.append(
                    f"{name} is averaged over the batch; it must be SUMMED: every one of the "
                    f"{m} normalized values used the same {name[1:]}"
                )
        if ydx is not None and _compare("dx", ydx, expected[0]):
            axes = tuple(range(x.ndim - 1))
            naive = dout * gamma / np.sqrt(x.var(axis=axes) + eps)
            if _compare("dx", ydx, naive) is None:
                outcome.hints.append(
                    "your dx treats the mean and the variance as constants; they are computed "
                    "from x, so dx has two more terms: -mean(dxhat) and -xhat * mean(dxhat * xhat)"
                )
        return outcome

    return _run_ladder("batch-norm backward", BATCHNORM_CASES, run, verbose)


# --------------------------------------------------------------------------
# Adam
# --------------------------------------------------------------------------

ADAM_CASES: tuple[Case, ...] = (
    Case("the first step", {"steps": 1, "betas": (0.9, 0.999)}),
    Case("five steps", {"steps": 5, "betas": (0.9, 0.999)}),
    Case("other betas", {"steps": 4, "betas": (0.5, 0.9)}),
)


def check_adam_step(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade one Adam update ``fn(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)``.

    ``t`` counts steps from 1; the function returns the updated parameter
    and moment estimates (it may also update them in place).

    Parameters
    ----------
    fn : callable
        Arrays ``param, grad, m, v`` of one shape, int ``t >= 1``, floats
        ``lr, beta1, beta2, eps`` -> ``(param, m, v)``.
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing step; spots a missing bias correction.
    """
    lr, eps = 1e-2, 1e-8

    def run(case: Case, i: int) -> Outcome:
        b1, b2 = case.options["betas"]
        rng = np.random.default_rng(seed + i)
        shape = (3, 4)
        start = rng.standard_normal(shape)
        grads = [rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape) for _ in range(case.options["steps"])]
        ref_p, ref_g = start.copy(), np.zeros(shape)
        opt = Adam([(ref_p, ref_g)], lr=lr, betas=(b1, b2), eps=eps)
        p, m, v = start.copy(), np.zeros(shape), np.zeros(shape)
        outcome = Outcome()
        for t, g in enumerate(grads, start=1):
            ref_g[...] = g
            opt.step()
            result = _call(fn, case, p, g, m, v, t, lr, b1, b2, eps)
            yp, ym, yv = _check_outputs(outcome, ["param", "m", "v"], result, [ref_p, opt.m[0], opt.v[0]])
            if outcome.problems:
                outcome.problems.insert(0, f"at step t = {t}:")
                if yp is not None and t == 1:
                    # Without bias correction the first step is (1-b1)/sqrt(1-b2) times larger.
                    uncorrected = start - lr * ((1 - b1) * g) / (np.sqrt((1 - b2) * g**2) + eps)
                    if _compare("param", yp, uncorrected) is None:
                        outcome.hints.append(
                            "no bias correction: m and v start at 0, so early on they are too small "
                            "by factors 1 - beta1**t and 1 - beta2**t; use m / (1 - beta1**t) and "
                            "v / (1 - beta2**t) in the update"
                        )
                return outcome
            p, m, v = (np.array(a, dtype=np.float64) for a in (yp, ym, yv))
        return outcome

    return _run_ladder("Adam step", ADAM_CASES, run, verbose)
