"""Optimizers against torch.optim step by step; schedules; L1/L2 penalties."""

import math

import numpy as np
import pytest

from dlcourse.core.gradcheck import numerical_gradient, relative_error
from dlcourse.core.layers import MLP, Dense
from dlcourse.core.module import Module
from dlcourse.core.optim import SGD, Adam, RMSprop
from dlcourse.core.regularization import l1_penalty, l2_penalty
from dlcourse.core.schedules import ConstantLR, CosineLR, ExponentialLR, StepLR


class TwoArrays(Module):
    """A parameter holder (no forward), like the 2-D point the optimizer race moves."""

    def __init__(self, rng):
        super().__init__()
        self.params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}


CASES = [
    (SGD, {"lr": 0.1}, "SGD", {"lr": 0.1}),
    (SGD, {"lr": 0.05, "momentum": 0.9}, "SGD", {"lr": 0.05, "momentum": 0.9}),
    (RMSprop, {"lr": 0.01, "alpha": 0.9}, "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}),
    (RMSprop, {}, "RMSprop", {"lr": 0.01}),
    (Adam, {"lr": 0.01}, "Adam", {"lr": 0.01}),
    (Adam, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}, "Adam",
     {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}),
]


@pytest.mark.parametrize("ours,kwargs,theirs,torch_kwargs", CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_optimizer_matches_torch_step_by_step(ours, kwargs, theirs, torch_kwargs, rng):
    import torch

    model = TwoArrays(rng)
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in model.params.items()}
    opt = ours(model, **kwargs)
    t_opt = getattr(torch.optim, theirs)(list(tensors.values()), **torch_kwargs)
    for _ in range(8):
        for k in model.params:
            g = rng.standard_normal(model.params[k].shape)
            model.grads[k][...] = g
            tensors[k].grad = torch.tensor(g.copy())
        opt.step()
        t_opt.step()
        for k, v in model.params.items():
            assert np.max(np.abs(v - tensors[k].detach().numpy())) < 1e-12, (theirs, k)


def test_optimizers_drive_a_quadratic_to_its_minimum():
    for make in [lambda m: SGD(m, lr=0.1), lambda m: SGD(m, lr=0.05, momentum=0.9),
                 lambda m: RMSprop(m, lr=0.01), lambda m: Adam(m, lr=0.05)]:
        model = TwoArrays(np.random.default_rng(0))
        opt = make(model)
        for _ in range(500):
            for k, p in model.params.items():      # loss = 1/2 |p - 1|^2
                model.grads[k][...] = p - 1.0
            opt.step()
        assert max(np.max(np.abs(p - 1.0)) for p in model.params.values()) < 0.02, opt


def test_lr_is_settable_and_zero_grad(rng):
    model = TwoArrays(rng)
    opt = SGD(model, lr=0.1)
    opt.lr = 0.0 + 1e-3
    before = model.params["W"].copy()
    model.grads["W"][...] = 1.0
    opt.step()
    assert np.allclose(model.params["W"], before - 1e-3)
    opt.zero_grad()
    assert not np.any(model.grads["W"])
    assert "SGD(lr=0.001" in repr(opt)


def test_optimizer_bad_arguments():
    model = Dense(2, 2)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        SGD(model, lr=-0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD(model, momentum=1.0)
    with pytest.raises(ValueError, match="betas"):
        Adam(model, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="alpha"):
        RMSprop(model, alpha=1.5)
    with pytest.raises(TypeError, match="named_parameters"):
        Adam([np.zeros(3)])
    with pytest.raises(ValueError, match="no parameters"):
        Adam(Module())


def test_schedules_follow_their_formulas():
    assert [ConstantLR(0.1)(e) for e in (0, 5)] == [0.1, 0.1]
    step = StepLR(0.1, step_size=3, gamma=0.5)
    assert [step(e) for e in range(7)] == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025])
    exp = ExponentialLR(0.2, gamma=0.9)
    assert [exp(e) for e in range(4)] == pytest.approx([0.2 * 0.9**e for e in range(4)])
    cos = CosineLR(0.1, total_epochs=10, min_lr=0.01)
    assert cos(0) == pytest.approx(0.1) and cos(10) == pytest.approx(0.01)
    assert cos(5) == pytest.approx(0.055) and cos(20) == pytest.approx(0.01)
    for e in range(10):
        assert cos(e) == pytest.approx(0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2)
    with pytest.raises(ValueError, match="epoch must be an integer >= 0"):
        step(-1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(0.1, step_size=0)
    with pytest.raises(ValueError, match="min_lr"):
        CosineLR(0.1, 10, min_lr=0.5)


def test_schedules_match_torch_lr_schedulers():
    import torch

    def torch_lrs(make, epochs):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched, lrs = make(opt), []
        for _ in range(epochs):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return lrs

    lr = torch.optim.lr_scheduler
    pairs = [(StepLR(0.1, 4, 0.3), lambda o: lr.StepLR(o, 4, 0.3)),
             (ExponentialLR(0.1, 0.8), lambda o: lr.ExponentialLR(o, 0.8)),
             (CosineLR(0.1, 12, 0.001), lambda o: lr.CosineAnnealingLR(o, 12, 0.001))]
    for ours, theirs in pairs:
        assert [ours(e) for e in range(12)] == pytest.approx(torch_lrs(theirs, 12), rel=1e-6)


def test_l2_and_l1_penalties_values_and_gradients(rng):
    model = MLP([3, 4, 2], seed=0, dtype=np.float64)
    for _, p, _ in model.named_parameters():
        p[...] = rng.standard_normal(p.shape)
    weights = [model[0].params["W"], model[2].params["W"]]
    lam = 0.3
    for penalty, value in [(l2_penalty, lam / 2 * sum(np.sum(W**2) for W in weights)),
                           (l1_penalty, lam * sum(np.sum(np.abs(W)) for W in weights))]:
        model.zero_grad()
        assert penalty(model, lam) == pytest.approx(value)
        for name, p, g in model.named_parameters():
            if name.endswith("b"):
                assert not np.any(g), f"{penalty.__name__} must not touch biases ({name})"
                continue
            numeric = numerical_gradient(lambda f=penalty: f(_Frozen(model), lam), p)
            assert relative_error(g, numeric) < 1e-6, (penalty.__name__, name)


class _Frozen:
    """The model's parameters with throw-away grads (so the finite differences do not add)."""

    def __init__(self, model):
        self.model = model

    def named_parameters(self):
        for name, p, g in self.model.named_parameters():
            yield name, p, np.zeros_like(g)


def test_penalties_add_to_existing_grads_and_validate(rng):
    model = Dense(3, 2, dtype=np.float64)
    model.grads["W"][...] = 1.0
    l2_penalty(model, 0.5)
    assert np.allclose(model.grads["W"], 1.0 + 0.5 * model.params["W"])
    assert l2_penalty(model, 0.0) == 0.0
    with pytest.raises(ValueError, match="lam must be a number >= 0"):
        l1_penalty(model, -1)
    with pytest.raises(TypeError, match="named_parameters"):
        l2_penalty(np.zeros(3), 0.1)
