"""Toxicity tables of the mini trial against counts worked out by hand.

Mini trial (tests/data/mini), cut 2025-07-01, cycles of 28 days, TEAE window last dose + 30
days, acute = onset on study days 1-90, late = days 91-730. Treated: S1, S2, S3, S5 (N = 4; S4
and S6 never dosed). TEAEs: AE1, AE2, AE3, AE10, AE13 (S1), AE4, AE12 (S2), AE6, AE7 (S3), AE8
(S5). AE10 (grade 1 not allowed for Myocarditis), AE12 (misspelt term) and AE13 (Other-specify
text missing) carry queries and are counted all the same; AE11 (unknown subject) and AE14 (no
usable onset date) cannot be placed and are excluded. AE5 starts 46 days after S2's last dose
(not treatment-emergent, but late toxicity on study day 106); AE9 belongs to the untreated S4.

Study days (day 1 = first dose): S1 (first dose 01-10) AE1 11, AE10 51, AE13 52, AE3 96, AE2
112; S2 (01-15) AE4 27, AE12 46, AE5 106; S3 (02-01) AE7 5, AE6 18; S5 (05-01) AE8 20.
"""

from datetime import date

import duckdb
import polars as pl
import pytest

from flows.stages import analyse, ingest
from safetydb.export import read_tables
from safetydb.store import DERIVED_MODELS, STAGING_MODELS, TABLE_MODELS, SafetyStore, model_grain
from tests.conftest import make_mini_trial


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    config = make_mini_trial(tmp_path_factory.mktemp("mini"))
    loaded = ingest(config)
    analyse(loaded)
    return loaded


@pytest.fixture(scope="module")
def tables(mini_run):
    from pathlib import Path

    return read_tables(Path(mini_run.out_dir) / "tables")


def row(frame: pl.DataFrame, **where) -> dict:
    matches = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert matches.height == 1, where
    return matches.row(0, named=True)


def test_default_cut_is_the_latest_date_in_the_data(mini_run):
    assert mini_run.cut_date == "2025-07-01"


@pytest.mark.parametrize(
    ("category", "subjects", "events"),
    [
        ("Any TEAE", 4, 10),
        ("Treatment-related TEAE", 3, 9),  # all but AE8 (unrelated to both agents)
        ("Grade >= 3 TEAE", 3, 4),  # AE2, AE4, AE6, AE7
        ("Serious TEAE", 2, 3),  # AE2 (S1), AE6 and AE7 (S3)
        ("TEAE leading to dose reduction", 1, 1),  # AE4
        ("TEAE leading to drug interruption", 2, 3),  # AE2, AE10 (S1), AE7 (S3)
        ("Fatal TEAE (grade 5)", 1, 1),
        ("Treatment-related fatal TEAE", 1, 1),
    ],
)
def test_overview(tables, category, subjects, events):
    line = row(tables["t_overview"], category=category)
    assert (line["subjects"], line["events"], line["denominator"]) == (subjects, events, 4)
    assert line["percent"] == round(100 * subjects / 4, 1)


def test_worst_grade_per_subject_by_term(tables):
    hypertension = row(tables["t_soc_term"], meddra_soc="Vascular disorders", term="Hypertension")
    # S1 had grade 2 then grade 3: counted once, at grade 3.
    assert (hypertension["subjects"], hypertension["events"], hypertension["worst_grade_2"], hypertension["worst_grade_3"]) == (1, 2, 0, 1)
    respiratory = row(tables["t_soc_term"], meddra_soc="Respiratory, thoracic and mediastinal disorders", term="(any)")
    assert (respiratory["subjects"], respiratory["events"], respiratory["worst_grade_5"]) == (1, 2, 1)
    overall = row(tables["t_soc_term"], meddra_soc="(any)", term="(any)")
    # worst grade per subject: S1 3, S2 3, S3 5, S5 1
    assert [overall[f"worst_grade_{g}"] for g in range(1, 6)] == [1, 0, 2, 0, 1]
    # A term the dictionary does not know is counted under its own words, never lost.
    uncoded = row(tables["t_soc_term"], meddra_soc="Not coded to CTCAE", term="Hypertenshun")
    assert (uncoded["subjects"], uncoded["worst_grade_1"]) == (1, 1)
    # A catch-all term with no specified text stays under the catch-all term.
    skin = row(tables["t_soc_term"], meddra_soc="Skin and subcutaneous tissue disorders", term="Skin and subcutaneous tissue disorders - Other, specify")
    assert skin["subjects"] == 1


