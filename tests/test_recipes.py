"""convlib.recipes: the training recipe shared by the command line and chapter 12."""

from __future__ import annotations

import numpy as np
import pytest

import convlib
from convlib.datasets import prepare_images, synthetic_digits
from convlib.optim import Adam, CosineLR, OneCycleLR
from convlib.recipes import (
    BUILDERS,
    DEFAULTS,
    TrainConfig,
    augmentation,
    make_optimizer,
    train_model,
)


def test_every_network_has_defaults_and_a_builder():
    assert set(DEFAULTS) == set(BUILDERS) == {"capstone", "lenet", "resnet", "plain"}
    assert all(isinstance(c, TrainConfig) for c in DEFAULTS.values())
    assert DEFAULTS["capstone"].augment and not DEFAULTS["lenet"].augment
    assert DEFAULTS["resnet"] == DEFAULTS["plain"]  # the same recipe for the twins
    assert DEFAULTS["resnet"].flip and DEFAULTS["resnet"].schedule == "one-cycle"
    assert not DEFAULTS["capstone"].flip and DEFAULTS["capstone"].schedule == "cosine"


def test_make_optimizer_decays_from_lr_to_the_final_fraction():
    model = BUILDERS["lenet"](0)
    opt = make_optimizer(model, lr=0.01, total_steps=10, min_lr_fraction=0.1)
    assert isinstance(opt, Adam) and isinstance(opt.schedule, CosineLR)
    assert opt.schedule(0) == pytest.approx(0.01)
    assert opt.schedule(10) == pytest.approx(0.001)


def test_train_model_learns_and_matches_fit_with_the_same_recipe():
    images, labels = synthetic_digits(256, seed=1)
    x, y = prepare_images(images), labels.astype(np.int64)
    config = TrainConfig(epochs=2, batch_size=32, lr=0.01, min_lr_fraction=0.01, augment=True)
    history = train_model(BUILDERS["lenet"](0), x, y, x, y, config, seed=3, progress=False)
    assert len(history) == 2 and history.val_acc[-1] > 0.5
    # The same recipe spelled out with fit gives the same run, step for step.
    model = BUILDERS["lenet"](0)
    again = convlib.fit(
        model,
        x,
        y,
        make_optimizer(model, 0.01, 2 * 8, 0.01),
        epochs=2,
        batch_size=32,
        x_val=x,
        y_val=y,
        seed=3,
        progress=False,
        augment=convlib.random_shift,
    )
    assert again.train_loss == history.train_loss and again.lr == history.lr


def test_train_model_argument_errors():
    x, y = prepare_images(synthetic_digits(8)[0]), np.zeros(8, np.int64)
    model = BUILDERS["lenet"](0)
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train_model(model, x, y, None, None, {"epochs": 1})
    with pytest.raises(ValueError, match="empty"):
        train_model(model, x[:0], y[:0], None, None, DEFAULTS["lenet"])


def test_exported_from_the_package():
    for name in ("train_model", "make_optimizer", "TrainConfig"):
        assert getattr(convlib, name) is getattr(convlib.recipes, name)


@pytest.mark.parametrize(
    "fields, exc, match",
    [
        ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
        ({"epochs": 2.0}, TypeError, "epochs must be an integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"lr": 0.0}, ValueError, "lr must be in"),
        ({"lr": "0.1"}, TypeError, "lr must be a real number"),
        ({"min_lr_fraction": 1.5}, ValueError, "min_lr_fraction must be in"),
        ({"augment": "yes"}, TypeError, "augment must be a bool"),
    ],
)
def test_train_config_refuses_bad_fields_when_made(fields, exc, match):
    good = {"epochs": 1, "batch_size": 8, "lr": 0.01, "min_lr_fraction": 0.01, "augment": False}
    with pytest.raises(exc, match=match):
        TrainConfig(**{**good, **fields})


def test_train_config_stores_numpy_scalars_as_python_ones():
    config = TrainConfig(
        np.int64(2), np.int32(8), np.float32(0.5), np.float64(0.01), np.bool_(True)
    )
    assert config == TrainConfig(2, 8, 0.5, 0.01, True)
    assert [type(v) for v in (config.epochs, config.lr, config.augment)] == [int, float, bool]


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((5, 0.1, 10), TypeError, "model must be a network with a parameters"),
        (("net", 0.1, 0), ValueError, "total_steps must be >= 1, got 0"),
        (("net", 0.1, 2.5), TypeError, "total_steps must be an integer"),
        (("net", -0.1, 10), ValueError, "lr must be in"),
    ],
)
def test_make_optimizer_refuses_bad_arguments(args, exc, match):
    model = BUILDERS["lenet"](0) if args[0] == "net" else args[0]
    with pytest.raises(exc, match=match):
        make_optimizer(model, *args[1:])


