"""Generated MNIST-shaped data, for tests and machines without MNIST.

``python -m convlib.train --synthetic`` trains on it, and so does the check
that the core package installs and trains without the book's extras.
"""

from __future__ import annotations

import numpy as np

from .._checks import as_int, as_rng

__all__ = ["synthetic_digits"]


def synthetic_digits(n: int, seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped stand-in data: each class is a bright bar at its own place.

    Class ``k`` draws a horizontal bar (``k < 5``) or a vertical one
    (``k >= 5``) at one of five positions, with random intensity, a random
    shift of up to one pixel and noise, so a CNN learns it in a few steps.

    Parameters
    ----------
    n : int
        Number of images, >= 0.
    seed : int or numpy.random.Generator
        Seed (``>= 0``) of ``numpy.random.default_rng``, the same seed giving
        the same data; or a Generator to draw from.

    Returns
    -------
    images : ndarray, shape (n, 28, 28), uint8
        Pixel values 0..255, like :func:`convlib.datasets.load_mnist`'s.
    labels : ndarray, shape (n,), uint8
        Classes 0..9.

    Raises
    ------
    TypeError
        If ``n`` is not an int, or ``seed`` neither an int nor a Generator.
    ValueError
        If ``n`` or ``seed`` is negative.

    Examples
    --------
    >>> images, labels = synthetic_digits(3, seed=1)
    >>> images.shape, images.dtype, labels.shape
    ((3, 28, 28), dtype('uint8'), (3,))
    """
    n = as_int("n", n, 0)
    rng = as_rng("seed", seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.float64)
    shift = rng.integers(-1, 2, size=n)
    level = rng.uniform(150, 255, size=n)
    for i, (k, s, v) in enumerate(zip(labels, shift, level)):
        pos = 3 + 5 * (int(k) % 5) + int(s)
        if k < 5:
            images[i, pos : pos + 3, 4:24] = v
        else:
            images[i, 4:24, pos : pos + 3] = v
    return images.astype(np.uint8), labels
