"""Layer objects: the functional layers of convlib, with their state attached.

Each function pair ``out, cache = f_forward(x, ...)`` /
``dx, ... = f_backward(dout, cache)`` becomes a class that

* holds its parameters in ``layer.params`` (a dict of arrays, e.g.
  ``{"w": ..., "b": ...}``) and the matching gradients in ``layer.grads``
  (same keys, same shapes). ``backward`` *overwrites* the gradient arrays in
  place, so an optimizer can keep references to them;
* keeps the cache of its last ``forward`` for the next ``backward``;
* knows its ``output_shape(input_shape)`` without running (shapes here
  exclude the batch axis: ``(H, W, C)`` for images, ``(D,)`` for vectors);
* has a ``training`` flag (switched by ``train()`` / ``eval()``) that only
  :class:`BatchNorm` and :class:`Dropout` look at;
* computes in one floating-point ``dtype`` (float32 by default): inputs are
  cast to it, parameters are created in it.

Weights are drawn from a seeded generator: pass ``rng`` as a
``numpy.random.Generator`` (share one between the layers of a model) or as
an int seed; ``None`` means seed 0, so a layer is reproducible by default.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._checks import as_int, as_numeric_array, as_pair
from .activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .arithmetic import conv_output_size, resolve_padding
from .batchnorm import batchnorm_backward, batchnorm_forward
from .conv import conv2d_backward, conv2d_forward
from .dense import dense_backward, dense_forward, flatten_backward, flatten_forward
from .dropout import dropout_backward, dropout_forward
from .pooling import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward

__all__ = [
    "Layer",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Dense",
    "Flatten",
    "BatchNorm",
    "Dropout",
    "as_generator",
    "init_weights",
]

INITS = ("he", "glorot")


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a generator, a seed or ``None``.

    ``None`` gives ``default_rng(0)``: convlib never draws unseeded numbers.
    A generator is returned as is (not copied), so layers that share one
    draw different numbers.
    """
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)):
        raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {rng!r}")
    return np.random.default_rng(int(rng))


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
    """Validate an ``input_shape`` argument of ``output_shape``."""
    try:
        shape = tuple(int(s) for s in input_shape)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints, got {input_shape!r}") from None
    if len(shape) != ndim or min(shape, default=1) < 1:
        raise ValueError(
            f"{name} must be {layout} (per example, without the batch axis), got {input_shape!r}"
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
        np.copyto(self.grads[key], grad.reshape(self.grads[key].shape), casting="same_kind")

    def num_params(self) -> int:
        """Number of trainable scalars."""
        return int(sum(p.size for p in self.params.values()))

    # -- mode -------------------------------------------------------------
    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode (``mode=False``: evaluation mode). Returns self."""
        self.training = bool(mode)
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
        x = as_numeric_array("x", x)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        self._check_input(x)
        out, self._cache = self._forward(x)
        return out

    def backward(self, dout: Any) -> np.ndarray:
        """Back-propagate ``dout``, store parameter gradients, return ``dx``.

        The cache of the last forward pass is consumed: a second ``backward``
        needs a new ``forward`` first.

        Parameters
        ----------
        dout : array_like, shape of the last forward output
            Gradient of the loss with respect to that output.

        Returns
        -------
        dx : ndarray, shape of the last forward input
        """
        if self._cache is None:
            raise RuntimeError(
                f"{self.name}.backward() called before forward(): run forward on a batch "
                "first (each forward allows one backward)"
            )
        dout = as_numeric_array("dout", dout)
        if dout.dtype != self.dtype:
            dout = dout.astype(self.dtype)
        cache, self._cache = self._cache, None
        return self._backward(dout, cache)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:  # pragma: no cover
        raise NotImplementedError

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one example's output for one example's input shape.

        Shapes exclude the batch axis. Raises ``ValueError`` if the input
        does not fit the layer. Shape-preserving layers return the input
        shape unchanged.
        """
        return tuple(int(s) for s in input_shape)

    def _extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self._extra_repr()
        dt = "" if self.dtype == np.float32 else f", dtype={self.dtype}"
        if not extra:
            return f"{type(self).__name__}({dt.lstrip(', ')})"
        return f"{type(self).__name__}({extra}{dt})"


# --------------------------------------------------------------------------
# Layers with parameters
# --------------------------------------------------------------------------


class Conv2D(Layer):
    """2-D convolution (cross-correlation), NHWC.

    ``out[n, i, j, f] = b[f] + sum_{p, q, c} xp[n, i*sh + p*dh, j*sw + q*dw, c] * w[p, q, c, f]``
    with ``xp`` the zero-padded input. Wraps :func:`convlib.conv.conv2d_forward`.

    Parameters
    ----------
    in_channels : int
        ``C``, channels of the input.
    out_channels : int
        ``F``, number of filters.
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride : int or (int, int)
    padding : {"valid", "same", "full"}, int or tuple
    dilation : int or (int, int)
    bias : bool
        Whether to learn a bias ``b`` (switch off before a BatchNorm).
    init : {"he", "glorot"}
        Weight initialisation; see :func:`init_weights`. Biases start at 0.
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype
    name : str, optional

    Attributes
    ----------
    params : dict
        ``"w"``: shape (KH, KW, C, F); ``"b"``: shape (F,) (if ``bias``).

    Examples
    --------
    >>> import numpy as np
    >>> conv = Conv2D(1, 4, 3, padding="same", rng=0)
    >>> conv.forward(np.zeros((2, 28, 28, 1))).shape
    (2, 28, 28, 4)
    >>> conv.output_shape((28, 28, 1)), conv.num_params()
    ((28, 28, 4), 40)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = "valid",
        dilation: Any = 1,
        bias: bool = True,
        init: str = "he",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
        name: str | None = None,
    ) -> None:
        super().__init__(dtype, name)
        self.in_channels = as_int("in_channels", in_channels, 1)
        self.out_channels = as_int("out_channels", out_channels, 1)
        self.kernel_size = as_pair("kernel_size", kernel_size, 1)
        self.stride = as_pair("stride", stride, 1)
        self.dilation = as_pair("dilation", dilation, 1)
        # validate the padding argument now rather than at the first forward
        resolve_padding(padding, (64, 64), self.kernel_size, self.stride, self.dilation)
        self.padding = padding
        self.init = init
        kh, kw = self.kernel_size
        c, f = self.in_channels, self.out_channels
        w = init_weights((kh, kw, c, f), kh * kw * c, kh * kw * f, init, as_generator(rng), self.dtype)
        self._add_param("w", w)
        if bias:
            self._add_param("b", np.zeros(f, dtype=self.dtype))

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 4 or x.shape[3] != self.in_channels:
            raise ValueError(
                f"{self.name} expects input of shape (N, H, W, {self.in_channels}) "
                f"(NHWC, {self.in_channels} channels), got shape {x.shape}"
            )

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return conv2d_forward(
            x, self.params["w"], self.params.get("b"), self.stride, self.padding, self.dilation
        )

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dx, dw, db = conv2d_backward(dout, cache)
        self._store_grad("w", dw)
        if "b" in self.params:
            self._store_grad("b", db)
        return dx

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w, c = _shape("input_shape", input_shape, 3, "(H, W, C)")
        if c != self.in_channels:
            raise ValueError(
                f"{self.name} expects {self.in_channels} input channels, got input_shape {input_shape}"
            )
        pads = resolve_padding(self.padding, (h, w), self.kernel_size, self.stride, self.dilation)
        oh = conv_output_size(h, self.kernel_size[0], self.stride[0], pads[0], self.dilation[0])
        ow = conv_output_size(w, self.kernel_size[1], self.stride[1], pads[1], self.dilation[1])
        return (oh, ow, self.out_channels)

    def _extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            s += f", stride={self.stride}"
        if self.padding != "valid":
            s += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if "b" not in self.params:
            s += ", bias=False"
        return s


class Dense(Layer):
    """Fully connected layer: ``out = x @ w + b``.

    Parameters
    ----------
    in_features : int
        ``D``.
    out_features : int
        ``M``.
    bias : bool
    init : {"he", "glorot"}
        Use ``"glorot"`` for a final layer that feeds a softmax.
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype
    name : str, optional

    Attributes
    ----------
    params : dict
        ``"w"``: shape (D, M); ``"b"``: shape (M,) (if ``bias``).

    Examples
    --------
    >>> import numpy as np
    >>> fc = Dense(400, 10, rng=0)
    >>> fc.forward(np.ones((5, 400))).shape, fc.num_params()
    ((5, 10), 4010)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = "he",
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
        name: str | None = None,
    ) -> None:
        super().__init__(dtype, name)
        self.in_features = as_int("in_features", in_features, 1)
        self.out_features = as_int("out_features", out_features, 1)
        self.init = init
        d, m = self.in_features, self.out_features
        self._add_param("w", init_weights((d, m), d, m, init, as_generator(rng), self.dtype))
        if bias:
            self._add_param("b", np.zeros(m, dtype=self.dtype))

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            hint = " (put a Flatten layer before it)" if x.ndim > 2 else ""
            raise ValueError(
                f"{self.name} expects input of shape (N, {self.in_features}), "
                f"got shape {x.shape}{hint}"
            )

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return dense_forward(x, self.params["w"], self.params.get("b"))

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dx, dw, db = dense_backward(dout, cache)
        self._store_grad("w", dw)
        if "b" in self.params:
            self._store_grad("b", db)
        return dx

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        (d,) = _shape("input_shape", input_shape, 1, "(D,)")
        if d != self.in_features:
            raise ValueError(
                f"{self.name} expects {self.in_features} input features, got input_shape {input_shape}"
            )
        return (self.out_features,)

    def _extra_repr(self) -> str:
        s = f"{self.in_features}, {self.out_features}"
        return s if "b" in self.params else s + ", bias=False"


