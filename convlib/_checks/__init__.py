"""Argument checking shared by every public function of convlib.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the
argument and, where it helps, the shapes involved, so a learner sees *what*
was wrong instead of a NumPy traceback from deep inside a layer.

This is the one checking module: import its rules from ``convlib._checks``
(every name below), not from the topic modules that hold them:

- :mod:`.arrays` -- array arguments: numeric data, dtypes, ranks, matching
  shapes, finiteness, memory; the opt-in complex path of the complex-step
  derivative.
- :mod:`.scalars` -- integers, pairs, real hyper-parameters, flags, shapes.
- :mod:`.geometry` -- padding of windows, groups, output padding.
- :mod:`.gradients` -- what a backward receives: caches, ``dout``, finite
  gradients.
- :mod:`.objects` -- paths, random generators, callables, instances, duck
  types, mappings.

A new shared rule goes at the end of the topic module it belongs to, and its
name into the imports below.
"""

from __future__ import annotations

from .arrays import (
    as_dtype,
    as_matching_arrays,
    as_numeric_array,
    as_numeric_or_complex_array,
    check_conv_operands,
    check_memory,
    check_ndim,
    complex_step_inputs,
    first_non_finite,
    float_dtype,
)
from .geometry import as_groups, as_output_padding, as_pads, check_groups, check_window_padding
from .gradients import check_cache, check_cache_kind, check_dout, check_finite_gradient
from .objects import (
    as_path,
    as_rng,
    check_callable,
    check_instance,
    check_methods,
    check_nonempty_mapping,
)
from .scalars import as_array_shape, as_bool, as_int, as_pair, as_real, as_shape

__all__ = [
    "as_array_shape",
    "as_bool",
    "as_dtype",
    "as_groups",
    "as_int",
    "as_matching_arrays",
    "as_numeric_array",
    "as_numeric_or_complex_array",
    "as_output_padding",
    "as_pads",
    "as_pair",
    "as_path",
    "as_real",
    "as_rng",
    "as_shape",
    "check_cache",
    "check_cache_kind",
    "check_callable",
    "check_conv_operands",
    "check_dout",
    "check_finite_gradient",
    "check_groups",
    "check_instance",
    "check_memory",
    "check_methods",
    "check_ndim",
    "check_nonempty_mapping",
    "check_window_padding",
    "complex_step_inputs",
    "first_non_finite",
    "float_dtype",
]
