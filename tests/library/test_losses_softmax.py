"""softmax, the fused softmax cross-entropy, and the 0-1 loss."""

import numpy as np
import pytest

from dlcourse.core.activations import softmax
from dlcourse.core.gradcheck import FLOAT64_TOLERANCE, numerical_gradient, relative_error
from dlcourse.core.losses import softmax_cross_entropy, zero_one_loss


def test_softmax_is_a_stable_distribution(rng):
    z = rng.standard_normal((5, 4))
    p = softmax(z)
    assert np.allclose(p.sum(axis=1), 1) and np.all(p > 0)
    assert np.allclose(p, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    assert np.allclose(softmax(z + 1000.0), p), "shift invariance, no overflow"
    with np.errstate(over="raise", invalid="raise"):
        assert np.allclose(softmax(np.array([[1000.0, -1000.0]])), [[1.0, 0.0]])
    assert softmax(z.astype(np.float32)).dtype == np.float32


def test_softmax_cross_entropy_gradient_matches_finite_differences(rng):
    z = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, 6)
    loss, grad = softmax_cross_entropy(z, y)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(z, y)[0], z, h=1e-5)
    assert relative_error(grad, numeric) < FLOAT64_TOLERANCE
    assert np.allclose(grad, (softmax(z) - np.eye(5)[y]) / 6)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_softmax_cross_entropy_matches_torch(dtype, tol, rng):
    import torch

    z = (rng.standard_normal((32, 10)) * 5).astype(dtype)
    y = rng.integers(0, 10, 32)
    loss, grad = softmax_cross_entropy(z, y)
    zt = torch.tensor(z, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(zt, torch.tensor(y))
    t_loss.backward()
    assert abs(loss - t_loss.item()) < tol * 10
    assert np.max(np.abs(grad - zt.grad.numpy())) < tol
    assert grad.dtype == dtype


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = softmax_cross_entropy(z, np.array([0, 0]))
    assert np.isclose(loss, 1000.0), "first row is right (0), second wrong by 2000 -> mean 1000"
    assert np.all(np.isfinite(grad))
    assert np.isclose(softmax_cross_entropy(np.zeros((4, 3)), np.arange(4) % 3)[0], np.log(3))


def test_zero_one_loss():
    assert zero_one_loss(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.25
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert zero_one_loss(scores, np.array([0, 1, 1])) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="same shape"):
        zero_one_loss(np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="empty"):
        zero_one_loss(np.array([]), np.array([]))


def test_bad_labels_raise_clear_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"y must have shape \(3,\)"):
        softmax_cross_entropy(z, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"labels must lie in 0..3"):
        softmax_cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"labels must lie in 0..3"):
        softmax_cross_entropy(z, np.array([0, -1, 2]))
    with pytest.raises(TypeError, match="integer class labels"):
        softmax_cross_entropy(z, np.array([0.5, 1, 2]))
    with pytest.raises(ValueError, match=r"\(n_samples, n_classes\)"):
        softmax_cross_entropy(np.zeros(4), np.array([0]))
    # float labels that are whole numbers are accepted
    assert softmax_cross_entropy(z, np.array([0.0, 1.0, 3.0]))[0] == pytest.approx(np.log(4))
