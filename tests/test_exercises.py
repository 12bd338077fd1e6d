"""The exercise checkers against correct code and a gallery of classic bugs.

Every implementation here is written the way a learner would write it (loops,
no convlib), so that the checkers are tested against independent code. Each
buggy version must be caught, with a message that points at the mistake.
"""

from __future__ import annotations

import contextvars
import re
import threading

import numpy as np
import pytest

from convlib import exercises as ex

# ---------------------------------------------------------------- convolution


def conv_forward(x, w, b, stride, pad):
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, wd, _ = xp.shape
    kh, kw, _, f = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2])) + b
    return out


def conv_backward(dout, x, w, stride, pad, *, bug=None):
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    kh, kw, _, _ = w.shape
    _, oh, ow, _ = dout.shape
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(oh):
        for j in range(ow):
            r = i if bug == "stride_dx" else i * stride
            c = j if bug == "stride_dx" else j * stride
            dxp[:, r : r + kh, c : c + kw, :] += np.tensordot(dout[:, i, j, :], w, axes=([1], [3]))
            r, c = (i, j) if bug == "undilated_dw" else (i * stride, j * stride)
            patch = xp[:, r : r + kh, c : c + kw, :]
            dw += np.tensordot(patch, dout[:, i, j, :], axes=([0], [0]))
    db = dout.sum(axis=(0, 1, 2))
    if bug == "no_crop":
        dx = dxp
    elif bug == "minus_crop":
        dx = dxp[:, pad:-pad, pad:-pad, :]
    else:
        dx = dxp[:, pad : pad + x.shape[1], pad : pad + x.shape[2], :]
    if bug == "db_axes":
        db = dout.sum(axis=(1, 2, 3))
    if bug == "db_first_image":
        db = dout[0].sum(axis=(0, 1))
    if bug == "db_mean":
        db = dout.mean(axis=(0, 1, 2))
    return dx, dw, db


