#!/usr/bin/env python3
"""Check the built book in a real headless browser (Chromium or Chrome).

Usage::

    python scripts/check_site.py [_build/html] [--browser PATH] [--only GLOB]
                                 [--jobs N] [--timeout SECONDS] [-v]

The site is served by a local HTTP server on 127.0.0.1 (as GitHub Pages
serves it, not from ``file://``) and every HTML page is opened in headless
Chromium, driven through the Chrome DevTools Protocol (CDP) over a websocket
(PyPI ``websocket-client``; no chromedriver, no browser download). A page
passes when

* it loads, with no uncaught JavaScript exception, no ``console.error`` and
  no error logged by the browser (e.g. a resource that failed to load);
* it requests nothing from the network: every request goes to the local
  server, or is a ``data:``, ``blob:`` or ``about:`` URL. The HTML is also
  read for resource links (``<script src>``, ``<link rel=stylesheet|preload|
  preconnect|dns-prefetch|icon>``, ``<img src>``, ...) to another host, which
  the browser might use without a request the page can see;
* every local request succeeds (HTTP status below 400);
* every ``<img>`` loads (``naturalWidth > 0``), including ``data:`` URIs and
  the frames that matplotlib's JavaScript animations put into an ``<img>``;
  lazy images are switched to eager loading first;
* if the page has math, MathJax has started and finished its first
  typesetting (``MathJax.startup.promise``), every ``span.math`` and
  ``div.math`` element holds an ``mjx-container``, MathJax reported no TeX
  error (``mjx-merror``), and no raw TeX (``$$``, ``\\(``, ``\\[``,
  ``\\begin{``, ``$\\alpha$``...) is left in the text outside code.

Every HTML file under the site is checked, except the template fragments in
``_static/``: the chapters, ``index.html`` (a redirect, followed), the
module-source pages, ``genindex.html``, ``py-modindex.html`` and
``search.html`` (opened with a query, so that the search itself runs).

The browser is found through ``--browser``, the ``CHROMIUM`` environment
variable, or on ``PATH`` (``chromium``, ``chromium-browser``,
``google-chrome-stable``, ``google-chrome``); ``scripts/install_chromium.sh``
installs Debian's ``chromium`` if none is there. All network access of the
browser itself is switched off (``--disable-background-networking`` and
friends) and host names do not resolve (``--host-resolver-rules``), so a
stray request fails fast instead of reaching the internet; it is reported
either way.

Each page is opened as a first visit, in a browser context of its own (no
cache, cookies or local storage from the pages before), so the result does
not depend on the order of the pages; ``--jobs`` pages are open at a time.
The browser's own request for ``/favicon.ico`` is not counted against a
page (the book sets no icon; a ``<link rel="icon">`` would be checked).

One line is printed per page (with ``-v`` also the time of each phase, the
warnings and every request), then ``N passed, N failed``. Exit status: 0 if
every page passed, 1 if one failed, 2 if the check could not run (no site,
no browser).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import dataclasses
import fnmatch
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

#: Browsers looked for on PATH, in this order.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")

#: Command-line switches: headless, no sandbox (CI containers run as root),
#: and none of the browser's own traffic (updates, sync, field trials...),
#: which would otherwise try to reach Google.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-client-side-phishing-detection",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--disable-dev-shm-usage",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    "--mute-audio",
    "--hide-scrollbars",
    "--window-size=1280,1024",
    # No host name resolves: a request to a CDN fails at once (and is
    # reported) instead of leaving the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

#: URL schemes that never touch the network.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})

#: Folders of the built site that hold no pages (template fragments, sources).
SKIPPED_DIRS = frozenset({"_static", "_sources", "_images", "_downloads"})

#: Raw TeX that MathJax should have replaced; searched in the page text
#: outside code. A delimited formula counts once; ``$...$`` counts only
#: around something TeX-like (a command, ``^`` or ``_``), not "$5 and $10".
RAW_TEX = re.compile(
    r"\$\$.{0,300}?\$\$"
    r"|\\\(.{0,300}?\\\)"
    r"|\\\[.{0,300}?\\\]"
    r"|\\begin\{.{0,300}?\\end\{\w+\*?\}"
    r"|\$\$|\\[()\[\]]|\\(?:begin|end)\{"
    r"|(?<![\w$])\$(?=\S)[^$\n]{0,200}?(?:\\[A-Za-z]+|[\^_]\{?\w)[^$\n]{0,200}?(?<=\S)\$(?![\w$])",
    re.DOTALL,
)

#: ``<link rel=...>`` values whose ``href`` the browser fetches or connects to.
FETCHING_LINK_RELS = frozenset(
    {
        "stylesheet",
        "preload",
        "modulepreload",
        "prefetch",
        "preconnect",
        "dns-prefetch",
        "prerender",
        "icon",
        "shortcut",
        "apple-touch-icon",
        "manifest",
    }
)

#: (tag, attribute) pairs whose URL the browser loads by itself.
FETCHING_ATTRS = frozenset(
    {
        ("script", "src"),
        ("img", "src"),
        ("img", "srcset"),
        ("source", "src"),
        ("source", "srcset"),
        ("iframe", "src"),
        ("frame", "src"),
        ("embed", "src"),
        ("object", "data"),
        ("video", "src"),
        ("video", "poster"),
        ("audio", "src"),
        ("track", "src"),
        ("input", "src"),
    }
)


class SetupError(RuntimeError):
    """The check could not run (no site, no browser, browser did not start)."""


class CDPError(RuntimeError):
    """A DevTools Protocol command failed or went unanswered."""


# ---------------------------------------------------------------------------
# Pure logic: which pages, which URLs are allowed, what counts as a failure.


def find_pages(site: Path, only: Sequence[str] = ()) -> list[str]:
    """List the pages of a built site.

    Parameters
    ----------
    site : pathlib.Path
        Root of the built site (e.g. ``_build/html``).
    only : sequence of str, optional
        Shell-style patterns (``fnmatch``) on the relative path; if given,
        only matching pages are listed.

    Returns
    -------
    list of str
        Relative POSIX paths of every ``.html`` file, sorted, leaving out the
        folders in `SKIPPED_DIRS` (template fragments such as
        ``_static/webpack-macros.html`` are not pages).
    """
    pages = []
    for path in site.rglob("*.html"):
        rel = path.relative_to(site)
        if rel.parts[0] in SKIPPED_DIRS or not path.is_file():
            continue
        posix = rel.as_posix()
        if only and not any(fnmatch.fnmatch(posix, pattern) for pattern in only):
            continue
        pages.append(posix)
    return sorted(pages)


def page_query(page: str, search_query: str) -> str:
    """Query string to open `page` with (``?q=...`` for the search page)."""
    if search_query and page.rsplit("/", 1)[-1] == "search.html":
        return "?" + urllib.parse.urlencode({"q": search_query})
    return ""


def is_allowed_url(url: str, origin: str) -> bool:
    """Whether loading `url` stays off the network.

    Parameters
    ----------
    url : str
        A URL the page requested.
    origin : str
        The local server, e.g. ``"http://127.0.0.1:8000"``.

    Returns
    -------
    bool
        True for ``data:``, ``blob:`` and ``about:`` URLs and for URLs on
        `origin`; False for anything else (another host or port, ``file:``,
        ``ws:``...).
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in LOCAL_SCHEMES:
        return True
    own = urllib.parse.urlsplit(origin)
    return scheme == own.scheme.lower() and parts.netloc.lower() == own.netloc.lower()


