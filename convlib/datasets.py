"""MNIST and Fashion-MNIST: find, download, verify and parse the IDX files.

Usage (``x_train`` is uint8 ``(60000, 28, 28)``, ``y_train`` uint8 ``(60000,)``)::

    from convlib.datasets import load_mnist, to_float_nhwc, one_hot
    (x_train, y_train), (x_test, y_test) = load_mnist()
    x = to_float_nhwc(x_train)        # float32 (60000, 28, 28, 1) in [0, 1]
    t = one_hot(y_train)              # float32 (60000, 10)

Both data sets ship as four files in the IDX format of LeCun et al.:
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, usually gzipped
(``.gz``). This module parses them itself with NumPy; nothing beyond the
standard library, NumPy and (for the progress bar) tqdm is used.

Where the files are looked for
------------------------------
In this order, each time in a sub-folder named after the data set
(``mnist/`` or ``fashion-mnist/``):

1. the ``root=`` argument, if given;
2. the folder named by the environment variable ``CONVLIB_DATA``, if set
   (so ``CONVLIB_DATA=/data`` finds ``/data/mnist/``);
3. the per-user cache, :func:`user_cache_dir`: ``$XDG_CACHE_HOME/convlib``
   or ``~/.cache/convlib`` (``%LOCALAPPDATA%\\convlib`` on Windows).

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
MNIST values agree with ours). All digests listed for a file must match. An
uncompressed MNIST file is checked against the SHA-256 of the decompressed
verified archive; an uncompressed Fashion-MNIST file, for which no checksum
is published, only gets the structural checks (header, sizes) -- prefer the
``.gz`` files. Hashing 11 MB takes a few tens of milliseconds and is done
once per process per file: a successful check is remembered under the file's
``(path, device, inode, size, mtime)``, so repeated loads only re-parse.
(Rewriting a file in place within the file system's timestamp resolution,
with the same size, would not be noticed; replacing it, as downloads here do,
always is.)

A file that fails verification is never used. It is skipped with a
:class:`DatasetWarning`; the search goes on, and if no valid copy exists the
file is downloaded (``download=True``) into the first *writable* location of
the list above -- which replaces the bad copy when that one is writable.
A folder without any write bit is treated as read-only even for root, so the
loader never writes into a shared copy meant to stay as it is. When nothing
is writable, or downloading is off, :class:`DatasetNotFoundError` says
which file was wanted, every place looked at and what was wrong there, which
mirrors failed and why, and how to provide the files by hand.

Downloads
---------
The mirrors (:data:`MNIST_MIRRORS`, :data:`FASHION_MNIST_MIRRORS`) are tried
in order, with ``urllib`` from the standard library, a timeout, and retries
with exponential back-off for transient failures (timeouts, dropped or
truncated connections, HTTP 5xx/429). A 404 or a checksum mismatch moves on
to the next mirror at once. Each file is streamed into a temporary file in
the destination folder, verified, and only then renamed into place with
:func:`os.replace`, so an interrupted download never leaves a file that looks
complete. A tqdm progress bar is shown on standard error unless
``quiet=True``.

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

import gzip
import hashlib
import http.client
import math
import os
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from ._checks import as_int, as_numeric_array

__all__ = [
    "DatasetNotFoundError",
    "DatasetWarning",
    "FASHION_MNIST_CHECKSUMS",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_MIRRORS",
    "IDXFormatError",
    "MNIST_CHECKSUMS",
    "MNIST_MIRRORS",
    "candidate_dirs",
    "fetch_files",
    "load_fashion_mnist",
    "load_mnist",
    "one_hot",
    "read_idx",
    "to_float_nhwc",
    "user_cache_dir",
]

PathLike = Union[str, "os.PathLike[str]"]
Split = tuple[np.ndarray, np.ndarray]

#: Environment variable naming a folder that holds ``mnist/`` and/or ``fashion-mnist/``.
ENV_VAR = "CONVLIB_DATA"

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
#: The four files of each data set, without the ``.gz`` suffix.
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)

#: Base URLs tried in order; the file name is appended.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
FASHION_MNIST_MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)

#: Digests of the MNIST files. The ``.gz`` values are those of the canonical
#: archives (SHA-256 and MD5); the uncompressed values are the SHA-256 of the
#: decompressed verified archives.
MNIST_CHECKSUMS: dict[str, dict[str, str]] = {
    "train-images-idx3-ubyte.gz": {
        "sha256": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "md5": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    },
    "train-labels-idx1-ubyte.gz": {
        "sha256": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "md5": "d53e105ee54ea40749a09fcbcd1e9432",
    },
    "t10k-images-idx3-ubyte.gz": {
        "sha256": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "md5": "9fb629c4189551a2d022fa330f9573f3",
    },
    "t10k-labels-idx1-ubyte.gz": {
        "sha256": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "md5": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "train-images-idx3-ubyte": {
        "sha256": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    "train-labels-idx1-ubyte": {
        "sha256": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    "t10k-images-idx3-ubyte": {
        "sha256": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    "t10k-labels-idx1-ubyte": {
        "sha256": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
}

#: Digests of the Fashion-MNIST archives. MD5: as published by Zalando
#: Research (README of zalandoresearch/fashion-mnist). SHA-256: as recorded
#: independently by two other loaders, which agree.
FASHION_MNIST_CHECKSUMS: dict[str, dict[str, str]] = {
    "train-images-idx3-ubyte.gz": {
        "md5": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "sha256": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    },
    "train-labels-idx1-ubyte.gz": {
        "md5": "25c81989df183df01b3e8a0aad5dffbe",
        "sha256": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    },
    "t10k-images-idx3-ubyte.gz": {
        "md5": "bef4ecab320f06d8554ea6380940ec79",
        "sha256": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
    },
    "t10k-labels-idx1-ubyte.gz": {
        "md5": "bb300cfdad3c16e7a12a480ee83cd310",
        "sha256": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
}

#: Names of the ten Fashion-MNIST classes, indexed by label.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: Seconds to wait for a mirror to answer (per socket operation).
DOWNLOAD_TIMEOUT = 30.0
#: Extra attempts per mirror after a transient failure.
DOWNLOAD_RETRIES = 2
#: Seconds before the first retry; doubled for each further one.
RETRY_BACKOFF = 1.0

_CHUNK = 1 << 16
_USER_AGENT = "convlib-datasets/0.1 (Python urllib)"

# IDX type codes (third byte of the magic number) -> big-endian dtype.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# (abspath, dev, inode, size, mtime_ns, expected digests) -> (ok, reason)
_VERIFIED: dict[tuple[Any, ...], tuple[bool, str]] = {}


class DatasetNotFoundError(FileNotFoundError):
    """No valid copy of a data-set file could be found or downloaded.

    The message lists every place looked at (and what was wrong there),
    every mirror tried (and why it failed) and how to provide the files.

    Attributes
    ----------
    file_name : str
        The file that was wanted, e.g. ``"train-images-idx3-ubyte.gz"``.
    looked : list of str
        One line per location searched.
    failures : list of str
        One line per failed download attempt (empty if none was made).
    """

    def __init__(
        self, message: str, file_name: str = "", looked: Sequence[str] = (), failures: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.file_name = file_name
        self.looked = list(looked)
        self.failures = list(failures)


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file of the expected kind.

    The message starts with the file's path.
    """