def dx_full_conv_unflipped(dout, x, w, stride, pad):
    """dx as a full correlation of dout with w -- the kernel NOT rotated."""
    kh, kw, _, _ = w.shape
    dpad = np.pad(dout, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    n, h, wd, c = x.shape
    dx = np.zeros_like(x)
    for i in range(h):
        for j in range(wd):
            window = dpad[:, i : i + kh, j : j + kw, :]
            dx[:, i, j, :] = np.tensordot(window, w, axes=([1, 2, 3], [0, 1, 3]))
    _, dw, db = conv_backward(dout, x, w, stride, pad)
    return dx, dw, db


def test_correct_conv_passes():
    assert ex.check_conv_forward(conv_forward, verbose=False) == len(ex.CONV_CASES)
    assert ex.check_conv_backward(conv_backward, verbose=False) == len(ex.CONV_CASES)


def test_conv_forward_flipped_kernel_is_caught():
    def true_conv(x, w, b, stride, pad):
        return conv_forward(x, w[::-1, ::-1], b, stride, pad)

    with pytest.raises(AssertionError, match="cross-correlation"):
        ex.check_conv_forward(true_conv, verbose=False)


def test_conv_forward_missing_bias_and_stride_are_caught():
    with pytest.raises(AssertionError, match="bias is missing"):
        ex.check_conv_forward(lambda x, w, b, s, p: conv_forward(x, w, 0 * b, s, p), verbose=False)
    with pytest.raises(AssertionError, match=r"window starting at input \(i\*2, j\*2\)") as info:
        ex.check_conv_forward(_ignores_stride, verbose=False)
    assert "case 10 of 12" in str(info.value)


def _ignores_stride(x, w, b, stride, pad):
    full = conv_forward(x, w, b, 1, pad)
    oh = (x.shape[1] + 2 * pad - w.shape[0]) // stride + 1
    ow = (x.shape[2] + 2 * pad - w.shape[1]) // stride + 1
    return full[:, :oh, :ow, :]  # the first windows, not every stride-th


@pytest.mark.parametrize(
    "bug, case_no, hint",
    [
        ("stride_dx", 10, "use the stride when scattering"),
        ("undilated_dw", 10, "DILATED by the stride"),
        ("no_crop", 8, "still includes the padding"),
        ("minus_crop", 1, r"a\[p:-p\] with p = 0"),
        ("db_axes", 4, r"one entry per filter"),
        ("db_first_image", 6, r"db comes from the first image only"),
        ("db_mean", 1, r"times 0\.111111 \(= 1/N\*OH\*OW\)"),
    ],
)
def test_conv_backward_bug_gallery(bug, case_no, hint):
    def buggy(dout, x, w, stride, pad):
        return conv_backward(dout, x, w, stride, pad, bug=bug)

    with pytest.raises(AssertionError, match=hint) as info:
        ex.check_conv_backward(buggy, verbose=False)
    assert f"case {case_no} of {len(ex.CONV_CASES)}" in str(info.value)


def test_conv_backward_unflipped_kernel_is_caught():
    with pytest.raises(AssertionError, match="rotated by 180 degrees") as info:
        ex.check_conv_backward(dx_full_conv_unflipped, verbose=False)
    assert "dx is wrong" in str(info.value) and "dw is wrong" not in str(info.value)


def test_checker_reports_exceptions_and_bad_returns():
    def crashes(dout, x, w, stride, pad):
        raise IndexError("index 5 is out of bounds")

    with pytest.raises(AssertionError, match="raised IndexError: index 5"):
        ex.check_conv_backward(crashes, verbose=False)
    with pytest.raises(AssertionError, match=r"return the tuple \(dx, dw, db\)"):
        ex.check_conv_backward(lambda *a: conv_backward(*a)[:2], verbose=False)


def test_success_prints_one_line(capsys):
    ex.check_conv_forward(conv_forward)
    assert capsys.readouterr().out.strip() == f"conv forward: all {len(ex.CONV_CASES)} cases passed"


# ---------------------------------------------------------------- max pooling


def maxpool_forward(x, pool, stride, pad, fill=-np.inf):
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=fill)
    oh = (xp.shape[1] - pool) // stride + 1
    ow = (xp.shape[2] - pool) // stride + 1
    out = np.empty((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j, :] = xp[
                :, i * stride : i * stride + pool, j * stride : j * stride + pool, :
            ].max(axis=(1, 2))
    return out


def maxpool_backward(dout, x, pool, stride, *, bug=None):
    dx = np.zeros_like(x)
    n, oh, ow, c = dout.shape
    for i in range(oh):
        for j in range(ow):
            win = x[:, i * stride : i * stride + pool, j * stride : j * stride + pool, :]
            if bug == "all_ties":
                mask = win == win.max(axis=(1, 2), keepdims=True)
            elif bug == "split_ties":
                mask = win == win.max(axis=(1, 2), keepdims=True)
                mask = mask / mask.sum(axis=(1, 2), keepdims=True)
            else:
                flat = win.reshape(n, -1, c).argmax(axis=1)
                mask = np.zeros((n, pool * pool, c))
                np.put_along_axis(mask, flat[:, None, :], 1.0, axis=1)
                mask = mask.reshape(win.shape)
            region = dx[:, i * stride : i * stride + pool, j * stride : j * stride + pool, :]
            if bug == "overwrite":
                region[...] = mask * dout[:, i : i + 1, j : j + 1, :]
            else:
                region += mask * dout[:, i : i + 1, j : j + 1, :]
    return dx


def test_correct_maxpool_passes():
    assert ex.check_maxpool_forward(maxpool_forward, verbose=False) == len(ex.POOL_FORWARD_CASES)
    assert ex.check_maxpool_backward(maxpool_backward, verbose=False) == len(ex.POOL_BACKWARD_CASES)


def test_split_ties_is_accepted():
    buggy = lambda *a: maxpool_backward(*a, bug="split_ties")  # noqa: E731
    assert ex.check_maxpool_backward(buggy, verbose=False) == len(ex.POOL_BACKWARD_CASES)


def test_maxpool_zero_padding_is_caught():
    with pytest.raises(AssertionError, match="padded with zeros"):
        ex.check_maxpool_forward(
            lambda x, k, s, p: maxpool_forward(x, k, s, p, fill=0.0), verbose=False
        )


def test_maxpool_gradient_to_every_tie_is_caught():
    with pytest.raises(AssertionError, match="FULL gradient to every tied maximum"):
        ex.check_maxpool_backward(lambda *a: maxpool_backward(*a, bug="all_ties"), verbose=False)


def test_maxpool_overlap_overwrite_is_caught():
    with pytest.raises(AssertionError, match=r"SUM of both gradients"):
        ex.check_maxpool_backward(lambda *a: maxpool_backward(*a, bug="overwrite"), verbose=False)


# ---------------------------------------------------------------- softmax CE


def softmax_ce(logits, labels, *, stable=True, mean=True):
    z = logits - logits.max(axis=1, keepdims=True) if stable else logits
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -(z - np.log(e.sum(axis=1, keepdims=True)))[np.arange(n), labels]
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return (loss.mean(), d / n) if mean else (loss.sum(), d)


def test_correct_softmax_passes():
    assert ex.check_softmax_cross_entropy(softmax_ce, verbose=False) == len(ex.SOFTMAX_CASES)


def test_softmax_overflow_is_caught():
    with pytest.raises(AssertionError, match="subtract each row's maximum") as info:
        ex.check_softmax_cross_entropy(lambda z, y: softmax_ce(z, y, stable=False), verbose=False)
    assert "large logits" in str(info.value)


def test_softmax_sum_instead_of_mean_is_caught():
    with pytest.raises(AssertionError, match="MEAN over the batch"):
        ex.check_softmax_cross_entropy(lambda z, y: softmax_ce(z, y, mean=False), verbose=False)


# ---------------------------------------------------------------- batch norm


def bn_backward(dout, x, gamma, eps, *, bug=None):
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mu = x.mean(axis=axes)
    inv = 1.0 / np.sqrt(x.var(axis=axes) + eps)
    xhat = (x - mu) * inv
    dgamma = (dout * xhat).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    dxhat = dout * gamma
    dx = inv / m * (m * dxhat - dxhat.sum(axis=axes) - xhat * (dxhat * xhat).sum(axis=axes))
    if bug == "mean_dgamma":
        dgamma = dgamma / m
    if bug == "constant_stats":
        dx = dxhat * inv
    return dx, dgamma, dbeta


def test_correct_batchnorm_passes():
    assert ex.check_batchnorm_backward(bn_backward, verbose=False) == len(ex.BATCHNORM_CASES)


def test_batchnorm_dgamma_averaged_is_caught():
    with pytest.raises(
        AssertionError, match="dgamma is averaged over the batch; it must be SUMMED"
    ):
        ex.check_batchnorm_backward(lambda *a: bn_backward(*a, bug="mean_dgamma"), verbose=False)


def test_batchnorm_constant_statistics_is_caught():
    with pytest.raises(AssertionError, match="treats the mean and the variance as constants"):
        ex.check_batchnorm_backward(lambda *a: bn_backward(*a, bug="constant_stats"), verbose=False)


# ---------------------------------------------------------------- Adam


def adam_step(p, g, m, v, t, lr, b1, b2, eps, *, corrected=True):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    mh, vh = (m / (1 - b1**t), v / (1 - b2**t)) if corrected else (m, v)
    return p - lr * mh / (np.sqrt(vh) + eps), m, v


def test_correct_adam_passes():
    assert ex.check_adam_step(adam_step, verbose=False) == len(ex.ADAM_CASES)


def test_adam_without_bias_correction_is_caught():
    with pytest.raises(AssertionError, match="no bias correction") as info:
        ex.check_adam_step(lambda *a: adam_step(*a, corrected=False), verbose=False)
    assert "at step t = 1" in str(info.value)


# ---------------------------------------------------------------- the checkers' own arguments

CHECKERS = [
    ex.check_conv_forward,
    ex.check_conv_backward,
    ex.check_maxpool_forward,
    ex.check_maxpool_backward,
    ex.check_softmax_cross_entropy,
    ex.check_batchnorm_backward,
    ex.check_adam_step,
]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(fn="conv"), TypeError, r"fn must be callable \(a function\), got 'conv' \(str\)"),
        (dict(fn=None), TypeError, "fn must be callable"),
        (dict(seed="a"), TypeError, "seed must be an integer, got 'a'"),
        (dict(seed=1.0), TypeError, "seed must be an integer"),
        (dict(seed=-1), ValueError, "seed must be >= 0, got -1"),
        (dict(verbose="no"), TypeError, "verbose must be a bool"),
    ],
    ids=["fn-str", "fn-none", "seed-str", "seed-float", "seed-negative", "verbose-str"],
)
@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_checkers_refuse_their_own_bad_arguments_before_any_case(checker, kwargs, error, message):
    calls = []

    def fn(*args):
        calls.append(args)
        raise AssertionError("no case may run")

    kwargs = {"fn": fn, "verbose": False, **kwargs}
    with pytest.raises(error, match=message):
        checker(kwargs.pop("fn"), **kwargs)
    assert not calls


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_checkers_take_numpy_seeds_and_flags(checker, capsys):
    # A function that fails on the first case: the same failure message for
    # seed 3 and np.int64(3), and verbose=np.bool_(False) is accepted.
    def wrong(*args):
        return None

    messages = []
    for seed in (3, np.int64(3)):
        with pytest.raises(ex.ExerciseFailure) as info:
            checker(wrong, seed=seed, verbose=np.bool_(False))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    "time_limit, error, message",
    [
        ("a", TypeError, "time_limit must be a real number"),
        (0, ValueError, r"time_limit must be in \(0, inf\)"),
        (-1.0, ValueError, "time_limit must be in"),
    ],
)
def test_checkers_refuse_a_bad_time_limit_before_any_case(time_limit, error, message):
    def fn(*args):
        raise AssertionError("no case may run")

    for checker in CHECKERS:
        with pytest.raises(error, match=message):
            checker(fn, verbose=False, time_limit=time_limit)


