"""Issue 23, item 1: one output guard (``petnet/output_guard.py``) for every command.

* :func:`guard` itself: the same file under another name, ``..``, a symlink, a hard link; two
  outputs that are one file, or one file on a case-folding file system; a photo of the user's
  replaced (inside an input folder, or by a file that is not a picture); an output folder among the
  inputs; nothing is created by the check.
* **Every registered command** of ``petnet`` (the parser is built and its sub-commands walked, so a
  new command cannot be missed): it declares its inputs and outputs, every free-text flag is either
  declared or known not to be a path, and giving an output that is one of its inputs -- by another
  spelling, a symlink, a hard link -- is refused with exit status 2 and one ``error:`` line before
  anything is written. The handlers are replaced by stubs here (a command that was not refused
  would "run" and fail the test at once); real handlers are run in the tests at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil

import numpy as np
import pytest
from PIL import Image

import petnet.cli
from petnet.cli import build_parser, main
from petnet.errors import PetnetError
from petnet.output_guard import Input, Output, guard, image_kind

needs_links = pytest.mark.skipif(not hasattr(os, "link") or not hasattr(os, "symlink"), reason="needs links")


def png(path, size=(8, 6)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 30, 30)).save(path)
    return path


def snapshot(root):
    """Every path under ``root`` with what would change if it were written."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino)
    return out


# ----------------------------------------------------------------------------- the guard itself
@needs_links
def test_an_output_that_is_an_input_by_any_spelling_is_refused(tmp_path, monkeypatch):
    photo = png(tmp_path / "cat.png")
    (tmp_path / "sub").mkdir()
    os.link(photo, tmp_path / "hard.png")
    (tmp_path / "soft.png").symlink_to(photo)
    monkeypatch.chdir(tmp_path / "sub")
    for spelling in (photo, "../cat.png", tmp_path / "sub" / ".." / "cat.png", tmp_path / "hard.png",
                     tmp_path / "soft.png", f"{tmp_path}//cat.png"):
        with pytest.raises(PetnetError, match=r"^the output --out \(.*\) is the same file as the input IMAGE; "
                                              "writing it would destroy the input"):
            guard({"--out": spelling}, {"IMAGE": photo}, kinds={"--out": "picture"})
    guard({"--out": tmp_path / "new.png"}, {"IMAGE": photo}, kinds={"--out": "picture"})     # a new file: fine
    assert sorted(os.listdir(tmp_path)) == ["cat.png", "hard.png", "soft.png", "sub"]    # nothing created


def test_two_outputs_that_are_one_file_are_refused(tmp_path):
    with pytest.raises(PetnetError, match="^the outputs --plot and --contour are the same file"):
        guard({"--plot": tmp_path / "a.png", "--contour": tmp_path / "x" / ".." / "a.png"})
    with pytest.raises(PetnetError, match="^the outputs --plot and --contour .* differ only by case or Unicode "
                                          "normalisation: on macOS and Windows they are the same file"):
        guard({"--plot": tmp_path / "Loss.png", "--contour": tmp_path / "loss.PNG"})
    with pytest.raises(PetnetError, match="differ only by case or Unicode normalisation"):
        guard({"a": tmp_path / "caf\u00e9.png", "b": tmp_path / "cafe\u0301.png"})    # NFC and NFD
    guard({"--plot": tmp_path / "a.png", "--contour": tmp_path / "b.png"})
    assert os.listdir(tmp_path) == []


@needs_links
def test_inputs_given_as_folders_and_globs_count_as_their_files(tmp_path, monkeypatch):
    photos = tmp_path / "photos"
    deep = png(photos / "cats" / "deep.jpg")
    os.link(deep, tmp_path / "elsewhere.png")             # the same photo outside the folder
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PetnetError, match=r"is the same file as the input PATH .*deep.jpg"):
        guard({"--sheet": "elsewhere.png"}, {"PATH": ["photos"]}, kinds={"PATH": "photos", "--sheet": "picture"})
    with pytest.raises(PetnetError, match=r"is the same file as the input PATH .*deep.jpg"):
        guard({"--sheet": "elsewhere.png"}, {"PATH": ["photos/**/*.jpg"]}, kinds={"PATH": "photos",
                                                                                   "--sheet": "picture"})
    with pytest.raises(PetnetError, match="is the same file as the input --image_dir"):
        guard({"--output_graph": "elsewhere.png"}, {"--image_dir": "photos"}, kinds={"--image_dir": "tree"})
    with pytest.raises(PetnetError, match="root folder"):          # never a search of the whole disk
        guard({"--out": "x.jsonl"}, {"PATH": ["/"]}, kinds={"PATH": "photos"})


