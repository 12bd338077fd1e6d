"""Tests for ``scripts/check_site.py``, the headless-browser check of the built book.

The checker's logic (which pages, which URLs are allowed, what counts as raw
TeX or an external resource, what a page's failures are) is tested on
synthetic data and needs no browser. The tests marked ``browser`` open a tiny
synthetic site, written here, in real headless Chromium: one good page, and
one page for each fault the checker must report (a CDN script, a broken
image, raw TeX without MathJax, a JavaScript error...). They are skipped
when no Chromium/Chrome or no ``websocket-client`` is installed, and the
MathJax pages also when the MathJax files (``django-static-mathjax``) are
missing.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import struct
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_site.py"


def _load_script() -> ModuleType:
    # scripts/ is not a package: load the file as a module by its path.
    spec = importlib.util.spec_from_file_location("check_site", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


cs = _load_script()

ORIGIN = "http://127.0.0.1:8000"


def png_bytes(width: int = 3, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size (red pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------
# Pure logic


def test_find_pages_lists_html_pages_and_skips_static_fragments(tmp_path: Path) -> None:
    for name in [
        "index.html",
        "genindex.html",
        "search.html",
        "book/ch1.html",
        "_modules/pkg/mod.html",
        "_static/webpack-macros.html",
        "_sources/book/ch1.html",
        "book/notes.txt",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<html></html>")
    assert cs.find_pages(tmp_path) == [
        "_modules/pkg/mod.html",
        "book/ch1.html",
        "genindex.html",
        "index.html",
        "search.html",
    ]
    assert cs.find_pages(tmp_path, ["book/*", "index.html"]) == ["book/ch1.html", "index.html"]
    assert cs.find_pages(tmp_path, ["nothing*"]) == []


def test_search_page_gets_a_query_and_other_pages_do_not() -> None:
    assert cs.page_query("search.html", "gradient check") == "?q=gradient+check"
    assert cs.page_query("search.html", "") == ""
    assert cs.page_query("book/ch1.html", "gradient") == ""


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (f"{ORIGIN}/book/ch1.html", True),
        (f"{ORIGIN}/_static/mathjax/tex-chtml.js?v=1", True),
        ("data:image/png;base64,iVBORw0KGgo=", True),
        (f"blob:{ORIGIN}/0b1c2d3e", True),
        ("about:blank", True),
        ("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js", False),
        ("http://127.0.0.1:9999/book/ch1.html", False),  # another local port
        ("http://localhost:8000/book/ch1.html", False),  # same port, another host name
        ("https://127.0.0.1:8000/book/ch1.html", False),
        ("file:///etc/passwd", False),
        ("ws://127.0.0.1:8000/socket", False),
    ],
)
def test_only_the_local_server_and_inline_urls_are_allowed(url: str, allowed: bool) -> None:
    assert cs.is_allowed_url(url, ORIGIN) is allowed


@pytest.mark.parametrize(
    "text",
    [
        "the energy $$E = mc^2$$ of",
        r"inline \(x^2\) left alone",
        r"display \[ \frac{a}{b} \]",
        r"\begin{align} a &= b \end{align}",
        r"the rate $\alpha$ is small",
        "a square $x^2$ here",
        "an index $w_{ij}$ here",
    ],
)
def test_raw_tex_is_found(text: str) -> None:
    snippets = cs.find_raw_tex([text])
    assert snippets, text
    assert all(s in " ".join(text.split()) for s in snippets)


@pytest.mark.parametrize(
    "text",
    [
        "it costs $5 and $10",
        "US$ 3 or 4 $",
        r"C:\Users\me",
        "a backslash \\ alone",
        "price_list and $HOME",
    ],
)
def test_ordinary_text_is_not_raw_tex(text: str) -> None:
    assert cs.find_raw_tex([text]) == []


def test_find_raw_tex_stops_at_the_limit() -> None:
    assert len(cs.find_raw_tex([r"\(a\) \(b\) \(c\)"] * 3, limit=4)) == 4


def test_external_resource_links_finds_what_the_browser_would_fetch() -> None:
    page = """<html><head>
    <script src="https://cdn.example.org/lib.js"></script>
    <script src="../_static/local.js"></script>
    <link rel="stylesheet" href="//fonts.example.org/font.css">
    <link rel="preconnect" href="https://fonts.gstatic.com">
    <link rel="stylesheet" href="_static/theme.css">
    <link rel="canonical" href="https://book.example.org/ch1.html">
    <link rel="next" href="https://book.example.org/ch2.html">
    </head><body>
    <a href="https://github.com/convlib/convlib">repository</a>
    <img src="data:image/png;base64,iVBORw0KGgo=">
    <img src="_images/fig.png" srcset="_images/fig.png 1x, https://img.example.org/fig@2x.png 2x">
    <iframe src="https://www.youtube.com/embed/x"></iframe>
    <img src="file:///home/me/fig.png"/>
    </body></html>"""
    assert cs.external_resource_links(page) == [
        '<script src="https://cdn.example.org/lib.js">',
        '<link rel="stylesheet" href="//fonts.example.org/font.css">',
        '<link rel="preconnect" href="https://fonts.gstatic.com">',
        '<img srcset="https://img.example.org/fig@2x.png">',
        '<iframe src="https://www.youtube.com/embed/x">',
        '<img src="file:///home/me/fig.png">',
    ]
    assert cs.external_resource_links('<p>no resources</p><a href="http://x.org">x</a>') == []


def good_probe(**math: object) -> dict[str, object]:
    """What the in-page script reports for a page with nothing wrong."""
    return {
        "final_url": f"{ORIGIN}/book/ch1.html",
        "images": [{"src": f"{ORIGIN}/_images/a.png", "complete": True, "naturalWidth": 640}],
        "math": {
            "mathjax": "ready",
            "elements": 2,
            "untypeset": 0,
            "containers": 2,
            "errors": [],
            **math,
        },
        "texts": ["plain text with a $ sign"],
    }


def clean_result(**changes: object) -> object:
    result = cs.PageResult(
        page="book/ch1.html",
        url=f"{ORIGIN}/book/ch1.html",
        requests=[
            cs.Request(f"{ORIGIN}/book/ch1.html", "Document", status=200),
            cs.Request("data:image/png;base64,iVBORw0KGgo=", "Image", status=200),
            cs.Request(f"{ORIGIN}/favicon.ico", "Other", status=404),  # the browser's probe
            cs.Request(f"{ORIGIN}/_static/a.js", "Script", error="net::ERR_ABORTED", canceled=True),
        ],
        probe=good_probe(),
    )
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def test_a_clean_page_has_no_failures() -> None:
    assert cs.page_failures(clean_result(), ORIGIN) == []


def test_every_kind_of_fault_is_reported() -> None:
    result = clean_result(
        requests=[
            cs.Request(
                "https://cdn.example.org/lib.js", "Script", error="net::ERR_NAME_NOT_RESOLVED"
            ),
            cs.Request(f"{ORIGIN}/_images/missing.png", "Image", status=404),
            cs.Request(f"{ORIGIN}/_static/cut.js", "Script", error="net::ERR_CONNECTION_RESET"),
        ],
        exceptions=["ReferenceError: nope is not defined at x.js:3"],
        console_errors=["boom", "boom", "other"],
        static_external=['<script src="https://cdn.example.org/lib.js">'],
        probe=good_probe(
            untypeset=1, untypeset_example=r"\(x\)", errors=["Missing argument for \\frac"]
        )
        | {
            "images": [
                {"src": f"{ORIGIN}/_images/missing.png", "complete": True, "naturalWidth": 0}
            ],
            "texts": ["left over $$E = mc^2$$ here"],
        },
    )
    failures = cs.page_failures(result, ORIGIN)
    expected = [
        "network: HTML links a resource on another host",
        "network: Script to https://cdn.example.org/lib.js",
        "http 404: /_images/missing.png",
        "failed to load /_static/cut.js: net::ERR_CONNECTION_RESET",
        "js exception: ReferenceError",
        "console error: boom (2 times)",
        "console error: other",
        "image did not load: /_images/missing.png",
        "math: 1 of 2 formulas not typeset",
        "math: MathJax error",
        "math: raw TeX in the text",
    ]
    assert len(failures) == len(expected), failures
    for message, start in zip(failures, expected, strict=True):
        assert message.startswith(start), (message, start)


def test_math_without_a_working_mathjax_fails() -> None:
    for state in ["absent", "not started (its script did not load or failed)", "failed: Error: x"]:
        result = clean_result(probe=good_probe(mathjax=state, untypeset=2, containers=0))
        failures = cs.page_failures(result, ORIGIN)
        assert any(f"MathJax is {state}" in f for f in failures), failures
        assert any("2 of 2 formulas not typeset" in f for f in failures), failures


def test_a_failed_mathjax_fails_even_on_a_page_without_formulas() -> None:
    result = clean_result(
        probe=good_probe(mathjax="still typesetting after the timeout", elements=0, containers=0)
    )
    assert cs.page_failures(result, ORIGIN) == [
        "math: MathJax is still typesetting after the timeout"
    ]


def test_a_page_that_did_not_load_or_was_never_probed_fails() -> None:
    assert cs.page_failures(
        clean_result(probe=None, load_error="not loaded within 30 s"), ORIGIN
    ) == ["load: not loaded within 30 s"]
    assert cs.page_failures(clean_result(probe=None), ORIGIN) == [
        "load: the page was never checked"
    ]


def test_an_image_that_never_completed_fails() -> None:
    probe = good_probe() | {"images": [{"src": "", "complete": False, "naturalWidth": 0}]}
    assert cs.page_failures(clean_result(probe=probe), ORIGIN) == [
        "image did not load: (no src) (complete=False, naturalWidth=0)"
    ]


def test_summary_lines() -> None:
    result = clean_result(seconds=1.234)
    assert cs.format_page(result, [], ORIGIN) == (
        "PASS  book/ch1.html  1.23 s  (4 requests, 1 images, 2 formulas)"
    )
    redirected = clean_result(page="index.html", seconds=0.5)
    assert cs.format_page(redirected, ["x"], ORIGIN).startswith("FAIL  index.html  0.50 s")
    assert "redirected to book/ch1.html" in cs.format_page(redirected, ["x"], ORIGIN)
    assert cs.count_line(21, 2) == "21 passed, 2 failed"


def test_short_url_is_relative_to_the_server_and_cut_short() -> None:
    assert cs.short_url(f"{ORIGIN}/book/ch1.html", ORIGIN) == "/book/ch1.html"
    long = "data:image/png;base64," + "A" * 500
    assert cs.short_url(long, ORIGIN, limit=40) == long[:37] + "..."


def test_site_server_serves_the_folder_on_localhost(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ch1.html").write_text("<p>hello</p>")
    with cs.SiteServer(tmp_path) as server:
        assert server.origin.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{server.origin}/book/ch1.html", timeout=10) as answer:
            assert answer.status == 200
            assert answer.read() == b"<p>hello</p>"
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{server.origin}/missing.html", timeout=10)
        assert error.value.code == 404
        error.value.close()


def test_find_browser_reports_a_missing_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CHROMIUM", raising=False)
    with pytest.raises(cs.SetupError, match=r"install_chromium\.sh"):
        cs.find_browser()
    with pytest.raises(cs.SetupError, match="not an executable"):
        cs.find_browser(str(tmp_path / "no-such-chrome"))


def test_main_needs_a_built_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cs.main([str(tmp_path)]) == 2
    assert "index.html not found" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# In a real browser, on a synthetic site


def _browser_or_none() -> str | None:
    try:
        import websocket  # noqa: F401
    except ImportError:
        return None
    try:
        return cs.find_browser()
    except cs.SetupError:
        return None


BROWSER = _browser_or_none()
browser = pytest.mark.skipif(BROWSER is None, reason="needs Chromium/Chrome and websocket-client")


def _mathjax_dir() -> Path | None:
    spec = importlib.util.find_spec("mathjax")
    for location in (spec.submodule_search_locations or []) if spec else []:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / "tex-chtml.js").is_file():
            return es5
    return None


MATHJAX = _mathjax_dir()
needs_mathjax = pytest.mark.skipif(
    MATHJAX is None, reason="needs the MathJax files (django-static-mathjax)"
)

#: Head of a page in book/ that loads MathJax the way Sphinx does.
MATHJAX_HEAD = """<script>window.MathJax = {"options": {"processHtmlClass":
  "tex2jax_process|mathjax_process|math|output_area"}}</script>
