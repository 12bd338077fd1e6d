"""Files written so that a failure never destroys what was there, and archives read without trust.

:func:`atomic_write` is used by :meth:`convlib.Sequential.save` (the
data-set downloader leaves this to pooch). The new content goes into a temporary file in the
*same folder* as the target (so the final rename stays on one file system),
is flushed and ``fsync``-ed, and only then renamed over the target with
:func:`os.replace`, which is atomic: a reader sees the old file or the new
one, never a mixture. Any exception in between -- a full disk, a file-size
limit, a ``KeyboardInterrupt`` -- removes the temporary file and leaves the
old target untouched. After the rename the folder itself is ``fsync``-ed
where the platform allows it, so the new name survives a power cut.

The temporary file is created with mode ``0o666`` filtered by the process
umask, as :func:`open` would create the target itself (``0o644`` under the
usual umask ``022``); :func:`tempfile.mkstemp` would give ``0o600``.

The second half reads a ``.npz`` archive (a zip of ``.npy`` files) as
untrusted input, for :meth:`convlib.Sequential.load`: :func:`open_npz` and
:func:`npz_members` turn every way the file can be broken into a
``ValueError`` naming it; :func:`npy_header` reads an entry's header only,
so shapes and dtypes are checked before any data is read;
:func:`read_npy` reads at most the number of bytes the header declares
(plus one, to notice more); :func:`does_not_fit` tells whether values
survive the cast into the model's dtype. Nothing is ever unpickled.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Union

import numpy as np

__all__: list[str] = []

PathLike = Union[str, "os.PathLike[str]"]

_TEMP_SUFFIX = ".part"


def _open_temp(folder: Path, name: str) -> tuple[BinaryIO, Path]:
    """Create a new, empty temporary file ``.<name>.<random>.part`` in ``folder``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
        except FileExistsError:
            continue
        return os.fdopen(fd, "wb"), tmp
    raise FileExistsError(f"could not create a temporary file in {folder}")  # pragma: no cover


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: PathLike) -> Iterator[BinaryIO]:
    """Write ``path`` atomically: all of the new content, or the old file untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The target file. Its folder must exist.

    Yields
    ------
    file object
        A binary file open for writing (a temporary file next to ``path``).
        When the ``with`` block ends normally it is flushed, synced and
        renamed to ``path``; when the block raises (any exception, including
        ``KeyboardInterrupt``) it is deleted and the exception propagates.

    Raises
    ------
    OSError
        If the temporary file cannot be created or written, or the rename
        fails; ``path`` is then unchanged and no temporary file is left.
    """
    target = Path(os.fspath(path))
    folder = target.parent
    out, tmp = _open_temp(folder, target.name)
    try:
        with out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(folder)


def check_writable_folder(folder: PathLike) -> None:
    """Check that new files can be created in ``folder`` by creating (and removing) one.

    A real probe rather than :func:`os.access`: as root, ``os.access`` says
    yes to ``/proc`` and to folders without write bits on some file
    systems, where creating a file then fails.

    Parameters
    ----------
    folder : str or os.PathLike

    Raises
    ------
    OSError
        Why no file can be created there (missing folder, not a folder,
        permission denied, read-only file system, ...).
    """
    path = Path(os.fspath(folder))
    out, tmp = _open_temp(path, "convlib-write-test")
    out.close()
    tmp.unlink()


# --------------------------------------------------------------------------
# Reading a .npz archive without trusting it
# --------------------------------------------------------------------------

#: Largest ``.npy`` header accepted (NumPy's own default limit).
_MAX_HEADER = 10_000


