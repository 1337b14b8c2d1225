"""A table as a report shows it, and the one way a report builds one from a table model."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl


@dataclass(frozen=True)
class Table:
    """A table as a report shows it: caption, data cut and denominator on every one."""

    key: str
    caption: str
    columns: list[str]
    rows: list[list[object]]
    note: str
    fields: tuple[str, ...] = ()  # the frame's column behind each shown column, in order

    def without_columns(self, fields: tuple[str, ...]) -> "Table":
        """The table without the shown columns of ``fields``."""
        if not self.fields:  # built without its frame's columns: nothing to match
            return self
        keep = [position for position, field in enumerate(self.fields) if field not in fields]
        if len(keep) == len(self.columns):
            return self
        return replace(
            self,
            columns=[self.columns[i] for i in keep],
            rows=[[row[i] for i in keep] for row in self.rows],
            fields=tuple(self.fields[i] for i in keep),
        )


MAX_REPORT_ROWS = 300  # a listing longer than this is shown in part; the file holds every row


def report_table(frame: pl.DataFrame, key: str, caption: str, note: str, columns: dict[str, str]) -> Table:
    selected = frame.select(list(columns))
    if selected.height > MAX_REPORT_ROWS:
        note += f" Showing the first {MAX_REPORT_ROWS} of {selected.height} rows; all rows are in tables/{key}.csv."
        selected = selected.head(MAX_REPORT_ROWS)
    return Table(
        key=key, caption=caption, columns=list(columns.values()), rows=[list(r) for r in selected.iter_rows()], note=note,
        fields=tuple(columns),
    )
