"""Tests for tcli.optim.lr_scheduler: lr sequences against closed forms, ReduceLROnPlateau's bookkeeping, the
step-order warning, state_dict round trips. PyTorch-guarded tests compare the exact floats with torch's."""

import math
import warnings

import numpy as np
import pytest

import tcli
from tcli.optim import SGD, lr_scheduler


def optimizer(lrs=(0.1,), mod=tcli):
    groups = [{"params": [mod.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return mod.optim.SGD(groups, lr=lrs[0])


def lrs_over(scheduler, epochs, metrics=None):
    """get_last_lr() after construction and after each of ``epochs`` optimizer/scheduler steps."""
    seen = [scheduler.get_last_lr()]
    for epoch in range(epochs):
        scheduler.optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
        seen.append(scheduler.get_last_lr())
        assert seen[-1] == [g["lr"] for g in scheduler.optimizer.param_groups]
    return seen


def assert_close_lists(got, expected):
    for a, b in zip(got, expected, strict=True):
        assert len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15) for x, y in zip(a, b)), (a, b)


def test_step_lr():
    s = lr_scheduler.StepLR(optimizer((0.1, 1.0)), step_size=3, gamma=0.5)
    assert_close_lists(lrs_over(s, 10), [[0.1 * 0.5 ** (e // 3), 1.0 * 0.5 ** (e // 3)] for e in range(11)])


def test_multi_step_lr_with_a_repeated_milestone():
    s = lr_scheduler.MultiStepLR(optimizer(), milestones=[2, 5, 5], gamma=0.1)
    expected = [[0.1 * 0.1 ** sum(e >= m for m in (2, 5, 5))] for e in range(8)]
    assert_close_lists(lrs_over(s, 7), expected)


def test_exponential_lr():
    s = lr_scheduler.ExponentialLR(optimizer(), gamma=0.9)
    assert_close_lists(lrs_over(s, 6), [[0.1 * 0.9 ** e] for e in range(7)])


def test_cosine_annealing_lr_over_two_periods():
    s = lr_scheduler.CosineAnnealingLR(optimizer((0.1, 0.5)), T_max=5, eta_min=0.01)

    def closed(base, e):
        return 0.01 + (base - 0.01) * (1 + math.cos(math.pi * e / 5)) / 2

    assert_close_lists(lrs_over(s, 15), [[closed(0.1, e), closed(0.5, e)] for e in range(16)])


def test_lambda_lr_with_one_function_per_group():
    s = lr_scheduler.LambdaLR(optimizer((0.1, 0.2)), [lambda e: 1 / (e + 1), lambda e: 0.5 ** e])
    assert lrs_over(s, 4) == [[0.1 * (1 / (e + 1)), 0.2 * 0.5 ** e] for e in range(5)]  # base_lr * lambda(epoch)
    with pytest.raises(ValueError, match="^Expected 2 lr_lambdas, but got 1$"):
        lr_scheduler.LambdaLR(optimizer((0.1, 0.2)), [lambda e: 1.0])


def test_initial_lr_and_resuming():
    opt = optimizer((0.1, 0.3))
    lr_scheduler.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\] when resuming"):
        lr_scheduler.StepLR(optimizer(), step_size=2, last_epoch=3)
    resumed = lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=4)  # resuming does not decay the lr once more
    assert resumed.get_last_lr() == [0.1, 0.3] and resumed.base_lrs == [0.1, 0.3]


def test_step_with_epoch_uses_the_closed_form_and_warns():
    s = lr_scheduler.StepLR(optimizer(), step_size=2, gamma=0.5)
    s.optimizer.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        s.step(5)
    assert s.last_epoch == 5 and s.get_last_lr() == [0.1 * 0.5 ** 2]


def test_warning_when_the_scheduler_steps_before_the_optimizer():
    s = lr_scheduler.StepLR(optimizer(), step_size=2)
    with pytest.warns(UserWarning, match="^Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        s.step()
    s = lr_scheduler.StepLR(optimizer(), step_size=2)
    s.optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.step()
        s.step()


def test_get_lr_outside_step_warns():
    s = lr_scheduler.ExponentialLR(optimizer(), gamma=0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s.get_lr()


def test_scheduler_state_dict_round_trip():
    s = lr_scheduler.StepLR(optimizer(), step_size=2, gamma=0.5)
    lrs_over(s, 3)
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3 and sd["base_lrs"] == [0.1]
    opt = optimizer((0.1,))
    other = lr_scheduler.StepLR(opt, step_size=7)
    other.load_state_dict(sd)
    opt.param_groups[0]["lr"] = s.optimizer.param_groups[0]["lr"]
    assert lrs_over(other, 3)[1:] == lrs_over(s, 3)[1:]


def test_lambda_lr_state_dict_keeps_callable_objects_only():
    class Halve:
        def __init__(self):
            self.factor = 0.5

        def __call__(self, epoch):
            return self.factor ** epoch

    halve = Halve()
    s = lr_scheduler.LambdaLR(optimizer((0.1, 0.2)), [lambda e: 1.0, halve])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"factor": 0.5}]
    sd["lr_lambdas"][1]["factor"] = 0.25
    s.load_state_dict(sd)
    assert halve.factor == 0.25


def test_reduce_lr_on_plateau_min_mode():
    s = lr_scheduler.ReduceLROnPlateau(optimizer((1.0, 0.02)), factor=0.5, patience=1, cooldown=1, min_lr=0.01)
    metrics = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.5, 3.5]
    # bad epochs from epoch 3; reduce after 2 bad (epoch 4), cooldown 1 epoch, reduce again after 2 more
    got = [lrs[0] for lrs in lrs_over(s, len(metrics), metrics)]
    assert got == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    assert s.get_last_lr()[1] == 0.01  # 0.02 halved, floored at min_lr
    assert s.best == 3.0 and s.last_epoch == 10


def test_reduce_lr_on_plateau_thresholds_and_eps():
    s = lr_scheduler.ReduceLROnPlateau(optimizer(), mode="max", threshold=0.1, threshold_mode="abs", patience=0)
    s.step(1.0)
    s.step(1.05)  # not better than 1.0 + 0.1: reduced
    assert s.get_last_lr() == [pytest.approx(0.01)] and s.best == 1.0
    s.step(1.2)
    assert s.best == 1.2 and s.num_bad_epochs == 0
    tiny = lr_scheduler.ReduceLROnPlateau(optimizer((1e-8,)), patience=0, eps=1e-8)
    tiny.step(1.0)
    tiny.step(2.0)
    assert tiny.get_last_lr() == [1e-8]  # a decay smaller than eps is ignored
    with pytest.raises(ValueError, match="^Factor should be < 1.0.$"):
        lr_scheduler.ReduceLROnPlateau(optimizer(), factor=1.0)
    with pytest.raises(ValueError, match="^mode avg is unknown!$"):
        lr_scheduler.ReduceLROnPlateau(optimizer(), mode="avg")
    with pytest.raises(ValueError, match="^expected 1 min_lrs, got 2$"):
        lr_scheduler.ReduceLROnPlateau(optimizer(), min_lr=[0.1, 0.2])


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="^list is not an Optimizer$"):
        lr_scheduler.StepLR([], step_size=1)


def test_scheduled_lr_reaches_the_update():
    w = tcli.ones(1, requires_grad=True)
    opt = SGD([w], lr=1.0)
    s = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        w.grad = tcli.ones(1)
        opt.step()
        s.step()
    np.testing.assert_allclose(w.detach().numpy(), [1 - 1.0 - 0.5 - 0.25])


# ---- against PyTorch ------------------------------------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.3)),
    ("MultiStepLR", dict(milestones=[1, 4, 4, 9], gamma=0.7)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=3)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e + 0.01 * e)),
]


