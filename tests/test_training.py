"""fit / evaluate / predict, and the python -m convlib.train command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convlib.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from convlib.losses import mse_loss
from convlib.model import Sequential, build_lenet
from convlib.optim import SGD, Adam
from convlib.train import main, synthetic_digits
from convlib.training import (
    History,
    evaluate,
    fit,
    predict,
    prepare_images,
    random_shift,
    set_blas_threads,
    tune_allocator,
)

LAST_LINE = re.compile(r"^test accuracy (\d+\.\d\d)% \| training time (\d+\.\d) s$")


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
    hist = fit(model, x, y, Adam(model.parameters(), lr=0.05), epochs=15, batch_size=16, progress=False)
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
        model, x, labels.astype(np.int64), Adam(model.parameters(), lr=0.01),
        epochs=4, batch_size=32, x_val=x, y_val=labels, progress=False,
    )
    assert hist.train_acc[-1] > 0.9
    assert hist.val_acc[-1] == 1.0


def test_fit_is_deterministic_given_the_seeds():
    x, y = blobs()

    def run(shuffle_seed: int) -> History:
        model = mlp(seed=0, dropout=0.2)
        opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        return fit(model, x, y, opt, epochs=3, batch_size=20, x_val=x[:30], y_val=y[:30],
                   seed=shuffle_seed, progress=False)

    a, b, c = run(0), run(0), run(1)
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert getattr(a, key) == getattr(b, key), key
    assert a.train_loss != c.train_loss


def test_callback_sees_each_epoch():
    x, y = blobs(40)
    model = mlp()
    seen = []
    hist = fit(model, x, y, Adam(model.parameters()), epochs=3, batch_size=10, progress=False,
               callback=lambda epoch, h: seen.append((epoch, len(h), h.train_loss[-1])))
    assert [(e, n) for e, n, _ in seen] == [(1, 1), (2, 2), (3, 3)]
    assert [loss for _, _, loss in seen] == hist.train_loss
    with pytest.raises(TypeError, match="callback"):
        fit(model, x, y, Adam(model.parameters()), epochs=1, batch_size=10, callback=42)


def test_progress_bar_shows_loss_and_accuracy(capsys):
    x, y = blobs(40)
    model = mlp()
    fit(model, x, y, Adam(model.parameters()), epochs=1, batch_size=8, x_val=x, y_val=y, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss=" in err and "acc=" in err and "val_acc=" in err


def test_evaluate_and_predict_use_evaluation_mode_and_restore_it():
    x, y = blobs(50)
    model = mlp(dropout=0.5)
    model.forward(x)  # give BatchNorm some running statistics
    assert model.training
    first = evaluate(model, x, y, batch_size=7)
    assert model.training  # restored
    assert evaluate(model, x, y, batch_size=50) == pytest.approx(first)  # no dropout, no batch stats
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
    hist = fit(model, x, t, SGD(model.parameters(), lr=0.05), epochs=20, batch_size=16,
               loss=mse_loss, progress=False)
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
        fit(model, x, y, Adam(model.parameters()), epochs=1, batch_size=4, loss=bad_loss, progress=False)


def test_prepare_images():
    imgs = np.array([[[0, 255]], [[51, 102]]], dtype=np.uint8)  # (2, 1, 2)
    out = prepare_images(imgs, mean=0.5, std=0.5)
    assert out.shape == (2, 1, 2, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 0], [[[-1.0, 1.0]], [[-0.6, -0.2]]], rtol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        prepare_images(np.zeros((2, 28, 28, 3), dtype=np.uint8))


def test_random_shift_moves_each_image_within_bounds():
    rng = np.random.default_rng(0)
    x = np.zeros((200, 9, 9, 2), dtype=np.float32)
    x[:, 4, 4, :] = 1.0  # one bright pixel in the middle of every image
    out = random_shift(x, rng, max_shift=2)
    assert out.shape == x.shape and out.dtype == x.dtype
    pos = np.argwhere(out[..., 0] == 1)[:, 1:]  # (row, col) per image
    assert len(pos) == 200  # exactly one bright pixel each: nothing lost or duplicated
    offsets = pos - 4
    assert np.abs(offsets).max() == 2
    assert len({tuple(o) for o in offsets}) == 25  # every shift in -2..2 x -2..2 occurs
    np.testing.assert_array_equal(out[..., 1], out[..., 0])  # channels move together
    np.testing.assert_array_equal(random_shift(x, rng, max_shift=0), x)
    with pytest.raises(ValueError, match="N, H, W, C"):
        random_shift(x[0], rng)


def test_fit_with_augmentation_is_deterministic():
    images, labels = synthetic_digits(64, seed=0)
    x, y = prepare_images(images), labels.astype(np.int64)

    def run() -> History:
        model = build_lenet(seed=0)
        return fit(model, x, y, Adam(model.parameters(), lr=0.01), epochs=1, batch_size=16,
                   augment=random_shift, progress=False)

    assert run().train_loss == run().train_loss
    model = build_lenet(seed=0)
    with pytest.raises(TypeError, match="augment"):
        fit(model, x, y, Adam(model.parameters()), epochs=1, batch_size=16, augment="shift")


def test_process_settings_helpers():
    assert isinstance(tune_allocator(), bool)
    assert isinstance(set_blas_threads(1), bool)
    with pytest.raises(ValueError, match="n must be >= 1"):
        set_blas_threads(0)


def test_synthetic_digits():
    x, y = synthetic_digits(50, seed=3)
    assert x.shape == (50, 28, 28) and x.dtype == np.uint8 and y.shape == (50,)
    x2, y2 = synthetic_digits(50, seed=3)
    np.testing.assert_array_equal(x, x2)
    assert set(np.unique(y)) <= set(range(10))


# --------------------------------------------------------------------------- CLI


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    options = ("--epochs", "--batch-size", "--seed", "--data-dir", "--lr", "--model", "--save", "--limit")
    for option in options:
        assert option in out
    assert "capstone" in out and "lenet" in out


def test_cli_runs_as_module():
    proc = subprocess.run(
        [sys.executable, "-m", "convlib.train", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage: python -m convlib.train" in proc.stdout


def test_cli_tiny_synthetic_run_and_save(tmp_path, capsys):
    path = tmp_path / "lenet.npz"
    code = main(["--model", "lenet", "--synthetic", "--limit", "256", "--epochs", "2",
                 "--batch-size", "32", "--lr", "0.01", "--no-progress", "--save", str(path)])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    match = LAST_LINE.match(lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 50  # learnable data: far above the 10% of guessing
    assert any(line.startswith("epoch 2:") for line in lines)
    model = build_lenet(seed=5).load(path)
    x, y = synthetic_digits(256, seed=2)
    assert evaluate(model, prepare_images(x), y)[1] == pytest.approx(float(match.group(1)) / 100, abs=1e-4)


@pytest.mark.skipif(
    not os.environ.get("CONVLIB_DATA") or not (Path(os.environ["CONVLIB_DATA"]) / "mnist").is_dir(),
    reason="MNIST not available (set CONVLIB_DATA)",
)
def test_cli_tiny_mnist_run(capsys):
    code = main(["--model", "lenet", "--limit", "500", "--epochs", "1", "--no-progress", "--no-download"])
    assert code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert LAST_LINE.match(last), last


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--batch-size", "-3"], "--batch-size must be at least 1"),
        (["--lr", "-0.1"], "--lr must be a positive number"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--model", "resnet"], "invalid choice: 'resnet'"),
        (["--epochs", "two"], "invalid int value: 'two'"),
        (["--data-dir", "/no/such/folder"], "is not a directory"),
        (["--save", "/no/such/folder/m.npz"], "does not exist"),
        (["--threads", "0"], "--threads must be at least 1"),
    ],
)
def test_cli_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_missing_data_is_a_clear_error(tmp_path, capsys, monkeypatch):
    # nothing to find anywhere: not in --data-dir, $CONVLIB_DATA or the user cache
    monkeypatch.delenv("CONVLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code = main(["--data-dir", str(tmp_path), "--no-download", "--no-progress", "--limit", "10"])
    assert code == 1
    err = capsys.readouterr().err
    assert "could not load MNIST" in err
