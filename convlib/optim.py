"""Optimizers that update parameters in place, and learning-rate schedules.

An optimizer is handed the parameters of a model once, as
``(name, value, grad)`` triples (what :meth:`convlib.model.Sequential.parameters`
returns) or ``(value, grad)`` pairs. It keeps references to those arrays:
the layers write each new gradient *into* their ``grad`` array during the
backward pass, and :meth:`Optimizer.step` writes the update *into* the
``value`` array, so model and optimizer never need to exchange arrays again::

    opt = Adam(model.parameters(), lr=1e-3)
    for xb, yb in batches:
        logits = model.forward(xb)
        loss, dlogits = softmax_cross_entropy(logits, yb)
        model.backward(dlogits)
        opt.step()

Learning-rate schedules are plain callables ``schedule(t) -> lr`` of the
number ``t`` of steps already taken (0 for the first step, an int; a
negative or non-integer ``t`` is refused naming ``t``); the optimizer calls
it before every step. :class:`StepLR`, :class:`ExponentialLR` and
:class:`CosineLR` are small ready-made ones, and :class:`OneCycleLR` the
one-cycle policy of the residual network's recipe.

The update rules themselves are pure functions in
:mod:`convlib.update_rules` (``sgd_update``, ``momentum_update``,
``nesterov_update``, ``adam_update``): the classes here keep the state
(velocities, moments) and the step counter, call the rule for every
parameter array and write its result back into the model's array.

Two safety rules hold for every optimizer:

- A step on a gradient that holds NaN or an infinity is refused *before
  anything changes* (parameters, state, step counter, learning rate) with a
  :class:`~convlib.errors.NonFiniteGradientError` naming the parameter.
  :class:`~convlib.model.Sequential` fills its gradients with NaN when a
  backward pass starts, so the gradients of a backward pass that failed are
  never applied by the next ``step()``.
- float16 parameters (mixed precision) are updated through a float32
  *master copy*: the state (velocities, Adam's moments) is float32, the
  update is computed in float32 and written back into the model's float16
  array, rounded. Adam's ``eps = 1e-8`` would round to 0 in float16. A
  float16 array changed from outside (e.g. by loading weights) is noticed
  and the master copy taken again. float32 and float64 parameters are
  updated directly, without copies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ._checks import as_bool, as_int, as_real, first_non_finite
from .errors import NonFiniteGradientError
from .update_rules import adam_update, momentum_update, nesterov_update, sgd_update

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "StepLR",
    "ExponentialLR",
    "CosineLR",
    "OneCycleLR",
]

Schedule = Callable[[int], float]


def _collect(params: Any) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Normalise the ``params`` argument to a list of ``(name, value, grad)``."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, np.ndarray) or not isinstance(params, Iterable):
        raise TypeError(
            "params must be an iterable of (name, value, grad) triples or "
            f"(value, grad) pairs, e.g. model.parameters(); got {type(params).__name__}"
        )
    out: list[tuple[str, np.ndarray, np.ndarray]] = []
    seen: set[int] = set()
    for i, item in enumerate(params):
        if isinstance(item, (np.ndarray, str, bytes)) or not isinstance(item, Iterable):
            raise TypeError(
                f"params[{i}] must be a (name, value, grad) triple or a (value, grad) pair, "
                f"got {type(item).__name__}"
                f"{f' of shape {item.shape}' if isinstance(item, np.ndarray) else ''}: "
                f"an optimizer needs each array together with its gradient, e.g. model.parameters()"
            )
        item = tuple(item)
        if len(item) == 3:
            name, value, grad = item
        elif len(item) == 2:
            (value, grad), name = item, f"param{i}"
        else:
            raise TypeError(
                f"params[{i}] must be (name, value, grad) or (value, grad), "
                f"got a sequence of length {len(item)}"
            )
        for what, arr in (("value", value), ("grad", grad)):
            if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
                raise TypeError(
                    f"the {what} of parameter {name!r} must be a floating-point "
                    f"NumPy array (it is updated in place), got "
                    f"{type(arr).__name__} {getattr(arr, 'dtype', '')}"
                )
        if value.shape != grad.shape:
            raise ValueError(
                f"parameter {name!r} has shape {value.shape} but its gradient has "
                f"shape {grad.shape}"
            )
        if id(value) in seen:
            raise ValueError(f"parameter {name!r} is listed twice")
        seen.add(id(value))
        out.append((str(name), value, grad))
    if not out:
        raise ValueError("params is empty: the optimizer has nothing to update")
    return out


#: Parameters stored in a dtype narrower than this are updated through a
#: master copy in it (mixed precision).
MASTER_DTYPE = np.dtype(np.float32)


def _describe_non_finite(name: str, grad: np.ndarray, first: tuple[int, ...]) -> str:
    count = int(np.count_nonzero(~np.isfinite(grad)))
    msg = (
        f"the gradient of parameter {name!r} (shape {grad.shape}) holds {count} "
        f"non-finite value{'s' if count != 1 else ''} (the first, at index "
        f"{first}, is {grad[first]}); the step was refused and "
        f"nothing changed (parameters, optimizer state, step counter)"
    )
    if count == grad.size and np.isnan(grad).all():
        msg += (
            ". A gradient that is NaN everywhere is what a model leaves when its last "
            "backward pass failed before reaching this parameter: run forward and "
            "backward again before step()"
        )
    else:
        msg += (
            ". Look for NaN or inf in the batch or in the loss; with float16, a gradient "
            "above 65504 overflows (scale the loss down)"
        )
    return msg


class Optimizer:
    """Base class: parameter bookkeeping, step counter and schedule.

    Parameters
    ----------
    params : iterable or object with ``parameters()``
        ``(name, value, grad)`` triples or ``(value, grad)`` pairs of
        floating-point arrays; ``value`` is updated in place by
        :meth:`step` from what ``grad`` holds at that moment.
    lr : float
        Learning rate (the base rate when a schedule is given).
    schedule : callable, optional
        ``schedule(t) -> lr``, called before step ``t`` (``t = 0, 1, ...``).
        Overrides ``lr`` for that step; :attr:`lr` shows the rate last used.

    Attributes
    ----------
    params : list of (str, ndarray, ndarray)
    lr : float
        The learning rate of the last (or, before any step, next) step.
    t : int
        Number of steps taken.
    master : list of (ndarray or None)
        Per parameter: its float32 master copy if it is stored in float16,
        else ``None`` (the parameter is updated directly).

    Raises
    ------
    NonFiniteGradientError
        From :meth:`step`, when a gradient holds NaN or an infinity.
    """

    def __init__(self, params: Any, lr: float, schedule: Schedule | None = None) -> None:
        self.params = _collect(params)
        self.base_lr = as_real("lr", lr, low=0, low_open=True)
        self.lr = self.base_lr
        if schedule is not None and not callable(schedule):
            raise TypeError(f"schedule must be callable(step) -> lr, got {schedule!r}")
        self.schedule = schedule
        self.t = 0
        self.master: list[np.ndarray | None] = [
            value.astype(MASTER_DTYPE) if value.dtype.itemsize < MASTER_DTYPE.itemsize else None
            for _, value, _ in self.params
        ]

    def _zeros_state(self) -> list[np.ndarray]:
        """One zero state array per parameter, in the dtype its update is computed in."""
        return [
            np.zeros_like(value if master is None else master)
            for (_, value, _), master in zip(self.params, self.master)
        ]

    def _working(
        self, i: int, value: np.ndarray, grad: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The parameter and gradient the update rule sees (the master copy for float16)."""
        master = self.master[i]
        if master is None:
            return value, grad
        if not np.array_equal(master.astype(value.dtype), value, equal_nan=True):
            master[...] = value  # the model's array was changed from outside
        return master, grad.astype(MASTER_DTYPE)

    def _write(self, i: int, value: np.ndarray, new: np.ndarray) -> None:
        """Store the updated parameter: into the master copy and, rounded, the model's array."""
        master = self.master[i]
        if master is not None:
            master[...] = new
        value[...] = new

    def _next_lr(self) -> float:
        if self.schedule is None:
            return self.lr
        lr = self.schedule(self.t)
        try:
            return as_real("schedule(t)", lr, low=0)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"the schedule returned an invalid learning rate at step {self.t}: {exc}"
            ) from None

    def check_gradients(self) -> None:
        """Raise :class:`~convlib.errors.NonFiniteGradientError` if a gradient is not finite.

        :meth:`step` calls it before changing anything; the message names the
        first such parameter, how many values are bad and the first one.
        """
        for name, _, grad in self.params:
            first = first_non_finite(grad)
            if first is not None:
                raise NonFiniteGradientError(_describe_non_finite(name, grad, first), name)

    def step(self) -> None:
        """Update every parameter in place from its gradient.

        Raises
        ------
        NonFiniteGradientError
            If a gradient holds NaN or an infinity; nothing is changed then.
        """
        self.check_gradients()
        self.lr = self._next_lr()
        for i, (_, value, grad) in enumerate(self.params):
            self._update(i, value, grad)
        self.t += 1

    def _update(self, i: int, value: np.ndarray, grad: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Set every gradient to zero.

        convlib's layers *overwrite* their gradients in each backward pass
        (they do not accumulate), so a training loop does not need this; it
        is there for loops that add gradients from several sources.
        """
        for _, _, grad in self.params:
            grad.fill(0)

    def __repr__(self) -> str:
        n = sum(v.size for _, v, _ in self.params)
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} arrays, {n} parameters, t={self.t})"


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum.

    For each parameter :math:`\theta` with gradient :math:`g`, learning rate
    :math:`\eta`, momentum coefficient :math:`\rho` and weight decay
    :math:`\lambda_{\text{wd}}` (the velocity :math:`m` starts at zero)::

        g     <- g + lambda_wd * theta           (L2 weight decay)
        m     <- rho * m + g
        theta <- theta - eta * m                 (classical momentum)
        theta <- theta - eta * (g + rho * m)     (nesterov=True)

    With ``momentum=0`` both reduce to ``theta <- theta - eta * g``. This is
    the formulation of PyTorch's ``torch.optim.SGD`` (the learning rate
    multiplies the velocity, not the gradient inside it). The velocities
    are kept in ``velocity``.

    Each step applies :func:`~convlib.update_rules.sgd_update`,
    :func:`~convlib.update_rules.momentum_update` or
    :func:`~convlib.update_rules.nesterov_update` to every parameter array
    and writes the result into that array, in place.

    Parameters
    ----------
    params : iterable
        See :class:`Optimizer`.
    lr : float
        Learning rate :math:`\eta > 0`.
    momentum : float
        The momentum coefficient :math:`\rho \in [0, 1)`.
    nesterov : bool
        Use Nesterov's look-ahead form (needs ``momentum > 0``). A bool
        (or NumPy bool); anything else is a ``TypeError``.
    weight_decay : float
        :math:`\lambda_{\text{wd}} \ge 0`.
    schedule : callable, optional
        ``schedule(t) -> lr``; see :class:`Optimizer`.

    Examples
    --------
    >>> import numpy as np
    >>> theta, g = np.array([1.0]), np.array([0.5])
    >>> opt = SGD([(theta, g)], lr=0.1, momentum=0.9)
    >>> opt.step(); opt.step()
    >>> theta                # 1 - 0.1*0.5 - 0.1*(0.9*0.5 + 0.5)
    array([0.855])
    """

    def __init__(
        self,
        params: Any,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        self.momentum = as_real("momentum", momentum, low=0, high=1, high_open=True)
        self.nesterov = as_bool("nesterov", nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.weight_decay = as_real("weight_decay", weight_decay, low=0)
        self.velocity = self._zeros_state()

    def _update(self, i: int, value: np.ndarray, grad: np.ndarray) -> None:
        # The rule returns new arrays; the model's array is overwritten in
        # place (its layer holds a reference), the velocity is ours to replace.
        param, grad = self._working(i, value, grad)
        if self.nesterov:
            new, self.velocity[i] = nesterov_update(
                param,
                grad,
                self.velocity[i],
                self.lr,
                self.momentum,
                weight_decay=self.weight_decay,
            )
        elif self.momentum:
            new, self.velocity[i] = momentum_update(
                param,
                grad,
                self.velocity[i],
                self.lr,
                self.momentum,
                weight_decay=self.weight_decay,
            )
        else:
            new = sgd_update(param, grad, self.lr, weight_decay=self.weight_decay)
        self._write(i, value, new)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with bias correction.

    For each parameter :math:`\theta` with gradient :math:`g` at step
    :math:`t = 1, 2, \dots` (first and second moments :math:`m, v` start at
    zero; ``eps`` is :math:`\epsilon_{\text{A}}`, ``weight_decay``
    :math:`\lambda_{\text{wd}}`)::

        g     <- g + lambda_wd * theta             (L2 weight decay)
        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        m_hat  = m / (1 - beta1**t)                (bias correction)
        v_hat  = v / (1 - beta2**t)
        theta <- theta - eta * m_hat / (sqrt(v_hat) + eps)

    ``m`` and ``v`` start at zero and are biased towards it, by factors
    ``1 - beta1**t`` and ``1 - beta2**t``. Since ``v`` enters through a square
    root the two biases do not cancel: without the correction the early steps
    would be too *large* (``(1 - beta1) / sqrt(1 - beta2)``, about 3.16 times
    ``lr`` at ``t = 1`` with the default betas). With the correction a step
    is typically about ``lr`` long, but not at most ``lr``: after a long run
    of zero gradients one step can reach ``lr * (1 - beta1) / sqrt(1 - beta2)``
    (Kingma & Ba, section 2.1). The decay is added to the gradient (L2
    regularisation, as in ``torch.optim.Adam``), not decoupled as in AdamW,
    so it is divided by ``sqrt(v_hat)`` like the gradient; chapter 11 shows
    AdamW built on :func:`~convlib.update_rules.adam_update`.

    Each step applies :func:`~convlib.update_rules.adam_update` to every
    parameter array and writes the result into that array, in place.

    Parameters
    ----------
    params : iterable
        See :class:`Optimizer`.
    lr : float
        Learning rate :math:`\eta`.
    betas : (float, float)
        Decay rates :math:`(\beta_1, \beta_2)`, each in ``[0, 1)``.
    eps : float
        :math:`\epsilon_{\text{A}} > 0`, added to the denominator.
    weight_decay : float
        :math:`\lambda_{\text{wd}} \ge 0`.
    schedule : callable, optional
        ``schedule(t) -> lr``; see :class:`Optimizer`.

    Examples
    --------
    The first step moves every parameter by about ``lr`` against the sign of
    its gradient, whatever the gradient's scale:

    >>> import numpy as np
    >>> p, g = np.array([1.0, 1.0]), np.array([1e-3, -50.0])
    >>> Adam([(p, g)], lr=0.01).step()
    >>> np.round(p, 6)
    array([0.99, 1.01])
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = as_real("betas[0]", betas[0], low=0, high=1, high_open=True)
        self.beta2 = as_real("betas[1]", betas[1], low=0, high=1, high_open=True)
        self.eps = as_real("eps", eps, low=0, low_open=True)
        self.weight_decay = as_real("weight_decay", weight_decay, low=0)
        self.m = self._zeros_state()
        self.v = self._zeros_state()

    def _update(self, i: int, value: np.ndarray, grad: np.ndarray) -> None:
        # Step t + 1: self.t counts the steps already taken.
        param, grad = self._working(i, value, grad)
        new, self.m[i], self.v[i] = adam_update(
            param,
            grad,
            self.m[i],
            self.v[i],
            self.t + 1,
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            weight_decay=self.weight_decay,
        )
        self._write(i, value, new)


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    ``lr(t) = base_lr * gamma ** (t // step_size)``.

    Parameters
    ----------
    base_lr : float
    step_size : int
        Steps (optimizer steps, not epochs: multiply by the number of
        batches per epoch for an epoch-wise decay) between two decays.
    gamma : float
        Factor, typically 0.1 to 0.5.

    Examples
    --------
    >>> s = StepLR(0.1, step_size=10, gamma=0.5)
    >>> [s(0), s(9), s(10), s(25)]
    [0.1, 0.1, 0.05, 0.025]
    """

    def __init__(self, base_lr: float, step_size: int, gamma: float = 0.1) -> None:
        self.base_lr = as_real("base_lr", base_lr, low=0, low_open=True)
        self.step_size = as_int("step_size", step_size, 1)
        self.gamma = as_real("gamma", gamma, low=0, low_open=True)

    def __call__(self, t: int) -> float:
        t = as_int("t", t, 0)
        return self.base_lr * self.gamma ** (t // self.step_size)

    def __repr__(self) -> str:
        return f"StepLR(base_lr={self.base_lr:g}, step_size={self.step_size}, gamma={self.gamma:g})"


class ExponentialLR:
    """Decay the learning rate smoothly: ``lr(t) = base_lr * gamma ** (t / period)``.

    Parameters
    ----------
    base_lr : float
    gamma : float
        Factor applied over each ``period`` steps.
    period : int
        Steps over which the rate is multiplied by ``gamma`` (e.g. the
        number of batches in an epoch).

    Examples
    --------
    >>> s = ExponentialLR(1.0, gamma=0.5, period=100)
    >>> [s(0), s(100), s(200)]
    [1.0, 0.5, 0.25]
    """

    def __init__(self, base_lr: float, gamma: float, period: int = 1) -> None:
        self.base_lr = as_real("base_lr", base_lr, low=0, low_open=True)
        self.gamma = as_real("gamma", gamma, low=0, low_open=True)
        self.period = as_int("period", period, 1)

    def __call__(self, t: int) -> float:
        t = as_int("t", t, 0)
        return self.base_lr * self.gamma ** (t / self.period)

    def __repr__(self) -> str:
        return (
            f"ExponentialLR(base_lr={self.base_lr:g}, gamma={self.gamma:g}, period={self.period})"
        )


class CosineLR:
    """Linear warm-up, then a half cosine from ``base_lr`` down to ``min_lr``.

    With ``w`` warm-up steps and ``T`` total steps::

        lr(t) = base_lr * (t + 1) / w                                  t < w
        lr(t) = min_lr + (base_lr - min_lr) * (1 + cos(pi * s)) / 2    s = (t - w) / (T - w)

    and ``min_lr`` from step ``T`` on.

    Parameters
    ----------
    base_lr : float
    total_steps : int
        ``T``: usually epochs times batches per epoch.
    min_lr : float
    warmup : int
        ``w``, number of warm-up steps (0 for none), less than ``total_steps``.

    Examples
    --------
    >>> s = CosineLR(1.0, total_steps=10)
    >>> [round(s(t), 3) for t in (0, 5, 10)]
    [1.0, 0.5, 0.0]
    """

    def __init__(
        self, base_lr: float, total_steps: int, min_lr: float = 0.0, warmup: int = 0
    ) -> None:
        self.base_lr = as_real("base_lr", base_lr, low=0, low_open=True)
        self.total_steps = as_int("total_steps", total_steps, 1)
        self.min_lr = as_real("min_lr", min_lr, low=0)
        if self.min_lr > self.base_lr:
            raise ValueError(f"min_lr ({self.min_lr}) must not exceed base_lr ({self.base_lr})")
        self.warmup = as_int("warmup", warmup, 0)
        if self.warmup >= self.total_steps:
            raise ValueError(
                f"warmup must be in [0, total_steps={self.total_steps}), got {self.warmup}"
            )

    def __call__(self, t: int) -> float:
        t = as_int("t", t, 0)
        if t < self.warmup:
            return self.base_lr * (t + 1) / self.warmup
        if t >= self.total_steps:
            return self.min_lr
        s = (t - self.warmup) / (self.total_steps - self.warmup)
        return self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * s))

    def __repr__(self) -> str:
        return (
            f"CosineLR(base_lr={self.base_lr:g}, total_steps={self.total_steps}, "
            f"min_lr={self.min_lr:g}, warmup={self.warmup})"
        )


class OneCycleLR:
    """The one-cycle policy (Smith & Topin 2019): up to ``max_lr``, then far below the start.

    A "warm-up" half cosine from ``max_lr / div_factor`` up to ``max_lr``
    over the first ``pct_start`` of the ``T`` steps, then a half cosine down
    to ``max_lr / (div_factor * final_div_factor)`` at the last step. With
    ``u = pct_start * T - 1`` (the step of the peak, a float as in PyTorch)
    and ``anneal(a, b, s) = b + (a - b) * (1 + cos(pi * s)) / 2``::

        lr(t) = anneal(max_lr / div_factor, max_lr, t / u)                   t <= u
        lr(t) = anneal(max_lr, min_lr, (t - u) / (T - 1 - u))                u < t < T

    and ``min_lr`` from step ``T - 1`` on. It is the formula of PyTorch's
    ``torch.optim.lr_scheduler.OneCycleLR`` with ``anneal_strategy="cos"``,
    ``three_phase=False`` and ``cycle_momentum=False`` (convlib cycles the
    learning rate only). The large rates in the middle of the run act as a
    regulariser and the very small ones at the end settle the weights, which
    is why a short run reaches a good accuracy.

    Parameters
    ----------
    max_lr : float
        The peak rate, > 0.
    total_steps : int
        ``T``: usually epochs times batches per epoch, >= 2.
    pct_start : float
        Fraction of the steps spent rising, in (0, 1); ``pct_start * T - 1``
        must be > 0 (at least two steps up).
    div_factor : float
        The first rate is ``max_lr / div_factor``, ``div_factor >= 1``.
    final_div_factor : float
        The last rate is the first divided by this, ``>= 1``.

    Raises
    ------
    TypeError
        If an argument is not a number (or ``total_steps`` not an int).
    ValueError
        If an argument is out of range, or the rising phase is shorter than two steps.

    Examples
    --------
    >>> s = OneCycleLR(1.0, total_steps=21, pct_start=0.1, div_factor=10, final_div_factor=100)
    >>> [round(s(t), 4) for t in (0, 1, 11, 20)]
    [0.1, 0.9818, 0.4632, 0.001]
    """

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
    ) -> None:
        self.max_lr = as_real("max_lr", max_lr, low=0, low_open=True)
        self.total_steps = as_int("total_steps", total_steps, 2)
        self.pct_start = as_real(
            "pct_start", pct_start, low=0, high=1, low_open=True, high_open=True
        )
        self.div_factor = as_real("div_factor", div_factor, low=1)
        self.final_div_factor = as_real("final_div_factor", final_div_factor, low=1)
        self.peak_step = self.pct_start * self.total_steps - 1
        if not self.peak_step > 0:
            raise ValueError(
                f"pct_start * total_steps - 1 must be > 0 (a rising phase of at least two steps), "
                f"got pct_start={self.pct_start:g}, total_steps={self.total_steps}: "
                f"{self.peak_step:g}"
            )
        self.initial_lr = self.max_lr / self.div_factor
        self.min_lr = self.initial_lr / self.final_div_factor

    def __call__(self, t: int) -> float:
        t = as_int("t", t, 0)
        last, peak = self.total_steps - 1, self.peak_step
        if t >= last:
            return self.min_lr
        if t <= peak:  # rising: from initial_lr at t = 0 to max_lr at the peak
            start, end, s = self.initial_lr, self.max_lr, t / peak
        else:  # falling: from max_lr at the peak to min_lr at the last step
            start, end, s = self.max_lr, self.min_lr, (t - peak) / (last - peak)
        return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * s))

    def __repr__(self) -> str:
        return (
            f"OneCycleLR(max_lr={self.max_lr:g}, total_steps={self.total_steps}, "
            f"pct_start={self.pct_start:g}, div_factor={self.div_factor:g}, "
            f"final_div_factor={self.final_div_factor:g})"
        )