@pytest.mark.parametrize("case", SCHEDULERS, ids=lambda c: c[0] + str(sorted(c[1])))
def test_lr_sequence_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    ours = lrs_over(getattr(lr_scheduler, name)(optimizer((0.1, 0.037)), **kwargs), 25)
    theirs = lrs_over(getattr(torch.optim.lr_scheduler, name)(optimizer((0.1, 0.037), torch), **kwargs), 25)
    assert ours == theirs  # the same floats, not just close ones


def test_reduce_lr_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    metrics = [3.0, 2.9, 2.9, 2.95, 2.8, 2.8, 2.8, 2.8, 2.7999, 2.5, 2.6, 2.6, 2.6, 2.6, 2.6, 2.6]
    for kwargs in (dict(patience=1), dict(mode="max", factor=0.3, cooldown=2, patience=0),
                   dict(threshold=0.05, threshold_mode="abs", min_lr=[0.05, 0.0], patience=2)):
        runs = []
        for mod in (tcli, torch):
            s = mod.optim.lr_scheduler.ReduceLROnPlateau(optimizer((0.1, 0.037), mod), **kwargs)
            runs.append((lrs_over(s, len(metrics), metrics), s.best, s.num_bad_epochs, s.cooldown_counter))
        assert runs[0] == runs[1]


def test_scheduler_state_dict_and_warnings_match_torch():
    torch = pytest.importorskip("torch")
    records = []
    for mod in (tcli, torch):
        s = mod.optim.lr_scheduler.StepLR(optimizer((0.1,), mod), step_size=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s.step()
        sd = s.state_dict()
        records.append(([str(w.message) for w in caught], sorted(sd), sd["last_epoch"], sd["_step_count"]))
    assert records[0] == records[1]
