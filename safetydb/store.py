"""The DuckDB store: data cuts, the rows loaded for each, and the SQL models built on a cut.

A data cut is identified by the trial, the cut date, the config hash and the input hashes, so
loading the same inputs twice changes nothing, and a past cut can be re-reported identically.
Models are the SELECT statements in ``safetydb/sql/``, run in dependency order into temporary
tables with bound parameters; no SQL is built from values.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from importlib import metadata
from pathlib import Path

import duckdb
import polars as pl

from trial.errors import InputError
from validators.checks import field_consequence
from validators.contract import source_columns
from validators.readings import FILLED_BY_READINGS
from validators.schemas import SCHEMAS

SQL_DIR = Path(__file__).with_name("sql")
STAGING_MODELS = ("stg_subjects", "stg_exposure", "stg_adverse_events", "stg_ae_attribution", "stg_labs")
DERIVED_MODELS = (
    "int_subject_dosing",
    "int_subject_cycles",
    "int_ae_cycles",
    "int_adverse_events",
    "int_ae_aesi",
    "int_time_to_toxicity",
    "int_serious_events",
    "int_graded_values",
)
TABLE_MODELS = (
    "t_overview",
    "t_soc_term",
    "t_acute_late",
    "t_by_cycle",
    "t_attribution",
    "t_aesi",
    "t_exposure",
    "t_lab_shift",
    "t_sae_listing",
    "t_deaths",
)
# Reconciliation models: cross-source checks run after the derived models, each returning rows
# in the shape of RECONCILIATION_COLUMNS; they become queries in queries.csv.
RECONCILIATION_MODELS: tuple[str, ...] = (
    "q_death_without_fatal_ae",
    "q_fatal_ae_without_death",
    "q_fatal_ae_other_death_cause",
    "q_ae_action_without_exposure_change",
    "q_exposure_change_without_ae_action",
    "q_value_without_ae",
    "q_ae_grade_below_value",
)
RECONCILIATION_COLUMNS = ("source", "record_key", "subject_id", "field", "value", "check", "problem", "fix")
PARAMETER = re.compile(r"\$([a-z_]+)")
SCHEMA_VERSION = 2  # the table layout (sql/schema.sql and source_table_ddl); a store with another layout is refused

# The source tables are not written out in sql/schema.sql: each holds the source's own columns as
# its Pandera model declares them (validators/contract.py), plus the store's: the cut, the source
# row, and what validation and grading derive (below). Adverse events' per-agent columns go to
# ae_attribution (sql/schema.sql).
SOURCE_TABLES = tuple(SCHEMAS)
SQL_TYPES = {"text": "VARCHAR", "date": "DATE", "whole number": "INTEGER", "number": "DOUBLE"}
DERIVED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "subjects": (),
    "exposure": (),
    # validators/validate.py: the term's SOC and "Other, specify" flag; validators/readings.py: the grade as reported
    "adverse_events": (("meddra_soc", "VARCHAR NOT NULL"), ("other_specify_term", "BOOLEAN"), ("grade_reported", "INTEGER")),
    # safetydb/lab_grades.py: the baseline and the CTCAE grade
    "labs": (
        ("baseline", "DOUBLE"), ("is_baseline", "BOOLEAN"),
        ("toxicity_term", "VARCHAR"), ("toxicity_grade", "INTEGER"), ("gradable", "BOOLEAN"),
    ),
    "vitals": (("toxicity_term", "VARCHAR"), ("toxicity_grade", "INTEGER"), ("gradable", "BOOLEAN")),
}


def source_table_ddl(source: str) -> str:
    """CREATE TABLE of one source table, from the source's Pandera model.

    A column is NOT NULL when a counted record cannot miss it: a missing value excludes the record
    (validators/checks.py) or a conservative reading fills it (validators/readings.py). A column
    the model declares unique is the table's key within a cut.
    """
    columns = [("cut_id", "VARCHAR NOT NULL")]
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
        lines.append(f"PRIMARY KEY (cut_id, {', '.join(key)})")
    return f"CREATE TABLE IF NOT EXISTS {_identifier(source)} (\n    " + ",\n    ".join(lines) + "\n)"



def toolkit_version() -> str:
    try:
        return metadata.version("toxwatch")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Cut:
    cut_id: str
    trial_id: str
    cut_date: date
    config_sha256: str
    inputs_sha256: str
    dictionary: str
    created_at: datetime
    loaded_now: bool  # False when the identical cut was already in the store


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

    def as_dict(self) -> dict[str, object]:
        return {
            "cut_id": self.cut_id,
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
        self._check_schema_version()
        self.connection.execute(read_model("schema"))
        for table in SOURCE_TABLES:
            self.connection.execute(source_table_ddl(table))
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

    # ---- loading -------------------------------------------------------------------------
    def load_cut(
        self,
        *,
        trial_id: str,
        cut_date: date,
        config_sha256: str,
        input_sha256s: dict[str, str],
        dictionary: str,
        records: dict[str, pl.DataFrame],
        excluded: dict[str, pl.DataFrame],
        agent_ids: list[str],
    ) -> Cut:
        """Record a data cut and its rows; an identical cut already stored is left as it is."""
        inputs_sha256 = hashlib.sha256(
            json.dumps(sorted(input_sha256s.items())).encode()
        ).hexdigest()
        identity = json.dumps([trial_id, cut_date.isoformat(), config_sha256, inputs_sha256])
        cut_id = hashlib.sha256(identity.encode()).hexdigest()[:16]
        existing = self.connection.execute(
            "SELECT created_at FROM cuts WHERE cut_id = $cut_id", {"cut_id": cut_id}
        ).fetchall()
        if existing:
            return Cut(cut_id, trial_id, cut_date, config_sha256, inputs_sha256, dictionary, existing[0][0], False)

        created_at = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        self.connection.execute("BEGIN TRANSACTION")
        try:
            self.connection.execute(
                "INSERT INTO cuts VALUES ($cut_id, $trial_id, $cut_date, $config, $inputs, $dictionary, $version, $created)",
                {
                    "cut_id": cut_id,
                    "trial_id": trial_id,
                    "cut_date": cut_date,
                    "config": config_sha256,
                    "inputs": inputs_sha256,
                    "dictionary": dictionary,
                    "version": toolkit_version(),
                    "created": created_at,
                },
            )
            for table, frame in records.items():
                self._insert_records(table, frame, cut_id, agent_ids)
            for source, frame in excluded.items():
                self._insert_excluded(source, frame, cut_id)
            self.connection.execute("COMMIT")
        except Exception:
            self.connection.execute("ROLLBACK")
            raise
        return Cut(cut_id, trial_id, cut_date, config_sha256, inputs_sha256, dictionary, created_at, True)

    def _insert_records(self, table: str, frame: pl.DataFrame, cut_id: str, agent_ids: list[str]) -> None:
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
                    for agent in agent_ids
                ]
            )
            self._insert_frame("ae_attribution", attribution, cut_id)
            staged = staged.drop([c for c in staged.columns if c.startswith(("attribution_", "action_"))])
        self._insert_frame(table, staged, cut_id)

    def _insert_excluded(self, source: str, frame: pl.DataFrame, cut_id: str) -> None:
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
        self._insert_frame("quarantine", rows, cut_id)

    def _insert_frame(self, table: str, frame: pl.DataFrame, cut_id: str) -> None:
        """Insert a frame's columns by name, every row tagged with the cut (a bound parameter)."""
        self.connection.register("incoming", frame)
        try:
            self.connection.execute(
                f"INSERT INTO {_identifier(table)} BY NAME SELECT $cut_id AS cut_id, * FROM incoming",
                {"cut_id": cut_id},
            )
        finally:
            self.connection.unregister("incoming")

    # ---- reading cuts --------------------------------------------------------------------
    def latest_cut(self, trial_id: str) -> Cut | None:
        row = self.connection.execute(
            "SELECT * FROM cuts WHERE trial_id = $trial_id ORDER BY cut_date DESC, created_at DESC LIMIT 1",
            {"trial_id": trial_id},
        ).fetchall()
        return _cut_from_row(row[0]) if row else None

    def get_cut(self, cut_id: str) -> Cut:
        rows = self.connection.execute("SELECT * FROM cuts WHERE cut_id = $cut_id", {"cut_id": cut_id}).fetchall()
        if not rows:
            raise KeyError(f"no data cut {cut_id!r} in {self.path}")
        return _cut_from_row(rows[0])

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
            ORDER BY h.cut_date, c.created_at
            """,
            {"trial_id": trial_id, "rule_id": rule_id},
        )


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
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as error:
        raise _open_error(path, str(error)) from None


def _is_duckdb_file(path: Path) -> bool:
    """DuckDB's storage header: an 8-byte checksum, then the magic bytes ``DUCK``."""
    with path.open("rb") as file:
        return file.read(12)[8:12] == b"DUCK"