def test_a_photo_of_the_users_is_never_replaced(tmp_path):
    photos = tmp_path / "photos"
    png(photos / "a.png")
    hidden = photos / ".IMG_0001.HEIC"                     # not read by predict, still a photo
    shutil.copy(photos / "a.png", hidden)
    kinds = {"PATH": "photos", "--sheet": "picture", "--out": "results"}
    with pytest.raises(PetnetError, match=r"would replace a photo \(PNG\) in the input folder PATH"):
        guard({"--out": hidden}, {"PATH": [photos]}, kinds=kinds)
    results = photos / "results.jsonl"                    # `petnet predict . --ray local --out results.jsonl`
    results.write_text('{"path": "a.png"}\n')             # resumed: not a photo, not read by predict
    guard({"--out": results}, {"PATH": [photos]}, kinds=kinds)
    victim = png(tmp_path / "holiday.jpg")                # petnet writes no model over a picture
    with pytest.raises(PetnetError, match=r"is an existing JPEG image, and --output_graph writes a file that is not "
                                          "a picture: petnet does not replace a photo"):
        guard({"--output_graph": victim}, {})
    guard({"--plot": victim}, {}, kinds={"--plot": "picture"})       # a figure over a picture: a rerun


def test_output_folders_among_the_inputs_are_refused(tmp_path):
    photos = tmp_path / "photos"
    png(photos / "cat" / "a.png")
    kinds = {"--image_dir": "tree", "--summaries_dir": "folder"}
    for inside in (photos, photos / "cat", photos / "new" / "runs", tmp_path / "x" / ".." / "photos"):
        with pytest.raises(PetnetError, match=r"^the output folder --summaries_dir .* (is the input folder|is inside "
                                              r"the input folder) --image_dir: what it writes there would become"):
            guard({"--summaries_dir": inside}, {"--image_dir": photos}, kinds=kinds)
    guard({"--summaries_dir": tmp_path / "runs"}, {"--image_dir": photos}, kinds=kinds)
    with pytest.raises(PetnetError, match="is a regular file, not a folder"):
        guard({"--summaries_dir": photos / "cat" / "a.png"}, {}, kinds=kinds)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]


def test_empty_and_special_paths_are_refused(tmp_path):
    with pytest.raises(PetnetError, match=r"^--out is empty: no path was given \(an unset shell variable\?\)"):
        guard({"--out": ""}, {})
    with pytest.raises(PetnetError, match="^--data is empty"):
        guard({}, {"--data": ""})                          # checked even when nothing is written
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.png")
        with pytest.raises(PetnetError, match=r"is a FIFO \(named pipe\), not a regular file"):
            guard({"--plot": tmp_path / "fifo.png"}, {}, kinds={"--plot": "picture"})
    with pytest.raises(PetnetError, match="'.txt' is not a picture format"):
        guard({"--plot": tmp_path / "a.txt"}, {}, kinds={"--plot": "picture"})


def test_image_kind_reads_magic_bytes_not_names(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "a.txt", "PNG")
    assert image_kind(tmp_path / "a.txt") == "PNG"
    Image.new("RGB", (4, 4)).save(tmp_path / "b.bin", "JPEG")
    Image.new("RGB", (4, 4)).save(tmp_path / "c.bin", "BMP")
    Image.new("RGB", (4, 4)).save(tmp_path / "d.bin", "WEBP")
    Image.new("RGB", (4, 4)).save(tmp_path / "e.bin", "TIFF")
    assert [image_kind(tmp_path / n) for n in ("b.bin", "c.bin", "d.bin", "e.bin")] == ["JPEG", "BMP", "WebP", "TIFF"]
    (tmp_path / "labels.txt").write_text("BMW\nbeagle\n")          # starts like a BMP, is not one
    np.savez(tmp_path / "m.npz", a=np.zeros(3))
    assert image_kind(tmp_path / "labels.txt") is None and image_kind(tmp_path / "m.npz") is None
    assert image_kind(tmp_path / "none.png") is None and image_kind(tmp_path) is None


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="input kind must be one of"):
        Input("data", "csv")
    with pytest.raises(ValueError, match="output kind must be one of"):
        Output("plot", "figure")
    sub = argparse.ArgumentParser().add_subparsers()
    from petnet.cliutil import add_command
    with pytest.raises(TypeError, match="inputs"):
        add_command(sub, "new", lambda args: 0, help="a command that forgot its files")     # noqa


# ----------------------------------------------------------------------------- every command
#: free-text flags that are not paths (anything else must be declared as an input or output)
NOT_PATHS = {"x": "CSV column names", "y": "a CSV column name", "optimizer": "an optimizer's name",
             "config": "a VGG configuration's name", "model_dir": "retrain.py's flag, accepted and ignored",
             "ray": "a cluster address", "test_views": "names of views", "host": "a network address",
             "token": "a secret"}
