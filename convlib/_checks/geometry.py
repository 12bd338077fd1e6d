"""Checks of the geometry of windows: explicit padding, pooling-window padding, groups, output padding."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .scalars import as_int, as_pair


def as_pads(name: str, value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return explicit spatial padding ``((top, bottom), (left, right))`` as ints >= 0.

    The resolved form of padding that :func:`convlib.arithmetic.resolve_padding`
    returns and the window helpers take. Python ints, NumPy integers and
    nested lists or arrays are accepted; a string (``"same"``: resolve it
    first), a bare number or non-integer entries give a ``TypeError``, a
    wrong number of entries or a negative one a ``ValueError`` naming the
    argument and the whole value. ``O(1)``.

    Examples
    --------
    >>> as_pads("pads", [(1, np.int64(2)), (0, 0)])
    ((1, 2), (0, 0))
    """
    layout = "((top, bottom), (left, right))"
    if not isinstance(value, (tuple, list, np.ndarray)) or not all(
        isinstance(side, (tuple, list, np.ndarray)) for side in value
    ):
        raise TypeError(f"{name} must be {layout} of ints >= 0, got {value!r}")
    if len(value) != 2 or any(len(side) != 2 for side in value):
        raise ValueError(f"{name} must be {layout}: two pairs of ints >= 0, got {value!r}")
    out = []
    for side in value:
        for v in side:
            if isinstance(v, np.ndarray) and v.ndim == 0:
                v = v[()]
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
                raise TypeError(
                    f"{name} must be {layout} of ints >= 0, got {value!r} (entry {v!r})"
                )
            if v < 0:
                raise ValueError(
                    f"{name} must be {layout} of ints >= 0, got a negative entry {int(v)} in {value!r}"
                )
            out.append(int(v))
    return ((out[0], out[1]), (out[2], out[3]))


def check_window_padding(name: str, padding: Any, window: tuple[int, int]) -> None:
    """Refuse explicit padding as large as the window (pooling layers).

    A window of ``k`` rows padded by ``k`` or more rows on one side could
    hold nothing but padding. ``"valid"`` and ``"same"`` always pass (the
    ``"same"`` padding of a window is at most ``k - 1`` in total); ``"full"``
    never does. Called at construction time by the pooling layers and by
    the pooling functions, so both give the same message.

    Raises
    ------
    ValueError, TypeError
        As :func:`convlib.arithmetic.resolve_padding`, or when a side's
        padding is ``>= `` the window along that axis.
    """
    from ..arithmetic import resolve_padding  # arithmetic imports convlib._checks

    if isinstance(padding, str) and padding.lower() == "full":
        raise ValueError(
            f"{name}='full' pads a side by the whole window minus one, so a window "
            f"would hold nothing but padding: use 'valid', 'same' or an int"
        )
    # Input size and stride do not matter for explicit padding; for "same"
    # any input gives padding below the window.
    pads = resolve_padding(padding, (max(window), max(window)), window)
    for axis, (lo, hi), k in (("rows", pads[0], window[0]), ("columns", pads[1], window[1])):
        if lo >= k or hi >= k:
            raise ValueError(
                f"{name} {pads} is too large for pool_size {window}: the padding of the "
                f"{axis}, {lo} before and {hi} after, must be smaller than the window's "
                f"{k} {axis}, or a window could hold nothing but padding"
            )


def as_groups(groups: Any, channels: int, filters: int, where: str) -> int:
    """Return ``groups`` as an int ``>= 1`` that divides ``channels`` and ``filters``.

    ``where`` says where ``channels`` and ``filters`` come from (shapes or
    argument names) for the message; :func:`check_groups` and the ``Conv2D``
    layer use it.
    """
    groups = as_int("groups", groups, 1)
    if channels % groups or filters % groups:
        raise ValueError(
            f"groups={groups} must divide the input channels C={channels} and "
            f"the filters F={filters} ({where})"
        )
    return groups


def check_groups(groups: Any, x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> int:
    """Return the ``groups`` of a convolution as an int, checked against ``x`` and ``w``.

    A convolution with ``groups = G`` splits the ``C`` input channels and the
    ``F`` filters into ``G`` consecutive groups; the filters of group ``g``
    read only the channels of group ``g``, so ``w`` has shape
    ``(KH, KW, C // G, F)`` (PyTorch's ``groups``).

    Parameters
    ----------
    groups : int
        ``G >= 1``; a bool, float or string is a ``TypeError``.
    x_shape : tuple of int
        ``(N, H, W, C)``.
    w_shape : tuple of int
        ``(KH, KW, C // G, F)``.

    Raises
    ------
    ValueError
        If ``G < 1``, if ``G`` does not divide ``C`` or ``F``, or if ``w``'s
        channel axis is not ``C // G``; the message names ``C``, ``F``,
        ``groups`` and both shapes.
    """
    if type(groups) is not int or groups < 1:  # the common case, an int >= 1, is fast
        groups = as_int("groups", groups, 1)
    c, wc, f = x_shape[-1], w_shape[-2], w_shape[-1]
    if groups == 1 and wc == c:
        return 1
    if groups == 1:
        raise ValueError(
            f"x has {c} channels (shape {x_shape}) but w expects {wc} "
            f"(shape {w_shape}, layout (KH, KW, C, F))"
        )
    if c % groups or f % groups:
        as_groups(groups, c, f, f"x {x_shape}, w {w_shape}, layout (KH, KW, C // groups, F)")
    if wc * groups != c:
        raise ValueError(
            f"with groups={groups}, w must have shape (KH, KW, C // groups, F) = "
            f"(KH, KW, {c // groups}, {f}) for x {x_shape} with C={c}, got w {w_shape}"
        )
    return groups


def as_output_padding(
    value: Any, stride: tuple[int, int], dilation: tuple[int, int], *, same: bool = False
) -> tuple[int, int]:
    """Return ``output_padding`` of a transposed convolution as ``(op_h, op_w)``.

    ``output_padding`` adds rows and columns at the bottom and right of a
    transposed convolution's output: it picks which of the input sizes that
    a strided convolution maps to the same output size is meant. The rule is
    PyTorch's: each entry is an int ``>= 0`` and smaller than
    ``max(stride, dilation)`` along its axis; with ``same`` (``padding="same"``)
    smaller than the stride, since ``"same"`` makes the output
    ``ceil(size / stride)`` and only ``stride`` input sizes share one.

    Parameters
    ----------
    value : int or (int, int)
    stride, dilation : (int, int)
        Already checked ``(sh, sw)`` and ``(dh, dw)``.
    same : bool
        Whether the padding is ``"same"``.

    Raises
    ------
    TypeError
        If an entry is not an integer.
    ValueError
        If an entry is negative or too large; the message gives the stride
        and dilation that bound it.
    """
    op = as_pair("output_padding", value, 0)
    for axis, o, s, d in zip(("rows", "columns"), op, stride, dilation):
        bound = s if same else max(s, d)
        if o >= bound:
            rule = (
                f"smaller than the stride {s} with padding='same'"
                if same
                else f"smaller than max(stride, dilation) = max({s}, {d}) = {bound}"
            )
            shown = op if isinstance(value, (tuple, list, np.ndarray)) else o
            raise ValueError(
                f"output_padding {shown} is too large along the {axis}: {o} must be {rule} "
                f"(stride {stride}, dilation {dilation}), the bound of PyTorch's "
                f"ConvTranspose2d"
            )
    return op
