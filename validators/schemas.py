"""Pandera models, one per source: the one declaration of each source's contract.

A model's fields are the source's columns, in the documented order, each with its type (text,
date, whole number, number), allowed values or range, whether it may be empty, whether the file
may leave it out (``required=False``: an optional column), and a description. One regex field
(``attribution_.+``) stands for a column per agent of the trial config. Everything else that
needs the contract derives it from here (``validators/contract.py``): the columns the reader
requires, the parser's typed columns, the store's source tables and the column tables of
docs/sources.md.

The models validate typed, enriched Polars frames. Columns starting with ``_`` are added by
enrichment before validation (``validators/enrich.py``: the subject list, the trial config's
agents, the CTCAE dictionary and lab test catalogue), so that every check is a plain row-wise
expression. A check on whole records holds only its rule here; its problem text, field,
consequence and fix are declared in ``validators/checks.py``.
"""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

from ctcae.attribution import ATTRIBUTION_LEVELS
from ctcae.criteria import lab_test_catalogue
from validators.checks import FRAME_CHECKS
from validators.treatments import NO_TREATMENT, SEPARATOR, ae_treatments, severity_levels

SERIOUS_CRITERIA = (
    "death", "life_threatening", "hospitalisation", "disability", "congenital_anomaly",
    "important_medical_event",
)
OUTCOMES = ("recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown")
ACTIONS = ("dose_not_changed", "dose_reduced", "drug_interrupted", "drug_withdrawn", "not_applicable")
YES_NO = ("Y", "N")
ADJUSTMENTS = ("none", "reduced", "held", "discontinued")
DOSE_CHANGES = ("reduced", "held", "discontinued")  # an adjustment that needs its reason
NOT_DOSED = ("held", "discontinued")  # the adjustments of a record with dose_mg 0
OTHER_REASON = "other"  # an adjustment_reason that names no adverse event
# RECIST 1.1 time-point (overall) responses; NE = not evaluable, also the reading of a response
# that is missing or not one of these (validators/readings.py): no response is assumed.
OVERALL_RESPONSES = ("CR", "PR", "SD", "PD", "NE")
NOT_EVALUABLE = "NE"
IMAGING_METHODS = ("CT", "MRI", "PET-CT", "other")
# Severity (CDISC AESEV) in a trial not graded by CTCAE ([trial] grading = "severity"): tables
# order and count it by its grade level (data/cdisc/severity_grades.csv; validators/enrich.py).
SEVERITIES = tuple(severity_levels())
IMPUTATION_FLAGS = ("D", "M")  # a partial date completed: D the day, M the month and day (readers/partial_dates.py)


def _true_where_null(expression: pl.Expr, *columns: str) -> pl.Expr:
    """A row check that does not apply when one of its inputs is missing (another check says so)."""
    missing = pl.any_horizontal([pl.col(column).is_null() for column in columns])
    return missing | expression


def _check(name: str):
    """A check on whole records declared in validators/checks.py; its problem text is taken from there."""
    return pa.dataframe_check(name=name, error=FRAME_CHECKS[name].error)


def _codes(values) -> str:
    return " / ".join(f"`{value}`" for value in values)


def _lab_test_codes() -> str:
    return ", ".join(f"`{code}`" for code in lab_test_catalogue())


def _lab_criterion_units() -> str:
    return ", ".join(f"{code} `{test.criterion_unit}`" for code, test in lab_test_catalogue().items())


