"""Argument checking shared by every public function of convlib.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the
argument and, where it helps, the shapes involved, so a learner sees *what*
was wrong instead of a NumPy traceback from deep inside a layer.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

_NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, floating point
# True only inside complex_step_inputs() (see as_numeric_or_complex_array).
_COMPLEX_STEP: ContextVar[bool] = ContextVar("convlib_complex_step", default=False)


def as_numeric_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as an ndarray, refusing non-numeric data.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : array_like
        Anything ``np.asarray`` accepts.

    Returns
    -------
    numpy.ndarray
        The array (no copy when ``value`` already is one).

    Raises
    ------
    TypeError
        If the dtype is not boolean, integer or real floating point.
    """
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists, etc.
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        why = ""
        if arr.dtype.kind == "c" and _COMPLEX_STEP.get():
            why = (  # inside complex_step_gradient: this function is not on the opt-in path
                ": this function does not support the complex-step derivative (it is not "
                "complex-analytic, or returns real numbers); check it with numerical_gradient"
            )
        raise TypeError(
            f"{name} must hold real numbers, got dtype {arr.dtype} (shape {arr.shape}){why}"
        )
    return arr


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The dtype computations run in: NumPy promotion, integers -> float64.

    A complex dtype (only from :func:`as_numeric_or_complex_array`) stays
    complex: casting to float would drop the imaginary part.
    """
    dtype = np.result_type(*arrays)
    if dtype.kind not in "fc":
        return np.dtype(np.float64)
    return dtype


def check_ndim(name: str, arr: np.ndarray, ndim: int, layout: str) -> None:
    """Raise ``ValueError`` unless ``arr.ndim == ndim``.

    ``layout`` describes the expected axes, e.g. ``"(N, H, W, C)"``.
    """
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D with shape {layout}, got shape {arr.shape} ({arr.ndim}-D)"
        )


def as_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as a Python int no smaller than ``minimum``.

    Python ints, NumPy integers (``np.int64(3)``) and 0-d integer arrays
    (``np.array(3)``) are accepted alike; booleans, floats (even ``2.0``),
    strings and ``None`` give a ``TypeError``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_pair(name: str, value: Any, minimum: int) -> tuple[int, int]:
    """Accept ``k`` or ``(k_h, k_w)`` and return ``(k_h, k_w)`` as ints.

    Raises ``TypeError`` for non-integers and ``ValueError`` for values below
    ``minimum`` or sequences that do not have two entries.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]  # a 0-d array is one number, as for as_int
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a pair (vertical, horizontal), got {value!r}"
            )
        return (
            as_int(f"{name}[0]", value[0], minimum),
            as_int(f"{name}[1]", value[1], minimum),
        )
    v = as_int(name, value, minimum)
    return (v, v)


