"""The safety review as plain stages, usable without Prefect; ``flows.safety_review`` orchestrates them.

Each stage takes and returns small references (paths, ids, counts), and reads or writes the
DuckDB file and the output folder itself.

A cut's output folder is never written in place: ``ingest`` opens a partial folder beside the
final one, the stages write into it (``LoadedCut.out_dir``), ``write_manifest`` writes
manifest.json last, and ``publish`` renames the folder into place; ``discard`` removes it when
a stage fails. Folders left by a killed run are cleared by the next run (docs/outputs.md).
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from ctcae.terms import CtcaeDictionary, load_dictionary
from safetydb.diff import diff_cuts
from safetydb.export import (
    BY_ARM_FOLDER, TOTAL_ARM, arm_comparison_tables, table_frames, tables_by_arm, write_csv, write_frames, write_tables,
)
from safetydb.identity import LoadIdentity, load_identity, toolkit_version
from safetydb.lab_grades import derive_vital_grades, first_dose_dates, grade_labs, lab_baselines
from safetydb.models import build_cut_models, reconciliation_findings
from safetydb.store import Load, SafetyStore, latest_date
from signals.bryant_day import evaluate_bryant_day, write_bryant_day
from signals.expedited import evaluate_expedited
from signals.flags import assemble_flags, evaluate_rules_with_exclusions, exclusion_summary, source_shrinkage, stopping_status
from trial.config import TrialConfig, load_trial_config
from trial.errors import InputError
from validators.read import ROW
from validators.validate import QUERY_SCHEMA, SourceResult, ValidationResult, iter_validated_sources, reconciliation_queries, validate_trial

notes = logging.getLogger("toxwatch")
progress_log = logging.getLogger("toxwatch.progress")
progress_log.propagate = False  # drawn by the CLI on a terminal, never printed as a note
# Beside OUT/<trial-id>/<cut-date>/: a run's unfinished folder, and a complete folder it moved
# aside to replace, each named with the cut, the process id and a random token.
UNPUBLISHED = re.compile(r"^\.(?P<cut>.+)\.(?P<kind>partial|replaced)-(?P<pid>\d+)-[0-9a-f]+$")


@dataclass
class LoadedCut:
    """What the ingest stage hands on: the trial config (read once per run), the load and the
    cut, where its outputs go, and what the stored load says of the inputs."""

    config: TrialConfig
    config_path: str
    config_sha256: str
    trial_id: str
    database_path: str
    load_id: str
    cut_id: str
    cut_date: str
    out_dir: str  # where the stages write: this run's partial folder, beside final_dir
    final_dir: str  # OUT/<trial-id>/<cut-date>: where publish puts the folder once complete
    loaded_now: bool  # this run read the sources; False when the stored load of the same inputs was used
    dictionary: str
    accounting: dict[str, dict[str, int]]
    inputs: dict[str, dict[str, str]]
    queries: int
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    # subject_id -> site_id as in the subjects file, for the query report (a validation-only run).
    subject_sites: dict[str, str | None] = field(default_factory=dict)


def check_cut_after_first_enrolment(config: TrialConfig, first_enrolment: date | None, cut_date: date) -> None:
    """A cut before anyone was enrolled has no safety population: refuse it rather than report N = 0."""
    if first_enrolment is not None and cut_date < first_enrolment:
        first = first_enrolment.isoformat()
        raise InputError(
            config.path, "--cut", f"the cut {cut_date.isoformat()} is before the first enrolment ({first})",
            f"give a cut on or after {first}, or leave --cut out to cut at the latest date in the data",
        )


def ingest(
    config_path: Path | str,
    *,
    cut_date: date | None = None,
    out_root: Path | None = None,
    database: Path | None = None,
    store: bool = True,
    run_date: date | None = None,
) -> LoadedCut:
    """Load the sources (unless the store already holds a load of the same inputs), apply the
    cut date, and open the cut's partial output folder. With ``store`` False, only validate:
    queries.csv is written into the folder at once.

    The cut date is ``cut_date``, or the latest date in the data up to the day of the run: a
    fixed data set always gives the same cut, and a mistyped future date (queried) never moves it.
    """
    started = time.perf_counter()
    run_date = run_date or date.today()
    config = load_trial_config(config_path)
    dictionary = load_dictionary(config.model.trial.ctcae_version)
    if not store:
        return _validate_only(config, dictionary, cut_date=cut_date, out_root=out_root, run_date=run_date, started=started)
    identity = load_identity(config, dictionary)
    database = Path(database or config.database_path)
    with SafetyStore(database) as safety_store:
        load = safety_store.find_load(identity, run_date)
        if load is None:
            load = load_sources(safety_store, config, dictionary, identity, run_date)
        loaded = time.perf_counter()
        cut_date = cut_date or load.latest_date or run_date
        check_cut_after_first_enrolment(config, load.first_enrolment, cut_date)
        cut = safety_store.cut(load, cut_date)
        queries = safety_store.connection.execute(
            "SELECT COUNT(*) FROM load_queries WHERE load_id = $load_id", {"load_id": load.load_id}
        ).fetchone()[0]
    out_dir, final_dir = open_output_folder(config, out_root, cut_date.isoformat())
    return LoadedCut(
        config=config,
        config_path=str(config.path),
        config_sha256=load.config_sha256,
        trial_id=config.id,
        database_path=str(database.resolve()),
        load_id=load.load_id,
        cut_id=cut.cut_id,
        cut_date=cut_date.isoformat(),
        out_dir=str(out_dir),
        final_dir=str(final_dir),
        loaded_now=load.loaded_now,
        dictionary=load.dictionary,
        accounting=load.accounting,
        inputs=load.inputs,
        queries=queries,
        ignored_columns=load.ignored_columns,
        timings={"load_s": round(loaded - started, 3)},
    )


# A source file larger than this is read, validated and stored in pieces of about this size
# (validators/validate.py iter_validated_sources), so that memory holds one piece, not the file.
PIECE_BYTES = 32 * 1024 * 1024


def load_sources(
    safety_store: SafetyStore, config: TrialConfig, dictionary: CtcaeDictionary, identity: LoadIdentity, run_date: date
) -> Load:
    """Validate the sources, grade labs and vital signs, and store them as one load, a source (or
    a piece of a large one) at a time.

    A lab result is graded against its subject's baseline, which may sit in any piece of the
    file: lab pieces, validated but not yet graded, wait in scratch Parquet files beside the store
    while the baselines of every piece are gathered (``lab_baselines``), then graded and stored
    one piece at a time.
    """
    version = config.model.trial.ctcae_version
    checksums = {name: given["sha256"] for name, given in identity.inputs.items()}
    progress = LoadProgress(config)
    pieces = iter_validated_sources(config, dictionary, run_date=run_date, piece_bytes=PIECE_BYTES, checksums=checksums)
    with (
        safety_store.new_load(identity, run_date=run_date, agent_ids=config.agent_ids) as writer,
        tempfile.TemporaryDirectory(prefix=".toxwatch-load-", dir=safety_store.path.parent) as scratch,
    ):
        first_doses: list[pl.DataFrame] = []
        first_dose: pl.DataFrame | None = None
        baselines: list[pl.DataFrame] = []
        lab_pieces: list[Path] = []
        for name, result in pieces:
            records = result.records
            if name == "exposure":
                first_doses.append(first_dose_dates(records))
            elif name == "labs":
                if first_dose is None and first_doses:
                    first_dose = pl.concat(first_doses).group_by("subject_id").agg(pl.col("_first_dose").min())
                baselines.append(lab_baselines(records, first_dose))
                lab_pieces.append(Path(scratch) / f"labs-{len(lab_pieces)}.parquet")
                records.write_parquet(lab_pieces[-1])
                records = None
            elif name == "vitals":
                records = derive_vital_grades(records, version=version)
            writer.add_source(
                name,
                records=records,
                excluded=result.excluded,
                queries=result.queries,
                accounting=result.accounting,
                ignored_columns=result.ignored_columns,
            )
            del result, records
            progress.piece_done(name)
        progress.sources_read(len(lab_pieces))
        baseline = lab_baselines(pl.concat(baselines), first_dose) if baselines else None
        for path in lab_pieces:
            writer.add_records("labs", grade_labs(pl.read_parquet(path), first_dose, baseline, version=version))
            progress.graded()
    assert writer.load is not None
    return writer.load


class LoadProgress:
    """How far a load is, told to the "toxwatch.progress" logger after each piece (the CLI draws
    it as a bar on a terminal, flows/cli.py): work is counted in source bytes, each lab piece
    counted twice (validated, then graded)."""

    def __init__(self, config: TrialConfig) -> None:
        self.sizes = {
            name: path.stat().st_size
            for name in type(config.model.sources).model_fields
            if (path := config.source_path(name)) is not None and path.is_file()
        }
        self.lab_bytes = self.sizes.get("labs", 0)
        self.total = sum(self.sizes.values()) + self.lab_bytes
        self.done: dict[str, int] = {}
        self.last: str | None = None
        self.lab_pieces = 0
        self.graded_pieces = 0

    def piece_done(self, name: str) -> None:
        """A piece of ``name`` is stored (a source read whole is one piece)."""
        if self.last is not None and self.last != name:
            self.done[self.last] = self.sizes.get(self.last, 0)
        self.last = name
        self.done[name] = min(self.sizes.get(name, 0), self.done.get(name, 0) + PIECE_BYTES)
        self._tell(f"reading {name}")

    def sources_read(self, lab_pieces: int) -> None:
        self.done = dict(self.sizes)
        self.lab_pieces = lab_pieces
        self._tell("grading labs")

    def graded(self) -> None:
        self.graded_pieces += 1
        self._tell("grading labs")

    def _tell(self, step: str) -> None:
        graded = self.lab_bytes * self.graded_pieces // self.lab_pieces if self.lab_pieces else 0
        done = sum(self.done.values()) + graded
        progress_log.info(step, extra={"done": done, "total": self.total})


def _validate_only(
    config: TrialConfig, dictionary: CtcaeDictionary, *, cut_date: date | None, out_root: Path | None, run_date: date, started: float
) -> LoadedCut:
    """Validate the sources without storing them; the folder is OUT/<trial-id>/<cut-date>-validation."""
    validation = validate_trial(config, dictionary, run_date=run_date)
    validated = time.perf_counter()
    subjects = validation.sources.get("subjects")
    first_enrolment = subjects.records["enrolment_date"].min() if subjects is not None and subjects.records.height else None
    cut_date = cut_date or default_cut_date(validation, run_date=run_date)
    check_cut_after_first_enrolment(config, first_enrolment, cut_date)
    out_dir, final_dir = open_output_folder(config, out_root, f"{cut_date.isoformat()}-validation")
    try:
        write_csv(validation.queries, out_dir / "queries.csv")
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return LoadedCut(
        config=config,
        config_path=str(config.path),
        config_sha256=config.sha256,
        trial_id=config.id,
        database_path="",
        load_id="",
        cut_id="",
        cut_date=cut_date.isoformat(),
        out_dir=str(out_dir),
        final_dir=str(final_dir),
        loaded_now=False,
        dictionary=dictionary.description,
        accounting={name: result.accounting for name, result in validation.sources.items()},
        inputs={name: {"file": result.path.name, "sha256": result.sha256} for name, result in validation.sources.items()},
        queries=validation.queries.height,
        ignored_columns={name: list(result.ignored_columns) for name, result in validation.sources.items()},
        timings={"validate_s": round(validated - started, 3)},
        subject_sites=_subject_sites(subjects),
    )


def _subject_sites(subjects: SourceResult | None) -> dict[str, str | None]:
    """Every subject of the subjects file with its site, counted or excluded; a subject listed
    twice takes its first line's site."""
    if subjects is None:
        return {}
    lines = [frame.select(ROW, "subject_id", "site_id") for frame in (subjects.records, subjects.excluded) if "site_id" in frame.columns]
    if not lines:
        return {}
    listed = pl.concat(lines, how="vertical_relaxed").sort(ROW).filter(pl.col("subject_id").is_not_null())
    return dict(listed.unique("subject_id", keep="first", maintain_order=True).select("subject_id", "site_id").iter_rows())


