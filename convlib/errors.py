"""The exceptions and warnings convlib raises for its own reasons.

Everything else convlib raises is a plain ``TypeError`` or ``ValueError``
naming the argument (see the argument rules); the classes here mark the
cases a caller may want to catch on purpose:

- :class:`NonFiniteError`: a value that must be finite holds NaN or an
  infinity (training inputs, a loss, a batch's statistics).
- :class:`NonFiniteGradientError`: an optimizer refused a step because a
  gradient is not finite; nothing was changed. Loss scaling catches it to
  skip the step and lower its scale.
- :class:`InputWarning`: the data look wrong (e.g. raw 0..255 pixels) but
  could be meant that way.

Both errors are ``ValueError`` (what convlib raised for these cases before)
and ``FloatingPointError`` (what NumPy raises under ``np.errstate(all="raise")``),
so either ``except`` catches them.
"""

from __future__ import annotations

__all__ = ["NonFiniteError", "NonFiniteGradientError", "InputWarning"]


class NonFiniteError(ValueError, FloatingPointError):
    """A value that must be finite holds NaN or an infinity."""


class NonFiniteGradientError(NonFiniteError):
    """An optimizer refused a step because a gradient is not finite.

    The step changed nothing: parameters, optimizer state (velocities,
    moments), the step counter and the learning rate are as they were.

    Parameters
    ----------
    message : str
    name : str
        The name of the first parameter whose gradient is not finite.

    Attributes
    ----------
    name : str
    """

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


class InputWarning(UserWarning):
    """The input data look wrong for training, e.g. raw pixels that were never prepared."""
