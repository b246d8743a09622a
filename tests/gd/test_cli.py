"""``petnet gd ...`` end to end (through petnet.cli.main, as the console command runs it)."""

import json

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main
from petnet.gd.data import example_path, load_xy
from tests.conftest import shared_path


def run(capsys, *argv):
    code = main(["gd", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_json_on_the_bundled_example(capsys):
    code, out, _ = run(capsys, "fit", "--json", "--tol", "1e-7", "--n-iter-no-change", "5")
    assert code == 0
    d = json.loads(out)
    assert {"coef", "intercept", "n_iter", "converged", "loss"} <= set(d)
    X, y, _ = load_xy(example_path(), "size_sqft", "price_usd")
    ref = np.linalg.lstsq(np.column_stack([np.ones(len(y)), X]), y, rcond=None)[0]
    np.testing.assert_allclose([d["intercept"], *d["coef"]], ref, rtol=1e-6)
    assert d["converged"] is True and isinstance(d["n_iter"], int)


def test_fit_human_report_two_variables(capsys):
    data = shared_path("data", "housing", "portland_housing.csv")
    code, out, _ = run(capsys, "fit", "--data", str(data), "--x", "size_sqft,bedrooms", "--y", "price_usd",
                       "--optimizer", "adam")
    assert code == 0
    assert "a1 (size_sqft)" in out and "a2 (bedrooms)" in out and "converged" in out and "iterations" in out


def test_fit_not_converged_is_said_plainly(capsys):
    code, out, _ = run(capsys, "fit", "--no-scale", "--lr", "1e-7", "--max-iter", "20")
    assert code == 0 and "did not converge within 20 iterations" in out


def test_fit_not_converged_json(capsys):
    code, out, _ = run(capsys, "fit", "--max-iter", "2", "--json")
    assert json.loads(out)["converged"] is False


def test_divergence_is_one_error_line(capsys):
    code, out, err = run(capsys, "fit", "--no-scale", "--lr", "0.5")
    assert code == 2 and err.startswith("error: gradient descent diverged")
    assert "0.5" in err and "--scale" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, match", [
    (["fit", "--x", "rooms"], "column 'rooms' is not in"),
    (["fit", "--data", "/nonexistent.csv"], "does not exist"),
    (["compare", "--x", "size_sqft,bedrooms", "--contour", "c.png"], "exactly one feature"),
])
def test_user_errors(capsys, argv, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2 and match in err


def test_fit_plot_curve(capsys, tmp_path):
    out_png = tmp_path / "curve.png"
    code, out, _ = run(capsys, "fit", "--degree", "2", "--plot", str(out_png))
    assert code == 0 and "size_sqft^2" in out
    with Image.open(out_png) as im:
        assert im.size[0] > 300 and im.size[1] > 200


def test_compare_and_contour(capsys, tmp_path):
    loss_png, path_png = tmp_path / "loss.png", tmp_path / "path.png"
    code, out, _ = run(capsys, "compare", "--plot", str(loss_png), "--contour", str(path_png))
    assert code == 0
    for name in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"):
        assert f"\n{name} " in out
    assert loss_png.stat().st_size > 10_000 and path_png.stat().st_size > 10_000


def test_surface(capsys, tmp_path):
    png = tmp_path / "s.png"
    code, out, _ = run(capsys, "surface", "--plot", str(png))
    assert code == 0 and png.exists()
    lines = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert lines["gd"].endswith("local minimum") and lines["momentum"].endswith("global minimum")


def test_help_texts(capsys):
    for argv in (["--help"], ["fit", "--help"], ["compare", "--help"], ["surface", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(["gd", *argv])
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--degree" in out and "example" in out


def test_compare_unscaled_shows_the_crawl(capsys, tmp_path):
    code, out, _ = run(capsys, "compare", "--no-scale", "--contour", str(tmp_path / "raw.png"))
    assert code == 0 and "raw (unscaled)" in out
    gd_line = next(line for line in out.splitlines() if line.startswith("gd "))
    assert "False" in gd_line          # plain GD on raw features does not converge in 10000 iterations


README_FIT = """\
data: bundled example of 16 Portland houses (16 samples), price_usd ~ size_sqft
optimizer: gd, learning rate 0.5, scaled features, full batch
  intercept a0 = 28873.2
  a1 (size_sqft) = 155.318
iterations: 26, final loss (MSE/2): 9.31622e+08
converged: |previous_loss - loss| < 0.0001
"""


def test_readme_outputs_are_unchanged(capsys):
    assert run(capsys, "fit") == (0, README_FIT, "")
    code, out, err = run(capsys, "fit", "--lr", "5")
    assert code == 2 and out == ""
    assert err == ("error: gradient descent diverged: with learning rate 5.0 (gd) the loss grew from 6.576e+10 "
                   "to 4.249e+15 after 4 iteration(s); use a smaller learning rate (plain gradient descent is "
                   "stable only below 2/lambda_max = 2 here)\n")


def test_optimizer_names_come_from_the_registry(capsys):
    code, out, _ = run(capsys, "fit", "--optimizer", "sgd")
    assert code == 0 and out == README_FIT.replace("optimizer: gd,", "optimizer: sgd,")
    with pytest.raises(SystemExit):
        main(["gd", "fit", "--optimizer", "adamw"])
    err = capsys.readouterr().err
    from petnet import optim
    assert f"choose from {', '.join(repr(n) for n in optim.OPTIMIZERS.names())}" in err


def test_bare_group_prints_help_and_exits_2(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "fit" in out and "compare" in out and "surface" in out
