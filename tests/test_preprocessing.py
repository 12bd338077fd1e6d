"""convlib.datasets.preprocessing: one normaliser with one rule, shifts, one-hot labels."""

from __future__ import annotations

import numpy as np
import pytest

from convlib.datasets import (
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    MNIST_MEAN,
    MNIST_STD,
    DatasetNotFoundError,
    load_fashion_mnist,
    one_hot,
    prepare_images,
    random_flip,
    random_shift,
    to_float_nhwc,
)

# ---------------------------------------------------------------------------
# One rule for both normalisers
# ---------------------------------------------------------------------------

_U8 = np.random.default_rng(0).integers(0, 256, size=(4, 6, 5), dtype=np.uint8)

# (images, the same pixels in [0, 1] as float64)
ACCEPTED = {
    "uint8": (_U8, _U8 / 255.0),
    "int16 in 0..255, NHWC": (_U8.astype(np.int16)[..., None], _U8[..., None] / 255.0),
    "int64 list": (_U8.tolist(), _U8 / 255.0),
    "float32 in [0, 1]": ((_U8 / 255.0).astype(np.float32), (_U8 / 255.0).astype(np.float32)),
    "float64 in [0, 1]": (_U8 / 255.0, _U8 / 255.0),
    "float64 exactly 0 and 1": (np.array([[[0.0, 1.0]]]), np.array([[[0.0, 1.0]]])),
}


@pytest.mark.parametrize("images, unit", ACCEPTED.values(), ids=list(ACCEPTED))
def test_to_float_nhwc_gives_the_pixels_in_unit_range(images, unit):
    out = to_float_nhwc(images, dtype=np.float64)
    assert out.shape == (*np.shape(unit)[:3], 1) and out.dtype == np.float64
    np.testing.assert_allclose(out, np.reshape(unit, out.shape), rtol=1e-15, atol=0)
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("images, unit", ACCEPTED.values(), ids=list(ACCEPTED))
@pytest.mark.parametrize("mean, std", [(MNIST_MEAN, MNIST_STD), (0.5, 0.25)])
def test_prepare_images_is_to_float_nhwc_then_standardised(images, unit, mean, std):
    out = prepare_images(images, mean=mean, std=std, dtype=np.float64)
    expected = (to_float_nhwc(images, dtype=np.float64) - mean) / std
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_float_images_in_unit_range_are_not_divided_by_255_again():
    # The bug this rule fixes: floats in [0, 1] were divided by 255 once more,
    # and every pixel landed in [-0.424, -0.412] whatever the image showed.
    out_u8 = prepare_images(_U8)
    out_float = prepare_images(_U8 / 255.0)
    np.testing.assert_allclose(out_float, out_u8, rtol=1e-5, atol=1e-5)
    assert out_float.max() - out_float.min() > 3  # background to ink: about 3.2 standard deviations


def test_prepare_images_of_uint8_is_unchanged_bit_for_bit():
    # The values chapter 12 and `python -m convlib.train` trained on before
    # the rule was shared: x * (1 / (255 std)) - mean / std in float32.
    expected = _U8[..., None].astype(np.float32)
    expected *= 1.0 / (255.0 * MNIST_STD)
    expected -= MNIST_MEAN / MNIST_STD
    np.testing.assert_array_equal(prepare_images(_U8), expected)


REFUSED = {
    "floats up to 255": (
        _U8.astype(np.float32),
        ValueError,
        r"got range \[0, \d+\].*0\.\.255 pixel levels.*astype\(np\.uint8\)",
    ),
    "standardised floats": (
        prepare_images(_U8),
        ValueError,
        r"float images must hold values in \[0, 1\].*already normalised",
    ),
    "slightly above 1": (
        np.array([[[0.0, 1.0001]]]),
        ValueError,
        r"\[0, 1\], got range \[0, 1\.0001\]",
    ),
    "NaN": (np.array([[[0.5, np.nan]]]), ValueError, "NaN"),
    "int above 255": (
        np.full((1, 2, 2), 256, np.int32),
        ValueError,
        r"0\.\.255, got range \[256, 256\]",
    ),
    "negative int": (np.full((1, 2, 2), -1, np.int64), ValueError, r"0\.\.255"),
    "bool": (np.zeros((1, 2, 2), np.bool_), TypeError, "got dtype bool"),
    "strings": (np.array([[["a"]]]), TypeError, "real numbers"),
    "2-D": (np.zeros((2, 3), np.uint8), ValueError, r"got shape \(2, 3\)"),
}


