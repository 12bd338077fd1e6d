"""Convolution arithmetic: padding rules and output sizes.

The formulas follow Dumoulin & Visin, *A guide to convolution arithmetic for
deep learning* (2016). For one spatial axis with input size ``n``, kernel size
``k``, dilation ``d``, stride ``s`` and padding ``p_lo + p_hi``:

    k_eff = d * (k - 1) + 1
    out   = floor((n + p_lo + p_hi - k_eff) / s) + 1

:func:`conv_cost` counts a layer's parameters and multiply-adds, with groups.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._checks import as_bool, as_groups, as_int, as_pair

Pads = tuple[tuple[int, int], tuple[int, int]]

PADDING_STRINGS = ("valid", "same", "full")


def effective_kernel_size(kernel: int, dilation: int) -> int:
    """Span of a dilated kernel: ``dilation * (kernel - 1) + 1``."""
    return dilation * (kernel - 1) + 1


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Padding ``(before, after)`` that makes ``out == ceil(size / stride)``.

    When the total padding is odd the extra pixel goes *after* (bottom or
    right), as TensorFlow and Keras do. This is the rule the source article
    got wrong: padding symmetrically by ``(k - 1) / 2`` rounds up for even
    kernels and ignores the stride.

    Examples
    --------
    >>> same_padding(28, 3)
    (1, 1)
    >>> same_padding(28, 2)          # even kernel: extra pixel at the end
    (0, 1)
    >>> same_padding(28, 3, stride=2)  # out = ceil(28 / 2) = 14
    (0, 1)
    """
    size = as_int("size", size, 1)
    kernel = as_int("kernel", kernel, 1)
    stride = as_int("stride", stride, 1)
    dilation = as_int("dilation", dilation, 1)
    k_eff = effective_kernel_size(kernel, dilation)
    out = -(-size // stride)  # ceil division
    total = max((out - 1) * stride + k_eff - size, 0)
    return (total // 2, total - total // 2)


def resolve_padding(
    padding: Any,
    input_hw: tuple[int, int],
    kernel_hw: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    dilation: tuple[int, int] = (1, 1),
) -> Pads:
    """Turn any accepted ``padding`` argument into ``((top, bottom), (left, right))``.

    Parameters
    ----------
    padding : str, int or tuple
        ``"valid"`` (none), ``"same"`` (output ``ceil(input / stride)``),
        ``"full"`` (every overlap of kernel and input, ``k_eff - 1`` a side),
        an int ``p``, a pair ``(p_h, p_w)``, or
        ``((top, bottom), (left, right))``.
    input_hw, kernel_hw, stride, dilation : tuple of int
        Spatial sizes ``(H, W)``, ``(KH, KW)``, ``(s_h, s_w)``, ``(d_h, d_w)``.

    Returns
    -------
    tuple
        ``((top, bottom), (left, right))``, all non-negative ints.

    Raises
    ------
    ValueError
        Unknown padding string, negative padding, wrong nesting.
    TypeError
        Padding entries that are not integers.
    """
    input_hw = as_pair("input_hw", input_hw, 1)
    kernel_hw = as_pair("kernel_hw", kernel_hw, 1)
    stride = as_pair("stride", stride, 1)
    dilation = as_pair("dilation", dilation, 1)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0), (0, 0))
        if mode == "same":
            return (
                same_padding(input_hw[0], kernel_hw[0], stride[0], dilation[0]),
                same_padding(input_hw[1], kernel_hw[1], stride[1], dilation[1]),
            )
        if mode == "full":
            ph = effective_kernel_size(kernel_hw[0], dilation[0]) - 1
            pw = effective_kernel_size(kernel_hw[1], dilation[1]) - 1
            return ((ph, ph), (pw, pw))
        raise ValueError(
            f"padding must be one of {PADDING_STRINGS}, an int, (p_h, p_w) or "
            f"((top, bottom), (left, right)); got {padding!r}"
        )
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(
                f"padding must be an int, (p_h, p_w) or ((top, bottom), (left, right)); "
                f"got {padding!r}"
            )
        if all(isinstance(p, (tuple, list)) for p in padding):
            top, bottom = as_pair("padding[0]", padding[0], 0)
            left, right = as_pair("padding[1]", padding[1], 0)
            if len(padding[0]) != 2 or len(padding[1]) != 2:  # pragma: no cover - as_pair checks
                raise ValueError(f"padding must be ((top, bottom), (left, right)); got {padding!r}")
            return ((top, bottom), (left, right))
        ph, pw = as_pair("padding", padding, 0)
        return ((ph, ph), (pw, pw))
    p = as_int("padding", padding, 0)
    return ((p, p), (p, p))


