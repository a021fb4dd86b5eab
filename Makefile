# Two commands for a newcomer: `make demo` and `make test`. Everything they
# need is installed into .venv on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out

.PHONY: venv demo test test-py test-gimp test-gimp-3.0 test-gimp-3.2 evaluate bench bench-server gpu-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch and torchvision come together from the registry (a lone local
	# torch wheel may not match the registry's torchvision).
	$(PY) -m pip install --quiet "torch>=2.14" torchvision
	$(PY) -m pip install --quiet -e ".[test,evaluate,cluster]"
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(PY) -m magic_engine demo --out $(OUT)/demo

test: test-py test-gimp

test-py: venv
	$(PY) -m pytest -q

# The plug-in in real GIMPs: 3.0 from Debian trixie, 3.2 from Debian testing.
test-gimp: test-gimp-3.0 test-gimp-3.2

test-gimp-3.0: venv
	MAGIC_GIMP_SUITE=trixie tests/gimp/run_gimp_tests.sh

test-gimp-3.2: venv
	MAGIC_GIMP_SUITE=testing tests/gimp/run_gimp_tests.sh

evaluate: venv
	$(PY) -m magic_engine evaluate --cases examples/cases --out $(OUT)/evaluate --preset preview

bench: venv
	$(PY) -m magic_engine bench

bench-server: venv
	$(PY) -m magic_server.bench

# The engine on a GPU machine (torch, numpy, Pillow, pytest there; no venv,
# no pyzmq): `make gpu-check`. On a CPU: make gpu-check GPU_CHECK_ARGS="--device cpu --quick".
GPU_PYTHON ?= $(if $(wildcard $(PY)),$(PY),python3)
GPU_CHECK_ARGS ?=
gpu-check:
	$(GPU_PYTHON) tests/gpu/gpu_check.py $(GPU_CHECK_ARGS)

clean:
	rm -rf $(OUT) .pytest_cache
