"""petnet.atomic.write_atomically: all or nothing under the real name, and clear errors."""

from __future__ import annotations

import pytest

from petnet.atomic import write_atomically
from petnet.errors import PetnetError


def test_writes_whole_files_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "sub" / "model.npz"
    write_atomically(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new"

    def half(f):
        f.write(b"half")
        raise KeyboardInterrupt          # Ctrl-C in the middle of writing
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, half)
    assert target.read_bytes() == b"new"            # the old file, untouched
    assert [p.name for p in target.parent.iterdir()] == ["model.npz"]   # no temporary left


def test_a_folder_that_cannot_be_written_is_a_petnet_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PetnetError, match=r"cannot write .*model\.npz.*choose a folder"):
        write_atomically(blocker / "model.npz", lambda f: f.write(b"x"))


def test_check_output_path_refuses_folders_and_unmakeable_folders(tmp_path):
    from petnet.atomic import check_output_path
    assert check_output_path(tmp_path / "new" / "m.npz", "--output_graph", "pets.npz") == tmp_path / "new" / "m.npz"
    assert (tmp_path / "new").is_dir()                   # its folder is made, nothing else
    with pytest.raises(PetnetError, match=r"--output_graph .* is a folder; give a file name such as .*pets\.npz"):
        check_output_path(tmp_path, "--output_graph", "pets.npz")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PetnetError, match="ONNX file .*cannot create the folder"):
        check_output_path(blocker / "sub" / "x.onnx", "ONNX file", "pets.onnx")
