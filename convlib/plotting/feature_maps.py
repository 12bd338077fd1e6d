"""A grid of feature maps, optionally under the kernels that made them.

Used by the convolution chapter (hand-made filters on a digit) and the
capstone (what the trained network's layers respond to).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._checks import as_int, as_numeric_array, check_ndim
from .primitives import Formatter, as_grid, draw_array, new_figure

__all__ = ["feature_maps_figure"]


def feature_maps_figure(
    maps: Any,
    *,
    image: Any = None,
    kernels: Any = None,
    titles: Sequence[str] | None = None,
    cmap: str = "gray",
    image_cmap: str = "gray",
    symmetric: bool = False,
    ncols: int | None = None,
    kernel_fmt: Formatter = "{:.2g}",
    panel: float = 1.7,
    dpi: float = 100,
) -> Figure:
    """A grid of feature maps, optionally under the kernels that made them.

    Parameters
    ----------
    maps : array_like, shape (H, W, F) or (1, H, W, F)
        ``F`` feature maps of one image, channels last (NHWC with N = 1).
    image : array_like, shape (H0, W0), optional
        The input, drawn first and titled ``"input"``.
    kernels : array_like, shape (KH, KW, F) or (KH, KW, 1, F), optional
        One single-channel kernel per map, drawn with its numbers above the
        map (on a symmetric colour scale, so zero is white).
    titles : sequence of str, optional
        One title per map; default ``"map 0"``, ``"map 1"``, ...
    cmap : str
        Colour map of the feature maps.
    image_cmap : str
        Colour map of ``image`` (on its own data range).
    symmetric : bool
        Colour each map on ``[-m, m]`` with ``m = max |map|``, so that zero
        is always the same colour; otherwise each map uses its own range.
    ncols : int, optional
        Panels per row (the input counts as a panel); default all in one row.
    kernel_fmt : str or callable
        Number format of the kernels.
    panel : float
        Side of one panel in inches.
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per map (plus one for ``image``, plus one per kernel), each
        holding one image; maps are drawn in order, data unchanged.
    """
    m = as_numeric_array("maps", maps)
    if m.ndim == 4:
        if m.shape[0] != 1:
            raise ValueError(
                f"maps must be (H, W, F) or (1, H, W, F) for a single image, got {m.shape}"
            )
        m = m[0]
    check_ndim("maps", m, 3, "(H, W, F)")
    f = m.shape[2]
    if titles is not None and len(titles) != f:
        raise ValueError(f"titles has {len(titles)} entries but maps has {f} channels ({m.shape})")
    k = None
    if kernels is not None:
        k = as_numeric_array("kernels", kernels)
        if k.ndim == 4 and k.shape[2] == 1:
            k = k[:, :, 0, :]
        check_ndim("kernels", k, 3, "(KH, KW, F) or (KH, KW, 1, F)")
        if k.shape[2] != f:
            raise ValueError(f"kernels {k.shape} must hold one kernel per map, F = {f}")
    # (title, data, kernel, is_feature_map)
    panels: list[tuple[str, np.ndarray, np.ndarray | None, bool]] = []
    if image is not None:
        panels.append(("input", as_grid("image", image), None, False))
    for c in range(f):
        title = titles[c] if titles is not None else f"map {c}"
        kern = None if k is None else k[:, :, c].astype(np.float64)
        panels.append((title, m[:, :, c].astype(np.float64), kern, True))
    n = len(panels)
    ncols = n if ncols is None else min(as_int("ncols", ncols, 1), n)
    nrows = -(-n // ncols)
    rows_per = 2 if k is not None else 1
    ratios = [0.65, 1.0] * nrows if k is not None else [1.0] * nrows
    fig = new_figure(figsize=(ncols * panel, panel * sum(ratios)), dpi=dpi, layout="constrained")
    axes = fig.subplots(nrows * rows_per, ncols, squeeze=False, height_ratios=ratios)
    for idx in range(nrows * ncols):
        r, c = divmod(idx, ncols)
        ax_map = axes[r * rows_per + rows_per - 1, c]
        ax_ker = axes[r * rows_per, c] if k is not None else None
        if idx >= n:
            ax_map.remove()
            if ax_ker is not None:
                ax_ker.remove()
            continue
        title, data, kern, is_map = panels[idx]
        if symmetric and is_map:
            lim = float(np.max(np.abs(data))) or 1.0
            ax_map.imshow(data, cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest")
        else:
            ax_map.imshow(data, cmap=cmap if is_map else image_cmap, interpolation="nearest")
        ax_map.set_title(title, fontsize=9)
        ax_map.set_xticks([])
        ax_map.set_yticks([])
        if ax_ker is not None:
            if kern is None:
                ax_ker.axis("off")
            else:
                lim = float(np.max(np.abs(kern))) or 1.0
                draw_array(
                    ax_ker, kern, fmt=kernel_fmt, cmap="RdBu_r", vmin=-lim, vmax=lim, fontsize=7
                )
    return fig
