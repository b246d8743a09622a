"""The house (docs/architecture.md): every import of ``petnet/`` checked against the floors.

The floors are read from the table of ``docs/architecture.md`` (the page is the rule, not a copy of
it). Every ``import`` and ``from ... import`` of every module under ``petnet/`` is found with
``ast`` -- at module level, inside functions and classes, under ``if TYPE_CHECKING:``, relative or
absolute -- and so is ``importlib.import_module("petnet...")`` with a written name. The rules:

1. no import from a lower floor to a higher one;
2. no import between two packages of one floor (``petnet.gd`` / ``petnet.nn``);
3. no import circle between modules (all imports counted).

A failure names the file, the line, the import, the rule, and how to fix it. The checker itself is
run on a small made-up package with one break of each kind, so it cannot pass by finding nothing.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOC = ROOT / "docs" / "architecture.md"
DOC_ZH = ROOT / "docs" / "zh-CN" / "architecture.md"
HOW_TO_FIX_UP = ("move this code up to floor {to} or higher, take what it needs as an argument, or move "
                 "what it needs down to floor {at} or lower (docs/architecture.md, 'When a lower floor "
                 "needs a higher one')")
HOW_TO_FIX_SIDEWAYS = ("move what both need down to a lower floor, or the code that needs both up to a "
                       "higher one (docs/architecture.md, 'Neighbours are independent')")
HOW_TO_FIX_CIRCLE = ("move the piece that one module needs from the other into a module that both import "
                     "(as train_head moved from pets/retrain.py into pets/head.py), or pass it in as an "
                     "argument; a function-local import does not break a circle")


# ----------------------------------------------------------------------------- the floors
@dataclass(frozen=True)
class Floor:
    number: int
    name: str
    modules: tuple[str, ...]


def read_floors(text: str) -> list[Floor]:
    """The table rows ``| 0 | base | `petnet`, `petnet.errors`, ... | ... |`` of the page."""
    floors = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            names = tuple(re.findall(r"`(petnet[\w.]*)`", cells[2]))
            floors.append(Floor(int(cells[0]), cells[1], names))
    return floors


def floor_of(module: str, floors: list[Floor]) -> tuple[Floor, str] | None:
    """``(floor, entry)`` of the longest table entry that ``module`` is or starts with. The entry
    ``petnet`` is the package's ``__init__`` only: its single-file modules are listed one by one."""
    best = None
    for floor in floors:
        for entry in floor.modules:
            if module == entry or (entry != "petnet" and module.startswith(entry + ".")):
                if best is None or len(entry) > len(best[1]):
                    best = (floor, entry)
    return best


# ----------------------------------------------------------------------------- the imports
@dataclass(frozen=True)
class Import:
    source: str        # the importing module
    target: str        # the imported module
    path: Path
    line: int
    text: str          # the import statement as written

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line} `{self.text}`"


