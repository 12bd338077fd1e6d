"""Deprecated: the names of ``convlib.training`` moved to modules named for what they hold.

================================================  ==========================================
``History``, ``fit``, ``evaluate``, ``predict``   :mod:`convlib.loop` (and ``convlib``)
``prepare_images``, ``random_shift``,             :mod:`convlib.datasets` (the one normaliser)
``MNIST_MEAN``, ``MNIST_STD``
``set_blas_threads``, ``tune_allocator``          :mod:`convlib.runtime` (opt-in, process-wide)
================================================  ==========================================

Importing them from here still works and warns with a ``DeprecationWarning``;
this module will be removed in convlib 0.3. Note that :func:`convlib.fit`
no longer tunes the allocator: call :func:`convlib.runtime.tune_allocator`
yourself if you want it.
"""

from __future__ import annotations

from ._deprecation import moved_names

_MOVES = {
    "History": "convlib.loop",
    "fit": "convlib.loop",
    "evaluate": "convlib.loop",
    "predict": "convlib.loop",
    "LossFn": "convlib.loop",
    "Augment": "convlib.loop",
    "prepare_images": "convlib.datasets",
    "random_shift": "convlib.datasets",
    "MNIST_MEAN": "convlib.datasets",
    "MNIST_STD": "convlib.datasets",
    "set_blas_threads": "convlib.runtime",
    "tune_allocator": "convlib.runtime",
}

__all__ = sorted(_MOVES)
__getattr__ = moved_names("convlib.training", _MOVES)