def short_url(url: str, origin: str = "", limit: int = 100) -> str:
    """`url` for a report: relative to `origin`, ``data:`` URIs cut short."""
    if origin and url.startswith(origin + "/"):
        url = url[len(origin) :]
    if len(url) > limit:
        url = url[: limit - 3] + "..."
    return url


def is_favicon_probe(url: str, origin: str) -> bool:
    """Whether `url` is the ``/favicon.ico`` that browsers ask every site for.

    A site without that file answers 404, which is no fault of the page (a
    book sets its icon with ``<link rel="icon">``, checked like any image).
    """
    return url.split("?")[0] == f"{origin}/favicon.ico"


def find_raw_tex(texts: Iterable[str], limit: int = 5) -> list[str]:
    """Raw TeX left in page text.

    Parameters
    ----------
    texts : iterable of str
        Text of the page outside code, one string per text node.
    limit : int, optional
        At most this many snippets are returned.

    Returns
    -------
    list of str
        A short snippet around each match of `RAW_TEX`.
    """
    found = []
    for text in texts:
        for match in RAW_TEX.finditer(text):
            start = max(match.start() - 20, 0)
            end = min(match.end(), match.start() + 60) + 20
            found.append(" ".join(text[start:end].split()))
            if len(found) >= limit:
                return found
    return found


