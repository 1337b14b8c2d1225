"""Validation of the hand-made mini trial: every row clean, counted with queries, or excluded."""

import polars as pl
import pytest

from ctcae.terms import load_curated_dictionary
from tests.conftest import make_mini_trial
from trial.errors import InputError
from trial.config import load_trial_config
from validators.validate import validate_trial


@pytest.fixture
def validation(mini_config):
    return validate_trial(load_trial_config(mini_config), load_curated_dictionary("5.0"))


def test_rows_in_equal_clean_plus_counted_with_queries_plus_excluded(validation):
    """Counted by hand from tests/data/mini.

    subjects: S6 has sex X -> counted with a query (a subject is never dropped for a typo).
    exposure: one S5 infusion ends before it starts -> counted with a query.
    adverse events: AE10 (grade 1 not allowed for Myocarditis), AE12 (term misspelt) and AE13
    (Other-specify text missing) are counted with queries; AE11 (subject S9 unknown) and AE14
    (onset 2025-02-30 is no date) cannot be placed and are excluded: 14 = 9 + 3 + 2.
    """
    expected = {
        "subjects": (6, 5, 1, 0),
        "exposure": (12, 11, 1, 0),
        "adverse_events": (14, 9, 3, 2),
        "labs": (0, 0, 0, 0),
        "vitals": (0, 0, 0, 0),
    }
    for name, counts in expected.items():
        accounting = validation.sources[name].accounting
        assert (accounting["rows_in"], accounting["clean"], accounting["counted_with_queries"], accounting["excluded"]) == counts, name


def test_excluded_aes_are_those_that_cannot_be_placed(validation):
    reasons = dict(validation.sources["adverse_events"].excluded.select("ae_id", "reasons").iter_rows())
    assert set(reasons) == {"AE11", "AE14"}
    assert "not among the subjects" in reasons["AE11"]  # S9 does not exist
    assert "onset_date is not a date" in reasons["AE14"]
    # AE14's invalid attribution is a counted-reading query, not a reason to exclude.
    assert "'related'" not in reasons["AE14"]


def test_counted_aes_keep_their_doubtful_fields_the_conservative_way(validation):
    """AE10 keeps grade 1 as reported; AE12 stays under the misspelt term in SOC 'Not coded to
    CTCAE', with a suggestion never applied; AE13 stays under its catch-all term."""
    records = validation.sources["adverse_events"].records
    by_id = {row["ae_id"]: row for row in records.iter_rows(named=True)}
    assert (by_id["AE10"]["ctcae_term"], by_id["AE10"]["grade"]) == ("Myocarditis", 1)
    assert (by_id["AE12"]["ctcae_term"], by_id["AE12"]["meddra_soc"]) == ("Hypertenshun", "Not coded to CTCAE")
    assert by_id["AE13"]["ctcae_term"] == "Skin and subcutaneous tissue disorders - Other, specify"
    problems = dict(validation.queries.select("record_key", "problem").iter_rows())
    assert "did you mean: Hypertension" in problems["AE12"]


def test_queries_point_at_file_row_field_and_say_the_reading(validation):
    queries = validation.queries
    assert queries.height == 8  # one per reason: S6, the infusion, AE10-AE13, 2 for AE14
    grade_query = queries.filter(pl.col("record_key") == "AE10").row(0, named=True)
    assert (grade_query["file"], grade_query["row"], grade_query["field"], grade_query["value"]) == (
        "adverse_events.csv",
        11,
        "grade",
        "1",
    )
    assert grade_query["fix"]
    assert (grade_query["effect"], grade_query["reading"]) == ("counted", "counted at the grade as reported")
    attribution = queries.filter((pl.col("record_key") == "AE14") & (pl.col("field") == "attribution_apatinib")).row(0, named=True)
    assert attribution["reading"] == "counted as related to that agent, shown as not assessed"
    onset = queries.filter((pl.col("record_key") == "AE14") & (pl.col("field") == "onset_date")).row(0, named=True)
    assert onset["effect"] == "excluded"
    assert queries["query_id"].n_unique() == queries.height
    assert queries.filter(pl.col("fix").is_null() | (pl.col("fix") == "")).is_empty()


def test_case_and_spacing_of_a_term_are_not_errors(validation):
    records = validation.sources["adverse_events"].records
    ae7 = records.filter(pl.col("ae_id") == "AE7").row(0, named=True)
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
    assert result.sources["adverse_events"].records.height == 12  # 14 rows, 2 excluded


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
    # A negative result cannot be graded or counted: the row is excluded, with its reason.
    assert (labs.records.height, labs.excluded.height) == (1, 1)
    assert labs.excluded["reasons"][0] == "value '-3.0' is below the minimum 0"
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
