"""The base class of every layer, and the weight initialisation it shares.

:class:`Layer` turns a pair of functions ``out, cache = f_forward(x, ...)`` /
``dx, ... = f_backward(dout, cache)`` into an object that holds parameters,
gradients and the cache of its last forward (see :mod:`convlib.layers`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._checks import as_bool, as_numeric_array, as_numeric_or_complex_array, as_rng, as_shape

__all__ = ["Layer", "as_generator", "init_weights", "INITS"]

INITS = ("he", "glorot")


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a generator, a seed or ``None``.

    ``None`` gives ``default_rng(0)``: convlib never draws unseeded numbers.
    A generator is returned as is (not copied), so layers that share one
    draw different numbers.
    """
    if rng is None:
        return np.random.default_rng(0)
    return as_rng("rng", rng)  # the one rule for generator arguments


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy floating-point dtype, got {dtype!r}") from None
    if dt.kind != "f":
        raise TypeError(f"dtype must be floating point (float32 or float64), got {dt}")
    return dt


def init_weights(
    shape: tuple[int, ...],
    fan_in: int,
    fan_out: int,
    init: str,
    rng: np.random.Generator,
    dtype: np.dtype,
) -> np.ndarray:
    """Draw a weight array.

    ``"he"`` (He et al., 2015; for layers followed by a ReLU): normal with
    standard deviation ``sqrt(2 / fan_in)``, which keeps the variance of the
    activations roughly constant from layer to layer.
    ``"glorot"`` (Glorot & Bengio, 2010; for tanh, sigmoid or a final
    linear layer): uniform on ``[-a, a]`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    Parameters
    ----------
    shape : tuple of int
    fan_in, fan_out : int
        Inputs feeding one output unit, outputs fed by one input unit
        (for a convolution: ``KH * KW * C`` and ``KH * KW * F``).
    init : {"he", "glorot"}
    rng : numpy.random.Generator
    dtype : numpy.dtype

    Returns
    -------
    ndarray, shape ``shape``
    """
    if init == "he":
        w = rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
    elif init == "glorot":
        a = math.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-a, a, size=shape)
    else:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return w.astype(dtype)


def _shape(name: str, input_shape: Any, ndim: int, layout: str) -> tuple[int, ...]:
    """Validate an ``input_shape`` argument of ``output_shape``: ``ndim`` sizes."""
    shape = as_shape(name, input_shape)
    if len(shape) != ndim:
        raise ValueError(
            f"{name} must be {layout} (per example, without the batch axis), got {shape}"
        )
    return shape