class BatchNorm(Layer):
    """Batch normalisation over every axis but the last (features/channels).

    In training mode each feature is normalised with the batch's mean and
    variance, then scaled by ``gamma`` and shifted by ``beta``; the running
    averages are updated as
    ``running = momentum * running + (1 - momentum) * batch_statistic``
    (the unbiased batch variance for ``running_var``; see
    :func:`convlib.batchnorm.batchnorm_forward`).
    In evaluation mode the running averages are used instead. Works on
    ``(N, D)`` and ``(N, H, W, C)`` inputs.

    Parameters
    ----------
    num_features : int
        ``D`` or ``C``.
    momentum : float
        In ``[0, 1)``.
    eps : float
        Added to the variance.
    dtype : numpy dtype
    name : str, optional

    Attributes
    ----------
    params : dict
        ``"gamma"`` (ones) and ``"beta"`` (zeros), shape (C,).
    buffers : dict
        ``"running_mean"`` (zeros) and ``"running_var"`` (ones), shape (C,).
    """

    def __init__(
        self,
        num_features: int,
        momentum: float = 0.9,
        eps: float = 1e-5,
        dtype: Any = np.float32,
        name: str | None = None,
    ) -> None:
        super().__init__(dtype, name)
        self.num_features = as_int("num_features", num_features, 1)
        if not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if not isinstance(eps, (int, float)) or not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        self.momentum = float(momentum)
        self.eps = float(eps)
        c = self.num_features
        self._add_param("gamma", np.ones(c, dtype=self.dtype))
        self._add_param("beta", np.zeros(c, dtype=self.dtype))
        self.buffers["running_mean"] = np.zeros(c, dtype=self.dtype)
        self.buffers["running_var"] = np.ones(c, dtype=self.dtype)

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim not in (2, 4) or x.shape[-1] != self.num_features:
            raise ValueError(
                f"{self.name} expects input of shape (N, {self.num_features}) or "
                f"(N, H, W, {self.num_features}), got shape {x.shape}"
            )

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return batchnorm_forward(
            x,
            self.params["gamma"],
            self.params["beta"],
            self.buffers["running_mean"],
            self.buffers["running_var"],
            training=self.training,
            momentum=self.momentum,
            eps=self.eps,
        )

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dx, dgamma, dbeta = batchnorm_backward(dout, cache)
        self._store_grad("gamma", dgamma)
        self._store_grad("beta", dbeta)
        return dx

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) not in (1, 3) or shape[-1] != self.num_features:
            raise ValueError(
                f"{self.name} expects input_shape ({self.num_features},) or "
                f"(H, W, {self.num_features}), got {input_shape}"
            )
        return shape

    def _extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum:g}, eps={self.eps:g}"


