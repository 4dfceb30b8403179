# mlmcourse: the two commands a newcomer needs are `make lab` and `make test`.
# Both set up the environment on first use (a .venv beside this file).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mlmcourse-installed
# jupyter/ mirrors an environment's share/jupyter/ (see jupyter/README.md): the course's JupyterLab
# settings (lab/settings/overrides.json: no news pop-up, no update check) and the RISE widgets
# fix (labextensions/mlmcourse-rise-widgets). postBuild installs the same files on Binder/conda.
JUPYTER_FILES := $(wildcard jupyter/lab/settings/*.json jupyter/labextensions/*/*.json \
                            jupyter/labextensions/*/static/*)
JUPYTER_INSTALLED := $(JUPYTER_FILES:jupyter/%=$(VENV)/share/jupyter/%)
# CI and containers run as root; JupyterLab refuses root without this flag.
ROOTFLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup lab test test-fast test-altcpu test-uv hub-test lint slides book pdf bench reference execute clean help

help:
	@echo "make lab        set up on first use, then open the course in JupyterLab"
	@echo "make test       set up on first use, then run every test (unit, lme4 parity, notebooks, browser)"
	@echo "make test-fast  the same without the browser and slow tests (about a minute)"
	@echo "make test-altcpu  tests/engine, tests/rprint and notebooks 02, 04, 06 again under another OpenBLAS kernel (ALTCPU=Prescott)"
	@echo "make test-uv    the way without make, checked for real: uv run mlmcourse lab in a fresh copy (needs PyPI)"
	@echo "make hub-test   a class on a real JupyterHub: 5 unprivileged users run the quiz (root; about 4 minutes)"
	@echo "make lint       ruff check (the style and error checks configured in pyproject.toml)"
	@echo "make setup      create .venv, install the package, its dependencies and jupyter/ (JupyterLab settings), check the data"
	@echo "make slides     build offline reveal.js slides of every chapter notebook into build/slides/"
	@echo "make book       build the offline web book of the executed notebooks into build/book/ (index.html)"
	@echo "make pdf        the book as one printable PDF, build/book/mlmcourse.pdf (Chromium)"
	@echo "make bench      time the fits against plain statsmodels (and lme4 when Rscript is present)"
	@echo "make execute    re-execute the notebooks in place (outputs are committed)"
	@echo "make reference  regenerate lme4/lmerTest reference values (needs R with lme4 + lmerTest)"
	@echo "make clean      remove .venv, build/ and caches (never your saved answers)"

setup: $(STAMP) $(JUPYTER_INSTALLED)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m mlmcourse data
	touch $@

# a rule of its own, so an existing .venv gets these files (and their later edits) too
$(VENV)/share/jupyter/%: jupyter/% $(STAMP)
	mkdir -p $(@D)
	cp $< $@

lab: setup
	$(BIN)/jupyter lab $(ROOTFLAG) --notebook-dir=notebooks

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not browser and not slow"

# The engine's and statsmodels' tests once more under another OpenBLAS kernel than this CPU's
# (numpy's and scipy's wheels carry several; OPENBLAS_CORETYPE picks one): a test or a checked
# notebook cell that holds only with one kernel's rounding fails here. Prescott (SSE3, no AVX or
# FMA) runs on every x86-64 CPU; .ci/openblas_kernel.py stops if the override changes nothing.
# The notebooks are those that fit statsmodels models (OLS, MixedLM) in checked cells.
ALTCPU ?= Prescott
ALTCPU_TESTS := tests/engine tests/rprint notebooks/02_constructing_effects.ipynb \
                notebooks/04_appendix_and_coding.ipynb notebooks/06_statsmodels_on_your_own.ipynb

test-altcpu: setup
	$(BIN)/python .ci/openblas_kernel.py $(ALTCPU)
	OPENBLAS_CORETYPE=$(ALTCPU) $(BIN)/python -m pytest -q $(ALTCPU_TESTS)

# the README's way for a student without make (Windows): uv installs the course from PyPI into a
# fresh copy and `uv run mlmcourse lab` must answer; the offline installs are in `make test`
test-uv: setup
	MLMCOURSE_TEST_UV=1 $(BIN)/python -m pytest -s tests/tools/test_without_make.py -k uv

# a class on one JupyterHub, for real: see tests/hub/hub_class.py (as root; creates users mlmhub1..5)
hub-test: setup
	$(BIN)/python tests/hub/hub_class.py --users 5

lint: setup
	$(BIN)/ruff check .

slides: setup
	$(BIN)/python -m mlmcourse slides notebooks build/slides

book: setup
	$(BIN)/python -m mlmcourse book

pdf: setup
	$(BIN)/python -m mlmcourse book --pdf

bench: setup
	$(BIN)/python tests/benchmarks/run_bench.py

execute: setup
	$(BIN)/python -m mlmcourse execute notebooks

reference:
	Rscript tests/reference/make_reference.R
	Rscript tests/reference/make_parity_cases.R
	Rscript tests/reference/make_quiz_reference.R
	Rscript tests/reference/make_density_reference.R
	Rscript tests/reference/make_syntax_reference.R
	Rscript tests/reference/make_confint_reference.R
	Rscript tests/reference/make_lm_reference.R

clean:
	rm -rf $(VENV) build .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
