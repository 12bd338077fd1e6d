"""The README's Python examples run as written.

Each fenced ``python`` block of README.md is executed in a fresh namespace,
in a subprocess with the working directory set to a temporary folder, so an
example that drifts from the package fails here. Blocks that load MNIST need
the data (``CONVLIB_DATA`` or the user cache, as ``make test`` arranges);
without it they are skipped with a message rather than downloading.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def _mnist_available() -> bool:
    from convlib.datasets import DatasetNotFoundError, load_mnist

    try:
        load_mnist(download=False)
    except DatasetNotFoundError:
        return False
    return True


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2, "README.md lost its Python examples"


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, tmp_path: Path):
    code = BLOCKS[index]
    if "load_mnist" in code and not _mnist_available():
        pytest.skip("MNIST is not available offline (set CONVLIB_DATA)")
    env = {**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"README example {index + 1} failed:\n{code}\n--- stderr ---\n{proc.stderr[-3000:]}"
    )
