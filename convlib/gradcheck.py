"""Numerical gradient checking.

Every backward pass in convlib -- and every backward pass a reader writes in
the exercises -- is checked the same way: perturb one input element by
``+h`` and ``-h``, run the forward pass twice, and compare the centered
difference with the analytic gradient.

For a function ``y = f(x)`` and an upstream gradient ``dout`` (the gradient
of some loss ``L`` with respect to ``y``), the chain rule says
``dL/dx_i = sum_j dout_j * dy_j/dx_i``, which is approximated by::

    sum(dout * (f(x + h e_i) - f(x - h e_i))) / (2 h)

The error of this estimate is ``O(h**2)`` (truncation) plus roughly
``machine_eps * |f| / h`` (rounding); chapter 2 of the book plots both.
The step is called ``h`` everywhere (``eps`` is a deprecated alias), so that
the book's epsilon keeps one meaning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import (
    as_bool,
    as_int,
    as_numeric_array,
    as_real,
    check_callable,
)
from ._deprecation import UNSET, MarkedDefault, renamed_argument

__all__ = [
    "numerical_gradient",
    "rel_error",
    "check_gradients",
    "GradientReport",
    "InputReport",
    "GradientCheckWarning",
]


class GradientCheckWarning(UserWarning):
    """A numerical gradient computed in a precision too low to trust.

    Centred differences divide a difference of two nearly equal values by
    ``2 * h``; in float32 (about 7 significant digits) the rounding of
    ``f`` alone gives relative errors around ``1e-3`` for any useful
    ``h``, so a correct backward can look wrong. Check in float64.
    """


def _warn_low_precision(what: str, dtype: np.dtype, stacklevel: int) -> None:
    warnings.warn(
        f"{what} has dtype {dtype}: centred differences in {dtype} give relative "
        f"errors around 1e-3 even for a correct gradient (rounding swamps the "
        f"estimate); check gradients in float64, e.g. x.astype(np.float64)",
        GradientCheckWarning,
        stacklevel=stacklevel + 1,
    )


#: The default finite-difference step (marked: passing it and ``eps`` is an error too).
_H = MarkedDefault(1e-5)


def _step(call: str, h: Any, eps: Any) -> float:
    """The finite-difference step from ``h`` or its deprecated alias ``eps``, checked."""
    step = renamed_argument(call, "eps", "h", eps, h, stacklevel=4)
    return as_real("h" if eps is UNSET else "eps", step, low=0.0, low_open=True)


def _evaluate(f: Callable[[np.ndarray], Any], x: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``f(x)`` as a float64 copy, refusing an ``f`` that changed ``x``."""
    value = np.array(f(x), dtype=np.float64, copy=True)
    if not np.array_equal(x, expected, equal_nan=True):
        changed = np.argwhere(~((x == expected) | (np.isnan(x) & np.isnan(expected))))
        where = tuple(int(i) for i in changed[0]) if changed.size else ()
        raise ValueError(
            f"f modified its argument in place (x differs at index {where} after the "
            f"call): numerical_gradient perturbs x one element at a time and needs f "
            f"to leave it unchanged; copy inside f (v = v.copy()) before changing it"
        )
    return value


