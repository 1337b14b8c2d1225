"""The DuckDB store: loads, data cuts, and the SQL models built on a cut.

A *load* records one reading of the inputs (records, excluded records, queries, row accounting,
lab grades), identified by everything that shapes them (``safetydb.identity``): the same inputs
are never read twice, and a changed file, config, dictionary or toolkit makes a new load. A
*cut* is a date applied to a load; every cut is kept, so a past cut is re-reported identically
and two cuts can be compared (``safetydb.diff``). Models are the SELECT statements in
``safetydb/sql/``, run in dependency order into temporary tables with bound parameters; no SQL
is built from values.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from safetydb.identity import LoadIdentity
from trial.errors import InputError
from validators.checks import DATE_AFTER_RUN, field_consequence
from validators.contract import source_columns
from validators.readings import FILLED_BY_READINGS
from validators.schemas import SCHEMAS
from validators.validate import QUERY_SCHEMA, line_query_id

SQL_DIR = Path(__file__).with_name("sql")
STAGING_MODELS = (
    "stg_subjects", "stg_exposure", "stg_adverse_events", "stg_ae_attribution", "stg_labs", "stg_tumour_assessments",
)
DERIVED_MODELS = (
    "int_subject_dosing",
    "int_subject_cycles",
    "int_ae_cycles",
    "int_adverse_events",
    "int_ae_aesi",
    "int_ae_aesi_units",
    "int_time_to_toxicity",
    "int_serious_events",
    "int_graded_values",
    "int_subject_status",
    "int_agent_exposure",
    "int_eair",
)
TABLE_MODELS = (
    "t_overview",
    "t_soc_term",
    "t_acute_late",
    "t_by_cycle",
    "t_attribution",
    "t_aesi",
    "t_aesi_timing",
    "t_aesi_management",
    "t_aesi_dose_actions",
    "t_aesi_by_subgroup",
    "t_exposure",
    "t_dose_intensity",
    "t_enrolment_by_site",
    "t_enrolment_by_month",
    "t_disposition",
    "t_demographics",
    "t_data_currency",
    "t_lab_shift",
    "t_sae_listing",
    "t_deaths",
    "t_heatmap",
    "t_swimmer",
)
# Reconciliation models: cross-source checks run after the derived models, each returning rows
# in the shape of RECONCILIATION_COLUMNS; they become queries in queries.csv.
RECONCILIATION_MODELS: tuple[str, ...] = (
    "q_death_without_fatal_ae",
    "q_fatal_ae_without_death",
    "q_fatal_ae_other_death_cause",
    "q_death_reason_without_death_date",
    "q_ae_action_without_exposure_change",
    "q_exposure_change_without_ae_action",
    "q_value_without_ae",
    "q_ae_grade_below_value",
    "q_arm_not_configured",
)
RECONCILIATION_COLUMNS = ("source", "record_key", "subject_id", "field", "value", "check", "problem", "fix")
PARAMETER = re.compile(r"\$([a-z_]+)")
# A run waits this long for another process to release the store (each stage opens it briefly);
# the environment variable sets another bound.
LOCK_WAIT_VARIABLE, LOCK_WAIT_SECONDS = "TOXWATCH_STORE_WAIT_SECONDS", 120.0
notes = logging.getLogger("toxwatch")
MEMORY_LIMIT = "1GB"
SCHEMA_VERSION = 5  # the table layout (sql/schema.sql and source_table_ddl); a store with another layout is refused

# The source tables are not written out in sql/schema.sql: each holds the source's own columns as
# its Pandera model declares them (validators/contract.py), plus the store's: the cut, the source
# row, and what validation and grading derive (below). Adverse events' per-agent columns go to
# ae_attribution (sql/schema.sql).
SOURCE_TABLES = tuple(SCHEMAS)
SQL_TYPES = {"text": "VARCHAR", "date": "DATE", "whole number": "INTEGER", "number": "DOUBLE"}
QUERY_COLUMNS = tuple(QUERY_SCHEMA)
POLARS_SQL_TYPES = {pl.String: "VARCHAR", pl.Int64: "BIGINT"}
DERIVED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "subjects": (),
    "exposure": (),
    # validators/validate.py: the "Other, specify" flag (meddra_soc, a source column, is filled there
    # from the CTCAE term when not coded); validators/readings.py: the grade as reported
    "adverse_events": (("other_specify_term", "BOOLEAN"), ("grade_reported", "INTEGER")),
    # safetydb/lab_grades.py: the baseline and the CTCAE grade
    "labs": (
        ("baseline", "DOUBLE"), ("is_baseline", "BOOLEAN"),
        ("toxicity_term", "VARCHAR"), ("toxicity_grade", "INTEGER"), ("gradable", "BOOLEAN"),
    ),
    "vitals": (("toxicity_term", "VARCHAR"), ("toxicity_grade", "INTEGER"), ("gradable", "BOOLEAN")),
    "tumour_assessments": (),
}


def source_table_ddl(source: str) -> str:
    """CREATE TABLE of one source table, from the source's Pandera model.

    A column is NOT NULL when a counted record cannot miss it: a missing value excludes the record
    (validators/checks.py) or a conservative reading fills it (validators/readings.py). A column
    the model declares unique is the table's key within a cut.
    """
    columns = [("load_id", "VARCHAR NOT NULL")]
    key = []
    for column in source_columns(source):
        if column.per_agent:
            continue
        never_missing = (
            field_consequence(source, column.name).effect == "exclude"
            or column.name in FILLED_BY_READINGS.get(source, ())
        )
        columns.append((column.name, SQL_TYPES[column.kind] + (" NOT NULL" if never_missing else "")))
        if column.unique:
            key.append(column.name)
    columns += [("source_row", "BIGINT"), *DERIVED_COLUMNS[source]]
    lines = [f"{name} {sql_type}" for name, sql_type in columns]
    if key:
        lines.append(f"PRIMARY KEY (load_id, {', '.join(key)})")
    return f"CREATE TABLE IF NOT EXISTS {_identifier(source)} (\n    " + ",\n    ".join(lines) + "\n)"


def load_queries_ddl() -> str:
    """CREATE TABLE of a load's validation queries: the queries.csv layout, in order."""
    lines = ["load_id VARCHAR NOT NULL", "position BIGINT NOT NULL"]
    lines += [f'"{name}" {POLARS_SQL_TYPES[dtype]}' for name, dtype in QUERY_SCHEMA.items()]
    return "CREATE TABLE IF NOT EXISTS load_queries (\n    " + ",\n    ".join(lines) + "\n)"



