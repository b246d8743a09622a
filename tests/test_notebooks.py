"""Every notebook of ``notebooks/`` (jupytext percent scripts) runs from top to bottom, and so does
every reference solution of its exercises (练习).

Each ``notebooks/*.py`` is converted with jupytext and executed by nbclient on an ipykernel
kernel, with ``PETNET_FAST=1`` (small settings; the notebooks still assert the talk's numbers)
and this checkout's ``petnet`` first on the kernel's path. Any cell error fails the test. A
notebook whose text has a line ``# needs: <path>`` uses ``../shared/data/<path>``: it is skipped
with the reason when that is missing (a failure under CI=true, see ``tests/conftest.py``).

Exercises (see :mod:`petnet.exercises`): a notebook ends with 3-5 of them, numbered 1..N; each has
one checking cell ``check(N, ...)``. ``notebooks/solutions/<notebook>.py`` holds one code cell per
exercise, starting with the line ``# 练习 N``. The notebook is run with its stubs -- every check
must print ``练习 N：还没做`` (not done yet) and the run goes on -- and then, in the same kernel, each
solution cell followed by a copy of its checking cell: every check must print ``练习 N：正确``.

The prose is Chinese first (the convention of notebooks/README.md): every markdown cell with
Chinese text ends with one short ``*English:*`` paragraph, and a notebook's Chinese passages have at
least twice as many Chinese characters as its English lines have words (a full translation would
have about one word per 1.5-2 characters; code spans and formulas are not counted), and the
Chinese typography passes the rules of the Chinese docs
(``tests/test_docs_zh_typography.py``: full-width punctuation, a space between Chinese and Latin
letters, digits or inline code).
"""

from __future__ import annotations

import copy
import os
import re
import time

import pytest

from petnet.paths import ROOT
from tests.conftest import shared_path

jupytext = pytest.importorskip("jupytext", reason="the notebook tests need the test extra (jupytext)")
nbclient = pytest.importorskip("nbclient", reason="the notebook tests need the test extra (nbclient)")
nbformat = pytest.importorskip("nbformat", reason="the notebook tests need the test extra (nbformat)")
pytest.importorskip("ipykernel", reason="the notebook tests need the test extra (ipykernel)")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
SOLUTIONS = ROOT / "notebooks" / "solutions"

#: seconds one cell may take before the run is stopped
CELL_TIMEOUT = 300

CHECK_CELL = re.compile(r"^check\((\d+),", re.M)
VERDICT = re.compile(r"^练习 (\d+)：(还没做|不对|出错了|正确)", re.M)
SOLUTION_CELL = re.compile(r"\A# 练习 (\d+)\b")
HAN = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")


def read(path):
    return jupytext.reads(path.read_text(encoding="utf-8"), fmt="py:percent")


def check_cells(nb) -> dict[int, object]:
    """``{N: cell}`` of the checking cells (``check(N, ...)``); each number once."""
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            for n in CHECK_CELL.findall(cell.source):
                assert int(n) not in out, f"exercise {n} is checked twice"
                out[int(n)] = cell
    return out


def solution_cells(path) -> dict[int, str]:
    """``{N: source}`` of ``notebooks/solutions/<name>.py``: its code cells starting ``# 练习 N``."""
    sol = SOLUTIONS / path.name
    assert sol.exists(), f"{path.name} has exercises but no reference solutions in {sol}"
    out = {}
    for cell in read(sol).cells:
        m = SOLUTION_CELL.match(cell.source) if cell.cell_type == "code" else None
        if m:
            assert int(m.group(1)) not in out, f"{sol.name}: two solutions of exercise {m.group(1)}"
            out[int(m.group(1))] = cell.source
    return out


def verdicts(cells) -> list[tuple[int, str]]:
    text = "".join(o.get("text", "") for c in cells if c.cell_type == "code" for o in c.get("outputs", [])
                   if o.get("output_type") == "stream")
    return [(int(n), v) for n, v in VERDICT.findall(text)]


def test_there_are_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {"ch2_gradient_descent", "ch3_filters", "ch3_neurons_and_cnn",
                                           "ch4_backpropagation", "ch5_vgg", "ch6_recognise_and_retrain"}
    assert {p.name for p in SOLUTIONS.glob("*.py")} == {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_and_its_solutions_run(path, tmp_path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    for need in re.findall(r"^# needs: (\S+)\s*$", text, flags=re.M):
        shared_path("data", *need.split("/"))
    nb = read(path)
    assert any(c.cell_type == "markdown" for c in nb.cells) and any(c.cell_type == "code" for c in nb.cells)
    checks = check_cells(nb)
    numbers = sorted(checks)
    assert 3 <= len(numbers) <= 5 and numbers == list(range(1, len(numbers) + 1)), \
        f"{path.name}: exercises {numbers}; want 3 to 5, numbered from 1"
    solutions = solution_cells(path)
    assert sorted(solutions) == numbers, f"{path.name}: solutions {sorted(solutions)} for exercises {numbers}"
    n_notebook = len(nb.cells)
    for n in numbers:                      # then, in the same kernel: each solution and its check again
        nb.cells.append(nbformat.v4.new_code_cell(solutions[n]))
        nb.cells.append(copy.deepcopy(checks[n]))

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
    # with the stubs every check says "not done yet" (and the notebook ran on) ...
    assert verdicts(nb.cells[:n_notebook]) == [(n, "还没做") for n in numbers]
    # ... and with the reference solutions every check says "right"
    assert verdicts(nb.cells[n_notebook:]) == [(n, "正确") for n in numbers]
    print(f"{path.name}: {seconds:.1f} s with {len(numbers)} solutions")


def markdown(path) -> list[str]:
    return [c.source for c in read(path).cells if c.cell_type == "markdown"]


def prose(text: str) -> str:
    """A markdown cell without code blocks, code spans, formulas, links' targets and HTML tags."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"^(    |\t).*$", " ", text, flags=re.M)          # indented code
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$[^$]*\$", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"<[^>]+>", " ", text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_is_chinese_first_with_one_english_line(path):
    han = english = 0
    for cell in markdown(path):
        paragraphs = [p for p in re.split(r"\n\s*\n", cell.strip()) if p.strip()]
        lines = [p for p in paragraphs if p.startswith("*English:*")]
        if len(HAN.findall(prose(cell))) >= 20:
            assert len(lines) == 1 and paragraphs[-1] is lines[0], \
                f"{path.name}: a Chinese passage without one closing *English:* line:\n{cell[:200]}"
        for p in paragraphs:
            if p in lines:
                assert not HAN.search(p), f"{path.name}: Chinese inside the English line {p[:80]!r}"
                english += len(WORD.findall(prose(p)))
            else:
                han += len(HAN.findall(prose(p)))
    # the English lines sum up; the Chinese is the text (a full translation: ~1 word per 1.5-2 characters)
    assert han >= 2 * english, f"{path.name}: {han} Chinese characters but {english} English words"


@pytest.mark.parametrize("path", NOTEBOOKS + sorted(SOLUTIONS.glob("*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chinese_typography(path):
    """The rules of tests/test_docs_zh_typography.py (autocorrect-py and three more) on the markdown."""
    typography = pytest.importorskip("tests.test_docs_zh_typography")
    found = typography.problems("\n\n".join(markdown(path)))
    if found:
        pytest.fail(typography.report(path, found), pytrace=False)
