"""Turning raw images and labels into model inputs: one normaliser, one rule.

Pixel values come in one of two forms, and both functions below accept
exactly these:

- **integers 0..255** (``uint8``, as :func:`convlib.datasets.load_mnist`
  returns them; other integer dtypes if every value is in 0..255): scaled by
  1/255 into [0, 1];
- **floats already in [0, 1]**: taken as they are.

Anything else is refused with a ``ValueError`` that says what was found and
what to do: floats outside [0, 1] are either 0..255 levels stored as floats
or already standardised, and guessing which would silently give the network
wrong inputs.

:func:`to_float_nhwc` stops at [0, 1]; :func:`prepare_images` goes on and
standardises, ``(x - mean) / std``, with MNIST's statistics by default.
:func:`random_shift` is the data augmentation of the capstone chapter (it
fills the pixels it uncovers with the background), :func:`random_flip`
mirrors images left to right (for Fashion-MNIST, whose clothes look alike
mirrored, unlike digits) and :func:`one_hot` encodes labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_int, as_numeric_array, as_real, as_rng

__all__ = [
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "MNIST_MEAN",
    "MNIST_STD",
    "one_hot",
    "prepare_images",
    "random_flip",
    "random_shift",
    "to_float_nhwc",
]

#: Mean and standard deviation of the MNIST training pixels scaled to [0, 1].
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

#: Mean and standard deviation of the Fashion-MNIST training pixels scaled to
#: [0, 1] (pass them to :func:`prepare_images`; the clothes cover more of the
#: image than the digits do, hence the larger mean).
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530


def _pixels_nhwc(images: Any, dtype: Any) -> tuple[np.ndarray, np.dtype, bool]:
    """Check ``images`` against the one rule; see the module docstring.

    Returns
    -------
    pixels : ndarray, shape (N, H, W, C)
        ``images`` with a channel axis added to a 3-D input (a view, no copy).
    out_dtype : numpy dtype
        The floating result dtype.
    levels : bool
        True for 0..255 integer levels (to be scaled by 1/255), False for
        floats already in [0, 1].
    """
    arr = as_numeric_array("images", images)
    out_dtype = np.dtype(dtype)
    if out_dtype.kind != "f":
        raise TypeError(f"dtype must be a floating dtype, got {out_dtype}")
    if arr.ndim == 3:
        arr = arr[..., np.newaxis]
    elif arr.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C), got shape {arr.shape}")
    if arr.dtype.kind == "b":
        raise TypeError(
            "images must hold pixel values (integers 0..255, or floats in [0, 1]), got dtype bool; "
            "convert a mask with images.astype(np.float32)"
        )
    if arr.dtype.kind in "iu":
        if arr.dtype != np.uint8 and arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(
                f"images must hold values in 0..255, got range [{arr.min()}, {arr.max()}] "
                f"(dtype {arr.dtype}, shape {arr.shape})"
            )
        return arr, out_dtype, True
    if arr.size:
        lo, hi = float(arr.min()), float(arr.max())  # NaN propagates into both
        if not (lo >= 0.0 and hi <= 1.0):
            if np.isnan(lo) or np.isnan(hi):
                hint = "remove or replace the NaN values first"
            elif lo >= 0.0 and hi <= 255.0:
                hint = (
                    "these look like 0..255 pixel levels stored as floats: pass "
                    "images.astype(np.uint8) (whole numbers) or images / 255"
                )
            else:
                hint = "they look already normalised (by prepare_images?): use them as model inputs directly"
            raise ValueError(
                f"float images must hold values in [0, 1], got range [{lo:g}, {hi:g}] "
                f"(dtype {arr.dtype}, shape {arr.shape}); {hint}"
            )
    return arr, out_dtype, False


def to_float_nhwc(images: Any, dtype: Any = np.float32) -> np.ndarray:
    """Pixel images as floats in ``[0, 1]``, with a channel axis.

    Integer levels 0..255 are divided by 255; floats already in [0, 1] are
    kept as they are (only cast to ``dtype``). Anything else is refused (see
    :mod:`convlib.datasets.preprocessing`).

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H, W, C)
        Integer pixel values 0..255 (e.g. uint8, as returned by
        :func:`load_mnist`), or floats in [0, 1].
    dtype : floating dtype, default float32
        Result dtype (use ``np.float64`` for gradient checks).

    Returns
    -------
    ndarray, shape (N, H, W, 1) or (N, H, W, C)
        Values in [0, 1] in NHWC layout, a new array.

    Raises
    ------
    TypeError
        If ``images`` is not numeric (or boolean) or ``dtype`` is not a
        floating dtype.
    ValueError
        If ``images`` is not 3-D or 4-D, holds integers outside 0..255, or
        floats outside [0, 1] (e.g. 0..255 levels stored as floats, or
        images that are already standardised); the message gives the range
        found and what to do.

    Examples
    --------
    >>> x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # (1, 2, 2)
    >>> out = to_float_nhwc(x)
    >>> out.shape, out.dtype
    ((1, 2, 2, 1), dtype('float32'))
    >>> out[0, :, :, 0]
    array([[0. , 1. ],
           [0.2, 0.4]], dtype=float32)
    >>> np.array_equal(to_float_nhwc(out), out)   # already in [0, 1]: unchanged
    True
    """
    arr, out_dtype, levels = _pixels_nhwc(images, dtype)
    out = arr.astype(out_dtype)
    if levels:
        out /= out_dtype.type(255)
    return out


def prepare_images(
    images: Any, mean: float = MNIST_MEAN, std: float = MNIST_STD, dtype: Any = np.float32
) -> np.ndarray:
    """Grey-scale images as a standardised NHWC float batch: :func:`to_float_nhwc`, then ``(x - mean) / std``.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H, W, 1)
        Integer pixel values 0..255 (e.g. uint8), or floats in [0, 1]: the
        same rule as :func:`to_float_nhwc`.
    mean, std : float
        Statistics of the pixels scaled to [0, 1] (default: MNIST's,
        :data:`MNIST_MEAN` and :data:`MNIST_STD`); ``std > 0``.
    dtype : floating dtype, default float32

    Returns
    -------
    ndarray, shape (N, H, W, 1)
        A new array.

    Raises
    ------
    TypeError, ValueError
        As :func:`to_float_nhwc`, or when the images have more than one
        channel or ``std`` is not positive.

    Examples
    --------
    >>> x = np.array([[[0, 255]]], dtype=np.uint8)         # (1, 1, 2)
    >>> prepare_images(x, mean=0.5, std=0.5)[0, 0, :, 0]
    array([-1.,  1.], dtype=float32)
    >>> prepare_images(x / 255.0, mean=0.5, std=0.5)[0, 0, :, 0]   # floats in [0, 1]
    array([-1.,  1.], dtype=float32)
    """
    arr, out_dtype, levels = _pixels_nhwc(images, dtype)
    if arr.shape[-1] != 1:
        raise ValueError(
            f"images must have shape (N, H, W) or (N, H, W, 1) (grey-scale), got {arr.shape}"
        )
    mean = as_real("mean", mean)
    std = as_real("std", std, low=0.0, low_open=True)
    out = arr.astype(out_dtype)
    # One multiply and one subtract over the batch: x * scale / std - mean / std.
    scale = 1.0 / (255.0 * std) if levels else 1.0 / std
    out *= scale
    out -= mean / std
    return out


def random_shift(
    x: np.ndarray, rng: np.random.Generator | int, max_shift: int = 2, fill: float | str = "min"
) -> np.ndarray:
    """Data augmentation: translate each image by a random whole number of pixels.

    Each image moves by ``(down, right)``, each drawn uniformly from
    ``-max_shift ... max_shift``. The pixels that enter at a border are the
    background, ``fill``; the pixels pushed out at the opposite border are
    lost. A digit moved by two pixels is still the same digit, so the
    network sees "new" training images every epoch.

    The default ``fill="min"`` takes each image's own minimum (per channel)
    as its background. That is the right value whatever the normalisation:
    every MNIST image has blank pixels, which are its minimum, 0 as raw
    levels or in [0, 1], and ``(0 - MNIST_MEAN) / MNIST_STD`` (about -0.424)
    after :func:`prepare_images`. A fixed ``fill=0.0`` would be the
    background only *before* standardising; after it, 0.0 is a faint grey
    stripe. Copying the border pixels (``np.pad(..., mode="edge")``, what
    convlib 0.2 did) is wrong too: MNIST centres each digit by
    its centre of mass, not inside a margin, and a stroke that touches the
    border would be smeared into a stripe across the entering pixels.

    Parameters
    ----------
    x : ndarray, shape (N, H, W, C)
        A batch of images (raw levels, in [0, 1], or standardised).
    rng : numpy.random.Generator or int
        Where the shifts are drawn from; an int is a seed (``>= 0``) for
        ``numpy.random.default_rng``.
    max_shift : int
        ``>= 0``; 0 returns a copy of ``x``.
    fill : "min" or real number, default "min"
        The value of the pixels that enter at a border: ``"min"`` for each
        image's minimum over its pixels (one value per image and channel,
        shape (N, 1, 1, C)), or one number for every image (it must be
        representable in ``x``'s dtype, e.g. a whole number for uint8).

    Returns
    -------
    ndarray, shape (N, H, W, C)
        A new array, of ``x``'s dtype.

    Raises
    ------
    TypeError
        If ``x`` is not numeric, ``max_shift`` not an int, ``rng`` neither a
        Generator nor an int seed, or ``fill`` neither ``"min"`` nor a real
        number.
    ValueError
        If ``x`` is not 4-D, ``max_shift`` (or a seed) is negative, or
        ``fill`` is not finite or not representable in ``x``'s dtype.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 5, 5, 1)); x[0, 2, 2, 0] = 1
    >>> out = random_shift(x, np.random.default_rng(0), max_shift=1)
    >>> np.argwhere(out[0, :, :, 0] == 1).tolist()   # moved by at most one pixel
    [[1, 2]]
    >>> x = np.full((1, 3, 3, 1), -0.5); x[0, 0, :, 0] = 2.0   # ink on the top row
    >>> random_shift(x, np.random.default_rng(35), max_shift=1)[0, :, :, 0]  # down 1
    array([[-0.5, -0.5, -0.5],
           [ 2. ,  2. ,  2. ],
           [-0.5, -0.5, -0.5]])
    """
    x = as_numeric_array("x", x)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, H, W, C), got {x.shape}")
    s = as_int("max_shift", max_shift, 0)
    rng = as_rng("rng", rng)
    background = _shift_fill(fill, x)
    if s == 0 or x.size == 0:
        return x.copy()
    n, h, w, c = x.shape
    if background is None:
        background = x.min(axis=(1, 2), keepdims=True)  # (N, 1, 1, C)
    padded = np.empty((n, h + 2 * s, w + 2 * s, c), dtype=x.dtype)
    padded[...] = background
    padded[:, s : s + h, s : s + w, :] = x
    # windows[i, a, b] is the H x W crop of image i starting at row a, column b
    # (numpy's stub types axis= as one index; a tuple of axes is documented and works.)
    windows = np.lib.stride_tricks.sliding_window_view(  # type: ignore[call-overload]
        padded, (h, w), axis=(1, 2)
    )
    top = rng.integers(0, 2 * s + 1, size=n)
    left = rng.integers(0, 2 * s + 1, size=n)
    crops = windows[np.arange(n), top, left]  # (N, C, H, W)
    return np.ascontiguousarray(np.moveaxis(crops, 1, -1))


def _shift_fill(fill: Any, x: np.ndarray) -> Any:
    """``None`` for ``fill="min"``, else ``fill`` as a scalar of ``x``'s dtype (checked)."""
    if isinstance(fill, str):
        if fill != "min":
            raise TypeError(f'fill must be "min" or a real number, got {fill!r}')
        return None
    try:
        value = as_real("fill", fill)
    except TypeError:
        raise TypeError(
            f'fill must be "min" or a real number, got {fill!r} ({type(fill).__name__})'
        ) from None
    cast = np.array(value).astype(x.dtype)[()]
    if float(cast) != value:
        raise ValueError(f"fill={value:g} cannot be stored exactly in x's dtype {x.dtype}")
    return cast


def random_flip(x: Any, rng: np.random.Generator | int, p: float = 0.5) -> np.ndarray:
    """Data augmentation: mirror each image left to right with probability ``p``.

    Each image is flipped independently (a Bernoulli draw per image); the
    others are copied unchanged. A shirt mirrored is still a shirt, so for
    Fashion-MNIST this doubles the images a network sees; for digits it would
    not (a mirrored 2 is no digit). Pass it to :func:`convlib.fit` as
    ``augment=random_flip`` (the signature ``augment(x_batch, rng)``), or
    combine it with :func:`random_shift` in a function of your own.

    Parameters
    ----------
    x : ndarray, shape (N, H, W, C)
        A batch of images (any numeric dtype, any normalisation).
    rng : numpy.random.Generator or int
        Where the draws come from; an int is a seed (``>= 0``) for
        ``numpy.random.default_rng``.
    p : float, default 0.5
        Probability of flipping each image, in [0, 1].

    Returns
    -------
    ndarray, shape (N, H, W, C)
        A new array, of ``x``'s dtype: ``out[i] = x[i, :, ::-1, :]`` for the
        flipped images, ``x[i]`` for the others.

    Raises
    ------
    TypeError
        If ``x`` is not numeric, ``rng`` neither a Generator nor an int seed,
        or ``p`` not a real number.
    ValueError
        If ``x`` is not 4-D, or ``p`` is outside [0, 1].

    Examples
    --------
    >>> x = np.arange(6).reshape(2, 1, 3, 1)          # two images of one row
    >>> random_flip(x, np.random.default_rng(0), p=1.0)[:, 0, :, 0]
    array([[2, 1, 0],
           [5, 4, 3]])
    >>> np.array_equal(random_flip(x, 0, p=0.0), x)
    True
    """
    x = as_numeric_array("x", x)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, H, W, C), got {x.shape}")
    rng = as_rng("rng", rng)
    p = as_real("p", p, low=0.0, high=1.0)
    flip = rng.random(len(x)) < p  # (N,), one draw per image even for p = 0 or 1
    out = x.copy()
    out[flip] = x[flip, :, ::-1, :]
    return out


