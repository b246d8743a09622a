import csv

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.gd.data import example_path, load_xy
from tests.conftest import shared_path


def write(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_bundled_example_is_a_subset_of_portland():
    path = example_path()
    X, y, names = load_xy(path, "size_sqft,bedrooms", "price_usd")
    assert 12 <= len(y) <= 16 and names == ["size_sqft", "bedrooms"]
    full = shared_path("data", "housing", "portland_housing.csv")
    Xf, yf, _ = load_xy(full, ["size_sqft", "bedrooms"], "price_usd")
    rows = {tuple(r) for r in np.column_stack([Xf, yf])}
    assert all(tuple(r) in rows for r in np.column_stack([X, y]))
    with open(path) as a, open(full) as b:
        assert next(csv.reader(a)) == next(csv.reader(b))


@pytest.mark.parametrize("text, args, match", [
    ("a,b\n1,2\n3,x\n", ("a", "b"), "line 3, column 'b'.*not a number"),
    ("a,b\n1,2\n3,\n", ("a", "b"), "empty cell"),
    ("a,b\n1,nan\n", ("a", "b"), "not a finite"),
    ("a,b\n1,inf\n", ("a", "b"), "not a finite"),
    ("a,b\n", ("a", "b"), "no data rows"),
    ("", ("a", "b"), "is empty"),
    ("a,b\n1,2\n", ("c", "b"), "column 'c' is not in.*a, b"),
    ("a;b\n1;2\n", ("a", "b"), "separate columns with ';'"),
    ("a\tb\n1\t2\n", ("a", "b"), "separate columns with '\\\\t'"),
    ("a,b\n1,2\n", ("a", "a"), "both a feature and the target"),
    ("a,b\n1,2\n", ("", "b"), "no feature column"),
])
def test_bad_files_are_clear_errors(tmp_path, text, args, match):
    p = write(tmp_path, text)
    with pytest.raises(PetnetError, match=match):
        load_xy(p, *args)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(PetnetError, match="does not exist"):
        load_xy(tmp_path / "nope.csv", "a", "b")
    with pytest.raises(PetnetError, match="folder"):
        load_xy(tmp_path, "a", "b")


def test_reads_numbers(tmp_path):
    p = write(tmp_path, "\ufeffa, b ,c\n1,2,3\n\n4,5,6\n")
    X, y, names = load_xy(p, "a,c", "b")
    np.testing.assert_array_equal(X, [[1, 3], [4, 6]])
    np.testing.assert_array_equal(y, [2, 5])
