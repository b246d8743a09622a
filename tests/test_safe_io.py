"""petnet.safe_io: special files refused at once (never waited on), bounded reads, safe NumPy
archives, outputs that are not regular files refused, the same file found whatever its spelling,
and text from files shown without terminal escape sequences."""

from __future__ import annotations

import io
import os
import signal
import socket
import zipfile

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.output_guard import guard, same_file
from petnet.safe_io import (as_written, check_output_file, check_regular_file, load_npy, load_npz, open_regular,
                            printable, read_bytes, read_gzip, read_text)

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


@pytest.fixture(autouse=True)
def never_hang():
    """A reader that blocks on a FIFO fails the test after 10 s instead of hanging the suite."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def alarm(*_):
        raise AssertionError("blocked for 10 s: a special file was waited on")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(10)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "x.jpg"
    os.mkfifo(path)
    return path


@posix_only
def test_a_fifo_is_named_and_refused_at_once_by_every_reader(fifo, tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(fifo)
    for path in (fifo, link):
        for read in (lambda p: check_regular_file(p, "photo"), lambda p: open_regular(p, "photo"),
                     lambda p: read_bytes(p, "photo"), lambda p: read_text(p, "photo"),
                     lambda p: read_gzip(p, "photo"), lambda p: load_npy(p, "photo"),
                     lambda p: load_npz(p, "photo")):
            with pytest.raises(PetnetError, match=r"is a FIFO \(named pipe\), not a regular file") as info:
                read(path)
            assert f"photo {path}" in str(info.value) and "does not exist" not in str(info.value)


def test_folders_devices_sockets_and_missing_files_say_what_they_are(tmp_path):
    with pytest.raises(PetnetError, match=r"CSV file .* is a folder, not a regular file"):
        check_regular_file(tmp_path, "CSV file")
    with pytest.raises(PetnetError, match=r"is a folder, not a regular file"):
        read_bytes(tmp_path, "CSV file")
    with pytest.raises(PetnetError, match=r"does not exist; check the path"):
        check_regular_file(tmp_path / "missing.csv", "CSV file")
    with pytest.raises(PetnetError, match=r"does not exist; check the path"):
        read_bytes(tmp_path / "missing.csv", "CSV file")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(PetnetError, match="a part of the path is a file, not a folder"):
        check_regular_file(tmp_path / "a_file" / "data.csv", "CSV file")
    broken = tmp_path / "broken.png"
    broken.symlink_to(tmp_path / "gone.png")
    with pytest.raises(PetnetError, match=r"symbolic link to .*gone\.png, which does not exist"):
        read_bytes(broken, "image")
    if os.path.exists("/dev/null"):
        for read in (check_regular_file, open_regular, read_bytes):
            with pytest.raises(PetnetError, match="is a character device, not a regular file"):
                read("/dev/null", "data file")
    if os.path.exists("/dev/zero"):     # would never end if it were read
        with pytest.raises(PetnetError, match="/dev/zero is a character device"):
            read_bytes("/dev/zero", "CSV file")
    sock_path = tmp_path / "s.sock"
    if hasattr(socket, "AF_UNIX") and len(str(sock_path)) < 100:
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(sock_path))
            with pytest.raises(PetnetError, match="is a socket, not a regular file"):
                check_regular_file(sock_path, "labels file")


def test_reads_are_bounded_and_the_size_is_named(tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(10 << 30)                 # 10 GB, sparse: nothing is really written
    with pytest.raises(PetnetError, match=r"CSV file .*big\.csv is 10\.0 GB, more than the 1\.0 MB a CSV file may have"):
        read_bytes(big, "CSV file", max_bytes=1 << 20)
    small = tmp_path / "ok.txt"
    small.write_bytes("\ufeffcat,猫\n".encode("utf-8"))
    assert read_bytes(small, "names file", max_bytes=11) == small.read_bytes()     # exactly the limit
    assert read_text(small, "names file") == "cat,猫\n"                         # BOM dropped
    with pytest.raises(PetnetError, match="more than"):
        read_bytes(small, "names file", max_bytes=10)
    small.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(PetnetError, match="is not UTF-8 text"):
        read_text(small, "names file")


def test_gzip_is_unpacked_within_the_bound(tmp_path):
    import gzip
    ok = tmp_path / "labels.gz"
    ok.write_bytes(gzip.compress(b"0123456789"))
    assert read_gzip(ok, "MNIST file", max_bytes=10) == b"0123456789"
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(bytes(50 << 20)))           # 50 MB of zeros in 50 KB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(PetnetError, match=r"MNIST file .*bomb\.gz unpacks to more than the 1\.0 MB"):
        read_gzip(bomb, "MNIST file", max_bytes=1 << 20)


def _npy_bytes(arr, **kw) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, **kw)
    return buf.getvalue()


def test_numpy_files_round_trip_and_hostile_ones_are_refused(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "a.npy", a)
    np.savez_compressed(tmp_path / "m.npz", W=a, labels=np.array(["cat", "猫"]), f=np.asfortranarray(a))
    assert np.array_equal(load_npy(tmp_path / "a.npy"), a)
    got = load_npz(tmp_path / "m.npz", "model file")
    assert sorted(got) == ["W", "f", "labels"] and np.array_equal(got["f"], a)
    assert got["labels"].tolist() == ["cat", "猫"]

    np.save(tmp_path / "obj.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(PetnetError, match="pickled Python objects, which petnet never loads"):
        load_npy(tmp_path / "obj.npy", "cache entry")
    with zipfile.ZipFile(tmp_path / "obj.npz", "w") as z:
        z.writestr("W.npy", (tmp_path / "obj.npy").read_bytes())
    with pytest.raises(PetnetError, match="pickled Python objects"):
        load_npz(tmp_path / "obj.npz", "model file")

    # A header announcing 10**12 floats: refused from the header, nothing allocated.
    header = _npy_bytes(np.zeros(3, np.float32)).replace(b"(3,)", b"(1000000000000,)")
    (tmp_path / "huge.npy").write_bytes(header)
    with pytest.raises(PetnetError, match=r"declares an array of shape \(1000000000000,\) .* more than the 1\.0 MB"):
        load_npy(tmp_path / "huge.npy", "cache entry", max_bytes=1 << 20)
    (tmp_path / "cut.npy").write_bytes(_npy_bytes(a)[:-5])
    with pytest.raises(PetnetError, match="truncated"):
        load_npy(tmp_path / "cut.npy")

    # A zip bomb: 20 MB of zeros in a small archive is refused from its declared size.
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("W.npy", "w", force_zip64=True) as member:
            member.write(_npy_bytes(np.zeros(0, np.float32)).replace(b"(0,)", b"(5242880,)"))
            for _ in range(20):
                member.write(bytes(1 << 20))
    assert (tmp_path / "bomb.npz").stat().st_size < 1 << 20
    with pytest.raises(PetnetError, match=r"unpacks to 20\.0 MB, more than the 8\.0 MB allowed \(a zip bomb"):
        load_npz(tmp_path / "bomb.npz", "model file", max_bytes=8 << 20)
    for junk, why in ((b"PK\x03\x04 not really a zip", "not a valid .npz"), (b"", "not a valid .npz")):
        (tmp_path / "junk.npz").write_bytes(junk)
        with pytest.raises(PetnetError, match=why):
            load_npz(tmp_path / "junk.npz", "model file")


@posix_only
def test_outputs_that_are_not_regular_files_are_refused(tmp_path, fifo):
    assert check_output_file(tmp_path / "new.npz") == tmp_path / "new.npz"
    (tmp_path / "old.npz").write_text("x")
    assert check_output_file(tmp_path / "old.npz") == tmp_path / "old.npz"
    for path, why in ((fifo, r"is a FIFO \(named pipe\), not a regular file; petnet only replaces regular files"),
                      (tmp_path, "is a folder, not a regular file"),
                      (f"{tmp_path}/sub/", "ends in '/', so it names a folder"),
                      ("", "is empty")):
        with pytest.raises(PetnetError, match=why):
            check_output_file(path, "output_graph")
    if os.path.exists("/dev/null"):
        with pytest.raises(PetnetError, match="output_graph /dev/null is a character device"):
            check_output_file("/dev/null", "output_graph")


def test_the_same_file_is_found_whatever_the_spelling(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    model = tmp_path / "model.npz"
    model.write_text("m")
    os.link(model, tmp_path / "hard.npz")
    (tmp_path / "soft.npz").symlink_to(model)
    monkeypatch.chdir(tmp_path / "sub")
    for other in ("../model.npz", tmp_path / "sub" / ".." / "model.npz", tmp_path / "hard.npz",
                  tmp_path / "soft.npz", str(model)):
        assert same_file(model, other), other
    assert not same_file(model, tmp_path / "labels.txt")
    assert same_file(tmp_path / "new.txt", "../new.txt")        # neither exists: resolved paths
    assert not same_file(tmp_path / "new.txt", tmp_path / "new2.txt")
    assert as_written("out/model", ".npz").name == "model.npz"
    assert as_written("out/model.npz", ".npz").name == "model.npz"

    guard({"output_labels": tmp_path / "labels.txt", "output_graph": tmp_path / "m2.npz"}, [model])
    with pytest.raises(PetnetError, match=r"the output output_graph \(.*hard\.npz\) is the same file as the input"):
        guard({"output_graph": tmp_path / "hard.npz"}, {"model": model})
    with pytest.raises(PetnetError, match="the outputs output_graph and output_labels are the same file"):
        guard({"output_graph": "../out.txt", "output_labels": tmp_path / "out.txt"})
    with pytest.raises(PetnetError, match="is the same file as the input"):       # np.savez adds .npz
        guard({"output_graph": as_written(tmp_path / "model", ".npz")}, [model])


def test_printable_escapes_control_characters_and_keeps_everything_else():
    assert printable("猫咪 (cat) é ☃ 🐱") == "猫咪 (cat) é ☃ 🐱"
    assert printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert printable("a\nb\tc\rd\x00\x7f\x9b") == "a\\nb\\tc\\rd\\x00\\x7f\\x9b"
    assert printable("evil\u202etxt.exe") == "evil\\u202etxt.exe"         # right-to-left override
    assert printable("line\u2028sep") == "line\\u2028sep"
    assert printable(os.fsdecode(b"caf\xe9.jpg")) == "caf\\xe9.jpg"      # a Latin-1 file name
    assert printable("東京\u3000タワー") == "東京\u3000タワー"
    for text in ("\x1b]0;title\x07", "\x1bP+q\x1b\\", "x\x08\x08y"):
        assert not any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 for c in printable(text))
