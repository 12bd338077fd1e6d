r"""Low precision, emulated: rounding to float16 and bfloat16, range counts, loss scaling.

NumPy's own float16 arithmetic is slow (its matrix product has no BLAS
kernel), and NumPy has no bfloat16 at all. So low precision is *emulated*:
compute in float32, then round every result to the narrow format and keep it
in a float32 array. :func:`round_to_format` does the rounding (float16 through
``astype(np.float16)``; bfloat16 by rounding the float32 bit pattern to its
upper 16 bits, to nearest with ties to even), and :func:`count_out_of_range`
counts the values that a format cannot hold: too large (they become
infinite), too small (they become zero) or small enough to lose precision
(subnormal). The formats themselves are described by :class:`FloatFormat`
(:data:`FORMATS`).

Loss scaling (Micikevicius et al. 2018, "Mixed precision training") keeps
small gradients from underflowing in float16: multiply the upstream gradient
of the loss by a scale :math:`\Lambda` before the backward pass, so that every
gradient is :math:`\Lambda` times larger while it is rounded, and divide the
parameter gradients by :math:`\Lambda` in float32 before the update.
:class:`StaticLossScaler` keeps :math:`\Lambda` fixed; :class:`DynamicLossScaler`
halves it and skips the step when a gradient overflowed, and doubles it after
a run of good steps (the rule of PyTorch's ``GradScaler``)::

    scaler = DynamicLossScaler()
    loss, dlogits = softmax_cross_entropy(logits, labels)
    model.backward(scaler.scale(dlogits))   # gradients times the scale
    scaler.step(optimizer)                  # unscale, check, step or skip, adapt

The scalers work with convlib's optimizers (anything with a ``params`` list
of ``(name, value, grad)`` and a ``step()`` method) whose gradient arrays are
float32 or float64: dividing a float16 gradient array by the scale in place
would underflow again, which is why mixed precision keeps float32 *master
weights* and float32 gradients for the update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import as_bool, as_int, as_numeric_array, as_real, first_non_finite

__all__ = [
    "FloatFormat",
    "FORMATS",
    "get_format",
    "round_to_format",
    "RangeCounts",
    "count_out_of_range",
    "StaticLossScaler",
    "DynamicLossScaler",
]


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format: its name, field widths and limits.

    Attributes
    ----------
    name : str
        ``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``.
    exponent_bits, fraction_bits : int
        Widths of the exponent and of the stored fraction (the leading 1 of
        a normal number is not stored).
    max : float
        The largest finite value; larger values round to infinity.
    tiny : float
        The smallest positive *normal* value; below it numbers are subnormal
        and keep fewer significant bits.
    smallest_subnormal : float
        The smallest positive value; below half of it numbers round to zero.
    eps : float
        Machine epsilon, the gap between 1 and the next number,
        ``2 ** -fraction_bits``; a rounding error is at most ``eps / 2``
        relative (the unit roundoff) for normal numbers.
    """

    name: str
    exponent_bits: int
    fraction_bits: int

    @property
    def eps(self) -> float:
        return float(2.0**-self.fraction_bits)

    @property
    def _emax(self) -> int:
        return 2 ** (self.exponent_bits - 1) - 1

    @property
    def max(self) -> float:
        return float((2.0 - 2.0**-self.fraction_bits) * 2.0**self._emax)

    @property
    def tiny(self) -> float:
        return float(2.0 ** (1 - self._emax))

    @property
    def smallest_subnormal(self) -> float:
        return float(2.0 ** (1 - self._emax - self.fraction_bits))


#: The formats :func:`round_to_format` knows, by name.
FORMATS: dict[str, FloatFormat] = {
    "float16": FloatFormat("float16", 5, 10),
    "bfloat16": FloatFormat("bfloat16", 8, 7),
    "float32": FloatFormat("float32", 8, 23),
    "float64": FloatFormat("float64", 11, 52),
}


