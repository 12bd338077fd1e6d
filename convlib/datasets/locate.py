"""Where data-set files are looked for: ``root=`` alone, else ``$CONVLIB_DATA``, then the user cache.

Each location is a folder holding one sub-folder per data set (``mnist/``,
``fashion-mnist/``); :func:`convlib.datasets.candidate_dirs` lists them in
the order they are searched. An explicit ``root=`` (``--data-dir`` on the
command line) is searched alone: the user asked for that folder.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from .._checks import as_path

__all__ = ["ENV_VAR", "user_cache_dir"]

PathLike = Union[str, "os.PathLike[str]"]

#: Environment variable naming a folder that holds ``mnist/`` and/or ``fashion-mnist/``.
ENV_VAR = "CONVLIB_DATA"


@dataclass(frozen=True)
class _Location:
    path: Path  # the data-set folder itself, e.g. <base>/mnist
    origin: str  # where it came from, for messages


def user_cache_dir() -> Path:
    """The per-user cache folder of convlib, ``pooch.os_cache("convlib")`` (not created).

    Returns
    -------
    pathlib.Path
        On Linux ``$XDG_CACHE_HOME/convlib`` if ``XDG_CACHE_HOME`` is set to
        an absolute path (the XDG spec says to ignore a relative one), else
        ``~/.cache/convlib``; on macOS ``~/Library/Caches/convlib``; on
        Windows the ``convlib`` folder under ``%LOCALAPPDATA%`` that
        platformdirs names.

    Raises
    ------
    ImportError
        If pooch is not installed (it is a dependency of convlib).
    """
    from .download import _import_pooch  # pooch is imported only when needed

    path = Path(_import_pooch().os_cache("convlib")).expanduser()
    if not path.is_absolute():  # a relative XDG_CACHE_HOME, used as is by platformdirs
        path = Path.home() / ".cache" / "convlib"
    return path


def _locations(subdir: str, root: PathLike | None) -> list[_Location]:
    """The data-set folders ``<base>/<subdir>`` to search, in order, without duplicates.

    With ``root`` given, only ``<root>/<subdir>``. Raises ``ValueError`` if
    ``root`` or ``$CONVLIB_DATA`` names something that is not a folder, and
    ``TypeError`` if ``root`` is not a ``str`` or ``os.PathLike``.
    """
    if root is not None:
        base = as_path("root", root).expanduser()
        if base.exists() and not base.is_dir():
            raise ValueError(
                f"root={os.fspath(root)!r} is a file, not a folder; pass the folder that holds {subdir}/"
            )
        return [_Location(base / subdir, "root= argument, searched alone")]
    found: list[_Location] = []
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        base = Path(env).expanduser()
        if base.exists() and not base.is_dir():
            raise ValueError(
                f"the environment variable {ENV_VAR}={env!r} names a file, not a folder; "
                f"set it to the folder that holds {subdir}/ (or unset it)"
            )
        found.append(_Location(base / subdir, f"environment variable {ENV_VAR}"))
    # Without pooch there is no cache to search (and downloading says why it cannot).
    with contextlib.suppress(ImportError):
        found.append(_Location(user_cache_dir() / subdir, "per-user cache"))
    unique: list[_Location] = []
    seen: set[str] = set()
    for loc in found:
        key = os.path.normcase(os.path.abspath(loc.path))
        if key not in seen:
            seen.add(key)
            unique.append(loc)
    return unique


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