class _ResourceLinkParser(html.parser.HTMLParser):
    """Collects ``(description, url)`` for every URL the browser fetches itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "link":
            rel = values.get("rel", "")
            if set(rel.lower().split()) & FETCHING_LINK_RELS and values.get("href"):
                self.links.append((f'<link rel="{rel}" href="{values["href"]}">', values["href"]))
            return
        for name, value in values.items():
            if (tag, name) not in FETCHING_ATTRS or not value:
                continue
            if name.endswith("srcset"):  # "a.png 1x, b.png 2x"
                urls = [item.split()[0] for item in value.split(",") if item.split()]
            else:
                urls = [value]
            self.links += [(f'<{tag} {name}="{url}">', url) for url in urls]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def external_resource_links(page_html: str) -> list[str]:
    """Resource links in an HTML page that point to another host.

    Parameters
    ----------
    page_html : str
        The page's HTML source.

    Returns
    -------
    list of str
        One ``<tag attr="url">`` description for every URL that the browser
        would load or connect to by itself (scripts, stylesheets, preloads,
        preconnects, icons, images, frames, media) and that is absolute
        (``http:``, ``https:``, ``//host``, ``file:``...) rather than
        relative or a ``data:``/``blob:`` URI. Plain links (``<a href>``)
        are not resources.
    """
    parser = _ResourceLinkParser()
    parser.feed(page_html)
    parser.close()
    external = []
    for description, url in parser.links:
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if url.startswith("//") or (scheme and scheme not in LOCAL_SCHEMES):
            external.append(description)
    return external


@dataclasses.dataclass
class Request:
    """One network request made by a page (redirects count separately)."""

    url: str
    resource_type: str = ""
    status: int | None = None
    error: str = ""
    canceled: bool = False
    done: bool = False


@dataclasses.dataclass
class PageResult:
    """What the browser saw while loading one page.

    Attributes
    ----------
    page : str
        Relative path of the page in the site.
    url : str
        URL the page was opened with.
    requests : list of Request
        Every request, in order.
    console_errors, exceptions, warnings : list of str
        ``console.error``/``console.assert`` calls and browser log errors;
        uncaught exceptions; console and log warnings (reported with -v,
        never a failure).
    probe : dict or None
        What the in-page script found (images, math, final URL), or None if
        the page never got that far.
    load_error : str
        Why the page failed to load ("" if it loaded).
    static_external : list of str
        Resource links to another host found in the HTML source.
    seconds : float
        Time spent on the page.
    timings : dict of str to float
        Seconds spent in each phase (``load``, ``probe``, ``settle``).
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
    seconds: float = 0.0
    timings: dict[str, float] = dataclasses.field(default_factory=dict)


def _counted(messages: Sequence[str]) -> list[str]:
    """Each distinct message once, in order, with ``(N times)`` if repeated."""
    counts = collections.Counter(messages)
    return [m if counts[m] == 1 else f"{m} ({counts[m]} times)" for m in dict.fromkeys(messages)]


def page_failures(result: PageResult, origin: str) -> list[str]:
    """Everything wrong with a page.

    Parameters
    ----------
    result : PageResult
        What the browser saw.
    origin : str
        The local server's origin, e.g. ``"http://127.0.0.1:8000"``.

    Returns
    -------
    list of str
        One message per problem; empty if the page passes.
    """
    failures = []
    if result.load_error:
        failures.append(f"load: {result.load_error}")
    for item in result.static_external:
        failures.append(f"network: HTML links a resource on another host: {item}")
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
    probe = result.probe
    if probe is None:
        if not result.load_error:
            failures.append("load: the page was never checked")
        return failures
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
    for error in math.get("errors", []):
        failures.append(f"math: MathJax error {error!r}")
    for snippet in find_raw_tex(probe.get("texts", [])):
        failures.append(f"math: raw TeX in the text: {snippet!r}")
    return failures


def format_page(result: PageResult, failures: Sequence[str], origin: str = "") -> str:
    """The summary line of one page (its failures are printed below it)."""
    probe = result.probe or {}
    math = probe.get("math", {})
    parts = [
        f"{len(result.requests)} requests",
        f"{len(probe.get('images', []))} images",
        f"{math.get('containers', 0)} formulas",
    ]
    final = short_url(str(probe.get("final_url", "")), origin, limit=200).split("?")[0].lstrip("/")
    if final and final != result.page:
        parts.append(f"redirected to {final}")
    status = "FAIL" if failures else "PASS"
    return f"{status}  {result.page}  {result.seconds:.2f} s  ({', '.join(parts)})"


def count_line(n_passed: int, n_failed: int) -> str:
    """The closing line, ``N passed, N failed``."""
    return f"{n_passed} passed, {n_failed} failed"


# ---------------------------------------------------------------------------
# The local web server.


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SiteServer:
    """Serve a folder on ``http://127.0.0.1:<free port>`` from a thread.

    Use as a context manager; `origin` is the server's base URL.
    """

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


# ---------------------------------------------------------------------------
# The browser and the DevTools Protocol.


def _runs(path: str) -> bool:
    """Whether ``path --version`` succeeds (Ubuntu's chromium-browser may be a snap stub)."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def find_browser(explicit: str | None = None) -> str:
    """Path of a working Chromium or Chrome executable.

    Parameters
    ----------
    explicit : str, optional
        A path or command name given by the user; if given, it is the only
        one tried.

    Returns
    -------
    str

    Raises
    ------
    SetupError
        If no browser is found, or the one named does not run.
    """
    if explicit:
        path = shutil.which(explicit)
        if path is None or not _runs(path):
            raise SetupError(f"--browser {explicit!r} is not an executable that runs")
        return path
    candidates = [os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else []
    for candidate in [*candidates, *BROWSER_NAMES]:
        path = shutil.which(candidate)
        if path and _runs(path):
            return path
    raise SetupError(
        "no working Chromium or Chrome found (looked for $CHROMIUM, "
        + ", ".join(BROWSER_NAMES)
        + "); install one with `bash scripts/install_chromium.sh`"
    )


class CDPConnection:
    """A DevTools Protocol connection over one websocket.

    Commands are answered in order on one thread; events that arrive while
    waiting are kept in a queue for `next_event`.
    """

    def __init__(self, ws_url: str, timeout: float) -> None:
        import websocket  # websocket-client; imported here so that the pure logic needs no package

        self._timeout_error = websocket.WebSocketTimeoutException
        self._lost_errors = (websocket.WebSocketException, OSError)
        # The browser sends valid UTF-8; checking it in pure Python costs seconds.
        self._ws = websocket.create_connection(
            ws_url, timeout=timeout, suppress_origin=True, skip_utf8_validation=True
        )
        self._next_id = 0
        self._events: collections.deque[dict[str, Any]] = collections.deque()

    def close(self) -> None:
        self._ws.close()

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            self._ws.settimeout(remaining)
            return json.loads(self._ws.recv())
        except self._timeout_error:
            return None
        except self._lost_errors as error:
            raise CDPError(f"lost the connection to the browser: {error!r}") from None

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Send a command and return its result.

        Raises
        ------
        CDPError
            If the browser answers with an error or not within `timeout` s.
        """
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            self._ws.send(json.dumps(message))
        except self._lost_errors as error:
            raise CDPError(f"lost the connection to the browser: {error!r}") from None
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline)
            if answer is None:
                raise CDPError(f"{method}: no answer within {timeout:g} s")
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise CDPError(
                        f"{method}: {answer['error'].get('message')} {answer['error'].get('data', '')}"
                    )
                return answer.get("result", {})
            if "method" in answer:
                self._events.append(answer)

    def next_event(self, deadline: float) -> dict[str, Any] | None:
        """The next event (queued first), or None once `deadline` has passed."""
        if self._events:
            return self._events.popleft()
        while True:
            message = self._receive(deadline)
            if message is None or "method" in message:
                return message


