"""Read a trial's source files as text, exactly as given, with their line numbers.

Every column is read as text so that a malformed value becomes a query later instead of a
crash now. Only an unusable file (missing, unreadable, required columns absent) stops the run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from trial.errors import InputError
from trial.config import TrialConfig
from validators import contract
from validators.schemas import SCHEMAS

ROW = "_row"  # line number in the source file (header = line 1), or record position for Parquet

# The contract's columns, from the Pandera models (validators/schemas.py via validators/contract.py).
# Columns every file of a source must have, in order; adverse events also carry a pair per agent.
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {name: contract.file_columns(name) for name in SCHEMAS}

# Columns a source may leave out: they are added empty.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    name: contract.optional_columns(name) for name in SCHEMAS if contract.optional_columns(name)
}


def required_columns(source: str, agent_ids: list[str]) -> tuple[str, ...]:
    """Canonical columns a source must have; adverse events carry one pair per agent."""
    return SOURCE_COLUMNS[source] + contract.per_agent_columns(source, agent_ids)


@dataclass(frozen=True)
class RawSource:
    name: str
    path: Path
    sha256: str
    frame: pl.DataFrame  # canonical text columns + ROW


def read_source(config: TrialConfig, name: str) -> RawSource | None:
    """Read one configured source; None when the optional source is not configured."""
    path = config.source_path(name)
    if path is None:
        return None
    source = getattr(config.model.sources, name)
    if not path.is_file():
        raise InputError(path, f"sources.{name}.path", "source file not found", "correct the path in the trial config")
    with path.open("rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    file_format = source.format or ("parquet" if path.suffix.lower() == ".parquet" else "csv")
    try:
        if file_format == "parquet":
            lazy = pl.scan_parquet(path).with_columns(pl.all().cast(pl.String))
            first_row = 1
        else:
            lazy = pl.scan_csv(path, infer_schema=False)
            first_row = 2
        columns = lazy.collect_schema().names()
    except Exception as error:  # polars raises several error types for unreadable files
        raise InputError(path, None, f"cannot be read as {file_format} ({error})", f"export it as {file_format} with a header row") from None

    renames = {source_name: canonical for canonical, source_name in source.columns.items()}
    missing_mapped = [name_ for name_ in renames if name_ not in columns]
    if missing_mapped:
        raise InputError(path, missing_mapped[0], "column named in the config mapping is not in the file", f"correct sources.{name}.columns")
    columns = [renames.get(column, column) for column in columns]

    expected = required_columns(name, config.agent_ids)
    missing = [column for column in expected if column not in columns]
    if missing:
        raise InputError(
            path,
            missing[0],
            f"required column missing (missing: {', '.join(missing)})",
            f"add the column, or map the file's own name onto it under [sources.{name}.columns]",
        )
    optional = OPTIONAL_COLUMNS.get(name, ())
    absent = [column for column in optional if column not in columns]
    lazy = (
        lazy.rename(renames)
        .with_columns([pl.lit(None, dtype=pl.String).alias(column) for column in absent])
        .select(expected + optional)
        # Surrounding spaces are not data; an empty cell is a missing value.
        .with_columns(pl.all().str.strip_chars())
        .with_columns(pl.when(pl.all() != "").then(pl.all()))
        .with_row_index(ROW, offset=first_row)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )
    try:
        frame = lazy.collect(engine="streaming")
    except Exception as error:
        raise InputError(path, None, f"cannot be read as {file_format} ({error})", f"export it as {file_format} with a header row") from None
    return RawSource(name=name, path=path, sha256=sha256, frame=frame)