# ---------------------------------------------------------------- uniform diagnostics


def _message(checker, fn, **kwargs):
    with pytest.raises(ex.ExerciseFailure) as info:
        checker(fn, verbose=False, **kwargs)
    return str(info.value)


def _endless(release):
    def fn(*args):
        while not release.wait(0.01):  # "an endless loop" that the test can end
            pass
        return None

    return fn


def test_time_limit_stops_waiting_for_an_endless_loop():
    release = threading.Event()
    try:
        message = _message(ex.check_conv_forward, _endless(release), time_limit=0.2)
    finally:
        release.set()
    assert "case 1 of 12" in message
    assert "did not return within the time limit of 0.2 s" in message
    assert "cannot stop a running thread" in message


def test_time_limit_works_outside_the_main_thread():
    # signal.alarm would raise "signal only works in main thread" here.
    release, box = threading.Event(), {}

    def worker():
        try:
            ex.check_softmax_cross_entropy(_endless(release), verbose=False, time_limit=0.2)
        except ex.ExerciseFailure as err:
            box["message"] = str(err)
        except Exception as err:  # noqa: BLE001
            box["other"] = err

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    release.set()
    assert not thread.is_alive()
    assert "other" not in box, box.get("other")
    assert "time limit of 0.2 s" in box["message"]


