"""Checkers for a reader's convolution: forward ``(x, w, b, stride, pad) -> out`` and backward.

Each case of :data:`CONV_CASES` adds one feature (its ``feature`` key routes
the hints): a non-square output, input channels, filters on one channel
(``C = 1``, ``F > 1``), both, a batch of distinct images, a 1x1 kernel,
padding, strides. On a failure the checker first recomputes the classic wrong
variants (kernel flipped, bias missing, one channel or one image only, the
stride ignored, ``=`` instead of ``+=`` over pixels, images or filters, the
padding cropped from one side) and names the one that matches; otherwise it
gives the hint of what the case adds, for the output that is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..conv import conv2d_backward, conv2d_forward
from ._calling import DEFAULT_TIME_LIMIT, _call
from ._ladder import (
    Case,
    Outcome,
    _check_outputs,
    _checked_arguments,
    _match_variants,
    _normal,
    _routed_hints,
    _run_ladder,
    _safe_shape,
    _scale_hints,
)

__all__ = ["CONV_CASES", "check_conv_forward", "check_conv_backward"]


def _conv_case(adds: str, feature: str, x: tuple, w: tuple, stride: int = 1, pad: int = 0) -> Case:
    return Case(adds, {"x": x, "w": w, "stride": stride, "pad": pad}, feature)


CONV_CASES: tuple[Case, ...] = (
    _conv_case("one image, one channel, one filter", "", (1, 5, 5, 1), (3, 3, 1, 1)),
    _conv_case("non-square input, kernel and output", "nonsquare", (1, 7, 5, 1), (3, 2, 1, 1)),
    _conv_case("several input channels", "channels", (1, 5, 5, 3), (3, 3, 3, 1)),
    _conv_case("several filters on one channel", "filters", (1, 5, 6, 1), (3, 3, 1, 4)),
    _conv_case("several channels and filters", "channels_filters", (1, 5, 6, 2), (3, 3, 2, 3)),
    _conv_case("a batch of distinct images", "batch", (3, 5, 5, 2), (3, 3, 2, 2)),
    _conv_case("a 1x1 kernel", "1x1", (2, 4, 4, 3), (1, 1, 3, 2)),
    _conv_case("padding 1", "pad", (2, 5, 5, 2), (3, 3, 2, 2), pad=1),
    _conv_case("padding 2, even kernel", "pad", (1, 5, 6, 2), (2, 2, 2, 3), pad=2),
    _conv_case("stride 2 that tiles the input", "stride", (2, 7, 7, 2), (3, 3, 2, 2), stride=2),
    _conv_case(
        "stride 2 that does not tile the input", "stride", (2, 8, 8, 2), (3, 3, 2, 2), stride=2
    ),
    _conv_case(
        "stride 3 with padding 1", "stride_pad", (2, 8, 7, 2), (3, 3, 2, 3), stride=3, pad=1
    ),
)

_NONSQUARE = (
    "rows go with H, KH and OH, columns with W, KW and OW: check that no loop bound, slice or "
    "reshape swaps them (here KH != KW and OH != OW)"
)
_FORWARD_HINTS: dict[str, dict[str, str]] = {
    "": {"out": "out[n, i, j, f] = b[f] + sum over p, q, c of x[n, i+p, j+q, c] * w[p, q, c, f]"},
    "nonsquare": {"out": _NONSQUARE},
    "channels": {
        "out": "each output pixel sums over the kernel's rows, columns AND all input channels c"
    },
    "filters": {"out": "filter f (w[..., f]) and b[f] produce output channel f, out[..., f]"},
    "channels_filters": {
        "out": "w has shape (KH, KW, C, F): axis 2 pairs with the input channels, axis 3 makes "
        "the output channels"
    },
    "batch": {"out": "every image of the batch is convolved on its own: out[n] reads x[n] only"},
    "1x1": {"out": "with a 1x1 kernel, out[n, i, j, :] = x[n, i, j, :] @ w[0, 0] + b"},
    "pad": {"out": "pad the input with zeros first, then slide the window over the padded input"},
    "stride": {"out": "output pixel (i, j) reads the window starting at input (i*s, j*s)"},
    "stride_pad": {
        "out": "pad first, then output pixel (i, j) reads the window starting at (i*s, j*s) "
        "of the padded input"
    },
}
_BACKWARD_HINTS: dict[str, dict[str, str]] = {
    "": {
        "dx": "dx[n, i+p, j+q, c] += dout[n, i, j, f] * w[p, q, c, f] for every output pixel "
        "(i, j), tap (p, q) and filter f: a FULL convolution of dout with the kernel rotated "
        "by 180 degrees",
        "dw": "dw[p, q, c, f] = sum over n, i, j of x[n, i+p, j+q, c] * dout[n, i, j, f]: a "
        "correlation of x with dout, summed over every output pixel",
        "db": "db[f] = sum of dout[n, i, j, f] over n, i, j (axes 0, 1, 2)",
    },
    "nonsquare": {"*": _NONSQUARE},
    "channels": {
        "dx": "dx[..., c] uses the weights of input channel c, w[:, :, c, f]: every channel "
        "gets its own gradient",
        "dw": "dw[:, :, c, f] pairs input channel c of x with dout[..., f]: one slice per channel",
    },
    "filters": {
        "dx": "x feeds every filter, so dx SUMS the contributions of all F filters "
        "(dx += ..., for every f)",
        "dw": "dw[..., f] comes from dout[..., f] alone: one slice per filter",
        "db": "db has one entry per filter: db[f] sums dout[..., f]",
    },
    "channels_filters": {
        "dx": "dx[n, :, :, c] sums over the filters f of dout[n, :, :, f] against w[:, :, c, f]; "
        "axis 2 of w is the input channel, axis 3 the filter",
        "dw": "dw[:, :, c, f] pairs x[..., c] with dout[..., f]: axis 2 of w is the input "
        "channel, axis 3 the filter",
    },
    "batch": {
        "dx": "dx[n] depends on dout[n] and x[n] only: each image gets its own gradient",
        "dw": "the same w was used on every image, so dw SUMS over the images and over every "
        "output pixel (dw += ..., never dw = ...)",
        "db": "db sums dout over the images too (axes 0, 1, 2)",
    },
    "pad": {
        "dx": "with padding, compute the gradient of the PADDED input, then crop the padding "
        "from both sides: dx = dx_padded[:, pad:pad+H, pad:pad+W, :]",
        "dw": "dw must correlate the zero-PADDED input with dout: the forward pass read it",
    },
    "stride": {
        "dx": "when you send dout back, output pixel (i, j) came from the input window "
        "starting at (i*s, j*s), not (i, j) -- use the stride when scattering (or dilate "
        "dout with zeros)",
        "dw": "dw is a correlation of x with dout DILATED by the stride (s - 1 zeros between "
        "dout's pixels): output pixel (i, j) pairs with the window starting at (i*s, j*s)",
    },
}
_BACKWARD_HINTS["stride_pad"] = {
    name: _BACKWARD_HINTS["stride"][name] + "; and " + _BACKWARD_HINTS["pad"][name]
    for name in ("dx", "dw")
}


def _conv_data(case: Case, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    o = case.options
    return _normal(seed, *o["x"]), _normal(seed + 1, *o["w"]), _normal(seed + 2, o["w"][3])


def _out_size(o: dict[str, Any]) -> tuple[int, int]:
    _, h, w, _ = o["x"]
    kh, kw = o["w"][:2]
    s, p = o["stride"], o["pad"]
    return (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1


def _size_hint(o: dict[str, Any]) -> str:
    oh, ow = _out_size(o)
    return (
        f"the output has OH = (H + 2*pad - KH) // stride + 1 = {oh} rows and "
        f"OW = (W + 2*pad - KW) // stride + 1 = {ow} columns, and F = {o['w'][3]} channels"
    )


def _raised_hint(case: Case) -> str | None:
    row = _FORWARD_HINTS.get(case.feature, {})
    return row.get("out")


def _forward_variants(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, s: int, p: int, expected: np.ndarray
) -> list[tuple[str, list[np.ndarray | None]]]:
    def conv(x_: np.ndarray, w_: np.ndarray, b_: np.ndarray, s_: int = s) -> np.ndarray:
        return conv2d_forward(x_, w_, b_, stride=s_, padding=p)[0]

    n, c, f = x.shape[0], x.shape[3], w.shape[3]
    oh, ow = expected.shape[1:3]
    out: list[tuple[str, list[np.ndarray | None]]] = [
        (
            "your output is a true convolution (kernel flipped); deep learning's "
            "'convolution' is a cross-correlation: out[i, j] = sum x[i+p, j+q] w[p, q]",
            [conv(x, w[::-1, ::-1], b)],
        ),
        ("the bias is missing: add b[f] to every pixel of output channel f", [expected - b]),
    ]
    if c > 1:
        out.append(
            (
                "only the last input channel counts: the sum over channels is overwritten "
                "(out = ... inside the loop over c); add every channel's term (+=)",
                [conv(x[..., -1:], w[:, :, -1:], b)],
            )
        )
    if f > 1:
        out.append(("every output channel adds b[0]: add b[f] to channel f", [expected - b + b[0]]))
        out.append(
            (
                "every output channel uses filter 0: output channel f uses w[..., f]",
                [conv(x, np.repeat(w[..., :1], f, axis=3), b)],
            )
        )
    if n > 1:
        out.append(
            (
                "every output image is computed from the first image x[0]: out[n] reads x[n]",
                [conv(np.repeat(x[:1], n, axis=0), w, b)],
            )
        )
    if s > 1:
        out.append(
            (
                "the stride is ignored: output pixel (i, j) reads the window starting at input "
                f"(i*{s}, j*{s}), not (i, j)",
                [conv(x, w, b, 1)[:, :oh, :ow]],
            )
        )
    return out


def check_conv_forward(
    fn: Callable[..., Any],
    *,
    seed: int = 0,
    verbose: bool = True,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Grade a convolution forward pass ``fn(x, w, b, stride, pad) -> out``.

    Parameters
    ----------
    fn : callable
        ``x (N, H, W, C)``, ``w (KH, KW, C, F)``, ``b (F,)``, int ``stride``,
        int ``pad`` (zeros on every side) -> ``out (N, OH, OW, F)`` float64,
        a cross-correlation (no kernel flip). It must not modify its inputs.
    seed : int
        Seed of the random test data.
    verbose : bool
        Print a line on success.
    time_limit : float or None
        Seconds one call of ``fn`` may take (it runs in a worker thread, so
        the limit works in any thread; a call that never returns keeps
        running in the background). ``None``: no limit, ``fn`` runs in the
        calling thread.

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        An ``AssertionError`` naming the first failing case, the entry where
        the output is wrong, and a likely cause.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int, ``verbose`` not a
        bool or ``time_limit`` not a number (before any case runs).
    ValueError
        If ``seed`` is negative or ``time_limit`` not positive.
    """
    seed, verbose, limit = _checked_arguments(fn, seed, verbose, time_limit)

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        s, p = o["stride"], o["pad"]
        x, w, b = _conv_data(case, seed + 10 * i)
        expected, _ = conv2d_forward(x, w, b, stride=s, padding=p)
        outcome = Outcome()
        call = _call(fn, {"x": x, "w": w, "b": b, "stride": s, "pad": p}, time_limit=limit)
        yours = _check_outputs(outcome, ["out"], call, [expected])
        if not outcome.problems:
            return outcome
        shape = _safe_shape(call.result)
        if yours[0] is None and not outcome.explained and shape not in (None, expected.shape):
            outcome.hints.append(_size_hint(o))
        found = _match_variants(
            outcome, yours, [expected], _forward_variants(x, w, b, s, p, expected)
        )
        if not found and not outcome.explained:
            _routed_hints(outcome, ["out"], yours, [expected], _FORWARD_HINTS, case.feature)
        return outcome

    return _run_ladder("conv forward", CONV_CASES, run, verbose, _raised_hint)


