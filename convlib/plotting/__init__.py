"""Figures of the book, drawn by the same code that computes them (optional extra).

Needs matplotlib (``pip install convlib[book]``); the core of convlib never
imports this package.

* :mod:`convlib.plotting.primitives` -- the shared drawing primitives: a
  figure pyplot does not keep, number formats, colour conventions, a 2-D
  array as a grid of labelled cells, an offline animation player.
* :mod:`convlib.plotting.feature_maps` -- a grid of feature maps (generic).
* Figure modules, one per topic: :mod:`~convlib.plotting.gradients` (chain
  rule, gradient checking), :mod:`~convlib.plotting.conv_diagrams` (windows,
  padding, stride, dilation, the sliding-window animation),
  :mod:`~convlib.plotting.backward_diagrams` (the convolution backward pass),
  :mod:`~convlib.plotting.backward_animation` (the naive backward loop, animated),
  :mod:`~convlib.plotting.fast_path` (im2col and the fast path),
  :mod:`~convlib.plotting.layers_diagrams` (activations, softmax, pooling),
  :mod:`~convlib.plotting.batchnorm_diagrams`,
  :mod:`~convlib.plotting.loss_surfaces` (optimizers' paths on two-parameter
  losses), :mod:`~convlib.plotting.optim_diagrams` (Adam's bias correction,
  schedules, loss curves) and
  :mod:`~convlib.plotting.capstone_diagrams` (training curves, filters,
  confusion matrix), :mod:`~convlib.plotting.graph_diagrams` (a graph of
  layers drawn, gradient norms per layer).

Every function returns the matplotlib ``Figure`` (or the animation) it made,
so a notebook can both show and test it.
"""
