"""Conservative readings: how a counted record with a doubtful field enters the safety counts.

Each reading is the one named in ``validators/checks.py`` and said in the record's query. They
are applied to the typed records after validation, so a record that fails a check is counted
the way that can only make the safety picture worse, never better:

* attribution missing or not on the scale: related to that agent, shown as ``not_assessed``;
* grade and outcome disagree (or the seriousness criteria say death): the worse one, grade 5
  with outcome fatal, so the event counts as a death;
* grade missing or outside 1-5: grade 3 until a grade is entered (5 when fatal);
* seriousness missing, invalid, or contradicted by criteria or a grade 5: serious;
* a duplicated or missing AE identifier: counted as its own record under a row-based identifier;
* a tumour assessment's overall response that names a RECIST 1.1 code in another case or
  spacing, or through a listed synonym (``Progressive disease``): that code; missing or any other
  value: not evaluable (NE), so no response (and no progression) is assumed from it;
* a tumour assessment's new_lesions other than Y or N: N or No in any case is no new lesions,
  any other value new lesions present (progression); validators/recist.py.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from ctcae.attribution import ATTRIBUTION_LEVELS
from validators.schemas import NOT_EVALUABLE

ROW = "_row"
NOT_ASSESSED = "not_assessed"
GRADE_WHEN_MISSING = 3

# Columns a reading always fills, so a counted record never has them missing (the store declares
# them NOT NULL): an AE's identifier, grade, seriousness and outcome, and its SOC (the coded one,
# else the CTCAE term's, else "Not coded to CTCAE": validators/validate.py); an exposure record's end.
FILLED_BY_READINGS: dict[str, tuple[str, ...]] = {
    "adverse_events": ("ae_id", "grade", "serious", "outcome", "meddra_soc"),
    "exposure": ("end_date",),
    "tumour_assessments": ("overall_response",),
}


def null_failed_values(frame: pl.DataFrame, failed: pl.DataFrame) -> pl.DataFrame:
    """Set each value that failed a column-level check to missing (``failed``: ROW, field)."""
    if failed.is_empty():
        return frame
    updates = []
    for field, rows in failed.group_by("field"):
        name = field[0]
        if name not in frame.columns:
            continue
        updates.append(
            pl.when(pl.col(ROW).is_in(rows[ROW].implode())).then(None).otherwise(pl.col(name)).alias(name)
        )
    return frame.with_columns(updates) if updates else frame


def read_conservatively(source: str, frame: pl.DataFrame, *, agent_ids: list[str]) -> pl.DataFrame:
    """Apply the source's conservative readings to its counted records."""
    if source == "adverse_events":
        return _read_adverse_events(frame, agent_ids)
    if source == "exposure":
        return _read_exposure(frame)
    if source == "vitals":
        return _read_vitals(frame)
    if source == "tumour_assessments":
        return _read_tumour_assessments(frame)
    return frame


