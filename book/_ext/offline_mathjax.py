"""Serve MathJax 3 from the built book, so formulas render with no network.

Sphinx's default ``mathjax_path`` points at a CDN. This extension takes the
MathJax 3 files from the ``django-static-mathjax`` wheel on PyPI (installed
by ``requirements.txt``; it ships MathJax's ``es5`` build and needs no
Django), copies them into ``<outdir>/_static/mathjax/`` when an HTML build
finishes, and refuses a ``mathjax_path`` that is a URL.

Set ``mathjax_path`` to a path relative to ``_static``, e.g.
``mathjax/tex-chtml.js``; the part before the file name is where the files
go. The files are copied by this extension, not listed in
``html_static_path``: Jupyter Book 1 adds a ``<script>`` tag for every
``.js`` file it finds in the static paths, which would load all of MathJax's
components on every page.
"""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path, PurePosixPath
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError

# The parts of MathJax's es5 build that the combined component loads on
# demand: TeX extensions (autoload), fonts, the menu and accessibility.
_SUBDIRS = ("input", "output", "ui", "a11y", "sre", "adaptors")


def mathjax_es5_dir() -> Path:
    """Folder of MathJax's ``es5`` build inside the installed wheel.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ExtensionError
        If ``django-static-mathjax`` is not installed.
    """
    spec = find_spec("mathjax")  # locates the package without importing it
    for location in (spec.submodule_search_locations or []) if spec else []:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / "tex-chtml.js").is_file():
            return es5
    raise ExtensionError(
        "offline_mathjax: MathJax 3 files not found; install them with "
        "`pip install django-static-mathjax` (listed in requirements.txt)"
    )


def _local_path(config: Config) -> PurePosixPath:
    path = str(config.mathjax_path)
    if "://" in path or path.startswith(("//", "/")):
        raise ExtensionError(
            f"offline_mathjax: mathjax_path must be relative to _static "
            f"(e.g. 'mathjax/tex-chtml.js'), got {path!r}"
        )
    return PurePosixPath(path)


def _check_config(app: Sphinx, config: Config) -> None:
    path = _local_path(config)
    if not (mathjax_es5_dir() / path.name).is_file():
        raise ExtensionError(f"offline_mathjax: MathJax has no component named {path.name!r}")


def _copy_files(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    path = _local_path(app.config)
    src = mathjax_es5_dir()
    dest = Path(app.outdir) / "_static" / path.parent
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / path.name, dest / path.name)
    for sub in _SUBDIRS:
        if (src / sub).is_dir():
            shutil.copytree(src / sub, dest / sub, dirs_exist_ok=True)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _check_config)
    app.connect("build-finished", _copy_files)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
