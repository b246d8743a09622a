"""Rebuild ``petnet/pets/data/fonts/NotoSansSC-petnet.otf``: the few Chinese glyphs petnet draws.

The contact sheet (``petnet predict --sheet``) shows Chinese breed names; matplotlib's own fonts
have no CJK glyphs, and a full CJK font is ~16 MB. So petnet ships a subset of Noto Sans CJK SC
Regular (SIL Open Font License 1.1, see OFL.txt beside it) holding only the characters of the
bundled ``labels_zh.csv`` plus the words the sheet prints (~80 glyphs, ~30 KB). A system CJK
font, when present, is still preferred (it covers any name a user supplies).

    apt-get install fonts-noto-cjk && pip install fonttools
    python tools/make_cjk_font.py [--source /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "petnet" / "pets" / "data"
EXTRA = "可能是猫狗未知其他不像或更确定原因物种符训练照片分数低"
FAMILY = "petnet Noto Sans SC subset"   # words the sheet and the talk's output use besides the breed names


def characters() -> str:
    names = (DATA / "labels_zh.csv").read_text(encoding="utf-8")
    chars = {ch for line in names.splitlines() for ch in line.split(",", 1)[-1] if ord(ch) > 0x2e7f}
    return "".join(sorted(chars | set(EXTRA)))


def main(argv=None) -> int:
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    ap.add_argument("--out", default=str(DATA / "fonts" / "NotoSansSC-petnet.otf"))
    args = ap.parse_args(argv)
    fonts = TTCollection(args.source).fonts
    font = next(f for f in fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    options = subset.Options()
    options.layout_features = []          # no OpenType layout tables: plain glyphs are enough
    options.name_IDs = ["*"]              # keep copyright and licence records
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(text=characters())
    sub.subset(font)
    # a name of its own, so that matplotlib never mixes it up with a full, installed Noto Sans CJK SC
    for record in font["name"].names:
        if record.nameID in (1, 3, 4, 16):
            record.string = FAMILY
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "")
    if "CFF " in font:
        font["CFF "].cff.fontNames = [FAMILY.replace(" ", "")]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)
    print(f"wrote {out}: {len(characters())} characters, {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