def default_cut_date(validation: ValidationResult, *, run_date: date) -> date:
    """The latest date in the validated data up to the day of the run (the run date when none)."""
    latest = [latest_date(result.records, run_date) for result in validation.sources.values()]
    return max((value for value in latest if value is not None), default=run_date)


def open_output_folder(config: TrialConfig, out_root: Path | None, folder_name: str) -> tuple[Path, Path]:
    """This run's partial folder and its final folder, OUT/<trial-id>/<folder_name> (the cut date,
    or <cut-date>-validation for a validation-only run).

    The partial folder is a hidden sibling of the final one (same file system, so publishing is
    a rename). What killed runs left beside it is cleared first.
    """
    final_dir = (out_root or config.output_root) / config.id / folder_name
    try:
        final_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _output_root_error(config, out_root, final_dir.parent, error) from None
    clear_unpublished(final_dir.parent)
    partial = final_dir.parent / f".{final_dir.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    partial.mkdir()
    return partial, final_dir


def _output_root_error(config: TrialConfig, out_root: Path | None, folder: Path, error: OSError) -> InputError:
    blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    problem = f"{blocking} is a file, not a folder" if blocking else f"cannot create {folder} ({error.strerror})"
    if out_root is None:
        return InputError(config.path, "trial.output_dir", problem, "set output_dir to a folder toxwatch may write (it is created if missing)")
    if blocking == out_root:
        problem = "is a file, not a folder"
    return InputError(out_root, "--out", problem, "give --out a folder toxwatch may write (it is created if missing)")


