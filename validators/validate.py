"""Validate every source of a trial: each row is clean, counted with queries, or excluded.

read (text) -> parse (types) -> enrich (validators/enrich.py: subjects, agents, CTCAE) -> Pandera model ->
reasons per row, each with its consequence (validators/checks.py) -> records counted (clean, or
with a conservative reading and a query) | records excluded (cannot be placed) + queries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import polars as pl
from pandera.errors import SchemaErrors

from ctcae.terms import CtcaeDictionary
from trial.config import Agent, Arm
from validators.enrich import DETAIL_PREFIX, READING_PREFIX, enrich
from validators.parse import DATE_COLUMNS, REASON_SCHEMA, parse_source
from validators.privacy import FREE_TEXT_COLUMNS, read_names, read_patterns, scan_free_text
from validators import contract
from validators.read import RAW_LINE, ROW, RawSource, read_source, read_source_chunks
from validators.checks import DATE_AFTER_RUN, FRAME_CHECKS, ROW_FORMAT, RUN_CHECKS, TEXT_ENCODING, consequence_of, fix_for
from validators.readings import null_failed_values, read_conservatively
from validators.schemas import SCHEMAS
from trial.config import TrialConfig

SOURCE_ORDER = ("subjects", "exposure", "adverse_events", "labs", "vitals", "tumour_assessments")
RECORD_KEYS = {
    "subjects": ("subject_id",),
    "exposure": ("subject_id", "agent", "start_date"),
    "adverse_events": ("ae_id",),
    "labs": ("subject_id", "test_code", "collection_date"),
    "vitals": ("subject_id", "measure_date"),
    "tumour_assessments": ("subject_id", "assessment_date"),
}
QUERY_SCHEMA = {
    "query_id": pl.String,
    "source": pl.String,
    "file": pl.String,
    "row": pl.Int64,
    "record_key": pl.String,
    "subject_id": pl.String,
    "field": pl.String,
    "value": pl.String,
    "check": pl.String,
    "problem": pl.String,
    "effect": pl.String,
    "reading": pl.String,
    "fix": pl.String,
}
NOT_CODED_SOC = "Not coded to CTCAE"
@dataclass
class SourceResult:
    name: str
    path: Path
    sha256: str
    rows_in: int
    records: pl.DataFrame  # every counted record, typed, conservative readings applied
    queried: int  # how many of ``records`` carry at least one query
    excluded: pl.DataFrame  # the source text as given, with ROW and a `reasons` column (RAW_LINE: a line that is no record)
    queries: pl.DataFrame
    ignored_columns: tuple[str, ...] = ()  # the file's columns not read (not in the contract, not mapped)

    @property
    def accounting(self) -> dict[str, int]:
        """rows in = clean + counted with queries + excluded."""
        return {
            "rows_in": self.rows_in,
            "clean": self.records.height - self.queried,
            "counted_with_queries": self.queried,
            "excluded": self.excluded.height,
        }


@dataclass
class ValidationResult:
    sources: dict[str, SourceResult] = field(default_factory=dict)

    @property
    def queries(self) -> pl.DataFrame:
        frames = [result.queries for result in self.sources.values()]
        return pl.concat(frames) if frames else pl.DataFrame(schema=QUERY_SCHEMA)


# Sources validated record by record (no column unique across the file): a large file of one of
# these is read and validated in pieces (validators/read.py read_source_chunks).
PIECEWISE_SOURCES = tuple(
    name for name in SOURCE_ORDER if not any(column.unique for column in contract.source_columns(name))
)


def validate_trial(config: TrialConfig, dictionary: CtcaeDictionary, *, run_date: date | None = None) -> ValidationResult:
    """Read and validate every configured source of the trial; a date after ``run_date`` (today
    by default) is queried, and so is a likely personal identifier in free text (validators/privacy.py)."""
    result = ValidationResult()
    for name, piece in iter_validated_sources(config, dictionary, run_date=run_date):
        result.sources[name] = piece
    return result


def iter_validated_sources(
    config: TrialConfig,
    dictionary: CtcaeDictionary,
    *,
    run_date: date | None = None,
    piece_bytes: int | None = None,
    checksums: dict[str, str] | None = None,
) -> Iterator[tuple[str, SourceResult]]:
    """Each source validated, in SOURCE_ORDER, as (name, result). With ``piece_bytes``, a file
    of a PIECEWISE_SOURCES source larger than that comes as several results, one per piece of
    the file (their rows in are the file's rows in, added up), so that no large file is held
    whole; ``checksums`` (source -> sha256) spares hashing a file again."""
    run_date = run_date or date.today()
    identifier_patterns = read_patterns(config.free_text_patterns_path)
    names = read_names(config.names_path)
    # Subjects come first: every other source is checked against the clean subjects.
    known_subjects: pl.DataFrame | None = None
    for name in SOURCE_ORDER:
        if piece_bytes is not None and name in PIECEWISE_SOURCES:
            raws = read_source_chunks(config, name, chunk_bytes=piece_bytes, sha256=(checksums or {}).get(name))
        else:
            raw = read_source(config, name)
            raws = iter(() if raw is None else (raw,))
        for raw in raws:
            source_result = validate_source(
                raw, agents=config.model.agents, dictionary=dictionary, subjects=known_subjects, run_date=run_date,
                grading=config.model.trial.grading, arms=config.arms,
            )
            del raw
            if name == "subjects":
                known_subjects = source_result.records.select(
                    "subject_id",
                    pl.col("enrolment_date").alias("_enrolment_date"),
                    pl.lit(True).alias("_subject_known"),
                    pl.col("arm").alias("_arm"),
                )
            if name in FREE_TEXT_COLUMNS:
                findings = scan_free_text(
                    source_result.records, source=name, file=source_result.path.name, patterns=identifier_patterns, names=names
                )
                source_result = _with_more_queries(source_result, findings)
            yield name, source_result


def _with_more_queries(result: SourceResult, queries: pl.DataFrame) -> SourceResult:
    """The source's result with queries raised after validation; a record they name is counted
    with queries, no longer clean."""
    if queries.is_empty():
        return result
    queries = pl.concat([result.queries, queries])
    queried = int(result.records[ROW].is_in(queries["row"].unique().implode()).sum())
    return replace(result, queries=queries, queried=queried)


def validate_source(
    raw: RawSource,
    *,
    agents: Sequence[Agent],
    dictionary: CtcaeDictionary | None = None,
    subjects: pl.DataFrame | None = None,
    run_date: date | None = None,
    grading: str = "ctcae",
    arms: Sequence[Arm] = (),
) -> SourceResult:
    """Validate one source read by ``read_source`` (``subjects``: the clean subjects, for the other sources)."""
    agent_ids = [agent.id for agent in agents]
    enriched, reasons = parse_source(raw.name, raw.frame)
    reasons = pl.concat([reasons, raw.reasons.cast(REASON_SCHEMA)])  # text that looks read in the wrong encoding
    if run_date is not None:
        reasons = pl.concat([reasons, dates_after_run(raw.name, enriched, run_date)])
    enriched = enrich(raw.name, enriched, agents=agents, dictionary=dictionary, subjects=subjects, grading=grading, arms=arms)

    schema_reasons = _with_details(_schema_reasons(raw.name, enriched), enriched)
    # A value that did not parse is already queried; its "missing" echo from the model is not news.
    echoes = schema_reasons.join(reasons.select(ROW, "field"), on=[ROW, "field"], how="semi")
    schema_reasons = schema_reasons.join(echoes.filter(pl.col("check") == "not_nullable"), on=[ROW, "field", "check"], how="anti")
    reasons = _with_consequences(raw.name, enriched, pl.concat([reasons, schema_reasons]).cast(REASON_SCHEMA).unique(maintain_order=True))

    excluded_rows = reasons.filter(pl.col("effect") == "exclude")[ROW].unique()
    records = enriched.filter(~pl.col(ROW).is_in(excluded_rows.implode())) if excluded_rows.len() else enriched
    del enriched
    # Values that failed a column-level check (and dates after the run) are read as missing.
    column_failures = reasons.filter(~pl.col("check").is_in(list(FRAME_CHECKS) + ["parse", "field_uniqueness", TEXT_ENCODING]))
    records = null_failed_values(records, column_failures.select(ROW, "field"))
    if raw.name == "adverse_events" and dictionary is not None:
        # The coded term as the dictionary spells it (case and spacing differences are not
        # errors); a term the dictionary does not know is counted as coded, in its own SOC.
        records = records.with_columns(
            pl.coalesce("_term", "ctcae_term").alias("ctcae_term"),
            # The SOC as coded in MedDRA when given, else the CTCAE term's.
            pl.coalesce("meddra_soc", "_soc", pl.lit(NOT_CODED_SOC)).alias("meddra_soc"),
            pl.col("_other_specify").fill_null(False).alias("other_specify_term"),
        )
    records = read_conservatively(raw.name, records, agent_ids=agent_ids)
    records = records.drop([column for column in records.columns if column.startswith("_") and column != ROW])
    queried = int(records[ROW].is_in(reasons[ROW].unique().implode()).sum()) if reasons.height else 0

    reason_text = (
        reasons.filter(pl.col("effect") == "exclude")
        .group_by(ROW, maintain_order=True)
        .agg(pl.col("problem").str.join("; ").alias("reasons"))
    )
    excluded = raw.frame.join(reason_text, on=ROW, how="inner", maintain_order="left")
    queries = _queries(raw, reasons)
    if raw.malformed.height:
        # Lines that are no record: excluded as given, each with its query.
        lines = raw.malformed.select(ROW, RAW_LINE, pl.col("problem").alias("reasons"))
        excluded = pl.concat([excluded, lines], how="diagonal_relaxed").sort(ROW)
        queries = pl.concat([queries, _malformed_queries(raw)]).sort("row", maintain_order=True)
    return SourceResult(
        name=raw.name,
        path=raw.path,
        sha256=raw.sha256,
        rows_in=raw.frame.height + raw.malformed.height,
        records=records,
        queried=queried,
        excluded=excluded,
        queries=queries,
        ignored_columns=raw.ignored_columns,
    )


def dates_after_run(source: str, typed: pl.DataFrame, run_date: date) -> pl.DataFrame:
    """One reason per date after the day of the run: a typo (2099) must never move a data cut."""
    frames = [
        typed.filter(pl.col(column) > run_date).select(
            pl.col(ROW),
            pl.lit(column).alias("field"),
            pl.col(column).cast(pl.String).alias("value"),
            (pl.lit(f"{column} ") + pl.col(column).cast(pl.String) + pl.lit(f" is after the day of the run ({run_date.isoformat()})")).alias("problem"),
            pl.lit(DATE_AFTER_RUN).alias("check"),
        )
        for column in DATE_COLUMNS.get(source, ())
        if column in typed.columns
    ]
    return pl.concat(frames).cast(REASON_SCHEMA) if frames else pl.DataFrame(schema=REASON_SCHEMA)


def _with_consequences(source: str, enriched: pl.DataFrame, reasons: pl.DataFrame) -> pl.DataFrame:
    """Each reason with its effect (count or exclude) and the reading said in its query.

    A duplicated identifier: the first record is used and later ones take the source's
    duplicate consequence (subjects: excluded; adverse events: counted as their own record).
    A column-level failure of a field with a ``_reading_<field>`` column (validators/enrich.py)
    says that row's reading, which depends on the value, rather than the field's declared one.
    """
    first_rows: set[int] = set()
    duplicates = reasons.filter(pl.col("check") == "field_uniqueness")
    if duplicates.height:
        key = duplicates["field"][0]
        firsts = enriched.filter(pl.col(key).is_first_distinct() & pl.col(key).is_duplicated())[ROW]
        first_rows = set(firsts.to_list())
    row_readings = {
        column.removeprefix(READING_PREFIX): dict(enriched.select(ROW, column).drop_nulls().iter_rows())
        for column in enriched.columns
        if column.startswith(READING_PREFIX)
    }
    effects, readings = [], []
    for row, check, field_name in reasons.select(ROW, "check", "field").iter_rows():
        if check == "field_uniqueness" and row in first_rows:
            effects.append("count")
            readings.append("counted; the first record with this identifier")
            continue
        consequence = consequence_of(source, check, field_name)
        effects.append(consequence.effect)
        column_level = check not in FRAME_CHECKS and check not in RUN_CHECKS and check != "field_uniqueness"
        row_reading = row_readings.get(field_name, {}).get(row) if column_level and consequence.effect == "count" else None
        readings.append(row_reading or consequence.reading)
    return reasons.with_columns(pl.Series("effect", effects, pl.String), pl.Series("reading", readings, pl.String))


def _schema_reasons(name: str, enriched: pl.DataFrame) -> pl.DataFrame:
    """Run the source's Pandera model lazily and turn its failure cases into row reasons."""
    schema = SCHEMAS[name]
    try:
        schema.validate(enriched, lazy=True)
    except SchemaErrors as errors:
        failures = errors.failure_cases.filter(pl.col("index").is_not_null())
        rows = enriched[ROW]
        # Frame-level failures carry the check's error text; map it back to the check's name once.
        check_names = {check.error: check.name for check in schema.to_schema().checks}
        reasons = []
        for failure in failures.iter_rows(named=True):
            row = rows[int(failure["index"])]
            column = failure["column"]
            check = failure["check"]
            if failure["schema_context"] == "DataFrameSchema":
                check_name = check_names.get(check, check)
                field_name = FRAME_CHECKS[check_name].field if check_name in FRAME_CHECKS else ""
                value = enriched[field_name][int(failure["index"])] if field_name in enriched.columns else None
                problem = check
            else:
                check_name = check.split("(")[0]
                field_name = column
                value = failure["failure_case"]
                problem = _describe_column_failure(column, check, value)
            reasons.append(
                {ROW: row, "field": field_name, "value": None if value is None else str(value), "problem": problem, "check": check_name}
            )
        return pl.DataFrame(reasons, schema=REASON_SCHEMA)
    return pl.DataFrame(schema=REASON_SCHEMA)


def _describe_column_failure(column: str, check: str, value: object) -> str:
    if check == "not_nullable":
        return f"{column} is missing"
    if check == "field_uniqueness":
        return f"{column} {value!r} is not unique"
    if check.startswith("isin("):
        allowed = check.removeprefix("isin(").removesuffix(")")
        return f"{column} {value!r} is not one of {allowed}"
    if check.startswith("in_range("):
        bounds = check.removeprefix("in_range(").removesuffix(")")
        return f"{column} {value!r} is outside the range {bounds}"
    if check.startswith("greater_than_or_equal_to("):
        return f"{column} {value!r} is below the minimum {check.split('(')[1].rstrip(')')}"
    if check.startswith("greater_than("):
        return f"{column} {value!r} must be above {check.split('(')[1].rstrip(')')}"
    return f"{column} {value!r} fails {check}"


def _with_details(reasons: pl.DataFrame, enriched: pl.DataFrame) -> pl.DataFrame:
    """A check's problem text with its row's detail (``_detail_<check>``, validators/enrich.py) added:
    what the config says, the accepted units, the dictionary's suggestions."""
    detail_columns = [column for column in enriched.columns if column.startswith(DETAIL_PREFIX)]
    if reasons.is_empty() or not detail_columns:
        return reasons
    details = (
        enriched.filter(pl.col(ROW).is_in(reasons[ROW].implode()))
        .select(ROW, *detail_columns)
        .unpivot(index=ROW, variable_name="check", value_name="detail")
        .with_columns(pl.col("check").str.strip_prefix(DETAIL_PREFIX))
        .filter(pl.col("detail").is_not_null())
    )
    with_detail = reasons.join(details, on=[ROW, "check"], how="left", maintain_order="left")
    return with_detail.with_columns(
        pl.when(pl.col("detail").is_not_null())
        .then(pl.col("problem") + pl.lit("; ") + pl.col("detail"))
        .otherwise(pl.col("problem"))
        .alias("problem")
    ).select(REASON_SCHEMA.keys())


def _queries(raw: RawSource, reasons: pl.DataFrame) -> pl.DataFrame:
    if reasons.is_empty():
        return pl.DataFrame(schema=QUERY_SCHEMA)
    keys = RECORD_KEYS[raw.name]
    key_frame = raw.frame.select(
        ROW,
        pl.concat_str([pl.col(key).fill_null("?") for key in keys], separator="/").alias("record_key"),
        pl.col("subject_id"),
    ).with_columns(pl.col(ROW).rank("ordinal").over("record_key").alias("occurrence"))
    rows = reasons.join(key_frame, on=ROW, how="left").sort(ROW, "field", "check")
    records = []
    for reason in rows.iter_rows(named=True):
        records.append(
            {
                "query_id": _query_id(raw.name, reason),
                "source": raw.name,
                "file": raw.path.name,
                "row": reason[ROW],
                "record_key": reason["record_key"],
                "subject_id": reason["subject_id"],
                "field": reason["field"],
                "value": reason["value"],
                "check": reason["check"],
                "problem": reason["problem"],
                "effect": "excluded" if reason["effect"] == "exclude" else "counted",
                "reading": reason["reading"],
                "fix": fix_for(reason["check"]),
            }
        )
    return pl.DataFrame(records, schema=QUERY_SCHEMA)


def _query_id(source: str, reason: dict) -> str:
    """The same problem of the same record keeps its id across deliveries (docs/validation.md,
    "Query ids"): it names the record by its key, not its line, so inserting or deleting other
    lines moves nothing. A key that is not unique in the file (a missing key part reads "?")
    adds its occurrence from the second record with that key on, in file order."""
    if reason["record_key"] is None:  # not a record of the file: only its line names it
        return line_query_id(source, reason[ROW], reason["check"], reason["field"])
    if reason["occurrence"] == 1:
        identity = [source, reason["record_key"], reason["check"], reason["field"]]
    else:
        identity = [source, reason["record_key"], reason["occurrence"], reason["check"], reason["field"]]
    return "Q-" + hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:10]


