"""Reading and writing tables as CSV or Parquet, chosen by the file's extension.

CSV files are UTF-8 (a byte-order mark, as Excel writes, is fine). Timestamps are written to CSV
as `YYYY-MM-DD HH:MM:SS`. `package` and `room_id` columns of a CSV are read as text, so ids
such as `007` keep their leading zeros. Only an empty cell is missing: `NA` or `null` is an id
as written, and not a number in a number column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from optimizer.errors import InputError

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
TEXT_COLUMNS = ("package", "room_id")
CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class TableSource:
    """Where a table came from, to point at its rows in messages.

    `name` is a file path or a label such as "<spend frame>". For CSV files (`csv=True`) data
    row N is on file line N + 1, after the header line; for a frame, `index` holds its labels
    (what `frame.loc` takes).
    """

    name: str
    csv: bool = False
    index: tuple | None = field(default=None, repr=False, compare=False)

    @classmethod
    def for_path(cls, path: str | Path) -> TableSource:
        return cls(str(path), csv=_kind(path) == "csv")

    def row(self, position: int) -> str:
        """Describe the row at 0-based `position` as "row N (line M)" (1-based) of a CSV file,
        "row N (index L)" of a frame with labels L."""
        number = int(position) + 1
        if self.csv:
            return f"row {number} (line {number + 1})"
        if self.index is not None and 0 <= position < len(self.index):
            return f"row {number} (index {self.index[int(position)]!r})"
        return f"row {number}"


def _kind(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise InputError(
        f"unknown table extension {suffix or '(none)'!r}",
        source=str(path),
        fix="use a .csv, .parquet or .pq file",
    )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet table; any problem reading it is an InputError naming the file."""
    path = Path(path)
    kind = _kind(path)
    if not path.is_file():
        raise InputError(
            "file not found" if not path.exists() else "not a file",
            source=str(path),
            fix="check the path",
        )
    try:
        if kind == "csv":
            header = _check_fields(path)
            missing = {name: [""] if name in TEXT_COLUMNS else _NA_TEXT for name in header}
            return pd.read_csv(path, dtype=dict.fromkeys(TEXT_COLUMNS, str), encoding="utf-8-sig",
                               index_col=False, usecols=range(len(header)),
                               keep_default_na=False, na_values=missing)
        return pd.read_parquet(path)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(
            "the file is empty", source=str(path), fix="write a header line with the column names"
        ) from None
    except UnicodeDecodeError:
        raise InputError(
            "the file is not UTF-8 text", source=str(path), fix="save the CSV as UTF-8"
        ) from None
    except (OSError, ValueError) as exc:  # parser and Arrow errors are ValueErrors
        raise InputError(
            f"cannot read the {kind} file ({exc})".replace("\n", " "),
            source=str(path),
            fix=f"check that it is a valid {kind} file",
        ) from None


_NA_TEXT = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
            "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
"""What pandas reads as missing by default: so it is, in any column but the ids'."""


def _check_fields(path: Path) -> list[str]:
    """Every line of the CSV has as many fields as its header (empty trailing fields, as a
    spreadsheet's trailing commas leave, aside), or an InputError names the lines; returns
    the header's names (trailing empty ones left out).

    pandas reads a line with one field more by taking the first column as the row index (every
    column shifted by one) or, told not to, drops the last field: an unquoted ``1,237.01`` read
    as 1. A line with fewer fields (a full-width comma, ``，``, is not a separator) gets empty
    values at its end.
    """
    wrong: list[str] = []
    header: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        try:
            header = _trimmed(next(reader, []))
            for fields in reader:
                fields = _trimmed(fields, len(header))
                if fields == header:
                    wrong.append(f"line {reader.line_num} repeats the header")
                elif fields and len(fields) != len(header):
                    wrong.append(f"line {reader.line_num} has {len(fields)} fields")
                if len(wrong) == _MAX_LINES_SHOWN:
                    break
        except csv.Error as exc:  # e.g. an unbalanced quote running to the end
            wrong.append(f"line {reader.line_num}: {exc}")
    if wrong:
        raise InputError(
            f"{'; '.join(wrong)}; the header has {len(header)} ({', '.join(header)})",
            source=str(path),
            fix="quote a value that holds a comma or write numbers without thousands "
                "separators (1237.01, not 1,237.01); separate fields with ASCII commas, not "
                "full-width ones (，); remove repeated header lines; close every quote",
        )
    return header


def _trimmed(fields: list[str], width: int = 0) -> list[str]:
    """`fields` without empty ones at the end past the first `width` (a spreadsheet's trailing
    commas; an empty last value of a row stays)."""
    while len(fields) > width and not fields[-1].strip():
        fields = fields[:-1]
    return fields


_MAX_LINES_SHOWN = 5


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write `df` (without its index) as CSV or Parquet by `path`'s extension; return the path.

    The parent folder is created when missing. Timestamps in CSV are `YYYY-MM-DD HH:MM:SS`.
    """
    path = Path(path)
    kind = _kind(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        df.to_csv(path, index=False, date_format=CSV_TIME_FORMAT)
    else:
        df.to_parquet(path, index=False)
    return path
