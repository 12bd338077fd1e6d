// Runs in each loaded page of the built book (scripts/check_site.py passes
// it to Playwright's page.evaluate with one argument, a timeout in ms).
async (timeoutMs) => {
  const start = performance.now();
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const left = () => Math.max(timeoutMs - (performance.now() - start), 0);
  const images = Array.from(document.images);
  for (const img of images) if (img.loading === "lazy") img.loading = "eager";
  const settled = (img) => img.complete ? Promise.resolve() : new Promise((resolve) => {
    img.addEventListener("load", resolve, {once: true});
    img.addEventListener("error", resolve, {once: true});
  });
  await Promise.race([Promise.all(images.map(settled)), sleep(left())]);

  // The page has loaded, so a (deferred) MathJax script has run: if MathJax
  // has not started within a moment, its script failed to load or to run.
  let mathjax = "absent";
  if (window.MathJax || Array.from(document.scripts).some((s) => /mathjax/i.test(s.src || ""))) {
    const started = () => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    const grace = performance.now() + Math.min(left(), 3000);
    while (!started() && performance.now() < grace) await sleep(20);
    mathjax = !started() ? "not started (its script did not load or failed)" : await Promise.race([
      window.MathJax.startup.promise.then(() => "ready", (e) => "failed: " + e),
      sleep(left()).then(() => "still typesetting after the timeout"),
    ]);
  }
  const mathElements = Array.from(document.querySelectorAll("span.math, div.math"));
  const untypeset = mathElements.filter((e) => !e.querySelector("mjx-container"));

  const tracebacks = Array.from(document.querySelectorAll(
    ".output.traceback, .highlight-ipythontb, .highlight-pytb"));
  for (const e of document.querySelectorAll(".cell_output, .output, .output_area")) {
    if (e.textContent.includes("Traceback (most recent call last)")
        && !tracebacks.some((t) => t.contains(e) || e.contains(t))) tracebacks.push(e);
  }
  tracebacks.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));

  const skipTags = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TEXTAREA", "PRE", "CODE",
                            "KBD", "SAMP", "TT", "MJX-CONTAINER", "SVG", "MATH"]);
  const ignored = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      if (skipTags.has(e.tagName.toUpperCase()) || e.id === "search-results"
          || e.classList.contains("highlight")) return true;
    }
    return false;
  };
  const texts = [];
  const walker = document.createTreeWalker(document.body || document, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue;
    if ((text.includes("$") || text.includes("\\")) && !ignored(node.parentElement)) texts.push(text);
  }
  return {
    final_url: location.href,
    images: Array.from(document.images).map((img) => ({
      src: img.currentSrc || img.src || "", complete: img.complete, naturalWidth: img.naturalWidth})),
    math: {
      mathjax: mathjax,
      elements: mathElements.length,
      untypeset: untypeset.length,
      untypeset_example: untypeset.length ? untypeset[0].textContent.trim().slice(0, 80) : "",
      containers: document.querySelectorAll("mjx-container").length,
      errors: Array.from(document.querySelectorAll("mjx-merror")).slice(0, 10).map(
        (e) => e.getAttribute("data-mjx-error") || e.textContent),
    },
    tracebacks: tracebacks.map((e) => {
      const lines = e.textContent.split("\n").map((l) => l.trim()).filter((l) => l);
      return (lines.length ? lines[lines.length - 1] : "").slice(0, 120);
    }),
    texts: texts,
  };
}