def clear_unpublished(trial_folder: Path) -> None:
    """Clear what killed runs left in OUT/<trial-id>/, with a one-line note each.

    An unfinished (partial) folder is removed. A complete folder that a run moved aside to
    replace is put back if nothing took its place (the run was killed between its two
    renames), else removed. Folders of a process still running on this machine are left alone.
    """
    for entry in sorted(trial_folder.iterdir()):
        found = UNPUBLISHED.match(entry.name)
        if found is None or _process_running(int(found["pid"])):
            continue
        final_dir = trial_folder / found["cut"]
        if found["kind"] == "replaced" and not final_dir.exists() and (entry / "manifest.json").is_file():
            try:
                entry.rename(final_dir)
            except OSError:
                pass  # another run published the cut meanwhile: this old folder is removed below
            else:
                notes.warning("put back %s: a killed run (process %s) had moved it aside to replace it", final_dir, found["pid"])
                continue
        _remove(entry)
        notes.warning("removed %s: left by a killed run (process %s)", entry, found["pid"])


def _process_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # no harmless liveness probe: leave the folder, its name marks it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def analyse(loaded: LoadedCut) -> dict[str, object]:
    """Build the SQL models of the cut, export the tables, evaluate the stopping rules (flags.json)."""
    started = time.perf_counter()
    config = loaded.config
    out_dir = Path(loaded.out_dir)
    cut_date = date.fromisoformat(loaded.cut_date)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, config, loaded.cut_id, cut_date)
        tables = write_tables(store, out_dir / "tables", config=config)
        built = time.perf_counter()
        results, worst, excluded = evaluate_rules_with_exclusions(store, config, loaded.cut_id)
        write_bryant_day(evaluate_bryant_day(store, config, tables["efficacy_subjects"], cut_date=cut_date), out_dir / "tables")
        reports = evaluate_expedited(store, config, cut_date)
        reports.write_parquet(out_dir / "tables" / "expedited_reports.parquet")
        write_csv(reports, out_dir / "tables" / "expedited_reports.csv")
        reconciliation = reconciliation_findings(store)
        validation_queries = store.load_queries(loaded.load_id)
        cut = store.get_cut(loaded.cut_id)
        store.record_flags(cut, [r.to_dict() for r in results])
        history = {r.rule_id: _json_history(store.flag_history(config.id, r.rule_id).to_dicts()) for r in results}
        previous = store.previous_cut(cut)
        changes = diff_cuts(store, previous, cut) if previous is not None else None
        # Last, since it rebuilds the cut's models arm by arm.
        by_arm = analyse_by_arm(store, config, loaded.cut_id, cut_date, tables, out_dir / "tables" / BY_ARM_FOLDER)
    flags = assemble_flags(
        trial_id=config.id,
        cut_id=loaded.cut_id,
        cut_date=cut_date,
        results=results,
        worst=worst,
        excluded=excluded,
        reports=reports,
        history=history,
        data_quality=source_shrinkage(
            changes.sources if changes else None,
            ratio=config.model.data_quality.source_shrink_ratio,
            previous_cut=previous.cut_date.isoformat() if previous else None,
        ),
    )
    if by_arm is not None:
        flags["by_arm"] = by_arm
    (out_dir / "flags.json").write_text(json.dumps(flags, indent=2, default=str), encoding="utf-8")
    # What changed since the trial's previous cut in the store; no previous cut: nothing to compare.
    changed = changes.to_dict() if changes else {"from": None, "to": {"cut_id": loaded.cut_id, "cut_date": loaded.cut_date}}
    (out_dir / "changes.json").write_text(json.dumps(changed, indent=2, default=str), encoding="utf-8")
    reconciled = write_queries(out_dir / "queries.csv", validation_queries, reconciliation)
    finished = time.perf_counter()
    return {
        "tables": sorted(tables),
        "stopping": flags["stopping"]["status"],
        "reporting": flags["reporting"]["status"],
        "reconciliation_queries": reconciled,
        "timings": {"tables_s": round(built - started, 3), "signals_s": round(finished - built, 3)},
    }


