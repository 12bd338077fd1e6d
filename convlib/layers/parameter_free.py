"""Layers without trainable parameters: pooling, activations, Flatten, Dropout.

Each wraps the functional layer of the same name; hyper-parameters are
checked at construction by the same rules the functions use (see
:mod:`convlib.layers`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._checks import as_pair, as_shape, check_window_padding
from ..activations import (
    _check_alpha,
    leaky_relu_backward,
    leaky_relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from ..arithmetic import conv_output_size, resolve_padding
from ..dense import flatten_backward, flatten_forward
from ..dropout import _check_p, _check_scale, dropout_backward, dropout_forward
from ..fast.elementwise import relu_backward_fast, relu_forward_fast
from ..global_pooling import global_avgpool_backward, global_avgpool_forward
from ..pooling import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward
from .base import Layer, _shape, as_generator

__all__ = [
    "MaxPool2D",
    "AvgPool2D",
    "GlobalAvgPool2D",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Flatten",
    "Dropout",
]


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
        # The pooling functions' rule: each side's padding smaller than the window.
        check_window_padding("padding", padding, self.pool_size)
        self.padding = padding

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 4:
            raise ValueError(
                f"{self.name} expects input of shape (N, H, W, C), got shape {x.shape}"
            )

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
        Each side's padding must be smaller than the window; checked here,
        at construction, by the rule the pooling functions use.
    dtype : numpy dtype
    name : str, optional

    Raises
    ------
    ValueError
        A ``pool_size`` or ``stride`` below 1, padding as large as the window
        (``MaxPool2D(2, padding=5)``) or an unknown padding string.
    TypeError
        Arguments that are not integers.
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


class GlobalAvgPool2D(Layer):
    """Mean of every channel over the whole image: ``(N, H, W, C) -> (N, C)``.

    Wraps :func:`convlib.global_pooling.global_avgpool_forward`. No
    parameters; ends the convolutional part of a residual network
    (:func:`convlib.architectures.build_resnet`), so that the classifier
    after it sees ``C`` numbers whatever the image size.

    Parameters
    ----------
    dtype : numpy dtype
    name : str, optional

    Examples
    --------
    >>> layer = GlobalAvgPool2D()
    >>> layer.output_shape((7, 7, 32))
    (32,)
    >>> layer.forward(np.ones((2, 7, 7, 32))).shape
    (2, 32)
    """

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 4 or x.shape[1] == 0 or x.shape[2] == 0:
            raise ValueError(
                f"{self.name} expects input of shape (N, H, W, C) with H, W >= 1, got shape {x.shape}"
            )

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return global_avgpool_forward(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return global_avgpool_backward(dout, cache)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w, c = _shape("input_shape", input_shape, 3, "(H, W, C)")
        if h == 0 or w == 0:
            raise ValueError(f"{self.name}: input_shape must have H, W >= 1, got {input_shape}")
        return (c,)


class _Elementwise(Layer):
    """An activation without parameters: ``_fwd(x)`` and ``_bwd(dout, cache)``."""

    _fwd: Any = None
    _bwd: Any = None

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return type(self)._fwd(x)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return type(self)._bwd(dout, cache)


class ReLU(_Elementwise):
    """``max(x, 0)``, element-wise.

    Runs :func:`convlib.fast.relu_forward_fast` and
    :func:`convlib.fast.relu_backward_fast`: the results of
    :func:`convlib.relu_forward` and :func:`convlib.relu_backward`, split
    over the compute threads when the caller opts in
    (:func:`convlib.runtime.compute_threads`).
    """

    _fwd = staticmethod(relu_forward_fast)
    _bwd = staticmethod(relu_backward_fast)


class LeakyReLU(Layer):
    """``x`` where positive, ``alpha * x`` elsewhere.

    Parameters
    ----------
    alpha : float
        Slope for negative inputs: any finite real, Python or NumPy scalar
        (checked as :func:`convlib.activations.leaky_relu_forward` does).
    dtype : numpy dtype
    name : str, optional
    """

    def __init__(
        self, alpha: float = 0.01, dtype: Any = np.float32, name: str | None = None
    ) -> None:
        super().__init__(dtype, name)
        self.alpha = _check_alpha(alpha)  # the rule of leaky_relu_forward

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
        shape = as_shape("input_shape", input_shape)
        if not shape:
            raise ValueError(f"{self.name}: input_shape must not be empty, got {input_shape!r}")
        return (math.prod(shape),)


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``p``
    and scale the survivors by ``1 / (1 - p)``; in evaluation, the identity.

    Parameters
    ----------
    p : float
        Drop probability, in ``[0, 1)``; Python or NumPy scalar (checked as
        :func:`convlib.dropout.dropout_forward` does; in float16, at most
        ``0.99998``, or ``1 / (1 - p)`` would overflow).
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
        self.p = _check_p(p)  # the rules of dropout_forward
        _check_scale(self.p, self.dtype)
        self.rng = as_generator(rng)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return dropout_forward(x, self.p, self.rng, training=self.training)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return dropout_backward(dout, cache)

    def _extra_repr(self) -> str:
        return f"p={self.p:g}"