# --------------------------------------------------------------------------
# Layers without parameters
# --------------------------------------------------------------------------


class _Pool2D(Layer):
    _fwd: Any = None
    _bwd: Any = None

    def __init__(
        self,
        pool_size: Any = 2,
        stride: Any = None,
        padding: Any = 0,
        dtype: Any = np.float32,
        name: str | None = None,
    ) -> None:
        super().__init__(dtype, name)
        self.pool_size = as_pair("pool_size", pool_size, 1)
        self.stride = self.pool_size if stride is None else as_pair("stride", stride, 1)
        resolve_padding(padding, (64, 64), self.pool_size, self.stride)
        self.padding = padding

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 4:
            raise ValueError(f"{self.name} expects input of shape (N, H, W, C), got shape {x.shape}")

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return type(self)._fwd(x, self.pool_size, self.stride, self.padding)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return type(self)._bwd(dout, cache)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w, c = _shape("input_shape", input_shape, 3, "(H, W, C)")
        pads = resolve_padding(self.padding, (h, w), self.pool_size, self.stride)
        oh = conv_output_size(h, self.pool_size[0], self.stride[0], pads[0])
        ow = conv_output_size(w, self.pool_size[1], self.stride[1], pads[1])
        return (oh, ow, c)

    def _extra_repr(self) -> str:
        s = f"pool_size={self.pool_size}"
        if self.stride != self.pool_size:
            s += f", stride={self.stride}"
        if self.padding not in (0, "valid"):
            s += f", padding={self.padding!r}"
        return s


