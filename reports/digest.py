"""The safety officer's digest: what changed since the previous digest, and what needs action.

A digest is written from a published review folder (``OUT/<trial-id>/<cut-date>/``) and the
store's cut history, as ``digest.html`` (self-contained), ``digest.txt`` (for e-mail) and
``digest.json`` (the facts: trial, cut, since-cut, counts; no subject or AE ids, so it may go
to Prefect as an artifact). In order: the headline statuses; what changed since the cut the
previous digest covered (``safetydb.diff``); expedited reports overdue, due today or due soon;
the stopping rules at STOP, WARN or NOT EVALUABLE with their evidence; records not counted;
data quality. Every number comes from ``flags.json``, ``manifest.json``, ``queries.csv`` or the
diff: this module picks and orders, the templates format, nothing clinical is computed here.

The digest may be e-mailed, so free text follows the open report's rule
(``reports.free_text``): a text the trial config does not allow is printed as a mark.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from reports.free_text import OpenReportText
from reports.render import environment
from safetydb.diff import CutDiff, diff_cuts
from safetydb.store import Cut, SafetyStore
from signals.expedited import DUE_SOON, DUE_TODAY, NOT_COMPUTABLE, OVERDUE
from signals.rules import NOT_EVALUABLE
from trial.config import TrialConfig

DIGEST_FILES = ("digest.html", "digest.txt", "digest.json")
# A list longer than this shows its first rows and says how many more, and where they are:
# the digest is read in two minutes, the review folder and `toxwatch diff` hold every row.
MAX_LISTED = 8
RULE_STATUSES_SHOWN = ("STOP", "WARN", NOT_EVALUABLE)
EXPEDITED_LEVELS = (OVERDUE, DUE_TODAY, DUE_SOON)

# What the changes are counted from.
SINCE_PREVIOUS_DIGEST = "previous digest"  # the cut the previous digest covered
SINCE_PREVIOUS_CUT = "previous cut"  # first digest: the cut before this one in the store
SINCE_NOTHING = "first cut"  # first digest of the trial's first cut: nothing to compare

# grain: ae_id. The "Other, specify" text of the listed AEs of one load (the diff carries the
# CTCAE term only); printed through the free-text rule.
OTHER_SPECIFY_SQL = """
SELECT ae_id, other_specify FROM adverse_events
WHERE load_id = $load_id AND other_specify IS NOT NULL AND list_contains($ae_ids, ae_id)
"""


@dataclass(frozen=True)
class Listing:
    """Rows a digest lists (at most ``MAX_LISTED``) and how many more there are."""

    rows: list[dict]
    more: int

    @classmethod
    def of(cls, rows: list[dict]) -> Listing:
        return cls(rows=rows[:MAX_LISTED], more=max(len(rows) - MAX_LISTED, 0))


def render_digest(
    review_dir: Path, *, store: SafetyStore, config: TrialConfig, since_cut_id: str | None, out_dir: Path
) -> list[Path]:
    """Write digest.html, digest.txt and digest.json for the review in ``review_dir`` into
    ``out_dir``; return their paths.

    ``since_cut_id`` is the cut the previous digest covered (``previous_digest``); None for the
    first digest, which compares with the previous cut in the store, if any, and says so.
    """
    context = digest_context(Path(review_dir), store=store, config=config, since_cut_id=since_cut_id)
    env = environment()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in DIGEST_FILES]
    paths[0].write_text(env.get_template("digest.html.j2").render(**context), encoding="utf-8")
    paths[1].write_text(env.get_template("digest.txt.j2").render(**context), encoding="utf-8")
    paths[2].write_text(json.dumps(context["facts"], indent=2), encoding="utf-8")
    return paths


def digest_context(review_dir: Path, *, store: SafetyStore, config: TrialConfig, since_cut_id: str | None) -> dict:
    """Everything the two templates print, and the facts digest.json holds."""
    flags = _read_json(review_dir / "flags.json")
    manifest = _read_json(review_dir / "manifest.json")
    if flags["trial_id"] != config.id:
        raise ValueError(f"{review_dir}: a review of trial {flags['trial_id']!r}, not of {config.id!r} (the config given)")
    cut = store.get_cut(flags["cut_id"])
    since, basis = since_cut(store, cut, since_cut_id)
    diff = diff_cuts(store, since, cut) if since is not None else None
    free_text = OpenReportText.for_trial(config)
    other_specify = _other_specify(store, cut, diff)

    rule_titles = {rule["rule_id"]: rule["title"] for rule in flags["rules"]}
    changes = changes_context(diff, free_text, other_specify, rule_titles) if diff is not None else None
    expedited = expedited_context(flags, review_dir, free_text)
    rules = rules_context(flags, free_text)
    data_quality = data_quality_context(flags, manifest, review_dir)
    n_treated = _treated_subjects(review_dir)
    expedited_rules = config.model.expedited
    facts = {
        "trial_id": config.id,
        "cut_id": cut.cut_id,
        "cut_date": cut.cut_date.isoformat(),
        "since": None if since is None else {"cut_id": since.cut_id, "cut_date": since.cut_date.isoformat(), "basis": basis},
        "new_data_cut": since is None or since.cut_id != cut.cut_id,
        "stopping_status": flags["stopping"]["status"],
        "reporting_status": flags["reporting"]["status"],
        "data_quality_status": flags["data_quality"]["status"],
        "treated_subjects": n_treated,
        "changes": diff.summary() if diff is not None else None,
        "expedited": {level: len(expedited[level].rows) + expedited[level].more for level in (*EXPEDITED_LEVELS, NOT_COMPUTABLE)},
        "rules": {status: sum(rule["status"] == status for rule in flags["rules"]) for status in ("STOP", "WARN", NOT_EVALUABLE, "OK")},
        "excluded_adverse_events": flags["excluded_records"]["adverse_events"],
        "row_accounting": data_quality["totals"],
        "queries": data_quality["queries"],
    }
    return {
        "facts": facts,
        "trial_title": config.model.trial.title,
        "registry_id": config.model.trial.registry_id,
        "trial_id": config.id,
        "config_file": config.path.name,
        "cut": cut,
        "since": since,
        "basis": basis,
        "n_treated": n_treated,
        "stopping": flags["stopping"],
        "reporting": flags["reporting"],
        "data_quality": data_quality,
        "changes": changes,
        "expedited": expedited,
        "clock_days": {"urgent": expedited_rules.fatal_or_life_threatening_days, "other": expedited_rules.other_days, "due_soon": expedited_rules.due_soon_days},
        "rules": rules,
        "rules_total": len(flags["rules"]),
        "excluded_records": flags["excluded_records"],
        "free_text_omitted": free_text.omit,
    }


def since_cut(store: SafetyStore, cut: Cut, since_cut_id: str | None) -> tuple[Cut | None, str]:
    """The cut the changes are counted from, and on what basis: the previous digest's cut, or
    (first digest) the cut before ``cut`` in the store, or none (the trial's first cut)."""
    if since_cut_id is None:
        previous = store.previous_cut(cut)
        return previous, SINCE_PREVIOUS_CUT if previous is not None else SINCE_NOTHING
    since = store.get_cut(since_cut_id)
    if since.trial_id != cut.trial_id:
        raise ValueError(f"since_cut_id {since_cut_id!r} is a cut of trial {since.trial_id!r}, not of {cut.trial_id!r}")
    order = [c.cut_id for c in store.cuts(cut.trial_id)]
    if order.index(since.cut_id) > order.index(cut.cut_id):
        raise ValueError(
            f"since_cut_id {since_cut_id!r} (cut {since.cut_date}) is later than the digest's cut {cut.cut_id!r} ({cut.cut_date})"
        )
    return since, SINCE_PREVIOUS_DIGEST


def changes_context(diff: CutDiff, free_text: OpenReportText, other_specify: dict[str, str], rule_titles: dict[str, str]) -> dict:
    """The diff as the digest lists it: counts, rule status changes, new deaths, new and newly
    serious SAEs, grade upgrades, new grade >= 3 AEs (each AE once per list it belongs to)."""
    rows = diff.ae_changes.to_dicts()

    def event(row: dict) -> dict:
        return _event(row, free_text, other_specify) | {"before": row["before"], "after": row["after"]}

    new = [row for row in rows if row["change"] == "new"]
    serious = [event(row) | {"became_serious": False} for row in new if row["serious"] == "Y"]
    serious += [event(row) | {"became_serious": True} for row in rows if row["change"] == "became serious"]
    new_severe = [row for row in new if row["grade"] >= 3]
    # The e-mail lists each AE once: serious (new or newly) or new grade >= 3, each line saying which.
    severe_not_serious = [event(row) | {"became_serious": False, "serious": False} for row in new_severe if row["serious"] != "Y"]
    return {
        "summary": diff.summary(),
        "rule_changes": Listing.of([row | {"title": rule_titles.get(row["rule_id"])} for row in diff.rule_changes.to_dicts()]),
        "new_deaths": Listing.of([_death(row, free_text) for row in diff.new_deaths.to_dicts()]),
        "serious": Listing.of(serious),
        "grade_upgrades": Listing.of([event(row) for row in rows if row["change"] == "grade upgraded"]),
        "grade_3_plus": Listing.of([event(row) for row in new_severe]),
        "serious_or_grade_3_plus": Listing.of([row | {"serious": True} for row in serious] + severe_not_serious),
    }


def expedited_context(flags: dict, review_dir: Path, free_text: OpenReportText) -> dict[str, Listing]:
    """SUSAR reports by clock state at the cut: overdue, due today, due soon (flags.json
    ``expedited``), and those whose clock cannot be computed (no awareness date), with the
    details of each from tables/expedited_reports.parquet."""
    reports = pl.read_parquet(review_dir / "tables" / "expedited_reports.parquet")
    details = {row["ae_id"]: row for row in reports.filter(pl.col("susar")).iter_rows(named=True)}
    levels: dict[str, list[dict]] = {level: [] for level in (*EXPEDITED_LEVELS, NOT_COMPUTABLE)}
    for flag in flags["expedited"]:
        levels[flag["level"]].append(_report(details[flag["ae_id"]], flag["clock"], free_text))
    for row in details.values():
        if row["clock_state"] == NOT_COMPUTABLE:
            levels[NOT_COMPUTABLE].append(_report(row, row["status"], free_text))
    return {level: Listing.of(rows) for level, rows in levels.items()}


def rules_context(flags: dict, free_text: OpenReportText) -> list[dict]:
    """The stopping rules at STOP, WARN or NOT EVALUABLE, worst first, with their qualifying events."""
    shown = [rule for rule in flags["rules"] if rule["status"] in RULE_STATUSES_SHOWN]
    shown.sort(key=lambda rule: RULE_STATUSES_SHOWN.index(rule["status"]))
    return [
        {
            "rule_id": rule["rule_id"],
            "title": rule["title"],
            "status": rule["status"],
            "statement": rule["statement"],
            "evaluable": rule["evaluable"],
            "qualifying_count": len(rule["qualifying_events"]),
            "qualifying": Listing.of([_event(event, free_text, {}) for event in rule["qualifying_events"]]),
        }
        for rule in shown
    ]


def data_quality_context(flags: dict, manifest: dict, review_dir: Path) -> dict:
    """The shrinkage flag, the row accounting summed over the sources, and the queries."""
    accounting = manifest["row_accounting"]
    totals = {key: sum(counts[key] for counts in accounting.values()) for key in ("rows_in", "clean", "counted_with_queries", "excluded")}
    queries = pl.scan_csv(review_dir / "queries.csv", infer_schema=False).select(pl.len()).collect().item()
    return {
        "status": flags["data_quality"]["status"],
        "statement": flags["data_quality"]["statement"],
        "previous_cut": flags["data_quality"]["previous_cut"],
        "sources": len(accounting),
        "totals": totals,
        "excluded_by_source": {name: counts["excluded"] for name, counts in accounting.items() if counts["excluded"]},
        "queries": queries,
        "queries_by_kind": manifest["queries"],
    }


def previous_digest(digests_root: Path, cut_date: date | str) -> str | None:
    """The cut id the previous digest covered: the digest folder under ``digests_root``
    (``OUT/<trial-id>/digests/``) whose digest.json has the latest cut date before ``cut_date``.
    None when there is none. Hidden folders (a digest being written) are not digests yet."""
    current = date.fromisoformat(cut_date) if isinstance(cut_date, str) else cut_date
    root = Path(digests_root)
    found: list[tuple[date, str]] = []
    if root.is_dir():
        for folder in root.iterdir():
            path = folder / "digest.json"
            if folder.name.startswith(".") or not path.is_file():
                continue
            facts = _read_json(path)
            covered = date.fromisoformat(facts["cut_date"])
            if covered < current:
                found.append((covered, facts["cut_id"]))
    return max(found)[1] if found else None


def _event(row: dict, free_text: OpenReportText, other_specify: dict[str, str]) -> dict:
    """An AE as the digest names it: subject, AE id, CTCAE term (with its "Other, specify" text
    where the trial config lets the text be printed), grade as counted and as reported, onset."""
    specify = row.get("other_specify") or other_specify.get(row["ae_id"])
    term = free_text.text(row["ctcae_term"])
    if specify:
        term = f"{term}: {free_text.text(specify)}"
    return {
        "subject_id": row["subject_id"],
        "ae_id": row["ae_id"],
        "term": term,
        "grade": row["grade"],
        "grade_reported": row.get("grade_reported", row["grade"]),
        "onset_date": _iso(row.get("onset_date")),
    }


def _report(row: dict, clock: str, free_text: OpenReportText) -> dict:
    return _event(row, free_text, {}) | {
        "awareness_date": _iso(row["awareness_date"]),
        "due_date": _iso(row["due_date"]),
        "clock": clock,
        "unexpected_for": row["unexpected_for"],
    }


def _death(row: dict, free_text: OpenReportText) -> dict:
    """A new death; its fatal AEs ("AE6 Pharyngeal hemorrhage; ...") with each term through the free-text rule."""
    fatal = []
    for piece in (row["fatal_events"] or "").split("; "):
        if piece:
            ae_id, _, term = piece.partition(" ")
            fatal.append(f"{ae_id} {free_text.text(term)}")
    return {
        "subject_id": row["subject_id"],
        "death_date": _iso(row["death_date"]),
        "death_cause": row["death_cause"],
        "evidence": row["evidence"],
        "fatal_events": "; ".join(fatal),
    }


def _other_specify(store: SafetyStore, cut: Cut, diff: CutDiff | None) -> dict[str, str]:
    if diff is None or diff.ae_changes.is_empty():
        return {}
    ae_ids = diff.ae_changes["ae_id"].unique().to_list()
    rows = store.connection.execute(OTHER_SPECIFY_SQL, {"load_id": cut.load_id, "ae_ids": ae_ids}).fetchall()
    return dict(rows)


def _treated_subjects(review_dir: Path) -> int:
    """The safety population (the overview table's denominator: treated subjects)."""
    overview = pl.read_parquet(review_dir / "tables" / "t_overview.parquet")
    return int(overview["denominator"].max()) if overview.height else 0


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