@dataclass(frozen=True)
class Load:
    """One reading of a trial's inputs, as stored: what it was made from and what validation found."""

    load_id: str
    trial_id: str
    identity_sha256: str
    config_sha256: str
    inputs: dict[str, dict[str, str]]
    dictionary: str
    dictionary_sha256: str
    toolkit_version: str
    toolkit_sha256: str
    run_date: date
    first_date_after_run: date | None
    latest_date: date | None
    first_enrolment: date | None
    accounting: dict[str, dict[str, int]]
    ignored_columns: dict[str, list[str]]
    created_at: datetime
    loaded_now: bool = False  # True when this run read the sources into the store

    def holds_on(self, run_date: date) -> bool:
        """A load read on an earlier day still holds unless a date it read as "after the run" has
        since been reached: that value would now be read as given."""
        return self.first_date_after_run is None or self.first_date_after_run > run_date


@dataclass(frozen=True)
class Cut:
    """A data cut: a date applied to a load."""

    cut_id: str
    load_id: str
    trial_id: str
    cut_date: date
    created_at: datetime
    created_now: bool = False


@dataclass(frozen=True)
class ModelParameters:
    cut_id: str
    cut_date: date
    cycle_days: int
    teae_end_days: int | None
    acute_days: int
    related_levels: list[str]
    follow_up_days: int = 730
    cycle_mode: str = "calendar"
    anchor_agents: list[str] | None = None
    value_ae_window_days: int = 14
    value_grade_min: int = 3
    dose_action_window_days: int = 7
    max_days_since_contact: int = 90
    low_rdi_percent: float = 80.0
    grading: str = "ctcae"  # [trial] grading: how tables label the grade levels
    arm_values: list[str] | None = None  # the [[arms]] values (reconciliation: a treated subject in none of them)
    arm: str | None = None  # the arm value the subjects are restricted to ([[arms]] value); None: every arm pooled

    def as_dict(self) -> dict[str, object]:
        return {
            "cut_id": self.cut_id,
            "arm": self.arm,
            "grading": self.grading,
            "arm_values": list(self.arm_values or []),
            "cut_date": self.cut_date,
            "cycle_days": self.cycle_days,
            "teae_end_days": self.teae_end_days,
            "acute_days": self.acute_days,
            "related_levels": self.related_levels,
            "follow_up_days": self.follow_up_days,
            "cycle_mode": self.cycle_mode,
            "anchor_agents": list(self.anchor_agents or []),
            "value_ae_window_days": self.value_ae_window_days,
            "value_grade_min": self.value_grade_min,
            "dose_action_window_days": self.dose_action_window_days,
            "max_days_since_contact": self.max_days_since_contact,
            "low_rdi_percent": self.low_rdi_percent,
        }