def numerical_gradient(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    dout: Any = None,
    h: float = _H,
    *,
    eps: Any = UNSET,
) -> np.ndarray:
    """Centered-difference gradient of ``sum(dout * f(x))`` with respect to ``x``.

    ``x`` is perturbed in place, one element at a time, and restored
    afterwards -- also when ``f`` raises -- so ``f`` must read ``x`` when
    called (a closure over the same array object is the usual way).

    ``f`` must be a pure function of ``x``: it is evaluated twice at the
    unperturbed ``x`` first, and an ``f`` that gives two different results
    there (random numbers inside it, such as a fresh dropout mask) or that
    changes ``x`` in place is refused with a ``ValueError`` saying so,
    instead of returning a meaningless estimate.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array (any shape) or a scalar. It must not modify
        ``x`` and must return the same value for the same ``x``.
    x : ndarray, any shape, floating point
        Point at which to differentiate. Use float64: in float32 the rounding
        error swamps the estimate for any useful ``h`` (relative errors
        around ``1e-3``), and a :class:`GradientCheckWarning` says so.
    dout : array_like, shape of ``f(x)``, optional
        Upstream gradient. ``None`` means ones (the gradient of ``sum(f(x))``;
        for a scalar ``f``, simply ``df/dx``).
    h : float
        Step size, > 0.
    eps : float, optional
        Deprecated alias of ``h`` (``DeprecationWarning``); removed in 0.3.

    Returns
    -------
    ndarray, shape of ``x``
        The estimate of ``d sum(dout * f(x)) / dx``.

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``x`` is not a floating-point ndarray, or
        both ``h`` and ``eps`` are given.
    ValueError
        If ``h`` is not positive, ``dout`` does not have the shape of
        ``f(x)``, ``f`` modifies ``x`` or ``f`` is not deterministic.

    Warns
    -----
    GradientCheckWarning
        If ``x`` has less precision than float64.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> np.round(numerical_gradient(lambda v: v ** 2, x), 6)  # 2 x
    array([2., 4., 6.])
    """
    check_callable("f", f)
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"x must be a NumPy array (it is perturbed in place), got {type(x).__name__}"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"x must be floating point to be perturbed, got dtype {x.dtype}")
    h = _step("numerical_gradient", h, eps)
    d = None if dout is None else as_numeric_array("dout", dout).astype(np.float64)
    if x.dtype.itemsize < 8:
        _warn_low_precision("x", x.dtype, stacklevel=2)
    grad = np.zeros_like(x)
    original = x.copy()
    expected = x.copy()  # what x must hold whenever f returns
    try:
        first = _evaluate(f, x, expected)
        second = _evaluate(f, x, expected)
        if not np.array_equal(first, second, equal_nan=True):
            gap = (
                float(np.nanmax(np.abs(first - second))) if first.shape == second.shape else np.nan
            )
            raise ValueError(
                f"f is not deterministic: two evaluations at the same x differ "
                f"(shapes {first.shape} and {second.shape}, largest difference {gap:.3g}), "
                f"so centred differences would measure that noise; fix the randomness "
                f"inside f (a seed, a fixed dropout mask) before checking gradients"
            )
        if d is not None and d.shape != first.shape:
            raise ValueError(f"dout has shape {d.shape} but f(x) has shape {first.shape}")
        for idx in np.ndindex(x.shape):
            old = x[idx]
            x[idx] = expected[idx] = old + h
            plus = _evaluate(f, x, expected)
            x[idx] = expected[idx] = old - h
            minus = _evaluate(f, x, expected)
            x[idx] = expected[idx] = old
            diff = plus - minus  # difference first: far less rounding than f+ - f-
            if diff.shape != first.shape:
                raise ValueError(
                    f"f(x) changed shape from {first.shape} to {diff.shape} when x[{idx}] moved"
                )
            grad[idx] = (np.sum(diff) if d is None else np.sum(diff * d)) / (2 * h)
    finally:
        x[...] = original  # also when f raised or modified x
    return grad


def _rel_errors(a: np.ndarray, b: np.ndarray, floor: float) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    mag = np.abs(a) + np.abs(b)
    scale = float(mag.max()) if mag.size else 0.0
    denom = np.maximum(mag, max(floor * scale, np.finfo(np.float64).tiny))
    return np.abs(a - b) / denom


def rel_error(a: Any, b: Any, floor: float = 1e-3) -> float:
    """Largest element-wise relative error between two arrays.

    ``max_i |a_i - b_i| / max(|a_i| + |b_i|, floor * s)`` with
    ``s = max_i (|a_i| + |b_i|)``. The floor keeps entries that are tiny
    compared with the rest of the array (where rounding noise dominates)
    from reporting huge relative errors; it is a thousandth of the array's
    scale by default. Two all-zero arrays have error 0.

    Rules of thumb in float64: below ``1e-7`` the gradient is right; around
    ``1e-4`` or above, look for a bug (or a kink such as ReLU at 0).

    Parameters
    ----------
    a, b : array_like, same shape
    floor : float
        Fraction of the array's scale below which entries are compared in
        absolute terms.

    Returns
    -------
    float
    """
    a = as_numeric_array("a", a)
    b = as_numeric_array("b", b)
    floor = as_real("floor", floor, low=0.0)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(_rel_errors(a, b, floor).max())


class _CheckResult:
    """What the result of one input shares in :class:`InputReport` and ``AdjointResult``.

    A subclass (a dataclass) has the fields ``passed`` and ``hint`` and gives
    :meth:`_text`, the numbers of its check; :meth:`line` adds the verdict
    and the hint.
    """

    passed: bool
    hint: str

    def _text(self) -> str:
        raise NotImplementedError

    def line(self) -> str:
        """The input's line(s) of the printed report: the numbers, ``[ok]`` or ``[WRONG]``, the hint."""
        text = f"{self._text()}  [{'ok' if self.passed else 'WRONG'}]"
        if self.hint:
            text += f"\n      hint: {self.hint}"
        return text


