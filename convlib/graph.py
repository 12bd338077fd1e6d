"""A network over a directed acyclic graph of layers: skip connections and branches.

:class:`Graph` generalises :class:`~convlib.model.Sequential`: every node is
a layer applied to the outputs of one or more *earlier* nodes (or to the
graph's input, the node ``"input"``)::

    g = Graph()
    a = g.add("conv1", Conv2D(8, 8, 3, padding="same"), "input")
    b = g.add("relu1", ReLU(), a)
    g.add("skip", Add(), b, "input")          # y = x + relu(conv(x))

Because a node can only name nodes that already exist, the graph is acyclic
by construction, and the order in which nodes were added is a topological
order. ``forward`` runs the nodes in that order; ``backward`` runs them in
reverse and **adds** the gradients that reach a node from several consumers
-- the chain rule with fan-out of chapter 1, now on tensors.

:class:`~convlib.layers.Add` (a skip connection) and
:class:`~convlib.layers.Concat` (along channels) are the layers with several
inputs (defined in :mod:`convlib.layers`, importable from here too).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._checks import as_bool
from ._graph_files import load_graph, save_graph
from ._summary_tables import batch_axis_error, summary_input_shape, summary_table
from .layers import (
    Add as Add,  # re-exported: from convlib.graph import Graph, Add, Concat
    Concat as Concat,
    Layer,
    MergeLayer,
)
from .model import ModelSummary, Parameter

# Add and Concat are defined (and documented) in convlib.layers.
__all__ = ["Graph", "GraphSummary", "INPUT"]

#: The name of a graph's input node.
INPUT = "input"


AnyLayer = Layer | MergeLayer


# --------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphSummary(ModelSummary):
    """What :meth:`Graph.summary` returns; prints as a table.

    Attributes
    ----------
    input_shape : tuple of int
    rows : list of (str, tuple of int, int)
        Per node, in topological order: layer, output shape (without the
        batch axis), number of parameters (as in :class:`ModelSummary`).
    total_params : int
    names : list of str
        The node names, matching ``rows``.
    inputs : list of tuple of str
        Each node's input names, matching ``rows``.
    input_shapes : list of tuple of tuple of int
        The shapes each node receives, matching ``rows``.
    """

    names: list[str] = field(default_factory=list)
    inputs: list[tuple[str, ...]] = field(default_factory=list)
    input_shapes: list[tuple[tuple[int, ...], ...]] = field(default_factory=list)

    def __str__(self) -> str:
        header = ("Node", "Layer", "Inputs", "Output shape", "Params")
        body = [(INPUT, "Input", "", str(self.input_shape), "")]
        body += [
            (n, d, ", ".join(ins), str(s), f"{p:,}")
            for n, ins, (d, s, p) in zip(self.names, self.inputs, self.rows)
        ]
        return summary_table(header, body, "<<<<>", self.total_params)

    __repr__ = __str__


class _NodeMismatch(Exception):
    def __init__(self, name: str, shapes: list[tuple[int, ...]], reason: Exception) -> None:
        super().__init__(name)
        self.name, self.shapes, self.reason = name, shapes, reason


# --------------------------------------------------------------------------
# The graph
# --------------------------------------------------------------------------


class Graph:
    """A model over a directed acyclic graph of layers.

    Starts with one node, the input (named ``"input"``); :meth:`add` appends
    a layer applied to earlier nodes. The output is the last node added
    (``g.output = name`` changes it).

    Examples
    --------
    >>> import numpy as np
    >>> from convlib.layers import Conv2D, ReLU
    >>> g = Graph()
    >>> a = g.add("conv", Conv2D(2, 2, 3, padding="same", rng=0), "input")
    >>> b = g.add("relu", ReLU(), a)
    >>> g.add("skip", Add(), b, "input")
    'skip'
    >>> g.forward(np.ones((1, 4, 4, 2))).shape
    (1, 4, 4, 2)
    >>> g.nodes
    ['conv', 'relu', 'skip']
    >>> [p.name for p in g.parameters()]
    ['conv.w', 'conv.b']
    """

    def __init__(self) -> None:
        self._layers: dict[str, AnyLayer] = {}
        self._inputs: dict[str, tuple[str, ...]] = {}
        self._output: str | None = None
        self._checked = False
        self._forward_done = False
        #: After ``backward(dout, retain_grads=True)``: the gradient of the loss
        #: with respect to every node's output (and ``"input"``), by name.
        self.node_grads: dict[str, np.ndarray] = {}

    # -- building -----------------------------------------------------------
    def add(self, name: str, layer: AnyLayer, *inputs: str) -> str:
        """Append a node: ``layer`` applied to the outputs of the nodes ``inputs``.

        Parameters
        ----------
        name : str
            A new, non-empty name without ``"/"``, not starting with ``"__"``
            (parameters are named ``name + "." + key``).
        layer : Layer or MergeLayer
            A new layer object (one object cannot be two nodes).
        *inputs : str
            Names of existing nodes (or ``"input"``), in the order the layer
            takes them: exactly one for a one-input layer, at least two for
            :class:`Add` and :class:`Concat`. A name may repeat
            (``g.add("twice", Add(), "a", "a")``).

        Returns
        -------
        str
            ``name``, to pass as the input of later nodes.

        Raises
        ------
        TypeError
            A ``name`` or input that is not a str, a ``layer`` that is not a
            layer, a list of inputs instead of separate arguments.
        ValueError
            An unknown input name, a name used twice, or a number of inputs
            the layer does not take.
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__} {name!r}")
        if not name or "/" in name or name.startswith("__"):
            raise ValueError(
                f"name must be non-empty, without '/' and not start with '__', got {name!r}"
            )
        if name == INPUT or name in self._layers:
            raise ValueError(
                f"name {name!r} is already used by a node of this graph; every node needs its own name"
            )
        if not isinstance(layer, (Layer, MergeLayer)):
            raise TypeError(
                f"layer must be a convlib Layer (or Add/Concat), got {type(layer).__name__}"
            )
        for other, existing in self._layers.items():
            if existing is layer:
                raise ValueError(
                    f"this layer object is already the node {other!r}; create a new layer for "
                    f"node {name!r} (layers keep their own cache and parameters)"
                )
        if not inputs:
            raise ValueError(
                f"node {name!r} needs at least one input: g.add({name!r}, layer, 'input')"
            )
        for i, inp in enumerate(inputs):
            if not isinstance(inp, str):
                hint = (
                    f"; pass the names as separate arguments: g.add({name!r}, layer, 'a', 'b')"
                    if isinstance(inp, (list, tuple))
                    else ""
                )
                raise TypeError(
                    f"inputs of node {name!r} must be node names (str), input {i} is "
                    f"{type(inp).__name__} {inp!r}{hint}"
                )
            if inp != INPUT and inp not in self._layers:
                known = [INPUT, *self._layers]
                raise ValueError(
                    f"node {name!r}: unknown input {inp!r}; inputs must be nodes added before "
                    f"(a graph cannot have cycles), known nodes: {known}"
                )
        if isinstance(layer, MergeLayer):
            if len(inputs) < layer.min_inputs:
                raise ValueError(
                    f"node {name!r}: {type(layer).__name__} takes at least {layer.min_inputs} "
                    f"inputs, got {len(inputs)} ({list(inputs)})"
                )
        elif len(inputs) != 1:
            raise ValueError(
                f"node {name!r}: {type(layer).__name__} takes exactly one input, got "
                f"{len(inputs)} ({list(inputs)}); merge them first with Add() or Concat()"
            )
        self._layers[name] = layer
        self._inputs[name] = tuple(inputs)
        self._output = name
        self._checked = False
        self._forward_done = False
        return name

    @property
    def output(self) -> str:
        """The name of the output node (by default the last node added)."""
        if self._output is None:
            raise ValueError(
                "the graph has no layers yet: add one with g.add(name, layer, 'input')"
            )
        return self._output

    @output.setter
    def output(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"output must be a node name (str), got {type(name).__name__}")
        if name not in self._layers:
            raise ValueError(f"output must be one of the graph's nodes {self.nodes}, got {name!r}")
        self._output = name
        self._checked = False
        self._forward_done = False

    @property
    def nodes(self) -> list[str]:
        """The node names in topological order (the order added), without ``"input"``."""
        return list(self._layers)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Every ``(source, target)`` pair, by target in topological order, then input order."""
        return [(src, dst) for dst, ins in self._inputs.items() for src in ins]

    def inputs_of(self, name: str) -> tuple[str, ...]:
        """The input names of node ``name``, in order."""
        self._known(name)
        return self._inputs[name]

    def _known(self, name: Any) -> None:
        if name not in self._layers:
            raise KeyError(f"no node named {name!r}; the nodes are {self.nodes}")

    def __getitem__(self, name: str) -> AnyLayer:
        self._known(name)
        return self._layers[name]

    def __contains__(self, name: object) -> bool:
        return name in self._layers

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layers)

    def consumers(self) -> dict[str, list[str]]:
        """For ``"input"`` and every node: the nodes that take its output (once per use)."""
        users: dict[str, list[str]] = {INPUT: [], **{n: [] for n in self._layers}}
        for src, dst in self.edges:
            users[src].append(dst)
        return users

    def check(self) -> Graph:
        """Refuse a graph that cannot run: no layers, or nodes that do not reach the output.

        A node whose output no later node uses, and which is not the output
        node, is *unconnected*: its work would be wasted and, worse, nothing
        would back-propagate into it. Run by the first :meth:`forward` after
        a change. Returns self.

        Raises
        ------
        ValueError
            Naming every unconnected node.
        """
        output = self.output
        needed = {output}
        for name in reversed(self.nodes):
            if name in needed:
                needed.update(self._inputs[name])
        unused = [n for n in self.nodes if n not in needed]
        if unused:
            users = self.consumers()
            details = "; ".join(
                f"{n!r} (used by {users[n]})" if users[n] else f"{n!r} (used by no node)"
                for n in unused
            )
            raise ValueError(
                f"unconnected nodes: {details} do not lead to the output node {output!r}. "
                "Use each node's output in a later node, or set g.output to the node meant "
                "as the output"
            )
        self._checked = True
        return self

    # -- passes -----------------------------------------------------------------
    def _node_error(self, name: str, exc: Exception) -> Exception:
        """A plain ValueError/TypeError from a node's layer, re-raised with the node named."""
        if type(exc) not in (ValueError, TypeError):
            return exc
        layer = self._layers[name]
        ins = ", ".join(repr(i) for i in self._inputs[name])
        return type(exc)(f"node {name!r} ({layer!r}, inputs {ins}): {exc}")

    def forward(self, x: Any) -> np.ndarray:
        """Run every node in topological order.

        Parameters
        ----------
        x : array_like, shape (N, ...)
            The input batch, e.g. ``(N, 28, 28, 1)`` images.

        Returns
        -------
        ndarray, shape (N, ...)
            The output node's output.

        Raises
        ------
        ValueError
            The graph fails :meth:`check`, or a node refuses its inputs (the
            message names the node).
        """
        self._forward_done = False
        if not self._checked:
            self.check()
        remaining = {k: len(v) for k, v in self.consumers().items()}
        values: dict[str, Any] = {INPUT: x}
        for name, layer in self._layers.items():
            ins = self._inputs[name]
            args = [values[i] for i in ins]
            try:
                values[name] = layer.forward(*args)
            except (ValueError, TypeError) as exc:
                raise self._node_error(name, exc) from exc
            for i in ins:  # free what no later node needs
                remaining[i] -= 1
                if remaining[i] == 0 and i != self._output:
                    del values[i]
        self._forward_done = True
        out: np.ndarray = values[self.output]
        return out

    __call__ = forward

    def backward(self, dout: Any, *, retain_grads: bool = False) -> np.ndarray:
        """Back-propagate through every node in reverse topological order.

        A node's upstream gradient is the **sum** of the gradients its
        consumers send back (one term per use); it is complete when every
        consumer has run, which reverse topological order guarantees. Every
        parameter gradient is first filled with NaN, as in
        :meth:`Sequential.backward`.

        Parameters
        ----------
        dout : array_like, shape of the last forward output
            Gradient of the loss with respect to the output node's output.
        retain_grads : bool
            Keep the gradient of the loss with respect to every node's output
            (and the input) in :attr:`node_grads`, e.g. to see how the
            gradient changes from layer to layer. Off by default: the
            gradients are then dropped as soon as they have been used.

        Returns
        -------
        ndarray, shape of the last forward input
            Gradient of the loss with respect to the graph's input.
        """
        retain_grads = as_bool("retain_grads", retain_grads)
        dx_input = self._backward_nodes(dout, retain_grads=retain_grads, params_only=False)
        assert dx_input is not None
        return dx_input

    def backward_params(self, dout: Any) -> None:
        """:meth:`backward` for training: the parameter gradients only.

        The same gradients in ``layer.grads`` as :meth:`backward`, but a node
        whose only input is the graph's input does not compute the gradient
        with respect to it (the data, which no training step uses): it runs
        :meth:`convlib.layers.Layer.backward_params`, which for a
        :class:`~convlib.layers.Conv2D` skips the input gradient's products.
        A node that merges the graph's input with other nodes' outputs runs
        its whole backward pass (its other inputs need their gradients).
        :func:`convlib.fit` calls this, as for :meth:`convlib.Sequential.backward_params`.

        Parameters
        ----------
        dout : array_like, shape of the last forward output
        """
        self._backward_nodes(dout, retain_grads=False, params_only=True)

    def _backward_nodes(
        self, dout: Any, *, retain_grads: bool, params_only: bool
    ) -> np.ndarray | None:
        """The reverse sweep of :meth:`backward` (``params_only``: of :meth:`backward_params`)."""
        for layer in self._layers.values():
            layer._invalidate_grads()
        if not self._forward_done:
            raise RuntimeError(
                f"Graph.{'backward_params' if params_only else 'backward'}() called before "
                "forward(): run forward on a batch first (each forward allows one backward)"
            )
        self._forward_done = False
        self.node_grads = {}
        grads: dict[str, Any] = {self.output: dout}
        for name in reversed(self.nodes):
            layer = self._layers[name]
            g = grads.pop(name)
            if retain_grads:
                self.node_grads[name] = g
            if params_only and self._inputs[name] == (INPUT,) and isinstance(layer, Layer):
                # The graph's input alone: its gradient is not needed.
                try:
                    layer.backward_params(g)
                except (ValueError, TypeError) as exc:
                    raise self._node_error(name, exc) from exc
                continue
            try:
                result = layer.backward(g)
            except (ValueError, TypeError) as exc:
                raise self._node_error(name, exc) from exc
            dxs = result if isinstance(layer, MergeLayer) else (result,)
            for src, dx in zip(self._inputs[name], dxs):
                # Not in place: a layer may hand back an array it also uses elsewhere.
                grads[src] = dx if src not in grads else grads[src] + dx
        if params_only:
            return None
        dx_input: np.ndarray = grads[INPUT]
        if retain_grads:
            self.node_grads[INPUT] = dx_input
        return dx_input

    # -- parameters and state -----------------------------------------------
    def parameters(self) -> list[Parameter]:
        """Every trainable array with its gradient, named ``"<node>.<key>"``, in node order."""
        return [
            Parameter(f"{name}.{key}", value, layer.grads[key])
            for name, layer in self._layers.items()
            for key, value in layer.params.items()
        ]

    def state(self) -> dict[str, np.ndarray]:
        """Parameters and buffers (e.g. BatchNorm running statistics) by ``"<node>.<key>"``."""
        out: dict[str, np.ndarray] = {}
        for name, layer in self._layers.items():
            for key, value in {**layer.params, **layer.buffers}.items():
                out[f"{name}.{key}"] = value
        return out

    def num_params(self) -> int:
        """Total number of trainable scalars."""
        return sum(layer.num_params() for layer in self._layers.values())

    @property
    def training(self) -> bool:
        """True if every layer is in training mode."""
        return all(layer.training for layer in self._layers.values())

    def train(self, mode: bool = True) -> Graph:
        """Put every layer in training mode (``mode=False``: evaluation). Returns self."""
        mode = as_bool("mode", mode)
        for layer in self._layers.values():
            layer.train(mode)
        return self

    def eval(self) -> Graph:
        """Put every layer in evaluation mode. Returns self."""
        return self.train(False)

    # -- description --------------------------------------------------------
    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one example's output (shapes exclude the batch axis)."""
        return self.summary(input_shape).output_shape

    def summary(self, input_shape: tuple[int, ...]) -> GraphSummary:
        """Inputs, output shape and parameter count of every node, and the total.

        Parameters
        ----------
        input_shape : tuple of int
            One example's shape, without the batch axis, e.g. ``(28, 28, 1)``.

        Returns
        -------
        GraphSummary
            Prints as a table; ``rows``, ``names``, ``inputs`` and
            ``total_params`` hold the numbers.

        Raises
        ------
        TypeError
            If ``input_shape`` is not a tuple of ints.
        ValueError
            If the graph fails :meth:`check`, or a node does not accept the
            shapes it receives (e.g. an :class:`Add` of two different shapes):
            the message names the node, its inputs and their shapes.
        """
        shape = summary_input_shape(input_shape)
        self.check()
        try:
            shapes, rows, in_shapes = self._shapes(shape)
        except _NodeMismatch as err:
            if len(shape) > 1 and self._fits(shape[1:]):
                raise batch_axis_error(shape) from None
            ins = self._inputs[err.name]
            got = ", ".join(f"{i!r} {s}" for i, s in zip(ins, err.shapes))
            raise ValueError(
                f"node {err.name!r} ({self._layers[err.name]!r}) does not accept its inputs "
                f"{got}: {err.reason}"
            ) from None
        return GraphSummary(
            shape,
            rows,
            self.num_params(),
            names=self.nodes,
            inputs=[self._inputs[n] for n in self.nodes],
            input_shapes=in_shapes,
        )

    def _shapes(
        self, shape: tuple[int, ...]
    ) -> tuple[
        dict[str, tuple[int, ...]],
        list[tuple[str, tuple[int, ...], int]],
        list[tuple[tuple[int, ...], ...]],
    ]:
        shapes = {INPUT: shape}
        rows = []
        in_shapes = []
        for name, layer in self._layers.items():
            ins = [shapes[i] for i in self._inputs[name]]
            try:
                out = layer.output_shape(*ins)
            except ValueError as exc:
                raise _NodeMismatch(name, ins, exc) from None
            shapes[name] = out
            rows.append((repr(layer), out, layer.num_params()))
            in_shapes.append(tuple(ins))
        return shapes, rows, in_shapes

    def _fits(self, shape: tuple[int, ...]) -> bool:
        try:
            self._shapes(shape)
        except _NodeMismatch:
            return False
        return True

    def __repr__(self) -> str:
        body = "\n".join(
            f"  {name} = {layer!r}({', '.join(self._inputs[name])})"
            for name, layer in self._layers.items()
        )
        out = f"\n  output: {self._output}" if self._output else ""
        return f"Graph(\n{body}{out}\n)"

    # -- persistence --------------------------------------------------------
    def _records(self) -> dict[str, list[str]]:
        """The architecture a saved file records: nodes, layer types, edges, output."""
        return {
            "__nodes__": self.nodes,
            "__layers__": [type(layer).__name__ for layer in self._layers.values()],
            "__edge_sources__": [src for src, _ in self.edges],
            "__edge_targets__": [dst for _, dst in self.edges],
            "__output__": [self.output],
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the architecture, parameters and buffers to an ``.npz`` archive, atomically.

        The archive is of the same family as :meth:`Sequential.save`'s: one
        array per ``"<node>.<key>"`` (see :meth:`state`), and string arrays
        that record the graph -- ``__nodes__`` (names in order),
        ``__layers__`` (their layer types), ``__edge_sources__`` and
        ``__edge_targets__`` (every edge, by target then input order) and
        ``__output__``. It is read back without pickle. ``.npz`` is appended
        to a path without it; a failed save leaves a previous file as it was.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        ValueError
            If the graph fails :meth:`check`.
        OSError
            If the file cannot be written; ``path`` is then unchanged.
        """
        return save_graph(self, path)

    def load(self, path: str | os.PathLike[str]) -> Graph:
        """Load weights saved by :meth:`save` into this graph, in place.

        The graph must have the same architecture as the saved one: the same
        node names in the same order, the same layer types, the same edges
        and the same output; then the same parameter names and shapes.
        Arrays are copied *into* the existing ones, so an optimizer built
        before still updates the right arrays. The file is read as untrusted
        input, as in :meth:`Sequential.load` (headers checked before data,
        nothing unpickled); the graph changes only if every array passes.

        Parameters
        ----------
        path : str or path-like
            ``.npz`` may be omitted.

        Returns
        -------
        Graph
            ``self``.

        Raises
        ------
        FileNotFoundError
            If neither ``path`` nor ``path + ".npz"`` exists.
        ValueError
            Naming the file and what is wrong: not an archive, written by
            :meth:`Sequential.save` or not by :meth:`save`, another
            architecture (every difference listed), or arrays that do not fit.
        """
        return load_graph(self, path)
