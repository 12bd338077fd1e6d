"""A gallery of learner implementations of convolution and max pooling for ``convlib.exercises``.

The losses, batch norm and Adam are in ``test_exercise_gallery_training.py``.

Every function here is written the way a learner would write it (loops,
einsum, FFT, im2col; NumPy only, no convlib). Each BUG must be caught AND
its hint must name the mistake (a regex on the message, often with the case
it fails on); each CORRECT alternative must pass every case.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import exercise_gallery as gallery  # shared registry and assertions, loaded by conftest.py
from convlib import exercises as ex

GALLERY = gallery.Gallery()
bug, correct = GALLERY.bug, GALLERY.correct
BUGS, CORRECT = GALLERY.bugs, GALLERY.correct_ones


def pad4(x, p, value=0.0):
    return np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=value)


# =========================================================================== conv forward


def conv_fwd(x, w, b, stride, pad, *, flip=False, bias=True, channels="all", filt="all",
             images="all", use_stride=True, fill=0.0, dtype=np.float64):  # fmt: skip
    if flip:
        w = w[::-1, ::-1]
    xp = pad4(x, pad, fill)
    n, hp, wp, c = xp.shape
    kh, kw, _, f = w.shape
    s = stride if use_stride else 1
    oh, ow = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    out = np.zeros((n, oh, ow, f), dtype=dtype)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * s : i * s + kh, j * s : j * s + kw, :]
            if images == "first":
                patch = np.repeat(patch[:1], n, axis=0)
            if channels == "last":
                val = np.tensordot(patch[..., -1], w[:, :, -1, :], axes=([1, 2], [0, 1]))
            else:
                val = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
            if filt == "first":
                val = np.repeat(val[:, :1], f, axis=1)
            out[:, i, j, :] = val + (b if bias else 0)
    return out


@correct(ex.check_conv_forward)
def conv_fwd_loops(x, w, b, stride, pad):
    xp = pad4(x, pad)
    n, hp, wp, c = xp.shape
    kh, kw, _, f = w.shape
    oh, ow = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    out = np.zeros((n, oh, ow, f))
    for nn in range(n):
        for i in range(oh):
            for j in range(ow):
                for ff in range(f):
                    win = xp[nn, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
                    out[nn, i, j, ff] = np.sum(win * w[..., ff]) + b[ff]
    return out


@correct(ex.check_conv_forward)
def conv_fwd_einsum(x, w, b, stride, pad):
    kh, kw = w.shape[:2]
    win = sliding_window_view(pad4(x, pad), (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcuv,uvcf->nijf", win, w) + b


@correct(ex.check_conv_forward)
def conv_fwd_fft(x, w, b, stride, pad):
    xp = pad4(x, pad)
    _, hp, wp, _ = xp.shape
    kh, kw = w.shape[:2]
    fx = np.fft.rfft2(xp, axes=(1, 2))
    fw = np.fft.rfft2(w[::-1, ::-1], s=(hp, wp), axes=(0, 1))  # correlation = conv with flipped w
    full = np.fft.irfft2(np.einsum("nhwc,hwcf->nhwf", fx, fw), s=(hp, wp), axes=(1, 2))
    return full[:, kh - 1 :: stride, kw - 1 :: stride] + b


@correct(ex.check_conv_forward)
def conv_fwd_im2col(x, w, b, stride, pad):
    xp = pad4(x, pad)
    n, hp, wp, c = xp.shape
    kh, kw, _, f = w.shape
    oh, ow = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    cols = np.empty((n, oh, ow, kh, kw, c))
    for u in range(kh):
        for v in range(kw):
            cols[:, :, :, u, v, :] = xp[
                :, u : u + stride * oh : stride, v : v + stride * ow : stride
            ]
    return (cols.reshape(n * oh * ow, -1) @ w.reshape(-1, f) + b).reshape(n, oh, ow, f)


@correct(ex.check_conv_forward)
def conv_fwd_list_and_kwargs(x, w, b, stride, pad, *, dilation=1, verbose=False):
    return conv_fwd(x, w, b, stride, pad).tolist()


@bug(ex.check_conv_forward, "cross-correlation", 1)
def conv_fwd_flipped(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, flip=True)


@bug(ex.check_conv_forward, "bias is missing", 1)
def conv_fwd_no_bias(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, bias=False)


@bug(ex.check_conv_forward, r"stride is ignored.*\(i\*2, j\*2\)", 10)
def conv_fwd_first_windows(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, use_stride=False)


@bug(ex.check_conv_forward, "only the last input channel", 3)
def conv_fwd_channel_overwritten(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, channels="last")


@bug(ex.check_conv_forward, "uses filter 0", 4)
def conv_fwd_filter0(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, filt="first")


@bug(ex.check_conv_forward, r"adds b\[0\]", 4)
def conv_fwd_bias0(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, bias=False) + b[0]


@bug(ex.check_conv_forward, r"first image x\[0\]", 6)
def conv_fwd_first_image(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, images="first")


@bug(ex.check_conv_forward, r"OH = \(H \+ 2\*pad - KH\) // stride \+ 1 = 5", 8)
def conv_fwd_pad_ignored(x, w, b, s, p):
    return conv_fwd(x, w, b, s, 0)


@bug(ex.check_conv_forward, "pad the input with zeros first", 8)
def conv_fwd_pad_with_ones(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, fill=1.0)


@bug(ex.check_conv_forward, r"raised ValueError(?s:.*)rows go with H, KH and OH", 2)
def conv_fwd_size_axes_swapped(x, w, b, s, p):
    xp = pad4(x, p)
    kh, kw, _, f = w.shape
    oh, ow = (xp.shape[1] - kw) // s + 1, (xp.shape[2] - kh) // s + 1  # KW for rows, KH for columns
    out = np.zeros((x.shape[0], oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * s : i * s + kh, j * s : j * s + kw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2])) + b
    return out


@bug(ex.check_conv_forward, "your result out is float32", 1)
def conv_fwd_float32(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p, dtype=np.float32)


@bug(ex.check_conv_forward, r"(?s)\(out, cache\).*return out alone", 1)
def conv_fwd_returns_cache(x, w, b, s, p):
    return conv_fwd(x, w, b, s, p), (x, w, b, s, p)


@bug(ex.check_conv_forward, r"complex.*\.real", 1)
def conv_fwd_fft_complex(x, w, b, s, p):
    return conv_fwd_fft(x, w, b, s, p) + 0j


@bug(ex.check_conv_forward, r"raised IndexError.*\n.*line \d+ of conv_fwd_index_error", 8)
def conv_fwd_index_error(x, w, b, s, p):
    if p:
        raise IndexError("index 7 is out of bounds for axis 1 with size 7")
    return conv_fwd(x, w, b, s, p)


@bug(
    ex.check_conv_forward, r"returned None instead of out\n  hint: is the function still a stub", 1
)
def conv_fwd_stub(x, w, b, s, p): ...


@bug(ex.check_conv_forward, "modified x in place", 1)
def conv_fwd_centres_x_in_place(x, w, b, s, p):
    out = conv_fwd(x, w, b, s, p)
    x -= x.mean()  # "normalise" the input afterwards, on the caller's array
    return out


@bug(
    ex.check_conv_forward,
    r"hint: filter f \(w\[\.\.\., f\]\) and b\[f\] produce output channel f",
    4,
)
def conv_fwd_filters_reversed(x, w, b, s, p):
    return conv_fwd(x, w[..., ::-1], b, s, p)  # the filter loop counts down, the bias up


@bug(ex.check_conv_forward, "hint: every image of the batch is convolved on its own", 6)
def conv_fwd_images_reversed(x, w, b, s, p):
    return conv_fwd(x[::-1], w, b, s, p)


# =========================================================================== conv backward


def conv_bwd(dout, x, w, stride, pad, *, bug=None):
    """The scatter loop; ``bug`` names one classic mistake."""
    xp = pad4(x, pad)
    n, h, wd, _ = x.shape
    kh, kw, _, f = w.shape
    _, oh, ow, _ = dout.shape
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(oh):
        for j in range(ow):
            r, c = (i, j) if bug == "stride_dx" else (i * stride, j * stride)
            g = dout[:, i, j, :]
            wk = w[::-1, ::-1] if bug == "flip_dx" else w
            term = np.einsum("uvcf,nf->nuvc", wk, g)
            if bug == "dx_last_filter":
                term = np.einsum("uvc,n->nuvc", w[..., -1], g[:, -1])
            dxp[:, r : r + kh, c : c + kw, :] += term
            r, c = (i, j) if bug == "undilated_dw" else (i * stride, j * stride)
            patch = xp[:, r : r + kh, c : c + kw, :]
            if bug == "dw_overwrite":
                dw = np.einsum("nuvc,nf->uvcf", patch, g)
            else:
                dw += np.einsum("nuvc,nf->uvcf", patch, g)
    db = dout.sum(axis=(0, 1, 2))
    dx = dxp[:, pad : pad + h, pad : pad + wd, :]
    if bug == "no_crop":
        dx = dxp
    elif bug == "minus_crop":
        dx = dxp[:, pad:-pad, pad:-pad, :]
    elif bug == "crop_one_side":
        dx = dxp[:, :h, :wd, :]
    return dx, dw, db


def conv_bwd_per_image(dout, x, w, stride, pad, *, bug=None):
    dx = np.zeros_like(x)
    dw, db = np.zeros_like(w), np.zeros(w.shape[3])
    for k in range(x.shape[0]):
        dxk, dwk, dbk = conv_bwd(dout[k : k + 1], x[k : k + 1], w, stride, pad)
        dx[k] = dxk[0]
        if bug == "dw_last_image":
            dw, db = dwk, db + dbk
        else:
            dw, db = dw + dwk, db + dbk
    if bug == "dw_mean":
        dw = dw / x.shape[0]
    return dx, dw, db


@correct(ex.check_conv_backward)
def conv_bwd_scatter(dout, x, w, stride, pad):
    return conv_bwd(dout, x, w, stride, pad)


@correct(ex.check_conv_backward)
def conv_bwd_dilate_einsum(dout, x, w, stride, pad):
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    xp = pad4(x, pad)
    dy = np.zeros((n, xp.shape[1] - kh + 1, xp.shape[2] - kw + 1, f))
    dy[:, ::stride, ::stride, :] = dout
    dw = np.einsum("nuvcij,nijf->uvcf", sliding_window_view(xp, dy.shape[1:3], axis=(1, 2)), dy)
    full = np.pad(dy, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    dxp = np.einsum(
        "nabfuv,uvcf->nabc", sliding_window_view(full, (kh, kw), axis=(1, 2)), w[::-1, ::-1]
    )
    return dxp[:, pad : pad + h, pad : pad + wd, :], dw, dout.sum(axis=(0, 1, 2))


@correct(ex.check_conv_backward)
def conv_bwd_im2col_add_at(dout, x, w, stride, pad):
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    xp = pad4(x, pad)
    _, oh, ow, _ = dout.shape
    ii = (np.arange(oh) * stride)[:, None, None, None] + np.arange(kh)[None, None, :, None]
    jj = (np.arange(ow) * stride)[None, :, None, None] + np.arange(kw)[None, None, None, :]
    ii, jj = np.broadcast_arrays(ii, jj)  # (OH, OW, KH, KW)
    cols = xp[:, ii, jj, :]  # (N, OH, OW, KH, KW, C)
    g = dout.reshape(-1, f)
    dw = (cols.reshape(g.shape[0], -1).T @ g).reshape(w.shape)
    dcols = (g @ w.reshape(-1, f).T).reshape(cols.shape)
    dxp = np.zeros_like(xp)
    np.add.at(dxp, (slice(None), ii, jj, slice(None)), dcols)
    return [dxp[:, pad : pad + h, pad : pad + wd, :], dw, list(dout.sum(axis=(0, 1, 2)))]


@correct(ex.check_conv_backward)
def conv_bwd_per_image_loop(dout, x, w, stride, pad, *, debug=False):
    return conv_bwd_per_image(dout, x, w, stride, pad)


for _name, _kind, _hint, _case in [
    ("stride_dx", "stride_dx", "use the stride when scattering", 10),
    ("undilated_dw", "undilated_dw", "DILATED by the stride", 10),
    ("no_crop", "no_crop", "still includes the padding", 8),
    ("minus_crop", "minus_crop", r"a\[p:-p\] with p = 0", 1),
    ("crop_one_side", "crop_one_side", "cropped from one side only", 8),
    ("flip_dx", "flip_dx", "rotated by 180 degrees", 1),
    ("dw_overwrite", "dw_overwrite", "last output pixel", 1),
    ("dx_last_filter", "dx_last_filter", "last filter's term", 4),
]:

    def _make(kind=_kind):
        def fn(dout, x, w, stride, pad):
            return conv_bwd(dout, x, w, stride, pad, bug=kind)

        fn.__name__ = f"conv_bwd_{kind}"
        return fn

    bug(ex.check_conv_backward, _hint, _case)(_make())


@bug(ex.check_conv_backward, r"hint: dw\[:, :, c, f\] pairs input channel c of x", 3)
def conv_bwd_dw_channels_reversed(dout, x, w, s, p):
    dx, dw, db = conv_bwd(dout, x, w, s, p)
    return dx, dw[:, :, ::-1, :], db


@bug(ex.check_conv_backward, r"hint: dx\[n\] depends on dout\[n\] and x\[n\] only", 6)
def conv_bwd_dx_images_reversed(dout, x, w, s, p):
    dx, dw, db = conv_bwd(dout, x, w, s, p)
    return dx[::-1], dw, db


@bug(ex.check_conv_backward, "dw comes from the last image only", 6)
def conv_bwd_dw_last_image(dout, x, w, s, p):
    return conv_bwd_per_image(dout, x, w, s, p, bug="dw_last_image")


@bug(ex.check_conv_backward, r"dw is the right answer times 0\.333333 \(= 1/N\)", 6)
def conv_bwd_dw_mean(dout, x, w, s, p):
    return conv_bwd_per_image(dout, x, w, s, p, bug="dw_mean")


@bug(ex.check_conv_backward, r"db is the right answer times .* \(= 1/N\*OH\*OW\)", 1)
def conv_bwd_db_mean(dout, x, w, s, p):
    dx, dw, _ = conv_bwd(dout, x, w, s, p)
    return dx, dw, dout.mean(axis=(0, 1, 2))


@bug(ex.check_conv_backward, r"db comes from the first image only", 6)
def conv_bwd_db_first_image(dout, x, w, s, p):
    dx, dw, _ = conv_bwd(dout, x, w, s, p)
    return dx, dw, dout[0].sum(axis=(0, 1))


@bug(ex.check_conv_backward, "one entry per filter", 1)
def conv_bwd_db_keepdims(dout, x, w, s, p):
    dx, dw, _ = conv_bwd(dout, x, w, s, p)
    return dx, dw, dout.sum(axis=(0, 1, 2), keepdims=True)


@bug(ex.check_conv_backward, r"kernel's shape \(KH, KW, C, F\)", 1)
def conv_bwd_dw_transposed(dout, x, w, s, p):
    dx, dw, db = conv_bwd(dout, x, w, s, p)
    return dx, dw.transpose(3, 2, 0, 1), db


@bug(ex.check_conv_backward, r"modified x in place.*\n.*dx shares memory with x", 1)
def conv_bwd_dx_in_x_buffer(dout, x, w, s, p):
    dx, dw, db = conv_bwd(dout, x, w, s, p)
    x[...] = dx  # reuse the caller's buffer for dx
    return x, dw, db


@bug(ex.check_conv_backward, "modified dout in place", 1)
def conv_bwd_relu_on_dout(dout, x, w, s, p):
    dout[dout < 0] = 0  # the ReLU's mask applied to the caller's dout
    return conv_bwd(dout, x, w, s, p)


@bug(ex.check_conv_backward, "your result dw is float32", 1)
def conv_bwd_dw_float32(dout, x, w, s, p):
    dx, dw, db = conv_bwd(dout, x, w, s, p)
    return dx, dw.astype(np.float32), db


@bug(ex.check_conv_backward, r"raised AssertionError: stride 1 only", 10)
def conv_bwd_asserts_stride1(dout, x, w, s, p):
    assert s == 1, "stride 1 only"
    return conv_bwd(dout, x, w, s, p)


@bug(ex.check_conv_backward, r"return the tuple \(dx, dw, db\); you returned a tuple of 2", 1)
def conv_bwd_forgets_db(dout, x, w, s, p):
    return conv_bwd(dout, x, w, s, p)[:2]


# =========================================================================== max pool forward


def pool_fwd(x, pool, stride, pad, *, fill=-np.inf, reduce=np.max, window=None, step=None):
    xp = pad4(x, pad, fill)
    k = window or pool
    st = step or stride
    oh = (xp.shape[1] - pool) // stride + 1
    ow = (xp.shape[2] - pool) // stride + 1
    out = np.empty((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j, :] = reduce(
                xp[:, i * st : i * st + k, j * st : j * st + k, :], axis=(1, 2)
            )
    return out


@correct(ex.check_maxpool_forward)
def pool_fwd_loops(x, pool, stride, pad):
    return pool_fwd(x, pool, stride, pad)


@correct(ex.check_maxpool_forward)
def pool_fwd_windows(x, pool, stride, pad):
    win = sliding_window_view(pad4(x, pad, -np.inf), (pool, pool), axis=(1, 2))
    return win[:, ::stride, ::stride].max(axis=(-2, -1))


@bug(ex.check_maxpool_forward, "you padded with zeros", 6)
def pool_fwd_zero_pad(x, k, s, p):
    return pool_fwd(x, k, s, p, fill=0.0)


@bug(ex.check_maxpool_forward, "AVERAGE", 1)
def pool_fwd_average(x, k, s, p):
    return pool_fwd(x, k, s, p, reduce=np.mean, fill=0.0)


@bug(ex.check_maxpool_forward, "MINIMUM", 1)
def pool_fwd_min(x, k, s, p):
    return pool_fwd(x, k, s, p, fill=np.inf, reduce=np.min)


@bug(ex.check_maxpool_forward, r"stride is ignored.*\(i\*2, j\*2\)", 1)
def pool_fwd_no_stride(x, k, s, p):
    return pool_fwd(x, k, s, p, step=1)


@bug(ex.check_maxpool_forward, r"stride x stride \(1x1\)", 4)
def pool_fwd_window_is_stride(x, k, s, p):
    return pool_fwd(x, k, s, p, window=s)


@bug(ex.check_maxpool_forward, "the channels stay", 1)
def pool_fwd_max_over_channels(x, k, s, p):
    return pool_fwd(x, k, s, p)[..., 0]


@bug(ex.check_maxpool_forward, r"OH = \(H \+ 2\*pad - pool\) // stride \+ 1", 5)
def pool_fwd_ceil_size(x, k, s, p):
    xp = pad4(x, p, -np.inf)
    oh = -(-(xp.shape[1] - k) // s) + 1  # ceil: a partial window at the end
    ow = -(-(xp.shape[2] - k) // s) + 1
    out = np.empty((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j, :] = xp[:, i * s : i * s + k, j * s : j * s + k, :].max(axis=(1, 2))
    return out


@bug(ex.check_maxpool_forward, "integers cannot hold the answer", 1)
def pool_fwd_int_output(x, k, s, p):
    return pool_fwd(x, k, s, p).astype(int)


@bug(ex.check_maxpool_forward, r"\(out, cache\)", 1)
def pool_fwd_with_cache(x, k, s, p):
    return pool_fwd(x, k, s, p), {"x": x}


# =========================================================================== max pool backward


def pool_bwd(dout, x, pool, stride, *, mode="max", tie="first"):
    n, h, wd, c = x.shape
    _, oh, ow, _ = dout.shape
    dx = np.zeros_like(x)
    for i in range(oh):
        for j in range(ow):
            r, q = (i, j) if mode == "nostride" else (i * stride, j * stride)
            win = x[:, r : r + pool, q : q + pool, :].reshape(n, -1, c)
            k = (
                win.argmax(axis=1)
                if tie == "first"
                else pool * pool - 1 - win[:, ::-1].argmax(axis=1)
            )
            mask = np.zeros_like(win)
            np.put_along_axis(mask, k[:, None, :], 1.0, axis=1)
            if mode == "all_ties":
                mask = (win == win.max(axis=1, keepdims=True)).astype(float)
            if mode == "first_element":
                mask = np.zeros_like(win)
                mask[:, 0, :] = 1.0
            mask = mask.reshape(n, pool, pool, c)
            g = dout[:, i : i + 1, j : j + 1, :]
            if mode == "overwrite":
                dx[:, r : r + pool, q : q + pool, :] = mask * g
            elif mode == "average":
                dx[:, r : r + pool, q : q + pool, :] += g / pool**2
            elif mode == "mask":
                dx[:, r : r + pool, q : q + pool, :] += mask
            else:
                dx[:, r : r + pool, q : q + pool, :] += mask * g
    return dx


@correct(ex.check_maxpool_backward)
def pool_bwd_first_tie(dout, x, pool, stride):
    return pool_bwd(dout, x, pool, stride)


@correct(ex.check_maxpool_backward)
def pool_bwd_last_tie(dout, x, pool, stride):
    return pool_bwd(dout, x, pool, stride, tie="last")


@correct(ex.check_maxpool_backward)
def pool_bwd_add_at(dout, x, pool, stride):
    n, _, _, c = x.shape
    _, oh, ow, _ = dout.shape
    dx = np.zeros_like(x)
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for i in range(oh):
        for j in range(ow):
            k = x[:, i * stride : i * stride + pool, j * stride : j * stride + pool].reshape(
                n, -1, c
            )
            u, v = np.divmod(k.argmax(axis=1), pool)
            np.add.at(dx, (nn, i * stride + u, j * stride + v, cc), dout[:, i, j, :])
    return dx


@correct(ex.check_maxpool_backward)
def pool_bwd_split_ties(dout, x, pool, stride):
    n, _, _, c = x.shape
    _, oh, ow, _ = dout.shape
    dx = np.zeros_like(x)
    for i in range(oh):
        for j in range(ow):
            sl = (
                slice(None),
                slice(i * stride, i * stride + pool),
                slice(j * stride, j * stride + pool),
            )
            win = x[sl]
            mask = win == win.max(axis=(1, 2), keepdims=True)
            dx[sl] += mask / mask.sum(axis=(1, 2), keepdims=True) * dout[:, i : i + 1, j : j + 1]
    return dx


@bug(ex.check_maxpool_backward, "FULL gradient to every tied maximum", 5)
def pool_bwd_all_ties(dout, x, k, s):
    return pool_bwd(dout, x, k, s, mode="all_ties")


@bug(ex.check_maxpool_backward, "SUM of both gradients", 4)
def pool_bwd_overwrite(dout, x, k, s):
    return pool_bwd(dout, x, k, s, mode="overwrite")


@bug(ex.check_maxpool_backward, "spread dout evenly over the window", 1)
def pool_bwd_average(dout, x, k, s):
    return pool_bwd(dout, x, k, s, mode="average")


@bug(ex.check_maxpool_backward, "multiply it by the window's dout", 1)
def pool_bwd_mask_only(dout, x, k, s):
    return pool_bwd(dout, x, k, s, mode="mask")


@bug(ex.check_maxpool_backward, r"stride is ignored.*\(i\*2, j\*2\)", 1)
def pool_bwd_no_stride(dout, x, k, s):
    return pool_bwd(dout, x, k, s, mode="nostride")


@bug(ex.check_maxpool_backward, "position of its maximum", 1)
def pool_bwd_top_left(dout, x, k, s):
    return pool_bwd(dout, x, k, s, mode="first_element")


@bug(ex.check_maxpool_backward, "modified x in place", 1)
def pool_bwd_shifts_window_in_place(dout, x, k, s):
    n, _, _, c = x.shape
    _, oh, ow, _ = dout.shape
    dx = np.zeros_like(x)
    for i in range(oh):
        for j in range(ow):
            win = x[:, i * s : i * s + k, j * s : j * s + k, :]  # a view of the caller's x
            win -= win.max(axis=(1, 2), keepdims=True)  # the max becomes 0 ... in x itself
            dx[:, i * s : i * s + k, j * s : j * s + k, :] += (win == 0) * dout[
                :, i : i + 1, j : j + 1
            ]
    return dx


@bug(ex.check_maxpool_backward, "your result dx is float32", 1)
def pool_bwd_float32(dout, x, k, s):
    return pool_bwd(dout, x, k, s).astype(np.float32)


@bug(ex.check_maxpool_backward, r"window \(\d+, \d+\) of image \d, channel \d sends", 5)
def pool_bwd_tie_to_neighbour(dout, x, k, s):
    dx = pool_bwd(dout, x, k, s)
    ties = x == 0  # in the tie case x holds 0s and 1s: send a bit to a non-maximum
    return dx + 0.5 * ties * (x.max() == 1)


# =========================================================================== the tests


def test_the_gallery_is_large_enough():
    assert len(BUGS) >= 50, len(BUGS)  # with the training gallery: over 100
    assert len({name for name, *_ in BUGS}) == len(BUGS)
    assert len(CORRECT) >= 10


@pytest.mark.parametrize("name, checker, fn", CORRECT, ids=[c[0] for c in CORRECT])
def test_correct_alternative_passes(name, checker, fn):
    gallery.assert_passes(checker, fn)


@pytest.mark.parametrize(
    "name, checker, fn, hint, case", BUGS, ids=[b[0] for b in BUGS]
)  # fmt: skip
def test_bug_is_caught_and_named(name, checker, fn, hint, case):
    gallery.assert_caught_and_named(checker, fn, hint, case)
