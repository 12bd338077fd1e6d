"""The package's layers depend on each other in one direction only.

convlib is built in four layers (README, "Layout"):

1. **core** -- the mathematics: every layer's forward and backward in its
   tiers, the checks, gradient checking, the update rules. NumPy only.
2. **data** -- IDX parsing, downloads, MNIST/Fashion-MNIST, the normaliser.
3. **model and training** -- layer classes, ``Sequential``, optimizers, the
   training loop, recipes, the opt-in runtime settings, the command line.
4. **book support** -- showing source, exercise checkers, figures.

A module may import from its own layer and the layers listed before it in
``MAY_IMPORT``; each layer has its own allowance of third-party packages
(the core needs only NumPy, and nothing below book support may import
matplotlib or IPython). Imports are read from the source (including imports
inside functions), so an optional import counts too. A new module must be
given a layer here, or this test fails.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "convlib"

LAYERS = {
    "core": [
        "convlib",
        "convlib._checks",
        "convlib._deprecation",
        "convlib._files",
        "convlib.arithmetic",
        "convlib.windows",
        "convlib.conv",
        "convlib.grouping",
        "convlib.conv_transpose",
        "convlib.pooling",
        "convlib.global_pooling",
        "convlib.fast",
        "convlib.activations",
        "convlib.dense",
        "convlib.losses",
        "convlib.batchnorm",
        "convlib.dropout",
        "convlib.gradcheck",
        "convlib.adjoint",
        "convlib.complex_step",
        "convlib.update_rules",
        "convlib.errors",
        "convlib.memory",
        "convlib.precision",
        "convlib.merge",
    ],
    "data": ["convlib.datasets"],
    "model": [
        "convlib.layers",
        "convlib.model",
        "convlib.graph",
        "convlib._graph_files",
        "convlib._summary_tables",
        "convlib.optim",
        "convlib.loop",
        "convlib.architectures",
        "convlib.recipes",
        "convlib.attribution",
        "convlib.runtime",
        "convlib.cli",
        "convlib.train",
        "convlib.training",
    ],
    "book": ["convlib.display", "convlib.exercises", "convlib.plotting"],
}
MAY_IMPORT = {
    "core": {"core"},
    "data": {"core", "data"},
    "model": {"core", "data", "model"},
    "book": {"core", "data", "model", "book"},
}
THIRD_PARTY = {
    "core": {"numpy"},
    "data": {"numpy", "tqdm", "pooch", "requests"},
    "model": {"numpy", "tqdm", "threadpoolctl", "ipywidgets"},
    "book": {"numpy", "matplotlib", "IPython"},
}
#: The package's __init__ re-exports every layer's public names (it is the
#: one module allowed to), but imports no third-party package beyond the core's.
REEXPORTS = "convlib"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _layer(module: str) -> str:
    best = None
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            inside = module == prefix or (module.startswith(prefix + ".") and prefix != "convlib")
            if inside and (best is None or len(prefix) > len(best[1])):
                best = (layer, prefix)
    if best is None:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in {__file__}")
    return best[0]


def _imports(module: str, path: Path) -> set[str]:
    """Absolute names of every module imported anywhere in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:  # from . import x, y
                    found.update(f"{target}.{a.name}" for a in node.names)
                else:
                    found.add(target)
            else:
                found.add(node.module)
    return found


def test_every_module_has_a_layer():
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_respect_the_layers(module: str):
    layer = _layer(module)
    bad = []
    for name in sorted(_imports(module, MODULES[module])):
        top = name.split(".")[0]
        if top == "convlib":
            if module == REEXPORTS:
                continue
            target = name if name in MODULES else name.rsplit(".", 1)[0]
            other = _layer(target)
            if other not in MAY_IMPORT[layer]:
                bad.append(f"{name} (layer {other})")
        elif top not in sys.stdlib_module_names and top not in THIRD_PARTY[layer]:
            bad.append(f"{name} (third-party, not allowed in layer {layer})")
    assert not bad, f"{module} (layer {layer}) imports {bad}"


def test_the_check_can_fail():
    """A core module importing matplotlib or a model module would be caught."""
    fake = ROOT / "conv.py"
    tree_imports = _imports("convlib.conv", fake) | {"matplotlib.pyplot", "convlib.model"}
    layer = _layer("convlib.conv")
    offending = [
        n
        for n in tree_imports
        if (n.startswith("convlib.") and _layer(n) not in MAY_IMPORT[layer])
        or n.split(".")[0] == "matplotlib"
    ]
    assert sorted(offending) == ["convlib.model", "matplotlib.pyplot"]
