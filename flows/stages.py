"""The safety review as plain stages, usable without Prefect; ``flows.safety_review`` orchestrates them.

Each stage takes and returns small references (paths, ids, counts), and reads or writes the
DuckDB file and the output folder itself.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from ctcae.terms import load_dictionary
from safetydb.export import write_tables
from safetydb.lab_grades import derive_lab_grades, derive_vital_grades
from safetydb.models import build_cut_models, reconciliation_findings
from safetydb.store import SafetyStore, toolkit_version
from signals.expedited import evaluate_expedited
from signals.flags import assemble_flags, evaluate_rules_with_exclusions
from trial.config import TrialConfig, load_trial_config
from validators.validate import QUERY_SCHEMA, ValidationResult, reconciliation_queries, validate_trial


@dataclass
class LoadedCut:
    """What the ingest stage hands on: the trial config (read once per run), the cut, where its
    outputs go, and the row accounting."""

    config: TrialConfig
    config_path: str
    config_sha256: str
    trial_id: str
    database_path: str
    cut_id: str
    cut_date: str
    out_dir: str
    loaded_now: bool
    dictionary: str
    accounting: dict[str, dict[str, int]]
    inputs: dict[str, dict[str, str]]
    queries: int
    timings: dict[str, float] = field(default_factory=dict)


def default_cut_date(validation: ValidationResult) -> date:
    """The latest date present in the clean data: a fixed data set always gives the same cut."""
    latest: list[date] = []
    for result in validation.sources.values():
        date_columns = [name for name, dtype in result.records.schema.items() if dtype == pl.Date]
        if result.records.height and date_columns:
            value = result.records.select(pl.max_horizontal([pl.col(c).max() for c in date_columns])).item()
            if value is not None:
                latest.append(value)
    return max(latest) if latest else date.today()


def ingest(
    config_path: Path | str,
    *,
    cut_date: date | None = None,
    out_root: Path | None = None,
    database: Path | None = None,
    store: bool = True,
) -> LoadedCut:
    """Read, validate and (unless ``store`` is False) store the sources as a data cut; write queries.csv."""
    started = time.perf_counter()
    config = load_trial_config(config_path)
    dictionary = load_dictionary(config.model.trial.ctcae_version)
    validation = validate_trial(config, dictionary)
    validated = time.perf_counter()
    cut_date = cut_date or default_cut_date(validation)
    database = database or config.database_path
    cut_id, loaded_now = "", False
    if store:
        cut_id, loaded_now = _store_cut(database, config, cut_date, dictionary.description, validation)
    stored = time.perf_counter()
    out_dir = (out_root or config.output_root) / config.id / cut_date.isoformat()
    out_dir.mkdir(parents=True, exist_ok=True)
    queries = validation.queries
    queries.write_csv(out_dir / "queries.csv")
    return LoadedCut(
        config=config,
        config_path=str(config.path),
        config_sha256=config.sha256,
        trial_id=config.id,
        database_path=str(Path(database).resolve()) if store else "",
        cut_id=cut_id,
        cut_date=cut_date.isoformat(),
        out_dir=str(out_dir),
        loaded_now=loaded_now,
        dictionary=dictionary.description,
        accounting={name: result.accounting for name, result in validation.sources.items()},
        inputs={
            name: {"file": result.path.name, "sha256": result.sha256}
            for name, result in validation.sources.items()
        },
        queries=queries.height,
        timings={"validate_s": round(validated - started, 3), "store_s": round(stored - validated, 3)},
    )


def _store_cut(database: Path, config: TrialConfig, cut_date: date, dictionary: str, validation: ValidationResult) -> tuple[str, bool]:
    records = {name: result.records for name, result in validation.sources.items()}
    if "labs" in records:
        records["labs"] = derive_lab_grades(records["labs"], records["exposure"], version=config.model.trial.ctcae_version)
    if "vitals" in records:
        records["vitals"] = derive_vital_grades(records["vitals"], version=config.model.trial.ctcae_version)
    with SafetyStore(database) as safety_store:
        cut = safety_store.load_cut(
            trial_id=config.id,
            cut_date=cut_date,
            config_sha256=config.sha256,
            input_sha256s={name: result.sha256 for name, result in validation.sources.items()},
            dictionary=dictionary,
            records=records,
            excluded={name: result.excluded for name, result in validation.sources.items()},
            agent_ids=config.agent_ids,
        )
    return cut.cut_id, cut.loaded_now


def analyse(loaded: LoadedCut) -> dict[str, object]:
    """Build the SQL models of the cut, export the tables, evaluate the stopping rules (flags.json)."""
    started = time.perf_counter()
    config = loaded.config
    out_dir = Path(loaded.out_dir)
    cut_date = date.fromisoformat(loaded.cut_date)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, config, loaded.cut_id, cut_date)
        tables = write_tables(store, out_dir / "tables")
        built = time.perf_counter()
        results, worst, excluded = evaluate_rules_with_exclusions(store, config, loaded.cut_id)
        reports = evaluate_expedited(store, config, cut_date)
        reports.write_parquet(out_dir / "tables" / "expedited_reports.parquet")
        reports.write_csv(out_dir / "tables" / "expedited_reports.csv")
        reconciliation = reconciliation_findings(store)
        store.record_flags(store.get_cut(loaded.cut_id), [r.to_dict() for r in results])
        history = {r.rule_id: _json_history(store.flag_history(config.id, r.rule_id).to_dicts()) for r in results}
    flags = assemble_flags(
        trial_id=config.id,
        cut_id=loaded.cut_id,
        cut_date=cut_date,
        results=results,
        worst=worst,
        excluded=excluded,
        reports=reports,
        history=history,
    )
    (out_dir / "flags.json").write_text(json.dumps(flags, indent=2, default=str), encoding="utf-8")
    reconciled = append_reconciliation_queries(out_dir / "queries.csv", reconciliation)
    finished = time.perf_counter()
    return {
        "tables": sorted(tables),
        "stopping": flags["stopping"]["status"],
        "reporting": flags["reporting"]["status"],
        "reconciliation_queries": reconciled,
        "timings": {"tables_s": round(built - started, 3), "signals_s": round(finished - built, 3)},
    }


def _json_history(rows: list[dict]) -> list[dict]:
    return [{key: (value.isoformat() if isinstance(value, date) else value) for key, value in row.items()} for row in rows]


def append_reconciliation_queries(path: Path, findings: pl.DataFrame) -> int:
    """Add the cross-source reconciliation findings of the cut to its queries.csv."""
    if findings.is_empty():
        return 0
    queries = pl.read_csv(path, schema=dict(QUERY_SCHEMA))
    pl.concat([queries, reconciliation_queries(findings)]).write_csv(path)
    return findings.height


def render(loaded: LoadedCut) -> list[str]:
    """Render the reports of the cut from its output folder."""
    from reports.render import render_reports

    summary = {name: value for name, value in asdict(loaded).items() if name != "config"}
    return [str(path) for path in render_reports(Path(loaded.out_dir), loaded_cut=summary, config=loaded.config)]


def write_manifest(loaded: LoadedCut, *, reports: list[str], timings: dict[str, float], reconciliation_queries: int = 0) -> Path:
    manifest = {
        "toolkit": "toxwatch",
        "toolkit_version": toolkit_version(),
        "trial_id": loaded.trial_id,
        "cut_id": loaded.cut_id,
        "cut_date": loaded.cut_date,
        "config": {"file": Path(loaded.config_path).name, "sha256": loaded.config_sha256},
        "ctcae_dictionary": loaded.dictionary,
        "inputs": loaded.inputs,
        "row_accounting": loaded.accounting,
        "queries": {"validation": loaded.queries, "reconciliation": reconciliation_queries},
        "reports": [Path(p).name for p in reports],
        "timings_s": loaded.timings | timings,
    }
    path = Path(loaded.out_dir) / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path