def get_format(fmt: Any) -> FloatFormat:
    """Return the :class:`FloatFormat` named by ``fmt`` (a name or a FloatFormat).

    Raises
    ------
    TypeError
        If ``fmt`` is neither a string nor a :class:`FloatFormat`.
    ValueError
        If the name is not one of :data:`FORMATS`.
    """
    if isinstance(fmt, FloatFormat):
        return fmt
    if not isinstance(fmt, str):
        raise TypeError(
            f"fmt must be a format name ({', '.join(map(repr, FORMATS))}), "
            f"got {fmt!r} ({type(fmt).__name__})"
        )
    try:
        return FORMATS[fmt.lower()]
    except KeyError:
        raise ValueError(
            f"fmt must be one of {', '.join(map(repr, FORMATS))}, got {fmt!r}"
        ) from None


def _as_float_array(name: str, x: Any) -> np.ndarray:
    """``x`` as a real floating-point array (integers and booleans become float64)."""
    arr = as_numeric_array(name, x)
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _round_bfloat16(x32: np.ndarray) -> np.ndarray:
    """Round float32 values to bfloat16, to nearest with ties to even, as float32."""
    bits = x32.view(np.uint32)  # x32 is a fresh C-contiguous array of any shape, 0-d too
    # Add half of the 16 dropped bits, minus one, plus the lowest kept bit: a
    # tie then rounds up only when the kept part is odd. A carry out of the
    # fraction increments the exponent (the largest float32 rounds to inf).
    # NaN could carry into the sign bit or round to inf; it is kept as it is.
    keep = np.uint32(0xFFFF0000)
    rounded = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & keep).view(
        np.float32
    )
    return np.where(np.isnan(x32), x32, rounded)


def round_to_format(x: Any, fmt: Any) -> np.ndarray:
    """Round every value of ``x`` to the nearest number of format ``fmt``, stored as float32.

    The emulation of low precision: the computation runs in float32, and this
    rounding after each step makes its results what a float16 or bfloat16
    computation would store. Values too large for the format become
    ``inf`` (with their sign), values below half the smallest subnormal
    become zero, ties go to the even neighbour, NaN stays NaN.

    Parameters
    ----------
    x : array_like, any shape
        Real numbers; float64 (and integer) input is rounded to float32 first,
        as a float32 computation would have, then to ``fmt``.
    fmt : str or FloatFormat
        ``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``
        (``"float64"`` returns ``x`` in float64, unrounded).

    Returns
    -------
    ndarray, shape of ``x``
        float32 (float64 for ``fmt="float64"``), a new array.

    Examples
    --------
    >>> round_to_format([1.0 + 2**-11, 70000.0], "float16")  # a tie, and an overflow
    array([ 1., inf], dtype=float32)
    >>> float(round_to_format(1.0 + 2**-8 + 2**-9, "bfloat16")[()])  # nearest: up
    1.0078125
    """
    form = get_format(fmt)
    arr = _as_float_array("x", x)
    if form.name == "float64":
        return arr.astype(np.float64, copy=True)
    with np.errstate(over="ignore"):  # overflow to inf is what the format does
        x32 = arr.astype(np.float32, copy=True)
        if form.name == "float16":
            return x32.astype(np.float16).astype(np.float32)
    if form.name == "bfloat16":
        return _round_bfloat16(x32)
    return x32


@dataclass(frozen=True)
class RangeCounts:
    """How many values of an array a format cannot hold as they are.

    Attributes
    ----------
    format : str
        The format's name.
    size : int
        Number of values counted.
    overflow : int
        Finite values that round to ``inf`` (``|x|`` above the format's max,
        up to the rounding).
    underflow : int
        Non-zero values that round to zero.
    subnormal : int
        Values that round to a non-zero subnormal (they keep fewer than the
        format's significant bits).
    nonfinite : int
        Values that already were NaN or infinite.
    """

    format: str
    size: int
    overflow: int
    underflow: int
    subnormal: int
    nonfinite: int

    def fraction(self, what: str) -> float:
        """``what`` (``"overflow"``, ``"underflow"``, ...) as a fraction of :attr:`size`."""
        if what not in ("overflow", "underflow", "subnormal", "nonfinite"):
            raise ValueError(
                f"what must be 'overflow', 'underflow', 'subnormal' or 'nonfinite', got {what!r}"
            )
        return getattr(self, what) / self.size if self.size else 0.0


