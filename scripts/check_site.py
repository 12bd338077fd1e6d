#!/usr/bin/env python3
"""Check the built book in headless Chromium, driven by Playwright.

Usage::

    python scripts/check_site.py [_build/html | --student] [--browser PATH] [--only GLOB]
        [--jobs N] [--timeout SECONDS] [--screenshots DIR | --no-screenshots] [-v]

``--student`` checks the student edition's site, ``_build/student/html``
(``make student`` builds it), instead of the book's, ``_build/html``.

The site is served on 127.0.0.1 (as GitHub Pages serves it, not from
``file://``) and every HTML page, except the fragments in ``_static/``, is
opened as a first visit (a browser context of its own) in the system's
Chromium through Playwright for Python; no browser is downloaded. A page
passes when

* it loads (Jupyter Book's ``index.html`` redirect is followed), with no
  uncaught JavaScript exception and no console or browser error;
* it requests nothing from the network: every request goes to the local
  server or is a ``data:``/``blob:``/``about:`` URL, and its HTML links no
  resource (script, stylesheet, preconnect, icon, image, frame...) on
  another host. Host names do not resolve in the browser, so a stray request
  fails at once instead of leaving the machine; it is reported either way;
* every local request succeeds (HTTP status below 400; the browser's own
  ``/favicon.ico`` probe aside) and every ``<img>`` loads, lazy ones and the
  frames that scripts put into an ``<img>`` included;
* if it has math, MathJax started and finished typesetting, every
  ``span.math``/``div.math`` holds an ``mjx-container``, MathJax reported no
  TeX error, and no raw TeX (``$$``, ``\\(``, ``\\begin{``, ``$\\alpha$``...)
  is left in the text outside code;
* no rendered output shows a Python traceback (myst-nb's
  ``.output.traceback``, an ``ipythontb``/``pytb`` listing, or "Traceback
  (most recent call last)" in a cell's output).

A full-page PNG screenshot of every page is written under ``--screenshots``
(default: ``screenshots/`` beside the site, i.e. ``_build/screenshots/``),
at the page's path with ``.png`` for ``.html``. ``search.html`` is opened
with a query so that the search runs. One line is printed per page (``-v``:
also the time of each phase, warnings and every request), then ``N passed,
N failed``. Exit status 0 if every page passed, 1 if one failed, 2 if the
check could not run (no site, no browser).

pytest-playwright is not used: its fixtures open one page per test with the
synchronous API, while this is a command that checks many pages at a time
in one browser and records each page's events itself.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import fnmatch
import functools
import html.parser
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

#: Browsers looked for after --browser and $CHROMIUM, on PATH, in this order.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")

#: No sandbox (CI containers run as root), none of the browser's own traffic,
#: and no host name resolves (a request to a CDN fails fast and is reported).
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
VIEWPORT = {"width": 1280, "height": 1024}

LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
SKIPPED_DIRS = frozenset({"_static", "_sources", "_images", "_downloads"})

#: Raw TeX that MathJax should have replaced. ``$...$`` counts only around
#: something TeX-like (a command, ``^`` or ``_``), not "$5 and $10".
RAW_TEX = re.compile(
    r"\$\$.{0,300}?\$\$|\\\(.{0,300}?\\\)|\\\[.{0,300}?\\\]"
    r"|\\begin\{.{0,300}?\\end\{\w+\*?\}|\$\$|\\[()\[\]]|\\(?:begin|end)\{"
    r"|(?<![\w$])\$(?=\S)[^$\n]{0,200}?(?:\\[A-Za-z]+|[\^_]\{?\w)[^$\n]{0,200}?(?<=\S)\$(?![\w$])",
    re.DOTALL,
)

#: ``<link rel=...>`` values and (tag, attribute) pairs the browser fetches by itself.
FETCHING_LINK_RELS = frozenset(
    "stylesheet preload modulepreload prefetch preconnect dns-prefetch prerender icon"
    " shortcut apple-touch-icon manifest".split()
)
FETCHING_ATTRS = frozenset(
    tuple(pair.split("."))
    for pair in "script.src img.src img.srcset source.src source.srcset"
    " iframe.src frame.src embed.src object.data video.src video.poster audio.src track.src"
    " input.src".split()
)


class SetupError(RuntimeError):
    """The check could not run (no site, no browser, browser did not start)."""


#: The built sites, relative to the repository's root (where make runs), and
#: the make target that builds each.
SITES = {
    "book": (Path("_build/html"), "make book"),
    "student": (Path("_build/student/html"), "make student"),
}


def choose_site(site: Path | None, student: bool) -> tuple[Path, str]:
    """The site folder to check and the make target that builds it.

    ``site`` is the folder given on the command line (``None``: none given);
    ``student`` is ``--student``, the student edition's site. A folder given
    together with ``--student`` is a :class:`SetupError`: which one is meant?
    """
    if site is not None and student:
        raise SetupError(f"give a site folder ({site}) or --student, not both")
    default, target = SITES["student" if student else "book"]
    return (default if site is None else site), target


# --- pure logic: which pages, which URLs, what counts as a failure ---------


def find_pages(site: Path, only: Sequence[str] = ()) -> list[str]:
    """Sorted relative POSIX paths of the site's ``.html`` pages, outside `SKIPPED_DIRS`.

    `only`: shell patterns (``fnmatch``) on the path; if given, only matches are listed.
    """
    pages = []
    for path in site.rglob("*.html"):
        rel = path.relative_to(site).as_posix()
        if rel.split("/")[0] in SKIPPED_DIRS or not path.is_file():
            continue
        if not only or any(fnmatch.fnmatch(rel, pattern) for pattern in only):
            pages.append(rel)
    return sorted(pages)


def page_query(page: str, search_query: str) -> str:
    """Query string to open `page` with (``?q=...`` for the search page)."""
    if search_query and page.rsplit("/", 1)[-1] == "search.html":
        return "?" + urllib.parse.urlencode({"q": search_query})
    return ""


def screenshot_path(folder: Path, page: str) -> Path:
    """Where the screenshot of `page` goes: its path under `folder`, ``.html`` -> ``.png``."""
    return folder / Path(page).with_suffix(".png")


def is_allowed_url(url: str, origin: str) -> bool:
    """Whether `url` stays off the network: a local scheme, or on `origin` itself."""
    parts, own = urllib.parse.urlsplit(url), urllib.parse.urlsplit(origin)
    if parts.scheme.lower() in LOCAL_SCHEMES:
        return True
    return parts.scheme.lower() == own.scheme.lower() and parts.netloc.lower() == own.netloc.lower()


def short_url(url: str, origin: str = "", limit: int = 100) -> str:
    """`url` for a report: relative to `origin`, cut to `limit` characters."""
    if origin and url.startswith(origin + "/"):
        url = url[len(origin) :]
    return url if len(url) <= limit else url[: limit - 3] + "..."


def is_favicon_probe(url: str, origin: str) -> bool:
    """Whether `url` is the ``/favicon.ico`` every browser asks a site for (not the page's doing)."""
    return url.split("?")[0] == f"{origin}/favicon.ico"


def find_raw_tex(texts: Iterable[str], limit: int = 5) -> list[str]:
    """A short snippet around each match of `RAW_TEX` in `texts`, at most `limit`."""
    found = []
    for text in texts:
        for match in RAW_TEX.finditer(text):
            start, end = max(match.start() - 20, 0), min(match.end(), match.start() + 60) + 20
            found.append(" ".join(text[start:end].split()))
            if len(found) >= limit:
                return found
    return found


class _ResourceLinks(html.parser.HTMLParser):
    """Collects ``(description, url)`` for every URL the browser fetches by itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "link":
            rel, href = values.get("rel", ""), values.get("href", "")
            if set(rel.lower().split()) & FETCHING_LINK_RELS and href:
                self.links.append((f'<link rel="{rel}" href="{href}">', href))
            return
        for name, value in values.items():
            if (tag, name) in FETCHING_ATTRS and value:
                urls = (
                    [i.split()[0] for i in value.split(",") if i.split()]
                    if "srcset" in name
                    else [value]
                )
                self.links += [(f'<{tag} {name}="{url}">', url) for url in urls]

    handle_startendtag = handle_starttag


def external_resource_links(page_html: str) -> list[str]:
    """``<tag attr="url">`` for every resource in `page_html` on another host.

    Resources are what the browser loads or connects to by itself (scripts,
    stylesheets, preloads, preconnects, icons, images, frames, media); plain
    links (``<a href>``) are not. Relative and ``data:``/``blob:`` URLs are
    local; ``http:``, ``https:``, ``//host`` and ``file:`` ones are not.
    """
    parser = _ResourceLinks()
    parser.feed(page_html)
    parser.close()
    return [
        description
        for description, url in parser.links
        if url.startswith("//")
        or urllib.parse.urlsplit(url).scheme.lower() not in {"", *LOCAL_SCHEMES}
    ]


@dataclasses.dataclass
class Request:
    """One request a page made (each step of a redirect counts separately)."""

    url: str
    resource_type: str = ""
    status: int | None = None
    error: str = ""
    canceled: bool = False


@dataclasses.dataclass
class PageResult:
    """What the browser saw on one page.

    `probe` is what the in-page script (`PROBE_JS`) found: images, math,
    tracebacks, text, final URL; None if the page never got that far.
    `console_errors` and `exceptions` fail the page, `warnings` are only
    printed with -v. `timings`: seconds per phase.
    """

    page: str
    url: str = ""
    requests: list[Request] = dataclasses.field(default_factory=list)
    console_errors: list[str] = dataclasses.field(default_factory=list)
    exceptions: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    probe: dict[str, Any] | None = None
    load_error: str = ""
    static_external: list[str] = dataclasses.field(default_factory=list)
    screenshot: str = ""
    screenshot_error: str = ""
    seconds: float = 0.0
    timings: dict[str, float] = dataclasses.field(default_factory=dict)


def _counted(messages: Sequence[str]) -> list[str]:
    """Each distinct message once, in order, with ``(N times)`` if repeated."""
    counts = collections.Counter(messages)
    return [m if counts[m] == 1 else f"{m} ({counts[m]} times)" for m in dict.fromkeys(messages)]


def page_failures(result: PageResult, origin: str) -> list[str]:
    """One message per problem of a page (empty if it passes); `origin` is the local server."""
    failures = [f"load: {result.load_error}"] if result.load_error else []
    failures += [
        f"network: HTML links a resource on another host: {i}" for i in result.static_external
    ]
    for request in result.requests:
        url = short_url(request.url, origin)
        if not is_allowed_url(request.url, origin):
            failures.append(f"network: {request.resource_type or 'request'} to {url}")
        elif is_favicon_probe(request.url, origin):
            continue
        elif request.status is not None and request.status >= 400:
            failures.append(f"http {request.status}: {url}")
        elif request.error and not request.canceled:
            failures.append(f"failed to load {url}: {request.error}")
    failures += [f"js exception: {text}" for text in _counted(result.exceptions)]
    failures += [f"console error: {text}" for text in _counted(result.console_errors)]
    if result.screenshot_error:
        failures.append(f"screenshot: {result.screenshot_error}")
    probe = result.probe
    if probe is None:
        return failures if result.load_error else [*failures, "load: the page was never checked"]
    for image in probe.get("images", []):
        if not (image.get("complete") and (image.get("naturalWidth") or 0) > 0):
            failures.append(
                f"image did not load: {short_url(image.get('src') or '(no src)', origin)}"
                f" (complete={image.get('complete')}, naturalWidth={image.get('naturalWidth')})"
            )
    math = probe.get("math", {})
    mathjax = math.get("mathjax", "absent")
    if math.get("elements", 0) and mathjax != "ready":
        failures.append(f"math: page has {math['elements']} formulas but MathJax is {mathjax}")
    elif mathjax not in ("absent", "ready"):
        failures.append(f"math: MathJax is {mathjax}")
    if math.get("untypeset", 0):
        failures.append(
            f"math: {math['untypeset']} of {math['elements']} formulas not typeset by MathJax,"
            f" e.g. {math.get('untypeset_example', '')!r}"
        )
    failures += [f"math: MathJax error {error!r}" for error in math.get("errors", [])]
    failures += [f"math: raw TeX in the text: {s!r}" for s in find_raw_tex(probe.get("texts", []))]
    tracebacks = probe.get("tracebacks", [])
    if tracebacks:
        failures.append(
            f"traceback: {len(tracebacks)} Python traceback(s) in the page's output,"
            f" e.g. {tracebacks[0]!r}"
        )
    return failures


def format_page(result: PageResult, failures: Sequence[str], origin: str = "") -> str:
    """The summary line of one page (its failures are printed below it)."""
    probe = result.probe or {}
    parts = [
        f"{len(result.requests)} requests",
        f"{len(probe.get('images', []))} images",
        f"{probe.get('math', {}).get('containers', 0)} formulas",
    ]
    final = short_url(str(probe.get("final_url", "")), origin, limit=200).split("?")[0].lstrip("/")
    if final and final != result.page:
        parts.append(f"redirected to {final}")
    status = "FAIL" if failures else "PASS"
    return f"{status}  {result.page}  {result.seconds:.2f} s  ({', '.join(parts)})"


def count_line(n_passed: int, n_failed: int) -> str:
    """The closing line, ``N passed, N failed``."""
    return f"{n_passed} passed, {n_failed} failed"


# --- the local web server and the browser ---------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class SiteServer:
    """Serve a folder on ``http://127.0.0.1:<free port>`` (`origin`) from a thread; a context manager."""

    def __init__(self, site: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(site))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.origin = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _runs(path: str) -> bool:
    """Whether ``path --version`` succeeds (Ubuntu's chromium-browser may be a snap stub)."""
    try:
        return subprocess.run([path, "--version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_browser(explicit: str | None = None) -> str:
    """Path of a working Chromium/Chrome: `explicit` alone if given, else $CHROMIUM, then PATH.

    Raises `SetupError` if there is none, or the one named does not run.
    """
    if explicit:
        path = shutil.which(explicit)
        if path is None or not _runs(path):
            raise SetupError(f"--browser {explicit!r} is not an executable that runs")
        return path
    for candidate in [*filter(None, [os.environ.get("CHROMIUM")]), *BROWSER_NAMES]:
        path = shutil.which(candidate)
        if path and _runs(path):
            return path
    raise SetupError(
        f"no working Chromium or Chrome found (looked for $CHROMIUM, {', '.join(BROWSER_NAMES)});"
        " install one with `bash scripts/install_chromium.sh`"
    )


#: Runs in the loaded page (scripts/check_site_probe.js; its argument: a timeout in ms): waits for the
#: images (lazy ones made eager) and MathJax's first typesetting, then
#: reports images, math, tracebacks in outputs and text that could hold raw
#: TeX (outside code, MathJax output and search excerpts; myst-nb's
#: "tex2jax_ignore" on a whole notebook page is not skipped).
PROBE_JS = "".join(
    line
    for line in (Path(__file__).with_name("check_site_probe.js"))
    .read_text("utf-8")
    .splitlines(True)
    if not line.startswith("//")  # the file's header comment; the rest is one function
)


async def check_page(
    browser: Any, page: str, url: str, timeout: float, screenshot: Path | None, settle: float = 0.25
) -> PageResult:
    """Open `url` in a fresh context of `browser` (Playwright) and record what happens to `page`.

    `screenshot`: where to write a full-page PNG (None: no screenshot). The
    page is done when no request has been in flight for `settle` seconds.
    """
    from playwright.async_api import Error, TimeoutError

    result = PageResult(page=page, url=url)
    origin = url[: url.index("/", len("http://"))]
    start = time.monotonic()
    deadline = start + timeout
    ms_left = lambda: max(deadline - time.monotonic(), 0.5) * 1000  # noqa: E731
    by_request: dict[Any, Request] = {}
    pending: set[Any] = set()

    def on_request(request: Any) -> None:
        by_request[request] = Request(request.url, request.resource_type)
        result.requests.append(by_request[request])
        pending.add(request)

    def on_failed(request: Any) -> None:
        pending.discard(request)
        if request in by_request:
            by_request[request].error = request.failure or "failed"
            by_request[request].canceled = request.failure == "net::ERR_ABORTED"

    def on_response(response: Any) -> None:
        if response.request in by_request:
            by_request[response.request].status = response.status

    def on_console(message: Any) -> None:
        where = message.location.get("url", "")
        text = message.text + (f" ({short_url(where, origin)})" if where else "")
        # A resource that failed to load is reported with its request, the
        # browser's /favicon.ico probe not at all.
        known = message.text.startswith("Failed to load resource") and (
            is_favicon_probe(where, origin) or any(r.url == where for r in result.requests)
        )
        if message.type in ("error", "assert") and not known:
            result.console_errors.append(text)
        elif message.type in ("error", "warning"):
            result.warnings.append(text)

    def on_pageerror(error: Any) -> None:
        lines = (error.stack or f"{error.name}: {error.message}").splitlines()
        where = next((line.strip() for line in lines[1:] if line.strip().startswith("at ")), "")
        result.exceptions.append(" ".join(filter(None, [lines[0].strip(), where])))

    try:
        context = await browser.new_context(viewport=VIEWPORT)
    except Error as error:
        result.load_error = f"could not open a tab: {error.message.splitlines()[0]}"
        return result
    try:
        tab = await context.new_page()
        tab.on("request", on_request)
        tab.on("requestfinished", lambda request: pending.discard(request))
        tab.on("requestfailed", on_failed)
        tab.on("response", on_response)
        tab.on("websocket", lambda ws: result.requests.append(Request(ws.url, "websocket")))
        tab.on("console", on_console)
        tab.on("pageerror", on_pageerror)
        tab.on("crash", lambda _: setattr(result, "load_error", "the page's renderer crashed"))
        try:
            await tab.goto(url, wait_until="load", timeout=ms_left())
            # A <meta http-equiv="refresh"> redirect (Jupyter Book's index.html)
            # is checked where it leads.
            if tab.url == url and await _has_meta_refresh(tab):
                await tab.wait_for_url(lambda u: u != url, wait_until="load", timeout=ms_left())
            await tab.wait_for_load_state("load", timeout=ms_left())
            result.timings["load"] = time.monotonic() - start
            for attempt in (1, 2):
                try:
                    result.probe = await tab.evaluate(PROBE_JS, ms_left() - 1000)
                    break
                except Error:  # a late redirect destroyed the page under the probe
                    if attempt == 2:
                        raise
                    await tab.wait_for_load_state("load", timeout=ms_left())
            result.timings["probe"] = time.monotonic() - start - sum(result.timings.values())
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                try:
                    await tab.screenshot(path=screenshot, full_page=True, timeout=ms_left())
                    result.screenshot = str(screenshot)
                except Error as error:
                    result.screenshot_error = error.message.splitlines()[0]
                result.timings["screenshot"] = (
                    time.monotonic() - start - sum(result.timings.values())
                )
            quiet_since = time.monotonic()
            while time.monotonic() < deadline and time.monotonic() - quiet_since < settle:
                if pending:
                    quiet_since = time.monotonic()
                await asyncio.sleep(0.05)
            result.timings["settle"] = time.monotonic() - start - sum(result.timings.values())
        except Error as error:
            message = error.message.splitlines()[0]
            if isinstance(error, TimeoutError):
                message = f"not loaded within {timeout:g} s ({message})"
            result.load_error = result.load_error or message
    finally:
        with contextlib.suppress(Error):  # the browser may be gone already
            await context.close()
        result.seconds = time.monotonic() - start
    return result


async def _has_meta_refresh(tab: Any) -> bool:
    from playwright.async_api import Error

    try:
        return bool(
            await tab.evaluate("!!document.querySelector('meta[http-equiv=\"refresh\" i]')")
        )
    except Error:  # the document went away meanwhile: a navigation is on its way
        return True


async def check_pages(
    site: Path,
    pages: Sequence[str],
    browser_path: str,
    origin: str,
    search_query: str = "gradient",
    timeout: float = 60.0,
    jobs: int = 2,
    screenshots: Path | None = None,
    out: TextIO = sys.stdout,
) -> AsyncIterator[PageResult]:
    """Check `pages` of `site` (served at `origin`), `jobs` at a time; yield results in order.

    Prints the browser's version to `out` once it has started.
    """
    from playwright.async_api import Error, async_playwright

    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(
                executable_path=browser_path, args=list(LAUNCH_ARGS), timeout=60_000
            )
        except Error as error:
            output = [
                line for line in error.message.splitlines() if "][err]" in line or "][out]" in line
            ]
            raise SetupError(
                "\n".join(
                    [
                        f"{browser_path} did not start: {error.message.splitlines()[0]}",
                        *output[-20:],
                    ]
                )
            ) from None
        print(f"check_site: {len(pages)} pages at {origin}/, Chromium {browser.version}", file=out)
        slots = asyncio.Semaphore(jobs)

        async def one(page: str) -> PageResult:
            async with slots:
                url = f"{origin}/{urllib.parse.quote(page)}{page_query(page, search_query)}"
                shot = None if screenshots is None else screenshot_path(screenshots, page)
                result = await check_page(browser, page, url, timeout, shot)
            result.static_external = external_resource_links(
                (site / page).read_text(errors="replace")
            )
            return result

        tasks = [asyncio.ensure_future(one(page)) for page in pages]
        try:
            for task in tasks:
                yield await task
        finally:
            for task in tasks:
                task.cancel()
            await browser.close()


def check_site(
    site: Path,
    browser_path: str,
    only: Sequence[str] = (),
    search_query: str = "gradient",
    timeout: float = 60.0,
    jobs: int = 2,
    screenshots: Path | None = None,
    verbose: bool = False,
    out: TextIO | None = None,
) -> tuple[int, int]:
    """Check every page of `site` (or those matching `only`), print a report; return (passed, failed)."""
    out = out or sys.stdout
    pages = find_pages(site, only)
    if not pages:
        raise SetupError(
            f"no HTML pages under {site}" + (f" matching {list(only)}" if only else "")
        )
    counts = [0, 0]
    start = time.monotonic()

    async def run(origin: str) -> None:
        async for result in check_pages(
            site, pages, browser_path, origin, search_query, timeout, max(jobs, 1), screenshots, out
        ):
            failures = page_failures(result, origin)
            counts[bool(failures)] += 1
            lines = [format_page(result, failures, origin), *(f"      - {f}" for f in failures)]
            if verbose:
                lines.append(
                    "      . seconds: "
                    + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
                )
                lines += [f"      . warning: {w}" for w in result.warnings]
                lines += [
                    f"      . {r.status or r.error or '?'} {short_url(r.url, origin)}"
                    for r in result.requests
                ]
            print("\n".join(lines), file=out, flush=True)

    with SiteServer(site) as server:
        asyncio.run(run(server.origin))
    where = f", screenshots in {screenshots}" if screenshots is not None else ""
    print(f"check_site: {time.monotonic() - start:.1f} s for {len(pages)} pages{where}", file=out)
    print(count_line(*counts), file=out)
    return counts[0], counts[1]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check from the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        description="Open every page of the built book in headless Chromium (Playwright) and check"
        " it: no JavaScript error, images, MathJax, no network, no Python traceback; screenshots.",
    )
    parser.add_argument(
        "site",
        nargs="?",
        type=Path,
        help="built site (default: _build/html; with --student: _build/student/html)",
    )
    parser.add_argument(
        "--student",
        action="store_true",
        help="check the student edition's site, _build/student/html (make student)",
    )
    parser.add_argument(
        "--browser", help="Chromium/Chrome executable (default: $CHROMIUM, then PATH)"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="check only these pages (repeatable)",
    )
    parser.add_argument(
        "--search-query", default="gradient", help="query to open search.html with ('' for none)"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per page (default: 60)"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=2, help="pages checked at a time (default: 2)"
    )
    shots = parser.add_mutually_exclusive_group()
    shots.add_argument(
        "--screenshots",
        type=Path,
        metavar="DIR",
        help="screenshot folder (default: SITE/../screenshots)",
    )
    shots.add_argument("--no-screenshots", action="store_true", help="take no screenshots")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also print timings, warnings and requests"
    )
    args = parser.parse_args(argv)
    try:
        given, target = choose_site(args.site, args.student)
        site = given.resolve()
        screenshots = (
            None if args.no_screenshots else (args.screenshots or site.parent / "screenshots")
        )
        if not (site / "index.html").is_file():
            raise SetupError(f"{given}/index.html not found: build it first ({target})")
        try:
            import playwright  # noqa: F401
        except ImportError:
            raise SetupError(
                "Playwright is not installed: pip install -r requirements.txt"
            ) from None
        browser = find_browser(args.browser)
        _, n_failed = check_site(
            site,
            browser,
            args.only,
            args.search_query,
            args.timeout,
            args.jobs,
            screenshots,
            args.verbose,
        )
    except SetupError as error:
        print(f"check_site: error: {error}", file=sys.stderr)
        return 2
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
