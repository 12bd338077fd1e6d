"""convlib.loop: fit / evaluate / predict, and that they change no process-wide setting."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
import threadpoolctl

import convlib.runtime
from convlib.datasets import prepare_images, random_shift, synthetic_digits
from convlib.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from convlib.loop import History, evaluate, fit, predict
from convlib.losses import mse_loss
from convlib.model import Sequential, build_lenet
from convlib.optim import SGD, Adam
from convlib.recipes import TrainConfig, train_model


def blobs(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated Gaussian clouds in 2-D."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = rng.integers(0, 3, size=n)
    x = centers[y] + 0.5 * rng.standard_normal((n, 2))
    return x.astype(np.float32), y


def mlp(seed: int = 0, dropout: float = 0.0) -> Sequential:
    rng = np.random.default_rng(seed)
    layers = [Dense(2, 16, rng=rng), BatchNorm(16), ReLU()]
    if dropout:
        layers.append(Dropout(dropout, rng=rng))
    layers.append(Dense(16, 3, init="glorot", rng=rng))
    return Sequential(layers)


def test_fit_separable_problem_reaches_full_training_accuracy():
    x, y = blobs()
    model = mlp()
    hist = fit(
        model, x, y, Adam(model.parameters(), lr=0.05), epochs=15, batch_size=16, progress=False
    )
    assert isinstance(hist, History) and len(hist) == 15
    assert hist.train_loss[-1] < hist.train_loss[0]
    loss, acc = evaluate(model, x, y)
    assert acc == 1.0
    assert loss < 0.1
    assert all(s > 0 for s in hist.seconds)
    assert np.isnan(hist.val_acc[-1])


def test_small_cnn_learns_synthetic_digits():
    images, labels = synthetic_digits(240, seed=0)
    x = prepare_images(images)
    rng = np.random.default_rng(0)
    model = Sequential(
        [
            Conv2D(1, 4, 3, rng=rng),
            ReLU(),
            MaxPool2D(4),
            Flatten(),
            Dense(6 * 6 * 4, 10, init="glorot", rng=rng),
        ]
    )
    hist = fit(
        model,
        x,
        labels.astype(np.int64),
        Adam(model.parameters(), lr=0.01),
        epochs=4,
        batch_size=32,
        x_val=x,
        y_val=labels,
        progress=False,
    )
    assert hist.train_acc[-1] > 0.9
    assert hist.val_acc[-1] == 1.0


def test_fit_is_deterministic_given_the_seeds():
    x, y = blobs()

    def run(shuffle_seed: int) -> History:
        model = mlp(seed=0, dropout=0.2)
        opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        return fit(
            model,
            x,
            y,
            opt,
            epochs=3,
            batch_size=20,
            x_val=x[:30],
            y_val=y[:30],
            seed=shuffle_seed,
            progress=False,
        )

    a, b, c = run(0), run(0), run(1)
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert getattr(a, key) == getattr(b, key), key
    assert a.train_loss != c.train_loss


def test_callback_sees_each_epoch():
    x, y = blobs(40)
    model = mlp()
    seen = []
    hist = fit(
        model,
        x,
        y,
        Adam(model.parameters()),
        epochs=3,
        batch_size=10,
        progress=False,
        callback=lambda epoch, h: seen.append((epoch, len(h), h.train_loss[-1])),
    )
    assert [(e, n) for e, n, _ in seen] == [(1, 1), (2, 2), (3, 3)]
    assert [loss for _, _, loss in seen] == hist.train_loss
    with pytest.raises(TypeError, match="callback"):
        fit(model, x, y, Adam(model.parameters()), epochs=1, batch_size=10, callback=42)


def test_progress_bar_shows_loss_and_accuracy(capsys):
    x, y = blobs(40)
    model = mlp()
    fit(
        model,
        x,
        y,
        Adam(model.parameters()),
        epochs=1,
        batch_size=8,
        x_val=x,
        y_val=y,
        progress=True,
    )
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss=" in err and "acc=" in err and "val_acc=" in err


def test_evaluate_and_predict_use_evaluation_mode_and_restore_it():
    x, y = blobs(50)
    model = mlp(dropout=0.5)
    model.forward(x)  # give BatchNorm some running statistics
    assert model.training
    first = evaluate(model, x, y, batch_size=7)
    assert model.training  # restored
    assert evaluate(model, x, y, batch_size=50) == pytest.approx(
        first
    )  # no dropout, no batch stats
    logits = predict(model, x, batch_size=9)
    assert logits.shape == (50, 3)
    np.testing.assert_allclose(predict(model, x, batch_size=50), logits, rtol=1e-5, atol=1e-6)
    probs = predict(model, x, probabilities=True)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(probs.argmax(axis=1), logits.argmax(axis=1))
    model.eval()
    evaluate(model, x, y)
    assert not model.training


def test_regression_loss_gives_nan_accuracy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    t = (x @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)
    model = Sequential([Dense(3, 1, init="glorot", rng=0)])
    hist = fit(
        model,
        x,
        t,
        SGD(model.parameters(), lr=0.05),
        epochs=20,
        batch_size=16,
        loss=mse_loss,
        progress=False,
    )
    assert hist.train_loss[-1] < 0.01 * hist.train_loss[0]
    assert np.isnan(hist.train_acc[-1])
    loss, acc = evaluate(model, x, t, loss=mse_loss)
    assert loss < 0.01 and np.isnan(acc)


def test_fit_argument_errors():
    x, y = blobs(20)
    model = mlp()
    opt = Adam(model.parameters())
    with pytest.raises(ValueError, match="same number of examples"):
        fit(model, x, y[:10], opt, epochs=1, batch_size=4)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, x, y, opt, epochs=0, batch_size=4)
    with pytest.raises(TypeError, match="batch_size"):
        fit(model, x, y, opt, epochs=1, batch_size=2.5)
    with pytest.raises(ValueError, match="x_val and y_val"):
        fit(model, x, y, opt, epochs=1, batch_size=4, x_val=x)
    with pytest.raises(ValueError, match="empty"):
        fit(model, x[:0], y[:0], opt, epochs=1, batch_size=4)


def test_non_finite_loss_stops_training():
    x, y = blobs(20)
    model = mlp()

    def bad_loss(out, target):
        return float("nan"), np.zeros_like(out)

    with pytest.raises(ValueError, match="epoch 1, step 1"):
        fit(
            model,
            x,
            y,
            Adam(model.parameters()),
            epochs=1,
            batch_size=4,
            loss=bad_loss,
            progress=False,
        )


def test_fit_with_augmentation_is_deterministic():
    images, labels = synthetic_digits(64, seed=0)
    x, y = prepare_images(images), labels.astype(np.int64)

    def run() -> History:
        model = build_lenet(seed=0)
        return fit(
            model,
            x,
            y,
            Adam(model.parameters(), lr=0.01),
            epochs=1,
            batch_size=16,
            augment=random_shift,
            progress=False,
        )

    assert run().train_loss == run().train_loss
    model = build_lenet(seed=0)
    with pytest.raises(TypeError, match="augment"):
        fit(model, x, y, Adam(model.parameters()), epochs=1, batch_size=16, augment="shift")


def test_fit_and_train_model_change_no_process_setting(monkeypatch):
    before = threadpoolctl.threadpool_info()

    # Every way to change a process setting fails loudly if the loop reaches it.
    def forbidden(*args, **kwargs):
        raise AssertionError("the training loop changed a process-wide setting")

    for name in ("tune_allocator", "set_blas_threads", "blas_threads"):
        monkeypatch.setattr(convlib.runtime, name, forbidden)
    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "limit", forbidden)
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", forbidden)
    monkeypatch.setattr(ctypes, "CDLL", forbidden)  # mallopt, or a BLAS library's own setter
    images, labels = synthetic_digits(64, seed=0)
    x, y = prepare_images(images), labels.astype(np.int64)
    model = build_lenet(seed=0)
    fit(
        model,
        x,
        y,
        Adam(model.parameters()),
        epochs=1,
        batch_size=32,
        x_val=x,
        y_val=y,
        progress=False,
    )
    evaluate(model, x, y)
    predict(model, x)
    train_model(
        build_lenet(seed=0), x, y, x, y, TrainConfig(1, 32, 3e-3, 0.01, True), progress=False
    )
    monkeypatch.undo()
    assert threadpoolctl.threadpool_info() == before
