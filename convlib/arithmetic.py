"""Convolution arithmetic: padding rules and output sizes (also of transposed convolution).

The formulas follow Dumoulin & Visin, *A guide to convolution arithmetic for
deep learning* (2016). For one spatial axis with input size ``n``, kernel size
``k``, dilation ``d``, stride ``s`` and padding ``p_lo + p_hi``:

    k_eff = d * (k - 1) + 1
    out   = floor((n + p_lo + p_hi - k_eff) / s) + 1

and a transposed convolution (the adjoint of that convolution, from ``out``
back to ``n``; ``op`` is its ``output_padding``, ``0 <= op < max(s, d)``):

    n = (out - 1) * s - (p_lo + p_hi) + k_eff + op

:func:`conv_cost` counts a layer's parameters and multiply-adds, with groups.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._checks import as_bool, as_groups, as_int, as_output_padding, as_pair

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


def conv_transpose_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    pad: tuple[int, int] | int = 0,
    dilation: int = 1,
    output_padding: int = 0,
) -> int:
    """Output length of a transposed convolution along one axis.

    ``(size - 1) * stride - (p_lo + p_hi) + dilation * (kernel - 1) + output_padding + 1``,
    PyTorch's ``ConvTranspose2d`` formula (with ``p_lo = p_hi = p`` there).
    The transposed convolution scatters each of the ``size`` input pixels
    onto a dilated kernel's span, ``stride`` apart: ``(size - 1) * stride +
    k_eff`` positions in all; ``output_padding`` adds positions at the end
    and the padding crops ``p_lo`` from the start and ``p_hi`` from the end.
    It inverts :func:`conv_output_size`: a convolution with the same
    arguments maps the output length back to ``size``.

    Raises ``ValueError`` when ``output_padding`` is not smaller than
    ``max(stride, dilation)`` or the padding crops everything.

    Examples
    --------
    >>> conv_transpose_output_size(7, 4, stride=2, pad=1)
    14
    >>> conv_transpose_output_size(14, 3, stride=2, pad=1, output_padding=1)
    28
    >>> conv_output_size(28, 3, stride=2, pad=1)
    14
    """
    size = as_int("size", size, 1)
    kernel = as_int("kernel", kernel, 1)
    stride = as_int("stride", stride, 1)
    dilation = as_int("dilation", dilation, 1)
    lo, hi = as_pair("pad", pad, 0)
    op = as_output_padding(
        as_int("output_padding", output_padding, 0), (stride,) * 2, (dilation,) * 2
    )[0]
    full = (size - 1) * stride + effective_kernel_size(kernel, dilation) + op
    if full - lo - hi < 1:
        raise ValueError(
            f"padding {lo}+{hi} crops the whole output of the transposed convolution: "
            f"input size {size}, kernel {kernel}, stride {stride}, dilation {dilation} and "
            f"output_padding {op} give {full} positions before cropping"
        )
    return full - lo - hi


def resolve_transpose_padding(
    padding: Any,
    input_hw: tuple[int, int],
    kernel_hw: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    dilation: tuple[int, int] = (1, 1),
    output_padding: Any = 0,
) -> tuple[Pads, tuple[int, int]]:
    """The padding and output size of a transposed convolution.

    The transposed convolution is the adjoint (the ``dx``) of the
    convolution from its output back to its input; ``padding`` names that
    convolution's padding, in any form :func:`resolve_padding` accepts.

    * An int, a pair, ``((top, bottom), (left, right))``, ``"valid"`` or
      ``"full"``: the padding is known; the output size is
      :func:`conv_transpose_output_size`.
    * ``"same"``: the convolution maps ``OH`` rows to ``ceil(OH / sh) = H``.
      The output has ``(H - 1) * sh + 1 + op_h`` rows -- ``op_h``, smaller
      than the stride, is the remainder ``(OH - 1) % sh`` that the
      convolution's rounding dropped -- and the padding is the ``"same"``
      padding of that size (its extra pixel at the bottom/right).

    Parameters
    ----------
    padding : str, int or tuple
    input_hw : (int, int)
        ``(H, W)``, the transposed convolution's input size.
    kernel_hw, stride, dilation : (int, int)
    output_padding : int or (int, int)
        ``(op_h, op_w)``, ints ``>= 0`` smaller than ``max(stride, dilation)``
        along their axis (smaller than the stride with ``"same"``).

    Returns
    -------
    pads : ((top, bottom), (left, right))
        What is cropped from the full output (the convolution's padding).
    out_hw : (int, int)
        ``(OH, OW)``, the transposed convolution's output size.

    Examples
    --------
    >>> resolve_transpose_padding("same", (14, 14), (3, 3), (2, 2), output_padding=1)
    (((0, 1), (0, 1)), (28, 28))
    >>> resolve_transpose_padding(1, (7, 7), (4, 4), (2, 2))
    (((1, 1), (1, 1)), (14, 14))
    """
    input_hw = as_pair("input_hw", input_hw, 1)
    kernel_hw = as_pair("kernel_hw", kernel_hw, 1)
    stride = as_pair("stride", stride, 1)
    dilation = as_pair("dilation", dilation, 1)
    same = isinstance(padding, str) and padding.lower() == "same"
    op = as_output_padding(output_padding, stride, dilation, same=same)
    if same:
        out_hw = (
            (input_hw[0] - 1) * stride[0] + 1 + op[0],
            (input_hw[1] - 1) * stride[1] + 1 + op[1],
        )
        return resolve_padding("same", out_hw, kernel_hw, stride, dilation), out_hw
    pads = resolve_padding(padding, input_hw, kernel_hw, stride, dilation)
    oh, ow = (
        conv_transpose_output_size(n, k, s, p, d, o)
        for n, k, s, p, d, o in zip(input_hw, kernel_hw, stride, pads, dilation, op)
    )
    return pads, (oh, ow)
