"""Data augmentation (数据增强) for batches of small grey-scale images, shape (n, h, w).

Each image gets its own random transformation, drawn from ``rng``; all of them are applied
at once (fancy indexing for shifts, one ``scipy.ndimage.map_coordinates`` call for
rotations and one for scaling), with no Python loop over images or pixels. Pixels moved in
from outside the image are 0 (background). dtype and shape are kept.

Functions also accept flattened images (n, h*w) when ``image_shape=(h, w)`` is given, which
is how the digits are fed to an MLP.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array


def _as_images(X, image_shape):
    """Return (images (n, h, w), the original shape) for 3-D input or flat + image_shape."""
    X = as_float_array(X, "X")
    if X.ndim == 3:
        return X, X.shape
    if X.ndim == 2 and image_shape is not None:
        h, w = image_shape
        if X.shape[1] != h * w:
            raise ValueError(f"flat images of shape {image_shape} need X of shape "
                             f"(n, {h * w}), got {X.shape}")
        return X.reshape(X.shape[0], h, w), X.shape
    raise ValueError(f"X must have shape (n, h, w), or (n, h*w) with image_shape=(h, w); got "
                     f"{X.shape}")


def shift_images(X, max_shift: int, rng, *, image_shape=None):
    """Translate each image by a random whole number of pixels in [-max_shift, max_shift]
    along each axis (independently per image and per axis); returns the same shape."""
    images, shape = _as_images(X, image_shape)
    m = int(max_shift)
    if m < 0:
        raise ValueError(f"max_shift must be >= 0, got {max_shift!r}")
    if m == 0:
        return images.reshape(shape).copy()
    rng = np.random.default_rng(rng)
    n, h, w = images.shape
    padded = np.zeros((n, h + 2 * m, w + 2 * m), dtype=images.dtype)
    padded[:, m:m + h, m:m + w] = images
    dy = rng.integers(-m, m + 1, size=n)
    dx = rng.integers(-m, m + 1, size=n)
    rows = np.arange(h)[None, :, None] - dy[:, None, None] + m     # (n, h, 1)
    cols = np.arange(w)[None, None, :] - dx[:, None, None] + m     # (n, 1, w)
    out = padded[np.arange(n)[:, None, None], rows, cols]           # out[i,r,c] = X[i,r-dy,c-dx]
    return out.reshape(shape)


def rotate_images(X, max_degrees: float, rng, *, image_shape=None, order: int = 1):
    """Rotate each image about its centre by a random angle in [-max_degrees, max_degrees]
    (bilinear interpolation, ``order=1``); returns the same shape and dtype."""
    from scipy.ndimage import map_coordinates

    images, shape = _as_images(X, image_shape)
    if max_degrees < 0:
        raise ValueError(f"max_degrees must be >= 0, got {max_degrees!r}")
    if max_degrees == 0:
        return images.reshape(shape).copy()
    rng = np.random.default_rng(rng)
    n, h, w = images.shape
    theta = np.deg2rad(rng.uniform(-max_degrees, max_degrees, size=n))[:, None, None]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    r = np.arange(h, dtype=np.float64)[None, :, None] - cy
    c = np.arange(w, dtype=np.float64)[None, None, :] - cx
    cos, sin = np.cos(theta), np.sin(theta)
    # Inverse mapping: output pixel (r, c) reads the input at the point rotated back.
    src_r = cos * r - sin * c + cy
    src_c = sin * r + cos * c + cx
    idx = np.broadcast_to(np.arange(n, dtype=np.float64)[:, None, None], (n, h, w))
    coords = np.stack([idx, *np.broadcast_arrays(src_r, src_c)])    # (3, n, h, w)
    out = map_coordinates(images, coords, order=order, mode="grid-constant", cval=0.0)
    return out.astype(images.dtype, copy=False).reshape(shape)


def scale_images(X, max_scale: float, rng, *, image_shape=None, order: int = 1):
    """Zoom each image about its centre by a random factor in [1 - max_scale, 1 + max_scale]
    (bilinear interpolation, ``order=1``); returns the same shape and dtype.

    A factor above 1 enlarges the digit (its border is cut off), below 1 shrinks it (the new
    border is background). ``max_scale=0.1`` is a mild ±10 %, which 8×8 digits survive."""
    from scipy.ndimage import map_coordinates

    images, shape = _as_images(X, image_shape)
    if not 0 <= max_scale < 1:
        raise ValueError(f"max_scale must be in [0, 1), got {max_scale!r}")
    if max_scale == 0:
        return images.reshape(shape).copy()
    rng = np.random.default_rng(rng)
    n, h, w = images.shape
    factor = rng.uniform(1 - max_scale, 1 + max_scale, size=n)[:, None, None]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    # Inverse mapping: output pixel (r, c) reads the input at the point scaled back.
    src_r = (np.arange(h, dtype=np.float64)[None, :, None] - cy) / factor + cy
    src_c = (np.arange(w, dtype=np.float64)[None, None, :] - cx) / factor + cx
    idx = np.broadcast_to(np.arange(n, dtype=np.float64)[:, None, None], (n, h, w))
    coords = np.stack([idx, *np.broadcast_arrays(src_r, src_c)])    # (3, n, h, w)
    out = map_coordinates(images, coords, order=order, mode="grid-constant", cval=0.0)
    return out.astype(images.dtype, copy=False).reshape(shape)


def add_noise(X, std: float, rng, *, clip=None):
    """Add Gaussian noise N(0, std²) to every pixel; ``clip=(low, high)`` clips the result.
    Works for any shape; keeps the dtype."""
    X = as_float_array(X, "X")
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std!r}")
    out = X + (std * np.random.default_rng(rng).standard_normal(X.shape)).astype(X.dtype)
    if clip is not None:
        np.clip(out, clip[0], clip[1], out=out)
    return out


def augment_images(X, rng, max_shift: int = 1, max_degrees: float = 10, noise_std: float = 0.0,
                   *, max_scale: float = 0.0, image_shape=None, clip=None):
    """Random rotation, then scaling (if ``max_scale`` > 0), then shift, then noise: a fresh
    variant of every image in the batch."""
    rng = np.random.default_rng(rng)
    out = rotate_images(X, max_degrees, rng, image_shape=image_shape)
    if max_scale > 0:       # no random draw otherwise: the other transforms stay as they were
        out = scale_images(out, max_scale, rng, image_shape=image_shape)
    out = shift_images(out, max_shift, rng, image_shape=image_shape)
    if noise_std > 0:
        out = add_noise(out, noise_std, rng, clip=clip)
    elif clip is not None:
        np.clip(out, clip[0], clip[1], out=out)
    return out


def image_augmenter(image_shape, max_shift: int = 1, max_degrees: float = 10,
                    noise_std: float = 0.0, clip=None, max_scale: float = 0.0):
    """A callable ``(X_batch, rng) -> X_batch`` for ``dlcourse.core.training.train(augment=...)``
    that augments flattened images of ``image_shape``."""
    def augment(X, rng):
        return augment_images(X, rng, max_shift=max_shift, max_degrees=max_degrees,
                              noise_std=noise_std, max_scale=max_scale,
                              image_shape=image_shape, clip=clip)

    augment.__doc__ = (f"augment_images(shift ≤ {max_shift}, rotation ≤ {max_degrees}°, "
                       f"scale ±{max_scale:.0%}, noise {noise_std}) on images of shape "
                       f"{tuple(image_shape)}")
    return augment
