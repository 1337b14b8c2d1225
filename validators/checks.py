"""What a failing field does to its record: the one declaration of every check's consequence.

House rule: a doubtful record is never dropped from safety counts. A check either

* ``count``: the record is counted with a conservative reading of the doubtful field, and a
  query says which reading was used; or
* ``exclude``: the record cannot be placed at all (no known subject, no term, no usable
  date), so it cannot be counted; it is kept in the store's quarantine, queried, and the
  report says how many there are and whether they could change a stopping rule.

Frame-level checks are declared here by the name of their Pandera check (``validators/schemas.py``);
column-level failures (missing, not a date, not an allowed value, out of range) by source and
field. ``docs/validation.md`` lists the same table for readers; a test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Effect = Literal["count", "exclude"]


@dataclass(frozen=True)
class Consequence:
    effect: Effect
    reading: str  # what the counts do with the record, said in the query


@dataclass(frozen=True)
class FrameCheck:
    name: str
    field: str  # the column a data manager should look at
    consequence: Consequence
    fix: str


def _count(reading: str) -> Consequence:
    return Consequence("count", reading)


def _exclude(reason: str) -> Consequence:
    return Consequence("exclude", f"excluded from safety counts: {reason}")


KEPT_AS_MISSING = _count("counted; the value is treated as missing")
KEPT_AS_GIVEN = _count("counted as given")

FRAME_CHECKS: dict[str, FrameCheck] = {
    check.name: check
    for check in (
        # subjects
        FrameCheck("death_after_enrolment", "death_date", _count("counted; the death is counted as given"),
                   "correct death_date or enrolment_date"),
        FrameCheck("death_has_cause", "death_cause", _count("counted; a death with no date is not dated, a cause with no date is kept"),
                   "enter both death_date and death_cause"),
        # records that belong to a subject
        FrameCheck("subject_known", "subject_id", _exclude("the subject is not in the subjects file"),
                   "correct subject_id, or add the subject to the subjects file"),
        # exposure
        FrameCheck("agent_known", "agent", _exclude("the agent is not one of the trial's agents"),
                   "use an agent id from the trial config"),
        FrameCheck("end_not_before_start", "end_date", _count("counted; the record is taken to end on its start date"),
                   "correct start_date or end_date"),
        FrameCheck("dose_not_above_planned", "dose_mg", KEPT_AS_GIVEN,
                   "check the dose for a unit or decimal error"),
        # adverse events
        FrameCheck("term_known", "ctcae_term",
                   _count("counted under the term as coded, in the SOC 'Not coded to CTCAE'"),
                   "correct the term to a CTCAE term (toxwatch ctcae lookup TERM)"),
        FrameCheck("grade_allowed_for_term", "grade", _count("counted at the grade as reported"),
                   "check the grade against the CTCAE term's allowed grades (toxwatch ctcae lookup TERM)"),
        FrameCheck("other_specify_given", "other_specify", _count("counted under its \"Other, specify\" term"),
                   "enter the verbatim specification in other_specify"),
        FrameCheck("resolution_not_before_onset", "resolution_date", _count("counted with its onset date; the resolution date is treated as missing"),
                   "correct onset_date or resolution_date"),
        FrameCheck("onset_not_before_enrolment", "onset_date", _count("counted with the onset date as given"),
                   "correct onset_date; events before consent are medical history"),
        FrameCheck("fatal_iff_grade_5", "outcome", _count("counted the worse way: grade 5 with outcome fatal (a death)"),
                   "set grade 5 with outcome fatal, or correct the outcome"),
        FrameCheck("serious_criteria_valid", "serious_criteria", _count("counted as serious; criteria kept as given"),
                   "use death, life_threatening, hospitalisation, disability, congenital_anomaly, important_medical_event"),
        FrameCheck("serious_has_criteria", "serious_criteria", _count("counted as serious"),
                   "give the seriousness criteria of a serious event, or set serious to N"),
        FrameCheck("grade_5_is_serious", "serious_criteria", _count("counted as serious with criterion death"),
                   "record grade 5 events as serious with criterion death"),
        FrameCheck("serious_has_awareness_date", "awareness_date",
                   _count("counted; its expedited-report clock is not computable until the awareness date is entered"),
                   "enter the date the sponsor became aware of the event"),
        FrameCheck("report_not_before_awareness", "expedited_report_date", KEPT_AS_GIVEN,
                   "correct awareness_date or expedited_report_date"),
        # labs and vitals
        FrameCheck("normal_range_ordered", "lln", _count("counted; not graded against the normal range"),
                   "correct the lab's normal range"),
        FrameCheck("diastolic_below_systolic", "dbp_mmhg", _count("counted; both blood-pressure values are treated as missing"),
                   "check for swapped systolic and diastolic values"),
    )
}

# Column-level failures: (source, field) -> consequence. A field not listed is KEPT_AS_MISSING.
# ``attribution_*`` and ``action_*`` stand for the per-agent columns.
FIELD_CONSEQUENCES: dict[tuple[str, str], Consequence] = {
    ("subjects", "subject_id"): _exclude("no usable subject identifier"),
    ("subjects", "enrolment_date"): _count("counted; enrolment date unknown, the subject stays in every count"),
    ("subjects", "last_contact_date"): _count("counted; follow-up end unknown, so the subject is not counted as followed"),
    ("subjects", "death_date"): _count("counted; the death is not dated"),
    ("exposure", "subject_id"): _exclude("no subject"),
    ("exposure", "agent"): _exclude("no agent"),
    ("exposure", "start_date"): _exclude("no usable start date"),
    ("exposure", "end_date"): _count("counted; the record is taken to end on its start date"),
    ("exposure", "dose_mg"): _count("counted as the planned dose given (the subject is treated)"),
    ("adverse_events", "ae_id"): _count("counted under an identifier made from its row number"),
    ("adverse_events", "subject_id"): _exclude("no subject"),
    ("adverse_events", "ctcae_term"): _exclude("no term"),
    ("adverse_events", "onset_date"): _exclude("no usable onset date"),
    ("adverse_events", "grade"): _count("counted at grade 3 (grade 5 when the outcome is fatal) until a grade is entered"),
    ("adverse_events", "serious"): _count("counted as serious"),
    ("adverse_events", "outcome"): _count("counted with outcome unknown"),
    ("adverse_events", "attribution_*"): _count("counted as related to that agent, shown as not assessed"),
    ("adverse_events", "action_*"): _count("counted with the action unknown"),
    ("labs", "subject_id"): _exclude("no subject"),
    ("labs", "collection_date"): _exclude("no usable collection date"),
    ("labs", "test_code"): _exclude("no test code"),
    ("labs", "value"): _exclude("no usable result"),
    ("vitals", "subject_id"): _exclude("no subject"),
    ("vitals", "measure_date"): _exclude("no usable measurement date"),
}

# Duplicated identifiers: the first record keeps its identifier; the consequence is for the others.
DUPLICATE_CONSEQUENCES: dict[str, Consequence] = {
    "subjects": _exclude("a second row for the same subject_id (the first row is used)"),
    "adverse_events": _count("counted as its own record, under its identifier and row number"),
}

# Fixes for column-level failures, by check type.
COLUMN_FIXES = {
    "parse": "correct the value's format in the source system",
    "not_nullable": "enter the missing value",
    "field_uniqueness": "give each record its own identifier; check for a duplicated row",
    "isin": "use one of the allowed values listed in the problem",
    "in_range": "check the value and its unit",
    "greater_than_or_equal_to": "check the value and its unit",
    "greater_than": "check the value and its unit",
    "less_than_or_equal_to": "check the value and its unit",
}


def field_consequence(source: str, field: str) -> Consequence:
    """The consequence of a column-level failure of ``field`` in ``source``."""
    for prefix in ("attribution_", "action_"):
        if field.startswith(prefix):
            return FIELD_CONSEQUENCES[(source, prefix + "*")] if (source, prefix + "*") in FIELD_CONSEQUENCES else KEPT_AS_MISSING
    return FIELD_CONSEQUENCES.get((source, field), KEPT_AS_MISSING)


def consequence_of(source: str, check: str, field: str) -> Consequence:
    """The consequence of one failure: frame checks by name, column checks by field."""
    if check in FRAME_CHECKS:
        return FRAME_CHECKS[check].consequence
    if check == "field_uniqueness" and source in DUPLICATE_CONSEQUENCES:
        return DUPLICATE_CONSEQUENCES[source]
    return field_consequence(source, field)


def fix_for(check: str) -> str:
    if check in FRAME_CHECKS:
        return FRAME_CHECKS[check].fix
    return COLUMN_FIXES.get(check, "correct the value in the source system")
