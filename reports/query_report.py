"""The data manager's query report: the open queries by site, subject and check, the queries
resolved since the previous run, and the row accounting per source.

It counts queries and reads the row accounting; it decides nothing about the data. A query is
the same query in two runs when its ``query_id`` is the same (docs/validation.md, "Query ids").
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from reports.render import environment
from safetydb.export import write_csv
from validators.validate import QUERY_SCHEMA, SOURCE_ORDER

UNKNOWN_SUBJECT = "(unknown subject)"  # the query names no subject, or one the subjects file lacks
NO_SITE = "(no site recorded)"  # a subject of the subjects file whose site_id is empty
MAX_LISTED_QUERIES = 500  # the HTML lists this many; the CSV files hold every query
# Published folders of a trial: a review, OUT/<trial-id>/<cut-date>, or a validation-only run.
PUBLISHED_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}(-validation)?$")
SITE = "site_id"
REPORT_COLUMNS = (SITE, *QUERY_SCHEMA)  # queries_open.csv and queries_resolved.csv


def render_query_report(
    out_dir: Path,
    *,
    queries: pl.DataFrame,
    previous: pl.DataFrame | None,
    subjects: pl.DataFrame,
    accounting: dict[str, dict[str, int]],
    trial_id: str,
    cut_date: str,
) -> list[Path]:
    """Write query_report.html, queries_open.csv and queries_resolved.csv into ``out_dir``.

    ``queries``: this run's queries (QUERY_SCHEMA); ``previous``: the previous run's, or None
    for a first run; ``subjects``: subject_id and site_id of the subjects file.
    """
    open_queries = with_sites(queries, subjects)
    resolved = None
    if previous is not None:
        resolved = with_sites(previous.join(queries.select("query_id"), on="query_id", how="anti"), subjects)
    open_path, resolved_path = out_dir / "queries_open.csv", out_dir / "queries_resolved.csv"
    write_csv(open_queries, open_path)
    write_csv(resolved if resolved is not None else pl.DataFrame(schema={SITE: pl.String, **QUERY_SCHEMA}), resolved_path)

    context = query_report_context(
        open_queries, previous=previous, resolved=resolved, accounting=accounting, trial_id=trial_id, cut_date=cut_date
    )
    html_path = out_dir / "query_report.html"
    html_path.write_text(environment().get_template("query_report.html.j2").render(**context), encoding="utf-8")
    return [html_path, open_path, resolved_path]


def with_sites(queries: pl.DataFrame, subjects: pl.DataFrame) -> pl.DataFrame:
    """Each query with its subject's site, sorted by site and subject (file order within a subject).

    A subject listed twice in the subjects file takes its first line's site, as validation
    counts the first record: the join never multiplies a query.
    """
    sites = (
        subjects.select("subject_id", SITE)
        .filter(pl.col("subject_id").is_not_null())
        .unique("subject_id", keep="first", maintain_order=True)
        .with_columns(pl.lit(True).alias("_known"))
    )
    joined = queries.cast(QUERY_SCHEMA).join(sites, on="subject_id", how="left", maintain_order="left")
    site = (
        pl.when(pl.col("_known").is_null())
        .then(pl.lit(UNKNOWN_SUBJECT))
        .when(pl.col(SITE).is_null())
        .then(pl.lit(NO_SITE))
        .otherwise(pl.col(SITE))
    )
    return (
        joined.with_columns(site.alias(SITE))
        .sort([pl.col(SITE).str.starts_with("("), SITE, "subject_id"], nulls_last=True, maintain_order=True)
        .select(REPORT_COLUMNS)
    )


def query_report_context(
    open_queries: pl.DataFrame,
    *,
    previous: pl.DataFrame | None,
    resolved: pl.DataFrame | None,
    accounting: dict[str, dict[str, int]],
    trial_id: str,
    cut_date: str,
) -> dict:
    """What the template shows; every number is a count of queries or of the row accounting."""
    if previous is not None:
        is_new = ~pl.col("query_id").is_in(previous["query_id"].implode())
    else:
        is_new = pl.lit(None, dtype=pl.Boolean)
    open_queries = open_queries.with_columns(is_new.alias("new"))
    counted = pl.col("effect") == "counted"
    excluded = pl.col("effect") == "excluded"

    by_site = (
        open_queries.group_by(SITE, maintain_order=True)
        .agg(
            pl.col("subject_id").drop_nulls().n_unique().alias("subjects"),
            pl.len().alias("queries"),
            counted.sum().alias("counted"),
            excluded.sum().alias("excluded"),
            pl.col("new").sum().alias("new"),
        )
    )
    by_check = (
        open_queries.group_by("check")
        .agg(
            pl.len().alias("queries"),
            counted.sum().alias("counted"),
            excluded.sum().alias("excluded"),
            pl.col("source").unique(maintain_order=True).str.join(", ").alias("sources"),
            pl.col("field").drop_nulls().unique(maintain_order=True).str.join(", ").alias("fields"),
            pl.col("fix").drop_nulls().unique(maintain_order=True).alias("fixes"),
        )
        .sort(["queries", "check"], descending=[True, False])
    )
    checks = [
        row | {"fix": row["fixes"][0] if len(row["fixes"]) == 1 else "differs by line: see each query's fix" if row["fixes"] else ""}
        for row in by_check.to_dicts()
    ]

    listed = open_queries.head(MAX_LISTED_QUERIES)
    sites: list[dict] = []
    for (site,), site_rows in listed.group_by(SITE, maintain_order=True):
        subjects = [
            {"subject_id": subject if subject is not None else "(no subject)", "queries": rows.to_dicts()}
            for (subject,), rows in site_rows.group_by("subject_id", maintain_order=True)
        ]
        sites.append({"site": site, "subjects": subjects})

    ordered_sources = [name for name in SOURCE_ORDER if name in accounting] + [name for name in accounting if name not in SOURCE_ORDER]
    rows = [{"source": name, **accounting[name]} for name in ordered_sources]
    totals = {key: sum(row[key] for row in rows) for key in ("rows_in", "clean", "counted_with_queries", "excluded")}
    return {
        "trial_id": trial_id,
        "cut_date": cut_date,
        "has_previous": previous is not None,
        "unknown_subject": UNKNOWN_SUBJECT,
        "summary": {
            "open": open_queries.height,
            "new": int(open_queries["new"].sum()) if previous is not None else None,
            "resolved": resolved.height if resolved is not None else None,
            "counted": int(open_queries.select(counted.sum()).item()),
            "excluded": int(open_queries.select(excluded.sum()).item()),
            "sites": by_site.filter(~pl.col(SITE).str.starts_with("(")).height,
            "subjects": open_queries["subject_id"].drop_nulls().n_unique(),
        },
        "accounting": rows,
        "accounting_total": totals,
        "by_site": by_site.to_dicts(),
        "by_check": checks,
        "sites": sites,
        "listed": listed.height,
        "max_listed": MAX_LISTED_QUERIES,
        "resolved": resolved.head(MAX_LISTED_QUERIES).to_dicts() if resolved is not None else [],
        "resolved_total": resolved.height if resolved is not None else 0,
    }


def read_queries(path: Path) -> pl.DataFrame:
    """A queries.csv as written: text as given (formula triggers stay neutralised), ``row`` a
    number; a column a folder of an older toxwatch lacks is empty."""
    frame = pl.read_csv(path, infer_schema=False)
    return frame.select(
        pl.col(name).cast(dtype, strict=False) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in QUERY_SCHEMA.items()
    )


def previous_queries(trial_folder: Path, current_folder_name: str) -> pl.DataFrame | None:
    """The queries of the trial's most recent published run other than ``current_folder_name``:
    a review (OUT/<trial-id>/<cut-date>) or a validation-only run (<cut-date>-validation), the
    latest by the cut date in its manifest.json, then by the folder's modification time. None
    when there is none.

    A folder being written (hidden, ``.<name>.partial-…``) is never a previous run; so while a
    run writes its partial folder, the published folder of the same cut is the previous run.
    """
    if not trial_folder.is_dir():
        return None
    candidates = []
    for folder in trial_folder.iterdir():
        if folder.name == current_folder_name or not PUBLISHED_FOLDER.match(folder.name) or not folder.is_dir():
            continue
        manifest, queries = folder / "manifest.json", folder / "queries.csv"
        if not (manifest.is_file() and queries.is_file()):
            continue
        try:
            cut_date = str(json.loads(manifest.read_text(encoding="utf-8"))["cut_date"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a folder toxwatch wrote whole
        candidates.append((cut_date, folder.stat().st_mtime, folder.name, queries))
    if not candidates:
        return None
    return read_queries(max(candidates)[3])
