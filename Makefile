# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench eval clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/chiso demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy flows scrapers extractors models eval

bench: $(STAMP)
	$(BIN)/python -m bench

# Dev and test figures on the real-text set (eval/real/README.md); the texts come from eval/real/cache/.
eval: $(STAMP)
	$(BIN)/python -m eval.real --split all

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
