"""Tests for ``scripts/check_site.py``, the Playwright check of the built book.

The pure logic (which pages, which URLs are allowed, raw TeX, resource links
to another host, a page's failures) is tested on synthetic data. The tests
marked ``browser`` serve a tiny synthetic site, written here, to the system's
Chromium through Playwright: one good page, and one page per fault the check
must report (a CDN script, a late request, a broken image, raw TeX, a
MathJax that does not load, a TeX error, a JavaScript error, a Python
traceback in a cell's output). They are skipped without Chromium/Chrome or
Playwright, the MathJax pages also without the MathJax files
(``django-static-mathjax``).
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import io
import shutil
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
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


# --- pure logic ----------------------------------------------------------


def test_find_pages_lists_html_pages_and_skips_static_fragments(tmp_path: Path) -> None:
    for name in ["index.html", "search.html", "book/ch1.html", "_modules/pkg/mod.html",
                 "_static/webpack-macros.html", "_sources/book/ch1.html", "book/notes.txt"]:  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<html></html>")
    assert cs.find_pages(tmp_path) == [
        "_modules/pkg/mod.html",
        "book/ch1.html",
        "index.html",
        "search.html",
    ]
    assert cs.find_pages(tmp_path, ["book/*", "index.html"]) == ["book/ch1.html", "index.html"]
    assert cs.find_pages(tmp_path, ["nothing*"]) == []


def test_search_page_gets_a_query_and_screenshots_mirror_the_page_path() -> None:
    assert cs.page_query("search.html", "gradient check") == "?q=gradient+check"
    assert cs.page_query("search.html", "") == ""
    assert cs.page_query("book/ch1.html", "gradient") == ""
    assert cs.screenshot_path(Path("/s"), "book/ch1.html") == Path("/s/book/ch1.png")
    assert cs.screenshot_path(Path("/s"), "index.html") == Path("/s/index.png")


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
    ("text", "is_tex"),
    [
        ("the energy $$E = mc^2$$ of", True),
        (r"inline \(x^2\) left alone", True),
        (r"display \[ \frac{a}{b} \]", True),
        (r"\begin{align} a &= b \end{align}", True),
        (r"the rate $\alpha$ is small", True),
        ("a square $x^2$ here", True),
        ("an index $w_{ij}$ here", True),
        ("it costs $5 and $10", False),
        ("US$ 3 or 4 $", False),
        (r"C:\Users\me", False),
        ("a backslash \\ alone", False),
        ("price_list and $HOME", False),
    ],
)
def test_raw_tex_is_found_and_ordinary_text_is_not(text: str, is_tex: bool) -> None:
    snippets = cs.find_raw_tex([text])
    assert bool(snippets) is is_tex, snippets
    assert all(s in " ".join(text.split()) for s in snippets)


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
        "math": {"mathjax": "ready", "elements": 2, "untypeset": 0, "containers": 2, "errors": []}
        | math,
        "tracebacks": [],
        "texts": ["plain text with a $ sign"],
    }


def clean_result(**changes: object) -> object:
    requests = [
        cs.Request(f"{ORIGIN}/book/ch1.html", "document", status=200),
        cs.Request("data:image/png;base64,iVBORw0KGgo=", "image", status=200),
        cs.Request(f"{ORIGIN}/favicon.ico", "other", status=404),  # the browser's own probe
        cs.Request(f"{ORIGIN}/_static/a.js", "script", error="net::ERR_ABORTED", canceled=True),
    ]
    result = cs.PageResult(page="book/ch1.html", requests=requests, probe=good_probe())
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def test_a_clean_page_has_no_failures() -> None:
    assert cs.page_failures(clean_result(), ORIGIN) == []


def test_every_kind_of_fault_is_reported() -> None:
    probe = good_probe(untypeset=1, untypeset_example=r"\(x\)", errors=["Missing argument"])
    probe["images"] = [
        {"src": f"{ORIGIN}/_images/missing.png", "complete": True, "naturalWidth": 0}
    ]
    probe["texts"] = ["left over $$E = mc^2$$ here"]
    probe["tracebacks"] = ["ValueError: x must be 4-D", "KeyError: 'w'"]
    result = clean_result(
        requests=[
            cs.Request(
                "https://cdn.example.org/lib.js", "script", error="net::ERR_NAME_NOT_RESOLVED"
            ),
            cs.Request(f"{ORIGIN}/_images/missing.png", "image", status=404),
            cs.Request(f"{ORIGIN}/_static/cut.js", "script", error="net::ERR_CONNECTION_RESET"),
        ],
        exceptions=["ReferenceError: nope is not defined at x.js:3"],
        console_errors=["boom", "boom", "other"],
        static_external=['<script src="https://cdn.example.org/lib.js">'],
        screenshot_error="Cannot take screenshot",
        probe=probe,
    )
    expected = [
        "network: HTML links a resource on another host",
        "network: script to https://cdn.example.org/lib.js",
        "http 404: /_images/missing.png",
        "failed to load /_static/cut.js: net::ERR_CONNECTION_RESET",
        "js exception: ReferenceError",
        "console error: boom (2 times)",
        "console error: other",
        "screenshot: Cannot take screenshot",
        "image did not load: /_images/missing.png",
        "math: 1 of 2 formulas not typeset",
        "math: MathJax error",
        "math: raw TeX in the text",
        "traceback: 2 Python traceback(s) in the page's output, e.g. 'ValueError: x must be 4-D'",
    ]
    failures = cs.page_failures(result, ORIGIN)
    assert len(failures) == len(expected), failures
    for message, start in zip(failures, expected, strict=True):
        assert message.startswith(start), (message, start)


@pytest.mark.parametrize("state", ["absent", "not started (its script did not load)", "failed: x"])
def test_math_without_a_working_mathjax_fails(state: str) -> None:
    result = clean_result(probe=good_probe(mathjax=state, untypeset=2, containers=0))
    failures = cs.page_failures(result, ORIGIN)
    assert f"math: page has 2 formulas but MathJax is {state}" in failures, failures
    assert any("2 of 2 formulas not typeset" in f for f in failures), failures


def test_a_failed_mathjax_fails_even_on_a_page_without_formulas() -> None:
    probe = good_probe(mathjax="still typesetting after the timeout", elements=0, containers=0)
    assert cs.page_failures(clean_result(probe=probe), ORIGIN) == [
        "math: MathJax is still typesetting after the timeout"
    ]


def test_a_page_that_did_not_load_or_was_never_probed_fails() -> None:
    not_loaded = clean_result(probe=None, load_error="not loaded within 30 s")
    assert cs.page_failures(not_loaded, ORIGIN) == ["load: not loaded within 30 s"]
    never = cs.page_failures(clean_result(probe=None), ORIGIN)
    assert never == ["load: the page was never checked"]


def test_an_image_that_never_completed_fails() -> None:
    probe = good_probe() | {"images": [{"src": "", "complete": False, "naturalWidth": 0}]}
    assert cs.page_failures(clean_result(probe=probe), ORIGIN) == [
        "image did not load: (no src) (complete=False, naturalWidth=0)"
    ]


def test_summary_lines_and_urls() -> None:
    line = cs.format_page(clean_result(seconds=1.234), [], ORIGIN)
    assert line == "PASS  book/ch1.html  1.23 s  (4 requests, 1 images, 2 formulas)"
    redirected = cs.format_page(clean_result(page="index.html", seconds=0.5), ["x"], ORIGIN)
    assert redirected.startswith("FAIL  index.html  0.50 s")
    assert "redirected to book/ch1.html" in redirected
    assert cs.count_line(21, 2) == "21 passed, 2 failed"
    assert cs.short_url(f"{ORIGIN}/book/ch1.html", ORIGIN) == "/book/ch1.html"
    long = "data:image/png;base64," + "A" * 500
    assert cs.short_url(long, ORIGIN, limit=40) == long[:37] + "..."


def test_site_server_serves_the_folder_on_localhost(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ch1.html").write_text("<p>hello</p>")
    with cs.SiteServer(tmp_path) as server:
        assert server.origin.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{server.origin}/book/ch1.html", timeout=10) as answer:
            assert (answer.status, answer.read()) == (200, b"<p>hello</p>")
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


def test_student_flag_picks_the_student_site() -> None:
    assert cs.choose_site(None, False) == (Path("_build/html"), "make book")
    assert cs.choose_site(None, True) == (Path("_build/student/html"), "make student")
    assert cs.choose_site(Path("site"), False) == (Path("site"), "make book")
    with pytest.raises(cs.SetupError, match=r"site folder \(site\) or --student, not both"):
        cs.choose_site(Path("site"), True)


def test_main_with_student_looks_for_the_student_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "_build" / "html").mkdir(parents=True)
    (tmp_path / "_build" / "html" / "index.html").write_text("<p>the book</p>")
    monkeypatch.chdir(tmp_path)  # the paths are relative to the repository's root
    assert cs.main(["--student"]) == 2  # the book is built, its student edition is not
    err = capsys.readouterr().err
    assert "_build/student/html/index.html not found" in err and "(make student)" in err
    assert cs.main(["_build/html", "--student"]) == 2
    assert "not both" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="needs Playwright")
@pytest.mark.skipif(shutil.which("true") is None, reason="needs the `true` command")
def test_a_student_site_gets_its_own_screenshot_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    student = tmp_path / "_build" / "student" / "html"
    student.mkdir(parents=True)
    (student / "index.html").write_text("<p>the student edition</p>")
    monkeypatch.chdir(tmp_path)
    seen = {}

    def fake_check_site(site: Path, browser: str, *args: object) -> tuple[int, int]:
        seen["site"], seen["screenshots"] = site, args[4]  # after only, query, timeout, jobs
        return 1, 0

    monkeypatch.setattr(cs, "check_site", fake_check_site)
    assert cs.main(["--student", "--browser", shutil.which("true") or "true"]) == 0
    assert seen == {
        "site": student.resolve(),
        "screenshots": student.resolve().parent / "screenshots",
    }


@pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="needs Playwright")
@pytest.mark.skipif(shutil.which("true") is None, reason="needs the `true` command")
def test_a_browser_that_does_not_start_is_a_setup_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "index.html").write_text("<p>hi</p>")
    assert cs.main([str(tmp_path), "--browser", "true", "--no-screenshots"]) == 2
    assert "did not start" in capsys.readouterr().err


# --- in Chromium, through Playwright, on a synthetic site ------------------


def _browser_or_none() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return None
    try:
        return cs.find_browser()
    except cs.SetupError:
        return None


BROWSER = _browser_or_none()
browser = pytest.mark.skipif(BROWSER is None, reason="needs Chromium/Chrome and Playwright")


def _mathjax_dir() -> Path | None:
    spec = importlib.util.find_spec("mathjax")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "static/mathjax/es5/tex-chtml.js").is_file():
            return Path(location) / "static/mathjax/es5"
    return None


MATHJAX = _mathjax_dir()
needs_mathjax = pytest.mark.skipif(MATHJAX is None, reason="needs django-static-mathjax")

#: Head of a page in book/ that loads MathJax the way Sphinx does.
MATHJAX_HEAD = """<script>window.MathJax = {"options": {"processHtmlClass":
  "tex2jax_process|mathjax_process|math|output_area"}}</script>
