"""A gallery of learner implementations of softmax cross-entropy, batch norm and Adam.

Convolution and pooling are in ``test_exercise_gallery.py``.

Every function here is written the way a learner would write it (loops,
vectorized, in place; NumPy only, no convlib). Each BUG must be caught AND
its hint must name the mistake (a regex on the message, often with the case
it fails on); each CORRECT alternative must pass every case.
"""

from __future__ import annotations

import numpy as np
import pytest

import exercise_gallery as gallery  # shared registry and assertions, loaded by conftest.py
from convlib import exercises as ex

GALLERY = gallery.Gallery()
bug, correct = GALLERY.bug, GALLERY.correct
BUGS, CORRECT = GALLERY.bugs, GALLERY.correct_ones


# =========================================================================== softmax cross-entropy


def softmax_ce(z, y, *, shift="row", log="direct", reduce="mean", divide=True, onehot=-1,
               axis=1, clip=None):  # fmt: skip
    n = len(y)
    if shift == "row":
        z = z - z.max(axis=axis, keepdims=True)
    elif shift == "batch":
        z = z - z.max()
    e = np.exp(z)
    p = e / e.sum(axis=axis, keepdims=True)
    if log == "direct":
        logp = z - np.log(e.sum(axis=axis, keepdims=True))
    else:
        logp = np.log(np.clip(p, clip, 1 - clip) if clip else p)
    losses = -logp[np.arange(n), y]
    loss = losses.mean() if reduce == "mean" else losses.sum()
    d = p.copy()
    d[np.arange(n), y] += onehot
    return loss, d / n if divide else d


@correct(ex.check_softmax_cross_entropy)
def softmax_ce_direct(logits, labels):
    return softmax_ce(logits, labels)


@correct(ex.check_softmax_cross_entropy)
def softmax_ce_logsumexp_loop(logits, labels):
    n = logits.shape[0]
    loss, d = 0.0, np.empty_like(logits)
    for r in range(n):
        m = logits[r].max()
        lse = m + np.log(np.sum(np.exp(logits[r] - m)))
        loss += (lse - logits[r, labels[r]]) / n
        d[r] = np.exp(logits[r] - lse)
        d[r, labels[r]] -= 1
    return loss, list(d / n)


@bug(ex.check_softmax_cross_entropy, "subtract each row's maximum", 4)
def softmax_ce_no_shift(z, y):
    return softmax_ce(z, y, shift=None, log="of_softmax")


@bug(ex.check_softmax_cross_entropy, "each ROW's maximum", 7)
def softmax_ce_batch_max(z, y):
    return softmax_ce(z, y, shift="batch")


@bug(ex.check_softmax_cross_entropy, r"log\(softmax\(z\)\) fails", 6)
def softmax_ce_log_of_softmax(z, y):
    return softmax_ce(z, y, log="of_softmax")


@bug(ex.check_softmax_cross_entropy, "the loss is capped: clipping", 4)
def softmax_ce_keras_clip(z, y):
    return softmax_ce(z, y, log="of_softmax", clip=1e-7)


@bug(ex.check_softmax_cross_entropy, "MEAN over the batch, not the sum$", 2)
def softmax_ce_sum_loss(z, y):
    return softmax_ce(z, y)[0] * len(y), softmax_ce(z, y)[1]


@bug(ex.check_softmax_cross_entropy, "dlogits must be divided by N", 2)
def softmax_ce_no_divide(z, y):
    return softmax_ce(z, y, divide=False)


@bug(ex.check_softmax_cross_entropy, "not the sum, and dlogits is divided by N", 2)
def softmax_ce_sum_everything(z, y):
    return softmax_ce(z, y, reduce="sum", divide=False)


@bug(ex.check_softmax_cross_entropy, "subtract 1 at each example's label", 1)
def softmax_ce_no_onehot(z, y):
    return softmax_ce(z, y, onehot=0)


