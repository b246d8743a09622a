"""Every output the docs show for a ``$ petnet ...`` command is what the command prints now, at one
BLAS thread and at two: each line of the output block in README.md or docs/*.md is a line of a fresh run, in order
(a doc may leave lines out: an excerpt, ``...``). Times (``0.41 s``) and round-off-level numbers (``2.6e-09``: their digits
depend on the CPU's BLAS kernels) are the only things masked.

The numbers of the demos that train networks depend on the order in which BLAS adds float32
products, which depends on the number of threads (``petnet nn vanishing`` printed ReLU 0.3030 at
one thread, 0.2970 at two); those demos run their BLAS on one thread (:mod:`petnet.blas`), and this
test runs every command in a subprocess with ``OPENBLAS_NUM_THREADS`` (and OMP, MKL) = 1 and 2.

A few commands are not run (:data:`SKIP`, each with its reason): the long trainings and benchmarks,
and those whose input is the reader's own file.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, shared_path

DOCS = ROOT / "docs"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
SECONDS = re.compile(r"\d+\.\d+ s\b")
#: round-off-level numbers (below 1e-7, e.g. a gradient check's relative error of 2.6e-09): their
#: digits depend on the CPU's BLAS kernels, not on petnet, so only their size is compared
ROUNDOFF = re.compile(r"\b\d\.\d+e-(0[89]|[1-9]\d)\b")
PATH_OPTIONS = ("--plot", "--out", "-o", "--contour", "--sheet", "--figure")

#: commands not run here: (a piece of the command, why)
SKIP = (
    ("|", "its output is piped through another program"),
    ("cat.jpg", "cat.jpg is the reader's own photo (the repository has none)"),
    ("petnet nn mnist --data .", "needs a broken train-images file in the current folder "
                                 "(tests/nn/test_mnist.py makes one)"),
    ("petnet vgg mnist", "trains VGG on MNIST for minutes"),
)

#: scikit-image's sample photos that the docs save as PNG and recognise: made for the run
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea")


def doc_runs(text: str) -> list[tuple[str, list[str]]]:
    """``(command, output lines)`` of every ``$ command`` in the fenced blocks without a language.
    A block holding only ``$ command`` takes the next block as its output; a ``>>>`` line (a
    Python session after the command) ends an output. A line with two commands side by side is
    left out."""
    runs: list[tuple[str, list[str]]] = []
    waiting = None
    for m in FENCE.finditer(text):
        lang, lines = m.group(1).strip(), m.group(2).rstrip("\n").split("\n")
        if lang:
            waiting = None
            continue
        if waiting is not None and not any(line.startswith("$ ") for line in lines):
            runs.append((waiting, lines))
            waiting = None
            continue
        waiting, current = None, None
        for line in lines:
            if line.startswith("$ "):
                command = re.sub(r"\s{2,}\(.*\)$", "", line[2:].split(" #")[0]).strip()   # a note
                current = None if "$ " in command else (command, [])
                if current:
                    runs.append(current)
            elif line.startswith(">>>"):
                current = None
            elif current is not None:
                current[1].append(line)
        if len(lines) == 1 and runs and lines[0].startswith("$ ") and not runs[-1][1]:
            waiting = runs.pop()[0]
    return runs


def missing_lines(doc: list[str], printed: str) -> list[str]:
    """The lines of ``doc`` that ``printed`` does not have, in order (times masked)."""
    def mask(line):
        return ROUNDOFF.sub("<round-off>", SECONDS.sub("<t> s", line.rstrip()))
    out = [mask(line) for line in printed.split("\n")]
    at, missing = 0, []
    for line in doc:
        line = mask(line)
        if line.strip() in ("", "...", "…"):
            continue
        try:
            at = out.index(line, at) + 1
        except ValueError:
            missing.append(line)
    return missing


def all_documented() -> list[tuple[str, str, list[str]]]:
    """``(doc, command, output)`` of every ``$ petnet ...`` command with an output in the docs."""
    out = []
    for doc in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for command, output in doc_runs(doc.read_text(encoding="utf-8")):
            if command.startswith("petnet ") and output:
                out.append((doc.name, command, output))
    return out


def left_out(command: str) -> list[str]:
    """Why a documented command is not run here (:data:`SKIP`), or ``[]``."""
    return [why for piece, why in SKIP if piece in command]


def documented() -> list:
    cases = []
    for doc, command, output in all_documented():
        if left_out(command):
            continue                  # listed by test_the_commands_left_out_are_few_and_said_why
        marks = [pytest.mark.slow] if (" nn vanishing" in command or " nn dropout" in command) else []
        cases.append(pytest.param(doc, command, output, marks=marks, id=f"{doc}: {command[:60]}"))
    return cases


def test_the_commands_left_out_are_few_and_said_why():
    """The documented commands this test does not run: each for a reason of :data:`SKIP`, and few."""
    out = [(doc, command, left_out(command)[0]) for doc, command, _ in all_documented() if left_out(command)]
    assert len(out) <= 12, out
    assert len(documented()) >= 4 * len(out)


def run_documented(command: str, threads: int, tmp_path: Path) -> str:
    """stdout + stderr of ``command`` (run from the repository root as the docs do), with every
    picture it writes sent to ``tmp_path`` and named in the output as the doc names it."""
    argv = shlex.split(command)[1:]
    renamed = {}
    for i, arg in enumerate(argv[:-1]):
        if arg in PATH_OPTIONS:
            renamed[str(tmp_path / Path(argv[i + 1]).name)] = argv[i + 1]
            argv[i + 1] = str(tmp_path / Path(argv[i + 1]).name)
    for i, arg in enumerate(argv):
        if arg.startswith("../shared/"):            # the shared data beside the project
            shared_path(*arg[len("../shared/"):].split("/"))
        if arg in {f"{name}.png" for name in SKIMAGE_PHOTOS}:   # the reader saved it from scikit-image
            import skimage.data
            from PIL import Image
            made = tmp_path / arg
            if not made.exists():
                Image.fromarray(getattr(skimage.data, arg[:-4])()).save(made)
            renamed[str(made)] = arg
            argv[i] = str(made)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-m", "petnet", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    printed = done.stdout + done.stderr
    for new, old in renamed.items():
        printed = printed.replace(new, old)
    return printed


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("doc, command, output", documented())
def test_the_docs_show_what_the_command_prints(doc, command, output, threads, tmp_path):
    if " nn vanishing" in command or " nn dropout" in command:
        shared_path("data", "mnist")
    missing = missing_lines(output, run_documented(command, threads, tmp_path))
    assert not missing, (f"{doc}: `{command}` with {threads} BLAS thread(s) does not print these "
                         f"documented lines:\n" + "\n".join(missing))


def test_the_vanishing_numbers_are_checked():
    """The case the issue was about is among the checked ones, with its table."""
    nn = [(c, o) for d, c, o in (p.values for p in documented()) if d == "nn.md"]
    vanishing = [o for c, o in nn if c.startswith("petnet nn vanishing")]
    assert len(vanishing) == 1 and sum(line.startswith("   10 ") for line in vanishing[0]) == 2
    assert not any(piece in "petnet nn vanishing" for piece, _ in SKIP)


def test_the_checker_finds_a_changed_digit():
    printed = "header\nlayer 1   0.3030\nlayer 2   0.1260\nwrote x (0.41 s)\n"
    assert missing_lines(["layer 1   0.3030", "...", "wrote x (9.99 s)"], printed) == []
    assert missing_lines(["layer 1   0.3031"], printed) == ["layer 1   0.3031"]
    assert missing_lines(["layer 2   0.1260", "layer 1   0.3030"], printed) == ["layer 1   0.3030"]   # order
    printed = "ConvNet    2.572e-09  ok\nDense    3.1e-05  ok"
    assert missing_lines(["ConvNet    2.605e-09  ok"], printed) == []           # round-off digits
    assert missing_lines(["Dense    3.2e-05  ok"], printed) == ["Dense    3.2e-05  ok"]
    assert missing_lines(["ConvNet    2.605e-05  ok"], printed) == ["ConvNet    2.605e-05  ok"]
    text = ("```\n$ petnet a --plot p.png\nout\n\n$ petnet b   # note\nx\n>>> py()\ny\n$ petnet c    (first lines)\nz\n"
            "```\n```bash\n$ petnet d\n```\n")
    assert doc_runs(text) == [("petnet a --plot p.png", ["out", ""]), ("petnet b", ["x"]), ("petnet c", ["z"])]
    assert doc_runs("```\n$ petnet d\n```\n\n```\nout d\n```\n") == [("petnet d", ["out d"])]