class Browser:
    """Headless Chromium in a fresh profile, driven over DevTools; a context manager.

    Parameters
    ----------
    executable : str
        Chromium or Chrome.
    startup_timeout : float, optional
        Seconds to wait for the DevTools port.

    Attributes
    ----------
    cdp : CDPConnection
        A connection to the browser (open between ``__enter__`` and
        ``__exit__``); `connect` opens more, one per thread.
    version : str
        The browser's product name and version.
    """

    def __init__(self, executable: str, startup_timeout: float = 30.0) -> None:
        self.executable = executable
        self._startup_timeout = startup_timeout
        self._profile = tempfile.TemporaryDirectory(prefix="check-site-profile-")
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in close()
        self._process: subprocess.Popen[bytes] | None = None
        self._ws_url = ""
        self._connections: list[CDPConnection] = []
        self.cdp: CDPConnection | None = None
        self.version = ""

    def connect(self) -> CDPConnection:
        """Open another DevTools connection to the browser (closed on exit)."""
        connection = CDPConnection(self._ws_url, timeout=self._startup_timeout)
        self._connections.append(connection)
        return connection

    def __enter__(self) -> Browser:
        command = [
            self.executable,
            *BROWSER_FLAGS,
            f"--user-data-dir={self._profile.name}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._ws_url = self._wait_for_devtools()
            self.cdp = self.connect()
            self.version = self.cdp.call("Browser.getVersion").get("product", "")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _browser_output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    def _wait_for_devtools(self) -> str:
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + self._startup_timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SetupError(
                    f"{self.executable} exited with status {self._process.returncode} at start-up:\n"
                    + self._browser_output()
                )
            lines = port_file.read_text().split() if port_file.is_file() else []
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            match = re.search(r"DevTools listening on (ws://\S+)", self._browser_output())
            if match:
                return match.group(1)
            time.sleep(0.05)
        raise SetupError(
            f"{self.executable} did not open its DevTools port within {self._startup_timeout:g} s:\n"
            + self._browser_output()
        )

    def __exit__(self, *exc: object) -> None:
        if self.cdp is not None:
            with contextlib.suppress(Exception):  # the browser may be gone already
                self.cdp.call("Browser.close", timeout=5)
        for connection in self._connections:
            with contextlib.suppress(Exception):
                connection.close()
        self._connections.clear()
        self.cdp = None
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # Its own process group (start_new_session): the renderers too.
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)
            self._process = None
        self._log.close()
        self._profile.cleanup()


