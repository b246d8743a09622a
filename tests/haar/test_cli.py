"""`petnet haar` end to end: integral example, detection with --json/--out, user errors -> exit 2."""

import json

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main
from tests.conftest import shared_path


def test_integral_example(capsys):
    assert main(["haar", "integral", "--rect", "2,1,4,3"]) == 0
    out = capsys.readouterr().out
    assert "ii[4, 6] - ii[1, 6] - ii[4, 2] + ii[1, 2]" in out and "(equal)" in out
    assert main(["haar", "integral", "--size", "12x9", "--seed", "3", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["equal"] and rec["four_lookups"] == rec["direct"] and rec["width"] == 12


def test_integral_of_a_photo(tmp_path, capsys):
    u8 = np.random.default_rng(12).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(u8).save(tmp_path / "p.png")
    argv = ["haar", "integral", "--image", str(tmp_path / "p.png"), "--rect", "5,6,20,10", "--json"]
    assert main(argv) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["equal"] and rec["pixels_added"] == 200


def test_detect_cat_face(tmp_path, capsys):
    photo = shared_path("data", "pets", "train", "Persian", "Persian_106.jpg")
    fig = tmp_path / "boxes.png"
    assert main(["haar", "detect", str(photo), "--json", "--out", str(fig), "--min-size", "100"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["cascade"] == "catface" and len(rec["boxes"]) == 1
    assert (rec["width"], rec["height"]) == (256, 322)
    assert fig.exists() and Image.open(fig).size[0] > 200


def test_detect_text_output_and_face_cascade(tmp_path, capsys):
    Image.fromarray(np.full((60, 80, 3), 200, np.uint8)).save(tmp_path / "flat.png")
    assert main(["haar", "detect", str(tmp_path), "--cascade", "face"]) == 0
    out = capsys.readouterr().out
    assert "flat.png: 0 faces" in out


def test_user_errors(tmp_path, capsys):
    Image.fromarray(np.zeros((30, 30), np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.xml").write_text("<opencv_storage><cascade>")
    calls = [
        ["haar", "detect", str(tmp_path / "missing.jpg")],
        ["haar", "detect", str(tmp_path / "empty")],
        ["haar", "detect", str(tmp_path / "a.png"), "--cascade", str(tmp_path / "nope.xml")],
        ["haar", "detect", str(tmp_path / "a.png"), "--cascade", str(tmp_path / "bad.xml")],
        ["haar", "detect", str(tmp_path / "a.png"), "--out", str(tmp_path / "a.png")],
        ["haar", "integral", "--rect", "5,5,10,10"],
        ["haar", "integral", "--size", "100x100"],
    ]
    for argv in calls:
        assert main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.count("error:") == len(calls) and "Traceback" not in err
    with pytest.raises(SystemExit):       # argparse: scale factor must exceed 1
        main(["haar", "detect", str(tmp_path / "a.png"), "--scale-factor", "1"])
    assert "greater than 1" in capsys.readouterr().err


def test_python_api_behind_the_command(tmp_path):
    from petnet.errors import ParamError
    from petnet.haar import detect_files, integral_example

    ex = integral_example(rect=(2, 1, 4, 3))
    assert ex.four_lookups == ex.direct == 69 and ex.lookups == (124, 24, 45, 14)
    with pytest.raises(ParamError, match="^rect 5,5,10,10 does not fit"):
        integral_example(rect=(5, 5, 10, 10))
    Image.fromarray(np.full((40, 50, 3), 90, np.uint8)).save(tmp_path / "grey.png")
    (found,) = list(detect_files([tmp_path], "face", keep_image=True))
    assert found.boxes.shape == (0, 4) and found.image.shape == (40, 50, 3)
    assert found.line().startswith(f"{tmp_path / 'grey.png'}: 0 faces (50x40")
