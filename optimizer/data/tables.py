"""Reading and writing tables as CSV or Parquet, chosen by the file's extension.

CSV files are UTF-8 (a byte-order mark, as Excel writes, is fine). Timestamps are written to CSV
as `YYYY-MM-DD HH:MM:SS`. `package` and `room_id` columns of a CSV are read as text, so ids
such as `007` keep their leading zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    row N is on file line N + 1, after the header line.
    """

    name: str
    csv: bool = False

    @classmethod
    def for_path(cls, path: str | Path) -> TableSource:
        return cls(str(path), csv=_kind(path) == "csv")

    def row(self, position: int) -> str:
        """Describe the row at 0-based `position` as "row N (line M)" (1-based)."""
        number = int(position) + 1
        return f"row {number} (line {number + 1})" if self.csv else f"row {number}"


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
            return pd.read_csv(path, dtype=dict.fromkeys(TEXT_COLUMNS, str), encoding="utf-8-sig")
        return pd.read_parquet(path)
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
