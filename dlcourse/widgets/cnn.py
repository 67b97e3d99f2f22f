"""Widget for convolutional networks: pick an image and a filter, see the feature map."""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array
from dlcourse.models.cnn import conv2d


def _as_filters(filters) -> dict[str, np.ndarray]:
    """dict name -> (k, k), or an array (F, k, k) / (F, 1, k, k) -> {"filter i": (k, k)}."""
    if isinstance(filters, dict):
        items = {str(k): as_float_array(v, f"filter {k!r}") for k, v in filters.items()}
    else:
        arr = as_float_array(filters, "filters")
        if arr.ndim == 4 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 3:
            raise ValueError(f"filters must be a dict of (k, k) arrays or an array of shape "
                             f"(F, k, k) or (F, 1, k, k), got shape {arr.shape}")
        items = {f"filter {i}": f for i, f in enumerate(arr)}
    for name, f in items.items():
        if f.ndim != 2 or f.shape[0] != f.shape[1]:
            raise ValueError(f"filter {name!r} must be a square (k, k) array, got {f.shape}")
    if not items:
        raise ValueError("filters is empty")
    return items


def feature_map_explorer(images, filters, labels=None, padding: int = 1):
    """Choose an image (slider) and a filter (dropdown); see the image, the filter, the
    feature map (特征图) conv(image, filter) and its ReLU.

    images : (n, h, w) or (n, 1, h, w) grey-scale images.
    filters : dict name -> (k, k) array, or (F, k, k) / (F, 1, k, k) (e.g. a trained
        ``Conv2D``'s ``params["W"]``).
    labels : optional (n,) labels shown in the title.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    imgs = as_float_array(images, "images")
    if imgs.ndim == 4 and imgs.shape[1] == 1:
        imgs = imgs[:, 0]
    if imgs.ndim != 3:
        raise ValueError(f"images must have shape (n, h, w) or (n, 1, h, w), got {imgs.shape}")
    bank = _as_filters(filters)
    names = list(bank)

    def draw(index=0, filter_name=names[0]):
        f = bank[filter_name]
        image = imgs[index]
        fmap = conv2d(image[None, None], f[None, None].astype(image.dtype),
                      padding=padding)[0, 0]
        fig, axes = plt.subplots(1, 4, figsize=(11, 2.9))
        panels = [(image, "gray_r", f"image {index}" + (
                      f" (label {labels[index]})" if labels is not None else "")),
                  (f, "RdBu_r", f"{filter_name} ({f.shape[0]}×{f.shape[1]})"),
                  (fmap, "RdBu_r", "feature map"),
                  (np.maximum(fmap, 0), "viridis", "after ReLU")]
        for ax, (data, cmap, title) in zip(axes, panels, strict=True):
            if cmap == "RdBu_r":
                lim = float(np.abs(data).max()) or 1.0
                im = ax.imshow(data, cmap=cmap, vmin=-lim, vmax=lim)
            else:
                im = ax.imshow(data, cmap=cmap)
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        draw,
        index=widgets.IntSlider(value=0, min=0, max=len(imgs) - 1, description="image",
                                continuous_update=False),
        filter_name=widgets.Dropdown(options=names, value=names[0], description="filter"),
    )


def image_grid(maps, ncols: int = 8, pad: int = 1) -> np.ndarray:
    """Tile (n, h, w) maps into one 2-D array (rows of ``ncols``), NaN between tiles.

    One ``imshow`` of the result draws many filters or feature maps far faster than a grid
    of matplotlib axes. Each tile is scaled to [-1, 1] by its own largest absolute value,
    so weak and strong maps are equally visible.
    """
    maps = as_float_array(maps, "maps", ndim=3, shape_hint="(n, h, w)")
    n, h, w = maps.shape
    n_rows = -(-n // ncols)
    grid = np.full((n_rows * (h + pad) - pad, ncols * (w + pad) - pad), np.nan)
    scale = np.abs(maps).reshape(n, -1).max(axis=1)
    scale[scale == 0] = 1.0
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = \
            maps[i] / scale[i]
    return grid
