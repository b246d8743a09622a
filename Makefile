# Two commands for a newcomer (see README):  make demo   and   make test
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/petnet: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned to the 2.13.0 CPU build (an unpinned torch would pull a multi-GB CUDA build)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/petnet

install: $(BIN)/petnet

# the main job on the embedded default: recognise the bundled example pet photos
demo: install
	$(BIN)/petnet predict examples/

# the whole test suite
test: install
	$(BIN)/python -m pytest -n 2 -q

.PHONY: install demo test
