"""The complex-step derivative: a gradient check exact to rounding, for analytic functions.

Centred differences (:func:`convlib.numerical_gradient`) subtract two nearly
equal values and lose about half the digits. The complex step takes no
difference: ``Im f(x + i h) / h`` is ``f'(x)`` up to ``O(h**2)``, and ``h``
can be as small as ``1e-20`` (Squire and Trapp 1998; Martins, Sturdza and
Alonso 2003). It needs an ``f`` that accepts complex input and is
complex-analytic; convlib's functions that are accept complex input inside
:func:`complex_step_gradient` only (the opt-in path of ``convlib._checks``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import as_numeric_array, as_real, check_callable, complex_step_inputs

__all__ = ["complex_step_gradient"]


# Moved to numpy.exceptions in NumPy 1.25 (and removed from the top level in 2.0).
_ComplexWarning: type[Warning] = getattr(np, "exceptions", np).ComplexWarning


def _complex_evaluate(
    f: Callable[[np.ndarray], Any], xc: np.ndarray, expected: np.ndarray
) -> np.ndarray:
    """``f(xc)`` as a complex array; refuse an ``f`` that drops the imaginary part."""
    try:
        value = np.array(f(xc), copy=True)  # f may return a view of xc (a reshape)
    except _ComplexWarning as exc:
        raise TypeError(
            f"f dropped the imaginary part of its complex input ({exc}): a cast to a real "
            f"dtype (astype(float), float(...)) inside f loses the step ih, so the "
            f"complex-step derivative would be zero; keep f's arithmetic in x's dtype"
        ) from exc
    if value.dtype.kind != "c":
        raise TypeError(
            f"f returned dtype {value.dtype} for complex input: it dropped the imaginary "
            f"part (x.real, np.abs, np.real, a cast), so the complex-step derivative would "
            f"be zero; f must be complex-analytic, or use numerical_gradient"
        )
    if not np.array_equal(xc, expected):
        raise ValueError(
            "f modified its argument in place: complex_step_gradient needs f to leave it "
            "unchanged; copy inside f (v = v.copy()) before changing it"
        )
    return value


def complex_step_gradient(
    f: Callable[[np.ndarray], Any], x: np.ndarray, dout: Any = None, h: float = 1e-20
) -> np.ndarray:
    """Complex-step gradient of ``sum(dout * f(x))`` with respect to ``x``, exact to rounding.

    For a real function ``f`` that is complex-analytic, the Taylor series
    ``f(x + i h e_k) = f(x) + i h df/dx_k - h**2/2 d2f/dx_k2 + ...`` gives::

        df/dx_k = Im(f(x + i h e_k)) / h + O(h**2)

    (Squire and Trapp 1998; Martins, Sturdza and Alonso 2003). No
    difference of two nearly equal numbers is taken, so nothing cancels: with
    ``h = 1e-20`` the truncation error ``O(h**2)`` is far below rounding and
    the result is as accurate as ``f`` itself, where centred differences
    (:func:`convlib.numerical_gradient`) stop near ``1e-10``.

    ``f`` must be complex-analytic: made of sums, products, ``exp``, ``log``,
    ``tanh``, ... NumPy's ``maximum``, ``>`` and ``argmax`` order complex
    numbers by real part, so ReLU and max pooling pass too (with the one-sided
    slope at a kink). ``np.abs``, ``.real`` and casts to a real dtype do not.
    convlib's functions that can, accept complex ``x`` here (and only here):
    ``relu_forward``, ``leaky_relu_forward``, ``tanh_forward``, the conv and
    pooling forwards of every tier, ``dense_forward``, ``flatten_forward``,
    ``log_softmax``, ``softmax``, ``im2col``, ``window_view``,
    ``pad_spatial``, and ``batchnorm_forward`` and ``dropout_forward`` in
    evaluation mode (``training=False``); so do the layer classes built on
    them and a ``Sequential`` in ``eval()`` mode. The others refuse complex
    input with a ``TypeError`` saying so: ``sigmoid_forward`` (it uses
    ``np.abs``), batch norm and dropout in training mode (a variance of
    complex numbers, a fresh random mask), the losses (they return Python
    floats; differentiate ``log_softmax`` instead).

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array (any shape) or a scalar, real for real ``x``
        and complex for complex ``x``. It must not modify ``x``.
    x : ndarray, any shape, floating point
        Point at which to differentiate; not modified. The complex copy has
        ``x``'s precision (complex128 for float64, complex64 for float32).
    dout : array_like, shape of ``f(x)``, optional
        Upstream gradient; ``None`` means ones.
    h : float
        Imaginary step, > 0. Any tiny value works (``1e-20``, ``1e-100``):
        ``h`` never meets a number of order 1 in a subtraction.

    Returns
    -------
    ndarray, shape and dtype of ``x``
        The estimate of ``d sum(dout * f(x)) / dx``.

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``x`` is not a real floating-point ndarray,
        ``f`` calls a function that refuses complex input, or ``f`` drops the
        imaginary part: it returns a real dtype, or casts complex to real (a
        NumPy ``ComplexWarning``, turned into this error).
    ValueError
        If ``h`` is not positive, ``dout`` does not have the shape of
        ``f(x)``, ``f`` modifies its argument, or ``f(x)`` is not real at the
        real ``x`` (then ``Im f`` is not the derivative).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.5, 2.0])
    >>> g = complex_step_gradient(np.exp, x)
    >>> float(np.max(np.abs(g - np.exp(x)) / np.exp(x))) < 1e-15  # exact to rounding
    True
    """
    check_callable("f", f)
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        got = f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"x must be a real floating-point NumPy array (the imaginary step is added "
            f"here), got {got}"
        )
    h = as_real("h", h, low=0.0, low_open=True)
    d = None if dout is None else as_numeric_array("dout", dout).astype(np.float64)
    xc = x.astype(np.result_type(x.dtype, np.complex64))
    expected = xc.copy()
    grad = np.zeros_like(x)
    with complex_step_inputs(), warnings.catch_warnings():
        warnings.simplefilter("error", _ComplexWarning)
        base = _complex_evaluate(f, xc, expected)
        if np.any(base.imag != 0):
            raise ValueError(
                "f(x) has a nonzero imaginary part at the real x, before any step: f is not "
                "real for real input (a complex constant, a log or sqrt of a negative "
                "number?), so Im f(x + ih) / h is not its derivative"
            )
        if d is not None and d.shape != base.shape:
            raise ValueError(f"dout has shape {d.shape} but f(x) has shape {base.shape}")
        for idx in np.ndindex(x.shape):
            xc[idx] = expected[idx] = x[idx] + 1j * h
            im = _complex_evaluate(f, xc, expected).imag
            xc[idx] = expected[idx] = x[idx]
            if im.shape != base.shape:
                raise ValueError(
                    f"f(x) changed shape from {base.shape} to {im.shape} when x[{idx}] moved"
                )
            grad[idx] = (np.sum(im) if d is None else np.sum(im * d)) / h
    return grad