def read_model(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def model_grain(name: str) -> list[str]:
    """The grain a model declares on its first line (``-- grain: a, b``)."""
    first_line = read_model(name).splitlines()[0]
    match = re.match(r"--\s*grain:\s*(.+?)\.", first_line)
    if not match:
        raise ValueError(f"safetydb/sql/{name}.sql: first line must declare the grain")
    grain = match.group(1).strip().strip("()")
    return [part.strip() for part in grain.split(",")]


class SafetyStore:
    """A persistent DuckDB file holding every data cut of one or more trials."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.connection = _open(self.path)
        # Rows carry their source_row; no model relies on insertion order, so loads may run in parallel.
        self.connection.execute("SET preserve_insertion_order = false")
        # DuckDB spills to disk (beside the store) beyond this, so that a large load or model
        # does not take the machine's memory; the Polars side holds one piece of a source at a time.
        self.connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        self._check_schema_version()
        self.connection.execute(read_model("schema"))
        for table in SOURCE_TABLES:
            self.connection.execute(source_table_ddl(table))
        self.connection.execute(load_queries_ddl())
        self.connection.execute(
            "INSERT INTO store_info SELECT $version WHERE NOT EXISTS (SELECT 1 FROM store_info)",
            {"version": SCHEMA_VERSION},
        )

    def _check_schema_version(self) -> None:
        """Refuse a store written with another table layout rather than misread it."""
        tables = {row[0] for row in self.connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if not tables:
            return
        found = None
        if "store_info" in tables:
            rows = self.connection.execute("SELECT schema_version FROM store_info").fetchall()
            found = rows[0][0] if rows else None
        if found != SCHEMA_VERSION:
            self.connection.close()
            raise InputError(
                self.path,
                None,
                f"the store has table layout {found or 'from before layout versions'}; this toxwatch reads layout {SCHEMA_VERSION}",
                "move the file aside (it keeps the old cuts) and run again: the sources are loaded into a new store",
            )
    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> SafetyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- loads ---------------------------------------------------------------------------
    def find_load(self, identity: LoadIdentity, run_date: date) -> Load | None:
        """The stored load of these inputs that still holds on ``run_date``; None when there is none."""
        rows = self.connection.execute(
            "SELECT * FROM loads WHERE identity_sha256 = $identity ORDER BY created_at DESC",
            {"identity": identity.sha256},
        ).fetchall()
        loads = [_load_from_row(row) for row in rows]
        return next((load for load in loads if load.holds_on(run_date)), None)

    @contextmanager
    def new_load(self, identity: LoadIdentity, *, run_date: date, agent_ids: list[str]) -> Iterator[LoadWriter]:
        """Write a load source by source in one transaction: a failure or a killed process leaves
        the store as it was; the load exists only once every source is in."""
        writer = LoadWriter(self, identity, run_date, agent_ids)
        self.connection.execute("BEGIN TRANSACTION")
        try:
            yield writer
            writer.finish()
            self.connection.execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise

    def get_load(self, load_id: str) -> Load:
        rows = self.connection.execute("SELECT * FROM loads WHERE load_id = $load_id", {"load_id": load_id}).fetchall()
        if not rows:
            raise KeyError(f"no load {load_id!r} in {self.path}")
        return _load_from_row(rows[0])

    def load_queries(self, load_id: str) -> pl.DataFrame:
        """The validation queries of a load, in the order validation raised them."""
        columns = ", ".join(f'"{name}"' for name in QUERY_COLUMNS)
        return _select(
            self.connection,
            f"SELECT {columns} FROM load_queries WHERE load_id = $load_id ORDER BY position",
            {"load_id": load_id},
        )

    # ---- cuts ----------------------------------------------------------------------------
    def cut(self, load: Load, cut_date: date) -> Cut:
        """The data cut of ``load`` at ``cut_date``, recorded unless it already is."""
        cut_id = hashlib.sha256(json.dumps([load.load_id, cut_date.isoformat()]).encode()).hexdigest()[:16]
        rows = self.connection.execute("SELECT * FROM cuts WHERE cut_id = $cut_id", {"cut_id": cut_id}).fetchall()
        if rows:
            return _cut_from_row(rows[0])
        created_at = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        self.connection.execute(
            "INSERT INTO cuts VALUES ($cut_id, $load_id, $trial_id, $cut_date, $created)",
            {"cut_id": cut_id, "load_id": load.load_id, "trial_id": load.trial_id, "cut_date": cut_date, "created": created_at},
        )
        return Cut(cut_id, load.load_id, load.trial_id, cut_date, created_at, created_now=True)

    def get_cut(self, cut_id: str) -> Cut:
        rows = self.connection.execute("SELECT * FROM cuts WHERE cut_id = $cut_id", {"cut_id": cut_id}).fetchall()
        if not rows:
            raise KeyError(f"no data cut {cut_id!r} in {self.path}")
        return _cut_from_row(rows[0])

    def cuts(self, trial_id: str) -> list[Cut]:
        """Every cut of the trial, oldest first (by cut date, then by when it was made: created_at is
        whole seconds, so two cuts made in the same second follow their insertion order, rowid)."""
        rows = self.connection.execute(
            "SELECT * FROM cuts WHERE trial_id = $trial_id ORDER BY cut_date, created_at, rowid",
            {"trial_id": trial_id},
        ).fetchall()
        return [_cut_from_row(row) for row in rows]

    def latest_cut(self, trial_id: str) -> Cut | None:
        cuts = self.cuts(trial_id)
        return cuts[-1] if cuts else None

    def previous_cut(self, cut: Cut) -> Cut | None:
        """The cut before ``cut`` in the trial's history; None for the first."""
        cuts = [c.cut_id for c in self.cuts(cut.trial_id)]
        position = cuts.index(cut.cut_id)
        return self.get_cut(cuts[position - 1]) if position > 0 else None

    # ---- models --------------------------------------------------------------------------
    def register_table(self, name: str, frame: pl.DataFrame) -> None:
        """Make a frame computed outside SQL (configuration, CTCAE grades) a temporary table."""
        self.connection.register("frame_in", frame)
        try:
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {_identifier(name)} AS SELECT * FROM frame_in")
        finally:
            self.connection.unregister("frame_in")

    def run_models(self, names: tuple[str, ...], parameters: ModelParameters) -> None:
        """Materialise models, in the order given, as temporary tables."""
        for name in names:
            self.run_model_into(name, parameters.as_dict())

    def run_model_into(self, name: str, parameters: dict[str, object]) -> None:
        sql = read_model(name)
        self.connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {_identifier(name)} AS {sql}", _used(sql, parameters)
        )

    def model(self, name: str) -> pl.DataFrame:
        return _select(self.connection, f"SELECT * FROM {_identifier(name)}")

    def record_flags(self, cut: Cut, flags: list[dict]) -> None:
        self.connection.execute("DELETE FROM flag_history WHERE cut_id = $cut_id", {"cut_id": cut.cut_id})
        for flag in flags:
            self.connection.execute(
                "INSERT INTO flag_history VALUES ($cut_id, $cut_date, $rule_id, $status, $evaluable, $events, $boundary)",
                {
                    "cut_id": cut.cut_id,
                    "cut_date": cut.cut_date,
                    "rule_id": flag["rule_id"],
                    "status": flag["status"],
                    "evaluable": flag.get("evaluable"),
                    "events": flag.get("events"),
                    "boundary": flag.get("boundary"),
                },
            )

    def flag_history(self, trial_id: str, rule_id: str) -> pl.DataFrame:
        return _select(
            self.connection,
            """
            SELECT h.cut_date, h.status, h.evaluable, h.events, h.boundary
            FROM flag_history AS h JOIN cuts AS c USING (cut_id)
            WHERE c.trial_id = $trial_id AND h.rule_id = $rule_id
            ORDER BY h.cut_date, c.created_at, c.rowid
            """,
            {"trial_id": trial_id, "rule_id": rule_id},
        )


