"""Tests of the synthetic trial generator (flows/synth.py).

The clinical rules are checked against values typed here by hand (CTCAE v5.0 allowed
grades and lab/blood-pressure grade boundaries, the column lists of docs/sources.md), never
against the generator's own profile file.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from flows import synth
from flows.synth import generate_trial

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES_DOC = REPO_ROOT / "docs" / "sources.md"
BUNDLED_DIR = REPO_ROOT / "data" / "trials" / "npc-apatinib-pd1"
SOURCE_NAMES = ("subjects", "exposure", "adverse_events", "labs", "vitals")
CUTOFF = date(2026, 6, 30)

# CTCAE v5.0 allowed grades of every term the generator may emit (typed from the NCI
# workbook; membership matters: Lung infection and Myocarditis have no grade 1,
# Pharyngeal necrosis only grades 3-5).
ALLOWED_GRADES: dict[str, set[int]] = {
    "Hypertension": {1, 2, 3, 4, 5},
    "Palmar-plantar erythrodysesthesia syndrome": {1, 2, 3},
    "Proteinuria": {1, 2, 3},
    "Skin and subcutaneous tissue disorders - Other, specify": {1, 2, 3, 4, 5},
    "Respiratory, thoracic and mediastinal disorders - Other, specify": {1, 2, 3, 4, 5},
    "Pharyngeal necrosis": {3, 4, 5},
    "Hypothyroidism": {1, 2, 3, 4, 5},
    "Hyperthyroidism": {1, 2, 3, 4, 5},
    "Alanine aminotransferase increased": {1, 2, 3, 4},
    "Aspartate aminotransferase increased": {1, 2, 3, 4},
    "Blood bilirubin increased": {1, 2, 3, 4},
    "Fatigue": {1, 2, 3},
    "Headache": {1, 2, 3},
    "CPK increased": {1, 2, 3, 4},
    "Anemia": {1, 2, 3, 4, 5},
    "Epistaxis": {1, 2, 3, 4, 5},
    "Pharyngeal hemorrhage": {1, 2, 3, 4, 5},
    "Mucositis oral": {1, 2, 3, 4, 5},
    "Pneumonitis": {1, 2, 3, 4, 5},
    "Lung infection": {2, 3, 4, 5},
    "Myocarditis": {2, 3, 4, 5},
    "Diarrhea": {1, 2, 3, 4, 5},
    "Nausea": {1, 2, 3},
    "Anorexia": {1, 2, 3, 4, 5},
    "Weight loss": {1, 2, 3},
    "Platelet count decreased": {1, 2, 3, 4},
    "White blood cell decreased": {1, 2, 3, 4},
    "Neutrophil count decreased": {1, 2, 3, 4},
    "Hoarseness": {1, 2, 3},
    "Dysphagia": {1, 2, 3, 4, 5},
    "Rash maculo-papular": {1, 2, 3},
    "Pruritus": {1, 2, 3},
    "Hepatobiliary disorders - Other, specify": {1, 2, 3, 4, 5},
    "Colitis": {1, 2, 3, 4, 5},
    "Adrenal insufficiency": {1, 2, 3, 4, 5},
    "Creatinine increased": {1, 2, 3, 4},
    "Hypokalemia": {1, 2, 3, 4, 5},
    "Hyponatremia": {1, 2, 3, 4, 5},
}
ATTRIBUTION_SCALE = {"unrelated", "unlikely", "possible", "probable", "definite"}
RELATED = ["possible", "probable", "definite"]
ACTIONS = {"dose_not_changed", "dose_reduced", "drug_interrupted", "drug_withdrawn", "not_applicable"}
SERIOUS_CRITERIA = {"death", "life_threatening", "hospitalisation", "disability", "congenital_anomaly", "important_medical_event"}
OUTCOMES = {"recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown"}
UNITS = {
    "ALT": "U/L", "AST": "U/L", "ALP": "U/L", "BILI": "umol/L", "CREAT": "umol/L", "CK": "U/L",
    "PLT": "10^9/L", "NEUT": "10^9/L", "WBC": "10^9/L", "LYMPH": "10^9/L", "HGB": "g/L",
    "K": "mmol/L", "SODIUM": "mmol/L", "TSH": "mIU/L", "UPROT_DIP": "dipstick", "UPROT_24H": "g/24h",
}


def read_source(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{name}.csv", try_parse_dates=True, infer_schema_length=None)


def file_hashes(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def contract_columns() -> dict[str, list[str]]:
    """Column lists of the five sources, read from the tables of docs/sources.md."""
    columns: dict[str, list[str]] = {}
    current = None
    for line in SOURCES_DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (\w+) —", line)
        if heading:
            current = heading.group(1)
            columns[current] = []
            continue
        cell = re.match(r"\| `([a-z_<>0-9]+)` \|", line)
        if current and cell:
            name = cell.group(1)
            if "<agent>" in name:
                columns[current].extend(name.replace("<agent>", agent) for agent in ("apatinib", "anti_pd1"))
            else:
                columns[current].append(name)
    return columns


@pytest.fixture(scope="module")
def clean_trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    generate_trial(400, 11, folder)
    return folder


@pytest.fixture(scope="module")
def large_trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("large")
    generate_trial(2000, 2024, folder)
    return folder


@pytest.fixture(scope="module")
def erroneous_trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("errors")
    generate_trial(300, 5, folder, error_rate=0.05)
    return folder


# --- determinism and files -------------------------------------------------------------


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("first", 99), ("second", 99), ("other", 100)):
        generate_trial(150, seed, tmp_path / name, error_rate=0.02)
    first = file_hashes(tmp_path / "first")
    assert first == file_hashes(tmp_path / "second")
    other = file_hashes(tmp_path / "other")
    for name in SOURCE_NAMES:
        assert first[f"{name}.csv"] != other[f"{name}.csv"], name


def test_returns_rows_written_and_copies_the_bundled_config(tmp_path: Path) -> None:
    counts = generate_trial(30, 1, tmp_path)
    assert set(counts) == set(SOURCE_NAMES)
    for name in SOURCE_NAMES:
        assert counts[name] == read_source(tmp_path, name).height
    assert counts["subjects"] == 30
    assert (tmp_path / "trial.toml").read_bytes() == (BUNDLED_DIR / "trial.toml").read_bytes()


def test_writing_into_the_bundled_folder_keeps_its_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "bundled"
    folder.mkdir()
    (folder / "trial.toml").write_text("# the lead's config\n", encoding="utf-8")
    monkeypatch.setattr(synth, "BUNDLED_TRIAL_DIR", folder)
    monkeypatch.setattr(synth, "BUNDLED_CONFIG_PATH", folder / "trial.toml")
    generate_trial(10, 1, folder)
    assert (folder / "trial.toml").read_text(encoding="utf-8") == "# the lead's config\n"


def test_every_file_has_exactly_the_contract_columns(clean_trial: Path) -> None:
    expected = contract_columns()
    assert set(expected) == set(SOURCE_NAMES)
    for name in SOURCE_NAMES:
        with (clean_trial / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == expected[name], name


def test_bundled_sample_is_the_generator_output(tmp_path: Path) -> None:
    """The shipped sample is exactly what the generator makes for its seed (no drift)."""
    if not (BUNDLED_DIR / "adverse_events.csv").exists():
        pytest.skip("bundled sample not generated yet")
    generate_trial(60, 20240115, tmp_path, error_rate=0.02)
    for name in SOURCE_NAMES:
        assert (tmp_path / f"{name}.csv").read_bytes() == (BUNDLED_DIR / f"{name}.csv").read_bytes(), name


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_subjects"):
        generate_trial(0, 1, tmp_path)
    with pytest.raises(ValueError, match="error_rate"):
        generate_trial(10, 1, tmp_path, error_rate=0.9)
    with pytest.raises(ValueError, match="data_cutoff"):
        generate_trial(10, 1, tmp_path, data_cutoff=date(2024, 1, 20))


def test_nothing_is_dated_after_an_early_cutoff(tmp_path: Path) -> None:
    cutoff = date(2025, 2, 28)
    generate_trial(200, 3, tmp_path, data_cutoff=cutoff)
    for name in SOURCE_NAMES:
        frame = read_source(tmp_path, name)
        for column, dtype in frame.schema.items():
            if dtype == pl.Date:
                latest = frame[column].max()
                assert latest is None or latest <= cutoff, (name, column)


# --- adverse events --------------------------------------------------------------------


def test_clean_adverse_events_follow_ctcae_and_the_contract(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events")
    subjects = read_source(clean_trial, "subjects")
    assert ae.height > 1000
    assert ae["ae_id"].is_unique().all()
    assert ae["ae_id"].to_list() == sorted(ae["ae_id"].to_list())
    assert set(ae["subject_id"]) <= set(subjects["subject_id"])

    for row in ae.iter_rows(named=True):
        term = row["ctcae_term"]
        assert term in ALLOWED_GRADES, term
        assert row["grade"] in ALLOWED_GRADES[term], (term, row["grade"])
        # "Other, specify" terms carry their specification, other terms none.
        assert (row["other_specify"] is not None) == term.endswith("Other, specify"), row["ae_id"]
        # Outcome fatal if and only if grade 5.
        assert (row["outcome"] == "fatal") == (row["grade"] == 5), row["ae_id"]
        assert row["outcome"] in OUTCOMES
        assert row["attribution_apatinib"] in ATTRIBUTION_SCALE
        assert row["attribution_anti_pd1"] in ATTRIBUTION_SCALE
        assert row["action_apatinib"] in ACTIONS and row["action_anti_pd1"] in ACTIONS
        # Seriousness: criteria and awareness date exactly when serious; death for grade 5.
        if row["serious"] == "Y":
            criteria = set(row["serious_criteria"].split(";"))
            assert criteria <= SERIOUS_CRITERIA
            assert row["awareness_date"] is not None
            assert row["onset_date"] <= row["awareness_date"] <= CUTOFF
        else:
            assert row["serious"] == "N"
            assert row["serious_criteria"] is None and row["awareness_date"] is None
        if row["grade"] == 5:
            assert row["serious"] == "Y" and "death" in row["serious_criteria"].split(";")
        if row["resolution_date"] is not None:
            assert row["onset_date"] <= row["resolution_date"] <= CUTOFF
        assert row["onset_date"] <= CUTOFF


def test_onsets_fall_between_first_dose_and_last_contact(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events")
    exposure = read_source(clean_trial, "exposure")
    subjects = read_source(clean_trial, "subjects")
    first_dose = exposure.filter(pl.col("dose_mg") > 0).group_by("subject_id").agg(pl.col("start_date").min().alias("first_dose"))
    checked = ae.join(first_dose, on="subject_id").join(subjects, on="subject_id")
    assert checked.height == ae.height
    assert (checked["onset_date"] >= checked["first_dose"]).all()
    assert (checked["onset_date"] <= checked["last_contact_date"]).all()
    assert (checked["first_dose"] >= checked["enrolment_date"]).all()
    assert ((checked["first_dose"] - checked["enrolment_date"]).dt.total_days() <= 14).all()


def test_fatal_events_match_the_subjects_deaths(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events")
    subjects = read_source(clean_trial, "subjects")
    fatal = ae.filter(pl.col("grade") == 5).join(subjects, on="subject_id")
    assert fatal["subject_id"].is_unique().all()
    for row in fatal.iter_rows(named=True):
        assert row["death_date"] is not None and row["death_cause"] == "adverse_event"
        assert row["resolution_date"] == row["death_date"]
    dead = subjects.filter(pl.col("death_date").is_not_null())
    assert (dead["death_date"] == dead["last_contact_date"]).all()
    assert dead["death_cause"].is_not_null().all()
    assert subjects.filter(pl.col("death_date").is_null())["death_cause"].is_null().all()


def test_subjects_are_plausible(clean_trial: Path) -> None:
    subjects = read_source(clean_trial, "subjects")
    assert subjects["subject_id"].is_unique().all()
    assert subjects["subject_id"].to_list() == sorted(subjects["subject_id"].to_list())
    assert subjects["subject_id"].str.contains(r"^NPC-\d{2}-\d{4}$").all()
    assert set(subjects["sex"]) == {"M", "F"}
    assert set(subjects["recurrence_type"]) <= {"local", "regional", "locoregional", "distant", "locoregional_distant"}
    assert set(subjects["prior_reirradiation"]) <= {"Y", "N"}
    reasons = set(subjects["end_of_treatment_reason"].drop_nulls())
    assert reasons <= {"progression", "toxicity", "death", "withdrawal", "completed"}
    assert {"progression", "toxicity"} <= reasons
    ended = subjects["end_of_treatment_date"].is_not_null()
    assert (ended == subjects["end_of_treatment_reason"].is_not_null()).all()
    # Enrolment over about 18 months from 2024-01-15.
    assert subjects["enrolment_date"].min() >= date(2024, 1, 15)
    assert subjects["enrolment_date"].max() <= date(2024, 1, 15) + timedelta(days=548)
    assert (subjects["last_contact_date"] >= subjects["enrolment_date"]).all()


# --- exposure --------------------------------------------------------------------------


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


# --- labs and vitals -------------------------------------------------------------------


def alt_grade(value: float, uln: float) -> int:
    """CTCAE v5.0 ALT increased for a normal baseline: >ULN-3, >3-5, >5-20, >20 x ULN."""
    ratio = value / uln
    for grade, upper in ((0, 1.0), (1, 3.0), (2, 5.0), (3, 20.0)):
        if ratio <= upper:
            return grade
    return 4


def platelet_grade(value: float) -> int:
    """CTCAE v5.0 platelet count decreased: <LLN-75, <75-50, <50-25, <25 x10^9/L (LLN 125)."""
    for grade, lower in ((0, 125.0), (1, 75.0), (2, 50.0), (3, 25.0)):
        if value >= lower:
            return grade
    return 4


def hypertension_grade(sbp: int, dbp: int) -> int:
    """CTCAE v5.0 hypertension by blood pressure alone (adult): 120-139/80-89, 140-159/90-99, >=160/100."""
    if sbp >= 160 or dbp >= 100:
        return 3
    if sbp >= 140 or dbp >= 90:
        return 2
    if sbp >= 130 or dbp >= 80:
        return 1
    return 0


def test_labs_have_contract_codes_units_and_ranges(clean_trial: Path) -> None:
    labs = read_source(clean_trial, "labs")
    assert set(labs["test_code"]) == set(UNITS)
    for code, unit in UNITS.items():
        assert set(labs.filter(pl.col("test_code") == code)["unit"]) == {unit}, code
    assert labs["value"].is_not_null().all() and (labs["value"] >= 0).all()
    assert labs.filter(pl.col("test_code") != "UPROT_DIP")["uln"].is_not_null().all()
    alt = labs.filter(pl.col("test_code") == "ALT")
    assert set(alt["uln"]) == {40.0}
    platelets = labs.filter(pl.col("test_code") == "PLT")
    assert set(platelets["lln"]) == {125.0} and set(platelets["uln"]) == {350.0}
    assert set(labs.filter(pl.col("test_code") == "UPROT_DIP")["value"]) <= {0, 1, 2, 3, 4}
    # 24-hour urine protein only where the dipstick read 2+ or more that day.
    dipstick = labs.filter(pl.col("test_code") == "UPROT_DIP").select("subject_id", "collection_date", pl.col("value").alias("dip"))
    urine_24h = labs.filter(pl.col("test_code") == "UPROT_24H").join(dipstick, on=["subject_id", "collection_date"], how="left")
    assert urine_24h.height > 0 and (urine_24h["dip"] >= 2).all()
    # One result per subject, date and test.
    assert labs.select(pl.struct("subject_id", "collection_date", "test_code").is_unique().all()).item()


def test_lab_values_agree_with_lab_based_adverse_events(clean_trial: Path) -> None:
    """A lab-based AE has a result on its onset day in its grade's range.

    When a worse AE of the same subject starts that day (immune hepatitis with an ALT
    increase, say), the result may be worse than the lab-based AE's grade, never better.
    """
    ae = read_source(clean_trial, "adverse_events")
    labs = read_source(clean_trial, "labs")
    worst_that_day = ae.group_by("subject_id", "onset_date").agg(pl.col("grade").max().alias("worst_grade"))
    for term, test_code, grade_of in (
        ("Alanine aminotransferase increased", "ALT", lambda row: alt_grade(row["value"], row["uln"])),
        ("Platelet count decreased", "PLT", lambda row: platelet_grade(row["value"])),
    ):
        events = ae.filter(pl.col("ctcae_term") == term).join(worst_that_day, on=["subject_id", "onset_date"])
        results = labs.filter(pl.col("test_code") == test_code)
        matched = events.join(results, left_on=["subject_id", "onset_date"], right_on=["subject_id", "collection_date"])
        assert matched.height == events.height > 0, term
        for row in matched.iter_rows(named=True):
            if row["worst_grade"] == row["grade"]:
                assert grade_of(row) == row["grade"], (term, row["ae_id"], row["value"])
            else:
                assert row["grade"] <= grade_of(row) <= row["worst_grade"], (term, row["ae_id"], row["value"])


def test_blood_pressure_agrees_with_hypertension_events(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events").filter(pl.col("ctcae_term") == "Hypertension")
    vitals = read_source(clean_trial, "vitals")
    matched = ae.join(vitals, left_on=["subject_id", "onset_date"], right_on=["subject_id", "measure_date"])
    assert matched.height == ae.height > 0
    for row in matched.filter(pl.col("grade") <= 3).iter_rows(named=True):
        assert hypertension_grade(row["sbp_mmhg"], row["dbp_mmhg"]) == row["grade"], row["ae_id"]
    # Outside hypertension events blood pressure stays below 140/90.
    assert (vitals["sbp_mmhg"] > vitals["dbp_mmhg"]).all()


def test_vitals_every_two_weeks_and_weight_falls_with_weight_loss(clean_trial: Path) -> None:
    vitals = read_source(clean_trial, "vitals")
    assert vitals.select(pl.struct("subject_id", "measure_date").is_unique().all()).item()
    assert vitals["weight_kg"].min() > 25 and vitals["heart_rate_bpm"].is_between(40, 160).all()
    per_subject = vitals.group_by("subject_id").agg(pl.len().alias("visits"))
    assert per_subject["visits"].median() >= 6
    weight_loss = read_source(clean_trial, "adverse_events").filter(pl.col("ctcae_term") == "Weight loss")
    baseline = vitals.sort("measure_date").group_by("subject_id").agg(pl.col("weight_kg").first().alias("baseline"))
    at_onset = weight_loss.join(vitals, left_on=["subject_id", "onset_date"], right_on=["subject_id", "measure_date"], how="inner")
    after = at_onset.join(baseline, on="subject_id")
    if after.height:
        assert (after["weight_kg"] < after["baseline"]).mean() > 0.8


# --- incidence at trial scale ------------------------------------------------------------


def test_incidences_are_in_the_published_ranges(large_trial: Path) -> None:
    subjects = read_source(large_trial, "subjects")
    ae = read_source(large_trial, "adverse_events")
    exposure = read_source(large_trial, "exposure")
    n = subjects.height
    related = pl.col("attribution_apatinib").is_in(RELATED) | pl.col("attribution_anti_pd1").is_in(RELATED)

    def share(frame: pl.DataFrame) -> float:
        return frame["subject_id"].n_unique() / n

    assert 0.35 <= share(ae.filter(pl.col("ctcae_term") == "Hypertension")) <= 0.70
    assert 0.25 <= share(ae.filter(related & (pl.col("grade") >= 3))) <= 0.65
    assert share(ae.filter(related & (pl.col("grade") == 5))) <= 0.03
    assert 0.08 <= share(ae.filter(pl.col("serious") == "Y")) <= 0.35
    apatinib = exposure.filter(pl.col("agent") == "apatinib")
    assert 0.35 <= share(apatinib.filter(pl.col("adjustment").is_in(["held", "reduced"]))) <= 0.65
    assert 0.08 <= share(apatinib.filter(pl.col("adjustment") == "discontinued")) <= 0.30
    # Necrosis and hemorrhage concentrate in nasopharyngeal recurrence or re-irradiation.
    necrosis = ae.filter(
        (pl.col("ctcae_term") == "Pharyngeal necrosis") | (pl.col("other_specify") == "Nasopharyngeal necrosis")
    ).join(subjects, on="subject_id")
    high_risk = necrosis.filter(
        pl.col("recurrence_type").is_in(["local", "locoregional", "locoregional_distant"]) | (pl.col("prior_reirradiation") == "Y")
    )
    assert high_risk["subject_id"].n_unique() >= 0.8 * necrosis["subject_id"].n_unique()
    # Some events recur: same term, a new record after the previous one resolved.
    repeated = ae.group_by("subject_id", "ctcae_term", "other_specify").len().filter(pl.col("len") > 1)
    assert repeated.height > 0


# --- injected errors -------------------------------------------------------------------


def test_injected_errors_are_present(erroneous_trial: Path) -> None:
    ae = read_source(erroneous_trial, "adverse_events")
    subjects = read_source(erroneous_trial, "subjects")
    labs = read_source(erroneous_trial, "labs")
    exposure = read_source(erroneous_trial, "exposure")
    known_term = pl.col("ctcae_term").is_in(list(ALLOWED_GRADES))

    def grade_allowed(row: dict) -> bool:
        return row["grade"] in ALLOWED_GRADES.get(row["ctcae_term"], {1, 2, 3, 4, 5})

    found = {
        "grade_not_allowed": sum(not grade_allowed(row) for row in ae.iter_rows(named=True)),
        "other_specify_missing": ae.filter(pl.col("ctcae_term").str.ends_with("Other, specify") & pl.col("other_specify").is_null()).height,
        "unknown_term": ae.filter(~known_term).height,
        "resolution_before_onset": ae.filter(pl.col("resolution_date") < pl.col("onset_date")).height,
        "fatal_outcome_mismatch": ae.filter((pl.col("grade") == 5) != (pl.col("outcome") == "fatal")).height,
        "serious_incomplete": ae.filter((pl.col("serious") == "Y") & (pl.col("awareness_date").is_null() | pl.col("serious_criteria").is_null())).height,
        "attribution_off_scale": ae.filter(
            ~pl.col("attribution_apatinib").is_in(list(ATTRIBUTION_SCALE)) | ~pl.col("attribution_anti_pd1").is_in(list(ATTRIBUTION_SCALE))
        ).height,
        "duplicate_ae_id": ae.height - ae["ae_id"].n_unique(),
        "unknown_subject": ae.filter(~pl.col("subject_id").is_in(subjects["subject_id"].to_list())).height,
        "onset_before_enrolment": ae.join(subjects, on="subject_id").filter(pl.col("onset_date") < pl.col("enrolment_date")).height,
    }
    assert all(count > 0 for count in found.values()), found
    # About error_rate of the rows carry an error (each error is one kind).
    assert sum(found.values()) <= 0.05 * ae.height * 1.5
    # Lab results entered in conventional units (bilirubin or creatinine in mg/dL,
    # hemoglobin in g/dL), with a lost value or a sign typo.
    wrong_units = [(code, unit) for code, unit in zip(labs["test_code"], labs["unit"]) if unit != UNITS[code]]
    assert wrong_units and set(wrong_units) <= {("BILI", "mg/dL"), ("CREAT", "mg/dL"), ("HGB", "g/dL")}
    assert labs.filter(pl.col("value").is_null()).height > 0
    assert labs.filter(pl.col("value") < 0).height > 0
    assert exposure.filter(pl.col("end_date") < pl.col("start_date")).height > 0
    assert exposure.filter(pl.col("dose_mg") > pl.col("planned_dose_mg")).height > 0


# --- the profile as data -----------------------------------------------------------------


def test_profile_rows_are_documented_and_agree_with_ctcae() -> None:
    profile = pl.read_csv(REPO_ROOT / "data" / "synth" / "ae_profile.csv", infer_schema=False)
    assert profile.select(pl.struct("ctcae_term", "other_specify").is_unique().all()).item()
    for row in profile.iter_rows(named=True):
        term = row["ctcae_term"]
        assert term in ALLOWED_GRADES, term
        assert {int(grade) for grade in row["allowed_grades"].split(",")} == ALLOWED_GRADES[term], term
        assert (row["other_specify"] is not None) == term.endswith("Other, specify"), term
        assert row["source_note"], term
        assert row["attributed_to"] in {"apatinib", "anti_pd1", "both", "neither"}
        for agent in ("apatinib", "anti_pd1"):
            weights = [float(value) for value in row[f"attribution_weights_{agent}"].split(";")]
            related_share = sum(weights[2:]) / sum(weights)
            if row["attributed_to"] in (agent, "both"):
                assert related_share >= 0.4, (term, agent)
            else:
                assert related_share <= 0.35, (term, agent)


def test_every_profile_column_is_documented() -> None:
    readme = (REPO_ROOT / "data" / "synth" / "README.md").read_text(encoding="utf-8")
    with (REPO_ROOT / "data" / "synth" / "ae_profile.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    missing = [column for column in header if f"`{column}`" not in readme]
    assert not missing


def test_generating_leaves_the_reference_data_untouched(tmp_path: Path) -> None:
    data_dir = REPO_ROOT / "data" / "synth"
    before = file_hashes(data_dir)
    generate_trial(20, 8, tmp_path)
    assert file_hashes(data_dir) == before
