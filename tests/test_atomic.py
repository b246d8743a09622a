"""petnet.atomic: all or nothing under the real name (one file, or a group of files that belong
together), special targets refused, and clear errors for a full disk or a read-only folder."""

from __future__ import annotations

import errno
import os
from unittest import mock

import pytest

from petnet.atomic import check_output_path, write_atomically, write_bytes, write_text, write_together
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
    assert check_output_path(tmp_path / "new" / "m.npz", "--output_graph", "pets.npz") == tmp_path / "new" / "m.npz"
    assert (tmp_path / "new").is_dir()                   # its folder is made, nothing else
    with pytest.raises(PetnetError, match=r"--output_graph .* is a folder; give a file name such as .*pets\.npz"):
        check_output_path(tmp_path, "--output_graph", "pets.npz")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PetnetError, match="ONNX file .*cannot create the folder"):
        check_output_path(blocker / "sub" / "x.onnx", "ONNX file", "pets.onnx")


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def _enospc(*_args, **_kw):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_named_and_leaves_the_old_file(tmp_path):
    target = tmp_path / "labels.txt"
    target.write_text("old\n")
    with mock.patch("os.fsync", _enospc):            # the disk fills when the data is flushed
        with pytest.raises(PetnetError, match=r"no space left on device while writing output file .*labels\.txt; "
                                              "nothing was changed"):
            write_text(target, "new\n")
    assert target.read_text() == "old\n" and _names(tmp_path) == ["labels.txt"]

    def full(f):                                     # ... or while the writer writes
        f.write(b"par")
        raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(PetnetError, match="no space left on device while writing the model"):
        write_atomically(target, full, what="the model")
    assert target.read_text() == "old\n" and _names(tmp_path) == ["labels.txt"]


def test_read_only_and_forbidden_folders_are_said_plainly(tmp_path):
    target = tmp_path / "m.npz"
    for code, why in ((errno.EROFS, "the file system is read-only"), (errno.EACCES, "permission denied")):
        with mock.patch("os.replace", side_effect=OSError(code, os.strerror(code))):
            with pytest.raises(PetnetError, match=f"cannot write output file .*m\\.npz: {why}"):
                write_bytes(target, b"x")
        assert _names(tmp_path) == []                # the temporary file went too


def test_write_together_replaces_all_or_nothing(tmp_path):
    model, labels = tmp_path / "pets.npz", tmp_path / "labels.txt"
    model.write_bytes(b"old model")
    labels.write_text("old labels")

    def no_space(f):
        raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(PetnetError, match=r"no space left on device while writing .*labels\.txt; nothing was changed"):
        write_together({model: lambda f: f.write(b"new model"), labels: no_space})
    assert model.read_bytes() == b"old model" and labels.read_text() == "old labels"
    assert _names(tmp_path) == ["labels.txt", "pets.npz"]           # no temporary left

    def interrupted(f):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        write_together({model: lambda f: f.write(b"new model"), labels: interrupted})
    assert model.read_bytes() == b"old model" and _names(tmp_path) == ["labels.txt", "pets.npz"]

    assert write_together({model: lambda f: f.write(b"new model"),
                           labels: lambda f: f.write(b"new labels")}) == [model, labels]
    assert model.read_bytes() == b"new model" and labels.read_text() == "new labels"

    os.link(model, tmp_path / "hard.npz")                     # the same file under two names
    with pytest.raises(PetnetError, match="are the same file"):
        write_together({model: lambda f: f.write(b"a"), tmp_path / "hard.npz": lambda f: f.write(b"b")})
    assert model.read_bytes() == b"new model"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_targets_are_refused_not_replaced(tmp_path):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    with pytest.raises(PetnetError, match=r"is a FIFO \(named pipe\), not a regular file"):
        write_bytes(fifo, b"x")
    with pytest.raises(PetnetError, match=r"output_graph .* is a FIFO"):
        check_output_path(fifo, "output_graph", "pets.npz")
    with pytest.raises(PetnetError, match="is a folder; give a file name such as"):
        check_output_path(f"{tmp_path}/new_folder/", "output_graph", "pets.npz")
    assert os.path.exists(fifo) and not os.path.isfile(fifo)      # still the FIFO
    assert _names(tmp_path) == ["out.png"]
    target = tmp_path / "sub" / "x.bin"
    os.umask(old := os.umask(0o022))
    write_bytes(target, b"data")
    assert target.read_bytes() == b"data" and (target.stat().st_mode & 0o777) == 0o666 & ~old


@pytest.fixture
def small_disk(tmp_path):
    """A real 64 KB file system (tmpfs), where this machine lets the test mount one (root on
    Linux); skipped elsewhere -- the simulated full disk above covers those machines."""
    import shutil
    import subprocess
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_really_full_disk(small_disk):
    model, labels = small_disk / "pets.npz", small_disk / "labels.txt"
    model.write_bytes(b"old model" * 1000)
    labels.write_text("old labels")
    big = os.urandom(200_000)                         # does not fit in 64 KB
    with pytest.raises(PetnetError, match=r"no space left on device while writing output file .*pets\.npz; "
                                          "nothing was changed"):
        write_bytes(model, big)
    with pytest.raises(PetnetError, match="no space left on device"):
        write_together({labels: lambda f: f.write(b"new labels"), model: lambda f: f.write(big)})
    assert model.read_bytes() == b"old model" * 1000 and labels.read_text() == "old labels"
    assert _names(small_disk) == ["labels.txt", "pets.npz"]             # no temporary left behind