class _CheckReport:
    """What :class:`GradientReport` and ``AdjointReport`` share: ``passed`` and the printed report.

    A subclass (a dataclass) gives :meth:`_results`, its list of per-input
    results, and :meth:`_heading`, e.g. ``("gradient check", "tolerance 1e-07")``.
    """

    def _results(self) -> Sequence[_CheckResult]:
        raise NotImplementedError

    def _heading(self) -> tuple[str, str]:
        raise NotImplementedError

    @property
    def passed(self) -> bool:
        """Whether every input passed (``True`` when there are none)."""
        return all(r.passed for r in self._results())

    def __str__(self) -> str:
        what, how = self._heading()
        lines = [f"{what} {'passed' if self.passed else 'FAILED'} ({how}):"]
        lines += [r.line() for r in self._results()]
        return "\n".join(lines)


@dataclass
class InputReport(_CheckResult):
    """Gradient check result for one input.

    Attributes
    ----------
    name : str
    max_rel_error : float
    worst_index : tuple of int
        Where the relative error is largest.
    analytic, numerical : float
        The two gradients at ``worst_index``.
    fraction_wrong : float
        Share of elements whose relative error exceeds the tolerance.
    passed : bool
    hint : str
        A guess at the kind of bug, or ``""``.
    """

    name: str
    max_rel_error: float
    worst_index: tuple[int, ...]
    analytic: float
    numerical: float
    fraction_wrong: float
    passed: bool
    hint: str = ""

    def _text(self) -> str:
        return (
            f"  {self.name}: max relative error {self.max_rel_error:.2e} at index "
            f"{self.worst_index} (analytic {self.analytic:.6g}, numerical "
            f"{self.numerical:.6g}); {100 * self.fraction_wrong:.1f}% of entries off"
        )


@dataclass
class GradientReport(_CheckReport):
    """All inputs' results of :func:`check_gradients`.

    Attributes
    ----------
    inputs : list of InputReport
    tol : float
    """

    inputs: list[InputReport] = field(default_factory=list)
    tol: float = 1e-7

    @property
    def max_rel_error(self) -> dict[str, float]:
        """``{input name: max relative error}``."""
        return {r.name: r.max_rel_error for r in self.inputs}

    def _results(self) -> list[InputReport]:
        return self.inputs

    def _heading(self) -> tuple[str, str]:
        return "gradient check", f"tolerance {self.tol:.0e}, float64 centered differences"


def _hint(analytic: np.ndarray, numerical: np.ndarray, bad: np.ndarray) -> str:
    """Name a common kind of mistake from how the two gradients differ."""
    scale = np.abs(numerical).max()
    if scale == 0 and np.abs(analytic).max() > 0:
        return "the true gradient is zero here: this input does not affect the output"
    if np.abs(analytic).max() == 0:
        return "the analytic gradient is all zeros: is it computed, and returned in the right position?"
    if np.allclose(analytic, -numerical, rtol=1e-5, atol=1e-8 * scale):
        return "the analytic gradient has the wrong sign"
    mask = np.abs(numerical) > 1e-3 * scale
    if mask.any():
        ratio = analytic[mask] / numerical[mask]
        if np.allclose(ratio, ratio[0], rtol=1e-5) and not np.isclose(ratio[0], 1.0):
            return (
                f"the analytic gradient is the true one times {ratio[0]:.6g}: "
                "a missing or extra factor (batch size, stride, 2 from a square?)"
            )
    if np.allclose(
        np.sort(analytic.ravel()), np.sort(numerical.ravel()), rtol=1e-5, atol=1e-8 * scale
    ):
        return (
            "the right values in the wrong places: a flipped kernel, swapped axes or a transpose?"
        )
    frac = bad.mean()
    if 0 < frac < 0.5:
        return (
            f"only {100 * frac:.1f}% of entries are wrong: look at borders, padding, "
            "stride or overlapping windows -- or at inputs within h of a kink "
            "(ReLU at 0, tied maxima in max pooling)"
        )
    return ""


