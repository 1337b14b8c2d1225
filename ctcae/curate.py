"""Maintainer command: refresh the curated CTCAE tables in data/ctcae/ from the NCI workbooks.

    python -m ctcae.curate --v5-workbook CTCAE_v5.0_2017-11-27.xlsx \\
        --v6-workbook "CTCAE v6.0 ....xlsx" [--data-dir data/ctcae] [--add-v5 TERM] [--add-v6 TERM]

The term names already in ``terms_v5.0.csv`` and ``terms_v6.0.csv`` (plus any ``--add-*``)
choose which terms are curated; their facts (SOC, MedDRA code, allowed grades, Other-specify
flag) are re-read from the workbooks, so the curated tables never drift from NCI. Rules:

* every "<SOC> - Other, specify" term of each version is curated;
* every v6.0 term that a curated v5.0 term maps to is curated, so that a curated v5.0 table
  can always be carried over to v6.0;
* ``mapping_v5.0_v6.0.csv`` gets one row per (curated v5.0 term, v6.0 term) pair, plus one
  "Addition" row per curated v6.0 term that is new in v6.0.

No grade description, definition or note is written: the tables hold facts only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from ctcae.mapping import term_level_mapping
from ctcae.workbook import read_workbook
from ctcae.home import data_path

DEFAULT_DATA_DIR = data_path("ctcae")


def curated_names(path: Path) -> list[str]:
    """Term names listed in an existing curated table (empty when the file does not exist)."""
    if not path.exists():
        return []
    return pl.read_csv(path, infer_schema=False)["ctcae_term"].str.strip_chars().to_list()


def require_known(names: list[str], terms: pl.DataFrame, version: str) -> None:
    """Stop when a curated name is not a term of the workbook (renamed or misspelt)."""
    known = set(terms["ctcae_term"].to_list())
    unknown = sorted(set(names) - known)
    if unknown:
        raise SystemExit(f"not CTCAE v{version} terms: {unknown}")


def facts_table(terms: pl.DataFrame, names: set[str]) -> pl.DataFrame:
    """The curated CSV rows for ``names``, in NCI order (by SOC, then as the workbook lists)."""
    chosen = terms.filter(pl.col("ctcae_term").is_in(sorted(names)))
    return chosen.select(
        "ctcae_term",
        "meddra_soc",
        pl.col("meddra_code").cast(pl.String),
        pl.col("allowed_grades").list.eval(pl.element().cast(pl.String)).list.join(","),
        pl.when(pl.col("other_specify")).then(pl.lit("Y")).otherwise(pl.lit("N")).alias("other_specify"),
    )


def other_specify_names(terms: pl.DataFrame) -> set[str]:
    """All "<SOC> - Other, specify" terms of a dictionary."""
    return set(terms.filter(pl.col("other_specify"))["ctcae_term"].to_list())


def curated_mapping(grade_rows: pl.DataFrame, v5_names: set[str], v6_names: set[str]) -> pl.DataFrame:
    """Term-level mapping rows for the curated v5.0 terms and the curated v6.0 additions."""
    term_rows = term_level_mapping(grade_rows)
    return term_rows.filter(
        pl.col("v5_term").is_in(sorted(v5_names))
        | (pl.col("v5_term").is_null() & pl.col("v6_term").is_in(sorted(v6_names)))
    ).sort(pl.col("v5_term").is_null(), "v5_term", "v6_term", maintain_order=True)


def refresh(v5_workbook: Path, v6_workbook: Path, data_dir: Path, add_v5: list[str], add_v6: list[str]) -> None:
    """Rewrite the curated term tables and mapping in ``data_dir`` from the two workbooks."""
    v5 = read_workbook(v5_workbook)
    v6 = read_workbook(v6_workbook)
    if v5.version != "5.0" or v6.version != "6.0" or v6.mapping is None:
        raise SystemExit("give the v5.0 workbook to --v5-workbook and the v6.0 one to --v6-workbook")

    v5_path, v6_path = data_dir / "terms_v5.0.csv", data_dir / "terms_v6.0.csv"
    v5_listed = curated_names(v5_path) + add_v5
    require_known(v5_listed, v5.terms, "5.0")
    v5_names = set(v5_listed) | other_specify_names(v5.terms)

    v6_listed = curated_names(v6_path) + add_v6
    require_known(v6_listed, v6.terms, "6.0")
    targets = v6.mapping.filter(pl.col("v5_term").is_in(sorted(v5_names)))["v6_term"].drop_nulls()
    v6_names = set(v6_listed) | other_specify_names(v6.terms) | set(targets.to_list())

    facts_table(v5.terms, v5_names).write_csv(v5_path)
    facts_table(v6.terms, v6_names).write_csv(v6_path)
    curated_mapping(v6.mapping, v5_names, v6_names).write_csv(data_dir / "mapping_v5.0_v6.0.csv")
    print(f"curated v5.0: {len(v5_names)} terms, v6.0: {len(v6_names)} terms -> {data_dir}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctcae.curate", description=__doc__.splitlines()[0])
    parser.add_argument("--v5-workbook", type=Path, required=True, help="NCI CTCAE v5.0 workbook (.xlsx)")
    parser.add_argument("--v6-workbook", type=Path, required=True, help="NCI CTCAE v6.0 workbook (.xlsx)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder of the curated CSVs")
    parser.add_argument("--add-v5", action="append", default=[], metavar="TERM", help="add a v5.0 term")
    parser.add_argument("--add-v6", action="append", default=[], metavar="TERM", help="add a v6.0 term")
    args = parser.parse_args(argv)
    refresh(args.v5_workbook, args.v6_workbook, args.data_dir, args.add_v5, args.add_v6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
