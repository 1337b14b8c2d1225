"""What the checks need besides the source itself, joined on before validation.

Each function adds ``_``-prefixed columns to a typed source frame, so that every check in
``validators/schemas.py`` is a plain row-wise expression:

* the clean subjects (``_subject_known``; adverse events and tumour assessments also get
  ``_enrolment_date``);
* the trial config's agents, for exposure (``_agent_known``, route, frequency, dose, dose levels);
* the CTCAE dictionary: the coded term of an adverse event, the reason of a dose change;
* the lab test catalogue of the CTCAE grading criteria (``ctcae.criteria``): the units a test
  accepts and the values it allows;
* for tumour assessments, the code each written response and new-lesion value is read as
  (``_response_read``, ``_new_lesions_read``; validators/recist.py), used by the conservative
  readings after the value itself has been queried and set to missing.

A column ``_detail_<check>`` is added to the problem text of that check's query (what the
config says, the accepted units, the dictionary's suggestions), so a query says what is expected.
A column ``_reading_<field>`` is the reading a query on a value of that field says the counts
used, when it depends on the value (a response written as ``Progressive disease`` counted as PD);
without one, the field's declared consequence (validators/checks.py) is said.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ctcae.criteria import lab_test_catalogue, normalise_unit
from ctcae.matching import match_term
from ctcae.terms import CtcaeDictionary
from trial.config import Agent, Arm
from validators.recist import MISSING_RESPONSE_READING, new_lesions_reading, read_new_lesions, read_response, response_reading
from validators.schemas import OTHER_REASON
from validators.treatments import severity_levels

DETAIL_PREFIX = "_detail_"
READING_PREFIX = "_reading_"


def enrich(
    source: str,
    frame: pl.DataFrame,
    *,
    agents: Sequence[Agent],
    dictionary: CtcaeDictionary | None,
    subjects: pl.DataFrame | None,
    grading: str = "ctcae",
    arms: Sequence[Arm] = (),
) -> pl.DataFrame:
    """The typed frame of a source with every column its checks need (``grading``: the trial's
    ``[trial] grading``; ``arms``: its ``[[arms]]``, whose planned doses an exposure record is checked against)."""
    if subjects is not None:
        frame = with_subjects(frame, source, subjects)
    if source == "exposure":
        frame = with_agents(frame, agents)
        if subjects is not None and "_arm" in subjects.columns:
            frame = with_arm_doses(frame, arms, subjects)
        frame = with_reason_terms(frame, dictionary)
    if source == "adverse_events":
        frame = with_grading(frame, grading)
    if source == "adverse_events" and dictionary is not None:
        frame = with_coded_terms(frame, dictionary)
        if grading != "ctcae":
            # CTCAE's allowed grades do not apply to severities.
            frame = frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("_grade_allowed"))
    if source == "labs":
        frame = with_lab_tests(frame)
    if source == "tumour_assessments":
        frame = with_tumour_readings(frame)
    return frame


def with_tumour_readings(frame: pl.DataFrame) -> pl.DataFrame:
    """``_response_read`` and ``_new_lesions_read``: the code each written value is read as
    (missing when it is empty or, for a response, names no code), and ``_reading_<field>``: the
    reading a query on that value states (validators/recist.py)."""
    columns = []
    for field, read_as, reading, name in (
        ("overall_response", read_response, response_reading, "_response_read"),
        ("new_lesions", read_new_lesions, new_lesions_reading, "_new_lesions_read"),
    ):
        if field not in frame.columns:
            columns += [pl.lit(None, dtype=pl.String).alias(name), pl.lit(None, dtype=pl.String).alias(READING_PREFIX + field)]
            continue
        values = frame[field].drop_nulls().unique().to_list()
        columns += [
            pl.col(field).replace_strict({v: read_as(v) for v in values}, default=None, return_dtype=pl.String).alias(name),
            pl.col(field)
            .replace_strict({v: reading(v) for v in values}, default=None, return_dtype=pl.String)
            .fill_null(pl.lit(MISSING_RESPONSE_READING if field == "overall_response" else None, dtype=pl.String))
            .alias(READING_PREFIX + field),
        ]
    return frame.with_columns(columns)


def with_subjects(frame: pl.DataFrame, source: str, subjects: pl.DataFrame) -> pl.DataFrame:
    """``_subject_known`` (and, for adverse events and tumour assessments, the subject's ``_enrolment_date``)."""
    if source in ("adverse_events", "tumour_assessments"):
        return frame.join(subjects, on="subject_id", how="left", maintain_order="left").with_columns(
            pl.col("_subject_known").fill_null(False)
        )
    # A membership flag, not a join: the large sources (labs, vitals) are not copied.
    return frame.with_columns(pl.col("subject_id").is_in(subjects["subject_id"].implode()).alias("_subject_known"))


def with_agents(frame: pl.DataFrame, agents: Sequence[Agent]) -> pl.DataFrame:
    """Each exposure record with its agent's configuration (all missing for an unknown agent)."""
    configured = pl.DataFrame(
        {
            "agent": [agent.id for agent in agents],
            "_agent_known": [True for _ in agents],
            "_agent_route": [agent.route for agent in agents],
            "_agent_frequency": [agent.frequency for agent in agents],
            "_agent_dose_mg": [float(agent.dose_mg) for agent in agents],
            "_agent_dose_levels": [[float(level) for level in agent.dose_levels_mg] for agent in agents],
            f"{DETAIL_PREFIX}route_is_agent_route": [f"the trial config has {agent.id} {agent.route}" for agent in agents],
            f"{DETAIL_PREFIX}frequency_is_agent_frequency": [
                f"the trial config has {agent.id} {agent.frequency}" for agent in agents
            ],
            f"{DETAIL_PREFIX}planned_dose_is_agent_dose": [
                f"the trial config has {agent.id} {_number(agent.dose_mg)} mg" for agent in agents
            ],
            f"{DETAIL_PREFIX}dose_at_a_dose_level": [
                f"{agent.id} dose levels: {', '.join(_number(level) for level in agent.dose_levels_mg)} mg" for agent in agents
            ],
        },
        schema_overrides={"_agent_dose_levels": pl.List(pl.Float64)},
    )
    return frame.join(configured, on="agent", how="left", maintain_order="left").with_columns(
        pl.col("_agent_known").fill_null(False)
    )


def with_grading(frame: pl.DataFrame, grading: str) -> pl.DataFrame:
    """``_ctcae_graded``; in a trial graded by severity, the grade is the severity's level
    (data/cdisc/severity_grades.csv: mild 1, moderate 2, severe 3), so that every table orders
    and counts it the one way; a missing or unknown severity leaves the grade as given."""
    frame = frame.with_columns(pl.lit(grading == "ctcae").alias("_ctcae_graded"))
    if grading == "ctcae" or "severity" not in frame.columns:
        return frame
    levels = severity_levels()
    level = pl.col("severity").str.strip_chars().str.to_uppercase().replace_strict(levels, default=None, return_dtype=pl.Int64)
    return frame.with_columns(pl.coalesce(level, pl.col("grade")).alias("grade"))


def with_arm_doses(frame: pl.DataFrame, arms: Sequence[Arm], subjects: pl.DataFrame) -> pl.DataFrame:
    """An exposure record's planned dose is checked against its subject's arm's dose of the agent
    (``[[arms]]`` ``doses_mg``) where the arm sets one, else the agent's ``dose_mg``."""
    overrides = [
        {"_arm": arm.value, "agent": agent, "_arm_dose_mg": float(dose), "_arm_detail": f"the trial config has {agent} {_number(dose)} mg in arm {arm.shown}"}
        for arm in arms
        for agent, dose in arm.doses_mg.items()
    ]
    if not overrides:
        return frame
    doses = pl.DataFrame(overrides, schema={"_arm": pl.String, "agent": pl.String, "_arm_dose_mg": pl.Float64, "_arm_detail": pl.String})
    detail = f"{DETAIL_PREFIX}planned_dose_is_agent_dose"
    return (
        frame.join(subjects.select("subject_id", "_arm"), on="subject_id", how="left", maintain_order="left")
        .join(doses, on=["_arm", "agent"], how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("_arm_dose_mg", "_agent_dose_mg").alias("_agent_dose_mg"),
            pl.coalesce("_arm_detail", detail).alias(detail),
        )
        .drop("_arm", "_arm_dose_mg", "_arm_detail")
    )


def with_coded_terms(frame: pl.DataFrame, dictionary: CtcaeDictionary) -> pl.DataFrame:
    """Each adverse event with its term as the dictionary knows it: ``_term``, ``_soc``,
    ``_other_specify``, ``_grade_allowed``, and the matcher's suggestions for an unknown term."""
    matches = match_terms(frame["ctcae_term"], dictionary).rename({"term": "ctcae_term"})
    frame = frame.join(matches, on="ctcae_term", how="left", maintain_order="left")
    # Membership, not a maximum: Eosinophilia allows grades 1 and 3 only.
    return frame.with_columns(
        pl.col("_allowed_grades").list.contains(pl.col("grade").cast(pl.Int8)).alias("_grade_allowed"),
        pl.col("_suggestions").alias(f"{DETAIL_PREFIX}term_known"),
    ).drop("_allowed_grades", "_suggestions")


def with_reason_terms(frame: pl.DataFrame, dictionary: CtcaeDictionary | None) -> pl.DataFrame:
    """``_reason_known``: the reason of a dose change is a CTCAE term or "other" (missing when no reason)."""
    if dictionary is None:
        return frame.with_columns(
            pl.lit(None, dtype=pl.Boolean).alias("_reason_known"),
            pl.lit(None, dtype=pl.String).alias(f"{DETAIL_PREFIX}adjustment_reason_known"),
        )
    matches = match_terms(frame["adjustment_reason"], dictionary).select(
        pl.col("term").alias("adjustment_reason"),
        (pl.col("_term").is_not_null() | (pl.col("term").str.to_lowercase() == OTHER_REASON)).alias("_reason_known"),
        pl.col("_suggestions").alias(f"{DETAIL_PREFIX}adjustment_reason_known"),
    )
    return frame.join(matches, on="adjustment_reason", how="left", maintain_order="left")


def match_terms(terms: pl.Series, dictionary: CtcaeDictionary) -> pl.DataFrame:
    """Resolve each distinct term once: exact (case and spacing folded) match, or suggestions."""
    rows = []
    for term in terms.drop_nulls().unique().sort():
        match = match_term(term, dictionary)
        info = dictionary.lookup(match.term) if match.term is not None and match.match == "exact" else None
        suggestions = [suggested for suggested, _ in match.suggestions]
        if match.match == "synonym" and match.term is not None:
            suggestions = [match.term] + [s for s in suggestions if s != match.term]
        suggestion_text = None
        if suggestions:
            lead = "known synonym of: " if match.match == "synonym" else "did you mean: "
            suggestion_text = lead + "; ".join(suggestions[:3])
        rows.append(
            {
                "term": term,
                "_term": info.term if info else None,
                "_soc": info.soc if info else None,
                "_allowed_grades": sorted(info.allowed_grades) if info else None,
                "_other_specify": info.other_specify if info else None,
                "_suggestions": suggestion_text,
            }
        )
    schema = {
        "term": pl.String,
        "_term": pl.String,
        "_soc": pl.String,
        "_allowed_grades": pl.List(pl.Int8),
        "_other_specify": pl.Boolean,
        "_suggestions": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def with_lab_tests(frame: pl.DataFrame) -> pl.DataFrame:
    """Each lab result with what the CTCAE grading criteria's test catalogue says of its unit and value.

    ``_unit_accepted``: the unit is one the catalogue accepts for the test; ``_unit_factor``: the
    factor from that unit to the SI unit the criterion is written in (1 for the SI unit and its
    other spellings); ``_allowed_values``: the only values the test can take (dipstick). All are
    missing for a test the catalogue does not have, or a unit not given.
    """
    by_code = {code.lower(): test for code, test in lab_test_catalogue().items()}
    rows = []
    for test_code, unit in frame.select("test_code", "unit").unique().iter_rows():
        test = by_code.get(test_code.lower()) if test_code is not None else None
        row = {"test_code": test_code, "unit": unit}
        if test is not None:
            if test.allowed_values is not None:
                row["_allowed_values"] = sorted(test.allowed_values)
                row[f"{DETAIL_PREFIX}value_allowed_for_test"] = (
                    f"{test.code} allows: {', '.join(_number(value) for value in sorted(test.allowed_values))}"
                )
            if unit is not None:
                factor = test.unit_factors.get(normalise_unit(unit))
                row["_unit_accepted"] = factor is not None
                row["_unit_factor"] = factor
                row[f"{DETAIL_PREFIX}unit_accepted_for_test"] = f"{test.code} accepts: {test.accepted_units()}"
                if factor is not None:
                    row[f"{DETAIL_PREFIX}unit_is_criterion_unit"] = (
                        f"{test.code} is graded in {test.criterion_unit}; 1 {unit} = {_number(factor)} {test.criterion_unit}"
                    )
        rows.append(row)
    schema = {
        "test_code": pl.String,
        "unit": pl.String,
        "_unit_accepted": pl.Boolean,
        "_unit_factor": pl.Float64,
        "_allowed_values": pl.List(pl.Float64),
        f"{DETAIL_PREFIX}unit_accepted_for_test": pl.String,
        f"{DETAIL_PREFIX}unit_is_criterion_unit": pl.String,
        f"{DETAIL_PREFIX}value_allowed_for_test": pl.String,
    }
    tests = pl.DataFrame(rows, schema=schema)
    return frame.join(tests, on=["test_code", "unit"], how="left", nulls_equal=True, maintain_order="left")


def _number(value: float) -> str:
    return f"{value:g}"
