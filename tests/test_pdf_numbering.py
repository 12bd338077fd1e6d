"""The PDF edition numbers its chapters as the web book does (1, 2, ..., Part III included).

Sphinx's LaTeX writer makes every page a numbered chapter. Raw LaTeX blocks
(ignored by the HTML build) switch numbering off for the front matter,
restart it at 1 for chapter 1, and switch it off again for the appendix and
the reference pages.
"""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"


def page_text(name: str) -> str:
    path = BOOK / name
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def raw_latex(text: str) -> str:
    return "\n".join(re.findall(r"```\{raw\} latex\n(.*?)```", text, flags=re.S))


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return [Path(page).name for page in pages]


def file_of(page: str) -> str:
    return next(p.name for p in BOOK.iterdir() if p.stem == page)


def test_numbering_switches_where_the_web_book_numbers():
    pages = toc_pages()
    switches = {page: raw_latex(page_text(file_of(page))) for page in pages}
    switches = {page: latex for page, latex in switches.items() if "secnumdepth" in latex}
    assert list(switches) == ["intro", "01_chain_rule", "13_appendix"]
    assert r"\setcounter{secnumdepth}{-1}" in switches["intro"]
    assert r"\setcounter{chapter}{0}" in switches["01_chain_rule"]
    assert r"\setcounter{secnumdepth}{2}" in switches["01_chain_rule"]
    assert r"\setcounter{secnumdepth}{-1}" in switches["13_appendix"]


def test_the_switch_comes_before_the_chapter_title():
    for page in ("intro.md", "01_chain_rule.ipynb", "13_appendix.ipynb"):
        text = page_text(page)
        first_heading = re.search(r"^# ", text, flags=re.M)
        assert first_heading and text.index("secnumdepth") < first_heading.start()
