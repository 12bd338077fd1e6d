"""``python -m convlib.train``: the command line that trains the book's CNNs.

This module is only the entry point; the command lives in :mod:`convlib.cli`
(``python -m convlib.train --help`` for the options) and the training recipe
it runs in :mod:`convlib.recipes`.

The names that used to be defined here still import, with a
``DeprecationWarning``, until convlib 0.3: ``train_model``,
``make_optimizer``, ``TrainConfig``, ``DEFAULTS`` and ``BUILDERS`` now live
in :mod:`convlib.recipes`, ``synthetic_digits`` in :mod:`convlib.datasets`.
``main`` and ``build_parser`` stay importable from here without a warning.
"""

from __future__ import annotations

import sys

from ._deprecation import moved_names
from .cli import build_parser, main

_MOVES = {
    "train_model": "convlib.recipes",
    "make_optimizer": "convlib.recipes",
    "TrainConfig": "convlib.recipes",
    "DEFAULTS": "convlib.recipes",
    "BUILDERS": "convlib.recipes",
    "synthetic_digits": "convlib.datasets",
}

__all__ = ["build_parser", "main", *sorted(_MOVES)]
__getattr__ = moved_names("convlib.train", _MOVES)


if __name__ == "__main__":
    sys.exit(main())