#: Runs in the page once it has loaded: waits for the images and for MathJax,
#: then reports what it found. Its argument is a timeout in milliseconds.
PROBE_JS = r"""
async (timeoutMs) => {
  const start = performance.now();
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const left = () => Math.max(timeoutMs - (performance.now() - start), 0);

  // Images: load lazy ones too, then wait until each has loaded or failed.
  const images = Array.from(document.images);
  for (const img of images) if (img.loading === "lazy") img.loading = "eager";
  const settled = (img) => img.complete ? Promise.resolve() : new Promise((resolve) => {
    img.addEventListener("load", resolve, {once: true});
    img.addEventListener("error", resolve, {once: true});
  });
  await Promise.race([Promise.all(images.map(settled)), sleep(left())]);

  // MathJax: wait until it has started and finished its first typesetting.
  // The page has loaded, so its (deferred) MathJax script has run: if MathJax
  // has not started within a moment, its script failed to load or to run.
  let mathjax = "absent";
  const mathjaxScript = Array.from(document.scripts).some((s) => /mathjax/i.test(s.src || ""));
  if (mathjaxScript || window.MathJax) {
    const started = () => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    const grace = performance.now() + Math.min(left(), 3000);
    while (!started() && performance.now() < grace) await sleep(20);
    if (!started()) {
      mathjax = "not started (its script did not load or failed)";
    } else {
      mathjax = await Promise.race([
        window.MathJax.startup.promise.then(() => "ready", (e) => "failed: " + e),
        sleep(left()).then(() => "still typesetting after the timeout"),
      ]);
    }
  }
  const mathElements = Array.from(document.querySelectorAll("span.math, div.math"));
  const untypeset = mathElements.filter((e) => !e.querySelector("mjx-container"));

  // Text that could hold raw TeX: all of it except code, MathJax's output
  // and Sphinx's search results (excerpts of the sources, never typeset).
  // Not skipped: "tex2jax_ignore mathjax_ignore", which myst-nb puts on the
  // whole of a notebook page (MathJax then only looks inside .math).
  const skipTags = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TEXTAREA", "PRE", "CODE",
                            "KBD", "SAMP", "TT", "MJX-CONTAINER", "SVG", "MATH"]);
  const ignored = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      if (skipTags.has(e.tagName.toUpperCase()) || e.id === "search-results") return true;
      if (e.classList.contains("highlight")) return true;
    }
    return false;
  };
  const texts = [];
  if (document.body) {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.nodeValue;
      if ((text.includes("$") || text.includes("\\")) && !ignored(node.parentElement)) texts.push(text);
    }
  }

  return {
    final_url: location.href,
    images: Array.from(document.images).map((img) => ({
      src: img.currentSrc || img.src || "",
      complete: img.complete,
      naturalWidth: img.naturalWidth,
    })),
    math: {
      mathjax: mathjax,
      elements: mathElements.length,
      untypeset: untypeset.length,
      untypeset_example: untypeset.length ? untypeset[0].textContent.trim().slice(0, 80) : "",
      containers: document.querySelectorAll("mjx-container").length,
      errors: Array.from(document.querySelectorAll("mjx-merror")).slice(0, 10).map(
        (e) => e.getAttribute("data-mjx-error") || e.textContent),
    },
    texts: texts,
  };
}
"""


