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

The package is split by what the layers hold:

* :mod:`convlib.layers.base`: :class:`Layer` and weight initialisation;
* :mod:`convlib.layers.trainable`: :class:`Conv2D`, :class:`Dense`,
  :class:`BatchNorm`, :class:`ConvTranspose2D`;
* :mod:`convlib.layers.parameter_free`: pooling, activations,
  :class:`Flatten`, :class:`Dropout`;
* :mod:`convlib.layers.multi_input`: :class:`Add` and :class:`Concat`, the
  layers with several inputs (base class :class:`MergeLayer`) that merge the
  branches of a :class:`convlib.graph.Graph`.

Every class is importable from here (``from convlib.layers import Conv2D``).
"""

from .base import INITS, Layer, as_generator, init_weights  # noqa: F401 (INITS: convlib.layers.INITS)
from .multi_input import Add, Concat, MergeLayer
from .parameter_free import (
    AvgPool2D,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
)
from .trainable import BatchNorm, Conv2D, ConvTranspose2D, Dense

__all__ = [
    "Layer",
    "Conv2D",
    "ConvTranspose2D",
    "MaxPool2D",
    "AvgPool2D",
    "GlobalAvgPool2D",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Dense",
    "Flatten",
    "BatchNorm",
    "Dropout",
    "MergeLayer",
    "Add",
    "Concat",
    "as_generator",
    "init_weights",
]
