"""The store under ``--data-dir``: names that survive labels.txt, files that never block, and a
consistent state after anything a crash or a user's hand can leave behind."""

from __future__ import annotations

import os

import pytest

from petnet.errors import PetnetError
from petnet.serve.store import Store, check_class_name


def test_class_names():
    assert check_class_name("  咪咪\u3000") == "咪咪"
    assert check_class_name("Cafe\u0301") == "Caf\u00e9"            # NFC: one spelling per name
    for bad, why in (("", "empty"), ("a\nb", "line breaks"), ("a/b", "slashes"), ("a\\b", "slashes"),
                     (".x", "dot"), ("x" * 41, "at most 40"), ("a\x1bb", "control"), (3, "text")):
        with pytest.raises(PetnetError, match=why):
            check_class_name(bad)


def test_damaged_or_special_files_are_refused_not_waited_on(tmp_path):
    root = tmp_path / "d"
    Store(root).add_class("a")
    (root / "classes.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(PetnetError, match="classes.json is damaged"):
        Store(root)
    (root / "classes.json").unlink()
    os.mkfifo(root / "classes.json")                     # would block a plain read forever
    with pytest.raises(PetnetError, match="not a regular file"):
        Store(root)


def test_models_and_leftovers(tmp_path):
    root = tmp_path / "d"
    s = Store(root)
    folder = s.new_model_folder()
    (folder / "model.npz").write_bytes(b"PK")
    assert s.commit_model(folder, {"classes": ["a", "b"]}) == "m0001"
    half = s.new_model_folder()                          # an unfinished model (a crash)
    (half / "model.npz").write_bytes(b"PK")
    s.set_active("m0001")
    s2 = Store(root)
    assert s2.active == "m0001" and s2.previous is None
    assert not list(s2.tmp_dir.iterdir())                # leftovers removed at start
    assert [m["version"] for m in s2.models()] == ["m0001"]
    (root / "models" / "m0001" / "model.npz").unlink()   # removed by hand: back to the base model
    assert Store(root).active is None
    with pytest.raises(PetnetError, match="no model"):
        s2.set_active("m0002")
