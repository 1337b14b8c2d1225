"""The flags of a data cut: the trial's stopping status and its reporting compliance, kept apart.

Two headlines, never mixed: the *stopping status* comes from the stopping rules alone (a
paperwork delay is no reason to halt a trial), and the *expedited-reporting compliance* from
the SUSAR clocks. Records that could not be counted (excluded at validation) are shown above
the rules with, for each rule, whether counting them the worst way would change its status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import polars as pl

from safetydb.store import SafetyStore
from signals.expedited import expedited_flags, reporting_compliance
from signals.rules import NOT_EVALUABLE, STATUS_ORDER, RuleResult, evaluate_rule, rule_status
from trial.config import EventCountRule, TrialConfig


@dataclass(frozen=True)
class WorstCase:
    """A rule re-judged as if every excluded AE were a qualifying event of its subject."""

    evaluable: int
    events: int
    status: str
    changes_status: bool

    def to_dict(self) -> dict:
        return asdict(self)


def excluded_adverse_events(store: SafetyStore, cut_id: str, *, arm_only: bool = False) -> pl.DataFrame:
    """AE records of the cut that could not be placed: those excluded at validation (no subject,
    term or usable onset date), and those of a subject left with no usable dose record because
    every exposure record of theirs was excluded (their treatment cannot be placed in time).
    ``arm_only``: the models are built for one arm: only the records of its subjects, and those
    whose subject is unknown (who could be of any arm)."""
    excluded = store.connection.sql(
        """
        SELECT source_row, subject_id, reasons FROM quarantine
        WHERE load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND source = 'adverse_events'
        UNION ALL
        SELECT a.source_row, a.subject_id, 'the subject has no usable dose record: every exposure record was excluded'
        FROM adverse_events AS a
        JOIN int_subject_dosing AS d USING (subject_id)
        WHERE a.load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND NOT d.treated
            AND EXISTS (
                SELECT 1 FROM quarantine AS q
                WHERE q.load_id = a.load_id AND q.source = 'exposure' AND q.subject_id = a.subject_id
            )
        ORDER BY source_row
        """,
        params={"cut_id": cut_id},
    ).pl()
    if not arm_only:
        return excluded
    known = store.connection.sql(
        "SELECT subject_id FROM subjects WHERE load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id)", params={"cut_id": cut_id}
    ).pl()["subject_id"]
    in_arm = store.model("stg_subjects")["subject_id"]
    return excluded.filter(pl.col("subject_id").is_null() | pl.col("subject_id").is_in(in_arm.implode()) | ~pl.col("subject_id").is_in(known.implode()))


def worst_case(rule, result: RuleResult, rule_subjects: pl.DataFrame, excluded: pl.DataFrame) -> WorstCase:
    """Count each excluded AE the worst way: a qualifying event of its subject.

    Event-count rules: every excluded AE adds one event. Rate rules: a subject already counted
    with the event adds nothing; an evaluable subject without it adds an event; a subject not
    evaluable, not treated or unknown (a missing subject id counts as a subject of its own)
    adds one evaluable subject with the event.
    """
    if excluded.is_empty():
        return WorstCase(result.evaluable, result.events, result.status, False)
    if isinstance(rule, EventCountRule):
        n, x = result.evaluable, result.events + excluded.height
    else:
        keys = excluded.select(
            pl.coalesce(pl.col("subject_id"), pl.lit("row ") + pl.col("source_row").cast(pl.String)).alias("subject_id")
        ).unique()
        known = keys.join(rule_subjects.select("subject_id", "evaluable", "had_event"), on="subject_id", how="left")
        with_event = known.filter(pl.col("had_event").fill_null(False)).height
        evaluable_without = known.filter(pl.col("evaluable").fill_null(False) & ~pl.col("had_event").fill_null(False)).height
        new_subjects = known.height - with_event - evaluable_without
        n = result.evaluable + new_subjects
        x = result.events + evaluable_without + new_subjects
    status = rule_status(rule, n, x).status
    return WorstCase(n, x, status, status != result.status)


def evaluate_rules_with_exclusions(
    store: SafetyStore, config: TrialConfig, cut_id: str, *, arm_only: bool = False
) -> tuple[list[RuleResult], dict[str, WorstCase], pl.DataFrame]:
    """Evaluate every stopping rule, and each rule again with the excluded AEs counted the worst
    way (``arm_only``: the models are of one arm, and so are the excluded AEs counted)."""
    excluded = excluded_adverse_events(store, cut_id, arm_only=arm_only)
    missing = missing_adverse_event_input(store, cut_id)
    results, worst = [], {}
    for rule in config.model.stopping_rules:
        result = evaluate_rule(store, config, rule)
        if missing:
            result.status = NOT_EVALUABLE
            result.statement = f"{missing} {result.statement}"
            result.warnings = [missing, *result.warnings]
        results.append(result)
        worst[rule.id] = worst_case(rule, result, store.model("rule_subjects"), excluded)
    return results, worst, excluded


def missing_adverse_event_input(store: SafetyStore, cut_id: str) -> str | None:
    """Why the rules cannot be judged, when the cut holds no adverse-event record at all (a
    header-only or empty file) while subjects were treated, or adverse events while no subject
    was treated (no usable exposure record); None otherwise. Zero events among treated subjects
    read from an empty file is missing input, never an all-clear."""
    records = store.connection.execute(
        "WITH cut AS (SELECT load_id FROM cuts WHERE cut_id = $cut_id) "
        "SELECT (SELECT COUNT(*) FROM adverse_events WHERE load_id = (SELECT load_id FROM cut)), "
        "(SELECT COUNT(*) FROM quarantine WHERE load_id = (SELECT load_id FROM cut) AND source = 'adverse_events')",
        {"cut_id": cut_id},
    ).fetchall()[0]
    # fetchall, not fetchone: a result left unfinished blocks the connection's next query
    treated = store.connection.execute("SELECT COUNT(*) FROM int_subject_dosing WHERE treated").fetchall()[0][0]
    if sum(records) == 0 and treated > 0:
        return (
            f"Not evaluable: the adverse-event source holds no record while {treated} subjects are treated; "
            "check that the file delivered is complete."
        )
    if treated == 0 and sum(records) > 0:
        # No usable dose record at all: no event can be treatment-emergent, which is no all-clear.
        return (
            f"Not evaluable: no subject has a usable dose record while the adverse-event source holds {sum(records)} "
            "record(s); check that the exposure file delivered is complete."
        )
    return None


NO_RULES = "NO RULES"  # the stopping headline of a trial that configures no stopping rule


def stopping_status(results: list[RuleResult]) -> dict:
    """The trial's stopping headline: the most severe rule status (rules only)."""
    # No rule configured is no all-clear: the headline says so instead of OK.
    status = min((r.status for r in results), key=STATUS_ORDER.__getitem__, default=NO_RULES)
    crossed = [r.rule_id for r in results if r.status == status and status != "OK"]
    if not results:
        statement = "No stopping rules are configured."
    elif status == "OK":
        statement = f"None of the {len(results)} stopping rules is crossed or one event from crossing."
    elif status == "STOP":
        statement = f"Stopping boundary crossed: {', '.join(crossed)}."
    elif status == NOT_EVALUABLE:
        statement = next(w for r in results for w in r.warnings if w.startswith("Not evaluable"))
    else:
        statement = f"One event from a stopping boundary: {', '.join(crossed)}."
    return {"status": status, "statement": statement}