def test_acute_and_late_have_their_own_denominators(tables):
    """Acute (days 1-90): AE1, AE10, AE13, AE4, AE12, AE6, AE7, AE8 in 4 subjects of 4 treated.
    Late (days 91-730, whatever the last dose): AE3, AE2 (S1) and AE5 (S2, 46 days after its last
    dose: outside the TEAE window, inside the late window). At risk late = followed beyond day 90:
    S1 (173 days) and S2 (168 days); S3 died on day 20, S5 has 62 days. Late related: S1 only
    (AE5 is unlikely for both agents); late grade >= 3: S1 (AE2)."""
    acute = row(tables["t_acute_late"], phase="acute", term="(any)")
    late = row(tables["t_acute_late"], phase="late", term="(any)")
    assert (acute["subjects"], acute["events"], acute["denominator"]) == (4, 8, 4)
    assert (late["subjects"], late["events"], late["denominator"]) == (2, 3, 2)
    assert (late["grade_3_plus"], late["related_subjects"], late["related_grade_3_plus"]) == (1, 1, 1)
    assert row(tables["t_acute_late"], phase="late", term="Hypothyroidism")["subjects"] == 1
    assert row(tables["t_acute_late"], phase="late", term="Fatigue")["subjects"] == 1


def test_by_cycle(tables):
    """Calendar cycles of 28 days from the first dose, only while on treatment (the last cycle
    ends at the last dose). S1 (days 1-172) reaches cycle 7; S2 (days 1-60) cycle 3; S3 (days
    1-18) cycle 1; S5 (days 1-61) cycle 3. On treatment: cycle 1 all 4, cycles 2-3 S1, S2, S5,
    cycles 4-7 S1. TEAE onsets: cycle 1 AE1 (S1 d11), AE4 (S2 d27), AE6, AE7 (S3), AE8 (S5);
    cycle 2 AE10, AE13 (S1 d51, d52), AE12 (S2 d46); cycle 4 AE3 (S1 d96), AE2 (S1 d112, grade 3).
    After treatment: no TEAE starts after a last dose (AE5 is past S2's 30-day window);
    denominator = treated subjects whose last dose is before the cut: all 4."""
    cycles = tables["t_by_cycle"].sort("cycle", nulls_last=True)
    assert cycles["cycle_label"].to_list() == ["1", "2", "3", "4", "5", "6", "7", "After treatment"]
    assert cycles["denominator"].to_list() == [4, 3, 3, 1, 1, 1, 1, 4]
    assert cycles["subjects"].to_list() == [4, 2, 0, 1, 0, 0, 0, 0]
    first = row(cycles, cycle_label="1")
    assert [first[f"worst_grade_{g}"] for g in range(1, 6)] == [1, 1, 1, 0, 1]  # S5 1, S1 2, S2 3, S3 5
    assert row(cycles, cycle_label="4")["worst_grade_3"] == 1  # S1: hypertension grade 3 on day 112
    assert cycles["first_onset_subjects"].to_list() == [4, 0, 0, 0, 0, 0, 0, 0]


