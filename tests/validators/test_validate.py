"""Validation of the hand-made mini trial: every row clean or quarantined, with its reasons."""

import polars as pl
import pytest

from ctcae.terms import load_curated_dictionary
from tests.conftest import make_mini_trial
from validators.errors import InputError
from validators.trial_config import load_trial_config
from validators.validate import validate_trial


@pytest.fixture
def validation(mini_config):
    return validate_trial(load_trial_config(mini_config), load_curated_dictionary("5.0"))


def test_rows_in_equal_clean_plus_quarantined(validation):
    # Counted by hand from tests/data/mini: S6 has sex X; one infusion ends before it starts;
    # AE10-AE14 each carry a deliberate error.
    expected = {
        "subjects": (6, 5, 1),
        "exposure": (12, 11, 1),
        "adverse_events": (14, 9, 5),
        "labs": (0, 0, 0),
        "vitals": (0, 0, 0),
    }
    for name, (rows_in, clean, quarantined) in expected.items():
        result = validation.sources[name]
        assert (result.rows_in, result.clean.height, result.quarantined.height) == (rows_in, clean, quarantined), name


def test_each_quarantined_ae_has_its_reason(validation):
    reasons = dict(validation.sources["adverse_events"].quarantined.select("ae_id", "reasons").iter_rows())
    assert "grade is not allowed" in reasons["AE10"]  # Myocarditis allows grades 2-5 only
    assert "not among the clean subjects" in reasons["AE11"]  # S9 does not exist
    assert "did you mean: Hypertension" in reasons["AE12"]  # misspelt term: a suggestion, never applied
    assert "needs other_specify" in reasons["AE13"]
    assert "onset_date is not a date" in reasons["AE14"] and "'related'" in reasons["AE14"]


def test_queries_point_at_file_row_and_field(validation):
    queries = validation.queries
    assert queries.height == 8  # one per reason: 1 + 1 + 4 single-reason AEs + 2 for AE14
    grade_query = queries.filter(pl.col("record_key") == "AE10").row(0, named=True)
    assert (grade_query["file"], grade_query["row"], grade_query["field"], grade_query["value"]) == (
        "adverse_events.csv",
        11,
        "grade",
        "1",
    )
    assert grade_query["fix"]
    assert queries["query_id"].n_unique() == queries.height


def test_case_and_spacing_of_a_term_are_not_errors(validation):
    clean = validation.sources["adverse_events"].clean
    ae7 = clean.filter(pl.col("ae_id") == "AE7").row(0, named=True)
    assert ae7["ctcae_term"] == "Epistaxis"  # written "epistaxis " in the source
    assert ae7["meddra_soc"] == "Respiratory, thoracic and mediastinal disorders"


def test_missing_required_column_stops_with_file_and_column(tmp_path):
    config = make_mini_trial(tmp_path / "t")
    ae_file = config.parent / "adverse_events.csv"
    frame = pl.read_csv(ae_file, infer_schema=False).drop("grade")
    frame.write_csv(ae_file)
    with pytest.raises(InputError) as caught:
        validate_trial(load_trial_config(config), load_curated_dictionary("5.0"))
    assert caught.value.field == "grade"
    assert caught.value.file.endswith("adverse_events.csv")


def test_column_mapping_renames_source_columns(tmp_path):
    text = make_mini_trial(tmp_path / "m").read_text().replace(
        '[sources.adverse_events]\npath = "adverse_events.csv"\n',
        '[sources.adverse_events]\npath = "adverse_events.csv"\ncolumns = { grade = "AETOXGR" }\n',
    )
    config = make_mini_trial(tmp_path / "m", config_text=text)
    ae_file = config.parent / "adverse_events.csv"
    pl.read_csv(ae_file, infer_schema=False).rename({"grade": "AETOXGR"}).write_csv(ae_file)
    result = validate_trial(load_trial_config(config), load_curated_dictionary("5.0"))
    assert result.sources["adverse_events"].clean.height == 9


def test_negative_lab_value_and_tenfold_dose_are_queried(tmp_path):
    config = make_mini_trial(tmp_path / "q")
    (config.parent / "labs.csv").write_text(
        "subject_id,collection_date,test_code,value,unit,lln,uln\n"
        "S1,2025-01-09,ALT,22,U/L,,40\n"
        "S1,2025-02-07,ALT,-3,U/L,,40\n"
    )
    exposure = config.parent / "exposure.csv"
    exposure.write_text(exposure.read_text() + "S1,anti_pd1,2025-02-07,2025-02-07,2000,200,IV,Q2W,none,\n")
    result = validate_trial(load_trial_config(config), load_curated_dictionary("5.0"))
    labs = result.sources["labs"]
    assert (labs.clean.height, labs.quarantined.height) == (1, 1)
    assert labs.quarantined["reasons"][0] == "value '-3.0' is below the minimum 0"
    dose_queries = result.queries.filter(pl.col("check") == "dose_not_above_planned")
    assert dose_queries["value"].to_list() == ["2000.0"]


def test_imported_dictionary_is_used_and_named(tmp_path, monkeypatch):
    from ctcae.workbook import import_workbook
    from flows.stages import ingest
    from tests.conftest import reference_path

    workbook = reference_path("ctcae", "CTCAE_v5.0_2017-11-27.xlsx")
    home = tmp_path / "home"
    import_workbook(workbook, home=home)
    monkeypatch.setenv("TOXWATCH_HOME", str(home))
    loaded = ingest(make_mini_trial(tmp_path / "t"), out_root=tmp_path / "out")
    assert loaded.dictionary.startswith("NCI CTCAE v5.0 workbook CTCAE_v5.0_2017-11-27.xlsx")
    assert "837 terms" in loaded.dictionary


def test_curated_dictionary_is_named_when_nothing_is_imported(tmp_path, monkeypatch):
    from flows.stages import ingest

    monkeypatch.setenv("TOXWATCH_HOME", str(tmp_path / "empty-home"))
    loaded = ingest(make_mini_trial(tmp_path / "t"), out_root=tmp_path / "out")
    assert loaded.dictionary.startswith("toxwatch curated CTCAE v5.0 table")
