"""Loading the house-price table: a CSV file with a header line, one house per row.

The talk's samples are pairs (x_i, y_i): living area and price. ``load_xy`` reads the chosen
feature columns into a matrix ``X`` (one row per house) and the target column into ``y``,
and refuses anything that would make gradient descent meaningless: a missing file or column,
non-numeric cells, NaN/inf, an empty table.

The bundled example (``example_path()``) is the first 16 houses of the Portland housing data
(exercise 1 of Andrew Ng's Machine Learning course, ``ex1data2``, via bansalsamarth/mlclass-python).
"""

from __future__ import annotations

import csv
import io
import math
from importlib import resources
from pathlib import Path

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.safe_io import printable, read_bytes


def example_path() -> Path:
    """Path of the bundled example table ``size_sqft,bedrooms,price_usd`` (16 Portland houses)."""
    return Path(str(resources.files("petnet.gd").joinpath("data/houses.csv")))


#: a CSV file larger than this is refused (it is read into memory whole; 32 MiB is ~1 million houses)
MAX_CSV_BYTES = 32 * 1024 * 1024

#: cells are refused beyond this magnitude: squares and sums of squares must stay finite in float64
MAX_ABS_VALUE = 1e100


def _path_error(message: str) -> ParamError:
    return ParamError("path", message)


def read_table(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows (as strings) of a CSV file.

    Only a regular file is opened (a FIFO, device or socket -- also behind a symlink -- is refused
    without blocking, :func:`petnet.safe_io.read_bytes`), and at most :data:`MAX_CSV_BYTES` of it
    are read."""
    data = read_bytes(path, "", MAX_CSV_BYTES, error=_path_error)
    path = printable(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PetnetError(f"{path} is not a text CSV file (it is not UTF-8); save it as CSV") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""))
                if row and any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise PetnetError(f"{path} is not a readable CSV file ({exc})") from None
    if not rows:
        raise PetnetError(f"{path} is empty; it needs a header line and at least one row of numbers")
    header = [h.strip() for h in rows[0]]
    return header, rows[1:]


def _column(header: list[str], name: str, path) -> int:
    if name not in header:
        hint = ""
        if len(header) == 1:
            sep = next((c for c in (";", "\t", "|") if c in header[0]), None)
            if sep is not None:
                hint = f" (the file seems to separate columns with {sep!r}; petnet reads comma-separated CSV)"
        raise PetnetError(f"column {name!r} is not in {printable(path)}; its columns are: "
                          f"{printable(', '.join(header))}{hint}")
    return header.index(name)


def load_xy(path: str | Path, x: str | list[str], y: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read feature columns ``x`` (a name, a comma-separated string or a list) and target column ``y``.

    Returns ``(X, y, feature_names)`` with ``X`` of shape (n_samples, n_features), float64.
    """
    names = [s.strip() for s in x.split(",")] if isinstance(x, str) else [str(s).strip() for s in x]
    names = [n for n in names if n]
    if not names:
        raise ParamError("x", "names no feature column; name at least one, e.g. 'size_sqft'")
    header, rows = read_table(path)
    path = printable(path)
    idx = [_column(header, n, path) for n in names]
    iy = _column(header, y, path)
    if iy in idx:
        raise PetnetError(f"column {y!r} is both a feature and the target; choose different columns")
    if not rows:
        raise PetnetError(f"{path} has a header but no data rows; add at least one house")
    values = np.empty((len(rows), len(idx) + 1))
    for r, row in enumerate(rows):
        line = r + 2  # 1-based, after the header
        for c, col in enumerate(idx + [iy]):
            cell = row[col].strip() if col < len(row) else ""
            try:
                v = float(cell)
            except ValueError:
                what = "an empty cell" if cell == "" else f"{cell!r}, which is not a number"
                raise PetnetError(f"{path}, line {line}, column {header[col]!r}: {what}; "
                                  "every cell of the chosen columns must be a number") from None
            if not math.isfinite(v):
                raise PetnetError(f"{path}, line {line}, column {header[col]!r}: {cell!r} is not a finite "
                                  "number; remove or fix that row")
            if abs(v) > MAX_ABS_VALUE:
                raise PetnetError(f"{path}, line {line}, column {header[col]!r}: {cell!r} is too large "
                                  f"(beyond +-{MAX_ABS_VALUE:g}, its square overflows); fix that row or "
                                  "change the unit of the column")
            values[r, c] = v
    return values[:, :-1], values[:, -1], names


def check_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate in-memory data: numeric, finite, non-empty, one target per row. Returns float64 arrays
    with ``X`` 2-D (a 1-D ``X`` is one feature)."""
    try:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParamError("X", "and y must contain numbers only (found something that is not a number)") from None
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ParamError("X", f"must be a table (n_samples, n_features); got an array of shape {X.shape}")
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
        if y.ndim != 1:
            raise ParamError("y", f"must be one number per sample; got an array of shape {y.shape}")
    if X.shape[0] == 0 or y.shape[0] == 0:
        raise PetnetError("no samples: X and y are empty; give at least one sample")
    if X.shape[1] == 0:
        raise PetnetError("X has no feature columns; give at least one feature")
    if X.shape[0] != y.shape[0]:
        raise PetnetError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values; "
                          "every sample needs exactly one target")
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise PetnetError(f"X contains NaN or inf (first at row {bad[0]}, column {bad[1]}); "
                          "remove or fill those values")
    if not np.isfinite(y).all():
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise PetnetError(f"y contains NaN or inf (first at row {bad}); remove or fill those values")
    for name, a in (("X", X), ("y", y)):
        big = np.abs(a) > MAX_ABS_VALUE
        if big.any():
            where = np.argwhere(big)[0]
            raise PetnetError(f"{name} contains {a[tuple(where)]:g} at {'row, column' if a.ndim == 2 else 'row'} "
                              f"{', '.join(map(str, where))}: values beyond +-{MAX_ABS_VALUE:g} overflow when "
                              "squared; change the unit (e.g. thousands of dollars)")
    return X, y