@pytest.mark.parametrize("images, error, message", REFUSED.values(), ids=list(REFUSED))
@pytest.mark.parametrize("normaliser", [to_float_nhwc, prepare_images])
def test_both_normalisers_refuse_the_same_inputs_with_the_same_message(
    normaliser, images, error, message
):
    with pytest.raises(error, match=message) as info:
        normaliser(images)
    # ... word for word: it is one rule, checked in one place.
    with pytest.raises(error) as other:
        (prepare_images if normaliser is to_float_nhwc else to_float_nhwc)(images)
    assert str(other.value) == str(info.value)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"std": 0.0}, ValueError, r"std must be in \(0, inf\)"),
        ({"std": -1.0}, ValueError, "std"),
        ({"mean": "0.1"}, TypeError, "mean must be a real number"),
        ({"dtype": np.int32}, TypeError, "floating dtype"),
    ],
)
def test_prepare_images_rejects_bad_statistics(kwargs, error, message):
    with pytest.raises(error, match=message):
        prepare_images(_U8, **kwargs)


def test_prepare_images_accepts_numpy_statistics():
    a = prepare_images(_U8, mean=np.float32(0.5), std=np.float64(0.5))
    np.testing.assert_array_equal(a, prepare_images(_U8, mean=0.5, std=0.5))


def test_prepare_images():
    imgs = np.array([[[0, 255]], [[51, 102]]], dtype=np.uint8)  # (2, 1, 2)
    out = prepare_images(imgs, mean=0.5, std=0.5)
    assert out.shape == (2, 1, 2, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], [[[-1.0, 1.0]], [[-0.6, -0.2]]], rtol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        prepare_images(np.zeros((2, 28, 28, 3), dtype=np.uint8))


def test_normalisers_return_new_arrays():
    x = (_U8 / 255.0).astype(np.float32)
    copy = x.copy()
    out = to_float_nhwc(x)
    assert not np.shares_memory(out, x)
    out[...] = 7
    np.testing.assert_array_equal(x, copy)


# ---------------------------------------------------------------------------
# to_float_nhwc and one_hot
# ---------------------------------------------------------------------------


def test_to_float_nhwc_scales_and_adds_channel():
    x = np.random.default_rng(3).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    copy = x.copy()
    out = to_float_nhwc(x)
    assert out.shape == (5, 28, 28, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], x / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(x, copy)
    out64 = to_float_nhwc(x.astype(np.int16)[..., None], dtype=np.float64)
    assert out64.dtype == np.float64
    np.testing.assert_array_equal(out64[..., 0], x / 255.0)


@pytest.mark.parametrize(
    "images, kwargs, error, message",
    [
        (np.zeros((2, 3, 3), np.bool_), {}, TypeError, "got dtype bool"),
        (np.zeros((2, 3), np.uint8), {}, ValueError, r"got shape \(2, 3\)"),
        (np.full((1, 2, 2), 256, np.int32), {}, ValueError, "0..255"),
        (np.zeros((1, 2, 2), np.uint8), {"dtype": np.int32}, TypeError, "floating dtype"),
    ],
)
def test_to_float_nhwc_rejects_bad_input(images, kwargs, error, message):
    with pytest.raises(error, match=message):
        to_float_nhwc(images, **kwargs)


def test_one_hot():
    labels = np.random.default_rng(4).integers(0, 10, size=50)
    out = one_hot(labels)
    assert out.shape == (50, 10) and out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(axis=1), labels)
    np.testing.assert_array_equal(out.sum(axis=1), np.ones(50))
    assert one_hot(np.array([0, 1], np.uint8), num_classes=4).shape == (2, 4)


@pytest.mark.parametrize(
    "labels, num_classes, error, message",
    [
        ([0, 10], 10, ValueError, r"0\.\.9"),
        ([-1], 10, ValueError, r"0\.\.9"),
        ([0.5], 10, TypeError, "integers"),
        ([[0, 1]], 10, ValueError, r"shape \(1, 2\)"),
        ([0], 0, ValueError, "num_classes must be >= 1"),
    ],
)
def test_one_hot_rejects_bad_input(labels, num_classes, error, message):
    with pytest.raises(error, match=message):
        one_hot(labels, num_classes=num_classes)


# ---------------------------------------------------------------------------
# random_shift
# ---------------------------------------------------------------------------