def analyse_by_arm(
    store: SafetyStore, config: TrialConfig, cut_id: str, cut_date: date, pooled: dict[str, pl.DataFrame], folder: Path
) -> list[dict] | None:
    """With two or more ``[[arms]]``: every table and stopping rule again for each arm's subjects.
    The tables go to ``folder`` (tables/by_arm/), each row led by its arm, the arms pooled last;
    the rules' status per arm is returned for flags.json. None for a trial of one arm."""
    if len(config.arms) < 2:
        return None
    per_arm, rules = [], []
    for arm in config.arms:
        build_cut_models(store, config, cut_id, cut_date, arm)
        per_arm.append((arm.id, arm.shown, table_frames(store, config=config)))
        results, worst, excluded = evaluate_rules_with_exclusions(store, config, cut_id, arm_only=True)
        rules.append(
            {
                "arm_id": arm.id, "arm": arm.shown, "stopping": stopping_status(results),
                "excluded_records": exclusion_summary(excluded, worst), "rules": [r.to_dict() for r in results],
            }
        )
    per_arm.append((*TOTAL_ARM, pooled))
    tables = tables_by_arm(per_arm)
    write_frames(tables | arm_comparison_tables(tables, config), folder)
    return rules


def _json_history(rows: list[dict]) -> list[dict]:
    return [{key: (value.isoformat() if isinstance(value, date) else value) for key, value in row.items()} for row in rows]