def test_make_optimizer_one_cycle_starts_low_peaks_and_ends_at_the_fraction():
    model = BUILDERS["lenet"](0)
    opt = make_optimizer(model, 0.01, 100, min_lr_fraction=1e-4, schedule="one-cycle")
    assert isinstance(opt.schedule, OneCycleLR)
    assert opt.schedule(0) == pytest.approx(0.01 / 25)
    assert max(opt.schedule(t) for t in range(100)) == pytest.approx(0.01, rel=1e-3)
    assert opt.schedule(99) == pytest.approx(0.01 * 1e-4)
    with pytest.raises(ValueError, match=r"min_lr_fraction must be in \(0, 0.04\]"):
        make_optimizer(model, 0.01, 100, min_lr_fraction=0.1, schedule="one-cycle")
    with pytest.raises(ValueError, match="schedule must be one of"):
        make_optimizer(model, 0.01, 100, schedule="linear")


def test_augmentation_of_each_config():
    base = {"epochs": 1, "batch_size": 8, "lr": 0.01, "min_lr_fraction": 0.01}
    assert augmentation(TrainConfig(**base, augment=False)) is None
    assert augmentation(TrainConfig(**base, augment=True)) is convlib.random_shift
    assert augmentation(TrainConfig(**base, augment=False, flip=True)) is convlib.random_flip
    both = augmentation(TrainConfig(**base, augment=True, flip=True))
    x = np.random.default_rng(0).standard_normal((4, 6, 6, 1))
    expected = convlib.random_flip(convlib.random_shift(x, np.random.default_rng(1)), _after(1))
    np.testing.assert_array_equal(both(x, np.random.default_rng(1)), expected)


def _after(seed):
    # The generator of seed `seed` after random_shift has drawn from it for 4 images.
    rng = np.random.default_rng(seed)
    convlib.random_shift(np.zeros((4, 6, 6, 1)), rng)
    return rng


def test_train_model_uses_the_one_cycle_schedule_and_flips():
    images, labels = synthetic_digits(64, seed=1)
    x, y = prepare_images(images), labels.astype(np.int64)
    config = TrainConfig(2, 16, 0.01, 4e-6, False, flip=True, schedule="one-cycle")
    history = train_model(BUILDERS["lenet"](0), x, y, None, None, config, seed=3, progress=False)
    model = BUILDERS["lenet"](0)
    again = convlib.fit(
        model,
        x,
        y,
        make_optimizer(model, 0.01, 8, 4e-6, "one-cycle"),
        epochs=2,
        batch_size=16,
        seed=3,
        progress=False,
        augment=convlib.random_flip,
    )
    assert again.train_loss == history.train_loss and again.lr == history.lr
    assert history.lr[-1] == pytest.approx(0.01 * 4e-6)


@pytest.mark.parametrize(
    "fields, exc, match",
    [
        ({"flip": "yes"}, TypeError, "flip must be a bool"),
        ({"schedule": "linear"}, ValueError, "schedule must be one of"),
        ({"schedule": 1}, TypeError, "schedule must be one of"),
        ({"schedule": "one-cycle", "min_lr_fraction": 0.5}, ValueError, "for the one-cycle"),
    ],
)
def test_train_config_refuses_bad_new_fields(fields, exc, match):
    good = {"epochs": 1, "batch_size": 8, "lr": 0.01, "min_lr_fraction": 0.01, "augment": False}
    with pytest.raises(exc, match=match):
        TrainConfig(**{**good, **fields})


def test_two_trainings_in_two_threads_give_what_they_give_one_after_the_other():
    # Chapter 18 trains its two networks at the same time, one per thread: each
    # run must be exactly the run it would be alone (per-thread workspaces, no
    # shared state between models or optimizers).
    from concurrent.futures import ThreadPoolExecutor

    from convlib.architectures import build_plain, build_resnet

    images, labels = synthetic_digits(192, seed=2)
    x, y = prepare_images(images), labels.astype(np.int64)
    config = TrainConfig(
        epochs=2,
        batch_size=32,
        lr=0.005,
        min_lr_fraction=1e-4,
        augment=False,
        flip=True,
        schedule="one-cycle",
    )

    def nets():
        return [
            build_resnet(0, widths=(4, 8), stem_pool=True),
            build_plain(0, widths=(4, 8), stem_pool=True),
        ]

    def train(net):
        return train_model(net, x, y, x, y, config, seed=5, progress=False)

    alone_nets = nets()
    alone = [train(net) for net in alone_nets]
    together_nets = nets()
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(train, together_nets))
    for a, b, net_a, net_b in zip(alone, together, alone_nets, together_nets):
        assert a.train_loss == b.train_loss and a.val_acc == b.val_acc
        state_a, state_b = net_a.state(), net_b.state()
        assert all(np.array_equal(state_a[k], state_b[k]) for k in state_a)
