"""Property-based fuzzing of the NumPy engine's weights loader (``Model.load_weights``), with the
bounds and mutations of ``tests/test_fuzz_readers.py``: random and mutated ``.npz`` bytes only ever
give a ``PetnetError`` or weights that are loaded whole, of the model's shapes and finite."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from petnet.nn import Dense, Sequential
from tests import test_fuzz_readers as fuzz

pytestmark = fuzz.pytestmark


def _model():
    return Sequential([Dense(4, input_shape=(3,), name="a"), Dense(2, name="b")])


def _weights(**replace) -> bytes:
    model = _model()
    model.set_weights([np.full(w.shape, 0.5, np.float32) for w in model.get_weights()])
    buf = io.BytesIO()
    model.save_weights(fuzz._file(b"", "seed.npz"))
    arrays = dict(np.load(fuzz._WORK / "seed.npz"))
    arrays.update(replace)
    np.savez(buf, **arrays)
    return buf.getvalue()


WEIGHTS = _weights()
ODD = [("w0", np.full((3, 4), np.nan, np.float32)), ("w1", np.zeros((5,), np.float32)),
       ("layer_counts", np.array([2, 5])), ("layer_counts", np.array([-1, 3])), ("layer_counts", np.array([2.5, 2])),
       ("layer_names", np.array([1, 2])), ("layer_types", np.array(["Dense"])), ("w2", np.array(["x"] * 8))]


def _load(path):
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    try:
        model.load_weights(path)
    except fuzz.PetnetError:
        for w0, w1 in zip(before, model.get_weights()):       # nothing half-loaded
            np.testing.assert_array_equal(w0, w1)
        raise
    return model


@fuzz.FUZZ
@given(st.one_of(fuzz.outside_bytes(WEIGHTS, b"PK\x03\x04"),
                 st.sampled_from(ODD).map(lambda kv: _weights(**{kv[0]: kv[1]}))))
@example(_weights(w0=np.full((3, 4), np.nan, np.float32)))
def test_weights_loader(data):
    model = fuzz.read_outside_data(_load, data, "weights.npz")
    if model is not None:
        ref = _model()
        for w, r in zip(model.get_weights(), ref.get_weights()):
            assert w.shape == r.shape and np.isfinite(w).all()


def test_weights_property_sees_real_files():
    model = fuzz.read_outside_data(_load, WEIGHTS, "ok.npz")
    assert all((w == 0.5).all() for w in model.get_weights())


@pytest.fixture(scope="module", autouse=True)
def _clean_up():
    yield
    shutil.rmtree(fuzz._WORK, ignore_errors=True)
