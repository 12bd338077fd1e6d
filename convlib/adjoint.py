"""The dot-product (adjoint) test: checking a backward pass without finite differences.

For a linear map ``L`` -- a convolution as a function of its input, or of its
filters; pooling's gather and scatter; im2col; padding -- the backward pass
applies the transpose ``L^T``: ``dx = L^T(dout)``. A transpose is defined by
one identity, which holds for every pair of arrays ``x`` and ``y``::

    <L(x), y> = <x, L^T(y)>

where ``<a, b> = sum(a * b)``. With random ``x`` and ``y`` both sides are two
numbers computed in different ways, equal to rounding when the backward is
right; a wrong backward (a flipped kernel, a missed border, a stride
forgotten) makes them differ almost surely. No step size is involved, so
there is no truncation error and no cancellation: the test is exact to
rounding, where centred differences (:func:`convlib.check_gradients`) are
good to about ``1e-8``. It is also blind to kinks: a ReLU or a max pool is
linear on each side of a kink and ``relu(x) = J(x) x`` exactly (the map is
positively homogeneous), so the identity holds there too, at any ``x``.

It checks only linear parts. For an affine map (a bias) the constant is
removed first, ``L(x) = forward(x) - forward(0)``; for a map that is not
linear (sigmoid, softmax, batch norm), the identity fails and the report
says so -- use :func:`convlib.check_gradients` there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import as_bool, as_real, as_rng, check_callable
from .gradcheck import _CheckReport, _CheckResult, _named_inputs

__all__ = ["check_adjoint", "AdjointReport", "AdjointResult"]


@dataclass
class AdjointResult(_CheckResult):
    """The dot-product test of one input.

    Attributes
    ----------
    name : str
        The input ``x`` the map is linear in.
    x_shape, y_shape : tuple of int
        Shapes of ``x`` and of ``y`` (the output ``L(x)``).
    forward_inner : float
        ``<L(x), y>``, with ``L(x) = forward(x) - forward(0)``.
    backward_inner : float
        ``<x, L^T(y)>``, with ``L^T(y)`` the gradient ``backward(y, cache)``
        returned for this input.
    rel_diff : float
        ``|forward_inner - backward_inner| / max(|L(x)| |y|, |x| |L^T(y)|)``
        (Euclidean norms: by Cauchy-Schwarz, the largest either side can be).
    tol : float
        The largest ``rel_diff`` accepted.
    passed : bool
    hint : str
        A guess at the cause of a failure, or ``""``.
    """

    name: str
    x_shape: tuple[int, ...]
    y_shape: tuple[int, ...]
    forward_inner: float
    backward_inner: float
    rel_diff: float
    tol: float
    passed: bool
    hint: str = ""

    def _text(self) -> str:
        return (
            f"  {self.name}: <L({self.name}), y> = {self.forward_inner:.17g}, "
            f"<{self.name}, L^T(y)> = {self.backward_inner:.17g}\n"
            f"      relative difference {self.rel_diff:.2e} (tolerance {self.tol:.1e}); "
            f"{self.name} {self.x_shape}, y {self.y_shape}"
        )


@dataclass
class AdjointReport(_CheckReport):
    """All results of :func:`check_adjoint`.

    Attributes
    ----------
    results : list of AdjointResult
        One per checked input.
    dtype : numpy.dtype
        The precision the tolerance is computed for (float64 unless
        ``forward`` or ``backward`` computes in less).
    """

    results: list[AdjointResult] = field(default_factory=list)
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float64))

    @property
    def rel_diff(self) -> dict[str, float]:
        """``{input name: relative difference of the two inner products}``."""
        return {r.name: r.rel_diff for r in self.results}

    @property
    def max_rel_diff(self) -> float:
        """The largest relative difference over the checked inputs."""
        return max((r.rel_diff for r in self.results), default=0.0)

    def _results(self) -> list[AdjointResult]:
        return self.results

    def _heading(self) -> tuple[str, str]:
        return "adjoint test", f"<L(x), y> against <x, L^T(y)>, random x and y, {self.dtype}"


def _norm_product(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a.ravel())) * float(np.linalg.norm(b.ravel()))


def _inner(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a.ravel().astype(np.float64), b.ravel().astype(np.float64)))


def _run_forward(forward: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    result = forward(*args, **kwargs)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(
            f"forward must return (out, cache) as convlib's forward functions do, got "
            f"{type(result).__name__}; for a plain linear function f with adjoint g, pass "
            f"forward=lambda x: (f(x), None) and backward=lambda y, cache: g(y)"
        )
    return result


def _linearity_hint(
    forward: Callable[..., Any],
    args: list[Any],
    i: int,
    name: str,
    x: np.ndarray,
    lx: np.ndarray,
    out0: np.ndarray,
    rng: np.random.Generator,
    kwargs: dict[str, Any],
    tol: float,
) -> str:
    """Say whether ``forward`` is linear in input ``i`` at all (additivity, one more draw)."""
    x2 = rng.standard_normal(x.shape)
    args2, args12 = list(args), list(args)
    args2[i], args12[i] = x2, x + x2
    l2 = np.asarray(_run_forward(forward, args2, kwargs)[0], dtype=np.float64) - out0
    l12 = np.asarray(_run_forward(forward, args12, kwargs)[0], dtype=np.float64) - out0
    scale = max(float(np.abs(lx).max(initial=0.0)), float(np.abs(l2).max(initial=0.0)), 1e-300)
    gap = float(np.abs(l12 - lx - l2).max(initial=0.0)) / scale
    if gap > max(tol, 1e-12):
        return (
            f"forward is not linear in {name}: L({name} + {name}') differs from "
            f"L({name}) + L({name}') by {gap:.2e} of the output's size. The dot-product test "
            f"applies to linear maps only; check a nonlinear layer with check_gradients"
        )
    return (
        f"forward is linear in {name}, so the backward's {name} gradient is not its "
        f"transpose: look for a flipped kernel, a missed border or padding, a stride or "
        f"overlap handled wrongly, or a wrong factor"
    )


def check_adjoint(
    forward: Callable[..., tuple[Any, Any]],
    backward: Callable[[np.ndarray, Any], Any],
    inputs: Mapping[str, Any] | Sequence[Any],
    *,
    wrt: Sequence[str] | None = None,
    rng: int | np.random.Generator = 0,
    tol: float | None = None,
    raise_on_failure: bool = True,
    **kwargs: Any,
) -> AdjointReport:
    """Dot-product test of a backward pass: ``<L(x), y> = <x, L^T(y)>`` for random ``x``, ``y``.

    The pair follows convlib's functional convention, as for
    :func:`convlib.check_gradients`::

        out, cache = forward(*inputs, **kwargs)
        grads = backward(dout, cache)   # one gradient per input, in order

    For each checked input ``x`` (all other inputs held at the values
    given), the linear map is ``L(x) = forward(..., x, ...) - forward(...,
    0, ...)`` (subtracting ``forward`` at zero removes a bias); ``x`` is
    replaced by a standard normal array of its shape, ``y`` is drawn with
    the output's shape, and ``L^T(y)`` is the gradient ``backward(y,
    cache)`` returns for ``x``.

    This serves conv in ``x`` and in ``w`` (``conv2d_forward``), pooling's
    gather and scatter (``maxpool2d_forward``, ``avgpool2d_forward``: max
    pooling is linear for a fixed choice of maxima, and positively
    homogeneous), dense layers, and any plain linear function ``f`` with its
    adjoint ``g`` written as a pair, e.g. im2col and col2im::

        check_adjoint(lambda xp: (im2col(xp, 3, 2), xp.shape),
                      lambda dcols, shape: col2im(dcols, shape, 3, 2), [xp])

    or padding and cropping (``pad_spatial``, ``crop_spatial``), dilation and
    subsampling.

    Parameters
    ----------
    forward : callable
        ``forward(*inputs, **kwargs) -> (out, cache)``.
    backward : callable
        ``backward(dout, cache)`` returning the gradients of the inputs, in the
        order of ``inputs`` (a single array when there is one input); an entry
        may be ``None`` for an input without one.
    inputs : dict of str to array_like, or sequence of array_like
        Positional inputs of ``forward``; a dict's keys name them in the
        report, a sequence's are ``x0, x1, ...``. A checked input's value
        only sets its shape (it is replaced by random numbers); the others are
        held at their values, as float64 copies.
    wrt : sequence of str, optional
        Names of the inputs to check; default: every floating-point input
        whose gradient is not ``None``.
    rng : numpy.random.Generator or int
        Draws ``x`` and ``y`` (an int is a seed).
    tol : float, optional
        Largest accepted relative difference. Default: ``(n + m) * eps_mach``
        with ``n = x.size``, ``m = y.size`` and ``eps_mach`` the machine
        epsilon of the precision ``forward`` and ``backward`` compute in
        (``2.2e-16`` in float64). Each output entry of ``L`` and of ``L^T``
        and each inner product is a sum of at most ``n`` or ``m`` products,
        and a sum of ``k`` products is off by at most about ``k`` units of
        rounding (``eps_mach / 2`` each) relative to the Cauchy-Schwarz scale
        the difference is divided by (the largest of ``|L(x)| |y|``,
        ``|forward(0)| |y|`` and ``|x| |L^T(y)|``: the constant an affine
        map's output holds is rounded with it); typical errors are ``sqrt(k)`` units,
        far below. A wrong backward gives relative differences of ``1e-3``
        and more (a wrong entry ``L^T(y)_j`` off by ``d`` moves the
        difference by ``|x_j| d``).
    raise_on_failure : bool
        Raise ``AssertionError`` with the report when a check fails.
    **kwargs
        Passed to ``forward`` (stride, padding, ...).

    Returns
    -------
    AdjointReport
        Per input: both inner products, their relative difference
        (``report.rel_diff[name]``; the largest is ``report.max_rel_diff``),
        the tolerance, the shapes of ``x`` and ``y``.

    Raises
    ------
    AssertionError
        If a relative difference exceeds the tolerance (and
        ``raise_on_failure``), or ``backward`` returns the wrong number of
        gradients or one of the wrong shape. The message is the report, with
        a hint saying whether ``forward`` is linear in that input at all.
    TypeError
        If ``forward`` or ``backward`` is not callable, ``forward`` does not
        return ``(out, cache)``, ``inputs`` is neither a dict nor a list,
        ``wrt`` is not a list of names, ``rng`` is not a generator or seed,
        or ``raise_on_failure`` not a bool.
    ValueError
        If ``inputs`` is empty, ``wrt`` names an unknown input, ``tol`` is
        negative, ``forward`` modifies an input in place, or no input can be
        checked.

    Examples
    --------
    >>> import numpy as np
    >>> from convlib import conv2d_forward, conv2d_backward
    >>> report = check_adjoint(
    ...     conv2d_forward, conv2d_backward,
    ...     {"x": np.zeros((2, 5, 5, 3)), "w": np.ones((3, 3, 3, 4)), "b": np.ones(4)},
    ...     wrt=["x", "w"], stride=2, padding="same")
    >>> report.passed, report.max_rel_diff < 1e-13
    (True, True)
    """
    check_callable("forward", forward)
    check_callable("backward", backward)
    gen = as_rng("rng", rng)
    user_tol = None if tol is None else as_real("tol", tol, low=0.0)
    raise_on_failure = as_bool("raise_on_failure", raise_on_failure)
    names, arrays = _named_inputs(inputs, wrt)

    report = AdjointReport()
    for i, (name, given) in enumerate(zip(names, arrays)):
        if given is None or given.dtype.kind != "f" or (wrt is not None and name not in wrt):
            continue
        x = gen.standard_normal(given.shape)
        args, args0 = list(arrays), list(arrays)
        args[i], args0[i] = x, np.zeros_like(x)
        snapshots = [None if a is None else a.copy() for a in args]
        out, cache = _run_forward(forward, args, kwargs)
        for n, a, snap in zip(names, args, snapshots):
            if a is not None and snap is not None and not np.array_equal(a, snap, equal_nan=True):
                raise ValueError(
                    f"forward modified its input {n} in place: the adjoint test needs a "
                    f"forward pass that leaves its inputs unchanged"
                )
        out = np.asarray(out)
        out0 = np.asarray(_run_forward(forward, args0, kwargs)[0], dtype=np.float64)
        if out0.shape != out.shape:
            raise ValueError(
                f"forward's output has shape {out.shape} at random {name} but {out0.shape} "
                f"at {name} = 0: the output's shape must not depend on the values"
            )
        y = gen.standard_normal(out.shape)
        grads = backward(y.copy(), cache)
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != len(arrays):
            raise AssertionError(
                f"backward returned {len(grads)} gradient(s) for {len(arrays)} input(s) "
                f"{names}: return one per input, in order (None for an input without one)"
            )
        if grads[i] is None:
            if wrt is not None:
                raise AssertionError(f"backward returned None as the gradient of {name}")
            continue
        g = np.asarray(grads[i])
        if g.shape != x.shape:
            raise AssertionError(
                f"the gradient of {name} has shape {g.shape} but {name} has shape "
                f"{x.shape}: L^T(y) must have the shape of {name}"
            )
        kinds = [a.dtype for a in (out, g) if a.dtype.kind == "f"]
        low = min(kinds, key=lambda d: d.itemsize, default=np.dtype(np.float64))
        if low.itemsize < report.dtype.itemsize:
            report.dtype = low
        lx = out.astype(np.float64) - out0
        g = g.astype(np.float64)
        a, b = _inner(lx, y), _inner(x, g)
        # forward(x) is rounded before forward(0) is subtracted, so a large
        # constant (a bias) enters the rounding of L(x): it is part of the scale.
        scale = max(_norm_product(lx, y), _norm_product(out0, y), _norm_product(x, g))
        rel = abs(a - b) / scale if scale > 0 else 0.0
        limit = (x.size + y.size) * float(np.finfo(low).eps) if user_tol is None else user_tol
        passed = rel <= limit
        hint = (
            ""
            if passed
            else _linearity_hint(forward, args, i, name, x, lx, out0, gen, kwargs, limit)
        )
        report.results.append(
            AdjointResult(name, x.shape, out.shape, a, b, rel, limit, passed, hint)
        )
    if not report.results:
        raise ValueError(f"no floating-point input with a gradient to check among {names}")
    if raise_on_failure and not report.passed:
        raise AssertionError(str(report))
    return report
