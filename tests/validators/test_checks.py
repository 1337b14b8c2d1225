"""The checks that hold the sources to what docs/sources.md promises, on the hand-made mini trial.

Each test adds a few hand-made rows to tests/data/mini (bundled trial config: apatinib 250 mg PO
QD, dose levels 250 and 125; anti-PD-1 200 mg IV Q2W, dose level 200) and works out by hand
which queries they raise. The mini trial itself raises none of these checks: its exposure is
already queried once (S5's infusion ends before it starts) and its subjects once (S6's sex).
"""

from pathlib import Path

import duckdb
from datetime import date

import polars as pl

from ctcae.terms import load_curated_dictionary
from flows.stages import ingest
from tests.conftest import make_mini_trial
from trial.config import load_trial_config
from validators.checks import FRAME_CHECKS
from validators.readings import FILLED_BY_READINGS
from validators.validate import validate_trial

EXPOSURE_HEADER = "subject_id,agent,start_date,end_date,dose_mg,planned_dose_mg,route,frequency,adjustment,adjustment_reason\n"


def validate(config: Path):
    return validate_trial(load_trial_config(config), load_curated_dictionary("5.0"))


def append_exposure(config: Path, rows: list[str]) -> None:
    exposure = config.parent / "exposure.csv"
    exposure.write_text(exposure.read_text() + "\n".join(rows) + "\n")


def new_queries(result, source: str, first_row: int) -> list[tuple[int, str]]:
    """(row, check) of the queries on rows from ``first_row`` on, in file order."""
    queries = result.sources[source].queries.filter(pl.col("row") >= first_row)
    return sorted(queries.select("row", "check").iter_rows())


def accounting(result, source: str) -> tuple[int, int, int, int]:
    counts = result.sources[source].accounting
    return counts["rows_in"], counts["clean"], counts["counted_with_queries"], counts["excluded"]


LABS = (
    "subject_id,collection_date,test_code,value,unit,lln,uln\n"
    "S1,2025-01-09,BILI,10,umol/L,3.4,20.5\n"  # line 2: SI unit -> clean
    "S1,2025-02-07,BILI,0.6,mg/dL,3.4,20.5\n"  # line 3: conventional unit
    "S1,2025-02-07,HGB,12.1,g/dL,120,160\n"  # line 4: conventional unit
    "S1,2025-02-07,ALT,30,mg/dL,,40\n"  # line 5: a unit ALT does not have
    "S1,2025-02-07,AST,30,iu/l,,40\n"  # line 6: another spelling of U/L -> clean
    "S1,2025-02-07,TSH,2.1,mIU/L,0.27,4.2\n"  # line 7: not a graded test -> clean
    "S1,2025-02-07,UPROT_DIP,2.5,dipstick,,\n"  # line 8: a dipstick reads 0-4
    "S1,2025-02-07,PLT,150000,cells/uL,125000,350000\n"  # line 9: cells/uL, 1000 of them = 1 x 10^9/L
    "S1,2025-02-07,K,4.1,,3.5,5.3\n"  # line 10: no unit; potassium has one scale -> clean
)


def test_lab_units_and_values_are_those_the_grading_criteria_accept(tmp_path):
    """The units a test accepts come from the CTCAE criteria's catalogue (data/ctcae/lab_tests.csv).

    Line 3 (bilirubin in mg/dL), 4 (hemoglobin in g/dL) and 9 (platelets in cells/uL) are in units
    the catalogue converts, not the SI unit of the criterion: unit_is_criterion_unit. Line 5: ALT
    has no mg/dL: unit_accepted_for_test. Line 8: a dipstick of 2.5: value_allowed_for_test.
    Lines 2, 6 (iu/l is IU/L), 7 (TSH is not graded) and 10 (potassium without a unit) are clean:
    9 rows = 4 clean + 5 counted with queries + 0 excluded.
    """
    config = make_mini_trial(tmp_path / "labs")
    (config.parent / "labs.csv").write_text(LABS)
    result = validate(config)
    assert new_queries(result, "labs", 2) == [
        (3, "unit_is_criterion_unit"),
        (4, "unit_is_criterion_unit"),
        (5, "unit_accepted_for_test"),
        (8, "value_allowed_for_test"),
        (9, "unit_is_criterion_unit"),
    ]
    assert accounting(result, "labs") == (9, 4, 5, 0)
    problems = dict(result.sources["labs"].queries.select("row", "problem").iter_rows())
    assert problems[3].endswith("; BILI is graded in umol/L; 1 mg/dL = 17.1 umol/L")
    assert problems[5].endswith("; ALT accepts: U/L, IU/L, ukat/L")
    assert problems[8].endswith("; UPROT_DIP allows: 0, 1, 2, 3, 4")


