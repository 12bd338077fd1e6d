"""Sequential: end-to-end gradient check, modes, summary, save/load, builders."""

from __future__ import annotations

import numpy as np
import pytest

from convlib.gradcheck import numerical_gradient, rel_error
from convlib.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from convlib.losses import softmax_cross_entropy
from convlib.model import Sequential, build_capstone, build_lenet

F64 = np.float64


def small_cnn(seed: int = 0, dtype=F64, hidden: int = 4) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(
        [
            Conv2D(2, 3, 3, padding="same", rng=rng, dtype=dtype),
            BatchNorm(3, dtype=dtype),
            ReLU(dtype=dtype),
            MaxPool2D(2, dtype=dtype),
            Flatten(dtype=dtype),
            Dense(3 * 3 * 3, hidden, init="glorot", rng=rng, dtype=dtype),
        ]
    )


def test_whole_cnn_gradient_check_float64():
    """Every parameter and the input, through conv, BN, ReLU, pool, flatten, dense and the loss."""
    model = small_cnn()
    rng = np.random.default_rng(42)
    x = rng.standard_normal((5, 6, 6, 2))
    y = rng.integers(0, 4, size=5)
    for _, value, _ in model.parameters():  # BN's gamma/beta away from 1/0
        value[...] += 0.3 * rng.standard_normal(value.shape)

    def loss_of(_: np.ndarray) -> float:
        return softmax_cross_entropy(model.forward(x), y)[0]

    loss = loss_of(x)
    _, dlogits = softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(dlogits)
    analytic = {p.name: p.grad.copy() for p in model.parameters()}
    assert set(analytic) == {"0.w", "0.b", "1.gamma", "1.beta", "5.w", "5.b"}
    assert np.isfinite(loss)
    for name, value, _ in model.parameters():
        numeric = numerical_gradient(loss_of, value)
        if name == "0.b":
            # BatchNorm subtracts the batch mean: a bias before it cannot change
            # the loss, so both gradients are zero (up to rounding).
            assert np.abs(numeric).max() < 1e-9 and np.abs(analytic[name]).max() < 1e-12
            continue
        err = rel_error(analytic[name], numeric)
        assert err < 1e-6, f"{name}: relative error {err:.2e}"
    assert rel_error(dx, numerical_gradient(loss_of, x)) < 1e-6


def test_stacked_same_shape_layers_keep_separate_caches():
    """Two convolutions of identical shapes in a row: neither may overwrite the other's cache."""
    rng = np.random.default_rng(3)
    model = Sequential(
        [
            Conv2D(2, 2, 3, padding="same", rng=rng, dtype=F64),
            ReLU(dtype=F64),
            Conv2D(2, 2, 3, padding="same", rng=rng, dtype=F64),
            MaxPool2D(2, dtype=F64),
            Conv2D(2, 2, 3, padding="same", rng=rng, dtype=F64),
            Flatten(dtype=F64),
            Dense(8, 3, rng=rng, dtype=F64),
        ]
    )
    x = rng.standard_normal((3, 4, 4, 2))
    y = np.array([0, 2, 1])

    def loss_of(_: np.ndarray) -> float:
        return softmax_cross_entropy(model.forward(x), y)[0]

    _, dlogits = softmax_cross_entropy(model.forward(x), y)
    model.backward(dlogits)
    for name, value, grad in model.parameters():
        assert rel_error(grad.copy(), numerical_gradient(loss_of, value)) < 1e-6, name


def test_forward_backward_shapes_and_parameters_are_the_layers_arrays():
    model = small_cnn()
    out = model.forward(np.zeros((2, 6, 6, 2)))
    assert out.shape == (2, 4)
    assert model.backward(np.ones((2, 4))).shape == (2, 6, 6, 2)
    params = model.parameters()
    assert params[0].value is model[0].params["w"] and params[0].grad is model[0].grads["w"]
    name, value, grad = params[-1]
    assert name == "5.b" and value.shape == grad.shape == (4,)
    assert model.num_params() == sum(p.value.size for p in params)


