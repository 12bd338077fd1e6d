"""Layers with several inputs: Add (a skip connection) and Concat (along channels).

They have the attributes of :class:`~convlib.layers.Layer` (``params``,
``grads``, ``buffers``, ``training``, ``dtype``, ``name``) but take several
arrays: ``forward(*xs)``, ``backward(dout) -> (dx1, ..., dxk)`` and
``output_shape(*input_shapes)``. They are the nodes of a
:class:`convlib.graph.Graph` that merge branches, and wrap the functions of
:mod:`convlib.merge`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_bool, as_numeric_or_complex_array, as_shape
from ..merge import add_backward, add_forward, concat_backward, concat_forward
from .base import _float_dtype

__all__ = ["MergeLayer", "Add", "Concat"]


class MergeLayer:
    """Base class of layers with several inputs (:class:`Add`, :class:`Concat`).

    It has the attributes of :class:`convlib.layers.Layer` (``params``,
    ``grads``, ``buffers``, ``training``, ``dtype``, ``name``) but its passes
    take and return several arrays: ``forward(*xs)`` and
    ``backward(dout) -> (dx1, ..., dxk)``, and ``output_shape(*input_shapes)``.
    Subclasses implement ``_forward(*xs) -> (out, cache)`` and
    ``_backward(dout, cache) -> tuple of dx``.

    Parameters
    ----------
    dtype : numpy dtype
        Inputs are cast to it.
    name : str, optional
        Used in error messages; default: the class name.
    """

    #: Fewest inputs the layer takes.
    min_inputs = 2

    def __init__(self, dtype: Any = np.float32, name: str | None = None) -> None:
        self.dtype = _float_dtype(dtype)
        self.name = type(self).__name__ if name is None else str(name)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._cache: Any = None

    def _invalidate_grads(self) -> None:
        for grad in self.grads.values():
            grad.fill(np.nan)

    def num_params(self) -> int:
        """Number of trainable scalars (0 for Add and Concat)."""
        return int(sum(p.size for p in self.params.values()))

    def train(self, mode: bool = True) -> MergeLayer:
        """Switch to training mode (``mode=False``: evaluation mode). Returns self."""
        self.training = as_bool("mode", mode)
        return self

    def eval(self) -> MergeLayer:
        """Switch to evaluation mode. Returns self."""
        return self.train(False)

    def _check_count(self, count: int) -> None:
        if count < self.min_inputs:
            raise ValueError(f"{self.name} takes at least {self.min_inputs} inputs, got {count}")

    def forward(self, *xs: Any) -> np.ndarray:
        """Run the layer on several batches and keep what ``backward`` needs.

        Parameters
        ----------
        *xs : array_like, each of shape (N, ...)
            Cast to the layer's dtype.

        Returns
        -------
        ndarray, shape (N, ...) -- see :meth:`output_shape`
        """
        self._cache = None
        self._check_count(len(xs))
        arrays = []
        for i, x in enumerate(xs):
            a = as_numeric_or_complex_array(f"x{i + 1}", x)
            dtype = self.dtype if a.dtype.kind != "c" else np.result_type(self.dtype, np.complex64)
            arrays.append(a if a.dtype == dtype else a.astype(dtype))
        out, self._cache = self._forward(*arrays)
        return out

    def backward(self, dout: Any) -> tuple[np.ndarray, ...]:
        """Back-propagate ``dout``; return one gradient per input, in order.

        Parameters
        ----------
        dout : array_like, shape of the last forward output

        Returns
        -------
        tuple of ndarray
            ``(dx1, ..., dxk)``, each of the shape of the matching input.
        """
        self._invalidate_grads()
        if self._cache is None:
            raise RuntimeError(
                f"{self.name}.backward() called before forward(): run forward first "
                "(each forward allows one backward)"
            )
        cache, self._cache = self._cache, None
        return self._backward(dout, cache)

    def _forward(self, *xs: np.ndarray) -> tuple[np.ndarray, Any]:  # pragma: no cover
        raise NotImplementedError

    def _backward(self, dout: Any, cache: Any) -> tuple[np.ndarray, ...]:  # pragma: no cover
        raise NotImplementedError

    def output_shape(self, *input_shapes: tuple[int, ...]) -> tuple[int, ...]:  # pragma: no cover
        """Shape of one example's output for the inputs' shapes (without the batch axis)."""
        raise NotImplementedError

    def _shapes(self, input_shapes: tuple[Any, ...]) -> list[tuple[int, ...]]:
        self._check_count(len(input_shapes))
        return [as_shape(f"input_shapes[{i}]", s) for i, s in enumerate(input_shapes)]

    def __repr__(self) -> str:
        dt = "" if self.dtype == np.float32 else f"dtype={self.dtype}"
        return f"{type(self).__name__}({dt})"


class Add(MergeLayer):
    """Element-wise sum of two or more inputs of the same shape (a skip connection).

    ``out = x1 + x2 + ...``; ``backward`` gives ``dout`` to every input.
    Wraps :func:`convlib.merge.add_forward`.

    Examples
    --------
    >>> import numpy as np
    >>> Add().forward(np.ones((2, 3)), np.ones((2, 3)))[0]
    array([2., 2., 2.], dtype=float32)
    """

    def _forward(self, *xs: np.ndarray) -> tuple[np.ndarray, Any]:
        return add_forward(*xs)

    def _backward(self, dout: Any, cache: Any) -> tuple[np.ndarray, ...]:
        return add_backward(dout, cache)

    def output_shape(self, *input_shapes: tuple[int, ...]) -> tuple[int, ...]:
        """The common shape of the inputs; ``ValueError`` naming every shape if they differ."""
        shapes = self._shapes(input_shapes)
        if any(s != shapes[0] for s in shapes):
            raise ValueError(
                f"{self.name} adds inputs of one shape, got shapes "
                + ", ".join(str(s) for s in shapes)
            )
        return shapes[0]


class Concat(MergeLayer):
    """Concatenation of two or more inputs along the last axis (channels, in NHWC).

    Inputs must agree on every other axis (N, H, W). ``backward`` gives each
    input its slice of ``dout``. Wraps :func:`convlib.merge.concat_forward`.

    Examples
    --------
    >>> import numpy as np
    >>> Concat().forward(np.ones((2, 4, 4, 3)), np.ones((2, 4, 4, 5))).shape
    (2, 4, 4, 8)
    >>> Concat().output_shape((4, 4, 3), (4, 4, 5))
    (4, 4, 8)
    """

    def _forward(self, *xs: np.ndarray) -> tuple[np.ndarray, Any]:
        return concat_forward(*xs)

    def _backward(self, dout: Any, cache: Any) -> tuple[np.ndarray, ...]:
        return concat_backward(dout, cache)

    def output_shape(self, *input_shapes: tuple[int, ...]) -> tuple[int, ...]:
        """Sizes of the first input with the last axes summed; ``ValueError`` if they do not fit."""
        shapes = self._shapes(input_shapes)
        if any(len(s) < 1 for s in shapes) or any(
            len(s) != len(shapes[0]) or s[:-1] != shapes[0][:-1] for s in shapes
        ):
            raise ValueError(
                f"{self.name} joins along the last axis and needs equal sizes on the other "
                "axes (H, W), got shapes " + ", ".join(str(s) for s in shapes)
            )
        return (*shapes[0][:-1], sum(s[-1] for s in shapes))
