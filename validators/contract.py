"""The source contract, read from the Pandera models in ``validators/schemas.py``.

The models are the one declaration of each source. This module reads them so that everything else
can derive from them, never restate them:

* ``validators/read.py``: the columns a file must have, in order, and the optional ones;
* ``validators/parse.py``: which columns are dates, whole numbers or numbers;
* ``safetydb/store.py``: the source tables of the DuckDB store;
* ``docs/sources.md``: the column table of each source. ``uv run python -m validators.contract``
  rewrites them; ``tests/test_docs.py`` fails when they drift.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import polars as pl

from validators.checks import FRAME_CHECKS
from validators.schemas import SCHEMAS

Kind = Literal["text", "date", "whole number", "number"]
KINDS: dict[type[pl.DataType], Kind] = {
    pl.String: "text",
    pl.Date: "date",
    pl.Int64: "whole number",
    pl.Float64: "number",
}
PER_AGENT = ".+"  # the regex tail of a per-agent field's alias: attribution_.+ -> attribution_<agent id>
AGENT_PLACEHOLDER = "<agent>"


@dataclass(frozen=True)
class SourceColumn:
    """One column of a source file, as its Pandera model declares it."""

    name: str  # canonical name; a per-agent column is named with AGENT_PLACEHOLDER
    kind: Kind
    nullable: bool  # the value may be empty
    required: bool  # the file must have the column (False: an optional column, read as empty when absent)
    unique: bool
    per_agent: bool  # one column per agent of the trial config: name.replace(AGENT_PLACEHOLDER, agent id)
    allowed_values: tuple[str, ...] | None
    bounds: str | None  # the allowed range, as documented: "1–5", "≥ 0", "> 0"
    description: str
    checks: tuple[str, ...]  # the checks on whole records that query this column (validators/checks.py)

    def for_agent(self, agent_id: str) -> str:
        return self.name.replace(AGENT_PLACEHOLDER, agent_id)


@cache
def source_columns(source: str) -> tuple[SourceColumn, ...]:
    """The columns of a source, in the model's (the documented) order."""
    schema = SCHEMAS[source].to_schema()
    frame_checks = [check.name for check in schema.checks]
    columns = []
    for name, column in schema.columns.items():
        per_agent = bool(column.regex)
        if per_agent and not name.endswith("_" + PER_AGENT):
            raise ValueError(f"validators.schemas: {source}.{name}: a regex field must be named <prefix>_{PER_AGENT}")
        canonical = name.removesuffix(PER_AGENT) + AGENT_PLACEHOLDER if per_agent else name
        kind = KINDS.get(column.dtype.type)
        if kind is None:
            raise ValueError(f"validators.schemas: {source}.{name}: type {column.dtype} is not one of text, date, int, float")
        if not column.description:
            raise ValueError(f"validators.schemas: {source}.{name} has no description")
        columns.append(
            SourceColumn(
                name=canonical,
                kind=kind,
                nullable=bool(column.nullable),
                required=bool(column.required),
                unique=bool(column.unique),
                per_agent=per_agent,
                allowed_values=_allowed_values(column.checks),
                bounds=_bounds(column.checks),
                description=column.description,
                checks=tuple(check for check in frame_checks if FRAME_CHECKS[check].field == canonical),
            )
        )
    return tuple(columns)


def _allowed_values(checks) -> tuple[str, ...] | None:
    for check in checks:
        if check.name == "isin":
            return tuple(str(value) for value in check.statistics["allowed_values"])
    return None


def _bounds(checks) -> str | None:
    """The allowed range of a column's checks, as documented: "1–5", "≥ 0", "> 0", "18–100"."""
    lower = upper = None
    for check in checks:
        statistics = check.statistics
        if check.name == "in_range":
            if not (statistics.get("include_min", True) and statistics.get("include_max", True)):
                raise ValueError("validators.schemas: only inclusive ranges are documented")
            lower, upper = ("≥", statistics["min_value"]), ("≤", statistics["max_value"])
        elif check.name in ("greater_than_or_equal_to", "greater_than"):
            lower = ("≥" if check.name == "greater_than_or_equal_to" else ">", statistics["min_value"])
        elif check.name in ("less_than_or_equal_to", "less_than"):
            upper = ("≤" if check.name == "less_than_or_equal_to" else "<", statistics["max_value"])
    if lower and upper and lower[0] == "≥" and upper[0] == "≤":
        return f"{_number(lower[1])}–{_number(upper[1])}"
    return ", ".join(f"{bound[0]} {_number(bound[1])}" for bound in (lower, upper) if bound) or None


