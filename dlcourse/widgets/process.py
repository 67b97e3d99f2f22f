"""Widgets for the training process: data augmentation on small images."""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array


def augmentation_explorer(images, n_show: int = 8):
    """Sliders for shift, rotation, scaling and noise applied to a few images (n, h, w).

    The top row shows the originals, the two rows below random augmented copies drawn
    with the chosen limits (``dlcourse.data.augment_images``); the title reports how many
    pixels changed on average.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.data.augment import augment_images

    images = as_float_array(images, "images", ndim=3, shape_hint="(n, h, w)")[:n_show]

    def draw(max_shift=1, max_degrees=10.0, max_scale=0.0, noise_std=0.0, seed=0):
        rng = np.random.default_rng(seed)
        copies = [augment_images(images, rng, max_shift=max_shift, max_degrees=max_degrees,
                                 max_scale=max_scale, noise_std=noise_std, clip=(0.0, 1.0))
                  for _ in range(2)]
        changed = np.mean([np.abs(c - images) > 0.05 for c in copies])
        fig, axes = plt.subplots(3, len(images), figsize=(1.1 * len(images), 3.6))
        for row, batch in enumerate([images, *copies]):
            for col, image in enumerate(batch):
                ax = axes[row, col]
                ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
            axes[row, 0].set_ylabel("original" if row == 0 else f"copy {row}", fontsize=8)
        fig.suptitle(f"shift ≤ {max_shift} px, rotation ≤ {max_degrees:.0f}°, scale "
                     f"±{max_scale:.0%}, noise σ = {noise_std:.2f}: {changed:.0%} of pixels "
                     "changed", fontsize=10)
        plt.show()

    return widgets.interactive(
        draw,
        max_shift=widgets.IntSlider(value=1, min=0, max=3, description="max shift",
                                    continuous_update=False),
        max_degrees=widgets.FloatSlider(value=10.0, min=0.0, max=45.0, step=5.0,
                                        description="max degrees", continuous_update=False),
        max_scale=widgets.FloatSlider(value=0.0, min=0.0, max=0.3, step=0.05,
                                      description="max scale", continuous_update=False),
        noise_std=widgets.FloatSlider(value=0.0, min=0.0, max=0.5, step=0.05,
                                      description="noise std", continuous_update=False),
        seed=widgets.IntSlider(value=0, min=0, max=20, description="seed",
                               continuous_update=False),
    )
