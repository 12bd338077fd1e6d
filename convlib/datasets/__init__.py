"""Data: MNIST and Fashion-MNIST (find, download, verify, parse) and model inputs.

Usage (``x_train`` is uint8 ``(60000, 28, 28)``, ``y_train`` uint8 ``(60000,)``)::

    from convlib.datasets import load_mnist, to_float_nhwc, prepare_images, one_hot
    (x_train, y_train), (x_test, y_test) = load_mnist()
    x = to_float_nhwc(x_train)        # float32 (60000, 28, 28, 1) in [0, 1]
    x = prepare_images(x_train)       # the same, standardised with MNIST's mean and std
    t = one_hot(y_train)              # float32 (60000, 10)

Every name below is importable from ``convlib.datasets``; the modules hold:

=============================================  ==========================================
:mod:`~convlib.datasets.idx`                   the IDX file format: :func:`read_idx`
:mod:`~convlib.datasets.checksums`             checking files against known digests
:mod:`~convlib.datasets.locate`                where files are looked for: :func:`user_cache_dir`
:mod:`~convlib.datasets.download`              downloads through pooch: mirrors, retries
:mod:`~convlib.datasets.mnist`                 the two data sets: :func:`load_mnist`, ...
:mod:`~convlib.datasets.preprocessing`         one normaliser: :func:`to_float_nhwc`, :func:`prepare_images`
:mod:`~convlib.datasets.synthetic`             generated stand-in data: :func:`synthetic_digits`
=============================================  ==========================================

Both data sets ship as four files in the IDX format of LeCun et al.:
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, usually gzipped
(``.gz``). This package parses them itself with NumPy; downloads go through
`pooch <https://www.fatiando.org/pooch>`_ (imported only when a download or
the per-user cache is needed: loading from ``root=`` or ``$CONVLIB_DATA``
never imports it), with a tqdm progress bar.

Where the files are looked for
------------------------------
Each time in a sub-folder named after the data set (``mnist/`` or
``fashion-mnist/``):

* the ``root=`` argument (``--data-dir`` of ``python -m convlib.train``), if
  given, is searched **alone**: you asked for that folder, so a file missing
  there is downloaded into it (``download=True``) or is an error listing it
  -- never taken from ``$CONVLIB_DATA`` or the cache;
* otherwise, in this order:

  1. the folder named by the environment variable ``CONVLIB_DATA``, if set
     (so ``CONVLIB_DATA=/data`` finds ``/data/mnist/``; a variable naming a
     file instead of a folder is an error);
  2. the per-user cache, :func:`user_cache_dir`, which is
     ``pooch.os_cache("convlib")``: ``$XDG_CACHE_HOME/convlib`` or
     ``~/.cache/convlib`` on Linux, ``~/Library/Caches/convlib`` on macOS,
     a ``convlib`` folder under ``%LOCALAPPDATA%`` on Windows.

Every file is resolved on its own: the first location holding a *valid* copy
wins, ``name.gz`` before the uncompressed ``name`` in the same folder.
Reading never writes anything, so a read-only folder (a shared copy, a CI
cache) is fine as long as its files are valid.

Verification
------------
A ``.gz`` file is used only if its checksums match the table below
(:data:`MNIST_CHECKSUMS`, :data:`FASHION_MNIST_CHECKSUMS`): SHA-256 and MD5
for MNIST; for Fashion-MNIST the MD5 values published by Zalando Research in
the ``zalandoresearch/fashion-mnist`` README, plus SHA-256 values recorded by
two independent open-source loaders that agree with each other (and whose
MNIST values agree with ours). All digests listed for a file must match.
The tables also give the SHA-256 of each *uncompressed* file: for MNIST that
of the decompressed verified archive; for Fashion-MNIST that given for the
IDX files of Debian's package ``dataset-fashion-mnist``. An uncompressed
file is checked against it, and so is the decompressed content of a ``.gz``
file whose own digests do not match: a copy that someone re-compressed (as
Debian did Fashion-MNIST, so its ``.gz`` digests differ from Zalando's)
holds the same data and is accepted. Downloads are verified by the ``.gz``
digests only. Decompression for this check is bounded like reading (below).
Hashing 11 MB takes a few tens of milliseconds, decompressing and hashing
Fashion-MNIST's training images a few tenths of a second; either is done once
per process per file: a check's result is remembered under the file's
``(path, device, inode, size, mtime)``, so repeated loads only re-parse.
(Rewriting a file in place within the file system's timestamp resolution,
with the same size, would not be noticed; replacing it, as downloads here do,
always is.)

A file that fails verification is never used. It is skipped with a
:class:`DatasetWarning`; the search goes on, and if no valid copy exists the
file is downloaded (``download=True``) into the first *writable* location of
the list above (into ``root`` only, when it is given) -- which replaces the
bad copy when that one is writable.
A folder without any write bit is treated as read-only even for root, so the
loader never writes into a shared copy meant to stay as it is. When nothing
is writable, or downloading is off, :class:`DatasetNotFoundError` says
which file was wanted, every place looked at and what was wrong there, which
mirrors failed and why, and how to provide the files by hand.

Downloads
---------
Each file is fetched with :func:`pooch.retrieve` (:mod:`~convlib.datasets.download`):
pooch streams it into a temporary file in the destination folder, checks its
SHA-256 and only then moves it into place, so an interrupted download never
leaves a file that looks complete; convlib checks the other digests of the
table (MD5) before that move. pooch has no list of mirrors, so convlib tries
the mirrors (:data:`MNIST_MIRRORS`, :data:`FASHION_MNIST_MIRRORS`) in order,
one pooch download each, with a timeout and retries with exponential
back-off for transient failures (timeouts, dropped or truncated connections,
HTTP 5xx/429); a 404 or a checksum mismatch moves on to the next mirror at
once. Downloaded files get the mode the umask gives a new file (``0o644``
under the usual ``022``), so a shared data folder stays readable by all. A
gzipped file is never decompressed beyond the size its IDX header declares,
so a corrupt or hostile file cannot exhaust memory. A tqdm progress bar is
shown on standard error unless ``quiet=True``.

Data, citation and licences
---------------------------
MNIST: Y. LeCun, C. Cortes and C. J. C. Burges, *The MNIST database of
handwritten digits*, http://yann.lecun.com/exdb/mnist/; introduced in
Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning
applied to document recognition", *Proceedings of the IEEE* 86(11),
2278-2324, 1998. Licensed CC BY-SA 3.0 (Yann LeCun and Corinna Cortes).

Fashion-MNIST: H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a novel
image dataset for benchmarking machine learning algorithms",
arXiv:1708.07747, 2017, https://github.com/zalandoresearch/fashion-mnist.
MIT licence, copyright (c) 2017 Zalando SE.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from . import download, mnist

# Constants importable from convlib.datasets before it became a package.
from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXFormatError, read_idx  # noqa: F401
from .locate import (
    ENV_VAR,  # noqa: F401
    user_cache_dir,
)
from .mnist import (  # noqa: F401
    FASHION_MNIST_CLASSES,
    FILE_NAMES,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    DatasetNotFoundError,
    DatasetWarning,
    candidate_dirs,
    fetch_files,
    load_fashion_mnist,
    load_mnist,
)
from .preprocessing import (
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    MNIST_MEAN,
    MNIST_STD,
    one_hot,
    prepare_images,
    random_flip,
    random_shift,
    to_float_nhwc,
)
from .synthetic import synthetic_digits

__all__ = [
    "DatasetNotFoundError",
    "DatasetWarning",
    "FASHION_MNIST_CHECKSUMS",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_MIRRORS",
    "FASHION_MNIST_STD",
    "IDXFormatError",
    "MNIST_CHECKSUMS",
    "MNIST_MEAN",
    "MNIST_MIRRORS",
    "MNIST_STD",
    "candidate_dirs",
    "fetch_files",
    "load_fashion_mnist",
    "load_mnist",
    "one_hot",
    "prepare_images",
    "random_flip",
    "random_shift",
    "read_idx",
    "synthetic_digits",
    "to_float_nhwc",
    "user_cache_dir",
]

# The defaults the loaders read at call time (mirrors, digests, timeout,
# retries) each live in one module. Before the split they were attributes of
# the single module ``convlib.datasets``, and assigning one there, e.g.
# ``convlib.datasets.MNIST_MIRRORS = ("file:///data/",)``, changed what the
# loaders use; it still does. They are not copied into this namespace:
# each is a property of the package's module type that reads and assigns the
# value in its home module, so there is one value, not two that could
# disagree.
_SETTINGS: dict[str, types.ModuleType] = {
    "MNIST_MIRRORS": mnist,
    "FASHION_MNIST_MIRRORS": mnist,
    "MNIST_CHECKSUMS": mnist,
    "FASHION_MNIST_CHECKSUMS": mnist,
    "DOWNLOAD_TIMEOUT": download,
    "DOWNLOAD_RETRIES": download,
    "RETRY_BACKOFF": download,
}


def _setting(name: str, home: types.ModuleType) -> property:
    def get(self: types.ModuleType) -> Any:
        return getattr(home, name)

    def set_(self: types.ModuleType, value: Any) -> None:
        setattr(home, name, value)

    return property(get, set_, doc=f"``{home.__name__}.{name}`` (read and assigned there).")


_Package = type(
    "_Package",
    (types.ModuleType,),
    {
        "__doc__": "The module type of ``convlib.datasets``: the settings are properties.",
        **{name: _setting(name, home) for name, home in _SETTINGS.items()},
    },
)
sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SETTINGS))