def test_time_limit_none_runs_in_the_calling_thread():
    threads = set()

    def fn(x, w, b, stride, pad):
        threads.add(threading.current_thread())
        return conv_forward(x, w, b, stride, pad)

    assert ex.check_conv_forward(fn, verbose=False, time_limit=None) == len(ex.CONV_CASES)
    assert threads == {threading.current_thread()}
    threads.clear()
    ex.check_conv_forward(fn, verbose=False)
    assert threading.current_thread() not in threads


def test_an_exception_keeps_the_case_number_the_line_and_the_ladder():
    def fails_with_channels(x, w, b, stride, pad):
        if x.shape[3] > 1:
            return x[..., 5]  # IndexError on the first case with several channels
        return conv_forward(x, w, b, stride, pad)

    message = _message(ex.check_conv_forward, fails_with_channels)
    assert "FAILED on case 3 of 12, 'several input channels'" in message
    assert "your function raised IndexError" in message
    assert re.search(r"in line \d+ of fails_with_channels: `return x\[\.\.\., 5\]", message)
    assert "2 simpler case(s) passed" in message
    assert "hint: what this case adds: each output pixel sums over" in message


def test_a_ragged_list_is_a_problem_not_a_crash():
    def ragged(dout, x, w, stride, pad):
        dx, dw, db = conv_backward(dout, x, w, stride, pad)
        return [list(dx[0]), dx[0, :2]], dw, db  # pieces of different shapes

    message = _message(ex.check_conv_backward, ragged)
    assert "dx is a list of pieces of different shapes (a ragged list)" in message


def test_complex_results_are_refused_even_with_zero_imaginary_part():
    message = _message(ex.check_conv_forward, lambda *a: conv_forward(*a).astype(complex))
    assert "out is complex (complex128)" in message and "case 1 of" in message


def test_float32_is_named_instead_of_equal_looking_numbers():
    message = _message(ex.check_conv_forward, lambda *a: conv_forward(*a).astype(np.float32))
    assert "your result out is float32" in message
    assert "yours" not in message  # no "yours 0.145278, expected 0.145278"


def test_the_failing_entry_is_printed_with_ten_digits():
    def one_entry_off(x, w, b, stride, pad):
        out = conv_forward(x, w, b, stride, pad)
        out[0, 1, 2, 0] += 1e-3
        return out

    message = _message(ex.check_conv_forward, one_entry_off)
    m = re.search(r"out is wrong at index \(0, 1, 2, 0\): yours (\S+), expected (\S+) ", message)
    assert m and len(m.group(1).lstrip("-").replace(".", "")) >= 9
    assert "tolerance 1e-06" in message