def test_train_eval_switches_every_layer():
    model = Sequential([Dense(3, 8, rng=0), BatchNorm(8), Dropout(0.5, rng=0), Dense(8, 2, rng=1)])
    x = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    assert model.training
    a, b = model.forward(x), model.forward(x)
    assert not np.array_equal(a, b)  # new dropout masks in training mode
    assert model.eval() is model and not model.training
    assert all(not layer.training for layer in model)
    running = model[1].buffers["running_mean"].copy()
    c, d = model.forward(x), model.forward(x)
    np.testing.assert_array_equal(c, d)  # deterministic in evaluation mode
    np.testing.assert_array_equal(model[1].buffers["running_mean"], running)
    # and per-example: an example's output does not depend on the rest of the batch
    np.testing.assert_allclose(model.forward(x[:3]), c[:3], rtol=1e-6)
    model.train()
    assert all(layer.training for layer in model)
    with pytest.raises(TypeError, match="mode must be a bool, got 'yes'"):
        model.eval().train("yes")
    assert not any(layer.training for layer in model)  # the refused call changed no layer
    assert model.train(np.bool_(True)).training


def test_summary_of_lenet():
    s = build_lenet().summary((28, 28, 1))
    shapes = [row[1] for row in s.rows]
    assert shapes == [
        (26, 26, 8),
        (26, 26, 8),
        (13, 13, 8),
        (11, 11, 16),
        (11, 11, 16),
        (5, 5, 16),
        (400,),
        (10,),
    ]
    counts = [row[2] for row in s.rows]
    assert counts == [3 * 3 * 1 * 8 + 8, 0, 0, 3 * 3 * 8 * 16 + 16, 0, 0, 0, 400 * 10 + 10]
    assert s.total_params == 80 + 1168 + 4010
    text = str(s)
    assert "(13, 13, 8)" in text and "Total parameters: 5,258" in text and "Conv2D" in text
    assert text == repr(s)


@pytest.mark.parametrize("kind", ["sequential", "graph"])
def test_summary_tables_align_their_columns(kind):
    """Sequential and Graph summaries share one table builder: check both layouts.

    Every column starts where its title starts, the layer column is left-aligned
    and the indices and parameter counts are right-aligned (they end where their
    titles end), and no line has trailing spaces.
    """
    from convlib.architectures import build_resnet

    if kind == "sequential":
        s = build_capstone().summary((28, 28, 1))
        labels = [str(i) for i in range(len(s.rows))]  # right-aligned under "#"
        first = "#"
    else:
        s = build_resnet(0).summary((28, 28, 1))
        labels = s.names  # left-aligned under "Node"
        first = "Node"
    lines = str(s).splitlines()
    header, rule, body = lines[0], lines[1], lines[3:-2]
    assert len(body) == len(s.rows) > 10 and lines[-2] == rule and set(rule) == {"-"}
    assert lines[-1] == f"Total parameters: {s.total_params:,}"
    assert all(line == line.rstrip() for line in lines)
    layer_col = header.index("Layer")
    shape_col = header.index("Output shape")
    assert header.endswith("Params") and len(header) == len(rule)
    for line, label, (desc, shape, params) in zip(body, labels, s.rows):
        assert line[layer_col:].startswith(desc + " ")
        assert line[shape_col:].startswith(str(shape))
        assert line.endswith(f"{params:,}") and len(line) == len(rule)
        if kind == "sequential":
            assert line[: header.index(first) + 1].endswith(label)
        else:
            assert line.startswith(label + " ")
    assert lines[2][layer_col:].startswith("Input ")
    assert lines[2].endswith(str(s.input_shape))  # no parameter count


def test_summary_of_capstone_matches_a_forward_pass():
    model = build_capstone()
    s = model.summary((28, 28, 1))
    out = model.forward(np.zeros((2, 28, 28, 1), dtype=np.float32))
    assert out.shape == (2, *s.output_shape) == (2, 10)
    assert s.total_params == model.num_params()


def test_summary_names_the_layer_that_does_not_fit():
    model = Sequential([Conv2D(1, 4, 3), Flatten(), Dense(100, 10)])
    with pytest.raises(ValueError, match=r"layer 2 .*Dense.*\(2704,\)"):
        model.summary((28, 28, 1))