def _named_inputs(inputs: Any, wrt: Any) -> tuple[list[str], list[Any]]:
    """Names and float64 copies of a checker's ``inputs`` (dict or list), with ``wrt`` checked.

    Shared by :func:`check_gradients` and :func:`convlib.adjoint.check_adjoint`:
    a dict's keys name the inputs, a list's get ``x0, x1, ...``; ``None``
    entries stay ``None``; floating-point arrays are copied to float64, other
    numeric arrays copied as they are.
    """
    if isinstance(inputs, Mapping):
        names = [str(k) for k in inputs]
        values = list(inputs.values())
    elif isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)):
        values = list(inputs)
        names = [f"x{i}" for i in range(len(values))]
    else:
        one = " (for one array x, pass [x])" if isinstance(inputs, np.ndarray) else ""
        raise TypeError(
            f"inputs must be a dict of named arrays or a list of arrays, the positional "
            f"arguments of forward{one}; got {type(inputs).__name__}"
        )
    if not values:
        raise ValueError("inputs is empty: give forward's positional arguments")
    if wrt is not None:
        if isinstance(wrt, str):
            raise TypeError(
                f"wrt must be a list of input names, got the string {wrt!r}: for one input, wrt=[{wrt!r}]"
            )
        if not isinstance(wrt, Collection):
            raise TypeError(
                f"wrt must be a list of input names, got {wrt!r} ({type(wrt).__name__})"
            )
    arrays: list[Any] = []
    for name, v in zip(names, values):
        if v is None:
            arrays.append(None)
            continue
        a = as_numeric_array(name, v)
        arrays.append(a.astype(np.float64) if a.dtype.kind == "f" else a.copy())
    if wrt is not None:
        unknown = [n for n in wrt if n not in names]
        if unknown:
            raise ValueError(f"wrt names {unknown} are not among the inputs {names}")
    return names, arrays