def _open_error(path: Path, duckdb_message: str) -> InputError:
    if "lock" not in duckdb_message.lower():
        return InputError(
            path,
            None,
            f"DuckDB cannot open the store ({duckdb_message})",
            "check that the file is a DuckDB database toxwatch may read and write, or point `trial.database` in the trial config at another file",
        )
    holder = re.search(r"\(PID (\d+)\)", duckdb_message)
    if holder is None:
        return InputError(
            path,
            None,
            "the store is locked by another process, most likely another toxwatch run on this trial",
            "wait for that run to finish, or stop it, then run again",
        )
    pid = holder.group(1)
    return InputError(
        path,
        None,
        f"the store is locked by another process (PID {pid}), most likely another toxwatch run on this trial",
        f"wait for that run to finish, or stop process {pid}, then run again",
    )


def _select(connection: duckdb.DuckDBPyConnection, sql: str, parameters: dict | None = None) -> pl.DataFrame:
    """Run a SELECT with bound parameters into a Polars frame."""
    return connection.sql(sql, params=parameters).pl()


def _cut_from_row(row: tuple) -> Cut:
    cut_id, trial_id, cut_date, config_sha256, inputs_sha256, dictionary, _version, created_at = row
    return Cut(cut_id, trial_id, cut_date, config_sha256, inputs_sha256, dictionary, created_at, False)


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
