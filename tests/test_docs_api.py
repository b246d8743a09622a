"""Every ``python`` block of docs/api.md runs: one test per ``## `` section, its blocks executed in
order in one namespace, in a fresh temporary folder. ``# needs: pets/train`` as a section's first
code line names shared data it uses (skipped where missing, a failure under CI=true)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, shared_path

DOC = ROOT / "docs" / "api.md"


def sections(doc: Path = DOC) -> dict[str, str]:
    """The ``python`` code of each ``## `` section of ``doc``, keyed by the section's first word."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    out = {}
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        title = part.splitlines()[0].split(" ")[0]
        code = "\n".join(re.findall(r"^```python\n(.*?)^```", part, flags=re.M | re.S))
        if code.strip():
            out[title] = code
    return out


def run_section(code: str, where: str, tmp_path: Path, monkeypatch) -> None:
    """Run a section's code in a fresh folder (its ``# needs:`` data skipped where missing)."""
    for need in re.findall(r"^# needs: (\S+)", code, flags=re.M):
        shared_path("data", *need.split("/"))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "docs_api"})


def test_every_chapter_has_examples():
    chapters = {"petnet.gd", "petnet.filters", "petnet.nn", "petnet.vgg", "petnet.pets"}
    missing = chapters - set(sections())
    assert not missing, f"docs/api.md has no runnable example for {sorted(missing)}"


@pytest.mark.parametrize("title", sorted(sections()))
def test_api_examples_run(title, tmp_path, monkeypatch):
    run_section(sections()[title], f"docs/api.md ({title})", tmp_path, monkeypatch)