def conv_output_size(
    size: int, kernel: int, stride: int = 1, pad: tuple[int, int] | int = 0, dilation: int = 1
) -> int:
    """Output length along one axis: ``(size + pads - k_eff) // stride + 1``.

    Raises ``ValueError`` when the dilated kernel does not fit in the padded
    input (the output would be empty).

    Examples
    --------
    >>> conv_output_size(7, 3)
    5
    >>> conv_output_size(28, 3, stride=2, pad=(0, 1))
    14
    """
    size = as_int("size", size, 1)
    kernel = as_int("kernel", kernel, 1)
    stride = as_int("stride", stride, 1)
    dilation = as_int("dilation", dilation, 1)
    lo, hi = as_pair("pad", pad, 0)
    k_eff = effective_kernel_size(kernel, dilation)
    padded = size + lo + hi
    if k_eff > padded:
        raise ValueError(
            f"kernel of size {kernel} with dilation {dilation} spans {k_eff} pixels, "
            f"more than the padded input's {padded} ({size} + padding {lo}+{hi})"
        )
    return (padded - k_eff) // stride + 1


class ConvCost(NamedTuple):
    """Size and work of one convolution layer (see :func:`conv_cost`)."""

    #: Trainable numbers: the weights ``KH * KW * (C // G) * F`` and, with a
    #: bias, ``F`` more.
    params: int
    #: Multiply-adds of the forward pass for one image:
    #: ``OH * OW * F * KH * KW * (C // G)``.
    mult_adds: int


def conv_cost(
    in_channels: int,
    out_channels: int,
    kernel_size: Any,
    output_hw: Any,
    groups: int = 1,
    bias: bool = True,
) -> ConvCost:
    """Parameters and forward multiply-adds of a convolution layer, with groups.

    Each of the ``OH * OW * F`` outputs of an image is a dot product of length
    ``KH * KW * C // G`` (its filter reads only the ``C // G`` channels of its
    group), so grouping divides both counts of the weights by ``G``; the
    bias (``F`` numbers, one addition per output, not counted as a
    multiply-add) does not change.

    Parameters
    ----------
    in_channels, out_channels : int
        ``C`` and ``F``, both divisible by ``groups``.
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    output_hw : int or (int, int)
        ``(OH, OW)``, the output's spatial size (:func:`conv_output_size`).
    groups : int
        ``G``; ``G = C`` is a depthwise convolution.
    bias : bool
        Whether the layer has a bias.

    Returns
    -------
    ConvCost
        ``(params, mult_adds)``, Python ints; ``mult_adds`` is per image.

    Examples
    --------
    >>> conv_cost(32, 64, 3, 28)                  # a full 3x3 convolution
    ConvCost(params=18496, mult_adds=14450688)
    >>> conv_cost(32, 32, 3, 28, groups=32)       # depthwise 3x3
    ConvCost(params=320, mult_adds=225792)
    >>> conv_cost(32, 64, 1, 28)                  # pointwise 1x1
    ConvCost(params=2112, mult_adds=1605632)
    """
    c = as_int("in_channels", in_channels, 1)
    f = as_int("out_channels", out_channels, 1)
    kh, kw = as_pair("kernel_size", kernel_size, 1)
    oh, ow = as_pair("output_hw", output_hw, 1)
    groups = as_groups(groups, c, f, "in_channels and out_channels of conv_cost")
    bias = as_bool("bias", bias)
    weights = kh * kw * (c // groups) * f
    return ConvCost(params=weights + (f if bias else 0), mult_adds=oh * ow * weights)
