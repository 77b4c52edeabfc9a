# Set-up and everyday commands. Both targets create .venv on first use.
#
#   make sweep   install, run the quick overlap sweep, write the chart under results/quick
#   make test    install with test extras, lint, run the whole test suite
#
# TORCH_SPEC pins the CPU build of PyTorch that lies on this machine kind's disk;
# setup.cfg keeps an ordinary range, so elsewhere `pip install socialview` picks
# whatever torch suits the machine (override: make test TORCH_SPEC=torch).
# MUJOCO_SPEC pins the MuJoCo that made the committed results (docs/): a later patch
# release simulates the same seeds into other trajectories (4.0.1 moved quick-sweep
# cells by up to ~0.03; docs/agents-study.md, finding 18), while 4.0.0 remakes them
# (every figure within 0.007). setup.cfg keeps its range (override: MUJOCO_SPEC=mujoco).

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
MUJOCO_SPEC ?= mujoco==4.0.0
SWEEP_ARGS ?= --preset quick --jobs 2 --threads-per-cell 1 --out results/quick
BIN := $(VENV)/bin
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= egl

.PHONY: sweep test lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" "$(MUJOCO_SPEC)"

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,ray]"

lint: install-test
	$(BIN)/ruff check .

test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

sweep: install
	$(BIN)/socialview sweep $(SWEEP_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