class DatasetWarning(UserWarning):
    """A data-set file on disk failed verification and is being ignored."""


# ---------------------------------------------------------------------------
# IDX parsing
# ---------------------------------------------------------------------------


def _magic_meaning(magic: int) -> str:
    if magic == IMAGES_MAGIC:
        return "images"
    if magic == LABELS_MAGIC:
        return "labels"
    return "IDX"


def _parse_idx(buf: bytes, path: Path, expected_magic: int | None) -> np.ndarray:
    """Parse a complete in-memory IDX file; see :func:`read_idx`."""
    if len(buf) < 4:
        raise IDXFormatError(f"{path}: {len(buf)} bytes, too short for an IDX header")
    magic = int.from_bytes(buf[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(
            f"{path}: magic number {magic} (0x{magic:08x}), expected {expected_magic} "
            f"(0x{expected_magic:08x}, {_magic_meaning(expected_magic)}); "
            "is this the right file, and is it an IDX file at all?"
        )
    zero0, zero1, code, ndim = buf[0], buf[1], buf[2], buf[3]
    if zero0 or zero1 or code not in _IDX_DTYPES or ndim == 0:
        raise IDXFormatError(
            f"{path}: magic number 0x{magic:08x} is not an IDX header "
            "(expected 0x0000TTDD with a known type code TT and DD >= 1 dimensions)"
        )
    header_len = 4 + 4 * ndim
    if len(buf) < header_len:
        raise IDXFormatError(
            f"{path}: truncated header ({len(buf)} bytes, a {ndim}-D IDX header needs {header_len})"
        )
    dims = tuple(int.from_bytes(buf[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[code]
    count = math.prod(dims)
    expected_bytes = count * dtype.itemsize
    actual_bytes = len(buf) - header_len
    if actual_bytes != expected_bytes:
        what = "truncated" if actual_bytes < expected_bytes else "has trailing bytes"
        raise IDXFormatError(
            f"{path}: {what}: the header declares dimensions {dims} of {dtype.name}, "
            f"i.e. {expected_bytes} data bytes, but the file holds {actual_bytes}"
        )
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=header_len).reshape(dims)
    # A writable array in native byte order (a copy, so it owns its memory).
    return arr.astype(dtype.newbyteorder("="), copy=True)


def _read_bytes(path: Path) -> bytes:
    """Return the IDX content of ``path``, decompressing ``*.gz``."""
    raw = path.read_bytes()
    if not path.name.endswith(".gz"):
        return raw
    try:
        # One zlib call (it checks the gzip CRC and length trailer); only a
        # multi-member archive needs the slower gzip module.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = inflater.decompress(raw)
        if not inflater.eof:
            raise EOFError("compressed data ends before the end-of-stream marker (truncated)")
        if inflater.unused_data:
            data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise IDXFormatError(f"{path}: not a valid gzip file ({exc})") from exc
    return data


def read_idx(path: PathLike, *, magic: int | None = None) -> np.ndarray:
    """Read one IDX file, gzipped (``*.gz``) or not.

    Parameters
    ----------
    path : str or os.PathLike
        The file. A name ending in ``.gz`` is decompressed first.
    magic : int, optional
        Required magic number, e.g. ``2051`` for images or ``2049`` for
        labels. ``None`` accepts any valid IDX header.

    Returns
    -------
    ndarray
        Shape as declared in the header, e.g. ``(N, rows, cols)`` for image
        files and ``(N,)`` for label files; dtype as declared (``uint8`` for
        MNIST), converted to native byte order. The array is writable.

    Raises
    ------
    IDXFormatError
        If the magic number is wrong, the header is not an IDX header, or the
        number of data bytes differs from what the header declares (a
        truncated file or trailing garbage), or a ``.gz`` file is corrupt.
        The message names the file.
    FileNotFoundError
        If ``path`` does not exist.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> header = (2049).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> folder = tempfile.mkdtemp()
    >>> name = os.path.join(folder, "labels.gz")
    >>> with open(name, "wb") as f:
    ...     _ = f.write(gzip.compress(header + bytes([7, 2, 1])))
    >>> read_idx(name, magic=2049)
    array([7, 2, 1], dtype=uint8)
    """
    p = Path(os.fspath(path))
    return _parse_idx(_read_bytes(p), p, magic)


def _check_idx_structure(path: Path, magic: int) -> str | None:
    """Cheap check of an uncompressed IDX file: header and size only.

    Returns ``None`` if fine, else the reason.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(4 + 4 * 3)
        if len(head) < 4:
            return f"{size} bytes, too short for an IDX header"
        found = int.from_bytes(head[:4], "big")
        if found != magic:
            return f"magic number {found}, expected {magic}"
        ndim = head[3]
        header_len = 4 + 4 * ndim
        if len(head) < header_len:
            return "truncated header"
        dims = [int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
        expected = header_len + math.prod(dims)
        if size != expected:
            return f"size {size} bytes, the header implies {expected}"
    except OSError as exc:
        return f"unreadable ({exc})"
    return None


# ---------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------


def _file_digests(path: Path, algorithms: Sequence[str]) -> dict[str, str]:
    """Hex digests of ``path`` for each algorithm, in one pass over the file."""
    hashers = {a: hashlib.new(a, usedforsecurity=False) for a in algorithms}
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def _mismatch(got: Mapping[str, str], expected: Mapping[str, str]) -> str | None:
    """``None`` if every expected digest matches, else a description."""
    bad = [f"{a} is {got[a]}, expected {expected[a]}" for a in sorted(expected) if got[a] != expected[a]]
    return "checksum mismatch: " + "; ".join(bad) if bad else None


def _cache_key(path: Path, expected: Mapping[str, str]) -> tuple[Any, ...]:
    st = path.stat()
    return (
        os.path.abspath(path),
        st.st_dev,
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
        tuple(sorted(expected.items())),
    )


def _verify_file(path: Path, expected: Mapping[str, str] | None, magic: int) -> str | None:
    """Check a file on disk; ``None`` if it may be used, else the reason.

    Checksum results are remembered per ``(path, dev, inode, size, mtime)``.
    """
    if not expected:
        if path.name.endswith(".gz"):
            return "no checksum is known for this file"
        return _check_idx_structure(path, magic)
    try:
        key = _cache_key(path, expected)
    except OSError as exc:
        return f"cannot stat ({exc})"
    cached = _VERIFIED.get(key)
    if cached is not None:
        return None if cached[0] else cached[1]
    try:
        got = _file_digests(path, list(expected))
    except OSError as exc:
        return f"unreadable ({exc})"
    reason = _mismatch(got, expected)
    if reason is not None:
        reason = f"{reason} (size {key[3]} bytes)"
    _VERIFIED[key] = (reason is None, reason or "")
    return reason


def _normalize_checksums(table: Mapping[str, Any], dataset: str) -> dict[str, dict[str, str]]:
    """Validate a checksum table; a bare string value means SHA-256."""
    if not isinstance(table, Mapping):
        raise TypeError(f"checksums must be a mapping from file name to digests, got {type(table).__name__}")
    out: dict[str, dict[str, str]] = {}
    for name, value in table.items():
        if isinstance(value, str):
            value = {"sha256": value}
        if not isinstance(name, str) or not isinstance(value, Mapping) or not value:
            raise TypeError(
                f"checksums[{name!r}] must be a hex string (SHA-256) or a non-empty "
                f"mapping such as {{'sha256': '...'}}, got {value!r}"
            )
        digests: dict[str, str] = {}
        for algo, digest in value.items():
            algo_l = str(algo).lower()
            if algo_l not in hashlib.algorithms_guaranteed:
                raise ValueError(
                    f"checksums[{name!r}]: unknown hash algorithm {algo!r} "
                    f"(use one of {sorted(hashlib.algorithms_guaranteed)})"
                )
            if not isinstance(digest, str):
                raise TypeError(f"checksums[{name!r}][{algo!r}] must be a hex string, got {digest!r}")
            digests[algo_l] = digest.strip().lower()
        out[name] = digests
    missing = [n + ".gz" for n in FILE_NAMES if n + ".gz" not in out]
    if missing:
        raise ValueError(f"checksums for {dataset} must cover every archive; missing: {', '.join(missing)}")
    return out


# ---------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Location:
    path: Path  # the data-set folder itself, e.g. <base>/mnist
    origin: str  # where it came from, for messages


@dataclass(frozen=True)
class _Spec:
    title: str  # "MNIST"
    subdir: str  # "mnist"
    num_classes: int
    image_shape: tuple[int, int]


_SPECS = {
    "mnist": _Spec("MNIST", "mnist", 10, (28, 28)),
    "fashion-mnist": _Spec("Fashion-MNIST", "fashion-mnist", 10, (28, 28)),
}


def _spec(dataset: str) -> _Spec:
    key = str(dataset).lower().replace("_", "-")
    if key not in _SPECS:
        raise ValueError(f"dataset must be one of {sorted(_SPECS)}, got {dataset!r}")
    return _SPECS[key]


def _defaults(spec: _Spec) -> tuple[Sequence[str], Mapping[str, Any]]:
    # Read at call time so that the module constants can be overridden.
    if spec.subdir == "mnist":
        return MNIST_MIRRORS, MNIST_CHECKSUMS
    return FASHION_MNIST_MIRRORS, FASHION_MNIST_CHECKSUMS


def user_cache_dir() -> Path:
    """The per-user cache folder of convlib (not created).

    Returns
    -------
    pathlib.Path
        ``%LOCALAPPDATA%\\convlib`` on Windows; elsewhere
        ``$XDG_CACHE_HOME/convlib`` if ``XDG_CACHE_HOME`` is set to an
        absolute path, else ``~/.cache/convlib``.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", "")
        return (Path(base) if base else Path.home() / "AppData" / "Local") / "convlib"
    xdg = os.path.expanduser(os.environ.get("XDG_CACHE_HOME", ""))
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore relative paths
        return Path(xdg) / "convlib"
    return Path.home() / ".cache" / "convlib"


def _locations(spec: _Spec, root: PathLike | None) -> list[_Location]:
    found: list[_Location] = []
    if root is not None:
        found.append(_Location(Path(os.fspath(root)).expanduser() / spec.subdir, "root= argument"))
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        found.append(_Location(Path(env).expanduser() / spec.subdir, f"environment variable {ENV_VAR}"))
    found.append(_Location(user_cache_dir() / spec.subdir, "per-user cache"))
    unique: list[_Location] = []
    seen: set[str] = set()
    for loc in found:
        key = os.path.normcase(os.path.abspath(loc.path))
        if key not in seen:
            seen.add(key)
            unique.append(loc)
    return unique


def candidate_dirs(dataset: str = "mnist", root: PathLike | None = None) -> list[Path]:
    """The folders searched for a data set, in order (see the module docs).

    Parameters
    ----------
    dataset : {"mnist", "fashion-mnist"}
        Which data set; names the sub-folder.
    root : str or os.PathLike, optional
        As for :func:`load_mnist`.

    Returns
    -------
    list of pathlib.Path
        E.g. ``[<root>/mnist, $CONVLIB_DATA/mnist, ~/.cache/convlib/mnist]``,
        without the entries that are not set and without duplicates.
    """
    return [loc.path for loc in _locations(_spec(dataset), root)]


def _is_writable_dir(path: Path) -> bool:
    """Could files be created in ``path`` (making it first if needed)?

    A folder with no write bit at all counts as read-only even for root.
    """
    p = path
    while not os.path.lexists(p):
        if p.parent == p:
            return False
        p = p.parent
    if not p.is_dir():
        return False
    try:
        mode = p.stat().st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(p, os.W_OK | os.X_OK)


# ---------------------------------------------------------------------------
# Downloading
# ---------------------------------------------------------------------------


class _Transient(Exception):
    """A failure worth retrying on the same mirror."""


class _Permanent(Exception):
    """A failure that retrying the same mirror will not fix."""


class _TargetUnusable(Exception):
    """The destination folder cannot be written."""


def _progress(total: int | None, name: str, quiet: bool) -> Any:
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(
        total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False
    )


def _fetch_to_temp(
    url: str, folder: Path, name: str, expected: Mapping[str, str], timeout: float, quiet: bool
) -> Path:
    """Download ``url`` into a verified temporary file in ``folder``."""
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    except OSError as exc:
        raise _TargetUnusable(f"cannot create a file in {folder}: {exc}") from exc
    tmp = Path(tmp_name)
    done = False
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            try:
                response = urllib.request.urlopen(request, timeout=timeout)
            except urllib.error.HTTPError as exc:
                msg = f"HTTP {exc.code} {exc.reason}"
                if exc.code in (408, 425, 429) or exc.code >= 500:
                    raise _Transient(msg) from exc
                raise _Permanent(msg) from exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, socket.gaierror):
                    raise _Permanent(f"cannot resolve the host ({exc.reason})") from exc
                raise _Transient(f"cannot connect ({exc.reason})") from exc
            except (OSError, http.client.HTTPException) as exc:
                raise _Transient(f"{type(exc).__name__}: {exc}") from exc
            with response:
                length_header = response.headers.get("Content-Length")
                length = int(length_header) if length_header and length_header.isdigit() else None
                hashers = {a: hashlib.new(a, usedforsecurity=False) for a in expected}
                received = 0
                bar = _progress(length, name, quiet)
                try:
                    while True:
                        try:
                            chunk = response.read(_CHUNK)
                        except (OSError, http.client.HTTPException) as exc:
                            raise _Transient(
                                f"connection failed after {received} bytes ({type(exc).__name__}: {exc})"
                            ) from exc
                        if not chunk:
                            break
                        try:
                            out.write(chunk)
                        except OSError as exc:
                            raise _TargetUnusable(f"cannot write into {folder}: {exc}") from exc
                        for h in hashers.values():
                            h.update(chunk)
                        received += len(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                finally:
                    if bar is not None:
                        bar.close()
            if length is not None and received != length:
                raise _Transient(f"connection closed after {received} of {length} bytes (truncated)")
            reason = _mismatch({a: h.hexdigest() for a, h in hashers.items()}, expected)
            if reason is not None:
                raise _Permanent(f"{reason} ({received} bytes received)")
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                raise _TargetUnusable(f"cannot write into {folder}: {exc}") from exc
        done = True
        return tmp
    finally:
        if not done:
            try:
                tmp.unlink()
            except OSError:
                pass


def _download(
    name: str,
    folder: Path,
    mirrors: Sequence[str],
    expected: Mapping[str, str],
    *,
    timeout: float,
    retries: int,
    quiet: bool,
    failures: list[str],
) -> Path | None:
    """Try every mirror; return the installed file or ``None`` (see ``failures``).

    Raises ``_TargetUnusable`` if ``folder`` cannot be written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _TargetUnusable(f"cannot create {folder}: {exc}") from exc
    dest = folder / name
    for base in mirrors:
        url = base + name
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
            try:
                tmp = _fetch_to_temp(url, folder, name, expected, timeout, quiet)
            except _Permanent as exc:
                failures.append(f"{url}: {exc}")
                break
            except _Transient as exc:
                failures.append(f"{url} (attempt {attempt + 1} of {retries + 1}): {exc}")
                continue
            try:
                os.replace(tmp, dest)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise _TargetUnusable(f"cannot move the download into {dest}: {exc}") from exc
            _VERIFIED[_cache_key(dest, expected)] = (True, "")
            return dest
    return None


def _not_found(
    spec: _Spec,
    name: str,
    looked: Sequence[str],
    why: str,
    failures: Sequence[str],
    mirrors: Sequence[str],
) -> DatasetNotFoundError:
    archives = ", ".join(n + ".gz" for n in FILE_NAMES)
    lines = [
        f"{spec.title}: no valid copy of {name} could be found or downloaded.",
        f"Looked for {name} (or the uncompressed {name.removesuffix('.gz')}) in, in order:",
        *(f"  {i}. {entry}" for i, entry in enumerate(looked, 1)),
        why,
        *(f"  - {f}" for f in failures),
        "To provide the files yourself: get the four files",
        f"  {archives}",
        f"(e.g. from {mirrors[0] if mirrors else 'a mirror'}, or a machine that has them), "
        f"put them in <dir>/{spec.subdir}/, and set the environment variable "
        f"{ENV_VAR}=<dir> or pass root=<dir>.",
    ]
    return DatasetNotFoundError("\n".join(lines), file_name=name, looked=looked, failures=failures)


def _validate_mirrors(mirrors: Any) -> tuple[str, ...]:
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    if not isinstance(mirrors, Sequence) or not all(isinstance(m, str) and m for m in mirrors):
        raise TypeError(f"mirrors must be a sequence of base URLs (strings), got {mirrors!r}")
    if not mirrors:
        raise ValueError("mirrors must contain at least one base URL")
    return tuple(m if m.endswith("/") else m + "/" for m in mirrors)


def _resolve(
    dataset: str,
    root: PathLike | None,
    download: bool,
    mirrors: Sequence[str] | str | None,
    checksums: Mapping[str, Any] | None,
    timeout: float | None,
    retries: int | None,
    quiet: bool,
) -> tuple[_Spec, dict[str, Path]]:
    spec = _spec(dataset)
    default_mirrors, default_checksums = _defaults(spec)
    mirror_list = _validate_mirrors(default_mirrors if mirrors is None else mirrors)
    table = _normalize_checksums(default_checksums if checksums is None else checksums, spec.title)
    timeout_s = DOWNLOAD_TIMEOUT if timeout is None else timeout
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout_s!r}")
    n_retries = as_int("retries", DOWNLOAD_RETRIES if retries is None else retries, 0)
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a path (str or os.PathLike), got {type(root).__name__}")

    locations = _locations(spec, root)
    paths: dict[str, Path] = {}
    announced = False
    for base in FILE_NAMES:
        magic = IMAGES_MAGIC if "images" in base else LABELS_MAGIC
        looked: list[str] = []
        for loc in locations:
            notes = []
            for name in (base + ".gz", base):
                candidate = loc.path / name
                if not candidate.is_file():
                    continue
                reason = _verify_file(candidate, table.get(name), magic)
                if reason is None:
                    paths[base] = candidate
                    break
                notes.append(f"{name} is not usable: {reason}")
                warnings.warn(f"ignoring {candidate}: {reason}", DatasetWarning, stacklevel=4)
            if base in paths:
                break
            looked.append(f"{loc.path}  ({loc.origin}): " + ("; ".join(notes) if notes else "not there"))
        if base in paths:
            continue

        name = base + ".gz"
        if not download:
            raise _not_found(spec, name, looked, "Downloading is off (download=False).", [], mirror_list)
        failures: list[str] = []
        targets = [loc for loc in locations if _is_writable_dir(loc.path)]
        if not targets:
            why = "None of these locations is writable, so nothing was downloaded."
            raise _not_found(spec, name, looked, why, [], mirror_list)
        for loc in targets:
            if not quiet and not announced:
                print(f"Downloading {spec.title} into {loc.path}", file=sys.stderr)
                announced = True
            try:
                got = _download(
                    name,
                    loc.path,
                    mirror_list,
                    table[name],
                    timeout=float(timeout_s),
                    retries=n_retries,
                    quiet=quiet,
                    failures=failures,
                )
            except _TargetUnusable as exc:
                failures.append(str(exc))
                continue
            if got is None:
                why = f"Downloading into {loc.path} failed on every mirror:"
                raise _not_found(spec, name, looked, why, failures, mirror_list)
            paths[base] = got
            break
        else:
            raise _not_found(spec, name, looked, "No location could be written to:", failures, mirror_list)
    return spec, paths


def fetch_files(
    dataset: str = "mnist",
    root: PathLike | None = None,
    *,
    download: bool = True,
    quiet: bool = False,
    mirrors: Sequence[str] | str | None = None,
    checksums: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    retries: int | None = None,
) -> dict[str, Path]:
    """Find (or download) and verify the four files of a data set.

    Parameters are those of :func:`load_mnist`, plus ``dataset``, one of
    ``"mnist"`` and ``"fashion-mnist"``.

    Returns
    -------
    dict of str to pathlib.Path
        Maps each of ``FILE_NAMES`` (``"train-images-idx3-ubyte"``, ...) to
        the verified file used for it (``.gz`` or uncompressed).
    """
    return _resolve(dataset, root, download, mirrors, checksums, timeout, retries, quiet)[1]


def _load(dataset: str, root: PathLike | None, **kwargs: Any) -> tuple[Split, Split]:
    spec, paths = _resolve(dataset, root, **kwargs)
    images = {b: read_idx(paths[b], magic=IMAGES_MAGIC) for b in (TRAIN_IMAGES, TEST_IMAGES)}
    labels = {b: read_idx(paths[b], magic=LABELS_MAGIC) for b in (TRAIN_LABELS, TEST_LABELS)}
    splits = []
    for img_name, lab_name in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        x, y = images[img_name], labels[lab_name]
        if x.shape[1:] != spec.image_shape:
            raise IDXFormatError(
                f"{paths[img_name]}: images are {x.shape[1]}x{x.shape[2]}, "
                f"{spec.title} images are {spec.image_shape[0]}x{spec.image_shape[1]}"
            )
        if x.shape[0] != y.shape[0]:
            raise IDXFormatError(
                f"{paths[img_name]} holds {x.shape[0]} images but {paths[lab_name]} "
                f"holds {y.shape[0]} labels; the counts must agree"
            )
        if x.shape[0] == 0:
            raise IDXFormatError(f"{paths[img_name]}: holds no images")
        if y.max() >= spec.num_classes:
            raise IDXFormatError(
                f"{paths[lab_name]}: label {int(y.max())} is out of range; "
                f"{spec.title} has labels 0..{spec.num_classes - 1}"
            )
        splits.append((x, y))
    return splits[0], splits[1]


def load_mnist(
    root: PathLike | None = None,
    *,
    download: bool = True,
    quiet: bool = False,
    mirrors: Sequence[str] | str | None = None,
    checksums: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    retries: int | None = None,
) -> tuple[Split, Split]:
    """Load MNIST, downloading and verifying the files if needed.

    See the module documentation for where the files are looked for, how
    they are verified and where they are downloaded to.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder holding an ``mnist/`` sub-folder; searched first, and the
        download destination if it is writable.
    download : bool, default True
        Download missing or corrupt files. With ``False`` a missing file
        raises :class:`DatasetNotFoundError` and nothing is written.
    quiet : bool, default False
        Suppress the download message and progress bar.
    mirrors : sequence of str, optional
        Base URLs tried in order (default :data:`MNIST_MIRRORS`); the file
        name is appended. ``file://`` URLs work too.
    checksums : mapping, optional
        Replaces :data:`MNIST_CHECKSUMS`: file name -> ``{"sha256": hex, ...}``
        (or a bare SHA-256 hex string). Must cover the four ``.gz`` names;
        uncompressed names are optional.
    timeout : float, optional
        Seconds a mirror may stay silent (default :data:`DOWNLOAD_TIMEOUT`).
    retries : int, optional
        Extra attempts per mirror after a transient failure (default
        :data:`DOWNLOAD_RETRIES`).

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples of ndarray
        ``x_train`` uint8, shape ``(60000, 28, 28)``, pixel values 0 (white
        background) to 255 (ink); ``y_train`` uint8, shape ``(60000,)``,
        digits 0..9; ``x_test`` ``(10000, 28, 28)`` and ``y_test``
        ``(10000,)`` likewise. Fresh, writable arrays on every call.

    Raises
    ------
    DatasetNotFoundError
        If some file has no valid copy and could not be downloaded.
    IDXFormatError
        If a verified file is malformed (bad magic number, sizes, image and
        label counts that disagree, labels out of range); names the file.
    TypeError, ValueError
        For invalid arguments.

    Notes
    -----
    MNIST, LeCun, Cortes and Burges; licensed CC BY-SA 3.0 (Yann LeCun and
    Corinna Cortes). See the module documentation for the full citation.
    """
    return _load(
        "mnist",
        root,
        download=download,
        quiet=quiet,
        mirrors=mirrors,
        checksums=checksums,
        timeout=timeout,
        retries=retries,
    )


def load_fashion_mnist(
    root: PathLike | None = None,
    *,
    download: bool = True,
    quiet: bool = False,
    mirrors: Sequence[str] | str | None = None,
    checksums: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    retries: int | None = None,
) -> tuple[Split, Split]:
    """Load Fashion-MNIST, downloading and verifying the files if needed.

    Same interface and behaviour as :func:`load_mnist`, with the files in a
    ``fashion-mnist/`` sub-folder, :data:`FASHION_MNIST_MIRRORS` and
    :data:`FASHION_MNIST_CHECKSUMS` (the MD5 values published by Zalando
    Research, plus SHA-256). Uncompressed copies have no published checksum
    and only get the structural checks.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples of ndarray
        Images uint8 ``(60000, 28, 28)`` and ``(10000, 28, 28)``; labels
        uint8 ``(60000,)`` and ``(10000,)`` in 0..9, named by
        :data:`FASHION_MNIST_CLASSES`.

    Notes
    -----
    Fashion-MNIST, Xiao, Rasul and Vollgraf (2017); MIT licence, copyright
    Zalando SE.
    """
    return _load(
        "fashion-mnist",
        root,
        download=download,
        quiet=quiet,
        mirrors=mirrors,
        checksums=checksums,
        timeout=timeout,
        retries=retries,
    )


# ---------------------------------------------------------------------------
# Turning the raw arrays into model inputs
# ---------------------------------------------------------------------------


def to_float_nhwc(images: Any, dtype: Any = np.float32) -> np.ndarray:
    """Scale uint8 pixel images to ``[0, 1]`` and add the channel axis.

    Parameters
    ----------
    images : array_like of integers, shape (N, H, W) or (N, H, W, C)
        Pixel values 0..255, as returned by :func:`load_mnist`.
    dtype : floating dtype, default float32
        Result dtype (use ``np.float64`` for gradient checks).

    Returns
    -------
    ndarray, shape (N, H, W, 1) or (N, H, W, C)
        ``images / 255`` in NHWC layout, a new array.

    Raises
    ------
    TypeError
        If ``images`` is not integer (floats are refused so that already
        scaled data is not divided by 255 twice) or ``dtype`` is not a
        floating dtype.
    ValueError
        If ``images`` is not 3-D or 4-D, or holds values outside 0..255.

    Examples
    --------
    >>> x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # (1, 2, 2)
    >>> out = to_float_nhwc(x)
    >>> out.shape, out.dtype
    ((1, 2, 2, 1), dtype('float32'))
    >>> out[0, :, :, 0]
    array([[0. , 1. ],
           [0.2, 0.4]], dtype=float32)
    """
    arr = as_numeric_array("images", images)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"images must hold integer pixel values 0..255 (e.g. uint8), got dtype {arr.dtype}; "
            "float images are probably scaled already"
        )
    out_dtype = np.dtype(dtype)
    if out_dtype.kind != "f":
        raise TypeError(f"dtype must be a floating dtype, got {out_dtype}")
    if arr.ndim == 3:
        arr = arr[..., np.newaxis]
    elif arr.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C), got shape {arr.shape}")
    if arr.dtype != np.uint8 and arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError(
            f"images must hold values in 0..255, got range [{arr.min()}, {arr.max()}] (shape {arr.shape})"
        )
    out = arr.astype(out_dtype)
    out /= out_dtype.type(255)
    return out


def one_hot(labels: Any, num_classes: int = 10, dtype: Any = np.float32) -> np.ndarray:
    """One-hot encode integer class labels.

    Parameters
    ----------
    labels : array_like of integers, shape (N,)
        Class indices in ``0 .. num_classes - 1``.
    num_classes : int, default 10
        Number of classes K. Given explicitly rather than inferred, so a
        batch that happens to miss the last class still gets K columns.
    dtype : dtype, default float32
        Result dtype.

    Returns
    -------
    ndarray, shape (N, K)
        ``out[i, labels[i]] = 1``, zeros elsewhere.

    Raises
    ------
    TypeError
        If ``labels`` is not integer.
    ValueError
        If ``labels`` is not 1-D or holds values outside ``0 .. K - 1``.

    Examples
    --------
    >>> one_hot([2, 0], num_classes=3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    arr = as_numeric_array("labels", labels)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D with shape (N,), got shape {arr.shape}")
    k = as_int("num_classes", num_classes, 1)
    if arr.size and (arr.min() < 0 or arr.max() >= k):
        raise ValueError(
            f"labels must lie in 0..{k - 1} (num_classes={k}), got range [{arr.min()}, {arr.max()}]"
        )
    out = np.zeros((arr.shape[0], k), dtype=dtype)
    out[np.arange(arr.shape[0]), arr] = 1
    return out
