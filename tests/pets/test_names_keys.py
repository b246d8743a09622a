"""Names files keyed the way TensorFlow's retrain.py writes labels (lower case, every run of
non-alphanumerics turned into one space) match petnet's labels, which are the folder names."""

from __future__ import annotations

import re
from pathlib import Path

from petnet.pets.names import display_name, read_names, retrain_key

DATA = Path(__file__).resolve().parents[2] / "petnet" / "pets" / "data"


def retrain_py_label(dir_name: str) -> str:
    """retrain.py's own line, copied verbatim (create_image_lists)."""
    return re.sub(r'[^a-z0-9]+', ' ', dir_name.lower())


def test_retrain_py_keys_match_petnet_labels(tmp_path):
    f = tmp_path / "chinese.txt"
    f.write_text("abyssinian,阿比西尼亚猫\namerican pit bull terrier,美国比特斗牛梗\n", encoding="utf-8")
    names = read_names(f)
    assert display_name("Abyssinian", names) == "阿比西尼亚猫"
    assert display_name("american_pit_bull_terrier", names) == "美国比特斗牛梗"
    assert display_name("beagle", names) == "beagle"          # still falls back when absent


def test_every_bundled_breed_found_under_its_retrain_py_key(tmp_path):
    exact = read_names(DATA / "labels_zh.csv")
    assert len(exact) == 37
    keyed = tmp_path / "keyed.csv"
    keyed.write_text("".join(f"{retrain_py_label(k)},{v}\n" for k, v in exact.items()), encoding="utf-8")
    names = read_names(keyed)
    assert set(names) != set(exact)                           # the keys really differ ...
    for label, zh in exact.items():
        assert display_name(label, names) == zh               # ... and every label still finds its name
        assert retrain_key(label) == retrain_py_label(label).strip()


def test_exact_key_wins_and_non_ascii_labels_match_exactly_only():
    names = {"Persian": "波斯猫", "persian": "别的", "柴犬": "柴犬 (Shiba)", "": "空", "x": ""}
    assert display_name("Persian", names) == "波斯猫"
    assert display_name("persian", names) == "别的"
    assert display_name("PERSIAN", names) in {"波斯猫", "别的"}   # by key: one of the two
    assert display_name("柴犬", names) == "柴犬 (Shiba)"
    assert display_name("秋田犬", names) == "秋田犬"             # retrain key '' never matches ''
    assert display_name("X", names) == "X"                       # an empty Chinese name is skipped
    assert display_name("Persian", None) == "Persian"
    assert retrain_key("American_Pit-Bull  Terrier 2") == "american pit bull terrier 2"
    assert retrain_key("柴犬") == ""