def test_random_shift_moves_each_image_within_bounds():
    rng = np.random.default_rng(0)
    x = np.zeros((200, 9, 9, 2), dtype=np.float32)
    x[:, 4, 4, :] = 1.0  # one bright pixel in the middle of every image
    out = random_shift(x, rng, max_shift=2)
    assert out.shape == x.shape and out.dtype == x.dtype
    pos = np.argwhere(out[..., 0] == 1)[:, 1:]  # (row, col) per image
    assert len(pos) == 200  # exactly one bright pixel each: nothing lost or duplicated
    offsets = pos - 4
    assert np.abs(offsets).max() == 2
    assert len({tuple(o) for o in offsets}) == 25  # every shift in -2..2 x -2..2 occurs
    np.testing.assert_array_equal(out[..., 1], out[..., 0])  # channels move together
    np.testing.assert_array_equal(random_shift(x, rng, max_shift=0), x)
    with pytest.raises(ValueError, match="N, H, W, C"):
        random_shift(x[0], rng)


def test_random_shift_takes_a_generator_or_a_seed():
    x = np.random.default_rng(1).standard_normal((6, 5, 5, 1))
    np.testing.assert_array_equal(random_shift(x, 7), random_shift(x, np.random.default_rng(7)))
    np.testing.assert_array_equal(random_shift(x, np.int64(7)), random_shift(x, 7))
    for bad in ("rng", None, 1.5, True):
        with pytest.raises(
            TypeError, match=r"rng must be a numpy\.random\.Generator or an int seed"
        ):
            random_shift(x, bad)
    with pytest.raises(ValueError, match="rng must be >= 0"):
        random_shift(x, -1)


def test_synthetic_digits_seed_is_an_int_or_a_generator():
    from convlib.datasets import synthetic_digits

    by_seed = synthetic_digits(5, seed=3)
    for a, b in zip(synthetic_digits(5, seed=np.random.default_rng(3)), by_seed):
        np.testing.assert_array_equal(a, b)
    for bad in ("a", 2.0, None, [1, 2]):
        with pytest.raises(TypeError, match="seed must be"):
            synthetic_digits(5, seed=bad)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        synthetic_digits(5, seed=-1)


def _shifted_copy(image, down, right, background):
    """``image`` (H, W, C) moved by (down, right), the entering pixels set to ``background``."""
    h, w, _ = image.shape
    s = max(abs(down), abs(right))
    padded = np.pad(image, ((s, s), (s, s), (0, 0)), mode="constant", constant_values=background)
    return padded[s - down : s - down + h, s - right : s - right + w]


def test_random_shift_fills_the_uncovered_border_with_the_background_not_the_edge():
    # Standardised MNIST-like digits whose strokes touch the border, as 813 MNIST
    # training digits do: edge padding (convlib 0.2) smeared them into stripes.
    levels = np.zeros((50, 8, 8), np.uint8)
    levels[:, 0, 2:6] = 255  # a stroke along the top row
    levels[:, 3:7, -1] = 200  # one along the right column
    levels[:, 4, 3] = 90
    x = prepare_images(levels)
    background = prepare_images(np.zeros((1, 1, 1), np.uint8))[0, 0, 0, 0]
    assert background < -0.4  # the background is not 0 after standardising
    out = random_shift(x, np.random.default_rng(5), max_shift=2)
    ink_before = np.count_nonzero(x > background, axis=(1, 2, 3))
    ink_after = np.count_nonzero(out > background, axis=(1, 2, 3))
    assert np.all(ink_after <= ink_before)  # a shift never creates ink ...
    assert np.any(ink_after < ink_before)  # ... and pushes some out at the border
    moves = set()
    for image, original in zip(out, x):
        found = [
            (d, r)
            for d in range(-2, 3)
            for r in range(-2, 3)
            if np.array_equal(image, _shifted_copy(original, d, r, background))
        ]
        assert len(found) == 1  # exactly one move, background entering
        moves.add(found[0])
    assert len(moves) > 10


def test_random_shift_min_fill_is_each_images_own_minimum_per_channel():
    x = np.empty((2, 4, 4, 2))
    x[0, ..., 0], x[0, ..., 1], x[1, ..., 0], x[1, ..., 1] = -3.0, 5.0, 0.25, -1.0
    x[:, 1:3, 1:3, :] += 10.0  # "ink" in the middle
    seen = set()
    for seed in range(10):
        out = random_shift(x, seed, max_shift=1)
        # every pixel is its image's background or its ink: nothing from another image/channel
        for n in range(2):
            for c in range(2):
                bg = x[n, 0, 0, c]
                assert set(np.unique(out[n, ..., c])) <= {bg, bg + 10.0}
                seen.add(int(np.count_nonzero(out[n, ..., c] == bg + 10.0)))
    assert seen == {4}  # the 2 x 2 ink block is never cut at max_shift=1 here


