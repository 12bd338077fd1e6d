"""Plotting helpers used by the book's chapters.

Each module draws one family of figures from the same code that computes
them: :mod:`convlib.plotting.gradients` (chain rule, gradient checking),
:mod:`convlib.plotting.conv_diagrams` (windows, padding, stride, dilation,
animations), :mod:`convlib.plotting.backward_diagrams`,
:mod:`convlib.plotting.fast_path`, :mod:`convlib.plotting.layers_diagrams`,
:mod:`convlib.plotting.batchnorm_diagrams`,
:mod:`convlib.plotting.loss_surfaces` (optimizers' paths on two-parameter
losses), :mod:`convlib.plotting.optim_diagrams` and
:mod:`convlib.plotting.capstone_diagrams`. Every function returns the matplotlib ``Figure`` (or
the animation) it made, so a notebook can both show and test it.
"""
