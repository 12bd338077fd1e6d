"""The core never imports the book's extras: matplotlib and IPython stay out of a training run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BOOK_ONLY = ("matplotlib", "IPython", "ipywidgets")


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )


def test_import_convlib_loads_neither_matplotlib_nor_ipython():
    proc = run_python(
        f"""
        import sys
        import convlib
        import convlib.cli, convlib.datasets, convlib.display, convlib.layers, convlib.loop
        import convlib.model, convlib.recipes, convlib.runtime, convlib.train, convlib.training
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {BOOK_ONLY!r})
        assert not loaded, loaded
        """
    )
    assert proc.returncode == 0, proc.stderr


def test_training_from_the_command_line_loads_neither():
    proc = run_python(
        f"""
        import sys
        from convlib.cli import main
        assert main(["--model", "lenet", "--synthetic", "--limit", "64", "--epochs", "1",
                     "--no-progress"]) == 0
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {BOOK_ONLY!r})
        assert not loaded, loaded
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("test accuracy ")


def test_a_progress_bar_outside_jupyter_loads_neither():
    proc = run_python(
        f"""
        import sys
        import numpy as np
        import convlib
        x, y = convlib.synthetic_digits(32)
        model = convlib.build_lenet(0)
        convlib.fit(model, convlib.prepare_images(x), y.astype(np.int64), convlib.Adam(model.parameters()),
                    epochs=1, batch_size=16, progress=True)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {BOOK_ONLY!r})
        assert not loaded, loaded
        """
    )
    assert proc.returncode == 0, proc.stderr