class Layer:
    """Base class of every layer.

    Subclasses implement ``_forward(x) -> (out, cache)``,
    ``_backward(dout, cache) -> dx`` (calling :meth:`_store_grad` for each
    parameter) and ``output_shape``.

    Parameters
    ----------
    dtype : numpy dtype
        Floating-point dtype of parameters and computations.
    name : str, optional
        Used in error messages; default: the class name.

    Attributes
    ----------
    params : dict of str to ndarray
        Trainable parameters.
    grads : dict of str to ndarray
        Gradients of the loss with respect to ``params``, same keys and shapes;
        filled by :meth:`backward`.
    buffers : dict of str to ndarray
        State that is saved with the model but not trained (BatchNorm's running
        statistics).
    training : bool
        Training mode (True) or evaluation mode (False).
    """

    def __init__(self, dtype: Any = np.float32, name: str | None = None) -> None:
        self.dtype = _float_dtype(dtype)
        self.name = type(self).__name__ if name is None else str(name)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._cache: Any = None

    # -- parameters -----------------------------------------------------
    def _add_param(self, key: str, value: np.ndarray) -> None:
        self.params[key] = value
        self.grads[key] = np.zeros_like(value)

    def _store_grad(self, key: str, grad: np.ndarray | None) -> None:
        # In place: optimizers hold references to self.grads[key].
        assert grad is not None, f"backward returned no gradient for the parameter {key}"
        np.copyto(self.grads[key], grad.reshape(self.grads[key].shape), casting="same_kind")

    def _invalidate_grads(self) -> None:
        """Fill every gradient with NaN: "no valid gradient" until a backward completes.

        Called when a backward pass starts, so that a backward that fails
        leaves NaN behind rather than the previous step's gradients; an
        optimizer refuses to step on them
        (:class:`~convlib.errors.NonFiniteGradientError`).
        """
        for grad in self.grads.values():
            grad.fill(np.nan)

    def num_params(self) -> int:
        """Number of trainable scalars."""
        return int(sum(p.size for p in self.params.values()))

    # -- mode -------------------------------------------------------------
    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode (``mode=False``: evaluation mode). Returns self.

        ``mode`` must be a bool (or NumPy bool): ``train("no")`` is a
        ``TypeError``, not training mode by the string's truth value.
        """
        self.training = as_bool("mode", mode)
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode. Returns self."""
        return self.train(False)

    # -- passes -----------------------------------------------------------
    def _check_input(self, x: np.ndarray) -> None:
        """Raise ``ValueError`` if ``x`` does not fit the layer (subclasses)."""

    def forward(self, x: Any) -> np.ndarray:
        """Run the layer on a batch and keep what ``backward`` needs.

        Parameters
        ----------
        x : array_like, shape (N, ...)
            Cast to the layer's dtype.

        Returns
        -------
        ndarray, shape (N, ...) -- see :meth:`output_shape`
        """
        self._cache = None  # a failed forward must not leave a stale cache behind
        # Complex input only inside complex_step_gradient, kept complex in the
        # layer's precision; the layer's function then accepts or refuses it.
        x = as_numeric_or_complex_array("x", x)
        dtype = self.dtype if x.dtype.kind != "c" else np.result_type(self.dtype, np.complex64)
        if x.dtype != dtype:
            x = x.astype(dtype)
        self._check_input(x)
        out, self._cache = self._forward(x)
        return out

    def backward(self, dout: Any) -> np.ndarray:
        """Back-propagate ``dout``, store parameter gradients, return ``dx``.

        The cache of the last forward pass is consumed: a second ``backward``
        needs a new ``forward`` first. The gradients are filled with NaN when
        the pass starts, so a backward that fails leaves no stale gradient
        for an optimizer to apply.

        Parameters
        ----------
        dout : array_like, shape of the last forward output
            Gradient of the loss with respect to that output.

        Returns
        -------
        dx : ndarray, shape of the last forward input
        """
        dout, cache = self._take_cache(dout, "backward")
        return self._backward(dout, cache)

    def backward_params(self, dout: Any) -> None:
        """:meth:`backward` without ``dx``: store the parameter gradients only.

        For a layer whose input gradient nobody uses -- the first layer of a
        network, whose input is the data (:meth:`convlib.Sequential.backward_params`,
        which :func:`convlib.fit` calls). :class:`Conv2D` then skips the
        input gradient's products (about 10 % of a training step of the
        capstone network, see :func:`convlib.fast.conv.conv2d_param_grads_fast`);
        other layers run :meth:`backward` and drop its result.

        Parameters
        ----------
        dout : array_like, shape of the last forward output
        """
        self.backward(dout)  # the default: the whole backward pass, dx dropped

    def _take_cache(self, dout: Any, method: str) -> tuple[np.ndarray, Any]:
        """Invalidate the gradients, check ``dout`` and hand over the cache (consumed)."""
        self._invalidate_grads()
        if self._cache is None:
            raise RuntimeError(
                f"{self.name}.{method}() called before forward(): run forward on a batch "
                "first (each forward allows one backward)"
            )
        dout = as_numeric_array("dout", dout)
        if dout.dtype != self.dtype:
            dout = dout.astype(self.dtype)
        cache, self._cache = self._cache, None
        return dout, cache

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:  # pragma: no cover
        raise NotImplementedError

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one example's output for one example's input shape.

        Shapes exclude the batch axis. Raises ``ValueError`` if the input
        does not fit the layer, ``TypeError`` if ``input_shape`` is not a
        tuple of ints. Shape-preserving layers return the input shape
        unchanged.
        """
        return as_shape("input_shape", input_shape)

    def _extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self._extra_repr()
        dt = "" if self.dtype == np.float32 else f", dtype={self.dtype}"
        if not extra:
            return f"{type(self).__name__}({dt.lstrip(', ')})"
        return f"{type(self).__name__}({extra}{dt})"
