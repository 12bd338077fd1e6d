"""convlib: forward and back-propagation through a CNN, from scratch in NumPy.

Arrays are NHWC: ``(batch, height, width, channels)``; filters are
``(KH, KW, C_in, C_out)``. Every layer is a pair of functions::

    out, cache = layer_forward(x, params..., options...)
    dx, dparams... = layer_backward(dout, cache)
"""

from .arithmetic import conv_output_size, resolve_padding, same_padding
from .conv import (
    Conv2DCache,
    col2im,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
    im2col,
)
from .datasets import (
    DatasetNotFoundError,
    load_fashion_mnist,
    load_mnist,
    one_hot,
    to_float_nhwc,
)
from .gradcheck import GradientReport, check_gradients, numerical_gradient, rel_error

__version__ = "0.1.0"

__all__ = [
    "DatasetNotFoundError",
    "load_fashion_mnist",
    "load_mnist",
    "one_hot",
    "to_float_nhwc",
    "Conv2DCache",
    "GradientReport",
    "check_gradients",
    "col2im",
    "conv2d_backward",
    "conv2d_backward_naive",
    "conv2d_forward",
    "conv2d_forward_naive",
    "conv_output_size",
    "im2col",
    "numerical_gradient",
    "rel_error",
    "resolve_padding",
    "same_padding",
]