def _number(value: float) -> str:
    return f"{value:g}"


# ---- what the reader, the parser and the store take from the contract --------------------------


def file_columns(source: str) -> tuple[str, ...]:
    """The columns every file of the source must have (the per-agent ones are added per trial)."""
    return tuple(column.name for column in source_columns(source) if column.required and not column.per_agent)


def optional_columns(source: str) -> tuple[str, ...]:
    """Columns the file may leave out; they are read as empty."""
    return tuple(column.name for column in source_columns(source) if not column.required)


def per_agent_columns(source: str, agent_ids: list[str]) -> tuple[str, ...]:
    """The per-agent columns of a source, agent by agent (attribution_a, action_a, attribution_b, ...)."""
    templates = [column for column in source_columns(source) if column.per_agent]
    return tuple(template.for_agent(agent) for agent in agent_ids for template in templates)


def columns_of_kind(kind: Kind) -> dict[str, tuple[str, ...]]:
    """Per source (those that have any), its columns of one kind, e.g. every date column."""
    found = {}
    for source in SCHEMAS:
        names = tuple(column.name for column in source_columns(source) if column.kind == kind and not column.per_agent)
        if names:
            found[source] = names
    return found


# ---- docs/sources.md ---------------------------------------------------------------------------

TABLE_START = "<!-- columns: {source} (generated from validators/schemas.py: uv run python -m validators.contract) -->"
TABLE_END = "<!-- end of columns: {source} -->"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "sources.md"


def markdown_table(source: str) -> str:
    """The column table of a source for docs/sources.md."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for column in source_columns(source):
        lines.append(f"| `{column.name}` | {_type_cell(column)} | {_meaning_cell(column)} |")
    return "\n".join(lines)


def _type_cell(column: SourceColumn) -> str:
    if column.allowed_values:
        text = " / ".join(f"`{value}`" for value in column.allowed_values)
    else:
        text = column.kind
    if column.bounds:
        text += f" {column.bounds}"
    notes = []
    if column.unique:
        notes.append("unique")
    if column.nullable:
        notes.append("may be empty")
    if not column.required:
        notes.append("optional column")
    return ", ".join([text, *notes])


def _meaning_cell(column: SourceColumn) -> str:
    queries = [f"query `{name}`: {FRAME_CHECKS[name].error}" for name in column.checks]
    return "; ".join([column.description, *queries]).replace("|", "\\|")


def heading(source: str) -> str:
    description = SCHEMAS[source].Config.description
    return f"## {source} — {description[0].lower()}{description[1:]}"


def generated_block(source: str) -> str:
    """What docs/sources.md holds between a source's markers."""
    return "\n".join([TABLE_START.format(source=source), "", markdown_table(source), "", TABLE_END.format(source=source)])


def documented_block(text: str, source: str) -> str | None:
    """The block between a source's markers in the docs text, or None when the markers are missing."""
    pattern = re.escape(TABLE_START.format(source=source)) + r".*?" + re.escape(TABLE_END.format(source=source))
    found = re.search(pattern, text, flags=re.S)
    return found.group(0) if found else None


def rewrite_docs(text: str) -> str:
    """The docs text with every source's column table regenerated (the prose around them kept)."""
    for source in SCHEMAS:
        current = documented_block(text, source)
        if current is None:
            raise ValueError(f"docs/sources.md has no markers for {source}: add {TABLE_START.format(source=source)!r}")
        text = text.replace(current, generated_block(source))
    return text


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS
    path.write_text(rewrite_docs(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"rewrote the column tables of {path}")