def as_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> float:
    """Return a real scalar hyper-parameter as a Python float, range-checked.

    Python numbers, NumPy scalars (``np.float32(0.9)``, ``np.int64(3)``) and
    0-d real arrays are accepted alike; booleans, complex numbers, strings and
    arrays with more than one element are refused.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : real scalar
    low, high : float, optional
        Bounds of the accepted interval (``None``: unbounded on that side).
    low_open, high_open : bool
        Whether the bound itself is excluded.
    finite : bool
        Refuse NaN and infinities.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is not finite (when ``finite``) or lies outside the interval;
        the message prints the interval and ``value`` as a plain number.

    Examples
    --------
    >>> import numpy as np
    >>> as_real("momentum", np.float32(0.5), low=0, high=1, high_open=True)
    0.5
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    try:
        v = float(value)
    except OverflowError:  # a Python int beyond float range, e.g. 10**400
        digits = len(str(abs(math.trunc(value))))
        raise ValueError(
            f"{name} must be a finite number, got {'a negative' if value < 0 else 'an'} integer "
            f"of {digits} digits, beyond the range of floating point"
        ) from None
    if np.isnan(v) or (finite and not np.isfinite(v)):
        raise ValueError(f"{name} must be a finite number, got {v}")
    below = low is not None and (v < low or (low_open and v == low))
    above = high is not None and (v > high or (high_open and v == high))
    if below or above:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}, {hi}, got {v:g}")
    return v


def check_cache(cache: Any, cls: type, producer: str) -> None:
    """Raise ``TypeError`` unless ``cache`` is an instance of ``cls``.

    ``producer`` names the forward function(s) that return such a cache, for
    the message, e.g. ``"conv2d_forward"``.
    """
    if not isinstance(cache, cls):
        raise TypeError(
            f"cache must be the {cls.__name__} returned by {producer}, got {type(cache).__name__}"
        )


def check_dout(
    dout: Any, expected_shape: tuple[int, ...], dtype: np.dtype, *, layout: str = ""
) -> np.ndarray:
    """Validate an upstream gradient and return it in the dtype backward uses.

    The one rule for every layer: ``dout`` must have the shape of the forward
    output; a floating-point ``dout`` follows NumPy promotion with the
    forward's compute ``dtype`` (a float64 gradient into a float32 layer gives
    float64 gradients), an integer or boolean one takes ``dtype``.

    Parameters
    ----------
    dout : array_like, shape ``expected_shape``
        Gradient of the loss with respect to the forward output.
    expected_shape : tuple of int
        Shape of the forward output.
    dtype : numpy dtype
        Compute dtype of the forward pass.
    layout : str
        Names of the axes, e.g. ``"(N, OH, OW, F)"``, for the message.

    Returns
    -------
    ndarray, shape ``expected_shape``
        ``dout`` itself when it already has the right dtype (no copy).
    """
    dout = as_numeric_array("dout", dout)
    expected_shape = tuple(expected_shape)
    if dout.shape != expected_shape:
        axes = f" {layout}" if layout else ""
        raise ValueError(
            f"dout has shape {dout.shape} but the forward output had shape {expected_shape}{axes}"
        )
    dtype = np.dtype(dtype)
    target = np.result_type(dout, dtype) if dout.dtype.kind == "f" else dtype
    return dout.astype(target, copy=False)


def check_window_padding(name: str, padding: Any, window: tuple[int, int]) -> None:
    """Refuse explicit padding as large as the window (pooling layers).

    A window of ``k`` rows padded by ``k`` or more rows on one side could
    hold nothing but padding. ``"valid"`` and ``"same"`` always pass (the
    ``"same"`` padding of a window is at most ``k - 1`` in total); ``"full"``
    never does. Called at construction time by the pooling layers and by
    the pooling functions, so both give the same message.

    Raises
    ------
    ValueError, TypeError
        As :func:`convlib.arithmetic.resolve_padding`, or when a side's
        padding is ``>= `` the window along that axis.
    """
    from .arithmetic import resolve_padding  # arithmetic imports this module

    if isinstance(padding, str) and padding.lower() == "full":
        raise ValueError(
            f"{name}='full' pads a side by the whole window minus one, so a window "
            f"would hold nothing but padding: use 'valid', 'same' or an int"
        )
    # Input size and stride do not matter for explicit padding; for "same"
    # any input gives padding below the window.
    pads = resolve_padding(padding, (max(window), max(window)), window)
    for axis, (lo, hi), k in (("rows", pads[0], window[0]), ("columns", pads[1], window[1])):
        if lo >= k or hi >= k:
            raise ValueError(
                f"{name} {pads} is too large for pool_size {window}: the padding of the "
                f"{axis}, {lo} before and {hi} after, must be smaller than the window's "
                f"{k} {axis}, or a window could hold nothing but padding"
            )


def check_cache_kind(
    cache: Any, cls: type, field: str, expected: Any, producers: dict[Any, str]
) -> None:
    """:func:`check_cache` for a cache type that several forward functions share.

    ``ActivationCache`` comes from ``relu_forward``, ``sigmoid_forward``, ...
    and tells them apart by its ``kind`` field; a backward must refuse a cache
    of the right type made by the wrong forward.

    Parameters
    ----------
    cache : object
        What the caller passed as ``cache``.
    cls : type
        The cache type.
    field : str
        Attribute of the cache that names its producer, e.g. ``"kind"``.
    expected : object
        Value of that attribute the calling backward needs, e.g. ``"relu"``.
    producers : dict
        Maps each value of the attribute to the forward function that sets
        it, e.g. ``{"relu": "relu_forward", "sigmoid": "sigmoid_forward"}``.

    Raises
    ------
    TypeError
        If ``cache`` is not a ``cls``, or was made by another forward; the
        message names the forward the cache should come from.
    """
    producer = producers[expected]
    check_cache(cache, cls, producer)
    got = getattr(cache, field)
    if got != expected:
        article = "an" if cls.__name__[:1] in "AEIOU" else "a"
        raise TypeError(
            f"cache must be the {cls.__name__} returned by {producer}, got {article} "
            f"{cls.__name__} from {producers.get(got, repr(got))}"
        )


def as_shape(name: str, value: Any) -> tuple[int, ...]:
    """Return a shape argument (a tuple or list of positive ints) as a tuple.

    Python and NumPy integers are accepted alike; a string, a bare number or
    entries that are not integers give a ``TypeError`` (not the
    ``invalid literal for int()`` of ``int("a")``), entries below 1 a
    ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> as_shape("input_shape", [28, np.int64(28), 1])
    (28, 28, 1)
    """
    return as_array_shape(name, value, 1)


def as_bool(name: str, value: Any) -> bool:
    """Return a flag (``True``/``False`` or a NumPy bool) as a Python bool.

    Anything else (``"yes"``, ``1``, ``None``) gives a ``TypeError`` naming
    the argument, rather than being read by its truth value.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def as_matching_arrays(**arrays: Any) -> tuple[np.ndarray, ...]:
    """Return the keyword arguments as numeric arrays of one common shape.

    The first argument sets the shape; every other one must have exactly
    that shape (no broadcasting), e.g. a parameter, its gradient and an
    optimizer's state arrays.

    Parameters
    ----------
    **arrays : array_like
        ``name=value`` pairs, in order; the names appear in messages.

    Returns
    -------
    tuple of ndarray
        The arrays, in the order given (no copies of ndarrays).

    Raises
    ------
    TypeError
        If a value is not numeric (see :func:`as_numeric_array`).
    ValueError
        If a shape differs from the first argument's; the message names
        both arguments and their shapes.

    Examples
    --------
    >>> p, g = as_matching_arrays(param=np.zeros(3), grad=[1, 2, 3])
    >>> g.shape
    (3,)
    """
    names = list(arrays)
    out = tuple(as_numeric_array(name, value) for name, value in arrays.items())
    for name, arr in zip(names[1:], out[1:]):
        if arr.shape != out[0].shape:
            raise ValueError(
                f"{name} has shape {arr.shape} but {names[0]} has shape {out[0].shape}: "
                f"they must have the same shape"
            )
    return out


