"""The I/O floor: DuckDB reading every input file of a trial, and doing nothing else.

    uv run python benchmarks/read_floor.py TRIAL.toml [--stream]

Every source named in the trial config is read whole, every column as text (as toxwatch reads
them), into an in-memory DuckDB table; ``--stream`` only counts the rows as they stream past,
holding nothing. Prints the rows per source and the time taken as JSON. No tool that reads
these files can be faster than this, so benchmarks/compare.py states the others as multiples
of it.
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
from pathlib import Path

import duckdb


def source_paths(config_path: Path) -> dict[str, Path]:
    """The trial's source files by source name, as the config places them (relative to it)."""
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    return {name: config_path.resolve().parent / source["path"] for name, source in config["sources"].items()}


def read_every_source(paths: dict[str, Path], *, stream: bool = False) -> dict[str, int]:
    """Rows read per source: each file materialised as an all-text table, or only counted (``stream``)."""
    connection = duckdb.connect()
    rows = {}
    for name, path in paths.items():
        source = connection.read_csv(str(path), header=True, all_varchar=True)
        if stream:
            rows[name] = source.aggregate("count(*)").fetchall()[0][0]
        else:
            source.create(name)
            rows[name] = connection.table(name).aggregate("count(*)").fetchall()[0][0]
    connection.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="the trial's trial.toml")
    parser.add_argument("--stream", action="store_true", help="count the rows without keeping them")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = read_every_source(source_paths(args.config), stream=args.stream)
    print(json.dumps({"rows": rows, "total_s": round(time.perf_counter() - started, 3)}, indent=2))


if __name__ == "__main__":
    main()