def _read_adverse_events(frame: pl.DataFrame, agent_ids: list[str]) -> pl.DataFrame:
    criteria = pl.col("serious_criteria").fill_null("")
    death_criterion = criteria.str.split(";").list.eval(pl.element().str.strip_chars()).list.contains("death")
    fatal = (pl.col("outcome") == "fatal").fill_null(False) | (pl.col("grade_reported") == 5).fill_null(False) | death_criterion
    valid_grade = pl.col("grade").is_between(1, 5)
    frame = frame.with_columns(
        pl.when(valid_grade).then(pl.col("grade")).alias("grade_reported"),
        *[
            pl.when(pl.col(f"attribution_{agent}").is_in(list(ATTRIBUTION_LEVELS)))
            .then(pl.col(f"attribution_{agent}"))
            .otherwise(pl.lit(NOT_ASSESSED))
            .alias(f"attribution_{agent}")
            for agent in agent_ids
        ],
    )
    frame = frame.with_columns(
        pl.when(fatal).then(5).otherwise(pl.col("grade_reported").fill_null(GRADE_WHEN_MISSING)).alias("grade"),
        pl.when(fatal).then(pl.lit("fatal")).otherwise(pl.col("outcome").fill_null("unknown")).alias("outcome"),
    )
    serious = (pl.col("serious") == "Y").fill_null(True) | pl.col("serious_criteria").is_not_null() | (pl.col("grade") == 5)
    frame = frame.with_columns(
        pl.when(serious).then(pl.lit("Y")).otherwise(pl.lit("N")).alias("serious"),
        pl.when((pl.col("grade") == 5) & ~death_criterion)
        .then(pl.concat_str([pl.lit("death"), pl.col("serious_criteria")], separator=";", ignore_nulls=True))
        .otherwise(pl.col("serious_criteria"))
        .alias("serious_criteria"),
        pl.when(pl.col("resolution_date") >= pl.col("onset_date")).then(pl.col("resolution_date")).alias("resolution_date"),
    )
    # Identifiers: a missing one is made from the row; a repeated one keeps its first record's
    # identifier and the later records get their row number added, so each is counted once.
    row_id = pl.lit("row-") + pl.col(ROW).cast(pl.String)
    repeated = pl.col("ae_id").is_duplicated() & ~pl.col("ae_id").is_first_distinct()
    return frame.with_columns(
        pl.when(pl.col("ae_id").is_null())
        .then(row_id)
        .when(repeated)
        .then(pl.col("ae_id") + pl.lit("#") + row_id)
        .otherwise(pl.col("ae_id"))
        .alias("ae_id")
    )


# An interval with no end runs until the agent's next record, or is open: the store
# (safetydb/sql/stg_exposure.sql) ends an open one at the subject's end of treatment, death or last
# contact, whichever is recorded by the data cut and earliest, else at the cut.
OPEN_END = date(9999, 12, 31)


def _read_exposure(frame: pl.DataFrame) -> pl.DataFrame:
    """End before start: the start date (one day). End missing: the day before the agent's next
    record for the subject, or open-ended (OPEN_END; the store ends it at the subject's end of
    treatment, death or last contact, else at the cut): the exposure runs as long as the subject is
    known to be on treatment, which keeps later events treatment-emergent rather than dropping them."""
    ordered = frame.sort("subject_id", "agent", "start_date", ROW).with_columns(
        pl.col("start_date").shift(-1).over("subject_id", "agent").alias("_next_start")
    )
    filled = ordered.with_columns(
        pl.when(pl.col("end_date").is_null())
        .then(pl.coalesce(pl.col("_next_start") - pl.duration(days=1), pl.lit(OPEN_END)))
        .when(pl.col("end_date") < pl.col("start_date"))
        .then(pl.col("start_date"))
        .otherwise(pl.col("end_date"))
        .alias("end_date")
    ).drop("_next_start")
    return filled.sort(ROW)


def _read_vitals(frame: pl.DataFrame) -> pl.DataFrame:
    """Diastolic not below systolic: read as swapped (the higher value is systolic), so that a
    hypertensive reading entered the wrong way round is still graded."""
    swapped = (pl.col("dbp_mmhg") >= pl.col("sbp_mmhg")).fill_null(False)
    return frame.with_columns(
        pl.when(swapped).then(pl.col("dbp_mmhg")).otherwise(pl.col("sbp_mmhg")).alias("sbp_mmhg"),
        pl.when(swapped).then(pl.col("sbp_mmhg")).otherwise(pl.col("dbp_mmhg")).alias("dbp_mmhg"),
    )


def _read_tumour_assessments(frame: pl.DataFrame) -> pl.DataFrame:
    """A response or new-lesion value that failed its check has been read as missing; it is read
    again from the written value (``_response_read``, ``_new_lesions_read``: validators/enrich.py).
    A response that names a RECIST 1.1 code is that code; one that names none, or is missing, is
    not evaluable: nothing is assumed, neither a response nor progression. A new-lesion value
    other than N or No is new lesions present, which makes the assessment progression."""
    return frame.with_columns(
        pl.coalesce("overall_response", "_response_read", pl.lit(NOT_EVALUABLE)).alias("overall_response"),
        pl.coalesce("new_lesions", "_new_lesions_read").alias("new_lesions"),
    )
