"""The tuned tier: convolution and pooling with faster memory layouts.

These functions compute exactly what the readable tiers of
:mod:`convlib.conv` and :mod:`convlib.pooling` compute, with the same
arguments and caches; :func:`convlib.conv2d_forward`,
:func:`convlib.maxpool2d_forward` and the other functions the layers call
run them. Each trick is explained, with the benchmark figure that pays for
it, in the module that uses it:

* :mod:`convlib.fast.conv` -- im2col in a channel-major or row-aligned
  layout, the bias folded into the products, ``dx`` by one small product
  per kernel tap;
* :mod:`convlib.fast.pooling` -- running maximum / sum over window offsets;
* :mod:`convlib.fast.phases` -- the one stride-phase scatter (convolution's
  ``dx`` and both pooling backwards) and the phase gather of pooling;
* :mod:`convlib.fast.workspace` -- per-thread scratch buffers, bounded, with
  :func:`clear_workspace` and :func:`workspace_nbytes`.
"""

from .conv import conv2d_backward_fast, conv2d_forward_fast, im2col_fast
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
    "im2col_fast",
    "maxpool2d_forward_fast",
    "maxpool2d_backward_fast",
    "avgpool2d_forward_fast",
    "avgpool2d_backward_fast",
    "phase_scatter",
    "phase_window_views",
    "scratch",
    "clear_workspace",
    "workspace_nbytes",
]
