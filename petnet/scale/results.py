"""Where bulk results go: a resumable set of rows, one per photo, that a killed job never corrupts.

Two formats, chosen by the name of ``out``:

* ``results.parquet`` -- a folder of Parquet part files (the layout Ray, Spark and pandas read as one
  table: ``pandas.read_parquet("results.parquet")``). Each part is written to a temporary name and
  renamed, so a part is either whole or absent.
* ``results.jsonl`` -- one JSON object per line, appended and flushed to disk per chunk. A line cut
  short by a kill is dropped when the file is opened again.

Rerunning with the same ``out`` skips the photos whose rows are already there (:meth:`done`).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from petnet.atomic import write_atomically
from petnet.errors import ParamError, PetnetError
from petnet.pets.answer import SCHEMA_VERSION

#: the columns of a row: derived from the one answer schema (:func:`petnet.pets.answer.flat_columns`),
#: plus ``schema``, the version of that shape (rows of another version are refused, never mixed)
def columns() -> list[tuple[str, str]]:
    from petnet.pets.answer import flat_columns
    return [("schema", "int")] + flat_columns()


COLUMNS = tuple(name for name, _ in columns())


def row_from_prediction(d: dict) -> dict:
    """A ``Prediction.to_dict()`` (the ``petnet predict --json`` object) as a flat result row."""
    from petnet.pets.answer import SCHEMA_VERSION, flat_row
    return {"schema": SCHEMA_VERSION, **flat_row(d)}


def _schema():
    import pyarrow as pa
    kinds = {"str": pa.string(), "float": pa.float64(), "bool": pa.bool_(), "int": pa.int64(),
             "list:str": pa.list_(pa.string()), "list:float": pa.list_(pa.float64())}
    return pa.schema([(name, kinds[kind]) for name, kind in columns()])


def _older(where) -> PetnetError:
    from petnet.pets.answer import SCHEMA_VERSION
    return PetnetError(f"{where} holds result rows of an older petnet (not schema {SCHEMA_VERSION}: other "
                       "columns, another answer); they are not mixed with new rows: give a new --out name, "
                       "or move the old results away to redo them")


class ResultSet:
    """The rows written so far to ``out`` (``.parquet`` folder or ``.jsonl`` file)."""

    def __init__(self, out):
        self.out = Path(out).expanduser()
        name = self.out.name.lower()
        if name.endswith(".parquet"):
            self.kind = "parquet"
            if self.out.exists() and not self.out.is_dir():
                raise PetnetError(f"{self.out} exists and is not a folder of Parquet parts; give a new "
                                  "name or the folder a previous run wrote")
        elif name.endswith(".jsonl"):
            self.kind = "jsonl"
            if self.out.exists() and not self.out.is_file():
                raise PetnetError(f"{self.out} exists and is not a file; give a .jsonl file name")
        else:
            raise ParamError("out", f"must end in .parquet or .jsonl, got {str(out)!r}")

    # -- reading --------------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """Every complete row written so far (a part or line cut short by a kill is ignored)."""
        if not self.out.exists():
            return []
        if self.kind == "jsonl":
            rows = []
            with open(self.out, encoding="utf-8") as f:
                for line in f:
                    if line.endswith("\n"):
                        try:
                            row = json.loads(line)
                        except json.JSONDecodeError:
                            raise PetnetError(f"{self.out} has a line that is not JSON; it was not written "
                                              "by petnet: give another output file") from None
                        if not isinstance(row, dict) or row.get("schema") != SCHEMA_VERSION:
                            raise _older(self.out)
                        rows.append(row)
            return rows
        import pyarrow.parquet as pq
        rows = []
        schema = _schema()
        for part in sorted(self.out.glob("part-*.parquet")):
            if pq.read_schema(part).names != schema.names:
                raise _older(part)
            table = pq.read_table(part, schema=schema)
            if table.num_rows and set(table.column("schema").to_pylist()) != {SCHEMA_VERSION}:
                raise _older(part)
            rows += table.to_pylist()
        return rows

    def done(self) -> set[str]:
        """Paths that already have a row."""
        return {r["path"] for r in self.rows()}

    # -- writing --------------------------------------------------------------------------------
    def write(self, rows: list[dict]) -> None:
        """Add ``rows`` durably: after this returns, a kill loses none of them."""
        if not rows:
            return
        if self.kind == "jsonl":
            self._append_jsonl(rows)
        else:
            self._write_part(rows)

    def _append_jsonl(self, rows):
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with open(self.out, "a+b") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size:                       # drop a last line cut short by a kill
                f.seek(max(0, size - 1))
                if f.read(1) != b"\n":
                    f.seek(0)
                    data = f.read()
                    f.truncate(data.rfind(b"\n") + 1)
            f.seek(0, os.SEEK_END)
            f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())

    def _write_part(self, rows):
        import pyarrow as pa
        import pyarrow.parquet as pq
        self.out.mkdir(parents=True, exist_ok=True)
        n = len(list(self.out.glob("part-*.parquet")))
        final = self.out / f"part-{n:06d}-{uuid.uuid4().hex[:8]}.parquet"
        table = pa.Table.from_pylist([{c: r.get(c) for c in COLUMNS} for r in rows], schema=_schema())
        table = table.replace_schema_metadata({b"petnet_schema": str(SCHEMA_VERSION).encode()})
        write_atomically(final, lambda f: pq.write_table(table, f), what="result part")
