"""convlib.architectures: the residual network, its plain twin, and gradient norms per layer."""

from __future__ import annotations

import numpy as np
import pytest

from convlib import numerical_gradient
from convlib.architectures import (
    RESNET_PRESETS,
    build_plain,
    build_resnet,
    conv_layer_names,
    gradient_norms,
)
from convlib.graph import Add, Graph
from convlib.layers import BatchNorm, Conv2D, GlobalAvgPool2D


def _count(c_in, c_out, k):
    return k * k * c_in * c_out + c_out


def test_parameter_counts_by_hand():
    w1, w2 = 16, 32
    main = (
        _count(1, w1, 3)
        + 2 * w1  # stem conv + BN
        + 2 * (_count(w1, w1, 3) + 2 * w1)  # block 1
        + _count(w1, w2, 3)
        + 2 * w2
        + _count(w2, w2, 3)
        + 2 * w2  # block 2
        + (w2 * 10 + 10)  # dense
    )
    projection = _count(w1, w2, 1) + 2 * w2
    assert build_plain(0).num_params() == main
    assert build_resnet(0).num_params() == main + projection


@pytest.mark.parametrize("stem_pool, size", [(False, 28), (True, 14)])
def test_shapes_and_nodes(stem_pool, size):
    net = build_resnet(0, stem_pool=stem_pool, blocks=2)
    assert isinstance(net, Graph) and net.output_shape((28, 28, 1)) == (10,)
    shapes = dict(zip(net.nodes, (row[1] for row in net.summary((28, 28, 1)).rows)))
    assert shapes["b1_relu2"] == (size, size, 16)
    assert shapes["b3_relu2"] == (size // 2, size // 2, 32)
    adds = [n for n in net.nodes if isinstance(net[n], Add)]
    assert adds == ["b1_add", "b2_add", "b3_add", "b4_add"]
    # one projection, where the shape changes (first block of stage 2)
    assert [n for n in net.nodes if n.endswith("_proj")] == ["b3_proj"]
    assert net.inputs_of("b1_add") == ("b1_bn2", "stem_pool" if stem_pool else "stem_relu")
    assert net.inputs_of("b2_add") == ("b2_bn2", "b1_relu2")  # identity shortcut
    assert isinstance(net["gap"], GlobalAvgPool2D)
    plain = build_plain(0, stem_pool=stem_pool, blocks=2)
    assert not any(isinstance(plain[n], Add) for n in plain.nodes)
    assert conv_layer_names(plain) == conv_layer_names(net)
    assert len(conv_layer_names(net)) == 2 + 4 * 2


def test_twins_share_the_main_path_weights():
    res = {p.name: p.value for p in build_resnet(7).parameters()}
    plain = {p.name: p.value for p in build_plain(7).parameters()}
    assert set(plain) < set(res)
    for name, value in plain.items():
        np.testing.assert_array_equal(res[name], value, err_msg=name)
    assert not np.array_equal(build_resnet(8).parameters()[0].value, res["stem_conv.w"])


def test_residual_block_computes_relu_of_f_plus_x():
    net = build_resnet(0, widths=(3, 4), dtype=np.float64)
    net.eval()
    rng = np.random.default_rng(1)
    for name in net.nodes:  # give BatchNorm's running statistics non-trivial values
        layer = net[name]
        if isinstance(layer, BatchNorm):
            layer.buffers["running_mean"][:] = rng.standard_normal(layer.num_features)
            layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, layer.num_features)
    x = rng.standard_normal((2, 8, 8, 1))

    def run(names, h):
        for n in names:
            h = net[n].forward(h)
        return h

    h0 = run(["stem_conv", "stem_bn", "stem_relu"], x)
    f1 = run(["b1_conv1", "b1_bn1", "b1_relu1", "b1_conv2", "b1_bn2"], h0)
    h1 = np.maximum(f1 + h0, 0)
    f2 = run(["b2_conv1", "b2_bn1", "b2_relu1", "b2_conv2", "b2_bn2"], h1)
    h2 = np.maximum(f2 + run(["b2_proj", "b2_proj_bn"], h1), 0)
    logits = net["fc"].forward(h2.mean(axis=(1, 2)))
    np.testing.assert_allclose(net.forward(x), logits, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("builder", [build_resnet, build_plain])
def test_backward_matches_centered_differences(builder):
    net = builder(0, widths=(2, 3), dtype=np.float64)
    net.eval()  # a fixed function of x (BatchNorm with running statistics)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 6, 1))
    dout = rng.standard_normal((2, 10))
    net.forward(x)
    dx = net.backward(dout)
    num = numerical_gradient(lambda v: net.forward(v), x, dout)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)