#: the arguments a command needs that are neither inputs nor outputs
REQUIRED = {("filter",): ["--kernel", "mean"]}
SKIP = (argparse._HelpAction, argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._StoreConstAction,
        argparse.BooleanOptionalAction, argparse._VersionAction)


def leaf_commands(parser, prefix=()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from leaf_commands(sub, prefix + (name,))


COMMANDS = dict(leaf_commands(build_parser()))


def test_the_walk_sees_every_command():
    assert len(COMMANDS) >= 23 and ("predict",) in COMMANDS and ("gd", "fit") in COMMANDS
    assert ("nn", "pooling") in COMMANDS and ("serve",) in COMMANDS


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=" ".join)
def test_every_command_declares_its_files(command):
    parser = COMMANDS[command]
    inputs, outputs = parser.get_default("_inputs"), parser.get_default("_outputs")
    assert isinstance(inputs, tuple) and all(isinstance(i, Input) for i in inputs), command
    assert isinstance(outputs, tuple) and all(isinstance(o, Output) for o in outputs), command
    dests = {a.dest for a in parser._actions}
    declared = {s.dest for s in inputs + outputs}
    assert declared <= dests, f"{command} declares files of flags it does not have: {declared - dests}"
    for action in parser._actions:
        if isinstance(action, SKIP) or action.type is not None or action.choices is not None:
            continue                                          # numbers, switches, choices
        assert action.dest in declared or action.dest in NOT_PATHS, (
            f"petnet {' '.join(command)} {action.option_strings or action.dest}: a free-text argument that is "
            "neither declared (add_command's inputs=/outputs=) nor listed as not a path")


def _stub_parser():
    """petnet's parser with every handler replaced: a command the guard let through 'runs' (exit 0)."""
    parser = build_parser()
    for _, sub in leaf_commands(parser):
        sub.set_defaults(func=lambda args: 0)
    return parser


def _value(tmp_path, spec, kind_of_target=None):
    """A real file (or folder with a photo) for the input ``spec``; a new path for an output."""
    if isinstance(spec, Input):
        if spec.kind == "file":
            return png(tmp_path / "in" / f"{spec.dest}.png")
        return png(tmp_path / "in" / spec.dest / "photo.png").parent
    if spec.kind == "folder":
        return tmp_path / "new" / spec.dest
    return tmp_path / "new" / f"{spec.dest}.png"


def _argv(command, parser, values):
    positional, options = [], list(REQUIRED.get(command, []))
    for action in parser._actions:
        if action.dest not in values:
            continue
        if action.option_strings:
            options += [action.option_strings[0], str(values[action.dest])]
        else:
            positional.append(str(values[action.dest]))
    return [*command, *positional, *options]


def _spellings(tmp_path, target):
    """Other names of ``target``: ``..``, a symbolic link, a hard link (a file only)."""
    links = tmp_path / "links"
    links.mkdir(exist_ok=True)
    n = len(list(links.iterdir()))
    soft = links / f"soft{n}{target.suffix}"
    soft.symlink_to(target)
    out = {"..": target.parent / "x" / ".." / target.name, "symlink": soft}
    if target.is_file():
        hard = links / f"hard{n}{target.suffix}"
        os.link(target, hard)
        out["hard link"] = hard
    return out


def _cases():
    for command, parser in sorted(COMMANDS.items()):
        inputs, outputs = parser.get_default("_inputs"), parser.get_default("_outputs")
        for out in outputs:
            for inp in inputs:
                yield pytest.param(command, out.dest, inp.dest, id=f"{' '.join(command)} {out.dest}={inp.dest}")


@needs_links
@pytest.mark.parametrize("command, out_dest, in_dest", list(_cases()))
def test_an_output_that_is_an_input_is_refused_by_every_command(tmp_path, monkeypatch, capsys, command, out_dest,
                                                               in_dest):
    monkeypatch.setattr(petnet.cli, "build_parser", _stub_parser)
    monkeypatch.chdir(tmp_path)
    parser = COMMANDS[command]
    specs = {s.dest: s for s in parser.get_default("_inputs") + parser.get_default("_outputs")}
    values = {dest: _value(tmp_path, spec) for dest, spec in specs.items()
              if isinstance(spec, Input) or dest == out_dest or any(
                  a.dest == dest and a.required for a in parser._actions)}
    source = values[in_dest]
    folder_out = specs[out_dest].kind == "folder"
    target = source if (source.is_file() or folder_out) else next(source.iterdir())
    for how, spelling in _spellings(tmp_path, target).items():
        values[out_dest] = spelling
        before = snapshot(tmp_path)
        code = main(_argv(command, parser, values))
        err = capsys.readouterr().err
        flag = next(a for a in parser._actions if a.dest == out_dest)
        name = flag.option_strings[0] if flag.option_strings else flag.metavar
        assert code == 2, f"petnet {' '.join(command)}: {name} = {how} of {in_dest} was not refused"
        assert err.startswith("error: ") and err.count("\n") == 1 and name in err, err
        assert snapshot(tmp_path) == before, f"{command}: something was written before the refusal"
        if not folder_out and specs[out_dest].kind != "folder":
            assert "is the same file as the input" in err or "would replace a photo" in err, err