<script defer="defer" src="../_static/mathjax/tex-chtml.js"></script>"""


def page(body: str, head: str = "") -> str:
    head = f'<meta charset="utf-8"><title>t</title>{head}'
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>'


PNG = png_bytes()
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
PLAIN_TRACEBACK = """<div class="cell_output docutils container"><div class="output stderr
highlight-myst-ansi notranslate"><pre>Traceback (most recent call last):
  File "x.py", line 1, in &lt;module&gt;
ValueError: x must be 4-D</pre></div></div>"""
IPYTHON_TRACEBACK = """<div class="cell_output docutils container"><div class="output traceback
highlight-ipythontb notranslate"><pre><span>KeyError</span>  Traceback
Cell In[3], line 1
KeyError: 'w'</pre></div></div>"""

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
        <p>It costs $5. Prose may quote "Traceback (most recent call last)" outside outputs.</p>
        <div class="cell_output"><pre>loss 0.25</pre></div>
        <img alt="file" src="../_images/fig.png"><img alt="inline" src="{PNG_URI}">
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
    "book/websocket.html": page(
        "<p>hi</p><script>try { new WebSocket('ws://socket.example.invalid/x'); } catch (e) {}</script>"
    ),
    "book/broken_img.html": page('<p>hi</p><img alt="gone" src="../_images/missing.png">'),
    "book/raw_tex.html": page('<p>Energy $$E = mc^2$$ and <span class="math">\\(x\\)</span>.</p>'),
    "book/mathjax_404.html": page(
        '<p><span class="math">\\(x\\)</span></p>',
        '<script defer src="../_static/no-mathjax/tex-chtml.js"></script>',
    ),
    "book/tex_error.html": page('<p><span class="math">\\(\\frac{a}\\)</span></p>', MATHJAX_HEAD),
    "book/js_error.html": page("<p>hi</p><script>console.error('boom'); notAFunction();</script>"),
    "book/traceback.html": page(f"<p>Two failed cells:</p>{PLAIN_TRACEBACK}{IPYTHON_TRACEBACK}"),
    "_static/webpack-macros.html": "<p>a template fragment, not a page</p>",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site") / "html"
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
    """Every page of the synthetic site, checked in one browser, with screenshots."""
    assert BROWSER is not None
    pages, shots = cs.find_pages(site), site.parent / "screenshots"

    async def run(origin: str) -> list[object]:
        checks = cs.check_pages(site, pages, BROWSER, origin, timeout=30, screenshots=shots)
        return [result async for result in checks]

    with cs.SiteServer(site) as server:
        checked = asyncio.run(run(server.origin))
        return {r.page: (r, cs.page_failures(r, server.origin)) for r in checked}


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
    assert result.probe["math"] | {"errors": None} == {
        "mathjax": "ready", "elements": 2, "untypeset": 0, "untypeset_example": "",
        "containers": 2, "errors": None,
    }  # fmt: skip
    assert [image["naturalWidth"] for image in result.probe["images"]] == [3, 3, 3, 3]
    assert result.probe["tracebacks"] == []
    assert any(
        r.url.endswith("/_static/mathjax/tex-chtml.js") and r.status == 200 for r in result.requests
    )


@browser
def test_a_full_page_screenshot_is_written_where_the_page_is(
    site: Path, results: dict[str, tuple[object, list[str]]]
) -> None:
    shot = site.parent / "screenshots" / "book" / "good.png"
    assert results["book/good.html"][0].screenshot == str(shot)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert width == cs.VIEWPORT["width"] and height > 4000  # the whole page, not the viewport
    assert (site.parent / "screenshots" / "book" / "js_error.png").is_file()  # failing pages too


@browser
@needs_mathjax
def test_redirect_is_followed(results: dict[str, tuple[object, list[str]]]) -> None:
    result, failures = results["index.html"]
    assert failures == []
    assert result.probe["final_url"].endswith("/book/good.html")


@browser
def test_cdn_script_is_reported_twice(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = results["book/cdn.html"][1]
    assert any(f.startswith("network: HTML links") and "cdn.example.invalid" in f for f in failures)
    assert "network: script to https://cdn.example.invalid/lib.js" in failures, failures


@browser
def test_request_made_after_load_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = results["book/late_fetch.html"][1]
    assert any(f.startswith("network: ") and "api.example.invalid" in f for f in failures), failures


@browser
def test_websocket_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = results["book/websocket.html"][1]
    assert "network: websocket to ws://socket.example.invalid/x" in failures, failures


@browser
def test_broken_image_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = results["book/broken_img.html"][1]
    assert "http 404: /_images/missing.png" in failures, failures
    assert any(f.startswith("image did not load: /_images/missing.png") for f in failures), failures
    assert not any(f.startswith("console error") for f in failures), failures  # said once


@browser
def test_raw_tex_without_mathjax_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    failures = results["book/raw_tex.html"][1]
    assert "math: page has 1 formulas but MathJax is absent" in failures, failures
    assert any(f.startswith("math: 1 of 1 formulas not typeset") for f in failures), failures
    assert any(f.startswith("math: raw TeX") and "$$E = mc^2$$" in f for f in failures), failures


@browser
def test_mathjax_that_does_not_load_is_reported(
    results: dict[str, tuple[object, list[str]]],
) -> None:
    failures = results["book/mathjax_404.html"][1]
    assert "http 404: /_static/no-mathjax/tex-chtml.js" in failures, failures
    assert any(
        f.startswith("math: page has 1 formulas but MathJax is not started") for f in failures
    )


@browser
@needs_mathjax
def test_tex_error_is_reported(results: dict[str, tuple[object, list[str]]]) -> None:
    assert any(f.startswith("math: MathJax error") for f in results["book/tex_error.html"][1])


@browser
def test_js_error_and_console_error_are_reported(
    results: dict[str, tuple[object, list[str]]],
) -> None:
    failures = results["book/js_error.html"][1]
    assert any(
        f.startswith("js exception: ReferenceError: notAFunction is not defined") for f in failures
    )
    assert any(f.startswith("console error: boom") for f in failures), failures


@browser
def test_python_tracebacks_in_outputs_are_reported(
    results: dict[str, tuple[object, list[str]]],
) -> None:
    result, failures = results["book/traceback.html"]
    assert result.probe["tracebacks"] == ["ValueError: x must be 4-D", "KeyError: 'w'"]
    assert failures == [
        "traceback: 2 Python traceback(s) in the page's output, e.g. 'ValueError: x must be 4-D'"
    ]


@browser
def test_a_browser_gone_mid_run_fails_the_page_instead_of_the_run() -> None:
    from playwright.async_api import async_playwright

    async def run() -> object:
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(executable_path=BROWSER)
            await chromium.close()
            return await cs.check_page(chromium, "book/x.html", f"{ORIGIN}/book/x.html", 10, None)

    result = asyncio.run(run())
    assert cs.page_failures(result, ORIGIN)[0].startswith("load: could not open a tab: ")


@browser
def test_check_site_prints_a_line_per_page_and_the_count(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    counts = cs.check_site(site, BROWSER, only=["book/js_error.html", "book/cdn.html"], out=out)
    lines = out.getvalue().splitlines()
    assert counts == (0, 2)
    assert [line.split()[:2] for line in lines if line.startswith(("PASS", "FAIL"))] == [
        ["FAIL", "book/cdn.html"],
        ["FAIL", "book/js_error.html"],
    ]
    assert lines[-1] == "0 passed, 2 failed"
    args = [str(site), "--only", "book/js_error.html", "--screenshots", str(tmp_path / "shots")]
    assert cs.main(args) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "0 passed, 1 failed"
    assert (tmp_path / "shots" / "book" / "js_error.png").is_file()