def test_one_tolerance_for_every_comparison_including_ties():
    # 1e-9 relative noise passes everywhere (the tie case included), 1e-4 fails everywhere
    def noisy(scale):
        def fn(dout, x, pool, stride):
            dx = maxpool_backward(dout, x, pool, stride)
            return dx * (1 + scale)

        return fn

    assert ex.check_maxpool_backward(noisy(1e-9), verbose=False) == len(ex.POOL_BACKWARD_CASES)
    assert "case 1 of" in _message(ex.check_maxpool_backward, noisy(1e-4))


def test_tie_failures_name_the_window_image_and_channel_that_fail():
    def one_window_doubled(dout, x, pool, stride):
        dx = maxpool_backward(dout, x, pool, stride)
        if len(np.unique(x)) <= 2:  # the tie case: window (1, 0) of image 1, channel 1 doubled
            dx[1, 2:4, 0:2, 1] *= 2
        return dx

    message = _message(ex.check_maxpool_backward, one_window_doubled)
    assert "case 5 of 5" in message
    assert "window (1, 0) of image 1, channel 1 passes on" in message


def test_average_pooling_is_not_called_a_constant_factor():
    def average(dout, x, pool, stride):
        dx = np.zeros_like(x)
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                sl = np.s_[:, i * stride : i * stride + pool, j * stride : j * stride + pool, :]
                dx[sl] += dout[:, i : i + 1, j : j + 1, :] / pool**2
        return dx

    message = _message(ex.check_maxpool_backward, average)
    assert "average pooling's gradient" in message and "times" not in message


def test_out_cache_pair_is_recognised_and_explained():
    message = _message(ex.check_maxpool_forward, lambda *a: (maxpool_forward(*a), None))
    assert "out is a tuple of two: (out, cache)?" in message
    assert "hint: return out alone" in message
    assert message.count("hint:") == 1


def test_inputs_modified_in_place_and_aliased_outputs_are_named():
    def bn_in_place(dout, x, gamma, eps):
        result = bn_backward(dout, x, gamma, eps)
        x -= x.mean(axis=0)
        return result

    assert "your function modified x in place" in _message(ex.check_batchnorm_backward, bn_in_place)

    def dlogits_is_logits(logits, labels):
        loss, d = softmax_ce(logits, labels)
        logits[...] = d
        return loss, logits

    message = _message(ex.check_softmax_cross_entropy, dlogits_is_logits)
    assert "modified logits in place" in message
    assert "dlogits shares memory with logits" in message


def test_adam_may_update_param_m_v_in_place_but_not_grad():
    def in_place(p, g, m, v, t, lr, b1, b2, eps):
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        p -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        return p, m, v

    assert ex.check_adam_step(in_place, verbose=False) == len(ex.ADAM_CASES)

    def grad_scaled(p, g, m, v, t, lr, b1, b2, eps):
        out = adam_step(p, g.copy(), m, v, t, lr, b1, b2, eps)
        g *= 0.5
        return out

    assert "modified grad in place" in _message(ex.check_adam_step, grad_scaled)


def test_adam_paper_efficient_form_is_accepted_with_a_note(capsys):
    def efficient(p, g, m, v, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        return p - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps), m, v

    assert ex.check_adam_step(efficient) == len(ex.ADAM_CASES)
    out = capsys.readouterr().out
    assert "note: your step is the Adam paper's 'efficient' form" in out
    assert "eps_hat = eps * sqrt(1 - beta2**t)" in out
    ex.check_adam_step(adam_step)
    assert "note" not in capsys.readouterr().out


def test_adam_failure_at_the_first_step_does_not_blame_the_number_of_steps():
    def eps_inside(p, g, m, v, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        return p - lr * (m / (1 - b1**t)) / np.sqrt(v / (1 - b2**t) + eps), m, v

    message = _message(ex.check_adam_step, eps_inside)
    assert "at step t = 1" in message
    assert "fails at the first step of this case, t = 1" in message
    assert "look first at what this case adds" not in message


_SETTING: contextvars.ContextVar[str] = contextvars.ContextVar("setting", default="default")


def test_the_worker_thread_sees_the_callers_context_variables():
    seen = []

    def fn(x, w, b, stride, pad):
        seen.append(_SETTING.get())
        return conv_forward(x, w, b, stride, pad)

    token = _SETTING.set("the caller's")
    try:
        ex.check_conv_forward(fn, verbose=False)
    finally:
        _SETTING.reset(token)
    assert set(seen) == {"the caller's"}


def test_a_wrong_signature_is_told_how_the_checker_calls():
    def three_parameters(x, pool, stride):
        return maxpool_forward(x, pool, stride, 0)

    message = _message(ex.check_maxpool_forward, three_parameters)
    assert "raised TypeError" in message
    assert "calls your function as fn(x, pool, stride, pad), positionally" in message
