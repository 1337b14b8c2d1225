"""What a failing field does to its record: the one declaration of every check's consequence.

House rule: a doubtful record is never dropped from safety counts. A check either

* ``count``: the record is counted with a conservative reading of the doubtful field, and a
  query says which reading was used; or
* ``exclude``: the record cannot be placed at all (no known subject, no term, no usable
  date), so it cannot be counted; it is kept in the store's quarantine, queried, and the
  report says how many there are and whether they could change a stopping rule.

Checks on whole records are declared here whole: name, field, problem text, consequence and
fix. The Pandera models (``validators/schemas.py``) hold only each check's rule and take its
problem text from here. Column-level failures (missing, not a date, not an allowed value, out of
range) are declared by source and field, their fixes by check type. ``docs/validation.md`` lists
the same table for readers; a test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from validators.treatments import ae_treatments

Effect = Literal["count", "exclude"]


@dataclass(frozen=True)
class Consequence:
    effect: Effect
    reading: str  # what the counts do with the record, said in the query


@dataclass(frozen=True)
class FrameCheck:
    """Everything about one check on whole records, in one place.

    ``error`` is the problem text of its query; the Pandera models (``validators/schemas.py``)
    take it from here, so the check's rule is the only thing written there.
    """

    name: str
    field: str  # the column a data manager should look at
    error: str  # the problem, as the query says it
    consequence: Consequence
    fix: str


def _count(reading: str) -> Consequence:
    return Consequence("count", reading)


def _exclude(reason: str) -> Consequence:
    return Consequence("exclude", f"excluded from safety counts: {reason}")


def _exclude_assessment(reason: str) -> Consequence:
    """A tumour assessment that cannot be placed: it counts toward no response or progression."""
    return Consequence("exclude", f"excluded from the response counts: {reason}")


KEPT_AS_MISSING = _count("counted; the value is treated as missing")
KEPT_AS_GIVEN = _count("counted as given")
NOT_GRADED = _count("counted; the value is not graded")

DATE_AFTER_RUN = "date_not_after_run"
ROW_FORMAT = "row_format"
TEXT_ENCODING = "text_encoding"

FRAME_CHECKS: dict[str, FrameCheck] = {
    check.name: check
    for check in (
        # subjects
        FrameCheck("death_after_enrolment", "death_date", "death_date is before enrolment_date",
                   _count("counted; the death is counted as given"),
                   "correct death_date or enrolment_date"),
        FrameCheck("death_has_cause", "death_cause", "death_date and death_cause must be given together",
                   _count("counted as a death: a date with no cause is a death of unknown cause, a cause with no date a death of unknown date"),
                   "enter both death_date and death_cause"),
        FrameCheck("end_of_treatment_has_reason", "end_of_treatment_reason",
                   "end_of_treatment_date and end_of_treatment_reason must be given together",
                   _count("counted; a date with no reason ends treatment with the reason unknown, a reason with no date ends treatment on an unknown date"),
                   "enter both end_of_treatment_date and end_of_treatment_reason, or neither while the subject is on treatment"),
        # records that belong to a subject
        FrameCheck("subject_known", "subject_id",
                   "subject_id is not among the subjects (absent from the subjects file, or its row there is excluded)",
                   _exclude("the subject is not in the subjects file"),
                   "correct subject_id, or add the subject to the subjects file"),
        # exposure
        FrameCheck("agent_known", "agent", "agent is not one of the trial config's agents",
                   _count("counted as a dose given under the agent as written: the subject is treated, and the per-agent tables show the unknown agent apart"),
                   "use an agent id from the trial config"),
        FrameCheck("end_not_before_start", "end_date", "end_date is before start_date",
                   _count("counted; the record is taken to end on its start date"),
                   "correct start_date or end_date"),
        FrameCheck("dose_not_above_planned", "dose_mg", "dose_mg is above planned_dose_mg", KEPT_AS_GIVEN,
                   "check the dose for a unit or decimal error"),
        FrameCheck("dose_at_a_dose_level", "dose_mg",
                   "dose_mg is not one of the agent's dose levels (dose_levels_mg in the trial config)", KEPT_AS_GIVEN,
                   "check the dose against the protocol's dose levels"),
        FrameCheck("planned_dose_is_agent_dose", "planned_dose_mg",
                   "planned_dose_mg is not the agent's dose_mg in the trial config", KEPT_AS_GIVEN,
                   "enter the protocol dose as planned_dose_mg, or correct the agent's dose_mg in the trial config"),
        FrameCheck("route_is_agent_route", "route", "route is not the agent's route in the trial config", KEPT_AS_GIVEN,
                   "enter the agent's route as the trial config spells it, or correct the trial config"),
        FrameCheck("frequency_is_agent_frequency", "frequency", "frequency is not the agent's frequency in the trial config",
                   KEPT_AS_GIVEN,
                   "enter the agent's frequency as the trial config spells it, or correct the trial config"),
        FrameCheck("dose_zero_when_held", "adjustment",
                   "dose_mg and adjustment disagree: a held record has dose_mg 0, and dose_mg 0 is a hold or a discontinuation",
                   _count("counted as given: dosing from dose_mg, holds from adjustment"),
                   "correct dose_mg or adjustment"),
        FrameCheck("adjustment_has_reason", "adjustment_reason",
                   "adjustment_reason is missing: a reduction, hold or discontinuation needs its reason",
                   _count("counted as given; a change with no reason is not reconciled with the AE actions"),
                   "enter the CTCAE term of the adverse event that caused the change, or other"),
        FrameCheck("adjustment_reason_known", "adjustment_reason",
                   "adjustment_reason is neither a term of the trial's CTCAE version nor other", KEPT_AS_GIVEN,
                   "enter the CTCAE term of the adverse event that caused the change (toxwatch ctcae lookup TERM), or other"),
        # adverse events
        FrameCheck("term_given", "ctcae_term", "the record has no term: no ctcae_term, meddra_pt or verbatim_term",
                   _exclude("no term"),
                   "enter the CTCAE term, or the MedDRA preferred term (meddra_pt)"),
        FrameCheck("term_coded", "ctcae_term", "the event is not coded: only the verbatim term is given",
                   _count("counted under its verbatim term, in the SOC 'Not coded to CTCAE'"),
                   "code the event: enter the CTCAE term, or the MedDRA preferred term (meddra_pt)"),
        FrameCheck("term_known", "ctcae_term", "ctcae_term is not a term of the trial's CTCAE version",
                   _count("counted under the term as coded, in the SOC 'Not coded to CTCAE'"),
                   "correct the term to a CTCAE term (toxwatch ctcae lookup TERM)"),
        FrameCheck("grade_allowed_for_term", "grade", "grade is not allowed for this CTCAE term",
                   _count("counted at the grade as reported"),
                   "check the grade against the CTCAE term's allowed grades (toxwatch ctcae lookup TERM)"),
        FrameCheck("other_specify_given", "other_specify", "an \"Other, specify\" term needs other_specify",
                   _count("counted under its \"Other, specify\" term"),
                   "enter the verbatim specification in other_specify"),
        FrameCheck("resolution_not_before_onset", "resolution_date", "resolution_date is before onset_date",
                   _count("counted with its onset date; the resolution date is treated as missing"),
                   "correct onset_date or resolution_date"),
        FrameCheck("onset_not_before_enrolment", "onset_date", "onset_date is before the subject's enrolment_date",
                   _exclude("an onset before enrolment cannot be placed against treatment (a mistyped year?)"),
                   "correct onset_date; events before consent are medical history"),
        FrameCheck("fatal_iff_grade_5", "outcome", "outcome must be fatal exactly when grade is 5",
                   _count("counted the worse way: grade 5 with outcome fatal (a death)"),
                   "set grade 5 with outcome fatal, or correct the outcome"),
        FrameCheck("serious_criteria_valid", "serious_criteria",
                   "serious_criteria must be ;-separated values from the ICH E2A list",
                   _count("counted as serious; criteria kept as given"),
                   "use death, life_threatening, hospitalisation, disability, congenital_anomaly, important_medical_event"),
        FrameCheck("serious_has_criteria", "serious_criteria", "serious must be Y exactly when serious_criteria are given",
                   _count("counted as serious"),
                   "give the seriousness criteria of a serious event, or set serious to N"),
        FrameCheck("grade_5_is_serious", "serious_criteria", "a grade 5 event must be serious with criterion death",
                   _count("counted as serious with criterion death"),
                   "record grade 5 events as serious with criterion death"),
        FrameCheck("serious_has_awareness_date", "awareness_date",
                   "a serious event needs awareness_date (day 0 of the expedited-report clock)",
                   _count("counted; its expedited-report clock is not computable until the awareness date is entered"),
                   "enter the date the sponsor became aware of the event"),
        FrameCheck("report_not_before_awareness", "expedited_report_date", "expedited_report_date is before awareness_date",
                   KEPT_AS_GIVEN,
                   "correct awareness_date or expedited_report_date"),
        FrameCheck("treatment_valid", "treatment",
                   "treatment must be ;-separated values from the AE treatment list, with none only alone",
                   _count("counted; the treatment is kept as given, and a value not in the list counts as other treatment"),
                   f"use {', '.join(ae_treatments())} (data/ctcae/ae_treatments.csv); none only alone"),
        # labs
        FrameCheck("normal_range_ordered", "lln", "lln is above uln",
                   _count("counted; not graded against the normal range"),
                   "correct the lab's normal range"),
        FrameCheck("unit_accepted_for_test", "unit", "unit is not one the CTCAE grading criteria accept for this test",
                   NOT_GRADED,
                   "correct the unit (the accepted ones are listed in the problem), or the test_code"),
        FrameCheck("unit_is_criterion_unit", "unit",
                   "unit is a conventional unit, not the SI unit the test's CTCAE criterion is written in",
                   _count("counted; graded after conversion to the SI unit, with lln and uln read in the same unit as the value"),
                   "report the result, lln and uln in the SI unit named in the problem"),
        FrameCheck("value_allowed_for_test", "value", "value is not one of the values this test allows", NOT_GRADED,
                   "enter one of the values listed in the problem"),
        # vital signs
        FrameCheck("diastolic_below_systolic", "dbp_mmhg", "dbp_mmhg is not below sbp_mmhg",
                   _count("counted the worse way: the two values read as swapped (the higher is systolic) and graded so"),
                   "check for swapped systolic and diastolic values"),
        # tumour assessments
        FrameCheck("assessment_not_before_enrolment", "assessment_date",
                   "assessment_date is before the subject's enrolment_date",
                   _exclude_assessment("an assessment before enrolment cannot be placed against treatment (a screening scan, or a mistyped year?)"),
                   "correct assessment_date; scans before enrolment are baseline assessments, not time-point responses"),
        FrameCheck("one_response_per_assessment_date", "overall_response",
                   "another assessment of the subject on the same assessment_date gives a different overall_response",
                   _count("counted as given: both kept; efficacy reads the date's worst adequate response (PD over SD over PR over CR; NE only when no other)"),
                   "keep one assessment per date with its overall response, or correct the date of the other"),
    )
}

# Checks run by validators/validate.py itself rather than by a Pandera model.
RUN_CHECKS: dict[str, FrameCheck] = {
    DATE_AFTER_RUN: FrameCheck(
        DATE_AFTER_RUN, "any date column", "the date is after the day of the run",
        _count("the date is treated as missing, with that field's consequence (an AE onset, exposure start or lab date: excluded and shown with the rules' worst case; any other date: counted without it); a data cut is never set after the day of the run"),
        "correct the date (a mistyped year?)",
    ),
    # Checks made while reading a file (validators/read.py).
    ROW_FORMAT: FrameCheck(
        ROW_FORMAT, "the line", "the line is not a record: a wrong number of fields, a quote not closed, or bytes not valid in the file's encoding",
        _exclude("its fields cannot be told apart; the line is kept as given"),
        "correct the line in the source system (the query's fix says how)",
    ),
    TEXT_ENCODING: FrameCheck(
        TEXT_ENCODING, "any text column", "the text, read as UTF-8, looks like GBK/GB18030 text read in the wrong encoding",
        _count("counted as given; the text reads as the problem shows once the file's encoding is declared"),
        'if the file was exported as GBK or GB18030, declare encoding = "gb18030" in its [sources.<name>] table of the trial config; otherwise correct the text',
    ),
}

# The fix of each way a line can fail to be a record (check row_format), said in its query.
ROW_FORMAT_FIXES = {
    "too_many_fields": "quote the value that contains a comma, or remove the extra comma",
    "too_few_fields": "give the line the header's fields (an empty value still needs its comma), or join a line that was split in two",
    "unclosed_quote": 'close the quote, or double a quote that belongs to the value ("")',
    "text_after_quote": 'put the whole value in quotes and double the quotes inside it ("5"" tall")',
    "encoding": 'save the file as UTF-8, or declare its encoding in its [sources.<name>] table of the trial config (e.g. encoding = "latin-1" or "gb18030")',
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
    ("exposure", "end_date"): _count("counted as given up to the day before the agent's next record, or, with none, up to the end of treatment, death or last contact, whichever is recorded and earliest, else the data cut"),
    ("exposure", "dose_mg"): _count("counted as the planned dose given (the subject is treated)"),
    ("adverse_events", "ae_id"): _count("counted under an identifier made from its row number"),
    ("adverse_events", "subject_id"): _exclude("no subject"),
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
    ("tumour_assessments", "subject_id"): _exclude_assessment("no subject"),
    ("tumour_assessments", "assessment_date"): _exclude_assessment("no usable assessment date"),
    ("tumour_assessments", "overall_response"): _count(
        "counted as the RECIST 1.1 code the value names in another case or spacing, or as a synonym listed in "
        "data/recist/overall_response_synonyms.csv (the query says which); a missing or any other value as not "
        "evaluable (NE): no response is assumed"
    ),
    ("tumour_assessments", "new_lesions"): _count(
        "counted as new lesions present (PD), unless the value is N or No in any case: then as no new lesions (the query says which)"
    ),
}

# A check on whole records whose consequence differs for one source: (source, check) -> consequence.
SOURCE_CHECK_CONSEQUENCES: dict[tuple[str, str], Consequence] = {
    ("tumour_assessments", "subject_known"): _exclude_assessment("the subject is not in the subjects file"),
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
    if check == DATE_AFTER_RUN:
        # A date after the run is no date: the field's own consequence of a missing value applies.
        missing = field_consequence(source, field)
        return Consequence(missing.effect, f"the date is after the day of the run, so treated as missing: {missing.reading}")
    if (source, check) in SOURCE_CHECK_CONSEQUENCES:
        return SOURCE_CHECK_CONSEQUENCES[(source, check)]
    if check in FRAME_CHECKS or check in RUN_CHECKS:
        return (FRAME_CHECKS.get(check) or RUN_CHECKS[check]).consequence
    if check == "field_uniqueness" and source in DUPLICATE_CONSEQUENCES:
        return DUPLICATE_CONSEQUENCES[source]
    return field_consequence(source, field)


def fix_for(check: str) -> str:
    if check in FRAME_CHECKS or check in RUN_CHECKS:
        return (FRAME_CHECKS.get(check) or RUN_CHECKS[check]).fix
    return COLUMN_FIXES.get(check, "correct the value in the source system")