def test_lab_readings_are_what_the_store_does(tmp_path):
    """The readings the queries state, as stored: ALT in mg/dL (line 5) and the 2.5 dipstick (line 8)
    are not graded; bilirubin in mg/dL (line 3) is graded after conversion, its lln and uln read in
    mg/dL too."""
    config = make_mini_trial(tmp_path / "labs")
    (config.parent / "labs.csv").write_text(LABS)
    loaded = ingest(config, out_root=tmp_path / "out", database=tmp_path / "store.duckdb")
    with duckdb.connect(loaded.database_path, read_only=True) as connection:
        gradable = dict(connection.execute("SELECT source_row, gradable FROM labs").fetchall())
    assert (gradable[5], gradable[8]) == (False, False)
    assert gradable[3] is True
    assert FRAME_CHECKS["unit_accepted_for_test"].consequence.reading == "counted; the value is not graded"
    assert FRAME_CHECKS["value_allowed_for_test"].consequence.reading == "counted; the value is not graded"
    assert "graded after conversion" in FRAME_CHECKS["unit_is_criterion_unit"].consequence.reading


def test_exposure_follows_the_agent_in_the_trial_config(tmp_path):
    """Seven rows for S4 (lines 14-20) after the mini trial's 12:

    14 apatinib by IV: route_is_agent_route (the config says PO).
    15 anti-PD-1 Q3W: frequency_is_agent_frequency (Q2W).
    16 apatinib held with no reason: adjustment_has_reason.
    17 reduced for "Hypertenshun": adjustment_reason_known (a misspelt term).
    18 held, but 250 mg given: dose_zero_when_held.
    19 0 mg with adjustment none: dose_zero_when_held.
    20 reduced to 125 mg for "other": clean.
    Exposure: 19 rows = 12 clean (11 + line 20) + 7 counted with queries (S5's infusion + 14-19).
    """
    config = make_mini_trial(tmp_path / "exposure")
    append_exposure(
        config,
        [
            "S4,apatinib,2025-01-10,2025-01-20,250,250,IV,QD,none,",
            "S4,anti_pd1,2025-01-10,2025-01-10,200,200,IV,Q3W,none,",
            "S4,apatinib,2025-01-21,2025-01-23,0,250,PO,QD,held,",
            "S4,apatinib,2025-01-24,2025-01-31,125,250,PO,QD,reduced,Hypertenshun",
            "S4,apatinib,2025-02-01,2025-02-05,250,250,PO,QD,held,Hypertension",
            "S4,apatinib,2025-02-06,2025-02-10,0,250,PO,QD,none,",
            "S4,apatinib,2025-02-11,2025-02-28,125,250,PO,QD,reduced,other",
        ],
    )
    result = validate(config)
    assert new_queries(result, "exposure", 14) == [
        (14, "route_is_agent_route"),
        (15, "frequency_is_agent_frequency"),
        (16, "adjustment_has_reason"),
        (17, "adjustment_reason_known"),
        (18, "dose_zero_when_held"),
        (19, "dose_zero_when_held"),
    ]
    assert accounting(result, "exposure") == (19, 12, 7, 0)
    queries = result.sources["exposure"].queries
    problems = dict(queries.select("row", "problem").iter_rows())
    assert problems[14].endswith("; the trial config has apatinib PO")
    assert problems[17].endswith("; did you mean: Hypertension")
    # Counted as given: the hold with no reason stays a hold of 0 mg.
    held = result.sources["exposure"].records.filter(pl.col("_row") == 16).row(0, named=True)
    assert (held["adjustment"], held["dose_mg"], held["adjustment_reason"]) == ("held", 0.0, None)
    assert set(queries.filter(pl.col("row") >= 14)["effect"]) == {"counted"}