def exclusion_summary(excluded: pl.DataFrame, worst: dict[str, WorstCase]) -> dict:
    """What the report says above the rules about the AEs that could not be counted."""
    changed = [rule_id for rule_id, case in worst.items() if case.changes_status]
    count = excluded.height
    if count == 0:
        statement = "Every adverse-event record was counted."
    elif changed:
        statement = (
            f"{count} adverse-event record(s) could not be counted ({_reasons(excluded)}). "
            f"Counted the worst way they would change the status of: {', '.join(changed)}."
        )
    else:
        statement = (
            f"{count} adverse-event record(s) could not be counted ({_reasons(excluded)}). "
            "Counted the worst way they would change no rule's status."
        )
    return {"adverse_events": count, "rules_changed_if_counted": changed, "statement": statement}


def _reasons(excluded: pl.DataFrame, shown: int = 3) -> str:
    """Why the excluded records could not be counted, the most frequent reasons first, with their counts."""
    counts = excluded.group_by("reasons").len().sort(["len", "reasons"], descending=[True, False])
    parts = [f"{row['len']} × {row['reasons']}" for row in counts.head(shown).iter_rows(named=True)]
    if counts.height > shown:
        parts.append(f"{counts.tail(counts.height - shown)['len'].sum()} with other reasons")
    return " | ".join(parts)


def source_shrinkage(sources: pl.DataFrame | None, *, ratio: float, previous_cut: str | None = None) -> dict:
    """A loud flag for each source whose rows fell below ``ratio`` of the previous cut's
    (``sources``: source, rows_before, rows_after, from ``safetydb.diff``): a trial's data only
    grows, so a sharp fall means an incomplete or wrong delivery, never fewer events."""
    if sources is None:
        return {"status": "OK", "previous_cut": None, "shrunk": [], "statement": "No previous cut to compare the delivery with."}
    shrunk = [
        row | {"statement": f"{row['source']}: {row['rows_after']} rows, the previous cut ({previous_cut}) had {row['rows_before']}"}
        for row in sources.iter_rows(named=True)
        if row["rows_before"] and (row["rows_after"] or 0) < ratio * row["rows_before"]
    ]
    if not shrunk:
        return {"status": "OK", "previous_cut": previous_cut, "shrunk": [], "statement": f"No source shrank since the previous cut ({previous_cut})."}
    return {
        "status": "WARN",
        "previous_cut": previous_cut,
        "shrunk": shrunk,
        "statement": "Incomplete delivery? " + "; ".join(row["statement"] for row in shrunk)
        + ". Check the files delivered before reading the counts.",
    }


def assemble_flags(
    *,
    trial_id: str,
    cut_id: str,
    cut_date: date,
    results: list[RuleResult],
    worst: dict[str, WorstCase],
    excluded: pl.DataFrame,
    reports: pl.DataFrame,
    history: dict[str, list[dict]],
    data_quality: dict | None = None,
) -> dict:
    """flags.json: the two headlines, the excluded records, each rule with its evidence, and
    the delivery's data-quality flags (``source_shrinkage``)."""
    return {
        "trial_id": trial_id,
        "cut_date": cut_date.isoformat(),
        "cut_id": cut_id,
        "stopping": stopping_status(results),
        "reporting": reporting_compliance(reports),
        "excluded_records": exclusion_summary(excluded, worst),
        "data_quality": data_quality or source_shrinkage(None, ratio=1.0),
        "rules": [
            r.to_dict() | {"if_excluded_counted": worst[r.rule_id].to_dict(), "history": history.get(r.rule_id, [])}
            for r in results
        ],
        "expedited": expedited_flags(reports),
    }