class SubjectSchema(pa.DataFrameModel):
    subject_id: str = pa.Field(nullable=False, unique=True, description="subject identifier, e.g. `NPC-01-0007`")
    site_id: str = pa.Field(nullable=False, description="enrolling site")
    arm: str = pa.Field(nullable=False, description="treatment arm (single-arm trials have one value)")
    sex: str = pa.Field(isin=["M", "F"], description="sex")
    age: int = pa.Field(ge=18, le=100, description="age at enrolment, years (adults)")
    enrolment_date: pl.Date = pa.Field(nullable=False, description="date of enrolment")
    recurrence_type: str = pa.Field(
        nullable=True,
        isin=["local", "regional", "locoregional", "distant", "locoregional_distant"],
        description="site of recurrence at entry",
    )
    prior_reirradiation: str = pa.Field(nullable=True, isin=list(YES_NO), description="nasopharynx re-irradiated before entry")
    end_of_treatment_date: pl.Date = pa.Field(nullable=True, description="last day of study treatment; empty while on treatment")
    end_of_treatment_reason: str = pa.Field(
        nullable=True, isin=["progression", "toxicity", "death", "withdrawal", "completed", "other", "not_recorded"],
        description="why treatment ended; empty while on treatment (`not_recorded`: the data give an end date without a reason)",
    )
    last_contact_date: pl.Date = pa.Field(nullable=False, description="last date the subject was known alive or died")
    death_date: pl.Date = pa.Field(nullable=True, description="date of death; empty if alive")
    death_cause: str = pa.Field(
        nullable=True, isin=["disease_progression", "adverse_event", "other", "unknown"],
        description="cause of death; empty if alive (`unknown`: a death recorded without its cause)"
    )

    @_check("death_after_enrolment")
    def death_after_enrolment(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("death_date") >= pl.col("enrolment_date")
        return data.lazyframe.select(_true_where_null(rule, "death_date", "enrolment_date"))

    @_check("death_has_cause")
    def death_has_cause(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("death_date").is_null() == pl.col("death_cause").is_null())

    @_check("end_of_treatment_has_reason")
    def end_of_treatment_has_reason(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("end_of_treatment_date").is_null() == pl.col("end_of_treatment_reason").is_null())

    class Config:
        strict = False
        description = "One row per enrolled subject"


class _SubjectRecords(pa.DataFrameModel):
    """Records that belong to a subject: the subject must be among the clean subjects."""

    @_check("subject_known")
    def subject_known(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_subject_known"), "subject_id"))

    class Config:
        strict = False


class ExposureSchema(_SubjectRecords):
    subject_id: str = pa.Field(nullable=False, description="subject identifier")
    agent: str = pa.Field(nullable=False, description="agent id from the trial config (`[[agents]]` `id`)")
    start_date: pl.Date = pa.Field(nullable=False, description="first day of the record")
    end_date: pl.Date = pa.Field(nullable=False, description="last day of the record")
    dose_mg: float = pa.Field(ge=0, nullable=False, description="dose actually given per administration, mg (0 when held)")
    planned_dose_mg: float = pa.Field(
        ge=0, nullable=False,
        description="protocol dose at that time, mg: the agent's `dose_mg` in the trial config, or its arm's `doses_mg` "
        "(0 for a placebo)",
    )
    route: str = pa.Field(nullable=True, description="route of administration: the agent's `route` in the trial config")
    frequency: str = pa.Field(nullable=True, description="dosing frequency: the agent's `frequency` in the trial config")
    adjustment: str = pa.Field(isin=list(ADJUSTMENTS), nullable=False, description="change against the previous record")
    adjustment_reason: str = pa.Field(
        nullable=True,
        description=f"why the dose changed: the CTCAE term of the adverse event that caused it, or `{OTHER_REASON}`",
    )

    @_check("agent_known")
    def agent_known(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_agent_known"), "agent"))

    @_check("dose_not_above_planned")
    def dose_not_above_planned(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("dose_mg") <= pl.col("planned_dose_mg")
        return data.lazyframe.select(_true_where_null(rule, "dose_mg", "planned_dose_mg"))

    @_check("dose_at_a_dose_level")
    def dose_at_a_dose_level(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # Only when the config gives the agent's dose levels; a dose of 0 (a hold) is no level.
        levels = pl.col("_agent_dose_levels")
        rule = (pl.col("dose_mg") <= 0) | (levels.list.len() == 0) | levels.list.contains(pl.col("dose_mg"))
        return data.lazyframe.select(_true_where_null(rule, "dose_mg", "_agent_dose_levels"))

    @_check("planned_dose_is_agent_dose")
    def planned_dose_is_agent_dose(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("planned_dose_mg") == pl.col("_agent_dose_mg")
        return data.lazyframe.select(_true_where_null(rule, "planned_dose_mg", "_agent_dose_mg"))

    @_check("route_is_agent_route")
    def route_is_agent_route(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("route") == pl.col("_agent_route")
        return data.lazyframe.select(_true_where_null(rule, "route", "_agent_route"))

    @_check("frequency_is_agent_frequency")
    def frequency_is_agent_frequency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("frequency") == pl.col("_agent_frequency")
        return data.lazyframe.select(_true_where_null(rule, "frequency", "_agent_frequency"))

    @_check("end_not_before_start")
    def end_not_before_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("end_date") >= pl.col("start_date")
        return data.lazyframe.select(_true_where_null(rule, "start_date", "end_date"))

    @_check("dose_zero_when_held")
    def dose_zero_when_held(cls, data: pa.PolarsData) -> pl.LazyFrame:
        held_with_dose = (pl.col("adjustment") == "held") & (pl.col("dose_mg") != 0)
        # A placebo (planned dose 0) is given at dose 0: that is an administration, not a hold.
        placebo = (pl.col("planned_dose_mg") == 0).fill_null(False)
        zero_dose_not_stopped = (pl.col("dose_mg") == 0) & ~placebo & ~pl.col("adjustment").is_in(list(NOT_DOSED))
        rule = ~held_with_dose & ~zero_dose_not_stopped
        return data.lazyframe.select(_true_where_null(rule, "dose_mg", "adjustment"))

    @_check("adjustment_has_reason")
    def adjustment_has_reason(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = ~pl.col("adjustment").is_in(list(DOSE_CHANGES)) | pl.col("adjustment_reason").is_not_null()
        return data.lazyframe.select(_true_where_null(rule, "adjustment"))

    @_check("adjustment_reason_known")
    def adjustment_reason_known(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_reason_known"), "_reason_known"))

    class Config:
        strict = False
        description = "One row per administration record"


class AdverseEventSchema(_SubjectRecords):
    ae_id: str = pa.Field(nullable=False, unique=True, description="record identifier")
    subject_id: str = pa.Field(nullable=False, description="subject identifier")
    verbatim_term: str = pa.Field(nullable=True, description="the investigator's words")
    ctcae_term: str = pa.Field(
        nullable=True,
        description="CTCAE term as coded (case and spacing are not errors); may be empty when `meddra_pt` is given "
        "(a trial coded in MedDRA, or graded by severity)",
    )
    other_specify: str = pa.Field(
        nullable=True, description="verbatim specification, for an \"<SOC> - Other, specify\" term"
    )
    grade: int = pa.Field(
        in_range={"min_value": 1, "max_value": 5}, nullable=False,
        description="CTCAE grade; in a trial graded by severity, taken from `severity` (mild 1, moderate 2, severe 3; fatal 5)",
    )
    onset_date: pl.Date = pa.Field(nullable=False, description="first day of the event")
    resolution_date: pl.Date = pa.Field(nullable=True, description="day the event resolved; empty while ongoing")
    serious: str = pa.Field(isin=list(YES_NO), nullable=False, description="ICH E2A seriousness")
    serious_criteria: str = pa.Field(
        nullable=True,
        description=f"`;`-separated from {', '.join(f'`{criterion}`' for criterion in SERIOUS_CRITERIA)}; empty when not serious",
    )
    outcome: str = pa.Field(isin=list(OUTCOMES), nullable=False, description="outcome of the event")
    attribution: str = pa.Field(
        alias="attribution_.+", regex=True, isin=list(ATTRIBUTION_LEVELS), nullable=False,
        description="relatedness to the agent; one column per agent of the trial config",
    )
    action: str = pa.Field(
        alias="action_.+", regex=True, isin=list(ACTIONS), nullable=True,
        description="action taken with the agent; one column per agent of the trial config",
    )
    awareness_date: pl.Date = pa.Field(
        nullable=True, description="day the sponsor became aware (day 0 of the expedited-report clock)"
    )
    expedited_report_date: pl.Date = pa.Field(
        nullable=True, required=False,
        description="day the expedited (SUSAR) report went to the regulator; empty until submitted",
    )
    meddra_pt: str = pa.Field(
        nullable=True, required=False,
        description="MedDRA preferred term as coded (SDTM AEDECOD); tables group by it when given",
    )
    meddra_soc: str = pa.Field(
        nullable=True, required=False,
        description="MedDRA primary system organ class as coded (SDTM AEBODSYS); when empty, the CTCAE term's SOC",
    )
    meddra_llt: str = pa.Field(nullable=True, required=False, description="MedDRA lowest level term (SDTM AELLT)")
    meddra_hlt: str = pa.Field(nullable=True, required=False, description="MedDRA high level term (SDTM AEHLT)")
    severity: str = pa.Field(
        isin=list(SEVERITIES), nullable=True, required=False,
        description="severity (SDTM AESEV); the grading of a trial with `[trial] grading = \"severity\"`",
    )
    onset_date_given: str = pa.Field(
        nullable=True, required=False,
        description="the onset date as the source gives it (ISO 8601 text, which may be partial, e.g. `2014-03`)"
    )
    onset_date_imputed: str = pa.Field(
        isin=list(IMPUTATION_FLAGS), nullable=True, required=False,
        description="how a partial onset date was completed: `D` the day, `M` the month and day (docs/sources.md, Partial dates)",
    )
    resolution_date_given: str = pa.Field(
        nullable=True, required=False,
        description="the resolution date as the source gives it (ISO 8601 text, which may be partial)"
    )
    resolution_date_imputed: str = pa.Field(
        isin=list(IMPUTATION_FLAGS), nullable=True, required=False, description="how a partial resolution date was completed"
    )
    treatment: str = pa.Field(
        nullable=True, required=False,
        description=f"what was given for the event: `{SEPARATOR}`-separated from {_codes(ae_treatments())} "
        f"(`{NO_TREATMENT}` alone when nothing was given; list: data/ctcae/ae_treatments.csv); empty when not recorded",
    )

    @_check("term_given")
    def term_given(cls, data: pa.PolarsData) -> pl.LazyFrame:
        given = pl.col("ctcae_term").is_not_null() | pl.col("meddra_pt").is_not_null() | pl.col("verbatim_term").is_not_null()
        return data.lazyframe.select(given)

    @_check("term_coded")
    def term_coded(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # Only the investigator's words (coding pending): counted under them; term_given queries none at all.
        coded = pl.col("ctcae_term").is_not_null() | pl.col("meddra_pt").is_not_null()
        return data.lazyframe.select(_true_where_null(coded, "verbatim_term"))

    @_check("term_known")
    def term_known(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # A term coded in MedDRA (meddra_pt) is tabled as coded: CTCAE only enriches it when it knows it.
        return data.lazyframe.select(_true_where_null(pl.col("_term").is_not_null(), "ctcae_term") | pl.col("meddra_pt").is_not_null())

    @_check("grade_allowed_for_term")
    def grade_allowed_for_term(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_grade_allowed"), "_grade_allowed"))

    @_check("other_specify_given")
    def other_specify_given(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = ~pl.col("_other_specify") | pl.col("other_specify").is_not_null()
        return data.lazyframe.select(_true_where_null(rule, "_other_specify"))

    @_check("resolution_not_before_onset")
    def resolution_not_before_onset(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("resolution_date") >= pl.col("onset_date")
        return data.lazyframe.select(_true_where_null(rule, "resolution_date", "onset_date"))

    @_check("onset_not_before_enrolment")
    def onset_not_before_enrolment(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("onset_date") >= pl.col("_enrolment_date")
        return data.lazyframe.select(_true_where_null(rule, "onset_date", "_enrolment_date"))

    @_check("fatal_iff_grade_5")
    def fatal_iff_grade_5(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # CTCAE only: a severity (mild / moderate / severe) says nothing of death.
        rule = ((pl.col("grade") == 5) == (pl.col("outcome") == "fatal")) | ~pl.col("_ctcae_graded")
        return data.lazyframe.select(_true_where_null(rule, "grade", "outcome"))

    @_check("serious_criteria_valid")
    def serious_criteria_valid(cls, data: pa.PolarsData) -> pl.LazyFrame:
        criteria = pl.col("serious_criteria").str.split(";").list.eval(pl.element().str.strip_chars())
        rule = criteria.list.eval(pl.element().is_in(list(SERIOUS_CRITERIA))).list.all()
        return data.lazyframe.select(_true_where_null(rule, "serious_criteria"))

    @_check("serious_has_criteria")
    def serious_has_criteria(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = (pl.col("serious") == "Y") == pl.col("serious_criteria").is_not_null()
        return data.lazyframe.select(_true_where_null(rule, "serious"))

    @_check("grade_5_is_serious")
    def grade_5_is_serious(cls, data: pa.PolarsData) -> pl.LazyFrame:
        has_death = pl.col("serious_criteria").fill_null("").str.contains("death")
        rule = (pl.col("grade") != 5) | ((pl.col("serious") == "Y") & has_death)
        return data.lazyframe.select(_true_where_null(rule, "grade", "serious"))

    @_check("serious_has_awareness_date")
    def serious_has_awareness_date(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = (pl.col("serious") != "Y") | pl.col("awareness_date").is_not_null()
        return data.lazyframe.select(_true_where_null(rule, "serious"))

    @_check("report_not_before_awareness")
    def report_not_before_awareness(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("expedited_report_date") >= pl.col("awareness_date")
        return data.lazyframe.select(_true_where_null(rule, "expedited_report_date", "awareness_date"))

    @_check("treatment_valid")
    def treatment_valid(cls, data: pa.PolarsData) -> pl.LazyFrame:
        given = pl.col("treatment").str.split(SEPARATOR).list.eval(pl.element().str.strip_chars())
        known = given.list.eval(pl.element().is_in(list(ae_treatments()))).list.all()
        none_alone = ~given.list.contains(NO_TREATMENT) | (given.list.len() == 1)
        return data.lazyframe.select(_true_where_null(known & none_alone, "treatment"))

    class Config:
        strict = False
        description = "One row per adverse event record"


class LabSchema(_SubjectRecords):
    subject_id: str = pa.Field(nullable=False, description="subject identifier")
    collection_date: pl.Date = pa.Field(nullable=False, description="date the sample was taken")
    test_code: str = pa.Field(
        nullable=False,
        description=f"test code; the tests of the CTCAE grading criteria ({_lab_test_codes()}) are graded, "
        "other tests (e.g. `TSH`) are kept and not graded",
    )
    value: float = pa.Field(ge=0, nullable=False, description="result, in `unit` (dipstick: 0 = negative, 1-4 = 1+ to 4+)")
    unit: str = pa.Field(
        nullable=True,
        description="unit of `value`, `lln` and `uln`; for a graded test the SI unit its CTCAE criterion is written in, "
        f"or another spelling of it: {_lab_criterion_units()}",
    )
    lln: float = pa.Field(nullable=True, description="lower limit of normal, in `unit`")
    uln: float = pa.Field(nullable=True, description="upper limit of normal, in `unit`")

    @_check("normal_range_ordered")
    def normal_range_ordered(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("lln") <= pl.col("uln"), "lln", "uln"))

    @_check("unit_accepted_for_test")
    def unit_accepted_for_test(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_unit_accepted"), "_unit_accepted"))

    @_check("unit_is_criterion_unit")
    def unit_is_criterion_unit(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_unit_factor") == 1, "_unit_factor"))

    @_check("value_allowed_for_test")
    def value_allowed_for_test(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # A negative value is the range check's to query (it excludes the record).
        rule = (pl.col("value") < 0) | pl.col("_allowed_values").list.contains(pl.col("value"))
        return data.lazyframe.select(_true_where_null(rule, "value", "_allowed_values"))

    class Config:
        strict = False
        description = "One row per lab result"


class VitalSchema(_SubjectRecords):
    subject_id: str = pa.Field(nullable=False, description="subject identifier")
    measure_date: pl.Date = pa.Field(nullable=False, description="date of the measurement")
    sbp_mmhg: int = pa.Field(in_range={"min_value": 50, "max_value": 300}, nullable=True, description="systolic blood pressure, mmHg")
    dbp_mmhg: int = pa.Field(in_range={"min_value": 20, "max_value": 200}, nullable=True, description="diastolic blood pressure, mmHg")
    heart_rate_bpm: int = pa.Field(in_range={"min_value": 20, "max_value": 250}, nullable=True, description="heart rate, beats per minute")
    weight_kg: float = pa.Field(in_range={"min_value": 20, "max_value": 300}, nullable=True, description="body weight, kg")

    @_check("diastolic_below_systolic")
    def diastolic_below_systolic(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("dbp_mmhg") < pl.col("sbp_mmhg"), "sbp_mmhg", "dbp_mmhg"))

    class Config:
        strict = False
        description = "One row per visit measurement of vital signs"


class TumourAssessmentSchema(_SubjectRecords):
    subject_id: str = pa.Field(nullable=False, description="subject identifier")
    visit: str = pa.Field(nullable=True, required=False, description="visit label, e.g. `Week 8` or `Unscheduled`")
    assessment_date: pl.Date = pa.Field(
        nullable=False, description="date of the assessment (of its imaging); assessments after the data cut are not in the cut"
    )
    overall_response: str = pa.Field(
        isin=list(OVERALL_RESPONSES), nullable=False,
        description="RECIST 1.1 time-point response: complete response, partial response, stable disease, "
        "progressive disease, or not evaluable; a code in another case or spacing (`pd`), or a synonym in "
        "`data/recist/overall_response_synonyms.csv` (`Progressive disease`), is queried and read as that code; "
        "a missing or any other value is queried and read as `NE`",
    )
    new_lesions: str = pa.Field(
        isin=list(YES_NO), nullable=True, required=False,
        description="new lesions seen at this assessment (`Y` makes the assessment progression); a value other than "
        "`Y` or `N` is queried: `No` in any case is read as `N`, any other as `Y`",
    )
    method: str = pa.Field(
        isin=list(IMAGING_METHODS), nullable=True, required=False, description="imaging method"
    )

    @_check("assessment_not_before_enrolment")
    def assessment_not_before_enrolment(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("assessment_date") >= pl.col("_enrolment_date")
        return data.lazyframe.select(_true_where_null(rule, "assessment_date", "_enrolment_date"))

    @_check("one_response_per_assessment_date")
    def one_response_per_assessment_date(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # Every record of a (subject, date) with two responses is queried, so both are looked at.
        responses = pl.col("overall_response").n_unique().over("subject_id", "assessment_date")
        return data.lazyframe.select(_true_where_null(responses == 1, "subject_id", "assessment_date"))

    class Config:
        strict = False
        description = "One row per tumour assessment (RECIST 1.1 time-point response) of a subject"


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "subjects": SubjectSchema,
    "exposure": ExposureSchema,
    "adverse_events": AdverseEventSchema,
    "labs": LabSchema,
    "vitals": VitalSchema,
    "tumour_assessments": TumourAssessmentSchema,
}
