"""convlib: forward and back-propagation through a CNN, from scratch in NumPy.

Arrays are NHWC: ``(batch, height, width, channels)``; filters are
``(KH, KW, C_in, C_out)``. Every layer is a pair of functions::

    out, cache = layer_forward(x, params..., options...)
    dx, dparams... = layer_backward(dout, cache)

Caches hold references, not copies: a forward pass keeps the arrays it was
given (``x``, ``w``, ...) in its cache as they are, because copying every
input on every call would cost memory and time. Modifying such an array in
place between ``layer_forward`` and ``layer_backward`` therefore silently
changes the gradients; pass a copy (``x.copy()``) if the array must change
before the backward pass. An optimizer's in-place update of the parameters
is safe: it comes after the backward pass.
"""

from . import fast, windows  # noqa: F401 -- subpackages reachable as convlib.fast, convlib.windows
from .activations import (
    ActivationCache,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .adjoint import AdjointReport, check_adjoint
from .architectures import build_plain, build_resnet
from .arithmetic import conv_output_size, resolve_padding, same_padding
from .batchnorm import (
    BatchNormCache,
    batchnorm_backward,
    batchnorm_backward_compact,
    batchnorm_backward_graph,
    batchnorm_forward,
    batchnorm_forward_broadcast,
)
from .complex_step import complex_step_gradient
from .conv import (
    Conv2DCache,
    col2im,
    conv2d_backward,
    conv2d_backward_im2col,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_naive,
    im2col,
)
from .datasets import (
    DatasetNotFoundError,
    load_fashion_mnist,
    load_mnist,
    one_hot,
    prepare_images,
    random_flip,
    random_shift,
    synthetic_digits,
    to_float_nhwc,
)
from .dense import (
    DenseCache,
    FlattenCache,
    dense_backward,
    dense_forward,
    flatten_backward,
    flatten_forward,
)
from .dropout import DropoutCache, dropout_backward, dropout_forward
from .errors import InputWarning, NonFiniteError, NonFiniteGradientError
from .global_pooling import GlobalAvgPoolCache, global_avgpool_backward, global_avgpool_forward
from .gradcheck import (
    GradientCheckWarning,
    GradientReport,
    check_gradients,
    numerical_gradient,
    rel_error,
)
from .graph import Graph, GraphSummary
from .layers import (
    Add,
    AvgPool2D,
    BatchNorm,
    Concat,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    LeakyReLU,
    MaxPool2D,
    MergeLayer,
    ReLU,
    Sigmoid,
    Tanh,
)
from .loop import History, evaluate, fit, predict
from .losses import log_softmax, mse_loss, softmax, softmax_cross_entropy
from .memory import MemoryLimitError, memory_limit, set_memory_limit
from .merge import (
    AddCache,
    ConcatCache,
    add_backward,
    add_forward,
    concat_backward,
    concat_forward,
)
from .model import ModelSummary, Parameter, Sequential, build_capstone, build_lenet
from .optim import SGD, Adam, CosineLR, ExponentialLR, OneCycleLR, Optimizer, StepLR
from .pooling import (
    Pool2DCache,
    avgpool2d_backward,
    avgpool2d_backward_naive,
    avgpool2d_backward_windows,
    avgpool2d_forward,
    avgpool2d_forward_naive,
    avgpool2d_forward_windows,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_backward_windows,
    maxpool2d_forward,
    maxpool2d_forward_naive,
    maxpool2d_forward_windows,
)
from .recipes import TrainConfig, make_optimizer, train_model
from .runtime import (
    blas_thread_count,
    blas_threads,
    clear_workspace,
    set_blas_threads,
    set_workspace_limit,
    tune_allocator,
    workspace_nbytes,
)
from .update_rules import adam_update, momentum_update, nesterov_update, sgd_update

__version__ = "0.2.0"

__all__ = [
    "ActivationCache",
    "Adam",
    "adam_update",
    "Add",
    "AddCache",
    "add_backward",
    "add_forward",
    "AdjointReport",
    "AvgPool2D",
    "avgpool2d_backward",
    "avgpool2d_backward_naive",
    "avgpool2d_backward_windows",
    "avgpool2d_forward",
    "avgpool2d_forward_naive",
    "avgpool2d_forward_windows",
    "BatchNorm",
    "batchnorm_backward",
    "batchnorm_backward_compact",
    "batchnorm_backward_graph",
    "batchnorm_forward",
    "batchnorm_forward_broadcast",
    "BatchNormCache",
    "blas_thread_count",
    "blas_threads",
    "build_capstone",
    "build_lenet",
    "build_plain",
    "build_resnet",
    "check_adjoint",
    "check_gradients",
    "complex_step_gradient",
    "Concat",
    "ConcatCache",
    "concat_backward",
    "concat_forward",
    "clear_workspace",
    "col2im",
    "Conv2D",
    "conv2d_backward",
    "conv2d_backward_im2col",
    "conv2d_backward_naive",
    "conv2d_forward",
    "conv2d_forward_im2col",
    "conv2d_forward_naive",
    "Conv2DCache",
    "conv_output_size",
    "CosineLR",
    "DatasetNotFoundError",
    "Dense",
    "dense_backward",
    "dense_forward",
    "DenseCache",
    "Dropout",
    "dropout_backward",
    "dropout_forward",
    "DropoutCache",
    "evaluate",
    "ExponentialLR",
    "fit",
    "Flatten",
    "flatten_backward",
    "flatten_forward",
    "FlattenCache",
    "global_avgpool_backward",
    "global_avgpool_forward",
    "GlobalAvgPool2D",
    "GlobalAvgPoolCache",
    "GradientCheckWarning",
    "GradientReport",
    "Graph",
    "GraphSummary",
    "History",
    "im2col",
    "InputWarning",
    "Layer",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "LeakyReLU",
    "load_fashion_mnist",
    "load_mnist",
    "log_softmax",
    "make_optimizer",
    "MaxPool2D",
    "maxpool2d_backward",
    "maxpool2d_backward_naive",
    "maxpool2d_backward_windows",
    "maxpool2d_forward",
    "maxpool2d_forward_naive",
    "maxpool2d_forward_windows",
    "memory_limit",
    "MergeLayer",
    "MemoryLimitError",
    "ModelSummary",
    "momentum_update",
    "mse_loss",
    "nesterov_update",
    "NonFiniteError",
    "NonFiniteGradientError",
    "numerical_gradient",
    "one_hot",
    "OneCycleLR",
    "Optimizer",
    "Parameter",
    "Pool2DCache",
    "predict",
    "prepare_images",
    "random_flip",
    "random_shift",
    "rel_error",
    "ReLU",
    "relu_backward",
    "relu_forward",
    "resolve_padding",
    "same_padding",
    "Sequential",
    "set_blas_threads",
    "set_memory_limit",
    "set_workspace_limit",
    "SGD",
    "sgd_update",
    "Sigmoid",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax",
    "softmax_cross_entropy",
    "StepLR",
    "synthetic_digits",
    "Tanh",
    "tanh_backward",
    "tanh_forward",
    "to_float_nhwc",
    "train_model",
    "TrainConfig",
    "tune_allocator",
    "workspace_nbytes",
]