def write_queries(path: Path, validation_queries: pl.DataFrame, findings: pl.DataFrame) -> int:
    """queries.csv of the cut: the load's validation queries, then the cut's cross-source
    reconciliation findings; returns how many of the latter."""
    write_csv(pl.concat([validation_queries.cast(QUERY_SCHEMA), reconciliation_queries(findings)]), path)
    return findings.height


def render(loaded: LoadedCut) -> list[str]:
    """Render the reports of the cut from its output folder."""
    from reports.render import render_reports

    summary = {name: value for name, value in asdict(loaded).items() if name != "config"}
    return [str(path) for path in render_reports(Path(loaded.out_dir), loaded_cut=summary, config=loaded.config)]


def render_pdf(loaded: LoadedCut) -> dict:
    """dsmb_report.pdf from the rendered dsmb_report.html, on the trial's paper ([report] paper),
    and dsmb_report_closed.pdf from the closed report when there is one.
    Returns the manifest's record of it: written, or not and why (WeasyPrint could not load:
    the warning names what to install, and the HTML report stands)."""
    from reports.pdf import CLOSED_PDF_NAME, write_pdf

    out_dir, paper = Path(loaded.out_dir), loaded.config.model.report.paper
    outcome = write_pdf(out_dir / "dsmb_report.html", paper=paper)
    entry = outcome.manifest_entry()
    closed = out_dir / "dsmb_report_closed.html"
    if outcome.written and closed.is_file():
        # The closed report on the same paper: the committee's closed session reads it printed too.
        write_pdf(closed, paper=paper, pdf_path=out_dir / CLOSED_PDF_NAME)
        entry["closed_file"] = CLOSED_PDF_NAME
    return entry


