"""Every notebook of ``notebooks/`` (jupytext percent scripts) runs from top to bottom.

Each ``notebooks/*.py`` is converted with jupytext and executed by nbclient on an ipykernel
kernel, with ``PETNET_FAST=1`` (small settings; the notebooks still assert the talk's numbers)
and this checkout's ``petnet`` first on the kernel's path. Any cell error fails the test. A
notebook whose text has a line ``# needs: <path>`` uses ``../shared/data/<path>``: it is skipped
with the reason when that is missing (a failure under CI=true, see ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import re
import time

import pytest

from petnet.paths import ROOT
from tests.conftest import shared_path

jupytext = pytest.importorskip("jupytext", reason="the notebook tests need the test extra (jupytext)")
nbclient = pytest.importorskip("nbclient", reason="the notebook tests need the test extra (nbclient)")
pytest.importorskip("ipykernel", reason="the notebook tests need the test extra (ipykernel)")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))

#: seconds one cell may take before the run is stopped
CELL_TIMEOUT = 300


def test_there_are_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {"ch2_gradient_descent", "ch3_filters", "ch3_neurons_and_cnn",
                                           "ch4_backpropagation", "ch5_vgg", "ch6_recognise_and_retrain"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    for need in re.findall(r"^# needs: (\S+)\s*$", text, flags=re.M):
        shared_path("data", *need.split("/"))
    nb = jupytext.reads(text, fmt="py:percent")
    assert any(c.cell_type == "markdown" for c in nb.cells) and any(c.cell_type == "code" for c in nb.cells)
    monkeypatch.setenv("PETNET_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()      # raises CellExecutionError, naming the cell, on the first error
    seconds = time.perf_counter() - start
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" for o in outputs), "a notebook shows figures"
    print(f"{path.name}: {seconds:.1f} s")
