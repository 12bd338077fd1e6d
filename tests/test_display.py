"""show_source: highlighted HTML for the web book, a code fence for the PDF."""

import convlib
from convlib.display import SourceListing, show_source, source


def test_show_source_gives_html_and_markdown_but_no_latex():
    shown = show_source(convlib.rel_error)
    assert isinstance(shown, SourceListing)
    assert shown.text == source(convlib.rel_error)
    assert "def" in shown._repr_html_() and "<div" in shown._repr_html_()
    # myst-nb would typeset a text/latex output as display maths (PDF build)
    assert not hasattr(shown, "_repr_latex_")
    markdown = shown._repr_markdown_()
    assert markdown.startswith("```python\n") and markdown.endswith("\n```\n")
    assert "def rel_error" in markdown


def test_markdown_fence_is_longer_than_any_backtick_run_in_the_source():
    listing = SourceListing('x = """```"""\n')
    fence, _, rest = listing._repr_markdown_().partition("python\n")
    assert fence == "````"
    assert rest.endswith("\n````\n")
