"""Exposure records of both agents, consistent with the AE actions.

Apatinib 250 mg daily as constant-dose intervals, with holds, the 125 mg reduction and
withdrawal; anti-PD-1 200 mg as one row per infusion every 14 days, skipped while held,
never reduced.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from synth.arrays import expand_counts
from synth.cohort import Cohort
from synth.columns import date_column
from synth.contract import (
    ACTION_INTERRUPTED, ACTION_REDUCED, ACTION_WITHDRAWN, ADJUSTMENT_DISCONTINUED, ADJUSTMENT_HELD,
    ADJUSTMENT_NONE, ADJUSTMENT_REDUCED, source_columns,
)
from synth.days import NEVER
from synth.draws import lognormal, stage_rng
from synth.treatment import TreatmentCourse
from validators.schemas import OTHER_REASON

# Apatinib holds closer than this are one hold (no one- or two-day restart in between).
MIN_DOSING_DAYS_BETWEEN_HOLDS = 3

EXPOSURE_WORK_COLUMNS = [
    "subject", "agent", "start_rel", "end_rel", "dose_mg", "planned_dose_mg", "adjustment", "adjustment_reason",
]


def build_exposure(records: pl.DataFrame, cohort: Cohort, course: TreatmentCourse, seed: int,
                   params: dict[str, Any]) -> pl.DataFrame:
    """Exposure rows of both agents, consistent with the AE actions."""
    rng = stage_rng(seed, "exposure")
    apatinib = _apatinib_exposure(records, cohort, course, rng, params)
    anti_pd1 = _anti_pd1_exposure(records, course, rng, params)
    combined = pl.concat([apatinib, anti_pd1]).sort("subject", "agent", "start_rel")
    return combined.with_columns(cohort.subject_id.gather(combined["subject"]).alias("subject_id"))


def reconcile_reduction_actions(records: pl.DataFrame, exposure: pl.DataFrame) -> pl.DataFrame:
    """Record an interruption instead of a reduction when the reduced dose never started.

    That happens when apatinib is withdrawn, or treatment ends, during the hold that was to
    end in the reduction.
    """
    reduced_subjects = exposure.filter(
        (pl.col("agent") == "apatinib") & (pl.col("adjustment") == ADJUSTMENT_REDUCED)
    )["subject"].unique()
    return records.with_columns(
        pl.when(
            (pl.col("action_apatinib") == ACTION_REDUCED) & ~pl.col("subject").is_in(reduced_subjects.implode())
        )
        .then(pl.lit(ACTION_INTERRUPTED))
        .otherwise(pl.col("action_apatinib"))
        .alias("action_apatinib")
    )


def _withdrawal_reasons(records: pl.DataFrame, agent: str) -> pl.DataFrame:
    """Per subject, the CTCAE term of the (first) AE that withdrew the agent."""
    return (
        records.filter(pl.col(f"action_{agent}") == ACTION_WITHDRAWN)
        .sort("subject", "onset_rel", "term")
        .group_by("subject", maintain_order=True)
        .agg(pl.col("ctcae_term").first().alias("reason"))
    )


def _discontinuation_rows(records: pl.DataFrame, course: TreatmentCourse, agent: str,
                          dose_mg: int) -> pl.DataFrame:
    withdrawn_subjects = np.flatnonzero(course.withdrawal_rel[agent] < NEVER)
    rows = pl.DataFrame({
        "subject": withdrawn_subjects,
        "start_rel": course.withdrawal_rel[agent][withdrawn_subjects],
    }).join(_withdrawal_reasons(records, agent), on="subject", how="left")
    return rows.select(
        "subject",
        pl.lit(agent).alias("agent"),
        "start_rel",
        pl.col("start_rel").alias("end_rel"),
        pl.lit(0).alias("dose_mg"),
        pl.lit(dose_mg).alias("planned_dose_mg"),
        pl.lit(ADJUSTMENT_DISCONTINUED).alias("adjustment"),
        pl.col("reason").fill_null(OTHER_REASON).alias("adjustment_reason"),
    )


def _apatinib_exposure(records: pl.DataFrame, cohort: Cohort, course: TreatmentCourse,
                       rng: np.random.Generator, params: dict[str, Any]) -> pl.DataFrame:
    """Constant-dose intervals: 250 mg, holds (0 mg), 125 mg after the reduction, discontinuation.

    Each interrupting or reducing AE opens a hold 0-2 days after its onset; holds that
    overlap or nearly touch merge into one (named after its first AE). The subject resumes at
    125 mg after the hold that contains the reducing AE and stays there.
    """
    dosing = params["dosing"]
    full_dose = dosing["apatinib_dose_mg"]
    reduced_dose = dosing["apatinib_reduced_dose_mg"]
    last_dose_rel = course.stop_rel["apatinib"] - 1

    holding = records.filter(pl.col("action_apatinib").is_in([ACTION_INTERRUPTED, ACTION_REDUCED]))
    subject = holding["subject"].to_numpy()
    onset = holding["onset_rel"].to_numpy()
    is_reduction = (holding["action_apatinib"] == ACTION_REDUCED).to_numpy()
    start_delay = rng.integers(0, dosing["hold_start_max_delay_days"] + 1, len(onset))
    hold_start = np.maximum(1, np.minimum(onset + start_delay, last_dose_rel[subject]))
    reduction_hold = lognormal(
        rng, dosing["apatinib_reduction_hold_median_days"], dosing["apatinib_reduction_hold_log_sd"], len(onset)
    )
    interruption_hold = lognormal(
        rng, dosing["apatinib_hold_median_days"], dosing["apatinib_hold_log_sd"], len(onset)
    )
    length = np.where(is_reduction, reduction_hold, interruption_hold)
    length = np.clip(np.round(length), 1, dosing["apatinib_hold_max_days"]).astype(np.int64)
    hold_end = np.minimum(hold_start + length - 1, last_dose_rel[subject])
    holds = pl.DataFrame({
        "subject": subject, "start_rel": hold_start, "end_rel": hold_end,
        "reason": holding["ctcae_term"], "is_reduction": is_reduction,
    }).filter(pl.col("start_rel") <= pl.col("end_rel")).sort("subject", "start_rel", "end_rel")

    # Merge holds that overlap or would leave fewer than MIN_DOSING_DAYS_BETWEEN_HOLDS days
    # of dosing between them: a second AE during a hold prolongs it.
    holds = holds.with_columns(
        pl.col("end_rel").cum_max().shift(1).over("subject").alias("previous_end"),
    ).with_columns(
        (
            pl.col("previous_end").is_null()
            | (pl.col("start_rel") > pl.col("previous_end") + MIN_DOSING_DAYS_BETWEEN_HOLDS)
        ).cast(pl.Int64).cum_sum().over("subject").alias("hold_group"),
    )
    merged = holds.group_by("subject", "hold_group", maintain_order=True).agg(
        pl.col("start_rel").min(),
        pl.col("end_rel").max(),
        pl.col("reason").first(),
        pl.col("is_reduction").any(),
        pl.col("reason").filter(pl.col("is_reduction")).first().alias("reduction_reason"),
    ).sort("subject", "start_rel")

    reduction = (
        merged.filter(pl.col("is_reduction"))
        .group_by("subject", maintain_order=True)
        .agg((pl.col("end_rel").first() + 1).alias("reduced_from_rel"), pl.col("reduction_reason").first())
    )

    # Dosing intervals: before the first hold, between holds, after the last hold.
    after_holds = merged.with_columns(
        (pl.col("end_rel") + 1).alias("segment_start"),
        (pl.col("start_rel").shift(-1).over("subject") - 1).alias("segment_end"),
    )
    last_dose = pl.Series("last_dose_rel", last_dose_rel)
    after_holds = after_holds.with_columns(
        pl.col("segment_end").fill_null(last_dose.gather(after_holds["subject"])),
    ).select("subject", pl.col("segment_start").alias("start_rel"), pl.col("segment_end").alias("end_rel"))
    first_hold_start = merged.group_by("subject", maintain_order=True).agg(
        pl.col("start_rel").first().alias("first_hold")
    )
    initial = pl.DataFrame({"subject": np.arange(cohort.size), "start_rel": np.zeros(cohort.size, dtype=np.int64),
                            "last_dose_rel": last_dose_rel})
    initial = initial.join(first_hold_start, on="subject", how="left").select(
        "subject", "start_rel",
        pl.coalesce(pl.col("first_hold") - 1, pl.col("last_dose_rel")).alias("end_rel"),
    )
    dosing_intervals = (
        pl.concat([initial, after_holds])
        .filter(pl.col("start_rel") <= pl.col("end_rel"))
        .join(reduction, on="subject", how="left")
        .with_columns(
            pl.when(pl.col("reduced_from_rel").is_not_null() & (pl.col("start_rel") >= pl.col("reduced_from_rel")))
            .then(pl.lit(reduced_dose)).otherwise(pl.lit(full_dose)).alias("dose_mg"),
            pl.when(pl.col("start_rel") == pl.col("reduced_from_rel"))
            .then(pl.lit(ADJUSTMENT_REDUCED)).otherwise(pl.lit(ADJUSTMENT_NONE)).alias("adjustment"),
        )
        .with_columns(
            pl.when(pl.col("adjustment") == ADJUSTMENT_REDUCED)
            .then(pl.col("reduction_reason"))
            .otherwise(None)
            .alias("adjustment_reason"),
        )
        .select("subject", "start_rel", "end_rel", "dose_mg", "adjustment", "adjustment_reason")
    )
    held_intervals = merged.select(
        "subject", "start_rel", "end_rel", pl.lit(0).alias("dose_mg"), pl.lit(ADJUSTMENT_HELD).alias("adjustment"),
        pl.col("reason").alias("adjustment_reason"),
    )
    intervals = pl.concat([dosing_intervals, held_intervals]).with_columns(
        pl.lit("apatinib").alias("agent"), pl.lit(full_dose).alias("planned_dose_mg"),
    ).select(EXPOSURE_WORK_COLUMNS)
    discontinued = _discontinuation_rows(records, course, "apatinib", full_dose)
    return pl.concat([intervals, discontinued.select(EXPOSURE_WORK_COLUMNS)]).with_columns(
        pl.lit("PO").alias("route"), pl.lit("QD").alias("frequency"),
    )


def _anti_pd1_exposure(records: pl.DataFrame, course: TreatmentCourse, rng: np.random.Generator,
                       params: dict[str, Any]) -> pl.DataFrame:
    """One row per scheduled infusion every 14 days; held infusions have dose 0.

    An interrupting AE skips the next scheduled infusion on or after its onset and any
    other within the hold (median 11 days).
    """
    dosing = params["dosing"]
    dose = dosing["anti_pd1_dose_mg"]
    interval = dosing["anti_pd1_interval_days"]
    stop = course.stop_rel["anti_pd1"]
    slot_counts = np.maximum(0, (stop + interval - 1) // interval)  # slots 14k < stop
    owners, slot = expand_counts(slot_counts)
    slots = pl.DataFrame({"subject": owners, "slot": slot})

    holding = records.filter(pl.col("action_anti_pd1") == ACTION_INTERRUPTED)
    onset = holding["onset_rel"].to_numpy()
    hold_length = lognormal(rng, dosing["anti_pd1_hold_median_days"], dosing["anti_pd1_hold_log_sd"], len(onset))
    first_slot = (onset + interval - 1) // interval
    last_slot = np.maximum(first_slot, np.floor((onset + hold_length) / interval).astype(np.int64))
    held = (
        pl.DataFrame({
            "subject": holding["subject"], "onset_rel": onset, "reason": holding["ctcae_term"],
            "first_slot": first_slot, "last_slot": last_slot,
        })
        .with_columns(pl.int_ranges("first_slot", pl.col("last_slot") + 1).alias("slot"))
        .explode("slot")
        .sort("subject", "slot", "onset_rel")
        .unique(subset=["subject", "slot"], keep="first", maintain_order=True)
        .select("subject", "slot", "reason")
    )
    infusions = (
        slots.join(held, on=["subject", "slot"], how="left")
        .sort("subject", "slot")
        .select(
            "subject",
            pl.lit("anti_pd1").alias("agent"),
            (pl.col("slot") * interval).alias("start_rel"),
            (pl.col("slot") * interval).alias("end_rel"),
            pl.when(pl.col("reason").is_null()).then(pl.lit(dose)).otherwise(pl.lit(0)).alias("dose_mg"),
            pl.lit(dose).alias("planned_dose_mg"),
            pl.when(pl.col("reason").is_null())
            .then(pl.lit(ADJUSTMENT_NONE))
            .otherwise(pl.lit(ADJUSTMENT_HELD))
            .alias("adjustment"),
            pl.col("reason").alias("adjustment_reason"),
        )
    )
    discontinued = _discontinuation_rows(records, course, "anti_pd1", dose)
    return pl.concat([infusions, discontinued.select(infusions.columns)]).with_columns(
        pl.lit("IV").alias("route"), pl.lit("Q2W").alias("frequency"),
    )


def exposure_source(exposure: pl.DataFrame, cohort: Cohort) -> pl.DataFrame:
    """The exposure file's rows: relative days become dates, internal columns are dropped."""
    first_dose = pl.Series(cohort.first_dose_day).gather(exposure["subject"])
    return exposure.with_columns(
        date_column(first_dose + exposure["start_rel"], "start_date"),
        date_column(first_dose + exposure["end_rel"], "end_date"),
    ).select(source_columns("exposure"))
