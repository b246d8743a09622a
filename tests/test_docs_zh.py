"""The Chinese docs (README.zh-CN.md, docs/zh-CN/*.md) tell the same numbers as the English ones.

For each pair (README.md / README.zh-CN.md, docs/X.md / docs/zh-CN/X.md):

* every number quoted in the Chinese doc -- integers >= 10, every decimal, every number in
  scientific notation, with thousands separators (``1,792``, ``138_357_544``) and ``%`` normalised
  away -- is a number of the English doc (compared by value: ``99.12 %`` matches ``99.12%``,
  ``2.7e-09`` matches ``2.70e-09``); dotted section or version numbers (``2.2.4``, ``2.13.0``)
  must appear as written;
* every line of an output block (a fenced block without a language) is a line of the English doc,
  and the command of every line of a ``bash`` block (what comes before its ``#`` comment) is in
  the English doc: output and commands are copied, not retyped;
* every link and picture points to a file that exists (and, for a ``.md#anchor`` link, to a
  heading of that file);
* README.zh-CN.md's first code block holds the same commands as README.md's first one, and
  README.md links to README.zh-CN.md right under its title.

The checker itself is tested on doctored copies, so a wrong number cannot slip through.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_docs_api import run_section
from tests.test_docs_api import sections as api_sections_of

ZH_DIR = ROOT / "docs" / "zh-CN"
REQUIRED = ("gd", "filters", "nn", "backprop", "vgg", "pets", "haar", "talk_errata")
LINK_LINE = "[中文说明 (README.zh-CN.md)](README.zh-CN.md)"

# A number: a dotted section/version id (2.2.4), a number with thousands separators (1,792 or
# 138_357_544, optionally with decimals), or a plain integer/decimal with an optional exponent.
# Not preceded by a digit or a dot, so the pieces of a longer number are never read on their own.
NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+){2,}|\d{1,3}(?:[,_]\d{3})+(?:\.\d+)?(?![\d]|[,_]\d)"
                    r"|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)")
FENCE = re.compile(r"^[ \t]*```([^\n`]*)\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PROMPTS = ("$ ", ">>> ")          # a line of an output block that is typed, not printed


def pairs() -> list[tuple[Path, Path]]:
    """(Chinese doc, English doc) for README.zh-CN.md and every docs/zh-CN/*.md."""
    out = [(ROOT / "README.zh-CN.md", ROOT / "README.md")]
    out += [(zh, ROOT / "docs" / zh.name) for zh in sorted(ZH_DIR.glob("*.md"))]
    return out


def numbers(text: str) -> list[tuple[str, object]]:
    """The numbers of a text that must agree: (as written, key). The key is the float value, or
    the string itself for a dotted id; integers below 10 are left out (list items, 3x3, ...)."""
    out = []
    for m in NUMBER.finditer(text):
        token = m.group(1)
        if token.count(".") >= 2:
            out.append((token, token))
            continue
        plain = token.replace(",", "").replace("_", "")
        value = float(plain)
        if "." not in plain and "e" not in plain.lower() and value < 10:
            continue
        out.append((token, value))
    return out


def wrong_numbers(zh_text: str, en_text: str) -> list[str]:
    """Numbers of the Chinese text that the English text does not have."""
    known = {key for _, key in numbers(en_text)}
    return sorted({token for token, key in numbers(zh_text) if key not in known})


def blocks(text: str) -> list[tuple[str, str]]:
    """Fenced code blocks: (language, body)."""
    return [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(text)]


def command(line: str) -> str:
    """A shell line without its trailing ``# comment`` (a line that is only a comment: "")."""
    if line.lstrip().startswith("#"):
        return ""
    return re.split(r"\s#", line, maxsplit=1)[0].strip()


def uncopied_lines(zh_text: str, en_text: str) -> list[str]:
    """Lines of output blocks and commands of bash blocks that are not in the English text.

    A ``$ command  # comment`` (or ``>>> code  # comment``) line of an output block is a command: its
    comment may be Chinese."""
    en_lines = {line.strip() for line in en_text.splitlines()}
    missing = []
    for lang, body in blocks(zh_text):
        for line in body.splitlines():
            if lang == "" and line.lstrip().startswith(PROMPTS):
                cmd = command(line.strip())
                if cmd not in en_text:
                    missing.append(cmd)
            elif lang == "":
                if line.strip() and line.strip() != "..." and line.strip() not in en_lines:
                    missing.append(line)
            elif lang == "bash":
                cmd = command(line)
                if cmd and cmd not in en_text:
                    missing.append(cmd)
    return missing


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces -> hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        s = slug(heading)
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


def broken_links(doc: Path, text: str) -> list[str]:
    bad = []
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):          # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists():
            bad.append(target)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            bad.append(target)
    return bad


def first_commands(text: str) -> list[str]:
    lang, body = blocks(text)[0]
    return [command(line) for line in body.splitlines() if command(line)]


# ------------------------------------------------------------ parity: the same page, in Chinese


def english_docs() -> list[Path]:
    return sorted((ROOT / "docs").glob("*.md"))


def headings(text: str) -> list[int]:
    """The level of every heading outside code blocks, in order."""
    return [len(m.group(1)) for m in re.finditer(r"^(#{1,6}) \S", FENCE.sub("", text), flags=re.M)]


def tables(text: str) -> list[tuple[int, str]]:
    """Every table outside code blocks, in order: (rows without the separator, the separator row
    with spaces removed -- its column count and alignments). Lines starting with ``|`` without a
    separator row are no table."""
    out = []
    rows: list[str] = []
    for line in FENCE.sub("", text).splitlines() + [""]:
        if line.lstrip().startswith("|"):
            rows.append(line.strip())
            continue
        separator = [r for r in rows if re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", r)]
        if separator:                  # no separator row: a line that starts with "|", not a table
            out.append((len(rows) - len(separator), separator[0].replace(" ", "")))
        rows = []
    return out


def kind(lang: str) -> str:
    """``text`` is a translated output-like block (a list of files, a rule): the kind of ````` ``."""
    return "output" if lang in ("", "text") else lang


def code_tokens(body: str) -> list[tuple[int, str]]:
    """A Python block's tokens without comments and blank lines: the code, whatever the comments say."""
    skip = (tokenize.COMMENT, tokenize.NL)
    try:
        return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(body).readline)
                if t.type not in skip]
    except (tokenize.TokenError, SyntaxError):
        return [(-1, body)]


def output_line(line: str) -> str:
    """A line of an output block as it must be copied: a ``$ command`` or ``>>> code`` without its
    comment."""
    return command(line.strip()) if line.lstrip().startswith(PROMPTS) else line.rstrip()


def block_differences(zh_text: str, en_text: str) -> list[str]:
    """How the code blocks of the Chinese page differ from the English page's: the same blocks in
    the same order; Python: the same code (only the comments may differ); bash: the same commands;
    an output block: the same lines (``$`` commands without their comments), or, written as
    ``text``, translated line for line."""
    zh_blocks, en_blocks = blocks(zh_text), blocks(en_text)
    zh_kinds, en_kinds = [kind(lang) for lang, _ in zh_blocks], [kind(lang) for lang, _ in en_blocks]
    if zh_kinds != en_kinds:
        return [f"code blocks {zh_kinds} instead of {en_kinds}"]
    bad = []
    for i, ((zl, zb), (el, eb)) in enumerate(zip(zh_blocks, en_blocks), 1):
        where = f"block {i} ({el or 'output'}, English: {eb.strip().splitlines()[0][:60] if eb.strip() else ''!r})"
        if el == "python" and code_tokens(zb) != code_tokens(eb):
            bad.append(f"{where}: not the same Python code")
        elif el == "bash":
            zc = [command(x) for x in zb.splitlines() if command(x)]
            ec = [command(x) for x in eb.splitlines() if command(x)]
            if zc != ec:
                bad.append(f"{where}: commands {zc} instead of {ec}")
        elif el == "" and zl == "":
            zlines = [output_line(x) for x in zb.splitlines()]
            elines = [output_line(x) for x in eb.splitlines()]
            if zlines != elines:
                diff = [x for x in zlines if x not in elines] + [x for x in elines if x not in zlines]
                bad.append(f"{where}: output not copied line for line: {diff[:3]}")
        elif el == "" and zl == "text":
            if len(zb.splitlines()) != len(eb.splitlines()):
                bad.append(f"{where}: {len(zb.splitlines())} lines instead of {len(eb.splitlines())}")
        elif el != zl:
            bad.append(f"{where}: ```{zl} instead of ```{el}")
    return bad


# ------------------------------------------------------------------------------- the docs


def test_every_chapter_has_a_chinese_doc():
    assert (ROOT / "README.zh-CN.md").is_file()
    missing = [name for name in REQUIRED
               if (ROOT / "docs" / f"{name}.md").exists() and not (ZH_DIR / f"{name}.md").is_file()]
    assert missing == [], f"no Chinese doc for docs/{missing}.md"
    for zh, en in pairs():
        assert en.is_file(), f"{zh.relative_to(ROOT)} has no English original {en.relative_to(ROOT)}"


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_numbers_agree(zh, en):
    zh_text, en_text = zh.read_text(encoding="utf-8"), en.read_text(encoding="utf-8")
    assert len(numbers(zh_text)) >= 3, f"{zh.name} quotes (almost) no numbers: is it empty?"
    bad = wrong_numbers(zh_text, en_text)
    assert bad == [], f"{zh.relative_to(ROOT)} quotes numbers that {en.relative_to(ROOT)} lacks: {bad}"


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_output_and_commands_are_copied(zh, en):
    bad = uncopied_lines(zh.read_text(encoding="utf-8"), en.read_text(encoding="utf-8"))
    assert bad == [], f"{zh.relative_to(ROOT)}: not in {en.relative_to(ROOT)} as written: {bad}"


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples_are_python(zh, en):
    """Chinese comments were added to copied examples: the code must still be valid Python."""
    for lang, body in blocks(zh.read_text(encoding="utf-8")):
        if lang == "python" and not body.lstrip().startswith(">>>"):
            compile(body, f"{zh.name} example", "exec")


def api_sections() -> dict[str, str]:
    return api_sections_of(ZH_DIR / "api.md")


def test_chinese_api_page_has_the_english_sections():
    assert sorted(api_sections()) == sorted(api_sections_of())


@pytest.mark.parametrize("title", sorted(api_sections()))
def test_chinese_api_examples_run(title, tmp_path, monkeypatch):
    """docs/zh-CN/api.md's examples run, like docs/api.md's (their asserts check the numbers; the
    code is docs/api.md's, test_same_code_blocks checks that)."""
    run_section(api_sections()[title], f"docs/zh-CN/api.md ({title})", tmp_path, monkeypatch)


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_links_exist(zh, en):
    bad = broken_links(zh, zh.read_text(encoding="utf-8"))
    assert bad == [], f"{zh.relative_to(ROOT)} links to missing files or anchors: {bad}"


@pytest.mark.parametrize("zh,en", pairs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_written_in_chinese_with_the_figures(zh, en):
    zh_text, en_text = zh.read_text(encoding="utf-8"), en.read_text(encoding="utf-8")
    chinese = re.findall(r"[\u4e00-\u9fff]", FENCE.sub("", zh_text))
    assert len(chinese) > 300, f"{zh.name}: too little Chinese"
    # The same figures: a picture of the Chinese doc is one the English doc shows, and a chapter
    # with figures keeps them. (A figure added to the English doc later is not an error here: the
    # English docs change while the Chinese ones follow; the numbers they share must agree.)
    en_pictures = {Path(t).name for t in LINK.findall(en_text) if t.endswith(".png")}
    zh_pictures = {Path(t).name for t in LINK.findall(zh_text) if t.endswith(".png")}
    extra = zh_pictures - en_pictures
    assert not extra, f"{zh.name} shows pictures the English doc lacks: {extra}"
    assert zh_pictures or not en_pictures, f"{zh.name} shows none of the figures {en_pictures}"


def test_readme_first_commands_are_the_same():
    zh = first_commands((ROOT / "README.zh-CN.md").read_text(encoding="utf-8"))
    en = first_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert zh == en == ["make demo", "make test"]


def test_readme_links_to_the_chinese_readme():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    assert lines[1:3] in ([LINK_LINE, ""], ["", LINK_LINE]), "the link belongs directly under the title"


def test_readme_links_every_chapter_doc():
    text = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    linked = {Path(t).name for t in LINK.findall(text) if "zh-CN/" in t}
    assert {f"{name}.md" for name in REQUIRED} <= linked


def test_every_doc_has_a_chinese_twin():
    missing = [en.name for en in english_docs() if not (ZH_DIR / en.name).is_file()]
    assert missing == [], f"docs/zh-CN has no Chinese page for docs/{missing}"


def twin(en: Path) -> str:
    zh = ZH_DIR / en.name
    if not zh.is_file():
        pytest.fail(f"docs/zh-CN/{en.name} is missing")
    return zh.read_text(encoding="utf-8")


@pytest.mark.parametrize("en", english_docs(), ids=lambda p: p.name)
def test_same_sections(en):
    """The same headings: as many at each level, in the same order."""
    zh_levels, en_levels = headings(twin(en)), headings(en.read_text(encoding="utf-8"))
    assert zh_levels == en_levels, (
        f"docs/zh-CN/{en.name} heading levels {zh_levels} differ from docs/{en.name}'s {en_levels}")


@pytest.mark.parametrize("en", english_docs(), ids=lambda p: p.name)
def test_same_tables(en):
    """The same tables, in order: as many rows, the same columns and alignments."""
    zh_tables, en_tables = tables(twin(en)), tables(en.read_text(encoding="utf-8"))
    assert zh_tables == en_tables, f"docs/zh-CN/{en.name} tables (rows, columns) differ from docs/{en.name}'s"


@pytest.mark.parametrize("en", english_docs(), ids=lambda p: p.name)
def test_same_code_blocks(en):
    """The same examples, outputs and commands, in order; only comments are translated."""
    bad = block_differences(twin(en), en.read_text(encoding="utf-8"))
    assert bad == [], f"docs/zh-CN/{en.name} vs docs/{en.name}: " + "; ".join(bad)


# ------------------------------------------------------------------------- the checker


def test_numbers_are_normalised():
    text = "VGG16 有 138,357,544 个参数,conv1_1 有 1,792 个;准确率 99.11 %,误差 2.7e-09;138_357_544;" \
           "第 2.2.4 节;3×3 卷积;5 个池化层"
    got = [key for _, key in numbers(text)]
    assert got == [16.0, 138357544.0, 1792.0, 99.11, 2.7e-09, 138357544.0, "2.2.4"]


def test_checker_catches_a_doctored_number():
    en = (ROOT / "README.md").read_text(encoding="utf-8")
    zh = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "0.99455" in zh and wrong_numbers(zh, en) == []
    doctored = zh.replace("0.99455", "0.99454", 1)
    assert wrong_numbers(doctored, en) == ["0.99454"]
    assert uncopied_lines(doctored, en) == ["波斯猫 (score = 0.99454)"]
    # a thousands separator, a percentage and scientific notation are checked as numbers too
    assert wrong_numbers("参数 138,357,545 个", "138,357,544 parameters") == ["138,357,545"]
    assert wrong_numbers("参数 138,357,544 个", "138,357,544 parameters") == []
    assert wrong_numbers("准确率 99.12%", "99.12 % test accuracy") == []
    assert wrong_numbers("准确率 99.13%", "99.12 % test accuracy") == ["99.13"]
    assert wrong_numbers("误差 2.7e-09", "max 2.7e-09") == []
    assert wrong_numbers("误差 2.7e-08", "max 2.7e-09") == ["2.7e-08"]
    assert wrong_numbers("第 2.2.5 节", "section 2.2.4") == ["2.2.5"]
    # small integers are not numbers to check, decimals always are
    assert wrong_numbers("3 层网络, 学习率 0.5", "a network") == ["0.5"]


def test_checker_catches_a_retyped_command_and_a_broken_link(tmp_path):
    en = "```bash\npetnet gd fit --degree 2\n```\n"
    assert uncopied_lines("```bash\npetnet gd fit --degree 2   # 曲线拟合\n```\n", en) == []
    assert uncopied_lines("```bash\npetnet gd fit --degree 3   # 曲线拟合\n```\n", en) == [
        "petnet gd fit --degree 3"]
    (tmp_path / "a.md").write_text("# Hello world\n\n## The talk's own settings (`petnet gd talk`)\n")
    doc = tmp_path / "zh.md"
    text = "[a](a.md) [b](b.md) [c](a.md#hello-world) [d](a.md#nope) [e](https://example.com) " \
           "[f](a.md#the-talks-own-settings-petnet-gd-talk)"
    assert broken_links(doc, text) == ["b.md", "a.md#nope"]


def test_parity_checker_catches_a_missing_section_table_row_and_changed_code():
    en = ("# T\n\n## A\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n### B\n\n```python\nx = 1  # one\n```\n\n"
          "```bash\npetnet gd fit   # fit\n# a note\n```\n\n```\n$ petnet gd fit   # fit\nloss 2.5\n```\n")
    zh = ("# 标题\n\n## 甲\n\n| 甲 | 乙 |\n|---|--:|\n| 1 | 2 |\n\n### 乙\n\n```python\nx = 1  # 一\n```\n\n"
          "```bash\npetnet gd fit   # 拟合\n# 说明\n```\n\n```\n$ petnet gd fit   # 拟合\nloss 2.5\n```\n")
    assert headings(en) == headings(zh) == [1, 2, 3]
    assert tables(en) == tables(zh) == [(2, "|---|--:|")]
    assert block_differences(zh, en) == []
    assert headings(zh.replace("### 乙", "## 乙")) == [1, 2, 2]
    assert headings(zh.replace("```python\nx", "```python\n# 注释\nx")) == [1, 2, 3]   # not a heading
    assert tables(zh.replace("| 1 | 2 |\n", "")) == [(1, "|---|--:|")]
    assert tables(zh.replace("|---|--:|", "|---|---|")) == [(2, "|---|---|")]
    assert tables("一行\n|x| 是绝对值\n") == []
    assert block_differences(zh.replace("x = 1", "x = 2"), en) == [
        "block 1 (python, English: 'x = 1  # one'): not the same Python code"]
    assert block_differences(zh.replace("petnet gd fit   # 拟合\n#", "petnet gd fit --json\n#"), en) == [
        "block 2 (bash, English: 'petnet gd fit   # fit'): commands ['petnet gd fit --json'] "
        "instead of ['petnet gd fit']"]
    assert block_differences(zh.replace("loss 2.5", "损失 2.5"), en)[0].startswith("block 3 (output")
    assert block_differences(zh.replace("```\n$", "```text\n$"), en) == []     # a translated block
    assert output_line(">>> f(1)   # 注释") == output_line(">>> f(1)   # a comment") == ">>> f(1)"
    assert block_differences(zh.replace("```bash\npetnet gd fit   # 拟合\n# 说明\n```\n\n", ""), en) == [
        "code blocks ['python', 'output'] instead of ['python', 'bash', 'output']"]