def count_out_of_range(x: Any, fmt: Any) -> RangeCounts:
    """Count the values of ``x`` that overflow, underflow or turn subnormal in ``fmt``.

    Parameters
    ----------
    x : array_like, any shape
        Real numbers (as computed, before rounding).
    fmt : str or FloatFormat

    Returns
    -------
    RangeCounts

    Examples
    --------
    >>> c = count_out_of_range([1e5, 1e-8, 1e-6, 1.0, 0.0], "float16")
    >>> (c.overflow, c.underflow, c.subnormal)
    (1, 1, 1)
    """
    form = get_format(fmt)
    arr = _as_float_array("x", x)
    r = round_to_format(arr, form)
    finite = np.isfinite(arr)
    mag = np.abs(r)
    return RangeCounts(
        format=form.name,
        size=int(arr.size),
        overflow=int(np.count_nonzero(finite & np.isinf(r))),
        underflow=int(np.count_nonzero((arr != 0) & (r == 0))),
        subnormal=int(np.count_nonzero((mag > 0) & (mag < form.tiny))),
        nonfinite=int(np.count_nonzero(~finite)),
    )


class StaticLossScaler:
    r"""Loss scaling with a fixed scale :math:`\Lambda`.

    Multiply the upstream gradient of the loss by :math:`\Lambda` with
    :meth:`scale` before the backward pass; :meth:`step` divides the
    optimizer's gradients by :math:`\Lambda` and steps. A step whose
    gradients overflowed (hold ``inf`` or NaN) is skipped, since dividing
    cannot repair them; the static scaler does not change :math:`\Lambda`.

    Parameters
    ----------
    scale : float
        :math:`\Lambda > 0`, finite; a power of two keeps the scaling exact.

    Attributes
    ----------
    scale_value : float
        The current :math:`\Lambda`.
    steps : int
        Calls of :meth:`step`.
    skipped : int
        Steps skipped because a gradient overflowed.
    """

    def __init__(self, scale: float = 1024.0) -> None:
        self.scale_value = as_real("scale", scale, low=0, low_open=True)
        self.steps = 0
        self.skipped = 0

    def scale(self, dout: Any) -> np.ndarray:
        r"""Return ``dout`` times :math:`\Lambda`, in ``dout``'s floating dtype.

        Parameters
        ----------
        dout : array_like, any shape
            The gradient of the loss with respect to the model's output
            (``dlogits``).

        Returns
        -------
        ndarray, shape of ``dout``
        """
        arr = _as_float_array("dout", dout)
        return arr * arr.dtype.type(self.scale_value)

    def unscale(self, optimizer: Any) -> bool:
        r"""Divide the optimizer's gradients by :math:`\Lambda`, in place; report overflow.

        Parameters
        ----------
        optimizer : convlib.optim.Optimizer
            Anything with ``params``, a list of ``(name, value, grad)``.

        Returns
        -------
        bool
            True if every gradient was finite (and has been divided); False
            if one holds ``inf`` or NaN (then no gradient was changed).

        Raises
        ------
        TypeError
            If ``optimizer`` has no ``params`` list, or a gradient is not a
            float32 or float64 array (a float16 gradient would underflow again
            when divided in place: keep float32 master weights).
        """
        grads = _optimizer_grads(optimizer)
        if any(first_non_finite(g) is not None for _, g in grads):
            return False
        inv = 1.0 / self.scale_value
        for _, g in grads:
            g *= g.dtype.type(inv)
        return True

    def step(self, optimizer: Any) -> bool:
        """Unscale the gradients, then step the optimizer unless they overflowed.

        Parameters
        ----------
        optimizer : convlib.optim.Optimizer
            Its gradients must hold the *scaled* gradients of a backward pass
            started from :meth:`scale`.

        Returns
        -------
        bool
            True if the optimizer stepped, False if the step was skipped.
        """
        ok = self.unscale(optimizer)
        if ok:
            optimizer.step()
        else:
            self.skipped += 1
        self.steps += 1
        self.update(ok)
        return ok

    def update(self, stepped: bool) -> None:
        """Adapt the scale after a step; :meth:`step` calls it.

        Parameters
        ----------
        stepped : bool
            Whether the step was taken (False: a gradient overflowed). The
            static scaler keeps its scale either way.
        """
        as_bool("stepped", stepped)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(scale={self.scale_value:g}, steps={self.steps}, "
            f"skipped={self.skipped})"
        )