def test_random_shift_with_a_fixed_fill():
    x = np.full((3, 5, 5, 1), 100, np.uint8)
    out = random_shift(x, np.random.default_rng(0), max_shift=2, fill=7)
    assert out.dtype == np.uint8
    assert set(np.unique(out)) <= {7, 100}
    shifted = np.count_nonzero(out == 7, axis=(1, 2, 3))
    expected = random_shift(x.astype(np.float64), np.random.default_rng(0), 2, fill=7.0)
    np.testing.assert_array_equal(out, expected)  # same shifts whatever the dtype and fill
    assert shifted.max() > 0


@pytest.mark.parametrize(
    "fill, error, message",
    [
        ("edge", TypeError, 'fill must be "min" or a real number'),
        (None, TypeError, 'fill must be "min" or a real number'),
        (np.zeros(2), TypeError, 'fill must be "min" or a real number'),
        (np.nan, ValueError, "fill must be a finite number"),
        (0.5, ValueError, r"fill=0\.5 cannot be stored exactly in x's dtype uint8"),
        (300, ValueError, r"fill=300 cannot be stored exactly in x's dtype uint8"),
    ],
)
def test_random_shift_rejects_a_bad_fill(fill, error, message):
    x = np.zeros((2, 4, 4, 1), np.uint8)
    with pytest.raises(error, match=message):
        random_shift(x, 0, fill=fill)


# ---------------------------------------------------------------------------
# random_flip and Fashion-MNIST's statistics
# ---------------------------------------------------------------------------


def test_random_flip_mirrors_some_images_and_copies_the_others():
    x = np.random.default_rng(2).standard_normal((400, 3, 5, 2)).astype(np.float32)
    out = random_flip(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == x.dtype and not np.shares_memory(out, x)
    flipped = np.array([np.array_equal(o, i[:, ::-1, :]) for o, i in zip(out, x)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out, x)])
    assert np.all(flipped ^ kept)  # each image is exactly one of the two
    assert 160 < flipped.sum() < 240  # about half of 400 (binomial sd 10)
    # The draw is one uniform number per image, flipped where it is below p.
    np.testing.assert_array_equal(flipped, np.random.default_rng(0).random(400) < 0.5)


def test_random_flip_probability_and_seed():
    x = np.arange(2 * 2 * 3).reshape(2, 2, 3, 1)
    np.testing.assert_array_equal(random_flip(x, 0, p=1.0), x[:, :, ::-1])
    np.testing.assert_array_equal(random_flip(x, 0, p=0.0), x)
    np.testing.assert_array_equal(random_flip(x, 5), random_flip(x, np.random.default_rng(5)))
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        random_flip(x, 0, p=1.5)
    with pytest.raises(ValueError, match="N, H, W, C"):
        random_flip(x[0], 0)


def test_random_flip_is_an_augment_for_fit():
    from convlib import Adam, build_lenet, fit

    x = np.random.default_rng(0).standard_normal((16, 28, 28, 1)).astype(np.float32)
    y = np.arange(16) % 10
    seen = []

    def spy(xb, rng):
        out = random_flip(xb, rng)
        seen.append((xb.copy(), out))
        return out

    model = build_lenet(0)
    fit(model, x, y, Adam(model.parameters()), epochs=1, batch_size=8, augment=spy, progress=False)
    assert len(seen) == 2 and any(not np.array_equal(a, b) for a, b in seen)


def test_fashion_mnist_constants_are_its_training_statistics():
    try:
        (images, _), _ = load_fashion_mnist(download=False, quiet=True)
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST not found (set CONVLIB_DATA)")
    levels = np.arange(256) / 255.0
    counts = np.bincount(images.ravel(), minlength=256)
    mean = counts @ levels / counts.sum()
    std = np.sqrt(counts @ (levels - mean) ** 2 / counts.sum())
    assert abs(mean - FASHION_MNIST_MEAN) < 5e-5 and abs(std - FASHION_MNIST_STD) < 5e-5
    x = prepare_images(images[:2000], FASHION_MNIST_MEAN, FASHION_MNIST_STD)
    assert abs(float(x.mean())) < 0.05 and abs(float(x.std()) - 1) < 0.05
    assert (FASHION_MNIST_MEAN, FASHION_MNIST_STD) != (MNIST_MEAN, MNIST_STD)
