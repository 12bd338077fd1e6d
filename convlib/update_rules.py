r"""The optimizers' update rules, one pure function each: the formula, line for line.

Each function takes a parameter array, its gradient and the optimizer's
state (a velocity, Adam's moments), and returns the updated parameter and
the updated state as new arrays; it modifies none of its arguments. A
gradient that holds NaN or an infinity is refused with a
:class:`~convlib.errors.NonFiniteGradientError` (a ``ValueError``) before
anything is computed::

    param = sgd_update(param, grad, lr)
    param, velocity = momentum_update(param, grad, velocity, lr, momentum)
    param, velocity = nesterov_update(param, grad, velocity, lr, momentum)
    param, m, v = adam_update(param, grad, m, v, t, lr, beta1, beta2, eps)

The state starts at zero (``np.zeros_like(param)``) and is handed back in at
the next step. The optimizer classes of :mod:`convlib.optim`
(:class:`~convlib.optim.SGD`, :class:`~convlib.optim.Adam`) call these
functions for every parameter array of a model and write the result back
into the model's arrays in place.

``weight_decay`` (:math:`\lambda_{\text{wd}}`, keyword-only, default 0)
adds :math:`\lambda_{\text{wd}}\,\theta` to the gradient before the rule
uses it: L2 regularisation, as ``torch.optim.SGD`` and ``torch.optim.Adam``
do it. For SGD this is the same as shrinking every parameter by
:math:`1 - \eta\lambda_{\text{wd}}` before the step; for Adam it is not
(AdamW's decoupled decay shrinks the parameter instead; chapter 11 shows the
difference).

The symbols are the book's: :math:`\theta` the parameters, :math:`g` the
gradient, :math:`\eta` the learning rate, :math:`m` the velocity (and
Adam's first moment), :math:`\rho` the momentum coefficient, :math:`v`
Adam's second moment, :math:`\epsilon_{\text{A}}` Adam's constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_int, as_matching_arrays, as_real, check_finite_gradient

__all__ = ["sgd_update", "momentum_update", "nesterov_update", "adam_update"]


def sgd_update(param: Any, grad: Any, lr: float, *, weight_decay: float = 0.0) -> np.ndarray:
    r"""One step of plain gradient descent: :math:`\theta \leftarrow \theta - \eta\, g`.

    Parameters
    ----------
    param : array_like, any shape
        The parameters :math:`\theta`.
    grad : array_like, shape of ``param``
        The gradient :math:`g` of the loss with respect to ``param``.
    lr : float
        Learning rate :math:`\eta \ge 0`.
    weight_decay : float
        :math:`\lambda_{\text{wd}} \ge 0`; the rule then uses
        :math:`g + \lambda_{\text{wd}}\theta`.

    Returns
    -------
    param : ndarray, shape of ``param``
        The updated parameters (a new array).

    Raises
    ------
    NonFiniteGradientError
        If ``grad`` holds NaN or an infinity (nothing is computed).

    Examples
    --------
    >>> sgd_update(np.array([1.0, -2.0]), np.array([0.5, 4.0]), lr=0.1)
    array([ 0.95, -2.4 ])
    """
    param, grad = as_matching_arrays(param=param, grad=grad)
    check_finite_gradient("grad", grad)
    lr = as_real("lr", lr, low=0)
    weight_decay = as_real("weight_decay", weight_decay, low=0)

    if weight_decay:
        grad = grad + weight_decay * param  # g <- g + lambda_wd theta
    param = param - lr * grad  # theta <- theta - eta g
    return param


def momentum_update(
    param: Any, grad: Any, velocity: Any, lr: float, momentum: float, *, weight_decay: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""One step of gradient descent with (heavy-ball) momentum.

    .. math::

        m \leftarrow \rho\, m + g, \qquad \theta \leftarrow \theta - \eta\, m

    The velocity :math:`m` (``velocity``) is a decaying sum of past
    gradients, without the learning rate in it (PyTorch's form, Polyak's
    heavy ball; cs231n's velocity, :math:`-\eta m`, gives the same method
    while :math:`\eta` is constant).

    Parameters
    ----------
    param : array_like, any shape
        The parameters :math:`\theta`.
    grad : array_like, shape of ``param``
        The gradient :math:`g`.
    velocity : array_like, shape of ``param``
        The velocity :math:`m` after the previous step (zeros before the
        first).
    lr : float
        Learning rate :math:`\eta \ge 0`.
    momentum : float
        The momentum coefficient :math:`\rho \in [0, 1)`.
    weight_decay : float
        :math:`\lambda_{\text{wd}} \ge 0`; the rule then uses
        :math:`g + \lambda_{\text{wd}}\theta`.

    Returns
    -------
    param : ndarray, shape of ``param``
        The updated parameters.
    velocity : ndarray, shape of ``param``
        The updated velocity, to pass in at the next step.

    Raises
    ------
    NonFiniteGradientError
        If ``grad`` holds NaN or an infinity (nothing is computed).

    Examples
    --------
    >>> theta, m = np.array([1.0]), np.zeros(1)
    >>> theta, m = momentum_update(theta, np.array([0.5]), m, lr=0.1, momentum=0.9)
    >>> theta, m = momentum_update(theta, np.array([0.5]), m, lr=0.1, momentum=0.9)
    >>> theta, m                  # m = 0.9 * 0.5 + 0.5; theta = 1 - 0.1 * 0.5 - 0.1 * 0.95
    (array([0.855]), array([0.95]))
    """
    param, grad, velocity = as_matching_arrays(param=param, grad=grad, velocity=velocity)
    check_finite_gradient("grad", grad)
    lr = as_real("lr", lr, low=0)
    momentum = as_real("momentum", momentum, low=0, high=1, high_open=True)
    weight_decay = as_real("weight_decay", weight_decay, low=0)

    if weight_decay:
        grad = grad + weight_decay * param  # g <- g + lambda_wd theta
    velocity = momentum * velocity + grad  # m <- rho m + g
    param = param - lr * velocity  # theta <- theta - eta m
    return param, velocity


