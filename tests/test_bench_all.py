"""``make bench`` (bench/all.py): one table from the benchmarks' own JSON figures.

Not a timing test: it checks that the sections run, that each row's ratio is computed from the
two figures beside it, and that mistakes in the command line are plain errors."""

import json
import re
import subprocess
import sys

from petnet.paths import ROOT
from tests.conftest import shared_path


def run(*args, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "bench" / "all.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_gd_section_ratio_is_the_two_figures_beside_it(tmp_path):
    shared_path("data", "housing", "portland_housing.csv")
    out = tmp_path / "figures.json"
    proc = run("--quick", "--only", "gd", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("machine: ")
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| gd |")]
    assert len(rows) == 2
    for line in rows:
        _, _, what, ours, ref, ratio, _ = [c.strip() for c in line.split("|")]
        speedup = float(re.match(r"(\d+)x faster", ratio).group(1))
        assert abs(speedup - float(ref) / float(ours)) <= 0.5 + 0.01 * speedup
    saved = json.loads(out.read_text())
    assert saved["quick"] is True and saved["machine"]["cores"] >= 1
    assert [r[0] for r in saved["results"]["gd"]] == ["gd", "gd"]


def test_a_section_that_fails_is_listed_as_skipped_with_why(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import all as bench_all
    finally:
        sys.path.remove(str(ROOT / "bench"))
    r = bench_all.run_function("gd_bench", "no_such_function", quick=True)
    assert "skipped" in r and "no_such_function" in r["skipped"]
    text = bench_all.table({"gd": "no shared data"})
    assert "| gd | skipped: no shared data |" in text


def test_unknown_section_is_a_usage_error():
    proc = run("--only", "gd,nope")
    assert proc.returncode == 2
    assert "unknown section nope" in proc.stderr and "Traceback" not in proc.stderr