<script defer="defer" src="../_static/mathjax/tex-chtml.js"></script>"""


def page(body: str, head: str = "") -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
        f"{head}</head><body>{body}</body></html>"
    )


PNG = png_bytes()
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()

#: Synthetic pages: name -> HTML. "good*" pages must pass, the others fail.
PAGES = {
    "index.html": page(
        "<p>moving</p>", '<meta http-equiv="Refresh" content="0; url=book/good.html">'
    ),
    "book/good.html": page(
        f"""<section class="tex2jax_ignore mathjax_ignore">
        <p>Inline <span class="math notranslate nohighlight">\\(y = x^2\\)</span> and a display:</p>
        <div class="math notranslate nohighlight">\\[\\frac{{\\partial L}}{{\\partial x}} = 2x\\]</div>
        <div class="highlight"><pre>print("$$ not math $$ and \\\\(neither\\\\)")</pre></div>
        <p>It costs $5.</p>
        <img alt="file" src="../_images/fig.png">
        <img alt="inline" src="{PNG_URI}">
        <img alt="set by a script, like an animation frame" id="frame">
        <div style="height: 4000px"></div>
        <img alt="lazy, far below" loading="lazy" src="../_images/fig.png">
        <script>document.getElementById("frame").src = "{PNG_URI}";</script>
        </section>""",
        MATHJAX_HEAD,
    ),
    "book/cdn.html": page(
        "<p>hi</p>", '<script src="https://cdn.example.invalid/lib.js"></script>'
    ),
    "book/late_fetch.html": page(
        "<p>hi</p><script>setTimeout(() => "
        "fetch('http://api.example.invalid/x').catch(() => {}), 50);</script>"
    ),
    "book/broken_img.html": page('<p>hi</p><img alt="gone" src="../_images/missing.png">'),
    "book/raw_tex.html": page('<p>Energy $$E = mc^2$$ and <span class="math">\\(x\\)</span>.</p>'),
    "book/mathjax_404.html": page(
        '<p><span class="math">\\(x\\)</span></p>',
        '<script defer src="../_static/no-mathjax/tex-chtml.js"></script>',
    ),
    "book/tex_error.html": page(
        '<p><span class="math">\\(\\frac{a}\\)</span></p>',
        MATHJAX_HEAD,
    ),
    "book/js_error.html": page("<p>hi</p><script>console.error('boom'); notAFunction();</script>"),
    "_static/webpack-macros.html": "<p>a template fragment, not a page</p>",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    for name, text in PAGES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "_images").mkdir()
    (root / "_images" / "fig.png").write_bytes(PNG)
    if MATHJAX is not None:
        (root / "_static" / "mathjax").symlink_to(MATHJAX, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def results(site: Path) -> dict[str, tuple[object, list[str]]]:
    """Every page of the synthetic site, checked in one browser."""
    assert BROWSER is not None
    out = {}
    with cs.SiteServer(site) as server, cs.Browser(BROWSER) as chromium:
        checker = cs.PageChecker(chromium.connect(), server.origin, timeout=30)
        for name in cs.find_pages(site):
            result = checker.check(name, f"{server.origin}/{name}")
            result.static_external = cs.external_resource_links((site / name).read_text())
            out[name] = (result, cs.page_failures(result, server.origin))
    return out


def failures_of(results: dict[str, tuple[object, list[str]]], name: str) -> list[str]:
    return results[name][1]


@browser
def test_fragments_in_static_are_not_pages(results: dict[str, tuple[object, list[str]]]) -> None:
    assert sorted(results) == sorted(name for name in PAGES if not name.startswith("_static/"))


@browser
@needs_mathjax
def test_good_page_passes_with_math_images_and_lazy_and_scripted_images(
    results: dict[str, tuple[object, list[str]]],
) -> None:
    result, failures = results["book/good.html"]
    assert failures == []
    probe = result.probe
    assert probe["math"]["mathjax"] == "ready"
    assert probe["math"]["elements"] == 2
    assert probe["math"]["containers"] == 2
    assert [image["naturalWidth"] for image in probe["images"]] == [3, 3, 3, 3]
    assert any(
        r.url.endswith("/_static/mathjax/tex-chtml.js") and r.status == 200 for r in result.requests
    )


@browser
@needs_mathjax
def test_redirect_is_followed(results: dict[str, tuple[object, list[str]]]) -> None:
    result, failures = results["index.html"]
    assert failures == []
    assert result.probe["final_url"].endswith("/book/good.html")


@browser
def test_cdn_script_is_reported_twice(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = failures_of(results, "book/cdn.html")
    assert any(
        f.startswith("network: HTML links") and "cdn.example.invalid" in f for f in failures
    ), failures
    assert any(f == "network: Script to https://cdn.example.invalid/lib.js" for f in failures), (
        failures
    )


@browser
def test_request_made_after_load_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = failures_of(results, "book/late_fetch.html")
    assert any(f.startswith("network: ") and "api.example.invalid" in f for f in failures), failures


@browser
def test_broken_image_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = failures_of(results, "book/broken_img.html")
    assert "http 404: /_images/missing.png" in failures, failures
    assert any(f.startswith("image did not load: /_images/missing.png") for f in failures), failures


@browser
def test_raw_tex_without_mathjax_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = failures_of(results, "book/raw_tex.html")
    assert "math: page has 1 formulas but MathJax is absent" in failures, failures
    assert any(f.startswith("math: 1 of 1 formulas not typeset") for f in failures), failures
    assert any(
        f.startswith("math: raw TeX in the text") and "$$E = mc^2$$" in f for f in failures
    ), failures


@browser
def test_mathjax_that_does_not_load_is_reported(
    results: dict[str, tuple[object, list[str]]],
) -> None:
    failures = failures_of(results, "book/mathjax_404.html")
    assert "http 404: /_static/no-mathjax/tex-chtml.js" in failures, failures
    assert any(
        f.startswith("math: page has 1 formulas but MathJax is not started") for f in failures
    ), failures


@browser
@needs_mathjax
def test_tex_error_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = failures_of(results, "book/tex_error.html")
    assert any(f.startswith("math: MathJax error") for f in failures), failures


@browser
def test_js_error_and_console_error_are_reported(
    results: dict[str, tuple[object, list[str]]],
) -> None:
    failures = failures_of(results, "book/js_error.html")
    assert any(
        f.startswith("js exception: ReferenceError: notAFunction is not defined") for f in failures
    ), failures
    assert "console error: boom" in failures, failures


@browser
def test_main_prints_a_line_per_page_and_the_count(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    n_passed, n_failed = cs.check_site(
        site, BROWSER, only=["book/js_error.html", "book/cdn.html"], jobs=2, out=out
    )
    lines = out.getvalue().splitlines()
    assert (n_passed, n_failed) == (0, 2)
    assert [line.split()[:2] for line in lines if line.startswith(("PASS", "FAIL"))] == [
        ["FAIL", "book/cdn.html"],
        ["FAIL", "book/js_error.html"],
    ]
    assert lines[-1] == "0 passed, 2 failed"
    assert cs.main([str(site), "--only", "book/js_error.html", "--jobs", "1"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "0 passed, 1 failed"
