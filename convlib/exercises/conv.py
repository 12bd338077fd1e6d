"""Checkers for a reader's convolution: forward ``(x, w, b, stride, pad) -> out`` and backward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..conv import conv2d_backward, conv2d_forward
from ._ladder import (
    Case,
    Outcome,
    _call,
    _check_outputs,
    _checked_arguments,
    _compare,
    _normal,
    _run_ladder,
)

__all__ = ["CONV_CASES", "check_conv_forward", "check_conv_backward"]


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
    TypeError
        If ``fn`` is not callable, ``seed`` not an int or ``verbose`` not a
        bool (before any case runs).
    ValueError
        If ``seed`` is negative.
    """
    seed, verbose = _checked_arguments(fn, seed, verbose)

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        x, w, b = _conv_data(case, seed + 10 * i)
        expected, _ = conv2d_forward(x, w, b, stride=o["stride"], padding=o["pad"])
        outcome = Outcome()
        (yours,) = _check_outputs(
            outcome, ["out"], _call(fn, case, x, w, b, o["stride"], o["pad"]), [expected]
        )
        if outcome.problems and yours is not None:
            flipped, _ = conv2d_forward(x, w[::-1, ::-1], b, stride=o["stride"], padding=o["pad"])
            if _compare("out", yours, flipped) is None:
                outcome.hints.append(
                    "your output is a true convolution (kernel flipped); deep learning's "
                    "'convolution' is a cross-correlation: out[i, j] = sum x[i+p, j+q] w[p, q]"
                )
            elif _compare("out", yours, expected - b) is None:
                outcome.hints.append(
                    "the bias is missing: add b[f] to every pixel of output channel f"
                )
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
    TypeError
        If ``fn`` is not callable, ``seed`` not an int or ``verbose`` not a
        bool (before any case runs).
    ValueError
        If ``seed`` is negative.
    """
    seed, verbose = _checked_arguments(fn, seed, verbose)

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        s, p = o["stride"], o["pad"]
        x, w, b = _conv_data(case, seed + 10 * i)
        out, cache = conv2d_forward(x, w, b, stride=s, padding=p)
        dout = _normal(seed + 10 * i + 3, *out.shape)
        dx_ref, dw_ref, db_ref = conv2d_backward(dout, cache)
        assert db_ref is not None  # the cases all have a bias
        expected = (dx_ref, dw_ref, db_ref)
        outcome = Outcome()
        result = _call(fn, case, dout, x, w, s, p)
        ydx, ydw, ydb = _check_outputs(outcome, ["dx", "dw", "db"], result, expected)
        if not outcome.problems:
            return outcome
        if isinstance(result, (tuple, list)) and len(result) == 3:
            _shape_hints(
                outcome, [np.shape(r) if r is not None else None for r in result], o, cache
            )
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
            outcome.hints.append(
                "dx still includes the padding: crop it, dx_padded[:, pad:pad+H, pad:pad+W, :]"
            )
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
