"""Shared pytest configuration: Hypothesis profiles.

Select a profile with the ``HYPOTHESIS_PROFILE`` environment variable:

``dev`` (default)
    Fresh random examples on every run (failures are saved in the local
    ``.hypothesis/`` example database and replayed first next time). No
    per-example deadline: the naive convolution is slow by design and the
    machine may be loaded.
``ci``
    ``derandomize=True`` and no example database, so every CI run draws the
    same examples and a red build can be reproduced locally with
    ``HYPOTHESIS_PROFILE=ci pytest ...``.
``debug``
    Like ``dev`` but prints every example Hypothesis tries (verbose).

Each test sets its own ``max_examples`` with ``@settings(...)``; the sizes and
counts are chosen so that the three convolution test files stay well under a
minute on a loaded 2-core machine. An unknown profile name is an error.

It also loads ``tests/exercise_gallery.py`` (the registry and assertions the
two exercise-gallery test files share) as the module ``exercise_gallery``:
``tests/`` is not a package and pytest runs with ``--import-mode=importlib``,
so the test files could not import it by name otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from hypothesis import Verbosity, settings

settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile("debug", deadline=None, print_blob=True, verbosity=Verbosity.verbose)

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _load_exercise_gallery() -> None:
    """Put ``tests/exercise_gallery.py`` into ``sys.modules`` as ``exercise_gallery``, once."""
    if "exercise_gallery" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "exercise_gallery", Path(__file__).with_name("exercise_gallery.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["exercise_gallery"] = module
    spec.loader.exec_module(module)


_load_exercise_gallery()
