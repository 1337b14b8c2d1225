"""Turn source text into typed columns; a value that does not parse becomes a reason, not an error."""

from __future__ import annotations

import polars as pl

from validators import contract
from validators.read import ROW

# Typed columns per source, from the Pandera models (validators/schemas.py via validators/contract.py).
DATE_COLUMNS = contract.columns_of_kind("date")
INTEGER_COLUMNS = contract.columns_of_kind("whole number")
DECIMAL_COLUMNS = contract.columns_of_kind("number")
REASON_SCHEMA = {ROW: pl.Int64, "field": pl.String, "value": pl.String, "problem": pl.String, "check": pl.String}


def parse_source(name: str, raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast the typed columns of a source; return the typed frame and one reason per bad value."""
    conversions: list[tuple[str, pl.Expr, str]] = []
    for column in DATE_COLUMNS.get(name, ()):
        # Four-digit years from 0001 only: Polars also reads "-2025-01-01", "0000-01-01" or
        # "20250-01-01", which no trial date is and which Python's dates cannot hold.
        as_date = pl.when(pl.col(column).str.contains(r"^\d{4}-\d{2}-\d{2}$") & ~pl.col(column).str.starts_with("0000")).then(
            pl.col(column).str.to_date("%Y-%m-%d", strict=False)
        )
        conversions.append((column, as_date, "is not a date (YYYY-MM-DD)"))
    for column in INTEGER_COLUMNS.get(name, ()):
        conversions.append((column, pl.col(column).cast(pl.Int64, strict=False), "is not a whole number"))
    for column in DECIMAL_COLUMNS.get(name, ()):
        conversions.append((column, pl.col(column).cast(pl.Float64, strict=False), "is not a number"))

    typed = raw.with_columns([expression.alias(column) for column, expression, _ in conversions])
    reasons = [
        raw.filter(pl.col(column).is_not_null() & typed[column].is_null())
        .select(
            pl.col(ROW),
            pl.lit(column).alias("field"),
            pl.col(column).alias("value"),
            pl.lit(f"{column} {problem}").alias("problem"),
            pl.lit("parse").alias("check"),
        )
        for column, _, problem in conversions
    ]
    reason_frame = pl.concat(reasons) if reasons else pl.DataFrame(schema=REASON_SCHEMA)
    return typed, reason_frame.cast(REASON_SCHEMA)
