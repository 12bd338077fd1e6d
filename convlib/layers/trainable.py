"""Layers with trainable parameters: Conv2D, Dense, BatchNorm and ConvTranspose2D.

Each wraps the functional layer of the same name and keeps its parameters in
``layer.params`` and their gradients in ``layer.grads`` (see
:mod:`convlib.layers`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_bool, as_groups, as_int, as_pair, as_shape
from ..arithmetic import conv_output_size, resolve_padding, resolve_transpose_padding
from ..batchnorm import _check_options, batchnorm_backward, batchnorm_forward
from ..conv import conv2d_backward, conv2d_forward
from ..conv_transpose import conv_transpose2d_backward, conv_transpose2d_forward
from ..dense import dense_backward, dense_forward
from ..fast.conv import conv2d_param_grads_fast
from .base import Layer, _shape, as_generator, init_weights

__all__ = ["Conv2D", "Dense", "BatchNorm", "ConvTranspose2D"]


class Conv2D(Layer):
    """2-D convolution (cross-correlation), NHWC.

    ``out[n, i, j, f] = b[f] + sum_{p, q, c} xp[n, i*sh + p*dh, j*sw + q*dw, c] * w[p, q, c, f]``
    with ``xp`` the zero-padded input. Wraps :func:`convlib.conv.conv2d_forward`.
    With ``groups = G``, filter group ``g`` reads only channel group ``g``
    (the sum runs over that group's ``C // G`` channels).

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
        Whether to learn a bias ``b`` (switch off before a BatchNorm). A
        bool (or NumPy bool): ``bias="no"`` is a ``TypeError``.
    init : {"he", "glorot"}
        Weight initialisation; see :func:`init_weights`. Biases start at 0.
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype
    name : str, optional
    groups : int
        ``G``, dividing ``in_channels`` and ``out_channels`` (PyTorch's
        ``groups``); ``G = in_channels`` is a depthwise convolution. The
        initialisation's fan-in is then ``KH * KW * C // G``.

    Attributes
    ----------
    params : dict
        ``"w"``: shape (KH, KW, C // G, F); ``"b"``: shape (F,) (if ``bias``).

    Examples
    --------
    >>> import numpy as np
    >>> conv = Conv2D(1, 4, 3, padding="same", rng=0)
    >>> conv.forward(np.zeros((2, 28, 28, 1))).shape
    (2, 28, 28, 4)
    >>> conv.output_shape((28, 28, 1)), conv.num_params()
    ((28, 28, 4), 40)
    >>> Conv2D(8, 8, 3, groups=8, rng=0).params["w"].shape   # depthwise
    (3, 3, 1, 8)
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
        groups: int = 1,
    ) -> None:
        super().__init__(dtype, name)
        self.in_channels = as_int("in_channels", in_channels, 1)
        self.out_channels = as_int("out_channels", out_channels, 1)
        self.groups = as_groups(
            groups, self.in_channels, self.out_channels, "in_channels and out_channels of Conv2D"
        )
        bias = as_bool("bias", bias)
        self.kernel_size = as_pair("kernel_size", kernel_size, 1)
        self.stride = as_pair("stride", stride, 1)
        self.dilation = as_pair("dilation", dilation, 1)
        # validate the padding argument now rather than at the first forward
        resolve_padding(padding, (64, 64), self.kernel_size, self.stride, self.dilation)
        self.padding = padding
        self.init = init
        kh, kw = self.kernel_size
        g = self.groups
        c, f = self.in_channels, self.out_channels
        w = init_weights(
            (kh, kw, c // g, f),
            kh * kw * c // g,
            kh * kw * f // g,
            init,
            as_generator(rng),
            self.dtype,
        )
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
        w, b = self.params["w"], self.params.get("b")
        return conv2d_forward(x, w, b, self.stride, self.padding, self.dilation, self.groups)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dx, dw, db = conv2d_backward(dout, cache)
        self._store_grad("w", dw)
        if "b" in self.params:
            self._store_grad("b", db)
        return dx

    def backward_params(self, dout: Any) -> None:
        """:meth:`backward` without ``dx``: only ``dw`` and ``db`` are computed and stored."""
        dout, cache = self._take_cache(dout, "backward_params")
        if getattr(cache, "groups", 1) != 1:  # grouped: the full backward pass
            self._backward(dout, cache)
            return
        dw, db = conv2d_param_grads_fast(dout, cache)
        self._store_grad("w", dw)
        if "b" in self.params:
            self._store_grad("b", db)

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
        if self.groups != 1:
            s += f", groups={self.groups}"
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
        Whether to learn a bias ``b``; a bool (``bias="no"`` is a ``TypeError``).
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
        bias = as_bool("bias", bias)
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
        Weight of the old value in the running averages, in ``[0, 1]``
        (1 freezes them). Python and NumPy scalars alike.
    eps : float
        Added to the variance, ``>= 0``.
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
        # The rules of batchnorm_forward: momentum in [0, 1], eps >= 0.
        self.momentum, self.eps = _check_options(momentum, eps)
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
        shape = as_shape("input_shape", input_shape)
        if len(shape) not in (1, 3) or shape[-1] != self.num_features:
            raise ValueError(
                f"{self.name} expects input_shape ({self.num_features},) or "
                f"(H, W, {self.num_features}), got {input_shape}"
            )
        return shape

    def _extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum:g}, eps={self.eps:g}"


class ConvTranspose2D(Layer):
    """Transposed 2-D convolution, NHWC: the adjoint of a convolution, as a layer.

    Its forward pass is the ``dx`` of the convolution from ``out_channels``
    to ``in_channels`` channels with the same kernel, stride, padding and
    dilation; with a stride it upsamples (a stride-2 convolution halves the
    image, this doubles it). Wraps
    :func:`convlib.conv_transpose.conv_transpose2d_forward`; the output size is
    :func:`convlib.arithmetic.conv_transpose_output_size`.

    Parameters
    ----------
    in_channels : int
        ``C_in``, channels of the input.
    out_channels : int
        ``C_out``, channels of the output.
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride : int or (int, int)
    padding : int, (int, int), ((int, int), (int, int)) or {"valid", "same", "full"}
        Cropped from the full output (PyTorch's convention); ``"same"`` gives
        ``(H - 1) * stride + 1 + output_padding`` rows.
    output_padding : int or (int, int)
        Rows and columns added at the bottom and right, smaller than
        ``max(stride, dilation)`` (than the stride with ``"same"``).
    dilation : int or (int, int)
    bias : bool
        Whether to learn a bias ``b`` of shape ``(C_out,)``.
    init : {"he", "glorot"}
        Weight initialisation (:func:`init_weights`) with fan-in
        ``KH * KW * C_in / (sh * sw)``, the number of products an output
        pixel sums on average, and fan-out ``KH * KW * C_out``.
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype
    name : str, optional

    Attributes
    ----------
    params : dict
        ``"w"``: shape (KH, KW, C_out, C_in), laid out as the filters of the
        convolution it transposes; ``"b"``: shape (C_out,) (if ``bias``).

    Examples
    --------
    >>> import numpy as np
    >>> up = ConvTranspose2D(8, 4, 4, stride=2, padding=1, rng=0)
    >>> up.forward(np.zeros((2, 7, 7, 8))).shape
    (2, 14, 14, 4)
    >>> up.output_shape((7, 7, 8)), up.num_params()
    ((14, 14, 4), 516)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
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
        bias = as_bool("bias", bias)
        self.kernel_size = as_pair("kernel_size", kernel_size, 1)
        self.stride = as_pair("stride", stride, 1)
        self.dilation = as_pair("dilation", dilation, 1)
        # validate padding and output_padding now rather than at the first forward
        resolve_transpose_padding(
            padding, (64, 64), self.kernel_size, self.stride, self.dilation, output_padding
        )
        self.padding = padding
        self.output_padding = as_pair("output_padding", output_padding, 0)
        self.init = init
        kh, kw = self.kernel_size
        c_in, c_out = self.in_channels, self.out_channels
        fan_in = max(1, round(kh * kw * c_in / (self.stride[0] * self.stride[1])))
        w = init_weights(
            (kh, kw, c_out, c_in), fan_in, kh * kw * c_out, init, as_generator(rng), self.dtype
        )
        self._add_param("w", w)
        if bias:
            self._add_param("b", np.zeros(c_out, dtype=self.dtype))

    _check_input = Conv2D._check_input  # the same NHWC input rule as a convolution

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return conv_transpose2d_forward(
            x,
            self.params["w"],
            self.params.get("b"),
            self.stride,
            self.padding,
            self.output_padding,
            self.dilation,
        )

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dx, dw, db = conv_transpose2d_backward(dout, cache)
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
        _, (oh, ow) = resolve_transpose_padding(
            self.padding, (h, w), self.kernel_size, self.stride, self.dilation, self.output_padding
        )
        return (oh, ow, self.out_channels)

    def _extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            s += f", stride={self.stride}"
        if self.padding != 0:
            s += f", padding={self.padding!r}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if "b" not in self.params:
            s += ", bias=False"
        return s