def nesterov_update(
    param: Any, grad: Any, velocity: Any, lr: float, momentum: float, *, weight_decay: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""One step of Nesterov momentum, in the form that needs only the current gradient.

    .. math::

        m \leftarrow \rho\, m + g, \qquad
        \theta \leftarrow \theta - \eta\, (g + \rho\, m)

    The same velocity as :func:`momentum_update`; the step weighs the fresh
    gradient more. Here :math:`\theta` is Nesterov's look-ahead point (the
    change of variables is derived in chapter 11); this is the form of
    ``torch.optim.SGD(..., nesterov=True)``.

    Parameters
    ----------
    param : array_like, any shape
        The parameters :math:`\theta`.
    grad : array_like, shape of ``param``
        The gradient :math:`g` at ``param``.
    velocity : array_like, shape of ``param``
        The velocity :math:`m` after the previous step (zeros before the
        first).
    lr : float
        Learning rate :math:`\eta \ge 0`.
    momentum : float
        The momentum coefficient :math:`\rho \in [0, 1)`.
    weight_decay : float
        :math:`\lambda_{\text{wd}} \ge 0`; the rule then uses
        :math:`g + \lambda_{\text{wd}}\theta`.

    Returns
    -------
    param : ndarray, shape of ``param``
        The updated parameters.
    velocity : ndarray, shape of ``param``
        The updated velocity, to pass in at the next step.

    Raises
    ------
    NonFiniteGradientError
        If ``grad`` holds NaN or an infinity (nothing is computed).

    Examples
    --------
    >>> theta, m = nesterov_update(np.array([1.0]), np.array([0.5]), np.zeros(1), lr=0.1, momentum=0.9)
    >>> theta, m                  # m = 0.5; theta = 1 - 0.1 * (0.5 + 0.9 * 0.5)
    (array([0.905]), array([0.5]))
    """
    param, grad, velocity = as_matching_arrays(param=param, grad=grad, velocity=velocity)
    check_finite_gradient("grad", grad)
    lr = as_real("lr", lr, low=0)
    momentum = as_real("momentum", momentum, low=0, high=1, high_open=True)
    weight_decay = as_real("weight_decay", weight_decay, low=0)

    if weight_decay:
        grad = grad + weight_decay * param  # g <- g + lambda_wd theta
    velocity = momentum * velocity + grad  # m <- rho m + g
    param = param - lr * (grad + momentum * velocity)  # theta <- theta - eta (g + rho m)
    return param, velocity


def adam_update(
    param: Any,
    grad: Any,
    m: Any,
    v: Any,
    t: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    *,
    weight_decay: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""One step of Adam (Kingma & Ba, 2015), with bias correction.

    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
        \hat m &= m / (1 - \beta_1^t) \\
        \hat v &= v / (1 - \beta_2^t) \\
        \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon_{\text{A}})

    All operations are elementwise. :math:`m` and :math:`v` start at zero,
    which biases them towards zero by the factors :math:`1 - \beta^t`; the
    hats undo that, so that the first step moves every number by about
    :math:`\eta`. Later steps are typically about :math:`\eta` long, but
    :math:`\eta` is not a bound: after a long run of zero gradients one step
    can reach :math:`\eta (1 - \beta_1) / \sqrt{1 - \beta_2}` (about
    :math:`3.16\,\eta` with the default betas; Kingma & Ba, section 2.1),
    and a gradient that grows by :math:`\beta_2 / \beta_1` per step about
    :math:`7.27\,\eta` (chapter 11).

    Parameters
    ----------
    param : array_like, any shape
        The parameters :math:`\theta`.
    grad : array_like, shape of ``param``
        The gradient :math:`g`.
    m, v : array_like, shape of ``param``
        First and second moment estimates after step ``t - 1`` (zeros
        before the first step).
    t : int
        The number of this step, counting from 1.
    lr : float
        Learning rate :math:`\eta \ge 0`.
    beta1, beta2 : float
        Decay rates :math:`\beta_1, \beta_2 \in [0, 1)` (typically 0.9 and
        0.999).
    eps : float
        :math:`\epsilon_{\text{A}} > 0` (typically 1e-8), keeps the division
        finite.
    weight_decay : float
        :math:`\lambda_{\text{wd}} \ge 0`; the rule then uses
        :math:`g + \lambda_{\text{wd}}\theta` (L2 regularisation, as
        ``torch.optim.Adam``; not AdamW's decoupled decay, which multiplies
        ``param`` by :math:`1 - \eta\lambda_{\text{wd}}` and gives this rule
        ``weight_decay=0``).

    Returns
    -------
    param : ndarray, shape of ``param``
        The updated parameters.
    m, v : ndarray, shape of ``param``
        The updated moment estimates, to pass in at step ``t + 1``.

    Raises
    ------
    NonFiniteGradientError
        If ``grad`` holds NaN or an infinity (nothing is computed).

    Notes
    -----
    The rule computes in the dtype of its arguments. In float16, ``eps =
    1e-8`` rounds to 0 and ``grad**2`` underflows, so ``m_hat / sqrt(v_hat)``
    can be ``0 / 0``: pass float32 arrays (a master copy of float16
    parameters and float32 moments), as :class:`convlib.optim.Adam` does.

    Examples
    --------
    The first step moves every number by about ``lr``, whatever the size of
    its gradient:

    >>> g = np.array([1e-3, -50.0])
    >>> p, m, v = adam_update(np.ones(2), g, np.zeros(2), np.zeros(2), 1, 0.01, 0.9, 0.999, 1e-8)
    >>> np.round(p, 6)
    array([0.99, 1.01])
    """
    param, grad, m, v = as_matching_arrays(param=param, grad=grad, m=m, v=v)
    check_finite_gradient("grad", grad)
    t = as_int("t", t, 1)
    lr = as_real("lr", lr, low=0)
    beta1 = as_real("beta1", beta1, low=0, high=1, high_open=True)
    beta2 = as_real("beta2", beta2, low=0, high=1, high_open=True)
    eps = as_real("eps", eps, low=0, low_open=True)
    weight_decay = as_real("weight_decay", weight_decay, low=0)

    if weight_decay:
        grad = grad + weight_decay * param  # g <- g + lambda_wd theta
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    param = param - lr * m_hat / (np.sqrt(v_hat) + eps)
    return param, m, v