def latest_date(records: pl.DataFrame, up_to: date) -> date | None:
    """The latest date in any date column of ``records`` on or before ``up_to``."""
    date_columns = [column for column, dtype in records.schema.items() if dtype == pl.Date]
    if not records.height or not date_columns:
        return None
    return records.select(pl.max_horizontal([pl.col(c).filter(pl.col(c) <= up_to).max() for c in date_columns])).item()


class LoadWriter:
    """Inserts a load's sources one at a time (``SafetyStore.new_load``), so that each source's
    frames can be released once stored, and gathers what the ``loads`` row says of them."""

    def __init__(self, store: SafetyStore, identity: LoadIdentity, run_date: date, agent_ids: list[str]) -> None:
        self.connection = store.connection
        self.identity = identity
        self.run_date = run_date
        self.agent_ids = agent_ids
        self.load_id = hashlib.sha256(json.dumps([identity.sha256, run_date.isoformat()]).encode()).hexdigest()[:16]
        self.accounting: dict[str, dict[str, int]] = {}
        self.ignored_columns: dict[str, list[str]] = {}
        self.latest_dates: list[date] = []
        self.dates_after_run: list[date] = []
        self.first_enrolment: date | None = None
        self.queries = 0
        self.load: Load | None = None

    def add_source(
        self,
        name: str,
        *,
        records: pl.DataFrame | None,
        excluded: pl.DataFrame,
        queries: pl.DataFrame,
        accounting: dict[str, int],
        ignored_columns: tuple[str, ...] = (),
    ) -> None:
        """Store one validated (and, for labs and vitals, graded) source, or one piece of it:
        the pieces' row accounting adds up. ``records`` None: they come later (``add_records``)."""
        if records is not None:
            self.add_records(name, records)
        self._insert_excluded(name, excluded)
        if queries.height:
            positioned = queries.select(pl.int_range(self.queries, self.queries + queries.height, dtype=pl.Int64).alias("position"), pl.all())
            self._insert_frame("load_queries", positioned)
            self.queries += queries.height
            after_run = queries.filter(pl.col("check") == DATE_AFTER_RUN)["value"].str.to_date(strict=False).drop_nulls()
            self.dates_after_run += after_run.to_list()
        counts = self.accounting.setdefault(name, dict.fromkeys(accounting, 0))
        for key, value in accounting.items():
            counts[key] += value
        self.ignored_columns.setdefault(name, list(ignored_columns))

    def add_records(self, name: str, records: pl.DataFrame) -> None:
        """Store counted records of a source (all of them, or a piece)."""
        self._insert_records(name, records)
        latest = latest_date(records, self.run_date)
        if latest is not None:
            self.latest_dates.append(latest)
        if name == "subjects" and records.height:
            self.first_enrolment = records["enrolment_date"].min()

    def finish(self) -> None:
        self._name_repeated_queries_by_line()
        identity = self.identity
        created_at = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        load = Load(
            load_id=self.load_id,
            trial_id=identity.trial_id,
            identity_sha256=identity.sha256,
            config_sha256=identity.config_sha256,
            inputs=identity.inputs,
            dictionary=identity.dictionary,
            dictionary_sha256=identity.dictionary_sha256,
            toolkit_version=identity.toolkit_version,
            toolkit_sha256=identity.toolkit_sha256,
            run_date=self.run_date,
            first_date_after_run=min(self.dates_after_run, default=None),
            latest_date=max(self.latest_dates, default=None),
            first_enrolment=self.first_enrolment,
            accounting=self.accounting,
            ignored_columns=self.ignored_columns,
            created_at=created_at,
            loaded_now=True,
        )
        self.connection.execute(
            """
            INSERT INTO loads VALUES ($load_id, $trial_id, $identity, $config, $inputs, $dictionary, $dictionary_sha256,
                $version, $toolkit, $run_date, $after_run, $latest, $first_enrolment, $accounting, $ignored, $created)
            """,
            {
                "load_id": load.load_id,
                "trial_id": load.trial_id,
                "identity": load.identity_sha256,
                "config": load.config_sha256,
                "inputs": json.dumps(load.inputs, sort_keys=True),
                "dictionary": load.dictionary,
                "dictionary_sha256": load.dictionary_sha256,
                "version": load.toolkit_version,
                "toolkit": load.toolkit_sha256,
                "run_date": load.run_date,
                "after_run": load.first_date_after_run,
                "latest": load.latest_date,
                "first_enrolment": load.first_enrolment,
                "accounting": json.dumps(load.accounting),
                "ignored": json.dumps(load.ignored_columns),
                "created": created_at,
            },
        )
        self.load = load

    def _name_repeated_queries_by_line(self) -> None:
        """A query id is unique within a load. Validated in pieces, a key repeated in two pieces of
        a file (rare: a duplicated lab or dose record far apart in a very large file) would give
        two queries one id; the later ones are named by their line instead."""
        repeated = self.connection.execute(
            """
            SELECT position, source, "row", "check", field FROM (
                SELECT *, row_number() OVER (PARTITION BY query_id ORDER BY position) AS nth
                FROM load_queries WHERE load_id = $load_id
            ) WHERE nth > 1
            """,
            {"load_id": self.load_id},
        ).fetchall()
        for position, source, row, check, field_name in repeated:
            self.connection.execute(
                "UPDATE load_queries SET query_id = $query_id WHERE load_id = $load_id AND position = $position",
                {"query_id": line_query_id(source, row, check, field_name), "load_id": self.load_id, "position": position},
            )

    def _insert_records(self, table: str, frame: pl.DataFrame) -> None:
        staged = frame.rename({"_row": "source_row"})
        if table == "adverse_events":
            attribution = pl.concat(
                [
                    staged.select(
                        "ae_id",
                        pl.lit(agent).alias("agent"),
                        pl.col(f"attribution_{agent}").alias("attribution"),
                        pl.col(f"action_{agent}").alias("action"),
                    )
                    for agent in self.agent_ids
                ]
            )
            self._insert_frame("ae_attribution", attribution)
            staged = staged.drop([c for c in staged.columns if c.startswith(("attribution_", "action_"))])
        self._insert_frame(table, staged)

    def _insert_excluded(self, source: str, frame: pl.DataFrame) -> None:
        """Records that could not be placed: kept as given, with their reasons, never counted."""
        if frame.is_empty():
            return
        record_columns = [c for c in frame.columns if c not in ("_row", "reasons")]
        rows = frame.select(
            pl.lit(source).alias("source"),
            pl.col("_row").alias("source_row"),
            pl.col("subject_id") if "subject_id" in frame.columns else pl.lit(None, dtype=pl.String).alias("subject_id"),
            pl.struct(record_columns).struct.json_encode().alias("record_json"),
            pl.col("reasons"),
        )
        self._insert_frame("quarantine", rows)

    def _insert_frame(self, table: str, frame: pl.DataFrame) -> None:
        """Insert a frame's columns by name, every row tagged with the load (a bound parameter)."""
        self.connection.register("incoming", frame)
        try:
            self.connection.execute(
                f"INSERT INTO {_identifier(table)} BY NAME SELECT $load_id AS load_id, * FROM incoming",
                {"load_id": self.load_id},
            )
        finally:
            self.connection.unregister("incoming")


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    """Connect to the store file, or raise ``InputError`` saying why it cannot be used.

    DuckDB lets one process at a time write a file; a second one gets a lock error naming the
    holder's PID. It also opens a CSV file as an in-memory view and silently keeps no writes,
    so a file that is not a DuckDB database is refused before connecting.
    """
    fix_path = "point `trial.database` in the trial config at a DuckDB file (toxwatch creates it if it does not exist)"
    if path.is_dir():
        raise InputError(path, None, "is a folder, not a DuckDB database file", fix_path)
    if path.is_file() and not _is_duckdb_file(path):
        raise InputError(path, None, "is not a DuckDB database file", fix_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(path, None, f"cannot create the store's folder ({error.strerror})", fix_path) from None
    wait_seconds = float(os.environ.get(LOCK_WAIT_VARIABLE, LOCK_WAIT_SECONDS))
    waited_since = None
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as error:
            message = str(error)
            if "lock" not in message.lower():
                raise _open_error(path, message) from None
            now = time.monotonic()
            if waited_since is None:
                waited_since = now
                holder = re.search(r"\(PID (\d+)\)", message)
                notes.warning(
                    "waiting for the store %s: another process%s has it open (at most %g s)",
                    path, f" (PID {holder.group(1)})" if holder else "", wait_seconds,
                )
            if now - waited_since >= wait_seconds:
                raise _open_error(path, message, waited=wait_seconds) from None
            time.sleep(0.2)


def _is_duckdb_file(path: Path) -> bool:
    """DuckDB's storage header: an 8-byte checksum, then the magic bytes ``DUCK``."""
    with path.open("rb") as file:
        return file.read(12)[8:12] == b"DUCK"


def _open_error(path: Path, duckdb_message: str, waited: float = 0) -> InputError:
    if "lock" not in duckdb_message.lower():
        return InputError(
            path,
            None,
            f"DuckDB cannot open the store ({duckdb_message})",
            "check that the file is a DuckDB database toxwatch may read and write, or point `trial.database` in the trial config at another file",
        )
    holder = re.search(r"\(PID (\d+)\)", duckdb_message)
    after = f" (waited {waited:g} s)" if waited else ""
    if holder is None:
        return InputError(
            path,
            None,
            f"the store is locked by another process, most likely another toxwatch run on this trial{after}",
            "wait for that run to finish, or stop it, then run again",
        )
    pid = holder.group(1)
    return InputError(
        path,
        None,
        f"the store is locked by another process (PID {pid}), most likely another toxwatch run on this trial{after}",
        f"wait for that run to finish, or stop process {pid}, then run again",
    )


def _select(connection: duckdb.DuckDBPyConnection, sql: str, parameters: dict | None = None) -> pl.DataFrame:
    """Run a SELECT with bound parameters into a Polars frame."""
    return connection.sql(sql, params=parameters).pl()


def _cut_from_row(row: tuple) -> Cut:
    cut_id, load_id, trial_id, cut_date, created_at = row
    return Cut(cut_id, load_id, trial_id, cut_date, created_at)


def _load_from_row(row: tuple) -> Load:
    (
        load_id, trial_id, identity_sha256, config_sha256, inputs_json, dictionary, dictionary_sha256,
        version, toolkit, run_date, first_date_after_run, latest_date, first_enrolment, accounting_json,
        ignored_json, created_at,
    ) = row
    return Load(
        load_id=load_id,
        trial_id=trial_id,
        identity_sha256=identity_sha256,
        config_sha256=config_sha256,
        inputs=json.loads(inputs_json),
        dictionary=dictionary,
        dictionary_sha256=dictionary_sha256,
        toolkit_version=version,
        toolkit_sha256=toolkit,
        run_date=run_date,
        first_date_after_run=first_date_after_run,
        latest_date=latest_date,
        first_enrolment=first_enrolment,
        accounting=json.loads(accounting_json),
        ignored_columns=json.loads(ignored_json),
        created_at=created_at,
    )


def _used(sql: str, parameters: dict[str, object]) -> dict[str, object]:
    """Only the parameters a statement names: DuckDB rejects unused named parameters."""
    names = set(PARAMETER.findall(sql))
    missing = names - parameters.keys()
    if missing:
        raise KeyError(f"SQL needs parameters {sorted(missing)}")
    return {name: parameters[name] for name in names}


def _identifier(name: str) -> str:
    """Table names come from this module's constants; refuse anything else."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a model or table name: {name!r}")
    return name
