"""fit refuses or warns about bad training input before the first step (issue 10).

Each test builds the mistake the issue describes and checks the exception
type, that the message names the culprit, and that no optimizer step was
taken (the weights are unchanged).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from convlib.errors import InputWarning, NonFiniteError, NonFiniteGradientError
from convlib.layers import BatchNorm, Dense, ReLU
from convlib.loop import fit
from convlib.model import Sequential
from convlib.optim import SGD, Adam


def blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = rng.integers(0, 3, size=n)
    return (centers[y] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32), y


def mlp(batchnorm=True, seed=0):
    rng = np.random.default_rng(seed)
    layers = [Dense(2, 8, rng=rng)]
    if batchnorm:
        layers.append(BatchNorm(8))
    layers += [ReLU(), Dense(8, 3, init="glorot", rng=rng)]
    return Sequential(layers)


def weights(model):
    return {k: v.copy() for k, v in model.state().items()}


def assert_untouched(model, before):
    for k, v in model.state().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def run(model, x, y, opt=None, **kw):
    opt = Adam(model.parameters(), lr=0.01) if opt is None else opt
    kw = {"epochs": 1, "batch_size": 8, "progress": False, **kw}
    return fit(model, x, y, opt, **kw)


@pytest.mark.parametrize("name", ["x_train", "x_val"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_are_named_with_their_first_index(name, bad):
    x, y = blobs()
    xv, yv = x.copy(), y.copy()
    (x if name == "x_train" else xv)[13, 1] = bad
    model = mlp()
    before = weights(model)
    with pytest.raises(
        NonFiniteError,
        match=rf"{name} holds 1 NaN or infinite value in 1 example; the first is {name}\[13, 1\]",
    ):
        run(model, x, y, x_val=xv, y_val=yv)
    assert_untouched(model, before)  # BatchNorm's running statistics included


def test_non_finite_float_targets_are_refused():
    from convlib.losses import mse_loss

    x, _ = blobs()
    t = np.zeros((len(x), 3), np.float32)
    t[5, 2] = np.nan
    with pytest.raises(NonFiniteError, match=r"y_train\[5, 2\]"):
        run(mlp(), x, t, loss=mse_loss)


@pytest.mark.parametrize("label, first", [(3, 7), (-1, 7)])
def test_labels_outside_the_models_classes_are_found_before_any_step(label, first):
    x, y = blobs()
    y[first] = label
    y[30] = label
    model = mlp()
    before = weights(model)
    with pytest.raises(
        ValueError,
        match=rf"y_train\[{first}\] = {label} is not a class label.*3 classes.*\[0, 3\).*2 of 40",
    ):
        run(model, x, y)
    assert_untouched(model, before)


def test_bad_validation_labels_are_found_before_training():
    x, y = blobs()
    yv = y.copy()
    yv[2] = 10
    model = mlp()
    before = weights(model)
    with pytest.raises(ValueError, match=r"y_val\[2\] = 10"):
        run(model, x, y, x_val=x, y_val=yv)
    assert_untouched(model, before)


def test_float_labels_for_a_classifier_are_refused_with_the_fix():
    x, y = blobs()
    with pytest.raises(TypeError, match=r"y_train must hold integer class labels.*astype\(int\)"):
        run(mlp(), x, y.astype(np.float64))


def test_raw_uint8_images_warn_with_prepare_images():
    from convlib.layers import Flatten

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(16, 4, 4, 1), dtype=np.uint8)
    y = rng.integers(0, 3, size=16)
    model = Sequential([Flatten(), Dense(16, 3, init="glorot", rng=0)])
    with pytest.warns(
        InputWarning,
        match=r"x_train holds integers of dtype uint8 in \[\d+, 255\].*prepare_images\(x_train\)",
    ):
        run(model, x, y, epochs=1, batch_size=16, opt=SGD(model.parameters(), lr=1e-6))


def test_unscaled_float_pixels_warn_and_prepared_ones_do_not():
    x, y = blobs()
    with pytest.warns(InputWarning, match=r"x_train holds values in \[.*\].*prepare_images"):
        run(mlp(), x * 100, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        run(mlp(), x, y)
    assert issubclass(InputWarning, UserWarning)


def test_an_optimizer_built_on_another_model_is_detected():
    x, y = blobs()
    model, other = mlp(seed=0), mlp(seed=1)
    with pytest.raises(
        ValueError,
        match=r"optimizer does not update this model.*first '0.w'.*Adam\(model.parameters\(\)",
    ):
        run(model, x, y, opt=Adam(other.parameters(), lr=0.1))


def test_an_optimizer_on_part_of_the_model_is_allowed():
    x, y = blobs()
    model = mlp()
    last = [p for p in model.parameters() if p.name.startswith("3.")]
    frozen = model.layers[0].params["w"].copy()
    run(model, x, y, opt=SGD(last, lr=0.1))
    np.testing.assert_array_equal(model.layers[0].params["w"], frozen)


def test_a_last_batch_of_one_before_batchnorm_is_refused_before_training():
    x, y = blobs(41)  # 41 = 5 * 8 + 1
    model = mlp()
    before = weights(model)
    with pytest.raises(
        ValueError,
        match=r"last batch of every epoch would hold 1 example \(N = 41, batch_size = 8\)"
        r".*layer 1 \(BatchNorm.*drop_last=True",
    ):
        run(model, x, y)
    assert_untouched(model, before)


def test_drop_last_skips_the_short_batch():
    x, y = blobs(41)
    model = mlp()
    opt = Adam(model.parameters(), lr=0.01)
    run(model, x, y, opt=opt, epochs=2, drop_last=True)
    assert opt.t == 2 * 5
    opt2 = Adam(mlp().parameters(), lr=0.01)
    with pytest.raises(TypeError, match="drop_last must be a bool"):
        run(mlp(), x, y, opt=opt2, drop_last="yes")


def test_a_last_batch_of_one_without_batchnorm_is_fine():
    x, y = blobs(41)
    model = mlp(batchnorm=False)
    opt = Adam(model.parameters(), lr=0.01)
    run(model, x, y, opt=opt)
    assert opt.t == 6


# -- during training ---------------------------------------------------------------------


def test_a_bad_batch_from_augment_is_blamed_not_the_learning_rate():
    x, y = blobs()

    def spoil(xb, rng):
        xb = xb.copy()
        xb[2, 0] = np.nan
        return xb

    with pytest.raises(
        NonFiniteError,
        match=r"epoch 1, step 1: the batch's inputs \(after augment\) hold NaN"
        r".*x_batch\[2, 0\].*not the learning rate",
    ) as info:
        run(mlp(batchnorm=False), x, y, augment=spoil)
    assert "too large" not in str(info.value)


def test_a_diverging_run_names_epoch_step_and_the_learning_rate():
    x, y = blobs()
    model = mlp(batchnorm=False)
    with (
        np.errstate(all="ignore"),
        pytest.raises(
            (NonFiniteError, NonFiniteGradientError), match=r"epoch \d+, step \d+"
        ) as info,
    ):
        run(model, x, y, opt=SGD(model.parameters(), lr=1e30), epochs=5)
    msg = str(info.value)
    assert "inputs and the model's parameters were finite" in msg or "gradient of parameter" in msg


def test_non_finite_weights_are_blamed_for_a_nan_loss():
    x, y = blobs()
    model = mlp(batchnorm=False)
    model.layers[0].params["w"][0, 0] = np.nan
    with pytest.raises(
        NonFiniteError,
        match=r"epoch 1, step 1: the batch's inputs are finite but the model's parameter '0.w'",
    ):
        run(model, x, y)


def test_a_float16_model_trains_with_adam():
    # before the float32 master copy, Adam's eps = 1e-8 rounded to 0 in
    # float16 and fit stopped at once, blaming the learning rate
    x, y = blobs(160)
    rng = np.random.default_rng(0)
    h16 = np.float16
    model = Sequential(
        [
            Dense(2, 16, rng=rng, dtype=h16),
            BatchNorm(16, dtype=h16),
            ReLU(),
            Dense(16, 3, init="glorot", rng=rng, dtype=h16),
        ]
    )
    opt = Adam(model.parameters(), lr=1e-2)
    hist = run(model, x.astype(h16), y, opt=opt, epochs=3, batch_size=16)
    assert hist.train_loss[-1] < hist.train_loss[0] and hist.train_acc[-1] > 0.9
    assert all(p.value.dtype == h16 for p in model.parameters())


@pytest.mark.parametrize("name", ["y_train", "y_val"])
def test_one_hot_labels_are_refused_with_the_fix_before_any_step(name):
    x, y = blobs()
    one_hot = np.eye(3, dtype=int)[y]
    model = mlp()
    before = weights(model)
    kw = {"y_val": one_hot, "x_val": x} if name == "y_val" else {}
    with pytest.raises(
        ValueError,
        match=rf"{name} must be a vector .* got shape \(40, 3\).*{name}.argmax\(axis=1\)",
    ):
        run(model, x, one_hot if name == "y_train" else y, **kw)
    assert_untouched(model, before)


def test_validation_examples_of_another_shape_are_refused_before_training():
    x, y = blobs()
    model = mlp()
    before = weights(model)
    with pytest.raises(
        ValueError, match=r"x_val has shape \(40, 3\), examples of shape \(3,\).*x_train.*\(2,\)"
    ):
        run(model, x, y, x_val=np.ones((40, 3), np.float32), y_val=y)
    with pytest.raises(ValueError, match=r"y_val has shape \(40, 1\).*y_train"):
        run(
            model,
            x,
            y.astype(np.float32),
            loss=lambda o, t: (0.0, np.zeros_like(o)),
            x_val=x,
            y_val=y[:, None],
        )
    assert_untouched(model, before)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"eval_batch_size": 0}, "eval_batch_size must be >= 1"),
        ({"progress": "no"}, "progress must be a bool"),
        ({"progress": 0}, "progress must be a bool"),
    ],
)
def test_options_are_checked_whether_or_not_they_are_used(kw, match):
    x, y = blobs()
    model = mlp()
    before = weights(model)
    with pytest.raises((TypeError, ValueError), match=match):
        run(model, x, y, **kw)
    assert_untouched(model, before)


def test_model_and_optimizer_that_are_not_objects_of_the_loop_are_named():
    x, y = blobs()
    model = mlp()
    opt = Adam(model.parameters(), lr=0.01)
    with pytest.raises(
        TypeError,
        match=r"model must be a network .* got int 5 \(it has no forward, backward, train, eval\)",
    ):
        fit(5, x, y, opt, epochs=1, batch_size=8, progress=False)
    with pytest.raises(
        TypeError,
        match=r"optimizer must be an optimizer object with a step\(\) method.*got str 'adam'",
    ):
        fit(model, x, y, "adam", epochs=1, batch_size=8, progress=False)


def test_evaluate_and_predict_check_the_model_and_their_flags():
    from convlib.loop import evaluate, predict

    x, y = blobs()
    model = mlp()
    with pytest.raises(TypeError, match="model must be a network with forward, train, eval"):
        evaluate("net", x, y)
    with pytest.raises(TypeError, match="model must be a network"):
        predict(None, x)
    with pytest.raises(TypeError, match="probabilities must be a bool"):
        predict(model, x, probabilities="yes")
    with pytest.raises(TypeError, match="loss must be callable"):
        evaluate(model, x, y, loss="mse")
    np.testing.assert_array_equal(
        predict(model, x, probabilities=np.bool_(True)), predict(model, x, probabilities=True)
    )