def _remote_object_text(obj: dict[str, Any]) -> str:
    """Text of a console argument (a CDP ``Runtime.RemoteObject``)."""
    if "value" in obj:
        value = obj["value"]
        return value if isinstance(value, str) else json.dumps(value)
    return str(obj.get("description") or obj.get("unserializableValue") or obj.get("type", ""))


def _exception_text(details: dict[str, Any]) -> str:
    """First line of an exception (a CDP ``Runtime.ExceptionDetails``), with where it happened."""
    exception = details.get("exception") or {}
    text = (exception.get("description") or details.get("text") or "exception").strip()
    text = text.splitlines()[0] if text else "exception"
    if details.get("url"):
        text += f" at {details['url']}:{details.get('lineNumber', 0) + 1}"
    return text


class PageChecker:
    """Opens pages one at a time, each as a first visit, and records what happens.

    Every page gets a browser context of its own (like a fresh incognito
    window: no cache, cookies or local storage from the pages before), so
    the result does not depend on the order of the pages.

    Parameters
    ----------
    cdp : CDPConnection
        A connection to the browser, used by this checker only.
    origin : str
        The local server, e.g. ``"http://127.0.0.1:8000"``.
    timeout : float
        Seconds allowed for each page.
    settle : float, optional
        The page is done when no request has been in flight for this long
        after the in-page checks.
    """

    def __init__(
        self, cdp: CDPConnection, origin: str, timeout: float, settle: float = 0.25
    ) -> None:
        self.cdp = cdp
        self.origin = origin
        self.timeout = timeout
        self.settle = settle

    def check(self, page: str, url: str) -> PageResult:
        """Open `url` and return what happened, as the `PageResult` of `page`."""
        result = PageResult(page=page, url=url)
        start = time.monotonic()
        try:
            context = self.cdp.call("Target.createBrowserContext", {"disposeOnDetach": True})[
                "browserContextId"
            ]
        except CDPError as error:
            result.load_error = f"could not open a tab: {error}"
            return result
        try:
            target = self.cdp.call(
                "Target.createTarget", {"url": "about:blank", "browserContextId": context}
            )
            session = self.cdp.call(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
            )
            _PageRun(self, session["sessionId"], result).run(url)
        except CDPError as error:
            result.load_error = result.load_error or str(error)
        finally:
            with contextlib.suppress(CDPError):
                self.cdp.call(
                    "Target.disposeBrowserContext", {"browserContextId": context}, timeout=10
                )
            result.seconds = time.monotonic() - start
        return result


