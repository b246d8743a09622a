"""Chinese typography of README.zh-CN.md and docs/zh-CN/*.md (中文文案排版指北): full-width
punctuation in Chinese sentences, a space between Chinese and Latin letters, digits and inline code,
no space next to full-width punctuation.

The prose is checked, not the code blocks (their output is the program's, copied verbatim): each
fenced block is blanked out, line numbers kept, and the text goes through

* ``autocorrect-py`` (the linter of the guidelines: half-width , : ! ? after Chinese, spaces
  between Chinese and Latin or digits, no space around full-width punctuation and quotes), and
* three rules it does not have: a half-width ``;`` after Chinese, half-width parentheses around
  Chinese text, and inline code glued to a Chinese character.

A failure names the file, the line and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

autocorrect = pytest.importorskip("autocorrect_py", reason="the typography lint needs the test extra "
                                  "(autocorrect-py)")

ZH_DIR = ROOT / "docs" / "zh-CN"
CJK = r"[\u3400-\u4dbf\u4e00-\u9fff]"
FENCE = re.compile(r"^([ \t]*)```[^\n`]*\n.*?^[ \t]*```[ \t]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK_TARGET = re.compile(r"\]\([^)\s]*\)")

# (what is wrong, a pattern on the prose with inline code and link targets masked, the fix)
RULES = [
    ("half-width ; after Chinese", re.compile(rf"(?<={CJK});"), "；"),
    ("half-width , ; : before Chinese", re.compile(rf"[,;:](?=[ \t]*{CJK})"), None),
    ("half-width , ; : ending a Chinese line", re.compile(rf"^(?=.*{CJK})[^`]*(?:`x`[^`]*)*[,;:][ \t]*$"), None),
    ("half-width parentheses around Chinese", re.compile(rf"\(([^()`]*{CJK}[^()`]*)\)"), r"（\1）"),
    ("inline code glued to Chinese", re.compile(rf"(?<={CJK})(`)|(`)(?={CJK})"), None),
]


def chinese_docs() -> list[Path]:
    return [ROOT / "README.zh-CN.md", *sorted(ZH_DIR.glob("*.md"))]


def prose(text: str) -> str:
    """The text with every code block blanked out, fenced or indented by 4 spaces after a blank
    line (its lines kept, empty)."""
    lines = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")
    code = False
    for i, line in enumerate(lines):
        code = line.startswith("    ") and (code or i == 0 or lines[i - 1].strip() == "")
        if code:
            lines[i] = ""
    return "\n".join(lines)


def masked(line: str) -> str:
    """A line with inline code replaced by ``` `x` ``` and link targets by ``](x)``: what the extra
    rules look at (code and URLs are not prose)."""
    line = CODE_SPAN.sub(lambda m: "`x`", line)
    return LINK_TARGET.sub("](x)", line)


def glued_fix(line: str) -> str:
    """Put a space between inline code and a Chinese character next to it."""
    line = re.sub(rf"({CJK})(`+[^`]+`+)", r"\1 \2", line)
    return re.sub(rf"(`+[^`]+`+)({CJK})", r"\1 \2", line)


def fullwidth_fix(line: str) -> str:
    """Half-width , ; : before Chinese or at the end of the line made full-width."""
    table = {",": "，", ";": "；", ":": "："}
    line = re.sub(rf"[ \t]*([,;:])[ \t]*(?={CJK})", lambda m: table[m.group(1)], line)
    return re.sub(r"[ \t]*([,;:])[ \t]*$", lambda m: table[m.group(1)], line)


FIXES = {"inline code glued to Chinese": glued_fix,
         "half-width , ; : before Chinese": fullwidth_fix,
         "half-width , ; : ending a Chinese line": fullwidth_fix}


def fixed(line: str) -> str:
    """The line with every rule applied: the extra rules first, then autocorrect's."""
    for name, pattern, fix in RULES:
        if pattern.search(masked(line)):
            line = FIXES[name](line) if fix is None else pattern.sub(fix, line)
    return autocorrect.format_for(line, "doc.md")


def problems(text: str) -> list[tuple[int, str, str, str]]:
    """(line number, what is wrong, the line, the line fixed) for every line that breaks a rule."""
    body = prose(text)
    flagged = {result.line for result in autocorrect.lint_for(body, "doc.md").lines}
    out = []
    for number, line in enumerate(body.splitlines(), 1):
        what = [name for name, pattern, _ in RULES if pattern.search(masked(line))]
        if number in flagged:
            what.append("autocorrect")
        if what:
            out.append((number, ", ".join(what), line, fixed(line)))
    return out


def report(path: Path, found: list[tuple[int, str, str, str]]) -> str:
    lines = [f"{path.relative_to(ROOT)}: {len(found)} line(s) break the Chinese typography rules"]
    for number, what, old, new in found:
        lines.append(f"  line {number} ({what}):\n    - {old.strip()}\n    + {new.strip()}")
    return "\n".join(lines)


@pytest.mark.parametrize("path", chinese_docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_chinese_typography(path):
    found = problems(path.read_text(encoding="utf-8"))
    if found:
        pytest.fail(report(path, found), pytrace=False)


# ------------------------------------------------------------------------- the checker


def test_lint_catches_each_rule_and_names_the_line():
    text = ("# 标题\n\n第一行没有问题，`petnet gd fit` 也对。\n"
            "学习率为0.5,迭代26次\n"
            "```bash\npetnet gd fit   # 代码块里的内容不检查:a,b\n```\n"
            "动量;Nesterov\n"
            "见勘误(第 2 章)。\n"
            "用`petnet gd`拟合\n"
            "[勘误](talk_errata.md#第-2-章)（English: (gd.md)）\n"
            "退出码 2:\n"
            "`a`, 然后\n"
            "    缩进的代码块:a,b 不检查\n")
    found = problems(text)
    assert [(n, what) for n, what, _, _ in found] == [
        (4, "half-width , ; : before Chinese, autocorrect"), (8, "half-width ; after Chinese"),
        (9, "half-width parentheses around Chinese, autocorrect"), (10, "inline code glued to Chinese"),
        (12, "half-width , ; : ending a Chinese line"), (13, "half-width , ; : before Chinese")]
    fixes = {n: new for n, _, _, new in found}
    assert fixes[4] == "学习率为 0.5，迭代 26 次"
    assert fixes[8] == "动量；Nesterov"
    assert fixes[9] == "见勘误（第 2 章）。"
    assert fixes[10] == "用 `petnet gd` 拟合"
    assert fixes[12] == "退出码 2："
    assert fixes[13] == "`a`，然后"
    assert "line 4 (half-width , ; : before Chinese, autocorrect)" in report(ROOT / "README.zh-CN.md", found)


def test_code_blocks_keep_their_line_numbers():
    text = "一\n```\n输出:a,b\n```\n二,三\n"
    assert prose(text).splitlines()[4] == "二,三"
    assert [n for n, *_ in problems(text)] == [5]
