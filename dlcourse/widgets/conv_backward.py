"""Widget for the convolution's backward pass: where one output's gradient goes, and which
outputs (through which weights) one input pixel's gradient comes from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcourse.core.checks import as_float_array
from dlcourse.models.cnn import conv_output_size


@dataclass(frozen=True)
class GradientFootprint:
    """What the gradient of one output pixel touches, and what one input pixel receives.

    For a single-channel convolution of ``image`` (H, W) with ``weights`` (k, k), stride s and
    zero padding p, with output (i, j) and input pixel (r, t) (unpadded coordinates):

    - ``dx`` (H, W): dL/dx when dout is 1 at output (i, j) and 0 elsewhere — the weights laid
      on the patch that output read, cropped to the image;
    - ``dW`` (k, k): dL/dW for the same dout — the padded input's patch under the filter;
    - ``reads`` (H_out, W_out): for input pixel (r, t), the weight through which each output
      read it (NaN where an output's patch does not cover it). dx[r, t] is the sum of
      ``reads * dout``; at stride 1 and away from the border it is the kernel flipped;
    - ``patch`` (row, column) of the patch's top-left corner in padded coordinates.
    """

    dx: np.ndarray
    dW: np.ndarray
    reads: np.ndarray
    patch: tuple[int, int]


def gradient_footprint(image, weights, output=(0, 0), pixel=(0, 0), stride: int = 1,
                       padding: int = 0) -> GradientFootprint:
    """The :class:`GradientFootprint` of output ``(i, j)`` and input pixel ``(r, t)``.

    image : (H, W) one channel; weights : (k, k) one filter. Raises ValueError when the
    output or the pixel lies outside the output (H_out, W_out) or the image.
    """
    x = as_float_array(image, "image", ndim=2, shape_hint="(H, W)")
    w = as_float_array(weights, "weights", ndim=2, shape_hint="(k, k)")
    k = w.shape[0]
    if w.shape != (k, k):
        raise ValueError(f"weights must be a square (k, k) filter, got shape {w.shape}")
    H, W = x.shape
    Ho = conv_output_size(H, k, stride, padding)
    Wo = conv_output_size(W, k, stride, padding)
    i, j = (int(v) for v in output)
    r, t = (int(v) for v in pixel)
    if not (0 <= i < Ho and 0 <= j < Wo):
        raise ValueError(f"output {output} is outside the ({Ho}, {Wo}) output")
    if not (0 <= r < H and 0 <= t < W):
        raise ValueError(f"pixel {pixel} is outside the ({H}, {W}) image")
    xp = np.pad(x, padding)
    top, left = i * stride, j * stride
    dxp = np.zeros_like(xp)
    dxp[top:top + k, left:left + k] = w                    # dout = 1 at (i, j), times W
    dx = dxp[padding:padding + H, padding:padding + W]
    dW = xp[top:top + k, left:left + k].copy()
    reads = np.full((Ho, Wo), np.nan)
    rp, tp = r + padding, t + padding                      # the pixel in padded coordinates
    for a in range(Ho):
        u = rp - a * stride                                # the filter row that reads it
        if not 0 <= u < k:
            continue
        for b in range(Wo):
            v = tp - b * stride
            if 0 <= v < k:
                reads[a, b] = w[u, v]
    return GradientFootprint(dx=dx, dW=dW, reads=reads, patch=(top, left))


def conv_gradient_explorer(image, weights):
    """Sliders for an output pixel (i, j), an input pixel (r, t), the stride and the padding;
    four panels: the image with the patch output (i, j) read, its gradient sent to dx (the
    weights on that patch), its contribution to dW (the patch), and, for pixel (r, t), the
    weight through which each output read it (the flipped kernel, at stride 1).

    image : (H, W) grey-scale image; weights : (k, k) filter.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    x = as_float_array(image, "image", ndim=2, shape_hint="(H, W)")
    w = as_float_array(weights, "weights", ndim=2, shape_hint="(k, k)")
    H, W = x.shape
    k = w.shape[0]

    def draw(out_row=3, out_col=3, pixel_row=3, pixel_col=3, stride=1, padding=1):
        Ho = conv_output_size(H, k, stride, padding)
        Wo = conv_output_size(W, k, stride, padding)
        i, j = min(out_row, Ho - 1), min(out_col, Wo - 1)
        fp = gradient_footprint(x, w, (i, j), (pixel_row, pixel_col), stride, padding)
        lim = float(np.abs(w).max()) or 1.0
        low, high = float(x.min()), float(x.max())
        fig, axes = plt.subplots(1, 4, figsize=(12, 3.6))
        axes[0].imshow(np.pad(x, padding), cmap="gray_r", vmin=low, vmax=high)
        top, left = fp.patch
        axes[0].add_patch(Rectangle((left - 0.5, top - 0.5), k, k, fill=False, color="tab:red",
                                    lw=2))
        axes[0].plot(pixel_col + padding, pixel_row + padding, "o", color="tab:blue")
        axes[0].set_title(f"padded input: patch of out[{i}, {j}] (red),\n"
                          f"pixel ({pixel_row}, {pixel_col}) (blue)", fontsize=9)
        axes[1].imshow(fp.dx, cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[1].set_title(f"dx from dout[{i}, {j}] = 1:\nthe weights on the patch, cropped",
                          fontsize=9)
        axes[2].imshow(fp.dW, cmap="gray_r", vmin=low, vmax=high)
        axes[2].set_title(f"dW from dout[{i}, {j}] = 1:\nthe input patch", fontsize=9)
        axes[3].imshow(np.ma.masked_invalid(fp.reads), cmap="RdBu_r", vmin=-lim, vmax=lim)
        for (a, b), value in np.ndenumerate(fp.reads):
            if not np.isnan(value):
                axes[3].text(b, a, f"{value:.2g}", ha="center", va="center", fontsize=7,
                             color="white" if abs(value) > lim / 2 else "black")
        axes[3].set_xlim(-0.5, Wo - 0.5)
        axes[3].set_ylim(Ho - 0.5, -0.5)
        axes[3].set_title(f"outputs reading pixel ({pixel_row}, {pixel_col})\n"
                          "and the weight each used", fontsize=9)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        plt.tight_layout()
        plt.show()

    def slider(value, top, name):
        return widgets.IntSlider(value=value, min=0, max=top, description=name,
                                 continuous_update=False)

    return widgets.interactive(
        draw,
        out_row=slider(min(3, H - 1), H - 1, "out row i"),
        out_col=slider(min(3, W - 1), W - 1, "out col j"),
        pixel_row=slider(min(3, H - 1), H - 1, "pixel row r"),
        pixel_col=slider(min(3, W - 1), W - 1, "pixel col t"),
        stride=widgets.Dropdown(options=[1, 2, 3], value=1, description="stride"),
        padding=widgets.Dropdown(options=list(range(k)), value=min(1, k - 1),
                                 description="padding"),
    )