class MaxPool2D(_Pool2D):
    """Max pooling over ``pool_size`` windows (stride defaults to ``pool_size``).

    Wraps :func:`convlib.pooling.maxpool2d_forward`.

    Parameters
    ----------
    pool_size : int or (int, int)
    stride : int or (int, int), optional
    padding : {"valid", "same"}, int or tuple
    dtype : numpy dtype
    name : str, optional
    """

    _fwd = staticmethod(maxpool2d_forward)
    _bwd = staticmethod(maxpool2d_backward)


class AvgPool2D(_Pool2D):
    """Average pooling over ``pool_size`` windows (stride defaults to ``pool_size``).

    Wraps :func:`convlib.pooling.avgpool2d_forward`. Parameters as
    :class:`MaxPool2D`.
    """

    _fwd = staticmethod(avgpool2d_forward)
    _bwd = staticmethod(avgpool2d_backward)


class _Elementwise(Layer):
    """An activation without parameters: ``_fwd(x)`` and ``_bwd(dout, cache)``."""

    _fwd: Any = None
    _bwd: Any = None

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return type(self)._fwd(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return type(self)._bwd(dout, cache)


class ReLU(_Elementwise):
    """``max(x, 0)``, element-wise."""

    _fwd = staticmethod(relu_forward)
    _bwd = staticmethod(relu_backward)


class LeakyReLU(Layer):
    """``x`` where positive, ``alpha * x`` elsewhere.

    Parameters
    ----------
    alpha : float
        Slope for negative inputs.
    dtype : numpy dtype
    name : str, optional
    """

    def __init__(self, alpha: float = 0.01, dtype: Any = np.float32, name: str | None = None) -> None:
        super().__init__(dtype, name)
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not math.isfinite(alpha):
            raise TypeError(f"alpha must be a finite real number, got {alpha!r}")
        self.alpha = float(alpha)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return leaky_relu_forward(x, self.alpha)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return leaky_relu_backward(dout, cache)

    def _extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


class Sigmoid(_Elementwise):
    """``1 / (1 + exp(-x))``, element-wise."""

    _fwd = staticmethod(sigmoid_forward)
    _bwd = staticmethod(sigmoid_backward)


class Tanh(_Elementwise):
    """``tanh(x)``, element-wise."""

    _fwd = staticmethod(tanh_forward)
    _bwd = staticmethod(tanh_backward)


class Flatten(Layer):
    """Reshape ``(N, d1, d2, ...)`` to ``(N, d1 * d2 * ...)`` (row-major, so NHWC order)."""

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim < 2:
            raise ValueError(
                f"{self.name} expects input of shape (N, ...) with at least 2 axes, got {x.shape}"
            )

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return flatten_forward(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return flatten_backward(dout, cache)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if not shape or min(shape) < 1:
            raise ValueError(
                f"{self.name}: input_shape must be a non-empty tuple of positive ints, got {input_shape}"
            )
        return (math.prod(shape),)


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``p``
    and scale the survivors by ``1 / (1 - p)``; in evaluation, the identity.

    Parameters
    ----------
    p : float
        Drop probability, in ``[0, 1)``.
    rng : numpy.random.Generator, int or None
        Draws the masks.
    dtype : numpy dtype
    name : str, optional
    """

    def __init__(
        self,
        p: float = 0.5,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
        name: str | None = None,
    ) -> None:
        super().__init__(dtype, name)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = as_generator(rng)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return dropout_forward(x, self.p, self.rng, training=self.training)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return dropout_backward(dout, cache)

    def _extra_repr(self) -> str:
        return f"p={self.p:g}"