def check_nonempty_mapping(name: str, mapping: Any) -> Any:
    """Return ``mapping`` unless it is not a mapping or is empty.

    For arguments such as ``{label: data}`` that a figure draws one entry of
    per label.

    Raises
    ------
    TypeError
        If ``mapping`` is not a :class:`collections.abc.Mapping`.
    ValueError
        If it has no entries.
    """
    from collections.abc import Mapping

    if not isinstance(mapping, Mapping):
        raise TypeError(
            f"{name} must be a mapping from labels to data, got {type(mapping).__name__}"
        )
    if not mapping:
        raise ValueError(f"{name} is empty: give at least one entry")
    return mapping


def first_non_finite(arr: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first NaN or infinity of ``arr`` (C order), or ``None`` if it has none.

    Integer and boolean arrays are always finite. The common case, an array
    that is all finite, costs one float64 sum and no full-size temporary: a
    sum is finite only if every term is (NaN and infinities propagate), and
    only a non-finite sum (a bad value, or a float64 overflow) is looked at
    element by element.

    Parameters
    ----------
    arr : ndarray, any shape

    Returns
    -------
    tuple of int or None
        ``arr[index]`` is the first non-finite value.

    Examples
    --------
    >>> first_non_finite(np.array([[1.0, 2.0], [np.nan, np.inf]]))
    (1, 0)
    >>> first_non_finite(np.ones(3)) is None
    True
    """
    if arr.dtype.kind not in "fc" or arr.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum(dtype=np.result_type(arr.dtype, np.float64))):
            return None
    bad = ~np.isfinite(arr)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), arr.shape))


def check_memory(call: str, arrays: list[tuple[str, tuple[int, ...], Any]], inputs: str) -> None:
    """Refuse a call whose large arrays would not fit in :func:`convlib.memory.memory_limit`.

    Computed from shapes only, before anything is allocated: ``O(1)``.

    Parameters
    ----------
    call : str
        The function, for the message, e.g. ``"conv2d_forward"``.
    arrays : list of (str, tuple of int, dtype)
        The arrays the call is about to create: what each is, its shape and
        its dtype (or item size in bytes).
    inputs : str
        The arguments' shapes, for the message, e.g. ``"x (N, H, W, C) ..."``.

    Raises
    ------
    convlib.memory.MemoryLimitError
        If the arrays together need more bytes than the limit; the message
        names every array, its shape and GiB, and how to change the limit.
    """
    import math

    from .memory import MemoryLimitError, memory_limit

    limit = memory_limit()
    if limit is None:
        return
    sizes = [
        (
            what,
            tuple(shape),
            math.prod(shape) * (dt if isinstance(dt, int) else np.dtype(dt).itemsize),
        )
        for what, shape, dt in arrays
    ]
    total = sum(nbytes for _, _, nbytes in sizes)
    if total <= limit:
        return
    gib = 2.0**30
    parts = ", ".join(f"{what} {shape} {nbytes / gib:.2f} GiB" for what, shape, nbytes in sizes)
    raise MemoryLimitError(
        f"{call} would need about {total / gib:.1f} GiB for {inputs} ({parts}), more than "
        f"the memory limit of {limit / gib:.1f} GiB: use a smaller batch or smaller shapes, "
        f"or change the limit with convlib.set_memory_limit(nbytes)"
    )


def as_path(name: str, value: Any) -> Path:
    """Return a file or folder argument (a ``str`` or ``os.PathLike``) as a :class:`pathlib.Path`.

    Anything else -- an int, ``None``, bytes -- gives a ``TypeError`` naming
    the argument, rather than Python's ``expected str, bytes or
    os.PathLike object`` from deep inside :func:`open`.

    Examples
    --------
    >>> as_path("path", "data/labels.gz").name
    'labels.gz'
    """
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if isinstance(text, str):
            return Path(text)
    raise TypeError(
        f"{name} must be a path (a str or os.PathLike), got {value!r} ({type(value).__name__})"
    )


def as_rng(name: str, value: Any) -> np.random.Generator:
    """Return a random generator argument: a ``numpy.random.Generator``, or an int seed (>= 0) for one.

    NumPy integers and 0-d integer arrays are seeds as Python ints are (see
    :func:`as_int`); a string, a float, a bool or ``None`` gives a
    ``TypeError`` naming the argument, a negative seed a ``ValueError``.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> as_rng("rng", rng) is rng
    True
    >>> int(as_rng("seed", np.int64(3)).integers(100)) == int(np.random.default_rng(3).integers(100))
    True
    """
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a numpy.random.Generator or an int seed, got {value!r} ({type(value).__name__})"
        )
    return np.random.default_rng(as_int(name, value, 0))


def check_callable(name: str, value: Any) -> None:
    """Raise ``TypeError`` naming the argument unless ``value`` is callable (a function, a class, ...)."""
    if not callable(value):
        raise TypeError(
            f"{name} must be callable (a function), got {value!r} ({type(value).__name__})"
        )


def as_array_shape(name: str, value: Any, minimum: int = 0) -> tuple[int, ...]:
    """:func:`as_shape` with a chosen smallest size: the shape of an array to allocate.

    NumPy allows empty axes (``np.empty((0, 3))``), so the default
    ``minimum`` is 0; a negative size is a ``ValueError`` naming the argument
    and the whole shape (NumPy's ``negative dimensions are not allowed``
    names neither).

    Examples
    --------
    >>> as_array_shape("shape", (np.int64(0), 3))
    (0, 3)
    """
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of ints, got {value!r} ({type(value).__name__})")
    for i, s in enumerate(value):
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{name} must be a tuple of ints, got {value!r} ({name}[{i}] = {s!r})")
    shape = tuple(int(s) for s in value)
    if min(shape, default=minimum) < minimum:
        raise ValueError(f"{name} must hold sizes >= {minimum}, got {shape}")
    return shape


def as_pads(name: str, value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return explicit spatial padding ``((top, bottom), (left, right))`` as ints >= 0.

    The resolved form of padding that :func:`convlib.arithmetic.resolve_padding`
    returns and the window helpers take. Python ints, NumPy integers and
    nested lists or arrays are accepted; a string (``"same"``: resolve it
    first), a bare number or non-integer entries give a ``TypeError``, a
    wrong number of entries or a negative one a ``ValueError`` naming the
    argument and the whole value. ``O(1)``.

    Examples
    --------
    >>> as_pads("pads", [(1, np.int64(2)), (0, 0)])
    ((1, 2), (0, 0))
    """
    layout = "((top, bottom), (left, right))"
    if not isinstance(value, (tuple, list, np.ndarray)) or not all(
        isinstance(side, (tuple, list, np.ndarray)) for side in value
    ):
        raise TypeError(f"{name} must be {layout} of ints >= 0, got {value!r}")
    if len(value) != 2 or any(len(side) != 2 for side in value):
        raise ValueError(f"{name} must be {layout}: two pairs of ints >= 0, got {value!r}")
    out = []
    for side in value:
        for v in side:
            if isinstance(v, np.ndarray) and v.ndim == 0:
                v = v[()]
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
                raise TypeError(
                    f"{name} must be {layout} of ints >= 0, got {value!r} (entry {v!r})"
                )
            if v < 0:
                raise ValueError(
                    f"{name} must be {layout} of ints >= 0, got a negative entry {int(v)} in {value!r}"
                )
            out.append(int(v))
    return ((out[0], out[1]), (out[2], out[3]))


_KIND_WORDS = {
    "b": "bool",
    "i": "signed integer",
    "u": "unsigned integer",
    "f": "floating-point",
    "c": "complex",
}


def as_dtype(name: str, value: Any, kinds: str = "biufc") -> np.dtype:
    """Return a dtype argument as a :class:`numpy.dtype` of one of the given kinds.

    ``np.float32``, ``"float32"`` and ``np.dtype("f4")`` are accepted alike;
    anything NumPy cannot read as a dtype (``"abc"``, ``3``), or a dtype of
    another kind (``kinds="f"`` and ``np.int32``), gives a ``TypeError``
    naming the argument.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : dtype-like
    kinds : str
        Accepted :attr:`numpy.dtype.kind` letters (``"f"``: floating point).

    Examples
    --------
    >>> as_dtype("dtype", "float32", "f")
    dtype('float32')
    """
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if value is None or dtype is None or dtype.kind not in tuple(kinds):
        allowed = " or ".join(_KIND_WORDS.get(k, k) for k in kinds)
        raise TypeError(f"{name} must be a {allowed} NumPy dtype, got {value!r}")
    return dtype


def check_instance(name: str, value: Any, cls: type, hint: str = "") -> None:
    """Raise ``TypeError`` naming the argument and ``cls`` unless ``value`` is a ``cls``.

    ``hint`` says where such an object comes from, e.g.
    ``"(cache.geometry of a conv or pooling forward)"``.
    """
    if not isinstance(value, cls):
        extra = f" {hint}" if hint else ""
        article = "an" if cls.__name__[:1].lower() in "aeiou" else "a"
        raise TypeError(
            f"{name} must be {article} {cls.__name__}{extra}, got {type(value).__name__}"
        )


def check_finite_gradient(name: str, grad: np.ndarray) -> None:
    """Raise :class:`~convlib.errors.NonFiniteGradientError` if ``grad`` holds NaN or an infinity.

    The rule of every update rule and optimizer: a step on a non-finite
    gradient is refused before anything changes (an update would turn the
    parameters, and Adam's moments, into NaN for good).

    Parameters
    ----------
    name : str
        Argument (or parameter) name used in the message.
    grad : ndarray, any shape

    Raises
    ------
    NonFiniteGradientError
        A ``ValueError``; its message names ``name``, how many values are
        not finite and the first of them, with its index.

    Examples
    --------
    >>> check_finite_gradient("grad", np.array([0.1, 0.2]))  # finite: nothing happens
    """
    first = first_non_finite(grad)
    if first is None:
        return
    from .errors import NonFiniteGradientError

    count = int(np.count_nonzero(~np.isfinite(grad)))
    raise NonFiniteGradientError(
        f"{name} must be finite, but it holds {count} NaN or infinite value{'s' if count != 1 else ''} "
        f"(shape {grad.shape}; the first, {name}[{', '.join(map(str, first))}], is {grad[first]}): "
        f"the update was refused and nothing changed",
        name,
    )


@contextmanager
def complex_step_inputs() -> Iterator[None]:
    """Open the opt-in complex path of :func:`as_numeric_or_complex_array` (complex-step derivative).

    Entered by :func:`convlib.gradcheck.complex_step_gradient` around its calls
    of ``f``; per thread and per task (a :class:`contextvars.ContextVar`).
    """
    token = _COMPLEX_STEP.set(True)
    try:
        yield
    finally:
        _COMPLEX_STEP.reset(token)


def as_numeric_or_complex_array(name: str, value: Any) -> np.ndarray:
    """:func:`as_numeric_array`, but complex arrays pass inside :func:`complex_step_inputs`.

    The opt-in path for the functions that are complex-analytic in NumPy
    (sums, products, ``exp``, ``tanh``, and ``maximum``/``argmax``, which
    order complex numbers by real part first): only they call this, so the
    complex-step derivative passes through them exactly. Outside
    :func:`complex_step_inputs` a complex array is refused as by
    :func:`as_numeric_array`, naming the way in; functions that call
    :func:`as_numeric_array` refuse it always. Keep the dtype with
    :func:`float_dtype`, which leaves complex dtypes complex.

    Raises
    ------
    TypeError
        If ``value`` is not numeric, or complex outside :func:`complex_step_inputs`.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind == "c":
        if _COMPLEX_STEP.get():
            return value
        raise TypeError(
            f"{name} must hold real numbers, got dtype {value.dtype} (shape {value.shape}); "
            f"complex input is accepted only inside convlib.complex_step_gradient"
        )
    return as_numeric_array(name, value)


def as_groups(groups: Any, channels: int, filters: int, where: str) -> int:
    """Return ``groups`` as an int ``>= 1`` that divides ``channels`` and ``filters``.

    ``where`` says where ``channels`` and ``filters`` come from (shapes or
    argument names) for the message; :func:`check_groups` and the ``Conv2D``
    layer use it.
    """
    groups = as_int("groups", groups, 1)
    if channels % groups or filters % groups:
        raise ValueError(
            f"groups={groups} must divide the input channels C={channels} and "
            f"the filters F={filters} ({where})"
        )
    return groups


def check_groups(groups: Any, x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> int:
    """Return the ``groups`` of a convolution as an int, checked against ``x`` and ``w``.

    A convolution with ``groups = G`` splits the ``C`` input channels and the
    ``F`` filters into ``G`` consecutive groups; the filters of group ``g``
    read only the channels of group ``g``, so ``w`` has shape
    ``(KH, KW, C // G, F)`` (PyTorch's ``groups``).

    Parameters
    ----------
    groups : int
        ``G >= 1``; a bool, float or string is a ``TypeError``.
    x_shape : tuple of int
        ``(N, H, W, C)``.
    w_shape : tuple of int
        ``(KH, KW, C // G, F)``.

    Raises
    ------
    ValueError
        If ``G < 1``, if ``G`` does not divide ``C`` or ``F``, or if ``w``'s
        channel axis is not ``C // G``; the message names ``C``, ``F``,
        ``groups`` and both shapes.
    """
    if type(groups) is not int or groups < 1:  # the common case, an int >= 1, is fast
        groups = as_int("groups", groups, 1)
    c, wc, f = x_shape[-1], w_shape[-2], w_shape[-1]
    if groups == 1 and wc == c:
        return 1
    if groups == 1:
        raise ValueError(
            f"x has {c} channels (shape {x_shape}) but w expects {wc} "
            f"(shape {w_shape}, layout (KH, KW, C, F))"
        )
    if c % groups or f % groups:
        as_groups(groups, c, f, f"x {x_shape}, w {w_shape}, layout (KH, KW, C // groups, F)")
    if wc * groups != c:
        raise ValueError(
            f"with groups={groups}, w must have shape (KH, KW, C // groups, F) = "
            f"(KH, KW, {c // groups}, {f}) for x {x_shape} with C={c}, got w {w_shape}"
        )
    return groups


def check_methods(name: str, value: Any, methods: tuple[str, ...], example: str = "") -> None:
    """Raise ``TypeError`` naming the argument unless ``value`` has every method in ``methods``.

    For duck-typed arguments such as a model (``forward``, ``backward``):
    the message lists the methods that are missing, so ``model=5`` fails
    here and not deep inside the first call.

    Parameters
    ----------
    name : str
        Argument name used in the message.
    value : object
    methods : tuple of str
        Names of callables ``value`` must have.
    example : str
        What such an object is, e.g. ``"a convlib.Sequential"``.

    Examples
    --------
    >>> check_methods("model", [], ("append",))  # a list has append: nothing happens
    """
    missing = [m for m in methods if not callable(getattr(value, m, None))]
    if missing:
        like = f" (e.g. {example})" if example else ""
        raise TypeError(
            f"{name} must have {', '.join(methods)} method{'s' if len(methods) > 1 else ''}{like}, "
            f"got {type(value).__name__} {value!r:.60} (it has no {', '.join(missing)})"
        )


def as_output_padding(
    value: Any, stride: tuple[int, int], dilation: tuple[int, int], *, same: bool = False
) -> tuple[int, int]:
    """Return ``output_padding`` of a transposed convolution as ``(op_h, op_w)``.

    ``output_padding`` adds rows and columns at the bottom and right of a
    transposed convolution's output: it picks which of the input sizes that
    a strided convolution maps to the same output size is meant. The rule is
    PyTorch's: each entry is an int ``>= 0`` and smaller than
    ``max(stride, dilation)`` along its axis; with ``same`` (``padding="same"``)
    smaller than the stride, since ``"same"`` makes the output
    ``ceil(size / stride)`` and only ``stride`` input sizes share one.

    Parameters
    ----------
    value : int or (int, int)
    stride, dilation : (int, int)
        Already checked ``(sh, sw)`` and ``(dh, dw)``.
    same : bool
        Whether the padding is ``"same"``.

    Raises
    ------
    TypeError
        If an entry is not an integer.
    ValueError
        If an entry is negative or too large; the message gives the stride
        and dilation that bound it.
    """
    op = as_pair("output_padding", value, 0)
    for axis, o, s, d in zip(("rows", "columns"), op, stride, dilation):
        bound = s if same else max(s, d)
        if o >= bound:
            rule = (
                f"smaller than the stride {s} with padding='same'"
                if same
                else f"smaller than max(stride, dilation) = max({s}, {d}) = {bound}"
            )
            shown = op if isinstance(value, (tuple, list, np.ndarray)) else o
            raise ValueError(
                f"output_padding {shown} is too large along the {axis}: {o} must be {rule} "
                f"(stride {stride}, dilation {dilation}), the bound of PyTorch's "
                f"ConvTranspose2d"
            )
    return op
