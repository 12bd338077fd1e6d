"""MNIST and Fashion-MNIST: the files, their mirrors and digests, and the loaders.

:func:`load_mnist` and :func:`load_fashion_mnist` find each of the four
files (:mod:`convlib.datasets.locate`), verify it
(:mod:`convlib.datasets.checksums`), download it when missing
(:mod:`convlib.datasets.download`) and parse it
(:mod:`convlib.datasets.idx`). See :mod:`convlib.datasets` for the whole
story and the citations.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from .._checks import as_bool, as_int, as_real
from . import download as _dl
from .checksums import _normalize_checksums, _verify_file
from .download import _download, _TargetUnusable, _validate_mirrors
from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXFormatError, read_idx
from .locate import ENV_VAR, _is_writable_dir, _locations

__all__ = [
    "DatasetNotFoundError",
    "DatasetWarning",
    "FASHION_MNIST_CHECKSUMS",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_MIRRORS",
    "FILE_NAMES",
    "MNIST_CHECKSUMS",
    "MNIST_MIRRORS",
    "TEST_IMAGES",
    "TEST_LABELS",
    "TRAIN_IMAGES",
    "TRAIN_LABELS",
    "candidate_dirs",
    "fetch_files",
    "load_fashion_mnist",
    "load_mnist",
]

PathLike = Union[str, "os.PathLike[str]"]
Split = tuple[np.ndarray, np.ndarray]

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
#: The four files of each data set, without the ``.gz`` suffix.
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

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
#: decompressed verified archives. An uncompressed entry also serves as the
#: *content* digest of its ``.gz``: a re-compressed archive whose own digests
#: differ is accepted when its decompressed content matches.
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

#: Digests of the Fashion-MNIST files. ``.gz`` MD5: as published by Zalando
#: Research (README of zalandoresearch/fashion-mnist); ``.gz`` SHA-256: as
#: recorded independently by two other loaders, which agree. Uncompressed
#: SHA-256 (also the content digests of the ``.gz`` files, as for MNIST): as
#: given for the IDX files of Debian's package ``dataset-fashion-mnist``
#: (0.0~git20200523.55506a9-1), whose re-compressed archives differ from
#: Zalando's; the data they decompress to agrees with the published facts
#: (first labels, 6,000 / 1,000 images per class, mean pixel 72.94).
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
    "train-images-idx3-ubyte": {
        "sha256": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    },
    "train-labels-idx1-ubyte": {
        "sha256": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    },
    "t10k-images-idx3-ubyte": {
        "sha256": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    },
    "t10k-labels-idx1-ubyte": {
        "sha256": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
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
        self,
        message: str,
        file_name: str = "",
        looked: Sequence[str] = (),
        failures: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.file_name = file_name
        self.looked = list(looked)
        self.failures = list(failures)


class DatasetWarning(UserWarning):
    """A data-set file on disk failed verification and is being ignored."""


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


def candidate_dirs(dataset: str = "mnist", root: PathLike | None = None) -> list[Path]:
    """The folders searched for a data set, in order (see :mod:`convlib.datasets`).

    Parameters
    ----------
    dataset : {"mnist", "fashion-mnist"}
        Which data set; names the sub-folder.
    root : str or os.PathLike, optional
        As for :func:`load_mnist`.

    Returns
    -------
    list of pathlib.Path
        ``[<root>/mnist]`` alone when ``root`` is given; otherwise
        ``[$CONVLIB_DATA/mnist, <user_cache_dir()>/mnist]``, without
        ``$CONVLIB_DATA`` when it is not set, without the cache when pooch
        is not installed, and without duplicates.

    Raises
    ------
    ValueError
        If ``root`` or ``$CONVLIB_DATA`` names a file instead of a folder.
    """
    return [loc.path for loc in _locations(_spec(dataset).subdir, root)]


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
    table = _normalize_checksums(
        default_checksums if checksums is None else checksums,
        spec.title,
        [n + ".gz" for n in FILE_NAMES],
    )
    download = as_bool("download", download)
    quiet = as_bool("quiet", quiet)
    timeout_s = as_real(
        "timeout", _dl.DOWNLOAD_TIMEOUT if timeout is None else timeout, low=0.0, low_open=True
    )
    n_retries = as_int("retries", _dl.DOWNLOAD_RETRIES if retries is None else retries, 0)

    locations = _locations(spec.subdir, root)  # checks root
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
                reason = _verify_file(candidate, table.get(name), magic, content=table.get(base))
                if reason is None:
                    paths[base] = candidate
                    break
                notes.append(f"{name} is not usable: {reason}")
                warnings.warn(f"ignoring {candidate}: {reason}", DatasetWarning, stacklevel=4)
            if base in paths:
                break
            looked.append(
                f"{loc.path}  ({loc.origin}): " + ("; ".join(notes) if notes else "not there")
            )
        if base in paths:
            continue

        name = base + ".gz"
        if not download:
            raise _not_found(
                spec, name, looked, "Downloading is off (download=False).", [], mirror_list
            )
        failures: list[str] = []
        targets = [loc for loc in locations if _is_writable_dir(loc.path)]
        if not targets and root is not None:
            why = (
                f"The root= folder {os.fspath(root)} is not writable, so nothing was downloaded "
                "(an explicit root= is searched alone and is the only download target)."
            )
            raise _not_found(spec, name, looked, why, [], mirror_list)
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
                    timeout=timeout_s,
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
            raise _not_found(
                spec, name, looked, "No location could be written to:", failures, mirror_list
            )
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
        Folder holding an ``mnist/`` sub-folder. When given it is searched
        *alone* (not ``$CONVLIB_DATA``, not the user cache) and is the only
        download destination: a missing file there is downloaded into it
        (``download=True``) or is an error listing it, never taken from
        another folder.
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
        uncompressed names are optional. A local ``.gz`` copy is used when
        its own digests match, or when its decompressed content matches the
        digests given for the uncompressed name (a re-compressed copy);
        downloads must match the ``.gz`` digests.
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
        For invalid arguments (a flag that is not a bool, such as
        ``download="no"``; a ``timeout`` that is not a positive number; a
        ``root`` that is not a path), and if ``root`` or ``$CONVLIB_DATA``
        names a file instead of a folder. The message names the argument.

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
    Research, plus SHA-256). A local copy re-compressed by someone else --
    such as Debian's package ``dataset-fashion-mnist``, whose ``.gz`` digests
    differ from Zalando's -- is accepted by the SHA-256 of its decompressed
    content; downloads are verified by the ``.gz`` digests.

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