def one_hot(labels: Any, num_classes: int = 10, dtype: Any = np.float32) -> np.ndarray:
    """One-hot encode integer class labels.

    Parameters
    ----------
    labels : array_like of integers, shape (N,)
        Class indices in ``0 .. num_classes - 1``.
    num_classes : int, default 10
        Number of classes K. Given explicitly rather than inferred, so a
        batch that happens to miss the last class still gets K columns.
    dtype : dtype, default float32
        Result dtype.

    Returns
    -------
    ndarray, shape (N, K)
        ``out[i, labels[i]] = 1``, zeros elsewhere.

    Raises
    ------
    TypeError
        If ``labels`` is not integer.
    ValueError
        If ``labels`` is not 1-D or holds values outside ``0 .. K - 1``.

    Examples
    --------
    >>> one_hot([2, 0], num_classes=3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    arr = as_numeric_array("labels", labels)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D with shape (N,), got shape {arr.shape}")
    k = as_int("num_classes", num_classes, 1)
    if arr.size and (arr.min() < 0 or arr.max() >= k):
        raise ValueError(
            f"labels must lie in 0..{k - 1} (num_classes={k}), got range [{arr.min()}, {arr.max()}]"
        )
    out = np.zeros((arr.shape[0], k), dtype=dtype)
    out[np.arange(arr.shape[0]), arr] = 1
    return out