def test_gradient_norms_leave_the_network_as_it_was():
    net = build_resnet(0, widths=(2, 4))
    net.eval()
    before = {k: v.copy() for k, v in net.state().items()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 8, 8, 1)).astype(np.float32)
    y = np.arange(6) % 10
    norms = gradient_norms(net, x, y)
    assert list(norms) == conv_layer_names(net)
    assert all(isinstance(v, float) and v > 0 for v in norms.values())
    assert not net.training
    for key, value in net.state().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    np.testing.assert_allclose(np.linalg.norm(net["fc"].grads["w"]), norms["fc"], rtol=1e-6)
    assert gradient_norms(net, x, y, names=["b2_proj"]) == pytest.approx(
        {"b2_proj": float(np.linalg.norm(net["b2_proj"].grads["w"]))}
    )


def test_deep_plain_gradients_grow_toward_the_input_at_initialisation():
    # With BatchNorm, a deep plain stack's gradients grow layer by layer toward the
    # input at initialisation; the residual network's stay of the same order.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 12, 12, 1)).astype(np.float32)
    y = np.arange(32) % 10
    ratios = {}
    for builder in (build_resnet, build_plain):
        g = gradient_norms(builder(0, blocks=8, widths=(8, 16)), x, y)
        names = conv_layer_names(builder(0, blocks=8, widths=(8, 16)))
        ratios[builder.__name__] = g[names[0]] / g[names[-2]]
    assert ratios["build_plain"] > 4 * ratios["build_resnet"], ratios


def test_presets():
    assert set(RESNET_PRESETS) == {"cli", "book"}
    for preset in RESNET_PRESETS.values():
        assert set(preset) == {"widths", "stem_pool", "epochs", "lr", "batch_size", "flip"}
        assert isinstance(preset["flip"], bool)
        build_resnet(0, widths=preset["widths"], stem_pool=preset["stem_pool"])


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"widths": 16}, TypeError, "widths must be a pair"),
        ({"widths": (16, 32, 64)}, TypeError, "widths must be a pair"),
        ({"widths": (0, 32)}, ValueError, r"widths\[0\] must be >= 1"),
        ({"blocks": 0}, ValueError, "blocks must be >= 1"),
        ({"stem_pool": "yes"}, TypeError, "stem_pool must be a bool"),
        ({"num_classes": 1}, ValueError, "num_classes must be >= 2"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    for builder in (build_resnet, build_plain):
        with pytest.raises(exc, match=match):
            builder(0, **kwargs)


def test_conv_layer_names_and_gradient_norms_refuse_other_networks():
    g = Graph()
    g.add("c", Conv2D(1, 2, 3), "input")
    with pytest.raises(ValueError, match="not built by build_resnet"):
        conv_layer_names(g)
    with pytest.raises(TypeError, match="net must be a Graph"):
        conv_layer_names([1, 2])
    net = build_plain(0, widths=(2, 4))
    x, y = np.zeros((2, 8, 8, 1), np.float32), np.array([0, 1])
    with pytest.raises(ValueError, match="'b1_relu1' is not a node of net with a weight"):
        gradient_norms(net, x, y, names=["b1_relu1"])
