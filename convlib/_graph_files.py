"""Saving and loading a :class:`convlib.graph.Graph`: the code behind ``Graph.save`` and ``Graph.load``.

The archive is of the ``.npz`` family of :meth:`convlib.model.Sequential.save`
(no pickle; every header checked before any data is read, see
:mod:`convlib._files`), with string arrays that record the graph itself:
``__nodes__``, ``__layers__``, ``__edge_sources__``, ``__edge_targets__``
and ``__output__``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._files import atomic_write, npz_members, open_npz, read_npy, read_state
from .model import _FORMAT as _SEQUENTIAL_FORMAT, _existing_model_file, _npz_path

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Graph

__all__: list[str] = []

FORMAT = "convlib.Graph/1"

#: Most nodes (and edges) a saved graph may declare.
_MAX_NODES = 100_000


def save_graph(graph: Graph, path: str | os.PathLike[str]) -> Path:
    """:meth:`Graph.save` (see there)."""
    graph.check()
    target = _npz_path(path)
    arrays: dict[str, Any] = {k: np.ascontiguousarray(v) for k, v in graph.state().items()}
    arrays["__format__"] = np.array(FORMAT)
    for key, names in graph._records().items():
        arrays[key] = np.array(names, dtype=str)
    with atomic_write(target) as f:
        np.savez(f, **arrays)
    return target


def load_graph(graph: Graph, path: str | os.PathLike[str]) -> Graph:
    """:meth:`Graph.load` (see there)."""
    graph.check()
    file = _existing_model_file(path)
    where = repr(str(file))
    with open_npz(file) as zf:
        members = npz_members(zf, file)
        fmt = str(read_npy(zf, file, members["__format__"], "__format__", (), "U"))
        if fmt == _SEQUENTIAL_FORMAT:
            raise ValueError(
                f"{where} holds a Sequential model (written by Sequential.save), not a "
                "Graph: load it with Sequential.load into a Sequential of its layers"
            )
        if fmt != FORMAT:
            raise ValueError(f"{where} was not written by Graph.save (format {fmt!r})")
        mine = graph._records()
        saved = {}
        for key in mine:
            if key not in members:
                raise ValueError(f"{where} has no {key} entry: not written by Graph.save")
            arr = read_npy(zf, file, members[key], key, None, "U", _MAX_NODES)
            saved[key] = [str(s) for s in arr]
        problems = _architecture_differences(saved, mine)
        if problems:
            raise ValueError(
                f"architecture mismatch: the file {where} holds another graph: "
                + "; ".join(problems)
            )
        loaded = read_state(zf, file, members, graph.state())
    state = graph.state()
    with np.errstate(over="ignore", invalid="ignore"):
        for name, arr in loaded.items():
            np.copyto(state[name], arr, casting="unsafe")
    return graph


def _architecture_differences(saved: dict[str, list[str]], mine: dict[str, list[str]]) -> list[str]:
    """How a saved graph's records differ from this graph's, in words (empty if equal)."""
    if saved == mine:
        return []
    problems = []
    s_nodes, m_nodes = saved["__nodes__"], mine["__nodes__"]
    if s_nodes != m_nodes:
        missing = [n for n in m_nodes if n not in s_nodes]
        extra = [n for n in s_nodes if n not in m_nodes]
        text = f"the file has nodes {s_nodes}, this graph has {m_nodes}"
        if missing:
            text += f" (not in the file: {missing})"
        if extra:
            text += f" (not in this graph: {extra})"
        problems.append(text)
    s_types = dict(zip(s_nodes, saved["__layers__"]))
    for name, kind in zip(m_nodes, mine["__layers__"]):
        if name in s_types and s_types[name] != kind:
            problems.append(f"node {name!r} is {s_types[name]} in the file, {kind} here")
    s_edges = list(zip(saved["__edge_sources__"], saved["__edge_targets__"]))
    m_edges = list(zip(mine["__edge_sources__"], mine["__edge_targets__"]))
    if s_edges != m_edges:
        s_in = {n: [s for s, d in s_edges if d == n] for n in s_nodes}
        m_in = {n: [s for s, d in m_edges if d == n] for n in m_nodes}
        for name in m_nodes:
            if name in s_in and s_in[name] != m_in[name]:
                problems.append(
                    f"node {name!r} takes inputs {s_in[name]} in the file, {m_in[name]} here"
                )
    if saved["__output__"] != mine["__output__"]:
        problems.append(
            f"the output is {saved['__output__']} in the file, {mine['__output__']} here"
        )
    return problems or ["the saved records differ from this graph's"]