def test_attribution_per_agent(tables):
    """Apatinib-related TEAEs: AE1 probable, AE2 definite, AE4 possible, AE6 probable, AE7
    possible, AE12 possible (S1, S2, S3; worst grades 3, 3, 5). Anti-PD-1: AE3 probable, AE10
    possible, AE13 probable, all S1."""
    apatinib = row(tables["t_attribution"], agent="apatinib", term="(any)")
    assert (apatinib["subjects"], apatinib["events"], apatinib["grade_3_plus"]) == (3, 6, 3)
    assert (apatinib["events_possible"], apatinib["events_probable"], apatinib["events_definite"]) == (3, 2, 1)
    anti_pd1 = row(tables["t_attribution"], agent="anti_pd1", term="(any)")
    assert (anti_pd1["subjects"], anti_pd1["events"]) == (1, 3)


def test_aesi_and_deaths(tables):
    hemorrhage = row(tables["t_aesi"], aesi="hemorrhage")
    assert (hemorrhage["subjects"], hemorrhage["events"], hemorrhage["grade_5"], hemorrhage["median_first_onset_day"]) == (1, 2, 1, 5.0)
    deaths = tables["t_deaths"]
    assert deaths["subject_id"].to_list() == ["S3"]
    assert row(deaths, subject_id="S3")["treatment_related"] == "related"


@pytest.fixture(scope="module")
def models(mini_run) -> dict[str, pl.DataFrame]:
    """Every staging, derived and table model of the mini trial's cut, built once."""
    from safetydb.models import build_cut_models
    from trial.config import load_trial_config

    config = load_trial_config(mini_run.config_path)
    with SafetyStore(mini_run.database_path) as store:
        build_cut_models(store, config, mini_run.cut_id, date(2025, 7, 1))
        return {name: store.model(name) for name in STAGING_MODELS + DERIVED_MODELS + TABLE_MODELS}


@pytest.mark.parametrize("model", STAGING_MODELS + DERIVED_MODELS + TABLE_MODELS)
def test_every_model_grain_is_unique(models, model):
    frame = models[model]
    grain = model_grain(model)
    if model not in ("stg_labs", "t_lab_shift", "int_graded_values", "stg_tumour_assessments", "t_data_currency"):
        # The mini trial has no labs (tests/safetydb/test_lab_shift.py has them), no tumour
        # assessments (tests/safetydb/test_tumour_assessments_store.py has them), and every living
        # subject was seen at the cut (tests/safetydb/test_study_status.py has stale ones).
        assert frame.height > 0
    assert frame.select(grain).is_duplicated().sum() == 0, f"{model} is not unique on {grain}"


def test_loading_the_same_inputs_twice_changes_nothing(tmp_path):
    config = make_mini_trial(tmp_path / "twice")
    first = ingest(config)
    counts_before = _row_counts(first.database_path)
    second = ingest(config)
    assert second.cut_id == first.cut_id
    assert second.loaded_now is False
    assert _row_counts(first.database_path) == counts_before


@pytest.mark.slow  # its own run of the pipeline: about 1.5 s
def test_no_end_window_keeps_late_onset_events(tmp_path):
    text = make_mini_trial(tmp_path / "a").read_text().replace("teae_end_days = 30", 'teae_end_days = "none"')
    config = make_mini_trial(tmp_path / "b", config_text=text)
    loaded = ingest(config)
    analyse(loaded)
    from pathlib import Path

    overview = read_tables(Path(loaded.out_dir) / "tables")["t_overview"]
    assert row(overview, category="Any TEAE")["events"] == 11  # AE5 now counts


@pytest.mark.slow  # its own run of the pipeline: about 1.5 s
def test_an_earlier_cut_sees_only_what_was_known(tmp_path):
    config = make_mini_trial(tmp_path / "early")
    loaded = ingest(config, cut_date=date(2025, 2, 19))
    analyse(loaded)
    from pathlib import Path

    tables = read_tables(Path(loaded.out_dir) / "tables")
    # By 2025-02-19: S5 not enrolled; S3 alive (dies 02-20); AE1, AE4, AE6, AE7 have started.
    assert row(tables["t_overview"], category="Any TEAE")["events"] == 4
    assert row(tables["t_overview"], category="Deaths (any cause)")["subjects"] == 0
    assert row(tables["t_overview"], category="Any TEAE")["denominator"] == 3


