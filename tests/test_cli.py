"""The top-level ``petnet`` command: help, and output piped into a reader that stops early."""

import subprocess
import sys

from petnet.cli import main


def test_help_lists_every_chapter(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("gd", "filter", "nn", "backprop", "vgg", "retrain", "predict", "export"):
        assert command in out


def test_broken_pipe_is_not_a_traceback():
    # `petnet ... | head` closes the pipe early: the command must end quietly (status 141), not crash
    code = ("import petnet.nn.backprop as b\n"
            "def boom(report):\n    raise BrokenPipeError(32, 'Broken pipe')\n"
            "b.format_report = boom\n"
            "from petnet.cli import main\nraise SystemExit(main(['backprop']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr


def test_a_path_that_cannot_be_used_is_one_error_line(monkeypatch, capsys):
    # any OSError that reaches the top (a folder that cannot be made, a file that cannot be opened)
    import petnet.nn.backprop as b

    def boom(report):
        raise PermissionError(13, "Permission denied", "/somewhere/out.txt")
    monkeypatch.setattr(b, "format_report", boom)
    assert main(["backprop"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: cannot use /somewhere/out.txt: Permission denied; "
                   "check the path and its permissions\n")