def test_repr_lists_the_layers():
    text = repr(build_lenet())
    assert text.startswith("Sequential(\n  (0): Conv2D(1, 8, kernel_size=(3, 3))")
    assert "(7): Dense(400, 10)" in text


def test_save_load_round_trip(tmp_path):
    model = small_cnn(seed=0, dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((8, 6, 6, 2)).astype(np.float32)
    model.forward(x)  # update BatchNorm's running statistics
    model[0].params["b"][:] = [0.1, -0.2, 0.3]
    path = tmp_path / "weights.npz"
    model.save(path)
    other = small_cnn(seed=1, dtype=np.float32)
    keep = other[0].params["w"]
    assert not np.array_equal(other.eval().forward(x), model.eval().forward(x))
    assert other.load(path) is other
    assert other[0].params["w"] is keep  # loaded in place
    np.testing.assert_array_equal(other.forward(x), model.forward(x))
    for name, value in model.state().items():
        np.testing.assert_array_equal(other.state()[name], value)
    with np.load(path, allow_pickle=False) as f:
        assert "1.running_var" in f.files


def test_save_appends_npz_and_load_finds_it(tmp_path):
    model = build_lenet()
    model.save(tmp_path / "lenet")
    assert (tmp_path / "lenet.npz").exists()
    build_lenet(seed=3).load(tmp_path / "lenet.npz")


def test_load_rejects_mismatched_shapes(tmp_path):
    path = tmp_path / "m.npz"
    small_cnn(hidden=4).save(path)
    with pytest.raises(
        ValueError, match=r"5\.w: the file has shape \(27, 4\), the model expects \(27, 5\)"
    ):
        small_cnn(hidden=5).load(path)


def test_load_rejects_other_architectures_and_files(tmp_path):
    path = tmp_path / "m.npz"
    build_lenet().save(path)
    with pytest.raises(ValueError, match="architecture"):
        build_capstone().load(path)
    np.savez(tmp_path / "plain.npz", w=np.zeros(3))
    with pytest.raises(ValueError, match=r"not written by Sequential\.save"):
        build_lenet().load(tmp_path / "plain.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        build_lenet().load(tmp_path / "single.npy")
    np.savez(
        tmp_path / "obj.npz",
        __format__=np.array([{"a": 1}], dtype=object),
        __layers__=np.array(["Dense"]),
    )
    with pytest.raises(ValueError, match=r"Python objects.*never unpickled"):
        build_lenet().load(tmp_path / "obj.npz")
    with pytest.raises(FileNotFoundError, match="no saved model"):
        build_lenet().load(tmp_path / "missing.npz")


def test_load_reports_missing_and_extra_arrays(tmp_path):
    path = tmp_path / "m.npz"
    Sequential([Dense(3, 2, rng=0)]).save(path)
    with pytest.raises(ValueError, match=r"missing from the file: \['0.b'\]"):
        Sequential([Dense(3, 2, bias=True, rng=0)]).load(_drop(path, "0.b", tmp_path))
    with pytest.raises(ValueError, match=r"not in this model: \['0.b'\]"):
        Sequential([Dense(3, 2, bias=False, rng=0)]).load(path)


def _drop(path, key, tmp_path):
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k != key}
    out = tmp_path / "dropped.npz"
    np.savez(out, **arrays)
    return out


def test_bad_construction():
    with pytest.raises(ValueError, match="at least one"):
        Sequential([])
    with pytest.raises(TypeError, match="layers\\[1\\]"):
        Sequential([ReLU(), lambda x: x])
    with pytest.raises(TypeError, match="list of layers"):
        Sequential(ReLU())
    with pytest.raises(TypeError, match=r"layers must be a list of layers.*got NoneType"):
        Sequential(None)
    with pytest.raises(TypeError, match=r"layers must be a list of layers.*got str"):
        Sequential("relu")
    relu = ReLU()
    with pytest.raises(ValueError, match="twice"):
        Sequential([relu, relu])


def test_builders_are_seeded():
    a, b, c = build_capstone(0), build_capstone(0), build_capstone(1)
    for (_, va, _), (_, vb, _) in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(va, vb)
    assert not np.array_equal(a[0].params["w"], c[0].params["w"])
    assert all(v.dtype == np.float64 for _, v, _ in build_lenet(0, dtype=F64).parameters())
