"""A widget for GAN training: scrub through precomputed snapshots of the generator.

Works on a ``dlcourse.torch.gan.GANHistory`` (numpy arrays only, so this module never imports
torch): 2-D samples are drawn as points over the target (and D's probability when it was
recorded), 64-D samples as a grid of 8×8 images.
"""

from __future__ import annotations

import numpy as np


def _image_grid(samples: np.ndarray, n_cols: int = 8, side: int = 8) -> np.ndarray:
    """Tile the first rows of ``samples`` (n, side*side) into one image."""
    n = (len(samples) // n_cols) * n_cols
    imgs = samples[:n].reshape(-1, n_cols, side, side)
    padded = np.pad(imgs, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-1.0)
    rows = padded.shape[0]
    return padded.transpose(0, 2, 1, 3).reshape(rows * (side + 2), n_cols * (side + 2))


def gan_scrubber(history, target=None, n_images: int = 32):
    """A slider over the training steps recorded in ``history`` (a ``GANHistory``).

    Left: the generator's samples at that step (2-D: points over the target's samples,
    with D's probability "real" as the background when ``history.d_grid`` exists; 64-D:
    8×8 images). Right: both losses, with a line at the chosen step. With a 2-D
    ``target`` (``MixtureTarget``) the title also reports the modes covered.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.studies.generative_metrics import modes_covered

    steps = np.asarray(history.snapshot_steps)
    dim = history.snapshots.shape[2]
    if dim not in (2, 64):
        raise ValueError(f"gan_scrubber draws 2-D points or 8×8 images (64-D), got d={dim}")
    reference = target.sample(1000, seed=1) if target is not None else None
    if dim == 2:
        everything = history.snapshots.reshape(-1, 2)
        if reference is not None:
            everything = np.concatenate([everything, reference])
        low, high = np.percentile(everything, [1, 99], axis=0)
        pad = 0.15 * (high - low) + 0.2
        lim = (low - pad, high + pad)

    last = len(steps) - 1

    def draw(index=last):
        samples = history.snapshots[index]
        fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
        title = f"step {steps[index]}"
        if dim == 2:
            if history.d_grid is not None:
                side = int(round(np.sqrt(len(history.grid))))
                gx = history.grid[:, 0].reshape(side, side)
                gy = history.grid[:, 1].reshape(side, side)
                mesh = ax.contourf(gx, gy, history.d_grid[index].reshape(side, side),
                                   levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
                fig.colorbar(mesh, ax=ax, label="D(x): probability 'real'")
            if reference is not None:
                ax.scatter(reference[:, 0], reference[:, 1], s=4, c="gray", alpha=0.4,
                           label="target")
                covered = modes_covered(samples, target.centers, 3 * target.std)
                title += f": {covered}/{target.n_modes} modes covered"
            ax.scatter(samples[:, 0], samples[:, 1], s=6, c="tab:orange", label="G(z)")
            ax.set_xlim(lim[0][0], lim[1][0])
            ax.set_ylim(lim[0][1], lim[1][1])
            ax.set_aspect("equal")
            ax.legend(loc="upper right", fontsize=8)
        else:
            ax.imshow(_image_grid(samples[:n_images]), cmap="gray_r", vmin=-1, vmax=1)
            ax.axis("off")
        ax.set_title(title)
        x = np.arange(1, len(history.d_loss) + 1)
        ax_loss.plot(x, history.d_loss, lw=0.7, label="discriminator loss")
        ax_loss.plot(x, history.g_loss, lw=0.7, label="generator loss")
        ax_loss.axvline(steps[index], color="black", ls="--")
        ax_loss.axhline(2 * np.log(2), color="gray", ls=":", label="D loss at D = 1/2: 2 log 2")
        ax_loss.set_xlabel("training step")
        ax_loss.legend(fontsize=8)
        fig.tight_layout()
        plt.show()

    return widgets.interactive(
        draw,
        index=widgets.IntSlider(value=last, min=0, max=last, step=1,
                                description="snapshot", continuous_update=False),
    )
