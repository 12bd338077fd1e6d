"""The Pages workflow runs what `make test` runs, each job executing the notebooks once."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
EXECUTES_NOTEBOOKS = {"test-notebooks", "test-book", "test-execute", "book", "book-all"}


def make_test_stages() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"for t in ([^;]+); do", makefile)
    assert match, "the test target's stage loop was not found in the Makefile"
    return match.group(1).split()


def job_targets(job: str) -> list[str]:
    """The make targets a job's steps run, in order."""
    targets: list[str] = []
    for step in WORKFLOW["jobs"][job]["steps"]:
        run = step.get("run", "")
        for loop in re.findall(r"for t in ([^;]+); do", run):
            targets += loop.split()
        targets += re.findall(r"\bmake (?:--no-print-directory )?([a-z][a-z-]*)", run)
    return targets


def test_the_jobs_together_run_every_stage_of_make_test():
    stages = set(make_test_stages())
    assert "test-execute" in stages  # make test runs nbval and the build side by side
    expected = (stages - {"test-execute"}) | {"test-notebooks", "test-book"}
    ran = set(job_targets("checks")) | set(job_targets("book"))
    assert expected <= ran, f"missing from the workflow: {sorted(expected - ran)}"


def test_each_job_executes_the_notebooks_at_most_once():
    for job in WORKFLOW["jobs"]:
        executing = [t for t in job_targets(job) if t in EXECUTES_NOTEBOOKS]
        assert len(executing) <= 1, (
            f"job {job} executes the notebooks {len(executing)} times: {executing}"
        )


def test_the_pdf_is_built_after_the_html_it_reuses_and_deploy_needs_both():
    book = job_targets("book")
    assert book.index("test-book") < book.index("check-site") < book.index("pdf")
    assert set(WORKFLOW["jobs"]["deploy"]["needs"]) == {"checks", "book"}


def test_the_student_edition_is_built_from_the_strict_build_and_published():
    book = job_targets("book")
    assert book.index("test-book") < book.index("test-student")
    steps = WORKFLOW["jobs"]["book"]["steps"]
    upload = next(i for i, s in enumerate(steps) if "upload-pages-artifact" in s.get("uses", ""))
    student = next(i for i, s in enumerate(steps) if "make test-student" in s.get("run", ""))
    assert student < upload and "_build/html/student" in steps[student]["run"]