def open_npz(file: Path) -> zipfile.ZipFile:
    """Open ``file`` as a zip archive, turning every way it can fail into a ValueError naming it."""
    name = repr(str(file))
    try:
        size = file.stat().st_size
        with open(file, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ValueError(f"cannot read the saved model {name}: {exc}") from None
    if size == 0:
        raise ValueError(f"{name} is empty (0 bytes): not a saved model; was the save interrupted?")
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(f"{name} holds a single array (.npy), not a saved convlib model (.npz)")
    if not head.startswith(b"PK"):
        raise ValueError(
            f"{name} is not a .npz archive (a zip file): it starts with {head!r}; "
            "a saved model is written by Sequential.save"
        )
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(
            f"{name} is not a readable .npz archive, probably truncated or damaged ({size} bytes): {exc}"
        ) from None


def npz_members(zf: zipfile.ZipFile, file: Path) -> dict[str, zipfile.ZipInfo]:
    """Array name -> zip entry; refuses entries that are not ``<name>.npy`` or appear twice."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy") or info.filename[:-4] in members:
            what = "appears twice" if info.filename.endswith(".npy") else "is not a .npy array"
            raise ValueError(
                f"{str(file)!r}: the entry {info.filename!r} {what}; not written by Sequential.save"
            )
        members[info.filename[:-4]] = info
    if "__format__" not in members or "__layers__" not in members:
        raise ValueError(
            f"{str(file)!r} was not written by Sequential.save (no __format__/__layers__ entry)"
        )
    return members


def _read_npy_header(fp: Any) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, header length)`` of the ``.npy`` data in ``fp``."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp, max_header_size=_MAX_HEADER)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp, max_header_size=_MAX_HEADER)
    else:
        raise ValueError(f".npy format version {version} (Sequential.save writes 1.0)")
    return tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype), fp.tell()


def npy_header(
    zf: zipfile.ZipFile, file: Path, info: zipfile.ZipInfo, name: str
) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` from an entry's ``.npy`` header, reading no data."""
    where = f"{str(file)!r}, array {name!r}"
    try:
        with zf.open(info) as fp:
            shape, fortran, dtype, _ = _read_npy_header(fp)
    except Exception as exc:  # noqa: BLE001 -- untrusted header: whatever NumPy's parser raises means invalid
        raise ValueError(
            f"{where}: not a valid .npy header ({type(exc).__name__}: {exc})"
        ) from None
    if dtype.hasobject:
        raise ValueError(
            f"{where}: holds Python objects (dtype {dtype}), which are never unpickled"
        )
    return shape, fortran, dtype


class _SizeMismatch(Exception):
    """An entry's size in the archive differs from what its header declares."""


def read_npy(
    zf: zipfile.ZipFile,
    file: Path,
    info: zipfile.ZipInfo,
    name: str,
    shape: tuple[int, ...] | None,
    kinds: str,
    max_items: int = 1,
) -> np.ndarray:
    """One entry's array, read only after its header matched ``shape`` (or, if None, a 1-D
    array of at most ``max_items``) and a dtype kind in ``kinds``; never more bytes than declared."""
    where = f"{str(file)!r}, array {name!r}"
    got_shape, fortran, dtype = npy_header(zf, file, info, name)
    if shape is not None and got_shape != shape:
        raise ValueError(f"{where}: the file has shape {got_shape}, expected {shape}")
    if shape is None and (len(got_shape) != 1 or got_shape[0] > max_items):
        raise ValueError(
            f"{where}: the file has shape {got_shape}, expected at most {max_items} entries"
        )
    if dtype.kind not in kinds:
        raise ValueError(f"{where}: the file holds dtype {dtype}, expected kind {kinds!r}")
    nbytes = math.prod(got_shape) * dtype.itemsize
    try:
        with zf.open(info) as fp:
            header_len = _read_npy_header(fp)[3]
            if info.file_size != header_len + nbytes:
                raise _SizeMismatch()
            data = fp.read(nbytes + 1)  # one byte more: reaches the end, so the CRC is checked
    except _SizeMismatch:
        raise ValueError(
            f"{where}: the header declares shape {got_shape} of {dtype} ({nbytes} data bytes), "
            f"but the archive entry holds {info.file_size} bytes with the header (truncated or damaged)"
        ) from None
    except (ValueError, zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{where}: damaged data ({exc})") from None
    if len(data) != nbytes:
        raise ValueError(
            f"{where}: {len(data)} data bytes, the header declares {nbytes} (truncated or damaged)"
        )
    arr = np.frombuffer(data, dtype=dtype).reshape(got_shape, order="F" if fortran else "C")
    return arr.copy()


def does_not_fit(arr: np.ndarray, dtype: np.dtype) -> str | None:
    """Why ``arr`` cannot be copied into an array of ``dtype`` without changing its values, or None."""
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)]
        return (
            f"holds {bad.size} non-finite value(s) (e.g. {bad.flat[0]}); the saved model is broken"
        )
    if arr.size == 0:
        return None
    if dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            cast = arr.astype(dtype)
        if not np.isfinite(cast).all():
            worst = arr.flat[int(np.argmax(np.abs(arr.astype(np.float64))))]
            return f"value {worst} does not fit the model's dtype {dtype} (largest {np.finfo(dtype).max:g})"
        return None
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if arr.dtype.kind == "f" and not (arr == np.round(arr)).all():
            return f"holds fractional values, the model's dtype is {dtype}"
        if arr.min() < info.min or arr.max() > info.max:
            return f"values {arr.min()}..{arr.max()} do not fit the model's dtype {dtype}"
    return None


def read_state(
    zf: zipfile.ZipFile,
    file: Path,
    members: dict[str, zipfile.ZipInfo],
    state: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Read the arrays of a model's ``state`` (name -> its current array) from an open archive.

    Entries whose names start with ``"__"`` are the archive's own records and
    are ignored here. Every name, shape and dtype is checked from the headers
    before any data is read, then every value is checked to fit the model's
    dtype; all problems are reported together. Nothing is changed: the caller
    copies the returned arrays into the model.

    Returns
    -------
    dict of str to ndarray
        The file's array for every name of ``state``, of the same shape.

    Raises
    ------
    ValueError
        Listing missing or extra names, wrong shapes, non-numeric dtypes,
        non-finite values and values that do not fit.
    """
    where = repr(str(file))
    saved = {n for n in members if not n.startswith("__")}
    problems = []
    missing = sorted(set(state) - saved)
    extra = sorted(saved - set(state))
    if missing:
        problems.append(f"missing from the file: {missing}")
    if extra:
        problems.append(f"not in this model: {extra}")
    for name in sorted(set(state) & saved):  # headers only: no data read yet
        shape, _, dtype = npy_header(zf, file, members[name], name)
        if shape != state[name].shape:
            problems.append(
                f"{name}: the file has shape {shape}, the model expects {state[name].shape}"
            )
        elif dtype.kind not in "fiu":
            problems.append(f"{name}: the file holds non-numeric dtype {dtype}")
    if problems:
        raise ValueError(f"cannot load {where} into this model: " + "; ".join(problems))
    loaded = {}
    for name, target in state.items():
        loaded[name] = read_npy(zf, file, members[name], name, target.shape, "fiu")
        reason = does_not_fit(loaded[name], target.dtype)
        if reason:
            problems.append(f"{name}: {reason}")
    if problems:
        raise ValueError(f"cannot load {where} into this model: " + "; ".join(problems))
    return loaded
