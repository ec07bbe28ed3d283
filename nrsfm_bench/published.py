"""Published e3D values (results/published.csv): the numbers our tables are set beside, each with its source."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from nrsfm_bench.errors import DataFormatError

COLUMNS = ("table", "method", "label", "dataset", "group", "preset", "value", "source", "note")
GROUPS = ("all", "train", "test")


def default_path() -> Path:
    """results/published.csv of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[1] / "results" / "published.csv"


def load_published(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The published values as a table with the columns of `COLUMNS` (`value` as float).

    Columns: table (table1, table2, table3, table4, classic), method (our registry name where the method is
    implemented here, else the paper's short name), label (the name printed in the source), dataset (our
    dataset name), group (all, train = seen, test = unseen), preset (the e3D convention the value follows),
    value, source (citation), note (how the value was read).

    Returns an empty table when no path is given and the default file is absent (an installed package).

    Raises:
        DataFormatError: naming the file and the malformed column or row.
    """
    if path is None:
        path = default_path()
        if not path.exists():
            return pd.DataFrame(columns=list(COLUMNS))
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataFormatError(path, f"cannot read as CSV ({str(error).splitlines()[0]})") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataFormatError(path, f"column(s) {', '.join(missing)} missing; expected {', '.join(COLUMNS)}")
    values = pd.to_numeric(table["value"], errors="coerce")
    for index in range(len(table)):
        row = table.iloc[index]
        line = index + 2  # header is line 1
        if pd.isna(values.iloc[index]):
            raise DataFormatError(path, f"line {line}: value {row['value']!r} is not a number")
        if row["group"] not in GROUPS:
            raise DataFormatError(path, f"line {line}: group {row['group']!r}; expected one of {', '.join(GROUPS)}")
        if not row["source"].strip():
            raise DataFormatError(path, f"line {line}: every published value needs its source")
    return table.assign(value=values)[list(COLUMNS)]