def test_dose_levels_and_planned_dose_come_from_the_trial_config(tmp_path):
    """Four rows for S4 (lines 14-17):

    14 apatinib 200 mg: not one of its levels (250, 125): dose_at_a_dose_level.
    15 anti-PD-1 240 mg planned 240: planned_dose_is_agent_dose (the config says 200 mg) and
       dose_at_a_dose_level (its only level is 200).
    16 apatinib 125 mg, a level: clean. 17 apatinib held at 0 mg: a hold is no dose, clean.
    Without `dose_levels_mg` for apatinib, line 14 raises nothing; line 15 raises the same two.
    """
    rows = [
        "S4,apatinib,2025-03-01,2025-03-10,200,250,PO,QD,reduced,Hypertension",
        "S4,anti_pd1,2025-03-01,2025-03-01,240,240,IV,Q2W,none,",
        "S4,apatinib,2025-03-11,2025-03-20,125,250,PO,QD,reduced,Hypertension",
        "S4,apatinib,2025-03-21,2025-03-23,0,250,PO,QD,held,Hypertension",
    ]
    config = make_mini_trial(tmp_path / "levels")
    append_exposure(config, rows)
    result = validate(config)
    assert new_queries(result, "exposure", 14) == [
        (14, "dose_at_a_dose_level"),
        (15, "dose_at_a_dose_level"),
        (15, "planned_dose_is_agent_dose"),
    ]
    problems = dict(result.sources["exposure"].queries.filter(pl.col("row") == 14).select("check", "problem").iter_rows())
    assert problems["dose_at_a_dose_level"].endswith("; apatinib dose levels: 250, 125 mg")
    # The dose as given is what is counted.
    assert result.sources["exposure"].records.filter(pl.col("_row") == 14)["dose_mg"].to_list() == [200.0]

    text = make_mini_trial(tmp_path / "x").read_text().replace("dose_levels_mg = [250, 125]\n", "")
    config = make_mini_trial(tmp_path / "no-levels", config_text=text)
    append_exposure(config, rows)
    result = validate(config)
    assert new_queries(result, "exposure", 14) == [(15, "dose_at_a_dose_level"), (15, "planned_dose_is_agent_dose")]


def test_end_of_treatment_date_and_reason_go_together(tmp_path):
    """S1 gets an end-of-treatment date with no reason, S4 a reason with no date: two queries
    end_of_treatment_has_reason. Subjects: 6 rows = 3 clean + 3 counted with queries (S1, S4 and
    S6, whose sex is X)."""
    config = make_mini_trial(tmp_path / "subjects")
    subjects = config.parent / "subjects.csv"
    text = subjects.read_text()
    text = text.replace("S1,01,Apatinib + anti-PD-1,M,52,2025-01-01,local,N,,,", "S1,01,Apatinib + anti-PD-1,M,52,2025-01-01,local,N,2025-06-30,,")
    text = text.replace(
        "S4,02,Apatinib + anti-PD-1,M,39,2025-01-01,regional,N,,,", "S4,02,Apatinib + anti-PD-1,M,39,2025-01-01,regional,N,,withdrawal,"
    )
    subjects.write_text(text)
    result = validate(config)
    queries = result.sources["subjects"].queries.filter(pl.col("check") == "end_of_treatment_has_reason")
    assert queries["record_key"].to_list() == ["S1", "S4"]
    assert accounting(result, "subjects") == (6, 3, 3, 0)


def test_readings_fill_the_columns_they_declare(tmp_path):
    """An AE with no identifier, grade, seriousness or outcome, and an infusion with no end date,
    are counted with every column of validators.readings.FILLED_BY_READINGS given (the store
    declares them NOT NULL): AE row-16 (grade 3, serious, outcome unknown); the infusion, the
    last anti-PD-1 record of S1, is open-ended (9999-12-31; the store clips it at the cut), the
    longer exposure."""
    config = make_mini_trial(tmp_path / "filled")
    adverse_events = config.parent / "adverse_events.csv"
    adverse_events.write_text(
        adverse_events.read_text() + ",S1,tired,Fatigue,,,2025-03-05,,,,,unlikely,unlikely,dose_not_changed,dose_not_changed,\n"
    )
    append_exposure(config, ["S1,anti_pd1,2025-02-07,,200,200,IV,Q2W,none,"])
    result = validate(config)
    for source, columns in FILLED_BY_READINGS.items():
        records = result.sources[source].records
        assert records.select(pl.col(list(columns)).null_count()).sum_horizontal().item() == 0, source
    ae = result.sources["adverse_events"].records.filter(pl.col("_row") == 16).row(0, named=True)
    assert (ae["ae_id"], ae["grade"], ae["serious"], ae["outcome"]) == ("row-16", 3, "Y", "unknown")
    infusion = result.sources["exposure"].records.filter(pl.col("_row") == 14).row(0, named=True)
    assert infusion["end_date"] == date(9999, 12, 31)
