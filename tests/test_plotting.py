"""petnet.plotting.finish: a picture that cannot be written is a clear PetnetError (the command line
prints one ``error:`` line), never a traceback, and the figure is closed either way."""

from __future__ import annotations

import pytest
from PIL import Image

from petnet import plotting
from petnet.cli import main
from petnet.errors import PetnetError
from petnet.plotting import MAX_PICTURE_PIXELS, bounded_figsize, check_picture_path, finish, pyplot


def test_unwritable_or_unknown_picture_paths(tmp_path):
    plt = pyplot()
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for path, why in ((blocker / "plot.png", "cannot write the picture"),
                      (tmp_path / "plot.xyz", "use .png")):
        fig = plt.figure()
        with pytest.raises(PetnetError, match=why):
            finish(fig, path)
        assert not plt.fignum_exists(fig.number)         # closed even so
    fig = plt.figure()
    out = finish(fig, tmp_path / "new" / "ok.png")
    assert out.exists() and out.stat().st_size > 0


def test_the_command_line_reports_it_in_one_line(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert main(["gd", "surface", "--plot", str(blocker / "surface.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write the picture") and "Traceback" not in err


def test_picture_paths_that_are_mistakes_are_refused_and_nothing_is_written(tmp_path):
    plt = pyplot()
    folder = tmp_path / "figs"
    folder.mkdir()
    cases = ((f"{folder}/", "is a folder; give a file name such as"),          # today: figs/.png
             (folder, "is a folder; give a file name such as"),
             (f"{tmp_path}/new/", "is a folder"),
             (tmp_path / "sheet", r"has no extension, so its format is unknown; add one, e\.g\. .*sheet\.png"),
             (tmp_path / "plot.xyz", r"'\.xyz' is not a picture format petnet can write; use \.png"))
    for path, why in cases:
        with pytest.raises(PetnetError, match=why):
            check_picture_path(path)
        fig = plt.figure()
        with pytest.raises(PetnetError, match=why):
            finish(fig, path)
        assert not plt.fignum_exists(fig.number)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figs"] and not any(folder.iterdir())
    assert check_picture_path(tmp_path / "a.PNG") == tmp_path / "a.PNG"


def test_picture_sizes_are_bounded(tmp_path, monkeypatch):
    w, h = bounded_figsize(252, 252, dpi=100)           # a 1000-class confusion matrix
    assert (w * 100) * (h * 100) <= MAX_PICTURE_PIXELS * 1.0001 and w == pytest.approx(h)
    assert bounded_figsize(6.4, 4.8, dpi=100) == (6.4, 4.8)          # ordinary figures unchanged
    w, h = bounded_figsize(10, 5000, dpi=100)                         # a very tall one: each side too
    assert h * 100 <= 65_000 and w / h == pytest.approx(10 / 5000)

    monkeypatch.setattr(plotting, "MAX_PICTURE_PIXELS", 200_000)
    plt = pyplot()
    fig = plt.figure(figsize=(40, 20))                  # 4400 x 2200 at dpi 110
    out = finish(fig, tmp_path / "big.png")
    with Image.open(out) as img:
        assert img.size[0] * img.size[1] <= 200_000 * 1.01 and img.size[0] == pytest.approx(2 * img.size[1], abs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.png"]       # no temporary left


def test_the_command_line_refuses_a_folder_as_plot(tmp_path, capsys):
    assert main(["gd", "surface", "--plot", f"{tmp_path}/"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: --plot ") and "is a folder" in err and "Traceback" not in err
    assert out == ""             # refused before any work is done or printed
    assert list(tmp_path.iterdir()) == []
