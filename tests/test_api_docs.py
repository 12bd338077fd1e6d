"""Every public name has a docstring, so the API page (autodoc) lists it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import convlib

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(convlib.__path__, prefix="convlib.")
    if not m.name.rsplit(".", 1)[-1].startswith("_") and m.name != "convlib.__main__"
)


def test_the_package_has_modules():
    assert "convlib.conv" in MODULES and "convlib.plotting.conv_diagrams" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_public_names_are_documented(name):
    module = importlib.import_module(name)
    assert inspect.getdoc(module), f"{name} has no module docstring"
    public = getattr(module, "__all__", None)
    if public is not None:
        # Names a deprecation shim serves through __getattr__ are documented
        # at their new home; reading them here would only warn.
        public = [n for n in public if n in vars(module)]
    else:
        public = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and getattr(v, "__module__", None) == name
            and (inspect.isfunction(v) or inspect.isclass(v))
        ]
    undocumented = [
        n
        for n in public
        if (inspect.isfunction(getattr(module, n)) or inspect.isclass(getattr(module, n)))
        and not inspect.getdoc(getattr(module, n))
    ]
    assert not undocumented, f"{name}: no docstring for {undocumented}"


def test_package_exports_resolve():
    missing = [n for n in convlib.__all__ if not hasattr(convlib, n)]
    assert not missing