def write_manifest(
    loaded: LoadedCut,
    *,
    reports: Sequence[str] = (),
    pdf: dict | None = None,
    timings: dict[str, float] | None = None,
    reconciliation_queries: int = 0,
) -> Path:
    """Write manifest.json last: it names every other file of the folder with its sha256, so a
    folder with a manifest is complete and can be checked."""
    out_dir = Path(loaded.out_dir)
    identifiers = set(loaded.config.model.privacy.identifier_columns)
    manifest = {
        "toolkit": "toxwatch",
        "toolkit_version": toolkit_version(),
        "trial_id": loaded.trial_id,
        "cut_id": loaded.cut_id,
        "cut_date": loaded.cut_date,
        "load": {"load_id": loaded.load_id, "read_in_this_run": loaded.loaded_now},
        "config": {"file": Path(loaded.config_path).name, "sha256": loaded.config_sha256},
        "ctcae_dictionary": loaded.dictionary,
        "inputs": loaded.inputs,
        "row_accounting": loaded.accounting,
        # File columns outside the contract are never read or stored; those the config declares
        # as identifiers ([privacy] identifier_columns) are named apart.
        "identifier_columns_dropped": {
            name: [column for column in columns if column in identifiers]
            for name, columns in loaded.ignored_columns.items()
            if any(column in identifiers for column in columns)
        },
        "columns_not_read": {
            name: [column for column in columns if column not in identifiers]
            for name, columns in loaded.ignored_columns.items()
            if any(column not in identifiers for column in columns)
        },
        "queries": {"validation": loaded.queries, "reconciliation": reconciliation_queries},
        "reports": [Path(p).name for p in reports],
        # The PDF of the DSMB report, where the run makes one: written, or not and why.
        **({"pdf": pdf} if pdf is not None else {}),
        "timings_s": loaded.timings | (timings or {}),
    }
    return write_folder_manifest(out_dir, manifest)


def write_folder_manifest(out_dir: Path, facts: dict) -> Path:
    """manifest.json of a folder: ``facts``, then ``files``, every other file of the folder with
    its sha256. Written last: a folder with a manifest is complete and can be checked."""
    files = {
        path.relative_to(out_dir).as_posix(): _sha256(path)
        for path in sorted(out_dir.rglob("*"))
        if path.is_file() and path != out_dir / "manifest.json"
    }
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(facts | {"files": files}, indent=2), encoding="utf-8")
    return path


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def publish(loaded: LoadedCut) -> Path:
    """Rename the cut's complete folder into its final place and return that place."""
    return publish_folder(Path(loaded.out_dir), Path(loaded.final_dir))


def publish_folder(partial: Path, final_dir: Path) -> Path:
    """Rename a complete partial folder (one with its manifest.json) into its final place.

    A folder already there (an earlier run of the cut) is renamed aside first and removed
    after: a reader sees the old folder, for an instant none, then the new one; never a mix.
    """
    if not (partial / "manifest.json").is_file():
        raise RuntimeError(f"{partial}: only a folder with its manifest.json is published")
    set_aside: list[Path] = []
    for _attempt in range(10):
        replaced = set_aside_published(final_dir)
        if replaced is not None:
            set_aside.append(replaced)
        try:
            partial.rename(final_dir)
            break
        except OSError as error:
            # Another run published this cut between our two renames: set theirs aside too.
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                if set_aside and not final_dir.exists():
                    set_aside.pop().rename(final_dir)  # the published folder goes back, whole
                raise
    else:
        raise OSError(errno.EEXIST, "other runs keep publishing this cut", str(final_dir))
    for replaced in set_aside:
        _remove(replaced)
    return final_dir


def set_aside_published(final_dir: Path) -> Path | None:
    """Rename a published folder to a hidden sibling; None when there is none."""
    replaced = final_dir.parent / f".{final_dir.name}.replaced-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        final_dir.rename(replaced)
    except FileNotFoundError:
        return None
    return replaced


def discard(loaded: LoadedCut) -> None:
    """Remove this run's unpublished folder (a stage failed); the published one is untouched."""
    if Path(loaded.out_dir) != Path(loaded.final_dir):
        shutil.rmtree(loaded.out_dir, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