class _PageRun:
    """One page in one tab: the DevTools events, folded into a `PageResult`."""

    def __init__(self, checker: PageChecker, session: str, result: PageResult) -> None:
        self.checker = checker
        self.cdp = checker.cdp
        self.session = session
        self.result = result
        self.by_id: dict[str, Request] = {}
        self.pending: set[str] = set()
        self.main_frame = ""
        self.loaded = False
        self.loading = False
        self.documents = 0  # documents committed in the main frame
        self.crashed = False

    def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        return self.cdp.call(method, params, session=self.session, timeout=timeout)

    def run(self, url: str) -> None:
        timeout = self.checker.timeout
        deadline = time.monotonic() + timeout
        for domain in ("Inspector", "Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        navigation = self.call("Page.navigate", {"url": url}, timeout=timeout)
        self.main_frame = navigation.get("frameId", "")
        if navigation.get("errorText"):
            self.result.load_error = f"could not open {url}: {navigation['errorText']}"
            self.pump(lambda: False, 0.2)
            return
        self.loading = True

        def loaded() -> bool:  # the load event fired and the main frame is not navigating again
            return self.crashed or (self.loaded and not self.loading)

        if not self.pump(loaded, deadline - time.monotonic()):
            self.result.load_error = f"not loaded within {timeout:g} s"
            return
        if self.crashed:
            self.result.load_error = "the page's renderer process crashed"
            return
        # A page that redirects with <meta http-equiv="refresh"> (Jupyter
        # Book's index.html) is checked where it leads.
        documents = self.documents
        if self.has_meta_refresh() and not self.pump(
            lambda: self.documents > documents and loaded(), deadline - time.monotonic()
        ):
            self.result.load_error = (
                f"its <meta http-equiv=refresh> redirect did not load within {timeout:g} s"
            )
            return
        self.result.timings["load"] = time.monotonic() - (deadline - timeout)
        probe_start = time.monotonic()
        for attempt in (1, 2):
            probe_ms = max(deadline - time.monotonic(), 1.0) * 1000
            try:
                answer = self.call(
                    "Runtime.evaluate",
                    {
                        "expression": f"({PROBE_JS})({probe_ms:.0f})",
                        "awaitPromise": True,
                        "returnByValue": True,
                    },
                    timeout=max(deadline - time.monotonic(), 1.0) + 5,
                )
            except CDPError as error:
                # The page navigated away while the probe ran (a redirect
                # that came late): wait for the new page and probe again.
                if attempt == 2 or not self.pump(
                    lambda: self.loaded and not self.loading, deadline - time.monotonic()
                ):
                    raise CDPError(f"the in-page check failed: {error}") from None
                continue
            if "exceptionDetails" in answer:
                self.result.load_error = "the in-page check failed: " + _exception_text(
                    answer["exceptionDetails"]
                )
                return
            self.result.probe = answer.get("result", {}).get("value") or {}
            break
        settle_start = time.monotonic()
        self.result.timings["probe"] = settle_start - probe_start
        self.wait_quiet(deadline)
        self.result.timings["settle"] = time.monotonic() - settle_start

    def has_meta_refresh(self) -> bool:
        """Whether the current document redirects with ``<meta http-equiv="refresh">``."""
        expression = "document.querySelector('meta[http-equiv=\"refresh\" i]') !== null"
        try:
            answer = self.call(
                "Runtime.evaluate", {"expression": expression, "returnByValue": True}
            )
        except CDPError:  # the document went away meanwhile: a navigation is on its way
            return True
        return answer.get("result", {}).get("value") is True

    def wait_quiet(self, deadline: float) -> None:
        """Read events until no request has been in flight for `settle` seconds."""
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if self.pending or self.loading:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= self.checker.settle:
                return
            self.pump(lambda: False, 0.05)

    def pump(self, done: Any, timeout: float) -> bool:
        """Read this tab's events until ``done()`` is true; False on timeout."""
        deadline = time.monotonic() + timeout
        while not done():
            event = self.cdp.next_event(deadline)
            if event is None:
                return bool(done())
            if event.get("sessionId") == self.session:
                self.observe(event["method"], event.get("params", {}))
        return True

    def observe(self, method: str, params: dict[str, Any]) -> None:
        """Fold one DevTools event into the result."""
        result = self.result
        if method == "Network.requestWillBeSent":
            request_id = params["requestId"]
            if "redirectResponse" in params and request_id in self.by_id:
                self.by_id[request_id].status = params["redirectResponse"].get("status")
            request = Request(url=params["request"]["url"], resource_type=params.get("type", ""))
            result.requests.append(request)
            self.by_id[request_id] = request
            self.pending.add(request_id)
        elif method == "Network.webSocketCreated":
            result.requests.append(Request(url=params["url"], resource_type="WebSocket"))
        elif method == "Network.responseReceived":
            if params["requestId"] in self.by_id:
                self.by_id[params["requestId"]].status = params["response"].get("status")
        elif method == "Network.loadingFinished":
            self.pending.discard(params["requestId"])
        elif method == "Network.loadingFailed":
            self.pending.discard(params["requestId"])
            request = self.by_id.get(params["requestId"])
            if request is not None:
                request.error = params.get("blockedReason") or params.get("errorText") or "failed"
                request.canceled = bool(params.get("canceled"))
        elif method == "Runtime.exceptionThrown":
            result.exceptions.append(_exception_text(params["exceptionDetails"]))
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(_remote_object_text(arg) for arg in params.get("args", []))
            if params.get("type") in ("error", "assert"):
                result.console_errors.append(text)
            elif params.get("type") == "warning":
                result.warnings.append(f"console: {text}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            text = f"[{entry.get('source', 'browser')}] {entry.get('text', '')}"
            if entry.get("url"):
                text += f" ({short_url(entry['url'], self.checker.origin)})"
            url = entry.get("url", "")
            # A resource that failed to load is reported with its request
            # (if the page made it); the browser's /favicon.ico probe is not
            # the page's doing.
            reported = (
                entry.get("source") == "network"
                and url
                and any(request.url == url for request in result.requests)
            )
            if (
                entry.get("level") == "error"
                and not reported
                and not is_favicon_probe(url, self.checker.origin)
            ):
                result.console_errors.append(text)
            elif entry.get("level") in ("error", "warning"):
                result.warnings.append(text)
        elif method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Inspector.targetCrashed":
            self.crashed = True
        elif (
            method == "Page.frameNavigated" and params.get("frame", {}).get("id") == self.main_frame
        ):
            self.documents += 1
        elif method == "Page.frameStartedLoading" and params.get("frameId") == self.main_frame:
            self.loading, self.loaded = True, False
        elif method == "Page.frameStoppedLoading" and params.get("frameId") == self.main_frame:
            self.loading = False


# ---------------------------------------------------------------------------
# Command line.


def check_site(
    site: Path,
    browser_path: str,
    only: Sequence[str] = (),
    search_query: str = "gradient",
    timeout: float = 30.0,
    jobs: int = 1,
    verbose: bool = False,
    out: TextIO | None = None,
) -> tuple[int, int]:
    """Check every page of a built site and print a report.

    Parameters
    ----------
    site : pathlib.Path
        Root of the built site (the folder holding ``index.html``).
    browser_path : str
        Chromium or Chrome executable.
    only : sequence of str, optional
        Patterns (``fnmatch``) restricting the pages checked.
    search_query : str, optional
        Query to open ``search.html`` with (empty: open it bare).
    timeout : float, optional
        Seconds allowed per page.
    jobs : int, optional
        Pages checked at the same time (tabs, each with its own connection).
    verbose : bool, optional
        Also print timings, warnings and every request.
    out : file-like, optional
        Where to print (default: standard output).

    Returns
    -------
    (int, int)
        Number of pages passed and failed.

    Raises
    ------
    SetupError
        If the site has no pages or the browser does not start.
    """
    out = out or sys.stdout
    pages = find_pages(site, only)
    if not pages:
        raise SetupError(
            f"no HTML pages under {site}" + (f" matching {list(only)}" if only else "")
        )
    start = time.monotonic()
    jobs = max(1, min(jobs, len(pages)))
    n_passed = n_failed = 0
    with SiteServer(site) as server, Browser(browser_path) as browser:
        print(
            f"check_site: {len(pages)} pages of {site} at {server.origin}/,"
            f" {browser.version}, {jobs} at a time",
            file=out,
        )
        checkers = [PageChecker(browser.connect(), server.origin, timeout) for _ in range(jobs)]

        def check(index: int) -> PageResult:
            page = pages[index]
            url = f"{server.origin}/{urllib.parse.quote(page)}{page_query(page, search_query)}"
            result = checkers[index % jobs].check(page, url)
            result.static_external = external_resource_links(
                (site / page).read_text(errors="replace")
            )
            return result

        def report(result: PageResult) -> bool:
            failures = page_failures(result, server.origin)
            print(format_page(result, failures, server.origin), file=out)
            for failure in failures:
                print(f"      - {failure}", file=out)
            if verbose:
                print(
                    "      . seconds: "
                    + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items()),
                    file=out,
                )
                for warning in result.warnings:
                    print(f"      . warning: {warning}", file=out)
                for request in result.requests:
                    status = request.status if request.status is not None else request.error or "?"
                    print(f"      . {status} {short_url(request.url, server.origin)}", file=out)
            out.flush()
            return not failures

        # Page i goes to checker i % jobs; each checker's pages run in order on
        # its own thread, and the report follows the order of the pages.
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            lanes = [
                pool.submit(lambda lane: [check(i) for i in range(lane, len(pages), jobs)], lane)
                for lane in range(jobs)
            ]
            results = [lane.result() for lane in lanes]
        for index in range(len(pages)):
            if report(results[index % jobs][index // jobs]):
                n_passed += 1
            else:
                n_failed += 1
    print(f"check_site: {time.monotonic() - start:.1f} s for {len(pages)} pages", file=out)
    print(count_line(n_passed, n_failed), file=out)
    return n_passed, n_failed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check from the command line and return the exit status."""
    parser = argparse.ArgumentParser(
        description="Open every page of the built book in headless Chromium and check it: "
        "no JavaScript errors, every image loads, MathJax typesets the math, no network access.",
    )
    parser.add_argument(
        "site",
        nargs="?",
        default="_build/html",
        type=Path,
        help="built site (default: _build/html)",
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
        "--timeout", type=float, default=30.0, help="seconds per page (default: 30)"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=2, help="pages checked at a time (default: 2)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also print timings, warnings and requests"
    )
    args = parser.parse_args(argv)
    try:
        if not (args.site / "index.html").is_file():
            raise SetupError(f"{args.site}/index.html not found: build the book first (make book)")
        browser = find_browser(args.browser)
        _, n_failed = check_site(
            args.site.resolve(),
            browser,
            args.only,
            args.search_query,
            args.timeout,
            args.jobs,
            args.verbose,
        )
    except SetupError as error:
        print(f"check_site: error: {error}", file=sys.stderr)
        return 2
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
