# Two commands for a newcomer (see README):  make demo   and   make test
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/petnet: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned to the 2.13.0 CPU build (an unpinned torch would pull a multi-GB CUDA build)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,serve,ray]'
	touch $(BIN)/petnet

install: $(BIN)/petnet

# the main job on the embedded default: recognise the bundled example pet photos
demo: install
	$(BIN)/petnet predict examples/

# the whole test suite
# two pytest workers on two cores: one BLAS/OpenMP thread each, or they oversubscribe the CPU
test: install
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -q

# every benchmark, one table of figures beside their references (bench/all.py; --quick: a few minutes)
bench: install
	$(BIN)/python bench/all.py

.PHONY: install demo test bench