def _backward_variants(
    dout: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    s: int,
    p: int,
    expected: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> list[tuple[str, list[np.ndarray | None]]]:
    def grads(
        dout_: np.ndarray, x_: np.ndarray = x, w_: np.ndarray = w, s_: int = s, p_: int = p
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        _, cache = conv2d_forward(x_, w_, b, stride=s_, padding=p_)
        dx, dw, db = conv2d_backward(dout_, cache)
        assert db is not None
        return dx, dw, db

    n, h, wd, _ = x.shape
    f = w.shape[3]
    out: list[tuple[str, list[np.ndarray | None]]] = [
        (
            "dx is a FULL convolution of dout with the kernel rotated by 180 degrees "
            "(w[::-1, ::-1]); yours uses the kernel unrotated",
            [grads(dout, w_=w[::-1, ::-1])[0], None, None],
        )
    ]
    last_pixel = np.zeros_like(dout)
    last_pixel[:, -1, -1, :] = dout[:, -1, -1, :]
    out.append(
        (
            "dw holds only the last output pixel's term: it must ADD the terms of every output "
            "pixel (dw += ... inside the loop over i, j, not dw = ...)",
            [None, grads(last_pixel)[1], None],
        )
    )
    if f > 1:
        last_filter = np.zeros_like(dout)
        last_filter[..., -1] = dout[..., -1]
        out.append(
            (
                "dx holds only the last filter's term: x feeds every filter, so dx must ADD "
                "the terms of all F filters (dx += ..., not dx = ...)",
                [grads(last_filter)[0], None, None],
            )
        )
    if n > 1:
        for k, which in ((0, "first"), (n - 1, "last")):
            one = np.zeros_like(dout)
            one[k] = dout[k]
            out.append(
                (
                    f"dw (and db) come from the {which} image only: the same w was used on every "
                    "image, so they SUM over the batch (dw += ..., for every image)",
                    [None, grads(one)[1], grads(one)[2]],
                )
            )
            out.append(
                (
                    f"dw comes from the {which} image only: the same w was used on every image, "
                    "so dw SUMS over the batch (dw += ..., for every image)",
                    [None, grads(one)[1], None],
                )
            )
            out.append(
                (
                    f"db comes from the {which} image only: db[f] is the sum of dout[:, :, :, f] "
                    "over the batch, rows and columns (axes 0, 1, 2)",
                    [None, None, grads(one)[2]],
                )
            )
    if s > 1:
        oh1 = (h + 2 * p - w.shape[0]) + 1
        ow1 = (wd + 2 * p - w.shape[1]) + 1
        placed = np.zeros((n, oh1, ow1, f))
        placed[:, : dout.shape[1], : dout.shape[2]] = dout
        g1 = grads(placed, s_=1)
        out.append(
            (
                "dx is right with stride 1 but not here: when you send dout back, output pixel "
                f"(i, j) came from the input window starting at (i*{s}, j*{s}), not (i, j) -- "
                "use the stride when scattering (or dilate dout with zeros)",
                [g1[0], None, None],
            )
        )
        out.append(
            (
                "dw is right with stride 1 but not here: dw is a correlation of x with dout "
                f"DILATED by the stride ({s - 1} zero(s) between dout's pixels): output pixel "
                f"(i, j) pairs with the window starting at (i*{s}, j*{s})",
                [None, g1[1], None],
            )
        )
    if p > 0:
        xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
        dxp = grads(dout, x_=xp, p_=0)[0]
        out.append(
            (
                "dx is cropped from one side only: the padding is on both sides, so crop "
                "dx_padded[:, pad:pad+H, pad:pad+W, :]",
                [dxp[:, :h, :wd], None, None],
            )
        )
    return out


def check_conv_backward(
    fn: Callable[..., Any],
    *,
    seed: int = 0,
    verbose: bool = True,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Grade a convolution backward pass ``fn(dout, x, w, stride, pad) -> (dx, dw, db)``.

    The forward it differentiates is ``out = conv(x, w, b, stride, pad)``
    (cross-correlation, ``pad`` zeros on every side).

    Parameters
    ----------
    fn : callable
        ``dout (N, OH, OW, F)``, ``x (N, H, W, C)``, ``w (KH, KW, C, F)``,
        int ``stride``, int ``pad`` -> ``dx (N, H, W, C)``,
        ``dw (KH, KW, C, F)``, ``db (F,)``, all float64 and new arrays (no
        input modified, no output sharing memory with an input).
    seed : int
        Seed of the random test data.
    verbose : bool
        Print a line on success.
    time_limit : float or None
        Seconds one call of ``fn`` may take; ``None``: no limit (see
        :func:`check_conv_forward`).

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case, gradient and entry, and the likely
        mistake: kernel not rotated for ``dx``, ``=`` instead of ``+=`` over
        output pixels, images or filters, stride ignored when scattering
        ``dx``, ``dout`` not dilated for ``dw``, padding not cropped (or
        cropped with ``a[p:-p]``, or from one side), ``db`` summed over the
        wrong axes, a missing factor.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int, ``verbose`` not a
        bool or ``time_limit`` not a number (before any case runs).
    ValueError
        If ``seed`` is negative or ``time_limit`` not positive.
    """
    seed, verbose, limit = _checked_arguments(fn, seed, verbose, time_limit)

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
        call = _call(fn, {"dout": dout, "x": x, "w": w, "stride": s, "pad": p}, time_limit=limit)
        names = ["dx", "dw", "db"]
        yours = _check_outputs(outcome, names, call, expected)
        if not outcome.problems:
            return outcome
        result = call.result
        found = False
        if isinstance(result, (tuple, list)) and len(result) == 3:
            found = _shape_hints(outcome, [_safe_shape(r) for r in result], o, cache.x_padded.shape)
        found = (
            _match_variants(
                outcome, yours, expected, _backward_variants(dout, x, w, b, s, p, expected)
            )
            or found
        )
        n, oh, ow, _ = out.shape
        factors = {"N": n, "N*OH*OW": n * oh * ow, "OH*OW": oh * ow, "KH*KW": o["w"][0] * o["w"][1]}
        found = found or _scale_hints(outcome, names, yours, expected, factors)
        if not found and not outcome.explained:
            _routed_hints(outcome, names, yours, expected, _BACKWARD_HINTS, case.feature)
        return outcome

    return _run_ladder(
        "conv backward",
        CONV_CASES,
        run,
        verbose,
        lambda case: (
            _BACKWARD_HINTS.get(case.feature, {}).get("dx")
            or _BACKWARD_HINTS.get(case.feature, {}).get("*")
        ),
    )


def _shape_hints(
    outcome: Outcome, shapes: list[Any], o: dict[str, Any], padded: tuple[int, ...]
) -> bool:
    """Hints for wrong shapes of (dx, dw, db); returns whether it gave one."""
    before = len(outcome.hints)
    dx_shape, dw_shape, db_shape = shapes
    if dx_shape is not None and dx_shape != tuple(o["x"]):
        if dx_shape == padded:
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
    return len(outcome.hints) > before
