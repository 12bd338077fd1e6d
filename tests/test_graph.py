"""Graph, Add and Concat: forward, backward with fan-out, parameters, modes, shapes, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import convlib
from convlib.gradcheck import numerical_gradient, rel_error
from convlib.graph import Add, Concat, Graph, GraphSummary
from convlib.layers import BatchNorm, Conv2D, Dense, Flatten, ReLU, Tanh
from convlib.losses import softmax_cross_entropy
from convlib.merge import add_backward, add_forward, concat_backward, concat_forward

F64 = np.float64


def residual_graph(seed: int = 0, channels: int = 3, dtype=F64) -> Graph:
    """conv -> BN -> ReLU -> conv, added to the input; then a concat branch and a classifier."""
    rng = np.random.default_rng(seed)
    g = Graph()
    a = g.add(
        "conv1",
        Conv2D(channels, channels, 3, padding="same", bias=False, rng=rng, dtype=dtype),
        "input",
    )
    b = g.add("bn1", BatchNorm(channels, dtype=dtype), a)
    c = g.add("relu1", ReLU(dtype=dtype), b)
    d = g.add("conv2", Conv2D(channels, channels, 3, padding="same", rng=rng, dtype=dtype), c)
    e = g.add("skip", Add(dtype=dtype), d, "input")
    f = g.add("cat", Concat(dtype=dtype), e, c)
    h = g.add("flat", Flatten(dtype=dtype), f)
    g.add("fc", Dense(4 * 4 * 2 * channels, 5, init="glorot", rng=rng, dtype=dtype), h)
    return g


# -- the functional merges ------------------------------------------------------


def test_add_forward_backward_by_hand():
    x1 = np.array([[1.0, 2.0]])
    x2 = np.array([[10.0, 20.0]])
    x3 = np.array([[100.0, 200.0]])
    out, cache = add_forward(x1, x2, x3)
    np.testing.assert_array_equal(out, [[111.0, 222.0]])
    dout = np.array([[0.5, -1.0]])
    dxs = add_backward(dout, cache)
    assert len(dxs) == 3
    for dx in dxs:
        np.testing.assert_array_equal(dx, dout)
    dxs[0][0, 0] = 99.0  # copies: changing one leaves the others alone
    assert dxs[1][0, 0] == 0.5


def test_concat_forward_backward_by_hand():
    x1 = np.arange(2 * 2 * 2 * 1, dtype=F64).reshape(2, 2, 2, 1)
    x2 = -np.arange(2 * 2 * 2 * 3, dtype=F64).reshape(2, 2, 2, 3)
    out, cache = concat_forward(x1, x2)
    assert out.shape == (2, 2, 2, 4)
    np.testing.assert_array_equal(out[..., :1], x1)
    np.testing.assert_array_equal(out[..., 1:], x2)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    dx1, dx2 = concat_backward(dout, cache)
    np.testing.assert_array_equal(dx1, dout[..., :1])
    np.testing.assert_array_equal(dx2, dout[..., 1:])


@pytest.mark.parametrize("pair", ["add", "concat"])
def test_merges_against_finite_differences(pair):
    rng = np.random.default_rng(1)
    if pair == "add":
        fwd, bwd = add_forward, add_backward
        inputs = [rng.standard_normal((2, 3, 3, 2)) for _ in range(3)]
    else:
        fwd, bwd = concat_forward, concat_backward
        inputs = [rng.standard_normal((2, 3, 3, c)) for c in (1, 2, 3)]
    report = convlib.check_gradients(fwd, bwd, inputs)
    assert report.passed and max(report.max_rel_error.values()) < 1e-8


def test_merges_refuse_bad_shapes():
    with pytest.raises(ValueError, match=r"x1 \(2, 3\), x2 \(2, 4\)"):
        add_forward(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"equal sizes.*x1 \(1, 4, 4, 2\), x2 \(1, 3, 4, 2\)"):
        concat_forward(np.zeros((1, 4, 4, 2)), np.zeros((1, 3, 4, 2)))
    with pytest.raises(ValueError, match="at least two"):
        add_forward(np.zeros(3))
    _, cache = add_forward(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dout has shape \(3, 2\)"):
        add_backward(np.zeros((3, 2)), cache)
    with pytest.raises(TypeError, match="concat_forward"):
        concat_backward(np.zeros((2, 3)), cache)


# -- building -------------------------------------------------------------------


def test_add_returns_name_and_keeps_order():
    g = residual_graph()
    assert g.nodes == ["conv1", "bn1", "relu1", "conv2", "skip", "cat", "flat", "fc"]
    assert g.output == "fc"
    assert g.inputs_of("skip") == ("conv2", "input")
    assert ("input", "skip") in g.edges and ("relu1", "cat") in g.edges
    assert isinstance(g["conv1"], Conv2D)
    assert "skip" in g and "input" not in g and len(g) == 8
    assert g.consumers()["relu1"] == ["conv2", "cat"]


def test_parameters_named_by_node():
    g = residual_graph()
    names = [p.name for p in g.parameters()]
    assert names == [
        "conv1.w", "bn1.gamma", "bn1.beta", "conv2.w", "conv2.b", "fc.w", "fc.b",
    ]  # fmt: skip
    for p in g.parameters():
        node, key = p.name.rsplit(".", 1)
        assert p.value is g[node].params[key] and p.grad is g[node].grads[key]
    assert g.num_params() == sum(p.value.size for p in g.parameters())
    state = g.state()
    assert state["bn1.running_var"] is g["bn1"].buffers["running_var"]
    assert set(state) == {p.name for p in g.parameters()} | {"bn1.running_mean", "bn1.running_var"}


def test_train_eval():
    g = residual_graph()
    assert g.training
    assert g.eval() is g and not g.training
    assert all(not g[n].training for n in g.nodes)
    g.train()
    assert g.training and all(g[n].training for n in g.nodes)
    with pytest.raises(TypeError, match="mode"):
        g.train("no")


# -- passes -------------------------------------------------------------------------


def test_forward_equals_hand_composition():
    g = residual_graph()
    x = np.random.default_rng(3).standard_normal((2, 4, 4, 3))
    out = g.forward(x)
    L = {n: g[n] for n in g.nodes}
    a = L["conv1"].forward(x)
    c = L["relu1"].forward(L["bn1"].forward(a))
    e = L["skip"].forward(L["conv2"].forward(c), x)
    expected = L["fc"].forward(L["flat"].forward(L["cat"].forward(e, c)))
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_whole_graph_gradient_check_float64():
    """Input and every parameter, through a skip, a fan-out (relu1 used twice) and a concat."""
    g = residual_graph()
    rng = np.random.default_rng(42)
    x = rng.standard_normal((3, 4, 4, 3))
    y = rng.integers(0, 5, size=3)

    def loss() -> float:
        return softmax_cross_entropy(g.forward(x), y)[0]

    _, dlogits = softmax_cross_entropy(g.forward(x), y)
    dx = g.backward(dlogits)
    assert rel_error(dx, numerical_gradient(lambda _: loss(), x)) < 1e-6
    for p in g.parameters():
        analytic = p.grad.copy()
        numeric = numerical_gradient(lambda _: loss(), p.value)
        assert rel_error(analytic, numeric) < 1e-6, p.name


def test_fan_out_gradients_are_summed():
    """A node used twice gets the sum of both gradients: y = t + t with t = tanh(x)."""
    g = Graph()
    t = g.add("t", Tanh(dtype=F64), "input")
    g.add("twice", Add(dtype=F64), t, t)
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    np.testing.assert_allclose(g.forward(x), 2 * np.tanh(x))
    dx = g.backward(np.ones_like(x))
    np.testing.assert_allclose(dx, 2 * (1 - np.tanh(x) ** 2))

    # The input fanned out to three consumers: y = x + tanh(x) + x*1 via a second Add.
    g = Graph()
    t = g.add("t", Tanh(dtype=F64), "input")
    s = g.add("s", Add(dtype=F64), t, "input")
    g.add("u", Add(dtype=F64), s, "input")
    dx = (g.forward(x), g.backward(np.ones_like(x)))[1]
    np.testing.assert_allclose(dx, 2 + (1 - np.tanh(x) ** 2))


def test_retain_grads_keeps_every_node_gradient():
    g = residual_graph()
    x = np.random.default_rng(5).standard_normal((2, 4, 4, 3))
    dout = np.ones((2, 5))
    g.forward(x)
    dx = g.backward(dout)
    assert g.node_grads == {}  # off by default
    g.forward(x)
    dx2 = g.backward(dout, retain_grads=True)
    np.testing.assert_array_equal(dx, dx2)
    assert set(g.node_grads) == set(g.nodes) | {"input"}
    assert g.node_grads["input"] is dx2
    np.testing.assert_array_equal(g.node_grads["fc"], dout)
    # relu1 feeds conv2 and cat: its gradient is the sum of what both send back
    g.forward(x)
    g.backward(dout, retain_grads=True)
    grads = dict(g.node_grads)
    from_cat = grads["cat"][..., 3:]
    g["conv2"].forward(g["relu1"].forward(g["bn1"].forward(g["conv1"].forward(x))))
    from_conv2 = g["conv2"].backward(grads["conv2"])
    np.testing.assert_allclose(grads["relu1"], from_cat + from_conv2, rtol=1e-12)


def test_backward_needs_forward_and_one_backward_per_forward():
    g = residual_graph()
    with pytest.raises(RuntimeError, match="before forward"):
        g.backward(np.zeros((1, 5)))
    x = np.ones((2, 4, 4, 3))
    out = g.forward(x)
    g.backward(np.ones_like(out))
    with pytest.raises(RuntimeError, match="before forward"):
        g.backward(np.ones_like(out))
    assert all(np.isnan(p.grad).all() for p in g.parameters())  # no stale gradients left


def test_output_can_be_moved():
    g = Graph()
    a = g.add("a", Tanh(dtype=F64), "input")
    g.add("b", Tanh(dtype=F64), a)
    g.output = "a"
    with pytest.raises(ValueError, match=r"unconnected.*'b'.*used by no node"):
        g.forward(np.ones((1, 2)))
    with pytest.raises(ValueError, match="one of the graph's nodes"):
        g.output = "nope"
    g.output = "b"
    np.testing.assert_allclose(g.forward(np.ones((1, 2))), np.tanh(np.tanh(np.ones((1, 2)))))


def test_output_shape_and_summary():
    g = residual_graph()
    assert g.output_shape((4, 4, 3)) == (5,)
    s = g.summary((4, 4, 3))
    assert isinstance(s, GraphSummary)
    assert s.names == g.nodes and s.total_params == g.num_params()
    assert s.inputs[4] == ("conv2", "input")
    assert s.rows[5][1] == (4, 4, 6)  # the concat's channels
    assert s.input_shapes[5] == ((4, 4, 3), (4, 4, 3))
    text = str(s)
    assert "skip" in text and "conv2, input" in text and f"{g.num_params():,}" in text
    with pytest.raises(ValueError, match="batch axis"):
        g.summary((1, 4, 4, 3))


# -- bad input ----------------------------------------------------------------------------------


def test_building_errors():
    g = Graph()
    with pytest.raises(ValueError, match="no layers"):
        g.forward(np.ones((1, 2)))
    g.add("a", Tanh(), "input")
    with pytest.raises(ValueError, match="unknown input 'b'"):
        g.add("c", Tanh(), "b")
    with pytest.raises(ValueError, match="'a' is already used"):
        g.add("a", Tanh(), "input")
    with pytest.raises(ValueError, match="'input' is already used"):
        g.add("input", Tanh(), "a")
    with pytest.raises(ValueError, match="at least one input"):
        g.add("c", Tanh())
    with pytest.raises(ValueError, match="Add takes at least 2 inputs, got 1"):
        g.add("c", Add(), "a")
    with pytest.raises(ValueError, match="Concat takes at least 2"):
        g.add("c", Concat(), "a")
    with pytest.raises(ValueError, match="Tanh takes exactly one input, got 2"):
        g.add("c", Tanh(), "a", "input")
    with pytest.raises(TypeError, match="separate arguments"):
        g.add("c", Add(), ["a", "input"])
    with pytest.raises(TypeError, match="layer must be"):
        g.add("c", np.tanh, "a")
    with pytest.raises(ValueError, match="already the node 'a'"):
        g.add("c", g["a"], "a")
    with pytest.raises(TypeError, match="name must be a str"):
        g.add(3, Tanh(), "a")
    assert g.nodes == ["a"]  # nothing was added by the failed calls


def test_unconnected_node_refused():
    g = Graph()
    a = g.add("a", Tanh(), "input")
    g.add("dead", ReLU(), a)
    g.add("out", Tanh(), a)
    with pytest.raises(ValueError, match=r"unconnected nodes: 'dead' \(used by no node\)"):
        g.forward(np.ones((1, 2)))
    with pytest.raises(ValueError, match="unconnected"):
        g.check()


def test_shape_mismatch_at_add_names_node_and_shapes():
    rng = np.random.default_rng(0)
    g = Graph()
    a = g.add("conv", Conv2D(1, 4, 3, rng=rng), "input")  # valid padding: 6x6 -> 4x4
    g.add("skip", Add(), a, "input")
    with pytest.raises(ValueError, match=r"node 'skip'.*'conv' \(4, 4, 4\), 'input' \(6, 6, 1\)"):
        g.summary((6, 6, 1))
    with pytest.raises(ValueError, match=r"node 'skip'.*\(2, 4, 4, 4\), x2 \(2, 6, 6, 1\)"):
        g.forward(np.ones((2, 6, 6, 1)))


def test_concat_shape_mismatch():
    rng = np.random.default_rng(0)
    g = Graph()
    a = g.add("conv", Conv2D(1, 4, 3, rng=rng), "input")
    g.add("cat", Concat(), a, "input")
    with pytest.raises(ValueError, match=r"node 'cat'.*equal sizes"):
        g.summary((6, 6, 1))


def test_exported_from_convlib():
    for name in ("Graph", "Add", "Concat", "add_forward", "concat_backward"):
        assert hasattr(convlib, name) and name in convlib.__all__


# -- Hypothesis: merges of random shapes, whole random graphs ---------------------------------


@settings(max_examples=25)
@given(
    st.integers(1, 3),  # N
    st.integers(1, 4),  # H
    st.integers(1, 4),  # W
    st.lists(st.integers(1, 3), min_size=2, max_size=4),  # channels of each input
    st.integers(0, 2**31 - 1),
)
def test_merges_random_shapes(n, h, w, channels, seed):
    rng = np.random.default_rng(seed)
    cat_inputs = [rng.standard_normal((n, h, w, c)) for c in channels]
    assert convlib.check_gradients(concat_forward, concat_backward, cat_inputs).passed
    add_inputs = [rng.standard_normal((n, h, w, channels[0])) for _ in channels]
    assert convlib.check_gradients(add_forward, add_backward, add_inputs).passed
    out = Concat(dtype=F64).forward(*cat_inputs)
    assert out.shape[1:] == Concat().output_shape(*[(h, w, c) for c in channels])


@st.composite
def random_graphs(draw):
    """A random DAG of C-channel nodes: 3x3 convs, tanh, Add and Concat (+ 1x1 conv back to C).

    Every node has C channels; inputs are drawn among all earlier nodes (so
    fan-out and long skips are common). Nodes nobody used are summed into
    the output at the end, so the graph has no unconnected node.
    """
    c = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    g = Graph()
    names = ["input"]
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "tanh", "add", "concat"]))
        name = f"n{i}"
        if kind == "conv":
            src = draw(st.sampled_from(names))
            g.add(name, Conv2D(c, c, 3, padding="same", rng=rng, dtype=F64), src)
        elif kind == "tanh":
            g.add(name, Tanh(dtype=F64), draw(st.sampled_from(names)))
        else:
            srcs = draw(st.lists(st.sampled_from(names), min_size=2, max_size=3))
            if kind == "add":
                g.add(name, Add(dtype=F64), *srcs)
            else:
                cat = g.add(name + "_cat", Concat(dtype=F64), *srcs)
                g.add(name, Conv2D(c * len(srcs), c, 1, rng=rng, dtype=F64), cat)
        names.append(name)
    used = {src for src, _ in g.edges}
    loose = [n for n in g.nodes if n not in used]
    if len(loose) > 1:
        g.add("out", Add(dtype=F64), *loose)
    return g, c, seed


@settings(max_examples=20)
@given(random_graphs())
def test_random_graph_against_finite_differences(graph):
    """dx and every parameter gradient of a random DAG, against centered differences."""
    g, c, seed = graph
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((2, 3, 3, c))
    dout = rng.standard_normal(g.forward(x).shape)
    g.forward(x)
    dx = g.backward(dout)

    def objective(_: np.ndarray) -> float:
        return float(np.sum(g.forward(x) * dout))

    assert rel_error(dx, numerical_gradient(objective, x)) < 1e-6
    # The same graph as a functional pair, through convlib.check_gradients.
    report = convlib.check_gradients(
        lambda xx: (g.forward(xx), None), lambda d, _: (g.backward(d),), [x], dout=dout
    )
    assert report.passed
    for p in g.parameters():
        analytic = p.grad.copy()
        assert rel_error(analytic, numerical_gradient(objective, p.value)) < 1e-6, p.name


def test_repr_lists_nodes_inputs_and_output():
    g = residual_graph()
    text = repr(g)
    assert "skip = Add(dtype=float64)(conv2, input)" in text
    assert "\n  output: fc\n)" in text
    assert repr(g.summary((4, 4, 3))) == str(g.summary((4, 4, 3)))


# -- backward_params: the graph's input gradient is not computed ------------------


def test_backward_params_gives_the_gradients_of_backward(monkeypatch):
    """Same parameter gradients; the node reading the input alone skips its dx products."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 4, 3))
    graphs = [residual_graph(seed=5), residual_graph(seed=5)]
    outs = [g.forward(x) for g in graphs]
    np.testing.assert_array_equal(outs[0], outs[1])
    dout = rng.standard_normal(outs[0].shape)
    assert graphs[0].backward(dout).shape == x.shape
    full_backwards = []
    real = convlib.layers.trainable.conv2d_backward

    def counting(*args, **kwargs):
        full_backwards.append(args[1].w.shape)
        return real(*args, **kwargs)

    monkeypatch.setattr("convlib.layers.trainable.conv2d_backward", counting)
    assert graphs[1].backward_params(dout) is None
    # conv2 (whose input is relu1) ran its full backward; conv1 (input only) did not
    assert len(full_backwards) == 1
    for p, q in zip(graphs[0].parameters(), graphs[1].parameters()):
        assert p.name == q.name
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=p.name)


def test_backward_params_needs_forward_and_consumes_it():
    g = residual_graph()
    with pytest.raises(RuntimeError, match=r"backward_params\(\) called before forward"):
        g.backward_params(np.zeros((2, 5)))
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3))
    g.forward(x)
    g.backward_params(np.ones((2, 5)))
    with pytest.raises(RuntimeError, match="called before forward"):
        g.backward(np.ones((2, 5)))


def test_fit_uses_graph_backward_params(monkeypatch):
    """convlib.fit takes the params-only path of a Graph too."""
    calls = []
    real = Graph.backward_params

    def spy(self, dout):
        calls.append(dout.shape)
        return real(self, dout)

    monkeypatch.setattr(Graph, "backward_params", spy)
    g = Graph()
    g.add("flat", Flatten(dtype=np.float32), "input")
    g.add("fc", Dense(4 * 4, 3, rng=np.random.default_rng(0)), "flat")
    x = np.random.default_rng(1).standard_normal((8, 4, 4, 1)).astype(np.float32)
    y = np.arange(8) % 3
    opt = convlib.optim.SGD(g.parameters(), lr=0.1)
    convlib.fit(g, x, y, opt, epochs=1, batch_size=4, progress=False)
    assert calls == [(4, 3), (4, 3)]
