"""Issue 14 in chapter 2: special files, bounded reads, extreme values, steps that change nothing,
negative seeds, capped step counts -- each a clear error, never a hang or a traceback."""

import os
import socket
import warnings

import numpy as np
import pytest

from petnet import optim, safe_io
from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.gd import LinearRegressionGD, data, example_path, load_xy



def run(capsys, *argv):
    code = main(["gd", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_fifo_is_refused_before_opening(tmp_path, alarm, capsys):
    fifo = tmp_path / "houses.csv"
    os.mkfifo(fifo)
    with pytest.raises(ParamError, match="is a FIFO \\(named pipe\\), not a regular file") as exc:
        load_xy(fifo, "a", "b")
    assert exc.value.param == "path"
    link = tmp_path / "link.csv"
    link.symlink_to(fifo)
    with pytest.raises(ParamError, match="link.csv is a FIFO"):
        load_xy(link, "a", "b")
    code, _, err = run(capsys, "fit", "--data", str(link))
    assert code == 2 and err.startswith(f"error: --data {link} is a FIFO") and "Traceback" not in err


def test_a_socket_is_refused(tmp_path, alarm):
    path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(ParamError, match="is a socket"):
            load_xy(path, "a", "b")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused_and_memory_does_not_grow(capsys, alarm):
    code, _, err = run(capsys, "fit", "--data", "/dev/zero")
    assert code == 2 and err == ("error: --data /dev/zero is a character device, not a regular file; "
                                 "give the path of a file\n")


def test_a_file_is_read_with_a_size_bound(tmp_path, monkeypatch):
    p = tmp_path / "big.csv"
    p.write_text("a,b\n" + "1,2\n" * 100)
    monkeypatch.setattr(data, "MAX_CSV_BYTES", 200)
    with pytest.raises(ParamError, match="is 404 bytes, more than the 200 bytes"):
        load_xy(p, "a", "b")
    reads = []
    real_open = safe_io.open_regular

    def spy(*a, **k):                        # the reader asks for at most MAX_CSV_BYTES + 1 bytes
        f = real_open(*a, **k)
        real_read = f.read
        f.read = lambda n=-1: reads.append(n) or real_read(n)
        return f
    monkeypatch.setattr(safe_io, "open_regular", spy)
    p.write_text("a,b\n" + "1,2\n" * 40)      # 164 bytes: read whole, with a bounded read
    load_xy(p, "a", "b")
    assert reads == [201]


@pytest.mark.parametrize("cell", ["1e308", "-1e308", "1e101"])
def test_extreme_csv_values_are_a_clear_error(tmp_path, capsys, cell):
    p = tmp_path / "x.csv"
    p.write_text(f"a,b\n1,2\n{cell},3\n2,4\n")
    with pytest.raises(PetnetError, match=f"line 3, column 'a': '{cell}' is too large"):
        load_xy(p, "a", "b")
    for scale in ("--scale", "--no-scale"):
        code, _, err = run(capsys, "fit", "--data", str(p), "--x", "a", "--y", "b", scale)
        assert code == 2 and "too large" in err and "Traceback" not in err


def test_extreme_values_in_memory_are_a_clear_error():
    with pytest.raises(PetnetError, match="X contains 1e\\+308"):
        LinearRegressionGD().fit([[1.0], [1e308], [2.0]], [1.0, 2.0, 3.0])
    with pytest.raises(PetnetError, match="y contains -1e\\+200"):
        LinearRegressionGD().fit([[1.0], [3.0], [2.0]], [1.0, -1e200, 3.0])


def test_large_values_that_overflow_on_the_way_diverge_cleanly():
    # 1e100 is accepted; raw (unscaled) it overflows while diverging: one error, no RuntimeWarning
    X, y = [[1.0], [5.0], [2.0]], [-1e100, 3.0, 4.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PetnetError, match="diverged"):
            LinearRegressionGD(scale=False).fit(X, y)
        model = LinearRegressionGD().fit(X, y)          # scaled: fine
    A = np.column_stack([np.ones(3), np.ravel(X)])
    np.testing.assert_allclose([model.intercept_, *model.coef_], np.linalg.lstsq(A, y, rcond=None)[0],
                               rtol=1e-3)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_a_learning_rate_too_small_to_move_is_not_converged(optimizer):
    X, y, _ = load_xy(example_path(), "size_sqft", "price_usd")
    with pytest.raises(ParamError, match="is too small") as exc:
        LinearRegressionGD(optimizer, learning_rate=1e-320).fit(X, y)
    assert exc.value.param == "learning_rate"


def test_a_learning_rate_too_small_on_the_command_line(capsys):
    code, out, err = run(capsys, "fit", "--lr", "1e-320")
    assert code == 2 and out == "" and err.startswith("error: --lr is too small: with 1e-320 (gd)")
    assert "converged" not in err


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_a_schedule_that_decays_the_learning_rate_away_is_not_converged(optimizer):
    # the loss stops changing because the rate is ~0, not because the fit is at the minimum
    X, y, _ = load_xy(example_path(), "size_sqft", "price_usd")
    schedule = optim.ExponentialDecay(0.05, decay_steps=100, rate=1e-320)
    with pytest.raises(ParamError, match="decayed away") as exc:
        LinearRegressionGD(optimizer, learning_rate=schedule).fit(X, y)
    assert exc.value.param == "learning_rate" and "stalled" in str(exc.value)
    # a gentle decay still converges, to the least-squares solution
    model = LinearRegressionGD(optimizer, learning_rate=optim.ExponentialDecay(0.05, 100, 0.96),
                               max_iter=20_000).fit(X, y)
    A = np.column_stack([np.ones(len(X)), np.ravel(X)])
    assert model.converged_
    np.testing.assert_allclose([model.intercept_, *model.coef_], np.linalg.lstsq(A, y, rcond=None)[0],
                               rtol=1e-3)


def test_a_decayed_away_learning_rate_on_the_command_line(capsys):
    code, out, err = run(capsys, "fit", "--lr-decay", "1e-320")
    assert code == 2 and out == "" and err.startswith("error: --lr decayed away: the schedule ExponentialDecay(")
    assert "converged:" not in err and "Traceback" not in err


def test_a_fit_that_starts_at_the_minimum_still_converges():
    # the gradient is exactly 0 at the start a0 = a1 = 1: nothing moves, and that is convergence
    x = np.array([0.0, 1.0, 2.0])
    model = LinearRegressionGD(scale=False, learning_rate=0.1).fit(x, 1 + x)
    assert model.converged_ and model.n_iter_ == 1 and model.coef_[0] == 1.0


def test_negative_seeds_are_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["gd", "fit", "--seed", "-1", "--batch-size", "2"])
    assert exc.value.code == 2 and "--seed: must be 0 or more" in capsys.readouterr().err
    with pytest.raises(ParamError, match="random_state must be 0 or more, got -1"):
        LinearRegressionGD(batch_size=2, random_state=-1).fit([[1.0], [2.0], [3.0]], [1.0, 2.0, 3.0])


def test_surface_steps_are_capped(capsys):
    code, out, err = run(capsys, "surface", "--steps", "1000000")
    assert code == 2 and out == "" and err == "error: --steps must be at most 100000, got 1000000\n"
    code, _, err = run(capsys, "fit", "--max-iter", "2000000")
    assert code == 2 and err == "error: --max-iter must be at most 1000000, got 2000000\n"
