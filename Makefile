# Build and test the book "Backpropagation through a CNN, from scratch".
#
#   make book    create .venv if needed, install, build the book (_build/html)
#   make test    lint, type check, unit tests + doctests, core install, Colab setup cell,
#                every notebook (nbval) and the strict book build side by side
#   make help    all targets
#
# Everything runs inside a virtual environment made with the Python you have
# (`python3`, or PYTHON=/path/to/python). Installs are redone only when
# requirements.txt or pyproject.toml change (a stamp file in the venv).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
VPY    := $(BIN)/python
STAMP  := $(VENV)/.convlib-installed

# Offline MNIST and Fashion-MNIST: when CONVLIB_DATA is not set and a copy
# of the data sits beside the repository (../shared/data/mnist/ and/or
# ../shared/data/fashion-mnist/, as on the project's own machines and CI),
# use it. Elsewhere convlib downloads the data to a per-user cache on first use.
ifndef CONVLIB_DATA
  ifneq ($(wildcard ../shared/data/mnist/*.gz ../shared/data/fashion-mnist/*.gz),)
    export CONVLIB_DATA := $(abspath ../shared/data)
  endif
endif

# Every notebook of the book (stored without outputs; nbval executes them).
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
# -W: warnings are errors; -n: nitpicky cross-references are off (numpydoc
# type names like "array_like" are prose, not objects); --keep-going: report
# every warning, then fail.
JB_FLAGS ?= -W --keep-going
JUPYTER_BOOK ?= $(BIN)/jupyter-book

# Print how long a stage took:  $(call timed,label,command)
define timed
@start=$$(date +%s); echo "==> $(1)"; \
	status=0; $(2) || status=$$?; \
	echo "==> $(1): $$(( $$(date +%s) - start )) s, exit $$status"; \
	exit $$status
endef

.PHONY: help venv install jupyter-cache-key book pdf student book-all test lint typecheck test-unit test-core test-setup-cell test-execute test-notebooks test-book test-student check-site check-site-student check-site-student-run clean distclean

help:
	@echo "make book            build the book into _build/html (creates .venv on first use)"
	@echo "make pdf             build the PDF edition into $(PDF) (installs TeX with apt-get if needed)"
	@echo "make student         build the student edition (no solutions; stubs graded by convlib.exercises) into $(STUDENT)/html, and a zip of its notebooks"
	@echo "make test            run every test: lint, type check, unit tests and doctests, core install, Colab setup cell, notebooks and strict book build (side by side), site check"
	@echo "make lint            ruff check and ruff format --check (settings in pyproject.toml)"
	@echo "make typecheck       mypy over convlib/ (settings in pyproject.toml's [tool.mypy])"
	@echo "make test-unit       pytest over tests/ and the doctests in convlib/"
	@echo "make test-core       pip install convlib without extras in a fresh venv, check no matplotlib, train"
	@echo "make test-setup-cell the notebooks' Colab setup cell installs convlib from a wheel in a fresh venv"
	@echo "make test-execute    test-notebooks and test-book side by side (each executes every notebook once)"
	@echo "make test-notebooks  pytest --nbval-lax over every notebook in book/, with times against book/_budgets.yml"
	@echo "make test-book       jupyter-book build . $(JB_FLAGS) --all (warnings are errors)"
	@echo "make test-student    the student edition from the notebooks the last build executed, strictly (-W), without executing them"
	@echo "make check-site      check every page of _build/html in headless Chromium (Playwright), screenshots in _build/screenshots"
	@echo "make check-site-student  the same for the student edition's site, $(STUDENT)/html (make student first; not part of make test)"
	@echo "make install         create .venv and install requirements.txt and convlib (editable)"
	@echo "make clean           remove _build and caches; make distclean also removes .venv"
	@echo "Variables: PYTHON=$(PYTHON) VENV=$(VENV)"

# --- environment ----------------------------------------------------------

$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "convlib needs Python >= 3.10, found " + sys.version.split()[0] + ": run make PYTHON=/path/to/python3.x")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install --disable-pip-version-check -r requirements.txt -e .
	@touch $@

venv: $(VPY)
install: $(STAMP)

# --- the book -------------------------------------------------------------

# Executed notebooks are kept in $(JCACHE) (jupyter-cache; _config.yml has
# execute_notebooks: cache), so the HTML and PDF builds share one execution.
# jupyter-cache knows each notebook's code but not convlib's: jupyter-cache-key
# empties the cache whenever convlib/, pyproject.toml or requirements.txt
# change (their digest is kept beside the cache), and the strict build of
# make test always starts from an empty cache, so it executes every notebook.
# The cache lives under _build/, never in the user's cache folder.
JCACHE := _build/.jupyter_cache
JCACHE_KEY = $(shell $(PYTHON) -c 'import hashlib, pathlib; h = hashlib.sha256(); files = sorted(pathlib.Path("convlib").rglob("*.py")) + [pathlib.Path("pyproject.toml"), pathlib.Path("requirements.txt")]; [h.update(str(f).encode() + b"\0" + f.read_bytes()) for f in files]; print(h.hexdigest()[:16])')

jupyter-cache-key:
	@key="$(JCACHE_KEY)"; \
	if [ -z "$$key" ]; then echo "ERROR: could not hash convlib's sources with $(PYTHON)" >&2; exit 1; fi; \
	if [ -d $(JCACHE) ] && [ "$$(cat $(JCACHE)/convlib-key 2>/dev/null)" != "$$key" ]; then \
	  echo "==> convlib or the pins changed since the notebooks were executed: emptying $(JCACHE)"; \
	  rm -rf $(JCACHE); \
	fi; \
	mkdir -p $(JCACHE); echo "$$key" > $(JCACHE)/convlib-key

book: $(STAMP) jupyter-cache-key
	$(call timed,book build,$(JUPYTER_BOOK) build . $(JB_FLAGS))
	@echo "Open $(CURDIR)/_build/html/index.html"

# The PDF edition: the whole book through Jupyter Book 1's LaTeX builder
# (XeLaTeX, Sphinx's standard class; settings in _config.yml's latex: and
# latex_elements). scripts/install_tex.sh installs TeX from Debian's packages
# when it is missing (root or passwordless sudo). Not part of `make test`.
# It shares the HTML build's execution through the jupyter-cache under
# _build/: after `make book` (or `make test`) it executes no notebook again.
PDF := _build/latex/convlib-book.pdf
pdf: $(STAMP) jupyter-cache-key
	@bash scripts/install_tex.sh >/dev/null
	$(call timed,PDF build,$(JUPYTER_BOOK) build . --builder pdflatex)
	@test -s $(PDF) || { echo "ERROR: $(PDF) was not written" >&2; exit 1; }
	@grep -o "Output written on [^ ]* ([0-9]* pages" _build/latex/convlib-book.log | sed 's/^Output written on /==> /;s/ (/: /'
	@if [ -d _build/html ]; then cp $(PDF) _build/html/convlib-book.pdf; echo "==> copied to _build/html/convlib-book.pdf"; fi

# A from-scratch build: every page is read and every notebook executed again.
book-all: $(STAMP)
	rm -rf $(JCACHE)
	@$(MAKE) --no-print-directory jupyter-cache-key
	$(call timed,book build (all pages),$(JUPYTER_BOOK) build . $(JB_FLAGS) --all)

# --- tests ----------------------------------------------------------------
# `make test` runs every stage even when one fails, prints how long each
# took, and fails if any part failed. pytest's exit code 5 ("no tests
# collected") counts as a failure, with its own message.

define pytest_stage
@start=$$(date +%s); echo "==> $(1)"; \
	status=0; $(VPY) -m pytest $(2) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "ERROR: $(1): pytest collected no tests" >&2; fi; \
	echo "==> $(1): $$(( $$(date +%s) - start )) s, exit $$status"; \
	exit $$status
endef

# ruff: the lint rules and the formatting (line length 100) set in
# pyproject.toml's [tool.ruff]. `ruff format .` fixes the formatting,
# `ruff check --fix .` what can be fixed automatically.
lint: $(STAMP)
	$(call timed,lint (ruff),( rc=0; $(BIN)/ruff check . || rc=1; $(BIN)/ruff format --check . || rc=1; exit $$rc ))

# mypy over convlib/ ([tool.mypy] in pyproject.toml: files, settings, and the
# packages without type information).
typecheck: $(STAMP)
	$(call timed,type check (mypy),$(BIN)/mypy)

test-unit: $(STAMP)
	$(call pytest_stage,unit tests and doctests,)

# `pip install convlib` without extras, in a fresh environment made with
# $(PYTHON): no matplotlib or IPython, and `python -m convlib.train` trains a
# small model (scripts/check_core_install.sh; ~10 s with pip's cache).
test-core:
	$(call timed,core install check,bash scripts/check_core_install.sh $(PYTHON))

# The notebooks' first cell (scripts/notebook_setup_cell.py) installs convlib
# on Colab. Here it runs in a fresh environment made with $(PYTHON), against a
# wheel of the working tree, and must make `import convlib` work; no notebook
# is executed (scripts/check_setup_cell.sh; about a minute with pip's cache).
test-setup-cell:
	$(call timed,Colab setup cell in a fresh venv,bash scripts/check_setup_cell.sh $(PYTHON))

# nbval; book/conftest.py prints each notebook's execution time against its
# budget in book/_budgets.yml (over budget: a warning line, not a failure).
# A subset: make test-notebooks NOTEBOOKS=book/01_chain_rule.ipynb
test-notebooks: $(STAMP)
	@if [ -z "$(NOTEBOOKS)" ]; then echo "ERROR: no notebooks in book/" >&2; exit 5; fi
	$(call pytest_stage,notebooks (nbval-lax),--nbval-lax $(NOTEBOOKS))

test-book: $(STAMP)
	@rm -rf $(JCACHE); $(MAKE) --no-print-directory jupyter-cache-key
	$(call timed,strict book build,$(JUPYTER_BOOK) build . $(JB_FLAGS) --all)

# nbval and the strict build each execute every notebook once, so a make test
# executes each notebook twice, never more. They run side by side, one per
# core, each with one BLAS thread (two multi-threaded BLAS pools on two cores
# would only fight). Their output goes to $(EXEC_LOGS)/ and is printed whole,
# the build's first, once both have finished, so the two never interleave; the
# target fails if either failed.
# The student edition (scripts/student_edition.py): the notebooks the book
# build executed (from the jupyter-cache, so nothing runs again), with every
# solution removed and a stub plus a grading cell for each exercise that has
# a checker; built strictly into its own site, with a zip of its notebooks.
STUDENT := _build/student
student: book
	@$(MAKE) --no-print-directory test-student
	@echo "Open $(CURDIR)/$(STUDENT)/html/index.html; notebooks: $(STUDENT)/convlib-book-student-notebooks.zip"

test-student: $(STAMP)
	$(call timed,student edition: notebooks without solutions,$(VPY) scripts/student_edition.py --cache $(JCACHE) --out $(STUDENT))
	$(call timed,student edition: strict build (no execution),$(JUPYTER_BOOK) build $(STUDENT)/src $(JB_FLAGS) --all --path-output $(STUDENT)/build)
	@rm -rf $(STUDENT)/html && cp -r $(STUDENT)/build/_build/html $(STUDENT)/html
	@cp $(STUDENT)/convlib-book-student-notebooks.zip $(STUDENT)/html/

EXEC_LOGS := _build/test-logs
test-execute: $(STAMP)
	@mkdir -p $(EXEC_LOGS); start=$$(date +%s); \
	echo "==> notebooks (nbval) and strict book build, side by side (output: $(EXEC_LOGS)/)"; \
	export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1; \
	$(MAKE) --no-print-directory test-notebooks >$(EXEC_LOGS)/notebooks.log 2>&1 & nbval_pid=$$!; \
	$(MAKE) --no-print-directory test-book >$(EXEC_LOGS)/book.log 2>&1 & book_pid=$$!; \
	nbval=0; wait $$nbval_pid || nbval=$$?; \
	book=0; wait $$book_pid || book=$$?; \
	cat $(EXEC_LOGS)/book.log $(EXEC_LOGS)/notebooks.log; \
	echo "==> notebooks and book build side by side: $$(( $$(date +%s) - start )) s, nbval exit $$nbval, book build exit $$book"; \
	[ $$nbval -eq 0 ] && [ $$book -eq 0 ]

# Every page of the built book in headless Chromium, driven by Playwright
# (scripts/check_site.py): no JavaScript error, every image loads, MathJax
# typesets the math, nothing comes from the network, no Python traceback in
# an output; a full-page screenshot of every page goes to _build/screenshots/.
# Needs Chromium or Chrome (bash scripts/install_chromium.sh installs
# Debian's; Playwright downloads no browser). Without a browser the check is
# skipped with a notice, except on CI (CI=true), where .ci/run installs one
# and a skip is an error.
check-site: $(STAMP)
	@if [ ! -f _build/html/index.html ]; then echo "ERROR: _build/html/index.html not found: run make book first" >&2; exit 2; fi
	@if [ "$${CI:-}" != "true" ] && ! bash scripts/install_chromium.sh --find >/dev/null 2>&1; then \
	  echo "==> site check SKIPPED: no Chromium/Chrome found (install one, e.g. sudo bash scripts/install_chromium.sh)"; \
	else \
	  $(MAKE) --no-print-directory check-site-run; \
	fi

check-site-run:
	@rm -rf _build/screenshots  # no screenshot of a page that is gone
	$(call timed,site check in Chromium,$(VPY) scripts/check_site.py _build/html --screenshots _build/screenshots)

# The same check of the student edition's site (make student builds it); its
# screenshots go to _build/student/screenshots. Not part of make test.
check-site-student: $(STAMP)
	@if [ ! -f $(STUDENT)/html/index.html ]; then echo "ERROR: $(STUDENT)/html/index.html not found: run make student first" >&2; exit 2; fi
	@if [ "$${CI:-}" != "true" ] && ! bash scripts/install_chromium.sh --find >/dev/null 2>&1; then \
	  echo "==> student site check SKIPPED: no Chromium/Chrome found (install one, e.g. sudo bash scripts/install_chromium.sh)"; \
	else \
	  rm -rf $(STUDENT)/screenshots; \
	  $(MAKE) --no-print-directory check-site-student-run; \
	fi

check-site-student-run:
	$(call timed,student site check in Chromium,$(VPY) scripts/check_site.py --student)

test: $(STAMP)
	@failed=""; total_start=$$(date +%s); \
	for t in lint typecheck test-unit test-core test-setup-cell test-execute test-student check-site; do \
	  $(MAKE) --no-print-directory $$t || failed="$$failed $$t"; \
	done; \
	echo "==> all tests: $$(( $$(date +%s) - total_start )) s"; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed" >&2; exit 1; fi; \
	echo "All test stages passed."

# --- housekeeping ---------------------------------------------------------

clean:
	rm -rf _build .pytest_cache .hypothesis .jupyter_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