def check_gradients(
    forward: Callable[..., tuple[Any, Any]],
    backward: Callable[[np.ndarray, Any], Any],
    inputs: Mapping[str, Any] | Sequence[Any],
    *,
    wrt: Sequence[str] | None = None,
    dout: Any = None,
    h: float = _H,
    eps: Any = UNSET,
    tol: float = 1e-7,
    seed: int = 0,
    raise_on_failure: bool = True,
    **kwargs: Any,
) -> GradientReport:
    """Check a forward/backward pair against centered differences.

    The pair follows convlib's functional convention::

        out, cache = forward(*inputs, **kwargs)
        grads = backward(dout, cache)   # one gradient per input, in order

    Every array input is copied to float64 first. The same rules as in
    :func:`numerical_gradient` apply: a ``forward`` that modifies an input in
    place or gives two different outputs for the same inputs is refused with
    a ``ValueError``, and an output in less than float64 precision gives a
    :class:`GradientCheckWarning`.

    Parameters
    ----------
    forward : callable
        ``forward(*inputs, **kwargs) -> (out, cache)``.
    backward : callable
        ``backward(dout, cache)`` returning the gradients of the inputs, in the
        order of ``inputs`` (a single array when there is one input). An entry
        may be ``None`` for an input that has no gradient (e.g. labels).
    inputs : dict of str to array_like, or sequence of array_like
        Positional inputs of ``forward``. With a dict, its keys name the
        inputs in the report; a sequence gets ``x0, x1, ...``.
    wrt : sequence of str, optional
        Names of the inputs to check; default: every floating-point input
        whose gradient is not ``None``.
    dout : array_like, shape of ``out``, optional
        Upstream gradient; default: standard normal from ``seed``.
    h : float
        Finite-difference step, > 0.
    eps : float, optional
        Deprecated alias of ``h`` (``DeprecationWarning``): it is the step
        here, not passed on to ``forward``. From convlib 0.3 on, ``eps``
        goes to ``forward`` like any other keyword (batch norm's ``eps``).
    tol : float
        Largest acceptable relative error (see :func:`rel_error`).
    seed : int
        Seed of the generator that draws ``dout``.
    raise_on_failure : bool
        Raise ``AssertionError`` with the report when a check fails.
    **kwargs
        Passed to ``forward`` (stride, padding, ...).

    Returns
    -------
    GradientReport
        Per input: max relative error, where it is worst, both values there.

    Raises
    ------
    AssertionError
        If a gradient is off by more than ``tol`` or has the wrong shape (and
        ``raise_on_failure``). The message is the report.
    TypeError
        If ``forward`` or ``backward`` is not callable, ``inputs`` is neither
        a dict nor a list (a bare array: pass ``[x]``), ``wrt`` is not a list
        of names, ``seed`` not an int, ``raise_on_failure`` not a bool, or
        both ``h`` and ``eps`` are given.
    ValueError
        If ``inputs`` is empty, ``wrt`` names an unknown input, ``h`` or
        ``tol`` is out of range, or ``forward`` modifies an input or is not
        deterministic.

    Warns
    -----
    GradientCheckWarning
        If ``forward`` returns float32 (or float16) although it was given
        float64 inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from convlib import conv2d_forward, conv2d_backward
    >>> rng = np.random.default_rng(0)
    >>> report = check_gradients(
    ...     conv2d_forward, conv2d_backward,
    ...     {"x": rng.normal(size=(2, 5, 5, 3)), "w": rng.normal(size=(3, 3, 3, 4)),
    ...      "b": rng.normal(size=4)},
    ...     stride=2, padding="same")
    >>> report.passed
    True
    """
    check_callable("forward", forward)
    check_callable("backward", backward)
    h = _step("check_gradients", h, eps)
    tol = as_real("tol", tol, low=0.0)
    seed = as_int("seed", seed, 0)
    raise_on_failure = as_bool("raise_on_failure", raise_on_failure)
    names, arrays = _named_inputs(inputs, wrt)

    snapshots = [None if a is None else a.copy() for a in arrays]
    out, cache = forward(*arrays, **kwargs)
    out = np.asarray(out)
    for name, a, snap in zip(names, arrays, snapshots):
        if a is not None and snap is not None and not np.array_equal(a, snap, equal_nan=True):
            raise ValueError(
                f"forward modified its input {name} in place: gradients can only be "
                f"checked for a forward pass that leaves its inputs unchanged"
            )
    again = np.asarray(forward(*arrays, **kwargs)[0])
    if not np.array_equal(out, again, equal_nan=True):
        raise ValueError(
            "forward is not deterministic: two calls with the same inputs gave different "
            "outputs, so centred differences would measure that noise; fix the randomness "
            "inside it (a seed, a fixed dropout mask) before checking gradients"
        )
    if out.dtype.kind == "f" and out.dtype.itemsize < 8:
        _warn_low_precision("forward's output", out.dtype, stacklevel=2)
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out.shape)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != out.shape:
        raise ValueError(f"dout has shape {dout.shape} but forward's output has shape {out.shape}")
    grads = backward(dout.copy(), cache)
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if len(grads) != len(arrays):
        raise AssertionError(
            f"backward returned {len(grads)} gradient(s) for {len(arrays)} input(s) "
            f"{names}: return one per input, in order (None for an input without one)"
        )

    report = GradientReport(tol=tol)
    for i, (name, x, g) in enumerate(zip(names, arrays, grads)):
        checked = wrt is None or name in wrt
        if not checked or x is None or x.dtype.kind != "f":
            continue
        if g is None:
            if wrt is not None:
                raise AssertionError(f"backward returned None as the gradient of {name}")
            continue
        g = np.asarray(g, dtype=np.float64)
        if g.shape != x.shape:
            raise AssertionError(
                f"the gradient of {name} has shape {g.shape} but {name} has shape "
                f"{x.shape}: a gradient always has the shape of what it differentiates"
            )

        def f(xi: np.ndarray, i: int = i) -> np.ndarray:
            args = list(arrays)
            args[i] = xi
            return forward(*args, **kwargs)[0]

        num = numerical_gradient(f, x, dout, h)
        errs = _rel_errors(g, num, 1e-3)
        worst: tuple[int, ...] = (
            tuple(int(k) for k in np.unravel_index(int(np.argmax(errs)), errs.shape))
            if errs.size
            else ()
        )
        max_err = float(errs.max()) if errs.size else 0.0
        bad = errs > tol
        passed = max_err <= tol
        report.inputs.append(
            InputReport(
                name=name,
                max_rel_error=max_err,
                worst_index=worst,
                analytic=float(g[worst]) if errs.size else 0.0,
                numerical=float(num[worst]) if errs.size else 0.0,
                fraction_wrong=float(bad.mean()) if errs.size else 0.0,
                passed=passed,
                hint="" if passed else _hint(g, num, bad),
            )
        )
    if not report.inputs:
        raise ValueError(f"no floating-point input with a gradient to check among {names}")
    if raise_on_failure and not report.passed:
        raise AssertionError(str(report))
    return report
