"""The convolution-gradient footprint agrees with Conv2D.backward, and its widget draws."""

import numpy as np
import pytest

from dlcourse.models.cnn import Conv2D
from dlcourse.widgets.conv_backward import conv_gradient_explorer, gradient_footprint

CASES = [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)]


def _library_gradients(image, weights, stride, padding, dout):
    layer = Conv2D(1, 1, weights.shape[0], stride=stride, padding=padding, dtype=np.float64)
    layer.params["W"][0, 0] = weights
    _, cache = layer.forward(image[None, None], training=True)
    dx = layer.backward(dout[None, None], cache)
    return dx[0, 0], layer.grads["W"][0, 0].copy()


@pytest.mark.parametrize(("stride", "padding"), CASES)
def test_one_outputs_gradient_is_conv2d_backward_with_a_one_hot_dout(rng, stride, padding):
    image, weights = rng.standard_normal((7, 6)), rng.standard_normal((3, 3))
    probe = gradient_footprint(image, weights, stride=stride, padding=padding)
    Ho, Wo = probe.reads.shape
    for i, j in [(0, 0), (Ho - 1, Wo - 1), (Ho // 2, 0)]:
        dout = np.zeros((Ho, Wo))
        dout[i, j] = 1.0
        fp = gradient_footprint(image, weights, (i, j), stride=stride, padding=padding)
        dx, dW = _library_gradients(image, weights, stride, padding, dout)
        assert np.allclose(fp.dx, dx) and np.allclose(fp.dW, dW)


@pytest.mark.parametrize(("stride", "padding"), CASES)
def test_a_pixels_gradient_is_the_sum_of_the_weights_that_read_it(rng, stride, padding):
    image, weights = rng.standard_normal((7, 6)), rng.standard_normal((3, 3))
    Ho, Wo = gradient_footprint(image, weights, stride=stride, padding=padding).reads.shape
    dout = rng.standard_normal((Ho, Wo))
    dx, _ = _library_gradients(image, weights, stride, padding, dout)
    for r, t in [(0, 0), (3, 2), (6, 5)]:
        reads = gradient_footprint(image, weights, pixel=(r, t), stride=stride,
                                   padding=padding).reads
        assert np.isclose(np.nansum(reads * dout), dx[r, t])


def test_at_stride_one_an_inner_pixel_sees_the_kernel_flipped(rng):
    weights = rng.standard_normal((3, 3))
    reads = gradient_footprint(np.zeros((8, 8)), weights, pixel=(4, 4), padding=1).reads
    assert np.allclose(reads[3:6, 3:6], weights[::-1, ::-1])
    assert np.isnan(reads).sum() == reads.size - 9


def test_positions_outside_are_refused():
    with pytest.raises(ValueError, match="outside the"):
        gradient_footprint(np.zeros((5, 5)), np.ones((3, 3)), output=(3, 0))
    with pytest.raises(ValueError, match="outside the"):
        gradient_footprint(np.zeros((5, 5)), np.ones((3, 3)), pixel=(0, 5))
    with pytest.raises(ValueError, match="square"):
        gradient_footprint(np.zeros((5, 5)), np.ones((3, 2)))


def test_conv_gradient_explorer_draws_headless_and_redraws(rng):
    ipywidgets = pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    widget = conv_gradient_explorer(rng.random((8, 8)), rng.standard_normal((3, 3)))
    assert isinstance(widget, ipywidgets.interactive)
    for control in widget.kwargs_widgets:
        if control.description == "stride":
            control.value = 2
        if control.description == "out row i":
            control.value = 7                   # beyond the 4x4 output: clipped, not an error
    widget.update()
    plt.close("all")
