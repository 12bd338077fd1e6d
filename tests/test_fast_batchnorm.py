"""Tests of convlib.fast.batchnorm's helpers: sums as products, vectors tiled along rows.

The batch-norm passes of the tuned tier are tested against the readable
tier in tests/test_batchnorm.py; here each helper is held against the plain
NumPy expression it replaces.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from convlib.fast import example_rows, feature_sum, per_feature

shapes = st.one_of(
    st.tuples(st.integers(1, 30), st.integers(1, 9)),
    st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.integers(1, 9)),
)


@settings(max_examples=60, deadline=None)
@given(shapes, st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_feature_sum_is_the_sum_over_all_axes_but_the_last(shape, dtype, seed):
    a = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    s = feature_sum(a)
    assert s.shape == (shape[-1],) and s.dtype == dtype
    expected = a.astype(np.float64).sum(axis=tuple(range(a.ndim - 1)))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(s, expected, rtol=tol, atol=tol * np.sqrt(a.size))


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1))
def test_tiled_rows_broadcast_like_numpy(shape, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape)
    v = rng.normal(size=shape[-1])
    rows = example_rows(a)
    assert rows.shape == (shape[0], a.size // shape[0])
    assert np.shares_memory(rows, a)  # a view: no copy of the data
    tiled = per_feature(v, a)
    assert tiled.shape == (rows.shape[1],)
    # Same products as broadcasting, element for element.
    np.testing.assert_array_equal((rows * tiled).reshape(shape), a * v)
    np.testing.assert_array_equal((rows - tiled).reshape(shape), a - v)
