"""The tuned tier: convolution, pooling and batch norm with faster memory layouts.

These functions compute exactly what the readable tiers of
:mod:`convlib.conv`, :mod:`convlib.pooling` and :mod:`convlib.batchnorm`
compute (batch norm up to the rounding of another summation order), with the
same arguments and caches; :func:`convlib.conv2d_forward`,
:func:`convlib.maxpool2d_forward`, :func:`convlib.batchnorm_forward` and the
other functions the layers call run them. Each trick is explained, with the
benchmark figure that pays for it, in the module that uses it:

* :mod:`convlib.fast.conv` -- im2col in a channel-major or row-aligned
  layout, the bias folded into the products, ``dx`` by one small product
  per kernel tap, and the parameter gradients alone for a network's first
  layer (:func:`conv2d_param_grads_fast`);
* :mod:`convlib.fast.grouped` -- grouped convolution, the tuned
  convolution once per group;
* :mod:`convlib.fast.pooling` -- running maximum / sum over window offsets;
* :mod:`convlib.fast.batchnorm` -- per-feature sums as a product with a
  vector of ones, per-feature vectors tiled along each example's row;
* :mod:`convlib.fast.phases` -- the one stride-phase scatter (convolution's
  ``dx`` and both pooling backwards) and the phase gather of pooling;
* :mod:`convlib.fast.elementwise` -- ReLU, split over the compute threads;
* :mod:`convlib.fast.threads` -- the opt-in compute threads that ReLU, max
  pooling, batch norm and (with BLAS at one thread) the convolutions split
  their batch over (:func:`convlib.runtime.compute_threads`; one thread by
  default);
* :mod:`convlib.fast.workspace` -- per-thread scratch buffers, bounded, with
  :func:`clear_workspace` and :func:`workspace_nbytes`.
"""

from .batchnorm import (
    batchnorm_backward_fast,
    batchnorm_forward_fast,
    example_rows,
    feature_sum,
    per_feature,
)
from .conv import (
    conv2d_backward_fast,
    conv2d_forward_fast,
    conv2d_param_grads_fast,
    im2col_fast,
)
from .elementwise import relu_backward_fast, relu_forward_fast
from .grouped import (
    GroupedConv2DCache,
    conv2d_backward_grouped_fast,
    conv2d_forward_grouped_fast,
)
from .phases import phase_scatter, phase_window_views
from .pooling import (
    avgpool2d_backward_fast,
    avgpool2d_forward_fast,
    maxpool2d_backward_fast,
    maxpool2d_forward_fast,
)
from .workspace import clear_workspace, scratch, workspace_nbytes

__all__ = [
    "conv2d_forward_fast",
    "conv2d_backward_fast",
    "conv2d_param_grads_fast",
    "im2col_fast",
    "conv2d_forward_grouped_fast",
    "conv2d_backward_grouped_fast",
    "GroupedConv2DCache",
    "relu_forward_fast",
    "relu_backward_fast",
    "maxpool2d_forward_fast",
    "maxpool2d_backward_fast",
    "avgpool2d_forward_fast",
    "avgpool2d_backward_fast",
    "batchnorm_forward_fast",
    "batchnorm_backward_fast",
    "feature_sum",
    "per_feature",
    "example_rows",
    "phase_scatter",
    "phase_window_views",
    "scratch",
    "clear_workspace",
    "workspace_nbytes",
]
