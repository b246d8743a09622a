"""Every ``python`` block of docs/api.md runs: one test per ``## `` section, its blocks executed in
order in one namespace, in a fresh temporary folder. ``# needs: pets/train`` as a section's first
code line names shared data it uses (skipped where missing, a failure under CI=true)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, shared_path

DOC = ROOT / "docs" / "api.md"


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    out = {}
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        title = part.splitlines()[0].split(" ")[0]
        code = "\n".join(re.findall(r"^```python\n(.*?)^```", part, flags=re.M | re.S))
        if code.strip():
            out[title] = code
    return out


def test_every_chapter_has_examples():
    chapters = {"petnet.gd", "petnet.filters", "petnet.nn", "petnet.vgg", "petnet.pets"}
    missing = chapters - set(sections())
    assert not missing, f"docs/api.md has no runnable example for {sorted(missing)}"


@pytest.mark.parametrize("title", sorted(sections()))
def test_api_examples_run(title, tmp_path, monkeypatch):
    code = sections()[title]
    for need in re.findall(r"^# needs: (\S+)", code, flags=re.M):
        shared_path("data", *need.split("/"))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"docs/api.md ({title})", "exec"), {"__name__": "docs_api"})