@bug(ex.check_softmax_cross_entropy, "one-hot term is SUBTRACTED", 1)
def softmax_ce_onehot_added(z, y):
    return softmax_ce(z, y, onehot=+1)


@bug(ex.check_softmax_cross_entropy, "each ROW over the classes", 1)
def softmax_ce_columns(z, y):
    loss, _ = softmax_ce(z, y)
    _, d = softmax_ce(z, y, axis=0)
    return loss, d


@bug(ex.check_softmax_cross_entropy, "modified logits in place", 1)
def softmax_ce_shift_in_place(logits, labels):
    logits -= logits.max(axis=1, keepdims=True)
    return softmax_ce(logits, labels)


@bug(ex.check_softmax_cross_entropy, "dlogits shares memory with logits", 1)
def softmax_ce_dlogits_in_logits(logits, labels):
    loss, d = softmax_ce(logits, labels)
    logits[...] = d  # the gradient written over the caller's logits
    return loss, logits


@bug(ex.check_softmax_cross_entropy, "your result loss is float32", 1)
def softmax_ce_float32_loss(z, y):
    loss, d = softmax_ce(z, y)
    return np.float32(loss), d


# =========================================================================== batch norm


def bn_bwd(dout, x, gamma, eps, **kw):
    axes = tuple(range(x.ndim - 1))
    m = kw.get("m") or x.size // x.shape[-1]
    mu = x.mean(axis=kw.get("axes", axes))
    var = x.var(axis=kw.get("axes", axes), ddof=kw.get("ddof", 0))
    e = kw.get("own_eps", eps)
    std = np.sqrt(var) + e if kw.get("eps_outside") else np.sqrt(var + e)
    xhat = (x - mu) / std
    dgamma = (dout * (x if kw.get("dgamma_x") else xhat)).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    dxhat = dout if kw.get("no_gamma") else dout * gamma
    inner = m * dxhat
    if not kw.get("no_mean"):
        inner = inner - dxhat.sum(axis=axes)
    if not kw.get("no_var"):
        inner = inner - xhat * (dxhat * xhat).sum(axis=axes)
    return inner / (m * std), dgamma, dbeta


@correct(ex.check_batchnorm_backward)
def bn_bwd_compact(dout, x, gamma, eps):
    return bn_bwd(dout, x, gamma, eps)


@correct(ex.check_batchnorm_backward)
def bn_bwd_graph_walk(dout, x, gamma, eps):
    shape = x.shape
    x2, d2 = x.reshape(-1, shape[-1]), dout.reshape(-1, shape[-1])
    m = x2.shape[0]
    mu = x2.mean(axis=0)
    xc = x2 - mu
    var = (xc**2).mean(axis=0)
    std = np.sqrt(var + eps)
    xhat = xc / std
    dxhat = d2 * gamma
    dstd = -(dxhat * xc).sum(axis=0) / std**2
    dvar = dstd / (2 * std)
    dxc = dxhat / std + 2 * xc * dvar / m
    dx = dxc - dxc.mean(axis=0)
    return dx.reshape(shape), (d2 * xhat).sum(axis=0), d2.sum(axis=0)


@bug(ex.check_batchnorm_backward, "unbiased variance", 1)
def bn_bwd_ddof1(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, ddof=1)


@bug(ex.check_batchnorm_backward, "eps belongs INSIDE the square root", 1)
def bn_bwd_eps_outside(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, eps_outside=True)


@bug(ex.check_batchnorm_backward, "eps is missing", 1)
def bn_bwd_no_eps(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, own_eps=0.0)


@bug(
    ex.check_batchnorm_backward, r"eps argument \(0\.1\) is ignored: your code uses eps = 1e-05", 2
)
def bn_bwd_own_eps(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, own_eps=1e-5)


@bug(ex.check_batchnorm_backward, "lacks the variance's term", 1)
def bn_bwd_no_var_term(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, no_var=True)


@bug(ex.check_batchnorm_backward, "lacks the mean's term", 1)
def bn_bwd_no_mean_term(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, no_mean=True)


