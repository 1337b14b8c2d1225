"""A table as a report shows it, and the one way a report builds one from a table model."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Table:
    """A table as a report shows it: caption, data cut and denominator on every one."""

    key: str
    caption: str
    columns: list[str]
    rows: list[list[object]]
    note: str


MAX_REPORT_ROWS = 300  # a listing longer than this is shown in part; the file holds every row


def report_table(frame: pl.DataFrame, key: str, caption: str, note: str, columns: dict[str, str]) -> Table:
    selected = frame.select(list(columns))
    if selected.height > MAX_REPORT_ROWS:
        note += f" Showing the first {MAX_REPORT_ROWS} of {selected.height} rows; all rows are in tables/{key}.csv."
        selected = selected.head(MAX_REPORT_ROWS)
    return Table(key=key, caption=caption, columns=list(columns.values()), rows=[list(r) for r in selected.iter_rows()], note=note)
