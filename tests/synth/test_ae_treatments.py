"""Tests of synth.ae_treatments: the `treatment` column of adverse_events.csv (what was given for
each AE), drawn in its own last stage from data/synth/ae_treatments.csv."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import synth.trial as synth_trial
from synth import generate_trial
from synth.ae_treatments import load_treatment_profile
from synth.profile import load_ae_profile, load_parameters
from tests.synth.conftest import BUNDLED_DIR, read_source

# The vocabulary, typed by hand (data/ctcae/ae_treatments.csv).
VOCABULARY = {"none", "corticosteroid", "hormone_replacement", "antihypertensive", "other"}


def valid(value: str | None) -> bool:
    """;-separated vocabulary values, none only alone (the validators' rule, restated)."""
    if value is None:
        return False
    parts = [part.strip() for part in value.split(";")]
    return all(part in VOCABULARY for part in parts) and ("none" not in parts or len(parts) == 1)


def test_treatment_is_the_last_column_and_valid_in_a_clean_trial(clean_trial: Path) -> None:
    events = read_source(clean_trial, "adverse_events")
    assert events.columns[-1] == "treatment"
    assert all(valid(value) for value in events["treatment"].to_list())


def share(events: pl.DataFrame, terms: list[str], treatment: str, *, grade_min: int = 2) -> tuple[float, int]:
    rows = events.filter(pl.col("ctcae_term").is_in(terms) & (pl.col("grade") >= grade_min))
    given = rows.filter(pl.col("treatment").str.split(";").list.contains(treatment)).height
    return given / rows.height, rows.height


def test_treatments_follow_the_usual_management(clean_trial: Path) -> None:
    """Grade >= 2 immune-related pneumonitis, colitis, myocarditis and hepatitis mostly get a
    corticosteroid (ASCO 2021); grade >= 2 hypothyroidism hormone replacement; grade >= 2
    hypertension an antihypertensive; grade 1 fatigue mostly nothing."""
    events = read_source(clean_trial, "adverse_events")
    immune = ["Pneumonitis", "Colitis", "Myocarditis", "Hepatobiliary disorders - Other, specify"]
    for terms, treatment in ((immune, "corticosteroid"), (["Hypothyroidism"], "hormone_replacement"), (["Hypertension"], "antihypertensive")):
        fraction, size = share(events, terms, treatment)
        assert size >= 15 and fraction > 0.6, (terms, fraction, size)
    fatigue = events.filter((pl.col("ctcae_term") == "Fatigue") & (pl.col("grade") == 1))
    assert fatigue.filter(pl.col("treatment") == "none").height / fatigue.height > 0.8


def test_the_bundled_sample_has_a_few_values_outside_the_vocabulary() -> None:
    """error_rate 0.02 x error_rate_factor 0.5 x 446 AE rows = 4.46 -> 4 rows, each one of the
    configured wrong values; every other row is valid."""
    events = read_source(BUNDLED_DIR, "adverse_events")
    assert events.height == 446
    wrong = events.filter(~pl.col("treatment").map_elements(valid, return_dtype=pl.Boolean))
    assert wrong.height == 4
    assert set(wrong["treatment"]) <= set(load_parameters()["treatment"]["off_vocabulary"])


def test_the_stage_changes_no_other_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The treatment stage draws from its own stream: with it replaced by a constant, every other
    column of every file is the same."""
    generate_trial(40, 7, tmp_path / "drawn", error_rate=0.02)

    def constant(records, treatments, seed, params, error_rate=0.0):
        return records.with_columns(pl.lit("none").alias("treatment"))

    monkeypatch.setattr(synth_trial, "with_treatments", constant)
    generate_trial(40, 7, tmp_path / "constant", error_rate=0.02)
    for path in sorted((tmp_path / "drawn").glob("*.csv")):
        drawn = pl.read_csv(path, infer_schema=False)
        other = pl.read_csv(tmp_path / "constant" / path.name, infer_schema=False)
        if path.stem == "adverse_events":
            assert set(other["treatment"]) == {"none"} and drawn["treatment"].n_unique() > 1
            drawn, other = drawn.drop("treatment"), other.drop("treatment")
        assert drawn.equals(other), path.name


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ('Hypertension,,beta_blocker,0;0.5;0.5;0.5;0.5,x', "not among"),
        ('Hypertension,,antihypertensive,0;0.8;0.9;0.9;0.9,x\nHypertension,,other,0;0.3;0;0;0,x', "above 1"),
        ('Headache wrongly spelt,,other,0;0.5;0.5;0.5;0.5,x', "not an AE type"),
    ],
)
def test_the_probabilities_are_checked_when_read(tmp_path: Path, row: str, problem: str) -> None:
    path = tmp_path / "ae_treatments.csv"
    path.write_text(f"ctcae_term,other_specify,treatment,probability_by_grade,source_note\n{row}\n*,,other,0;0;0;0;0,x\n")
    with pytest.raises(ValueError, match=problem):
        load_treatment_profile(load_ae_profile(), path)


def test_a_default_row_is_required(tmp_path: Path) -> None:
    path = tmp_path / "ae_treatments.csv"
    path.write_text("ctcae_term,other_specify,treatment,probability_by_grade,source_note\nHypertension,,antihypertensive,0;1;1;1;1,x\n")
    with pytest.raises(ValueError, match="needs a row"):
        load_treatment_profile(load_ae_profile(), path)