@bug(ex.check_batchnorm_backward, "treats the mean and the variance as constants", 1)
def bn_bwd_constant_stats(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, no_mean=True, no_var=True)


@bug(ex.check_batchnorm_backward, "forgets gamma", 1)
def bn_bwd_no_gamma(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, no_gamma=True)


@bug(ex.check_batchnorm_backward, r"M = N\*H\*W = 18, not N = 2", 3)
def bn_bwd_m_is_n(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, m=x.shape[0])


@bug(ex.check_batchnorm_backward, r"dgamma is averaged over the batch; it must be SUMMED", 1)
def bn_bwd_dgamma_mean(dout, x, g, eps):
    dx, dgamma, dbeta = bn_bwd(dout, x, g, eps)
    return dx, dgamma / (x.size // x.shape[-1]), dbeta


@bug(
    ex.check_batchnorm_backward,
    r"dbeta is averaged over the batch.*right answer times 0\.25 = 1/M",
    1,
)
def bn_bwd_dbeta_mean(dout, x, g, eps):
    dx, dgamma, dbeta = bn_bwd(dout, x, g, eps)
    return dx, dgamma, dbeta / (x.size // x.shape[-1])


@bug(ex.check_batchnorm_backward, "NORMALIZED input xhat, not by x", 1)
def bn_bwd_dgamma_from_x(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, dgamma_x=True)


@bug(ex.check_batchnorm_backward, r"axes \(0, 1, 2\)", 3)
def bn_bwd_stats_over_axis0(dout, x, g, eps):
    return bn_bwd(dout, x, g, eps, axes=0)


@bug(ex.check_batchnorm_backward, "modified x in place", 1)
def bn_bwd_centres_in_place(dout, x, gamma, eps):
    axes = tuple(range(x.ndim - 1))
    x -= x.mean(axis=axes)  # the caller's x, centred
    return bn_bwd(dout, x, gamma, eps)


# =========================================================================== Adam


def adam(p, g, m, v, t, lr, b1, b2, eps, **kw):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (np.abs(g) if kw.get("abs_g") else g * g)
    tm = kw.get("tm", t)
    tv = kw.get("tv", t)
    mh = m / (1 - b1**tm) if tm else m
    vh = v / (1 - b2**tv) if tv else v
    e = kw.get("own_eps", eps)
    denom = np.sqrt(vh + e) if kw.get("eps_inside") else np.sqrt(vh) + e
    step = kw.get("own_lr", lr) * mh / denom
    return p - kw.get("sign", 1) * step, m, v


@correct(ex.check_adam_step)
def adam_standard(param, grad, m, v, t, lr, beta1, beta2, eps):
    return adam(param, grad, m, v, t, lr, beta1, beta2, eps)


@correct(ex.check_adam_step)
def adam_in_place(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay=0.0):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad**2
    param -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return param, m, v


@correct(ex.check_adam_step)
def adam_paper_efficient(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    alpha_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return param - alpha_t * m / (np.sqrt(v) + eps), m, v


@bug(ex.check_adam_step, "no bias correction", 1)
def adam_uncorrected(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, tm=0, tv=0)


@bug(ex.check_adam_step, "only m is bias-corrected", 1)
def adam_only_m(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, tv=0)


@bug(ex.check_adam_step, "only v is bias-corrected", 1)
def adam_only_v(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, tm=0)


@bug(ex.check_adam_step, r"uses t \+ 1", 1)
def adam_t_plus_1(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, tm=t + 1, tv=t + 1)


@bug(ex.check_adam_step, r"at t = 1 a division by 0", 1)
def adam_t_minus_1(p, g, m, v, t, lr, b1, b2, eps):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return p - lr * (m / (1 - b1 ** (t - 1))) / (np.sqrt(v / (1 - b2 ** (t - 1))) + eps), m, v


@bug(ex.check_adam_step, r"uses t = 1 at every step", 2)
def adam_t_stuck(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, 1, lr, b1, b2, eps)


@bug(ex.check_adam_step, "eps belongs OUTSIDE the square root", 2)
def adam_eps_inside(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, eps_inside=True)


@bug(ex.check_adam_step, "return the raw m and v", 1)
def adam_stores_corrected(p, g, m, v, t, lr, b1, b2, eps):
    m = (b1 * m + (1 - b1) * g) / (1 - b1**t)
    v = (b2 * v + (1 - b2) * g * g) / (1 - b2**t)
    return p - lr * m / (np.sqrt(v) + eps), m, v


@bug(ex.check_adam_step, "restart from zero at every step", 2)
def adam_state_reset(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, np.zeros_like(m), np.zeros_like(v), t, lr, b1, b2, eps)


@bug(ex.check_adam_step, r"eps argument \(0\.1\) is ignored: your step uses eps = 1e-08", 5)
def adam_own_eps(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, own_eps=1e-8)


@bug(ex.check_adam_step, r"lr argument \(0\.1\) is ignored: your step uses lr = 0\.01", 4)
def adam_own_lr(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, own_lr=0.01)


@bug(ex.check_adam_step, "betas are swapped", 1)
def adam_betas_swapped(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b2, b1, eps)


@bug(ex.check_adam_step, "SQUARED gradient", 1)
def adam_abs_grad(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, abs_g=True)


@bug(ex.check_adam_step, "goes uphill", 1)
def adam_uphill(p, g, m, v, t, lr, b1, b2, eps):
    return adam(p, g, m, v, t, lr, b1, b2, eps, sign=-1)


@bug(ex.check_adam_step, "modified grad in place", 1)
def adam_scales_grad_in_place(p, g, m, v, t, lr, b1, b2, eps):
    g *= 1 - b1  # the caller's gradient overwritten
    m = b1 * m + g
    v = b2 * v + (1 - b2) * (g / (1 - b1)) ** 2
    return p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v


@bug(ex.check_adam_step, "m shares memory with grad", 1)
def adam_m_is_grad(p, g, m, v, t, lr, b1, b2, eps):
    new_p, new_m, new_v = adam(p, g, m, v, t, lr, b1, b2, eps)
    g[...] = new_m  # m stored in the gradient's buffer
    return new_p, g, new_v


# =========================================================================== the tests


def test_the_gallery_is_large_enough():
    assert len(BUGS) >= 40, len(BUGS)  # with the conv and pooling gallery: over 100
    assert len({name for name, *_ in BUGS}) == len(BUGS)
    assert len(CORRECT) >= 7


@pytest.mark.parametrize("name, checker, fn", CORRECT, ids=[c[0] for c in CORRECT])
def test_correct_alternative_passes(name, checker, fn):
    gallery.assert_passes(checker, fn)


@pytest.mark.parametrize(
    "name, checker, fn, hint, case", BUGS, ids=[b[0] for b in BUGS]
)  # fmt: skip
def test_bug_is_caught_and_named(name, checker, fn, hint, case):
    gallery.assert_caught_and_named(checker, fn, hint, case)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize(
    "fn, hint",
    [
        (softmax_ce_keras_clip, "the loss is capped"),
        (softmax_ce_batch_max, "each ROW's maximum"),
        (softmax_ce_log_of_softmax, r"log\(softmax\(z\)\) fails"),
        (adam_own_eps, r"eps argument \(0\.1\) is ignored"),
        (bn_bwd_no_eps, "eps is missing"),
    ],
    ids=["clip", "batch-max", "log-softmax", "adam-eps", "bn-eps"],
)
def test_the_stability_and_eps_bugs_are_caught_whatever_the_seed(fn, hint, seed):
    checker = ex.check_adam_step if fn is adam_own_eps else ex.check_softmax_cross_entropy
    if fn is bn_bwd_no_eps:
        checker = ex.check_batchnorm_backward
    with pytest.raises(ex.ExerciseFailure, match=hint):
        checker(fn, seed=seed, verbose=False)