def line_query_id(source: str, row: int, check: str, field: str | None) -> str:
    """The id of a query named by its line: a line that is no record, or (validated in pieces)
    a key repeated in two pieces of a large file (safetydb/store.py LoadWriter)."""
    return "Q-" + hashlib.sha256(json.dumps([source, row, check, field]).encode()).hexdigest()[:10]


def _malformed_queries(raw: RawSource) -> pl.DataFrame:
    """One query per line that is no record, with the fix for what is wrong with it (validators/read.py)."""
    reading = RUN_CHECKS[ROW_FORMAT].consequence.reading
    records = []
    for line in raw.malformed.iter_rows(named=True):
        identity = json.dumps([raw.name, line[ROW], ROW_FORMAT, line["field"] or ""])
        records.append(
            {
                "query_id": "Q-" + hashlib.sha256(identity.encode()).hexdigest()[:10],
                "source": raw.name,
                "file": raw.path.name,
                "row": line[ROW],
                "record_key": None,
                "subject_id": None,
                "field": line["field"],
                "value": line["value"],
                "check": ROW_FORMAT,
                "problem": line["problem"],
                "effect": "excluded",
                "reading": reading,
                "fix": line["fix"],
            }
        )
    return pl.DataFrame(records, schema=QUERY_SCHEMA)


RECONCILIATION_READING = "counted as recorded; the sources disagree and the query asks which is right"


def reconciliation_queries(findings: pl.DataFrame) -> pl.DataFrame:
    """Cross-source findings (the store's reconciliation models) as queries in the same shape."""
    if findings.is_empty():
        return pl.DataFrame(schema=QUERY_SCHEMA)
    identity = pl.concat_str([pl.col("check"), pl.col("source"), pl.col("record_key"), pl.col("field")], separator="|", ignore_nulls=True)
    return findings.select(
        identity.map_elements(lambda text: "Q-" + hashlib.sha256(text.encode()).hexdigest()[:10], return_dtype=pl.String).alias("query_id"),
        "source",
        pl.lit("(reconciliation)").alias("file"),
        pl.lit(None, dtype=pl.Int64).alias("row"),
        "record_key",
        "subject_id",
        "field",
        "value",
        "check",
        "problem",
        pl.lit("counted").alias("effect"),
        pl.lit(RECONCILIATION_READING).alias("reading"),
        "fix",
    ).cast(QUERY_SCHEMA)