def modules_of(root: Path) -> dict[str, tuple[Path, bool]]:
    """``{module name: (file, is a package)}`` of every ``.py`` under ``root/petnet``."""
    out = {}
    for path in sorted((root / "petnet").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts.pop()
        out[".".join(parts)] = (path, package)
    return out


def imports_of(root: Path) -> tuple[dict[str, tuple[Path, bool]], list[Import]]:
    """Every import between petnet's modules (a module importing itself is left out)."""
    modules = modules_of(root)
    found: dict[tuple[str, str, int], Import] = {}      # one per statement and imported module
    for name, (path, package) in modules.items():
        source = path.read_text(encoding="utf-8")
        here = name if package else name.rpartition(".")[0]

        def add(target, node):
            if target.startswith("petnet") and target in modules and target != name:
                text = " ".join((ast.get_source_segment(source, node) or "").split())
                found.setdefault((name, target, node.lineno), Import(name, target, path, node.lineno, text))

        for node in ast.walk(ast.parse(source, str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, node)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[:len(here.split(".")) - (node.level - 1)]
                    package_name = ".".join(base + ([node.module] if node.module else []))
                else:
                    package_name = node.module or ""
                for alias in node.names:     # a submodule, or else a name of the package's __init__
                    sub = f"{package_name}.{alias.name}"
                    add(sub if sub in modules else package_name, node)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "import_module" and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                add(node.args[0].value, node)
    return modules, list(found.values())


# ----------------------------------------------------------------------------- the rules
def unplaced(root: Path, modules, floors) -> list[str]:
    """Modules that no entry of the table places on a floor."""
    return [f"{path.relative_to(root)}: module {name} is on no floor; add it (or its package) to the "
            "table of docs/architecture.md" for name, (path, _) in modules.items() if floor_of(name, floors) is None]


def broken_floors(root: Path, modules, imports, floors) -> list[str]:
    """Rules 1 and 2: an import that runs up, or sideways between two packages of one floor."""
    out = []
    for imp in imports:
        src, dst = floor_of(imp.source, floors), floor_of(imp.target, floors)
        if src is None or dst is None:
            continue                                    # reported by unplaced()
        (f_src, e_src), (f_dst, e_dst) = src, dst
        if f_dst.number > f_src.number:
            out.append(f"{imp.where(root)}: {imp.source} (floor {f_src.number}, {f_src.name}) imports "
                       f"{imp.target} (floor {f_dst.number}, {f_dst.name}): an import runs up a floor. Fix: "
                       + HOW_TO_FIX_UP.format(to=f_dst.number, at=f_src.number))
        elif (f_dst.number == f_src.number and e_src != e_dst and e_src != "petnet" and e_dst != "petnet"
              and modules[e_src][1] and modules[e_dst][1]):
            out.append(f"{imp.where(root)}: {imp.source} imports {imp.target}, a neighbour package on the same "
                       f"floor {f_src.number} ({f_src.name}): packages of one floor are independent. Fix: "
                       + HOW_TO_FIX_SIDEWAYS)
    return out


def circles(root: Path, imports) -> list[str]:
    """Rule 3: one message per strongly connected group of modules, with one circle spelled out."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in imports:
        graph.setdefault(imp.source, {}).setdefault(imp.target, imp)
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):                                       # Tarjan's algorithm, iteratively
        work = [(v, iter(sorted(graph.get(v, {}))))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, {})))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        group.append(w)
                        if w == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    out = []
    for group in groups:
        members, start = set(group), group[0]
        paths = {start: [start]}                        # breadth first: the shortest way back to start
        queue, ring = [start], None
        while queue and ring is None:
            v = queue.pop(0)
            for w in sorted(graph.get(v, {})):
                if w == start:
                    ring = paths[v] + [start]
                    break
                if w in members and w not in paths:
                    paths[w] = paths[v] + [w]
                    queue.append(w)
        steps = "\n".join(f"    {graph[a][b].where(root)}" for a, b in zip(ring, ring[1:]))
        out.append(f"import circle {' -> '.join(ring)}"
                   + (f" (and {len(group) - len(ring) + 1} more module(s) in the same tangle: {', '.join(group)})"
                      if len(group) > len(ring) - 1 else "")
                   + f":\n{steps}\n  Fix: {HOW_TO_FIX_CIRCLE}")
    return out


def report(problems: list[str]) -> str:
    return f"{len(problems)} import(s) break docs/architecture.md:\n" + "\n".join(f"- {p}" for p in problems)


# ----------------------------------------------------------------------------- petnet
@pytest.fixture(scope="module")
def house():
    floors = read_floors(DOC.read_text(encoding="utf-8"))
    modules, imports = imports_of(ROOT)
    return floors, modules, imports


def test_the_page_lists_the_floors_in_order(house):
    floors, _, _ = house
    assert [(f.number, f.name) for f in floors] == [(0, "base"), (1, "chapters"), (2, "vgg"), (3, "pets"),
                                                     (4, "apps"), (5, "command")]
    entries = [e for f in floors for e in f.modules]
    assert len(entries) == len(set(entries)), "a module is on two floors"
    assert {"petnet.cliutil", "petnet.errors", "petnet.progress"} <= set(floors[0].modules)
    assert floors[-1].modules == ("petnet.cli", "petnet.__main__")


def test_the_chinese_page_has_the_same_floors(house):
    floors, _, _ = house
    assert read_floors(DOC_ZH.read_text(encoding="utf-8")) == floors


def test_every_module_is_on_a_floor(house):
    floors, modules, _ = house
    assert len(modules) > 100
    problems = unplaced(ROOT, modules, floors)
    assert not problems, report(problems)


def test_no_import_runs_up_or_sideways(house):
    floors, modules, imports = house
    assert len(imports) > 500                   # the walk sees function-local imports too
    assert any(i.source == "petnet.pets.cli" and i.target == "petnet.pets.retrain" for i in imports)
    problems = broken_floors(ROOT, modules, imports, floors)
    assert not problems, report(problems)


def test_no_import_circle(house):
    _, _, imports = house
    problems = circles(ROOT, imports)
    assert not problems, report(problems)


# ----------------------------------------------------------------------------- the checker itself
def test_the_checker_finds_each_kind_of_break(tmp_path):
    files = {
        "petnet/__init__.py": "",
        "petnet/errors.py": "",
        "petnet/safe_io.py": "from petnet.errors import X\n",                     # base -> base: fine
        "petnet/cli.py": "import importlib\nimportlib.import_module('petnet.nn.demo')\n",
        "petnet/nn/__init__.py": "",
        "petnet/nn/demo.py": ("from petnet.errors import X\n"
                              "def f():\n    from petnet.pets import Recognizer\n"),     # up, in a function
        "petnet/nn/layers.py": "from petnet.cli import main\n",                    # up to the command
        "petnet/gd/__init__.py": "from . import fit\n",                            # relative, fine
        "petnet/gd/fit.py": "from ..nn import layers\n",                           # sideways, relative
        "petnet/pets/__init__.py": "from petnet.pets.predict import Recognizer\n",
        "petnet/pets/predict.py": "from petnet.pets.species import s\n",
        "petnet/pets/species.py": "def g():\n    from petnet.pets import Recognizer, retrain\n",
        "petnet/pets/retrain.py": ("from typing import TYPE_CHECKING\n"
                                   "if TYPE_CHECKING:\n    from petnet.pets.predict import Recognizer\n"),
        "petnet/pets/lost.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    floors = read_floors("| 0 | base | `petnet`, `petnet.errors`, `petnet.safe_io` | |\n"
                         "| 1 | chapters | `petnet.gd`, `petnet.nn` | |\n"
                         "| 3 | pets | `petnet.pets.predict`, `petnet.pets.species`, `petnet.pets.retrain`, "
                         "`petnet.pets` | |\n"
                         "| 5 | command | `petnet.cli` | |\n")
    assert floor_of("petnet.pets.lost", floors)[0].number == 3 and floor_of("petnet.foo", floors) is None
    modules, imports = imports_of(tmp_path)
    assert ("petnet.cli", "petnet.nn.demo") in {(i.source, i.target) for i in imports}

    problems = broken_floors(tmp_path, modules, imports, floors)
    assert len(problems) == 3, report(problems)
    up = [p for p in problems if "runs up" in p]
    assert any(p.startswith("petnet/nn/demo.py:3 `from petnet.pets import Recognizer`: petnet.nn.demo "
                            "(floor 1, chapters) imports petnet.pets (floor 3, pets)") for p in up)
    assert any(p.startswith("petnet/nn/layers.py:1 `from petnet.cli import main`") for p in up)
    assert len(up) == 2 and all("Fix: move this code up to floor" in p for p in up)
    sideways = [p for p in problems if "neighbour" in p]
    assert [p.split(", a neighbour")[0] for p in sideways] == [
        "petnet/gd/fit.py:1 `from ..nn import layers`: petnet.gd.fit imports petnet.nn.layers"]

    rings = circles(tmp_path, imports)
    assert len(rings) == 1, report(rings)
    assert rings[0].startswith("import circle petnet.pets -> petnet.pets.predict -> petnet.pets.species -> "
                               "petnet.pets") and "petnet/pets/species.py:2 `from petnet.pets import Recognizer, retrain`" in rings[0]
    assert "petnet.pets.retrain" in rings[0] and "Fix: move the piece" in rings[0]

    assert unplaced(tmp_path, modules, floors) == []
    (tmp_path / "petnet/extra.py").write_text("")                   # a new single-file module: no floor
    modules, _ = imports_of(tmp_path)
    assert [p.split(":")[0] for p in unplaced(tmp_path, modules, floors)] == ["petnet/extra.py"]