def _output_pairs():
    for command, parser in sorted(COMMANDS.items()):
        files = [o for o in parser.get_default("_outputs") if o.kind != "folder"]
        for i, a in enumerate(files):
            for b in files[i + 1:]:
                yield pytest.param(command, a.dest, b.dest, id=f"{' '.join(command)} {a.dest}={b.dest}")


@needs_links
@pytest.mark.parametrize("command, first, second", list(_output_pairs()))
def test_two_outputs_of_a_command_that_are_one_file_are_refused(tmp_path, monkeypatch, capsys, command, first,
                                                                second):
    monkeypatch.setattr(petnet.cli, "build_parser", _stub_parser)
    monkeypatch.chdir(tmp_path)
    parser = COMMANDS[command]
    values = {s.dest: _value(tmp_path, s) for s in parser.get_default("_inputs")}
    target = tmp_path / "out" / "same.png"
    for spelling in (target.parent / "x" / ".." / "same.png", tmp_path / "out" / "SAME.png"):
        values.update({first: target, second: spelling})
        before = snapshot(tmp_path)
        assert main(_argv(command, parser, values)) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: the outputs ") and err.count("\n") == 1, err
        assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", [c for c, p in sorted(COMMANDS.items())
                                     if p.get_default("_outputs") and not p.get_default("_inputs")], ids=" ".join)
def test_commands_without_inputs_guard_their_outputs_too(tmp_path, monkeypatch, capsys, command):
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs FIFOs")
    monkeypatch.setattr(petnet.cli, "build_parser", _stub_parser)
    parser = COMMANDS[command]
    for out in parser.get_default("_outputs"):
        fifo = tmp_path / f"{out.dest}.png"
        os.mkfifo(fifo)
        assert main(_argv(command, parser, {out.dest: fifo})) == 2
        assert "is a FIFO" in capsys.readouterr().err


# ----------------------------------------------------------------------------- real handlers
@needs_links
def test_real_commands_refuse_before_writing(tmp_path, monkeypatch, capsys):
    from petnet.pets.model_file import save_model
    from tests.pets.test_api import _model
    monkeypatch.chdir(tmp_path)
    model = save_model(tmp_path / "m.npz", _model())
    os.link(model, tmp_path / "same.npz")
    photos = tmp_path / "photos"
    png(photos / "cat" / "a.png")
    png(photos / "cat" / "b.png")
    png(photos / "dog" / "c.png")
    png(photos / "dog" / "d.png")
    shutil.copy(photos / "cat" / "a.png", photos / "dog" / "raw.HEIC")
    shutil.copy(photos / "cat" / "a.png", photos / "dog" / "scan.orig")     # a photo predict does not read
    before = snapshot(tmp_path)
    for argv, said in (
            (["export", "--model", "m.npz", "-o", "same.npz"], "the output --output (same.npz) is the same file as "
                                                             "the input --model"),
            (["predict", "photos", "--ray", "local", "--out", "photos/cat/a.png"], "is the same file as the input PATH"),
            (["predict", "photos", "--sheet", "photos/dog/raw.HEIC"], "is not a picture format"),
            (["predict", "photos", "--ray", "local", "--out", "photos/dog/scan.orig"], "would replace a photo (PNG)"),
            (["retrain", "--image_dir", "photos", "--summaries_dir", "photos/cat"], "is inside the input folder"),
            (["retrain", "--image_dir", "photos", "--bottleneck_dir", "photos"], "is the input folder --image_dir"),
            (["retrain", "--image_dir", "photos", "--output_labels", "photos/dog/raw.HEIC"], "is the same file"),
            (["haar", "detect", "photos/cat", "--out", "photos/cat/../cat/b.png"], "the same file as the input PHOTO"),
            (["nn", "mnist", "--data", "photos/cat", "--save", "photos/cat/a.png"], "is the same file as the input"),
            (["serve", "--data-dir", "m.npz"], "is a regular file, not a folder")):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    assert snapshot(tmp_path) == before
