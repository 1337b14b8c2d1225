"""Tests of synth.exposure: dosing records are consistent and follow the AE actions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.synth.conftest import read_source

pytestmark = pytest.mark.slow


def test_exposure_intervals_are_consistent(clean_trial: Path) -> None:
    exposure = read_source(clean_trial, "exposure")
    assert set(exposure["agent"]) == {"apatinib", "anti_pd1"}
    assert (exposure["end_date"] >= exposure["start_date"]).all()
    apatinib = exposure.filter(pl.col("agent") == "apatinib")
    assert set(apatinib["dose_mg"]) <= {0, 125, 250}
    assert (apatinib["planned_dose_mg"] == 250).all()
    assert set(apatinib["route"]) == {"PO"} and set(apatinib["frequency"]) == {"QD"}
    # A hold or discontinuation gives 0 mg; a reduction 125 mg; each names its reason.
    for row in exposure.iter_rows(named=True):
        if row["adjustment"] in ("held", "discontinued"):
            assert row["dose_mg"] == 0 and row["adjustment_reason"] is not None
        elif row["adjustment"] == "reduced":
            assert row["agent"] == "apatinib" and row["dose_mg"] == 125 and row["adjustment_reason"] is not None
        else:
            assert row["adjustment"] == "none" and row["adjustment_reason"] is None and row["dose_mg"] > 0

    for (subject, agent), rows in exposure.sort("start_date").group_by(["subject_id", "agent"], maintain_order=True):
        starts = rows["start_date"].to_list()
        ends = rows["end_date"].to_list()
        # Records of one agent never overlap.
        for previous_end, next_start in zip(ends, starts[1:]):
            assert next_start > previous_end, (subject, agent)
        if agent == "apatinib":
            # No re-escalation after the reduction to 125 mg.
            doses = [dose for dose in rows["dose_mg"].to_list() if dose > 0]
            if 125 in doses:
                assert 250 not in doses[doses.index(125):], subject
        else:
            # Infusions every 14 days; a held infusion keeps its slot.
            scheduled = rows.filter(pl.col("adjustment") != "discontinued")
            gaps = scheduled["start_date"].diff().dt.total_days().drop_nulls()
            assert (gaps == 14).all(), subject
            assert set(scheduled["dose_mg"]) <= {0, 200}


def test_exposure_follows_the_adverse_event_actions(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events")
    exposure = read_source(clean_trial, "exposure")
    records_by_subject = {key[0]: frame for key, frame in exposure.group_by(["subject_id"])}
    checks = {"withdrawn": 0, "reduced": 0, "interrupted": 0}
    interrupted_pd1_found = interrupted_pd1_total = 0
    for row in ae.iter_rows(named=True):
        records = records_by_subject[row["subject_id"]]
        onset = row["onset_date"]
        for agent in ("apatinib", "anti_pd1"):
            action = row[f"action_{agent}"]
            agent_rows = records.filter(pl.col("agent") == agent)
            if action == "drug_withdrawn":
                discontinued = agent_rows.filter(pl.col("adjustment") == "discontinued")
                assert discontinued.height == 1 and discontinued["start_date"][0] == onset, row["ae_id"]
                checks["withdrawn"] += 1
            elif action == "dose_reduced":
                reduced = agent_rows.filter(pl.col("adjustment") == "reduced")
                assert reduced.height == 1, row["ae_id"]
                assert onset < reduced["start_date"][0] <= onset + timedelta(days=40), row["ae_id"]
                checks["reduced"] += 1
            elif action == "drug_interrupted" and agent == "apatinib":
                holds = agent_rows.filter(
                    (pl.col("adjustment") == "held")
                    & (pl.col("start_date") <= onset + timedelta(days=2))
                    & (pl.col("end_date") >= onset)
                )
                assert holds.height == 1, row["ae_id"]
                checks["interrupted"] += 1
            elif action == "drug_interrupted":
                interrupted_pd1_total += 1
                skipped = agent_rows.filter(
                    (pl.col("adjustment") == "held") & (pl.col("start_date") >= onset)
                    & (pl.col("start_date") < onset + timedelta(days=42))
                )
                interrupted_pd1_found += skipped.height > 0
    assert min(checks.values()) > 0
    # A skipped infusion may fall after the end of treatment; nearly all are visible.
    assert interrupted_pd1_total > 0 and interrupted_pd1_found >= 0.9 * interrupted_pd1_total
