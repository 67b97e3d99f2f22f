"""The micro-autograd against torch autograd (float64) and finite differences."""

import numpy as np
import pytest
import torch

from dlcourse.core.autograd import Tensor, unbroadcast
from dlcourse.core.gradcheck import FLOAT64_TOLERANCE, numerical_gradient, relative_error


def _both(fn, arrays):
    """Run fn on micro-autograd Tensors and on torch tensors; return both value+grads."""
    ours = [Tensor(a.copy()) for a in arrays]
    out = fn(*ours)
    out.backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_t = fn(*theirs)
    out_t.backward()
    return (out.data, [t.grad for t in ours]), (out_t.item(), [t.grad.numpy() for t in theirs])


OPS = {
    "add_broadcast": (lambda a, b: (a + b).sum(), [(3, 4), (4,)]),
    "mul_broadcast": (lambda a, b: (a * b).sum(), [(3, 4), (3, 1)]),
    "sub_div": (lambda a, b: ((a - b) / (b * b + 1.0)).sum(), [(2, 3), (2, 3)]),
    "pow": (lambda a, b: ((a ** 3) * b).sum(), [(5,), (5,)]),
    "matmul": (lambda a, b: ((a @ b) * (a @ b)).mean(), [(3, 4), (4, 2)]),
    "tanh": (lambda a, b: (a.tanh() * b).sum(), [(4, 3), (4, 3)]),
    "relu": (lambda a, b: (a.relu() * b).sum(), [(4, 3), (4, 3)]),
    "sigmoid": (lambda a, b: (a.sigmoid() * b).sum(), [(6,), (6,)]),
    "exp_log": (lambda a, b: ((a * a + 1.0).log() + (b * 0.5).exp()).sum(), [(3,), (3,)]),
    "reuse": (lambda a, b: (a * a * a + a * b).sum(), [(2, 2), (2, 2)]),
    "rsub_radd_rmul": (lambda a, b: (1.0 - a + 2.0 * b + 3.0).sum(), [(3,), (3,)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_operation_matches_torch(name, rng):
    fn, shapes = OPS[name]
    arrays = [rng.standard_normal(s) for s in shapes]
    (value, grads), (value_t, grads_t) = _both(fn, arrays)
    assert np.isclose(float(value), value_t, rtol=1e-12, atol=1e-12)
    for g, gt in zip(grads, grads_t, strict=True):
        assert g.shape == gt.shape
        assert np.allclose(g, gt, rtol=1e-10, atol=1e-12), f"{name}: {g} vs {gt}"


def test_tiny_mlp_matches_torch_and_finite_differences(rng):
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4),
              "W2": rng.standard_normal((4, 1)), "b2": rng.standard_normal(1)}

    def loss_fn(W1, b1, W2, b2):
        h = (Tensor(x) @ W1 + b1).tanh() if isinstance(W1, Tensor) else torch.tanh(
            torch.tensor(x) @ W1 + b1)
        pred = h @ W2 + b2
        target = Tensor(y) if isinstance(W1, Tensor) else torch.tensor(y)
        return ((pred - target) ** 2).mean()

    names = list(params)
    (value, grads), (value_t, grads_t) = _both(loss_fn, [params[k] for k in names])
    assert np.isclose(float(value), value_t, rtol=1e-12)
    for name, g, gt in zip(names, grads, grads_t, strict=True):
        assert relative_error(g, gt) < 1e-10, name

    arrays = {k: v.copy() for k, v in params.items()}

    def plain_loss():
        h = np.tanh(x @ arrays["W1"] + arrays["b1"])
        return float(np.mean((h @ arrays["W2"] + arrays["b2"] - y) ** 2))

    for name, g in zip(names, grads, strict=True):
        assert relative_error(g, numerical_gradient(plain_loss, arrays[name])) < \
            FLOAT64_TOLERANCE, name


def test_backward_twice_recomputes_instead_of_accumulating():
    a = Tensor([1.0, 2.0])
    out = (a * a).sum()
    out.backward()
    out.backward()
    assert np.allclose(a.grad, [2.0, 4.0])


def test_backward_needs_a_scalar():
    with pytest.raises(ValueError, match="scalar"):
        (Tensor(np.ones(3)) * 2.0).backward()


def test_integers_become_float_and_repr():
    t = Tensor([1, 2, 3], name="x")
    assert t.data.dtype == np.float64
    assert "x" in repr(t) and "(3,)" in repr(t)
    assert "op='+'" in repr(t + 1)


def test_float32_stays_float32():
    t = Tensor(np.ones(2, dtype=np.float32))
    out = (t * t).sum()
    out.backward()
    assert t.grad.dtype == np.float32


def test_unbroadcast_shapes():
    g = np.ones((2, 3, 4))
    assert unbroadcast(g, (4,)).tolist() == [6.0] * 4
    assert unbroadcast(g, (3, 1)).shape == (3, 1)
    assert unbroadcast(g, ()).shape == ()


def test_power_requires_a_constant():
    with pytest.raises(TypeError):
        Tensor(2.0) ** Tensor(3.0)


def test_backprop_explorer_graph_and_widget():
    from dlcourse.widgets.frameworks import backprop_explorer, expression_graph, graph_layout

    out = expression_graph(x=1.0, w=-2.0, b=0.5, c=1.5, activation="tanh")
    out.backward()
    order = out.topological_order()
    assert [t.name for t in order][-1] == "out" and len(order) == 8
    leaves = {t.name: t for t in order if not t._parents}
    z = -2.0 * 1.0 + 0.5
    assert np.isclose(float(out.data), 1.5 * np.tanh(z))
    assert np.isclose(float(leaves["x"].grad), 1.5 * (1 - np.tanh(z) ** 2) * -2.0)
    assert np.isclose(float(leaves["c"].grad), np.tanh(z))
    assert len(set(graph_layout(out).values())) == 8, "boxes must not overlap"
    assert backprop_explorer().children