def _row_counts(database: str) -> dict[str, int]:
    with duckdb.connect(database, read_only=True) as connection:
        return {
            table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("cuts", "subjects", "exposure", "adverse_events", "ae_attribution", "quarantine")
        }


@pytest.mark.slow  # its own run of the pipeline: about 1.5 s
def test_other_specify_events_are_tabulated_by_their_text(tmp_path):
    """Three "Respiratory, thoracic and mediastinal disorders - Other, specify" events whose texts
    differ only in case and spacing ("Nasopharyngeal necrosis" for S1 and S5, "nasopharyngeal
    NECROSIS " for S2) are one term, "Nasopharyngeal necrosis", under the catch-all's SOC; the
    AESI set "necrosis" (other_specify = Nasopharyngeal necrosis) holds all three subjects; a
    fourth with no text stays under the catch-all term. All onset while on treatment."""
    config = make_mini_trial(tmp_path / "os")
    catch_all = '"Respiratory, thoracic and mediastinal disorders - Other, specify"'
    rows = [
        f"OS1,S1,necrosis,{catch_all},Nasopharyngeal necrosis,3,2025-02-01,,N,,not_recovered,possible,unlikely,dose_not_changed,dose_not_changed,",
        f"OS2,S2,necrosis,{catch_all},nasopharyngeal   NECROSIS ,2,2025-02-01,,N,,not_recovered,possible,unlikely,dose_not_changed,dose_not_changed,",
        f"OS3,S5,necrosis,{catch_all},Nasopharyngeal necrosis,1,2025-05-10,,N,,not_recovered,possible,unlikely,dose_not_changed,dose_not_changed,",
        f"OS4,S1,airway,{catch_all},,1,2025-02-02,,N,,not_recovered,unlikely,unlikely,dose_not_changed,dose_not_changed,",
    ]
    ae_file = config.parent / "adverse_events.csv"
    ae_file.write_text(ae_file.read_text() + "\n".join(rows) + "\n")
    loaded = ingest(config)
    analyse(loaded)
    from pathlib import Path

    tables = read_tables(Path(loaded.out_dir) / "tables")
    necrosis = row(tables["t_soc_term"], meddra_soc="Respiratory, thoracic and mediastinal disorders", term="Nasopharyngeal necrosis")
    assert (necrosis["subjects"], necrosis["events"], necrosis["worst_grade_3"]) == (3, 3, 1)
    unspecified = row(
        tables["t_soc_term"], meddra_soc="Respiratory, thoracic and mediastinal disorders",
        term="Respiratory, thoracic and mediastinal disorders - Other, specify",
    )
    assert unspecified["subjects"] == 1
    assert row(tables["t_aesi"], aesi="necrosis")["subjects"] == 3
    assert row(tables["t_acute_late"], phase="acute", term="Nasopharyngeal necrosis")["subjects"] == 3
    assert row(tables["t_attribution"], agent="apatinib", term="Nasopharyngeal necrosis")["subjects"] == 3


@pytest.mark.slow
def test_the_same_cut_is_reported_byte_for_byte(tmp_path):
    """Two analyses of one stored cut write identical tables and queries (SQL models run in
    parallel, so every output must be ordered on its full grain)."""
    import hashlib
    from pathlib import Path

    config = make_mini_trial(tmp_path / "twice")
    digests = []
    for _ in range(2):
        loaded = ingest(config)
        analyse(loaded)
        folder = Path(loaded.out_dir)
        files = sorted(folder.glob("tables/*.csv")) + [folder / "queries.csv"]
        digests.append({path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files})
    assert digests[0] == digests[1]