class DynamicLossScaler(StaticLossScaler):
    r"""Loss scaling whose scale :math:`\Lambda` follows the gradients.

    After a step whose gradients overflowed, the step is skipped and
    :math:`\Lambda` is multiplied by ``backoff_factor``; after
    ``growth_interval`` good steps in a row it is multiplied by
    ``growth_factor``. So :math:`\Lambda` settles just below the largest
    scale the gradients tolerate, as large as possible to keep small
    gradients from underflowing (Micikevicius et al. 2018; the defaults are
    those of PyTorch's ``torch.amp.GradScaler``).

    Parameters
    ----------
    init_scale : float
        The first :math:`\Lambda > 0`.
    growth_factor : float
        Factor ``> 1`` applied after ``growth_interval`` good steps.
    backoff_factor : float
        Factor in ``(0, 1)`` applied after an overflow.
    growth_interval : int
        Number ``>= 1`` of good steps in a row before :math:`\Lambda` grows.

    Attributes
    ----------
    scale_value : float
    good_steps : int
        Good steps since :math:`\Lambda` last changed.
    steps, skipped : int
    history : list of float
        :math:`\Lambda` used at each call of :meth:`step`, in order.
    """

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
    ) -> None:
        super().__init__(as_real("init_scale", init_scale, low=0, low_open=True))
        self.growth_factor = as_real("growth_factor", growth_factor, low=1, low_open=True)
        self.backoff_factor = as_real(
            "backoff_factor", backoff_factor, low=0, high=1, low_open=True, high_open=True
        )
        self.growth_interval = as_int("growth_interval", growth_interval, 1)
        self.good_steps = 0
        self.history: list[float] = []

    def step(self, optimizer: Any) -> bool:
        self.history.append(self.scale_value)
        return super().step(optimizer)

    step.__doc__ = StaticLossScaler.step.__doc__

    def update(self, stepped: bool) -> None:
        """Halve the scale after an overflow; grow it after ``growth_interval`` good steps.

        Parameters
        ----------
        stepped : bool
            Whether the step was taken (False: a gradient overflowed).
        """
        if not as_bool("stepped", stepped):
            self.scale_value *= self.backoff_factor
            self.good_steps = 0
            return
        self.good_steps += 1
        if self.good_steps == self.growth_interval:
            self.scale_value *= self.growth_factor
            self.good_steps = 0

    def __repr__(self) -> str:
        return (
            f"DynamicLossScaler(scale={self.scale_value:g}, good_steps={self.good_steps}, "
            f"steps={self.steps}, skipped={self.skipped})"
        )


def _optimizer_grads(optimizer: Any) -> list[tuple[str, np.ndarray]]:
    """``(name, grad)`` of every parameter of ``optimizer``, gradients checked float32/64."""
    params = getattr(optimizer, "params", None)
    if not isinstance(params, list):
        raise TypeError(
            "optimizer must be a convlib optimizer (with a params list of (name, value, grad)), "
            f"got {type(optimizer).__name__}"
        )
    out = []
    for name, _, grad in params:
        if not isinstance(grad, np.ndarray) or grad.dtype not in (np.float32, np.float64):
            raise TypeError(
                f"the gradient of parameter {name!r} must be a float32 or float64 array to be "
                f"unscaled in place, got {getattr(grad, 'dtype', type(grad).__name__)}: a "
                f"float16 gradient divided by the scale underflows again; keep float32 master "
                f"weights and gradients, and round to float16 only inside the passes"
            )
        out.append((name, grad))
    return out
