"""Pandera models, one per source, validated on typed, enriched Polars frames.

Columns starting with ``_`` are added by enrichment before validation (the CTCAE dictionary and
the subject list joined on), so that the CTCAE-aware checks are plain row-wise expressions.
Every check carries an ``error`` text that becomes the query a data manager reads.
"""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

from ctcae.attribution import ATTRIBUTION_LEVELS

SERIOUS_CRITERIA = (
    "death", "life_threatening", "hospitalisation", "disability", "congenital_anomaly",
    "important_medical_event",
)
OUTCOMES = ("recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown")
ACTIONS = ("dose_not_changed", "dose_reduced", "drug_interrupted", "drug_withdrawn", "not_applicable")
YES_NO = ("Y", "N")


def _true_where_null(expression: pl.Expr, *columns: str) -> pl.Expr:
    """A row check that does not apply when one of its inputs is missing (another check says so)."""
    missing = pl.any_horizontal([pl.col(column).is_null() for column in columns])
    return missing | expression


class SubjectSchema(pa.DataFrameModel):
    subject_id: str = pa.Field(nullable=False, unique=True, description="Subject identifier")
    site_id: str = pa.Field(nullable=False, description="Enrolling site")
    arm: str = pa.Field(nullable=False, description="Treatment arm")
    sex: str = pa.Field(isin=["M", "F"], description="Sex, M or F")
    age: int = pa.Field(ge=18, le=100, description="Age at enrolment, years (adults)")
    enrolment_date: pl.Date = pa.Field(nullable=False, description="Enrolment date")
    recurrence_type: str = pa.Field(
        nullable=True,
        isin=["local", "regional", "locoregional", "distant", "locoregional_distant"],
        description="Site of recurrence at entry",
    )
    prior_reirradiation: str = pa.Field(nullable=True, isin=list(YES_NO), description="Re-irradiated before entry")
    end_of_treatment_date: pl.Date = pa.Field(nullable=True, description="End of treatment")
    end_of_treatment_reason: str = pa.Field(
        nullable=True, isin=["progression", "toxicity", "death", "withdrawal", "completed"],
        description="Reason treatment ended",
    )
    last_contact_date: pl.Date = pa.Field(nullable=False, description="Last date known alive or died")
    death_date: pl.Date = pa.Field(nullable=True, description="Date of death")
    death_cause: str = pa.Field(nullable=True, isin=["disease_progression", "adverse_event", "other"])

    @pa.dataframe_check(name="death_after_enrolment", error="death_date is before enrolment_date")
    def death_after_enrolment(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("death_date") >= pl.col("enrolment_date")
        return data.lazyframe.select(_true_where_null(rule, "death_date", "enrolment_date"))

    @pa.dataframe_check(name="death_has_cause", error="death_date and death_cause must be given together")
    def death_has_cause(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("death_date").is_null() == pl.col("death_cause").is_null())

    class Config:
        strict = False
        description = "One row per enrolled subject"


class _SubjectRecords(pa.DataFrameModel):
    """Records that belong to a subject: the subject must be among the clean subjects."""

    @pa.dataframe_check(name="subject_known", error="subject_id is not among the subjects (absent from the subjects file, or its row there is excluded)")
    def subject_known(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_subject_known"), "subject_id"))

    class Config:
        strict = False


class ExposureSchema(_SubjectRecords):
    subject_id: str = pa.Field(nullable=False)
    agent: str = pa.Field(nullable=False, description="Agent id from the trial config")
    start_date: pl.Date = pa.Field(nullable=False)
    end_date: pl.Date = pa.Field(nullable=False)
    dose_mg: float = pa.Field(ge=0, nullable=False, description="Dose given per administration")
    planned_dose_mg: float = pa.Field(gt=0, nullable=False)
    route: str = pa.Field(nullable=True)
    frequency: str = pa.Field(nullable=True)
    adjustment: str = pa.Field(isin=["none", "reduced", "held", "discontinued"], nullable=False)
    adjustment_reason: str = pa.Field(nullable=True)

    @pa.dataframe_check(name="agent_known", error="agent is not one of the trial config's agents")
    def agent_known(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_agent_known"), "agent"))

    @pa.dataframe_check(name="dose_not_above_planned", error="dose_mg is above planned_dose_mg")
    def dose_not_above_planned(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("dose_mg") <= pl.col("planned_dose_mg")
        return data.lazyframe.select(_true_where_null(rule, "dose_mg", "planned_dose_mg"))

    @pa.dataframe_check(name="end_not_before_start", error="end_date is before start_date")
    def end_not_before_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("end_date") >= pl.col("start_date")
        return data.lazyframe.select(_true_where_null(rule, "start_date", "end_date"))

    class Config:
        strict = False
        description = "One row per administration record"


class AdverseEventSchema(_SubjectRecords):
    ae_id: str = pa.Field(nullable=False, unique=True, description="AE record identifier")
    subject_id: str = pa.Field(nullable=False)
    verbatim_term: str = pa.Field(nullable=True)
    ctcae_term: str = pa.Field(nullable=False, description="CTCAE term as coded")
    other_specify: str = pa.Field(nullable=True)
    grade: int = pa.Field(in_range={"min_value": 1, "max_value": 5}, nullable=False, description="CTCAE grade")
    onset_date: pl.Date = pa.Field(nullable=False)
    resolution_date: pl.Date = pa.Field(nullable=True)
    serious: str = pa.Field(isin=list(YES_NO), nullable=False)
    serious_criteria: str = pa.Field(nullable=True)
    outcome: str = pa.Field(isin=list(OUTCOMES), nullable=False)
    awareness_date: pl.Date = pa.Field(nullable=True)
    expedited_report_date: pl.Date = pa.Field(nullable=True, description="Expedited report submitted")
    attribution: str = pa.Field(alias="attribution_.+", regex=True, isin=list(ATTRIBUTION_LEVELS), nullable=False)
    action: str = pa.Field(alias="action_.+", regex=True, isin=list(ACTIONS), nullable=True)

    @pa.dataframe_check(name="term_known", error="ctcae_term is not a term of the trial's CTCAE version")
    def term_known(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_term").is_not_null(), "ctcae_term"))

    @pa.dataframe_check(name="grade_allowed_for_term", error="grade is not allowed for this CTCAE term")
    def grade_allowed_for_term(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("_grade_allowed"), "_grade_allowed"))

    @pa.dataframe_check(name="other_specify_given", error="an \"Other, specify\" term needs other_specify")
    def other_specify_given(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = ~pl.col("_other_specify") | pl.col("other_specify").is_not_null()
        return data.lazyframe.select(_true_where_null(rule, "_other_specify"))

    @pa.dataframe_check(name="resolution_not_before_onset", error="resolution_date is before onset_date")
    def resolution_not_before_onset(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("resolution_date") >= pl.col("onset_date")
        return data.lazyframe.select(_true_where_null(rule, "resolution_date", "onset_date"))

    @pa.dataframe_check(name="onset_not_before_enrolment", error="onset_date is before the subject's enrolment_date")
    def onset_not_before_enrolment(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("onset_date") >= pl.col("_enrolment_date")
        return data.lazyframe.select(_true_where_null(rule, "onset_date", "_enrolment_date"))

    @pa.dataframe_check(name="fatal_iff_grade_5", error="outcome must be fatal exactly when grade is 5")
    def fatal_iff_grade_5(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = (pl.col("grade") == 5) == (pl.col("outcome") == "fatal")
        return data.lazyframe.select(_true_where_null(rule, "grade", "outcome"))

    @pa.dataframe_check(name="serious_criteria_valid", error="serious_criteria must be ;-separated values from the ICH E2A list")
    def serious_criteria_valid(cls, data: pa.PolarsData) -> pl.LazyFrame:
        criteria = pl.col("serious_criteria").str.split(";").list.eval(pl.element().str.strip_chars())
        rule = criteria.list.eval(pl.element().is_in(list(SERIOUS_CRITERIA))).list.all()
        return data.lazyframe.select(_true_where_null(rule, "serious_criteria"))

    @pa.dataframe_check(name="serious_has_criteria", error="serious must be Y exactly when serious_criteria are given")
    def serious_has_criteria(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = (pl.col("serious") == "Y") == pl.col("serious_criteria").is_not_null()
        return data.lazyframe.select(_true_where_null(rule, "serious"))

    @pa.dataframe_check(name="grade_5_is_serious", error="a grade 5 event must be serious with criterion death")
    def grade_5_is_serious(cls, data: pa.PolarsData) -> pl.LazyFrame:
        has_death = pl.col("serious_criteria").fill_null("").str.contains("death")
        rule = (pl.col("grade") != 5) | ((pl.col("serious") == "Y") & has_death)
        return data.lazyframe.select(_true_where_null(rule, "grade", "serious"))

    @pa.dataframe_check(name="serious_has_awareness_date", error="a serious event needs awareness_date (day 0 of the expedited-report clock)")
    def serious_has_awareness_date(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = (pl.col("serious") != "Y") | pl.col("awareness_date").is_not_null()
        return data.lazyframe.select(_true_where_null(rule, "serious"))

    @pa.dataframe_check(name="report_not_before_awareness", error="expedited_report_date is before awareness_date")
    def report_not_before_awareness(cls, data: pa.PolarsData) -> pl.LazyFrame:
        rule = pl.col("expedited_report_date") >= pl.col("awareness_date")
        return data.lazyframe.select(_true_where_null(rule, "expedited_report_date", "awareness_date"))

    class Config:
        strict = False
        description = "One row per adverse event record"


class LabSchema(_SubjectRecords):
    subject_id: str = pa.Field(nullable=False)
    collection_date: pl.Date = pa.Field(nullable=False)
    test_code: str = pa.Field(nullable=False)
    value: float = pa.Field(ge=0, nullable=False, description="Result; never negative")
    unit: str = pa.Field(nullable=True)
    lln: float = pa.Field(nullable=True)
    uln: float = pa.Field(nullable=True)

    @pa.dataframe_check(name="normal_range_ordered", error="lln is above uln")
    def normal_range_ordered(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("lln") <= pl.col("uln"), "lln", "uln"))

    class Config:
        strict = False
        description = "One row per lab result"


class VitalSchema(_SubjectRecords):
    subject_id: str = pa.Field(nullable=False)
    measure_date: pl.Date = pa.Field(nullable=False)
    sbp_mmhg: int = pa.Field(in_range={"min_value": 50, "max_value": 300}, nullable=True)
    dbp_mmhg: int = pa.Field(in_range={"min_value": 20, "max_value": 200}, nullable=True)
    heart_rate_bpm: int = pa.Field(in_range={"min_value": 20, "max_value": 250}, nullable=True)
    weight_kg: float = pa.Field(in_range={"min_value": 20, "max_value": 300}, nullable=True)

    @pa.dataframe_check(name="diastolic_below_systolic", error="dbp_mmhg is not below sbp_mmhg")
    def diastolic_below_systolic(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_true_where_null(pl.col("dbp_mmhg") < pl.col("sbp_mmhg"), "sbp_mmhg", "dbp_mmhg"))

    class Config:
        strict = False
        description = "One row per vital-signs measurement"


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "subjects": SubjectSchema,
    "exposure": ExposureSchema,
    "adverse_events": AdverseEventSchema,
    "labs": LabSchema,
    "vitals": VitalSchema,
}
