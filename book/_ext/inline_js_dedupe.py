"""Work around sphinx-doc/sphinx#13402 (fixed in Sphinx 8.2): an inline
<script> added with app.add_js_file(None, body=...) after the builder started
is written twice on every page. sphinx-thebe adds `const THEBE_JS_URL = ...`
that way, so every page threw "SyntaxError: Identifier 'THEBE_JS_URL' has
already been declared"."""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment


def _same_name_as_registry(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    # Runs after sphinx-thebe's handler (priority 500). Sphinx re-adds every
    # registered script as filename '' before writing; give the builder's
    # copies that name now so that the second add is recognised as a duplicate.
    js_files = getattr(app.builder, "_js_files", None)
    if js_files is None:
        return
    from sphinx.builders.html._assets import _JavaScript

    app.builder._js_files = [
        _JavaScript("", priority=js.priority, **js.attributes) if js.filename is None else js
        for js in js_files
    ]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-before-read-docs", _same_name_as_registry, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
