"""Checkers that grade a reader's own implementations.

Each ``check_*`` function calls the reader's function on a ladder of cases,
from the simplest (one image, one channel, stride 1, no padding) to the
general one, compares every result with convlib's reference, and stops at the
first case that fails with a message in a learner's words: which case, which
output, where it is worst, and -- because the ladder adds one feature at a
time -- which feature broke it and the classic mistake that usually causes
it. On success it prints one line and returns the number of cases passed.

The functions the reader writes have plain signatures (no caches)::

    conv_forward(x, w, b, stride, pad) -> out
    conv_backward(dout, x, w, stride, pad) -> (dx, dw, db)
    maxpool_forward(x, pool, stride, pad) -> out
    maxpool_backward(dout, x, pool, stride) -> dx
    softmax_cross_entropy(logits, labels) -> (loss, dlogits)
    batchnorm_backward(dout, x, gamma, eps) -> (dx, dgamma, dbeta)
    adam_step(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)

Images are NHWC, conv filters ``(KH, KW, C, F)``, ``pad`` an int (that many
pixels on every side), ``pool`` and ``stride`` ints.

Every checker is called the same way, ``check_x(fn, *, seed=0, verbose=True,
time_limit=30.0)``, and checks the same things on every case: the structure of
what ``fn`` returns (a ``(out, cache)`` pair, the layers' convention, is
recognised and explained), each array's dtype (float64; complex is refused),
its shape, that ``fn`` modified none of its inputs in place (except the
``param``, ``m`` and ``v`` of an Adam step) and returned no array sharing memory
with an input, and the numbers, with one relative tolerance (``1e-6``),
printing the worst entry. An exception keeps the case number, and the line of
the reader's code that raised. ``time_limit`` (seconds per call) works in any
thread: the case runs in a worker thread and the checker stops waiting when
the time is up (Python cannot kill a thread, so a call that never returns
keeps running in the background); ``time_limit=None`` runs ``fn`` in the
calling thread without a limit.

One module per topic, named after the convlib module whose reference it
grades against: :mod:`~convlib.exercises.conv`,
:mod:`~convlib.exercises.pooling`, :mod:`~convlib.exercises.losses`,
:mod:`~convlib.exercises.batchnorm` and :mod:`~convlib.exercises.optim`;
the ladder they share (cases, comparisons, the failure message) lives in
``convlib/exercises/_ladder.py``, the calling of the reader's function (time
limit, exceptions, inputs watched) in ``convlib/exercises/_calling.py``.
Every checker is importable from here.
"""

from ._ladder import (
    Case,
    ExerciseFailure,
    Outcome,  # noqa: F401  (importable from here as before; not part of __all__)
)
from .batchnorm import BATCHNORM_CASES, check_batchnorm_backward
from .conv import CONV_CASES, check_conv_backward, check_conv_forward
from .losses import SOFTMAX_CASES, check_softmax_cross_entropy
from .optim import ADAM_CASES, check_adam_step
from .pooling import (
    POOL_BACKWARD_CASES,
    POOL_FORWARD_CASES,
    check_maxpool_backward,
    check_maxpool_forward,
)

__all__ = [
    "ADAM_CASES",
    "BATCHNORM_CASES",
    "CONV_CASES",
    "POOL_BACKWARD_CASES",
    "POOL_FORWARD_CASES",
    "SOFTMAX_CASES",
    "Case",
    "ExerciseFailure",
    "check_adam_step",
    "check_batchnorm_backward",
    "check_conv_backward",
    "check_conv_forward",
    "check_maxpool_backward",
    "check_maxpool_forward",
    "check_softmax_cross_entropy",
]
