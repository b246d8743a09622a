"""petnet.plotting.finish: a picture that cannot be written is a clear PetnetError (the command line
prints one ``error:`` line), never a traceback, and the figure is closed either way."""

from __future__ import annotations

import pytest

from petnet.cli import main
from petnet.errors import PetnetError
from petnet.plotting import finish, pyplot


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
