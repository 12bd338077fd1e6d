"""Networks over a :class:`~convlib.graph.Graph`: a small residual network and its plain twin.

:func:`build_resnet` is a residual network in the style of He et al. (2016)
scaled down for 28 x 28 grey-scale images (Fashion-MNIST)::

    stem:     conv 3x3 1->w1, BatchNorm, ReLU [, maxpool 2]
    stage 1:  `blocks` residual blocks of w1 channels
    stage 2:  `blocks` residual blocks of w2 channels, the first with stride 2
    head:     global average pooling (w2 numbers), dense w2 -> 10

A residual block computes ``y = relu(F(x) + s(x))`` with
``F(x) = bn(conv(relu(bn(conv(x)))))``: two 3 x 3 convolutions with 'same'
padding. The shortcut ``s`` is the identity where ``F`` keeps the shape and
a *projection*, a 1 x 1 convolution with the block's stride followed by
BatchNorm, where it changes it (the first block of stage 2: twice the
channels, half the pixels). :func:`build_plain` builds exactly the same
layers without the shortcuts (no ``Add``, no projection): a stack of the
same depth, the network He et al. compare a residual network against.

Both return a :class:`~convlib.graph.Graph` whose nodes are named after
their place (``"stem_conv"``, ``"b1_conv1"``, ``"b2_add"``, ``"fc"``, ...;
block ``k`` counted from 1 through both stages), so that the two networks
can be compared layer by layer: :func:`conv_layer_names` lists the
convolutions of the main path from input to output, the same names in both,
and :func:`gradient_norms` measures how large the loss gradient of each of
their weights is on a batch -- how well back-propagation reaches the first
layers.

:data:`RESNET_PRESETS` holds the two recipes the project uses, ``"cli"``
(``python -m convlib.train --dataset fashion-mnist --model resnet``, and
``benchmarks/bench_resnet.py``) and ``"book"`` (the chapter on residual
networks, which trains the residual and the plain network in a few minutes
on two cores).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_bool, as_int
from .graph import Add, Graph
from .layers import BatchNorm, Conv2D, Dense, GlobalAvgPool2D, MaxPool2D, ReLU, as_generator
from .losses import softmax_cross_entropy

__all__ = [
    "RESNET_PRESETS",
    "add_block",
    "build_plain",
    "build_resnet",
    "conv_layer_names",
    "gradient_norms",
]

#: The network and recipe of each use: channel widths of the two stages,
#: whether the stem max-pools to 14 x 14, and the training recipe (epochs,
#: peak learning rate of the one-cycle Adam, batch size, random horizontal
#: flips or not).
RESNET_PRESETS: dict[str, dict[str, Any]] = {
    "cli": {
        "widths": (32, 64),
        "stem_pool": True,
        "epochs": 15,
        "lr": 5e-3,
        "batch_size": 128,
        "flip": True,
    },
    "book": {
        "widths": (16, 32),
        "stem_pool": True,
        "epochs": 5,
        "lr": 1e-2,
        "batch_size": 128,
        "flip": False,
    },
}


def add_block(
    g: Graph,
    name: str,
    x: str,
    c_in: int,
    c_out: int,
    *,
    stride: int = 1,
    shortcut: bool = True,
    rng: np.random.Generator | None = None,
    proj_rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> str:
    """Append one block of two 3 x 3 convolutions to ``g``: residual, or plain without ``shortcut``.

    The block computes ``relu(bn(conv(relu(bn(conv(x))))) + s(x))`` with
    nodes ``name + "_conv1"``, ``"_bn1"``, ``"_relu1"``, ``"_conv2"``,
    ``"_bn2"``, ``"_add"`` and ``"_relu2"``. The shortcut ``s`` is the
    identity when the block keeps the shape, else a projection: a 1 x 1
    convolution with the block's stride (``"_proj"``) and BatchNorm
    (``"_proj_bn"``). With ``shortcut=False`` there is no ``s``, no ``Add``:
    ``relu(bn(conv(relu(bn(conv(x))))))``.

    Parameters
    ----------
    g : Graph
    name : str
        Prefix of the block's node names, e.g. ``"b1"``.
    x : str
        The node the block reads, with ``c_in`` channels.
    c_in, c_out : int
        Channels in and out.
    stride : int
        Stride of the first convolution (and of the projection).
    shortcut : bool
        Residual block (True) or plain block (False).
    rng, proj_rng : numpy.random.Generator, optional
        Where the convolutions' and the projection's weights are drawn from.
    dtype : numpy dtype

    Returns
    -------
    str
        The name of the block's output node, ``name + "_relu2"``.
    """
    h = g.add(
        f"{name}_conv1",
        Conv2D(c_in, c_out, 3, stride=stride, padding="same", rng=rng, dtype=dtype),
        x,
    )
    h = g.add(f"{name}_bn1", BatchNorm(c_out, dtype=dtype), h)
    h = g.add(f"{name}_relu1", ReLU(dtype=dtype), h)
    h = g.add(f"{name}_conv2", Conv2D(c_out, c_out, 3, padding="same", rng=rng, dtype=dtype), h)
    h = g.add(f"{name}_bn2", BatchNorm(c_out, dtype=dtype), h)
    if shortcut:
        s = x  # the identity ...
        if stride != 1 or c_in != c_out:  # ... or a projection where the shape changes
            s = g.add(
                f"{name}_proj",
                Conv2D(c_in, c_out, 1, stride=stride, rng=proj_rng, dtype=dtype),
                x,
            )
            s = g.add(f"{name}_proj_bn", BatchNorm(c_out, dtype=dtype), s)
        h = g.add(f"{name}_add", Add(dtype=dtype), h, s)
    return g.add(f"{name}_relu2", ReLU(dtype=dtype), h)


def build_resnet(
    seed: int | np.random.Generator | None = 0,
    *,
    widths: tuple[int, int] = (16, 32),
    blocks: int = 1,
    stem_pool: bool = False,
    shortcuts: bool = True,
    in_channels: int = 1,
    num_classes: int = 10,
    dtype: Any = np.float32,
) -> Graph:
    """A small residual network for 28 x 28 images (He et al. 2016), as a :class:`~convlib.graph.Graph`.

    Stem (3 x 3 convolution, BatchNorm, ReLU, with ``stem_pool`` a 2 x 2 max
    pooling), two stages of ``blocks`` residual blocks each (``widths[0]``
    channels, then ``widths[1]`` channels at half the resolution), global
    average pooling and a dense layer to ``num_classes`` logits. Every block
    is ``relu(bn(conv(relu(bn(conv(x))))) + s(x))`` (:func:`add_block`); the
    shortcut ``s`` is the identity, or a 1 x 1 convolution with stride 2 and
    BatchNorm (a projection) where the block changes the shape. With the
    defaults the network has 19,850 parameters and ``2 + 4 * blocks``
    layers with weights on its main path (``1 + 4 * blocks`` convolutions and
    the dense layer), plus one projection.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        Seeds the weight initialisation (``None``: 0).
    widths : pair of int
        Channels of stage 1 and stage 2, each >= 1.
    blocks : int
        Residual blocks per stage, >= 1.
    stem_pool : bool
        Max-pool 2 x 2 after the stem: the stages then run at 14 x 14 and
        7 x 7 pixels instead of 28 x 28 and 14 x 14, four times cheaper (the
        book's chapter trains this variant).
    shortcuts : bool
        False builds the plain twin (:func:`build_plain`).
    in_channels : int
        Channels of the input images (1 for grey-scale).
    num_classes : int
        Number of logits, >= 2.
    dtype : numpy dtype

    Returns
    -------
    Graph
        Input ``(N, H, W, in_channels)``, output ``(N, num_classes)`` logits.

    Raises
    ------
    TypeError, ValueError
        For an argument of the wrong type or out of range.

    Examples
    --------
    >>> net = build_resnet(0)
    >>> net.num_params(), net.output_shape((28, 28, 1))
    (19850, (10,))
    >>> [n for n in net.nodes if n.startswith("b2_")][-4:]
    ['b2_proj', 'b2_proj_bn', 'b2_add', 'b2_relu2']
    """
    if not isinstance(widths, (tuple, list)) or len(widths) != 2:
        raise TypeError(f"widths must be a pair (w1, w2) of channel counts, got {widths!r}")
    w1, w2 = as_int("widths[0]", widths[0], 1), as_int("widths[1]", widths[1], 1)
    blocks, c_in = as_int("blocks", blocks, 1), as_int("in_channels", in_channels, 1)
    k = as_int("num_classes", num_classes, 2)
    stem_pool, shortcuts = as_bool("stem_pool", stem_pool), as_bool("shortcuts", shortcuts)
    rng = as_generator(seed)
    # Projections draw from their own generator, so that the residual network and
    # its plain twin get the same main-path weights for the same seed.
    proj_rng = np.random.default_rng(int(rng.integers(2**32)))
    g = Graph()
    h = g.add("stem_conv", Conv2D(c_in, w1, 3, padding="same", rng=rng, dtype=dtype), "input")
    h = g.add("stem_bn", BatchNorm(w1, dtype=dtype), h)
    h = g.add("stem_relu", ReLU(dtype=dtype), h)
    if stem_pool:
        h = g.add("stem_pool", MaxPool2D(2, dtype=dtype), h)
    c, number = w1, 0
    for width in (w1, w2):  # two stages
        for i in range(blocks):
            number += 1
            stride = 2 if (width == w2 and i == 0) else 1  # stage 2 starts at half the size
            h = add_block(
                g, f"b{number}", h, c, width, stride=stride, shortcut=shortcuts,
                rng=rng, proj_rng=proj_rng, dtype=dtype,
            )  # fmt: skip
            c = width
    h = g.add("gap", GlobalAvgPool2D(dtype=dtype), h)
    g.add("fc", Dense(c, k, init="glorot", rng=rng, dtype=dtype), h)
    return g


def build_plain(
    seed: int | np.random.Generator | None = 0,
    *,
    widths: tuple[int, int] = (16, 32),
    blocks: int = 1,
    stem_pool: bool = False,
    in_channels: int = 1,
    num_classes: int = 10,
    dtype: Any = np.float32,
) -> Graph:
    """The plain twin of :func:`build_resnet`: the same layers, no shortcuts.

    Every block is ``relu(bn(conv(relu(bn(conv(x))))))``: no ``Add`` and no
    projection, so the network is a plain stack of the same depth (the same
    main-path layers with the same names and, for the same ``seed``, the
    same initial weights as the residual network's main path: the
    projections draw from a generator of their own). It is
    ``build_resnet(..., shortcuts=False)``; parameters as :func:`build_resnet`.

    Returns
    -------
    Graph
        Input ``(N, H, W, in_channels)``, output ``(N, num_classes)`` logits.

    Examples
    --------
    >>> net = build_plain(0)
    >>> net.num_params(), "b2_add" in net.nodes
    (19242, False)
    """
    return build_resnet(
        seed,
        widths=widths,
        blocks=blocks,
        stem_pool=stem_pool,
        shortcuts=False,
        in_channels=in_channels,
        num_classes=num_classes,
        dtype=dtype,
    )


def conv_layer_names(net: Graph) -> list[str]:
    """The convolutions of the main path, input to output (projections excluded), then ``"fc"``.

    The same list for :func:`build_resnet` and :func:`build_plain` built with
    the same options: the layers whose gradients a chapter compares.

    Parameters
    ----------
    net : Graph
        A network from :func:`build_resnet` or :func:`build_plain`.

    Returns
    -------
    list of str
        E.g. ``['stem_conv', 'b1_conv1', 'b1_conv2', 'b2_conv1', 'b2_conv2', 'fc']``.

    Raises
    ------
    TypeError
        If ``net`` is not a Graph.
    ValueError
        If it has no node named ``"stem_conv"`` or ``"fc"`` (not built by these functions).

    Examples
    --------
    >>> conv_layer_names(build_plain(0))
    ['stem_conv', 'b1_conv1', 'b1_conv2', 'b2_conv1', 'b2_conv2', 'fc']
    """
    if not isinstance(net, Graph):
        raise TypeError(
            f"net must be a Graph from build_resnet or build_plain, got {type(net).__name__}"
        )
    names = [n for n in net.nodes if isinstance(net[n], Conv2D) and not n.endswith("_proj")] + [
        n for n in net.nodes if n == "fc"
    ]
    if not names or names[0] != "stem_conv" or names[-1] != "fc":
        raise ValueError(
            "net has no nodes 'stem_conv' and 'fc': it was not built by build_resnet or "
            f"build_plain (its nodes: {net.nodes[:6]}...)"
        )
    return names


def gradient_norms(net: Graph, x: Any, y: Any, names: list[str] | None = None) -> dict[str, float]:
    """The norm of the loss gradient of each named layer's weights ``w``, on one batch.

    One forward and backward pass of softmax cross-entropy in training mode
    (BatchNorm normalises with the batch's statistics, as during training);
    the running statistics and the train/eval mode of ``net`` are restored
    afterwards, so measuring changes nothing the network will later use
    (the layers' ``grads`` do hold this batch's gradients afterwards).

    Parameters
    ----------
    net : Graph
        A classifier, e.g. from :func:`build_resnet` or :func:`build_plain`.
    x : ndarray, shape (N, H, W, C)
        Prepared images, ``N >= 2``.
    y : ndarray, shape (N,)
        Integer labels.
    names : list of str, optional
        Nodes whose layer has a weight ``w``; default :func:`conv_layer_names`.

    Returns
    -------
    dict of str to float
        ``{name: ||d loss / d w||_2}`` in the order of ``names``.

    Raises
    ------
    TypeError
        If ``net`` is not a Graph.
    ValueError
        If a name is not a node of ``net`` or its layer has no weight ``w``.

    Examples
    --------
    >>> net = build_resnet(0, widths=(2, 4))
    >>> x = np.random.default_rng(0).standard_normal((4, 8, 8, 1))
    >>> norms = gradient_norms(net, x, np.array([0, 1, 2, 3]))
    >>> list(norms) == conv_layer_names(net) and all(v > 0 for v in norms.values())
    True
    """
    names = conv_layer_names(net) if names is None else list(names)
    for name in names:
        if name not in net.nodes or "w" not in net[name].params:
            raise ValueError(
                f"{name!r} is not a node of net with a weight 'w' (nodes with weights: "
                f"{[n for n in net.nodes if 'w' in net[n].params]})"
            )
    saved = {(n, key): value.copy() for n in net.nodes for key, value in net[n].buffers.items()}
    training = net.training
    try:
        net.train()
        logits = net.forward(x)
        _, dlogits = softmax_cross_entropy(logits, y)
        net.backward(dlogits)
        return {name: float(np.linalg.norm(net[name].grads["w"])) for name in names}
    finally:
        for (n, key), value in saved.items():
            np.copyto(net[n].buffers[key], value)
        net.train(training)
