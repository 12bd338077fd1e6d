"""Graph with the rest of convlib: save/load, fit/evaluate/predict, optimizers, complex step."""

from __future__ import annotations

import numpy as np
import pytest

import convlib
from convlib.graph import Add, Concat, Graph
from convlib.layers import BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, ReLU


def small_resnet(seed: int = 0, classes: int = 3, dtype=np.float32) -> Graph:
    """conv stem, one residual block with BN, a concat of two branches, a classifier."""
    rng = np.random.default_rng(seed)
    g = Graph()
    s = g.add("stem", Conv2D(1, 4, 3, padding="same", rng=rng, dtype=dtype), "input")
    a = g.add("conv_a", Conv2D(4, 4, 3, padding="same", bias=False, rng=rng, dtype=dtype), s)
    a = g.add("bn_a", BatchNorm(4, dtype=dtype), a)
    a = g.add("relu_a", ReLU(dtype=dtype), a)
    r = g.add("res", Add(dtype=dtype), a, s)
    p = g.add("pool", MaxPool2D(2, dtype=dtype), r)
    b = g.add("branch", Conv2D(4, 2, 1, rng=rng, dtype=dtype), p)
    c = g.add("cat", Concat(dtype=dtype), p, b)
    f = g.add("flat", Flatten(dtype=dtype), c)
    g.add("fc", Dense(4 * 4 * 6, classes, init="glorot", rng=rng, dtype=dtype), f)
    return g


def data(n: int = 48, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes told apart by where the bright square is."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = 0.1 * rng.standard_normal((n, 8, 8, 1))
    for i, k in enumerate(y):
        x[i, 2 * k : 2 * k + 3, 2 * k : 2 * k + 3, 0] += 2.0
    return x.astype(np.float32), y


# -- save and load --------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    g = small_resnet()
    x, y = data()
    convlib.fit(
        g, x, y, convlib.Adam(g.parameters(), lr=1e-2), epochs=1, batch_size=16, progress=False
    )
    path = g.save(tmp_path / "model")
    assert path.name == "model.npz"
    h = small_resnet(seed=7)
    assert not np.allclose(h["stem"].params["w"], g["stem"].params["w"])
    opt = convlib.Adam(h.parameters())
    assert h.load(tmp_path / "model") is h
    for name, value in g.state().items():
        np.testing.assert_array_equal(h.state()[name], value)
    assert opt.params[0][1] is h["stem"].params["w"]  # loaded in place
    g.eval(), h.eval()
    np.testing.assert_array_equal(g.forward(x), h.forward(x))


def test_saved_file_records_the_graph(tmp_path):
    g = small_resnet()
    path = g.save(tmp_path / "g.npz")
    with np.load(path, allow_pickle=False) as f:
        assert str(f["__format__"]) == "convlib.Graph/1"
        assert list(f["__nodes__"]) == g.nodes
        assert list(f["__layers__"])[4] == "Add"
        edges = list(zip(f["__edge_sources__"], f["__edge_targets__"]))
        assert edges == g.edges and ("stem", "res") in edges
        assert list(f["__output__"]) == ["fc"]
        assert set(f.files) - {k for k in f.files if k.startswith("__")} == set(g.state())


def test_load_refuses_another_output(tmp_path):
    g = small_resnet()
    path = g.save(tmp_path / "g.npz")
    h = small_resnet()
    h.add("extra", ReLU(), "fc")
    with pytest.raises(ValueError, match=r"architecture mismatch.*not in the file: \['extra'\]"):
        h.load(path)


def test_load_changes_nothing_on_failure(tmp_path):
    g = small_resnet(classes=4)
    path = g.save(tmp_path / "g.npz")
    h = small_resnet(seed=3)
    before = {k: v.copy() for k, v in h.state().items()}
    with pytest.raises(ValueError, match=r"fc\.w.*\(96, 4\).*\(96, 3\)"):
        h.load(path)
    for k, v in h.state().items():
        np.testing.assert_array_equal(v, before[k])


# -- the training loop ------------------------------------------------------------------


def test_fit_evaluate_predict_on_a_graph():
    g = small_resnet()
    x, y = data(96)
    before = convlib.evaluate(g, x, y)
    hist = convlib.fit(
        g,
        x,
        y,
        convlib.Adam(g.parameters(), lr=1e-2),
        epochs=4,
        batch_size=16,
        seed=0,
        progress=False,
    )
    assert len(hist) == 4 and hist.train_loss[-1] < hist.train_loss[0]
    loss, acc = convlib.evaluate(g, x, y)
    assert loss < before[0] and acc > 0.9
    probs = convlib.predict(g, x[:5], probabilities=True)
    assert probs.shape == (5, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(convlib.predict(g, x[:5]).argmax(axis=1), probs.argmax(axis=1))
    assert g.training  # evaluate/predict restore the mode


def test_fit_checks_labels_against_graph_output():
    g = small_resnet()
    x, y = data()
    with pytest.raises(ValueError, match="3 classes"):
        convlib.fit(g, x, y + 3, convlib.Adam(g.parameters()), epochs=1, batch_size=16)


def test_sgd_step_on_graph_reduces_loss():
    g = small_resnet(dtype=np.float64)
    x, y = data(24)
    x = x.astype(np.float64)
    opt = convlib.SGD(g.parameters(), lr=0.05)
    losses = []
    for _ in range(5):
        loss, dlogits = convlib.softmax_cross_entropy(g.forward(x), y)
        g.backward(dlogits)
        opt.step()
        losses.append(loss)
    assert losses[-1] < losses[0]


def test_complex_step_through_a_graph_in_eval_mode():
    """Add and Concat pass complex input along the opt-in path, so the complex step works."""
    g = small_resnet(dtype=np.float64).eval()
    x = data(2)[0].astype(np.float64)
    dout = np.random.default_rng(1).standard_normal((2, 3))
    g.forward(x)
    dx = g.backward(dout)
    exact = convlib.complex_step_gradient(g.forward, x, dout=dout)
    np.testing.assert_allclose(dx, exact, rtol=1e-9, atol=1e-12)


def test_load_refuses_pickled_records(tmp_path):
    """A record array of Python objects (which np.load would unpickle) is refused unread."""
    g = small_resnet()
    path = g.save(tmp_path / "g.npz")
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["__nodes__"] = np.array(list(arrays["__nodes__"]), dtype=object)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match=r"__nodes__.*Python objects"):
        small_resnet().load(bad)


def test_load_refuses_a_file_without_graph_records(tmp_path):
    g = small_resnet()
    path = g.save(tmp_path / "g.npz")
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files if k != "__edge_targets__"}
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="no __edge_targets__ entry"):
        small_resnet().load(bad)
