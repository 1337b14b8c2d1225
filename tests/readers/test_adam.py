"""ADaM datasets read as toxwatch's sources (readers/adam.py).

A hand-made three-subject trial, written as Parquet datasets (ADSL, ADEX, ADAE, ADLB) with the
types ADaM data have there (dates as dates, date-times as date-times, AGE and AESEQ as floats):

* A-001, arm "Drug X" (TRT01A): randomised 2024-01-10, first dose 2024-01-12; drug X 100 mg,
  75 mg, then 0 mg on a weekly visit (BDS exposure records: PARAMCD DOSE, with NDOSE and TDOSE
  records beside them); treatment stopped (PHYSICIAN DECISION); two adverse events, one whose
  analysis onset is missing and whose AESTDTC is partial (2024-02);
* A-002, arm "Placebo": no RANDDT, first dose 2024-02-01; placebo 0 mg twice; still on
  treatment (EOTSTT ONGOING); one adverse event with an onset ADaM imputed (ASTDTF D);
* A-003, arm "Drug X": died 2024-03-20 (DTHCAUS MYOCARDIAL INFARCTION, which the map does not
  list, DTHCAT ADVERSE EVENT, which it does); a drug X dose from 23:30 to 00:30, and a dose of a
  treatment the config does not map (DRUG Z); a fatal event with an unmapped relationship
  (MAYBE), and an event whose analysis grade (ATOXGR 4) differs from the collected one (3).

Every expected value is worked out by hand in the test that states it.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from readers.adam import DEATH_CAUSES, adam_source
from readers.cdisc import read_cdisc_source, value_map
from tests.conftest import reference_path
from tests.readers.pilot_trial import PILOT_TRIAL
from trial.config import load_trial_config
from trial.errors import InputError
from validators import contract
from validators.read import OPTIONAL_COLUMNS, ROW, read_source, required_columns

ADSL = pl.DataFrame(
    {
        "STUDYID": ["A1"] * 3,
        "USUBJID": ["A-001", "A-002", "A-003"],
        "SITEID": ["01", "02", "01"],
        "AGE": [61.0, 55.0, 70.0],
        "SEX": ["F", "M", "M"],
        "ARM": ["Drug X", "Placebo", "Drug X"],
        "TRT01A": ["Drug X", "Placebo", "Drug X"],
        "RANDDT": [date(2024, 1, 10), None, date(2024, 1, 18)],
        "TRTSDT": [date(2024, 1, 12), date(2024, 2, 1), date(2024, 1, 20)],
        "TRTSDTM": [datetime(2024, 1, 12, 10), datetime(2024, 2, 1, 9), datetime(2024, 1, 20, 23, 30)],
        "TRTEDT": [date(2024, 3, 1), None, date(2024, 3, 10)],
        "EOTSTT": ["DISCONTINUED", "ONGOING", "DISCONTINUED"],
        "DCSREAS": ["PHYSICIAN DECISION", None, "DEATH"],
        "LSTALVDT": [date(2024, 4, 1), date(2024, 5, 1), date(2024, 3, 15)],
        "DTHFL": ["N", "N", "Y"],
        "DTHDT": [None, None, date(2024, 3, 20)],
        "DTHCAUS": [None, None, "MYOCARDIAL INFARCTION"],
        "DTHCAT": [None, None, "ADVERSE EVENT"],
        "SAFFL": ["Y", "Y", "Y"],
    }
)
ADEX = pl.DataFrame(
    {
        "USUBJID": ["A-001"] * 5 + ["A-002"] * 2 + ["A-003"] * 2,
        "TRT01A": ["Drug X"] * 5 + ["Placebo"] * 2 + ["Drug X"] * 2,
        "PARAMCD": ["DOSE", "NDOSE", "DOSE", "DOSE", "TDOSE", "DOSE", "DOSE", "DOSE", "DOSE"],
        "PARCAT1": ["INDIVIDUAL"] * 4 + ["OVERALL"] + ["INDIVIDUAL"] * 4,
        "PARCAT2": ["Drug X"] * 5 + ["PLACEBO"] * 2 + ["DRUG X", "DRUG Z"],
        "AVISIT": ["WEEK 1", "WEEK 1", "WEEK 4", "WEEK 7", None, "WEEK 1", "WEEK 4", "WEEK 1", "WEEK 2"],
        "AVAL": [100.0, 1.0, 75.0, 0.0, 175.0, 0.0, 0.0, 100.0, 100.0],
        "ASTDTM": [
            datetime(2024, 1, 12, 10), datetime(2024, 1, 12, 10), datetime(2024, 2, 2, 10), datetime(2024, 2, 23, 10), None,
            datetime(2024, 2, 1, 9), datetime(2024, 2, 22, 9), datetime(2024, 1, 20, 23, 30), datetime(2024, 1, 27, 10),
        ],
        "AENDTM": [
            datetime(2024, 1, 12, 11), datetime(2024, 1, 12, 11), datetime(2024, 2, 2, 11), datetime(2024, 2, 23, 11), None,
            datetime(2024, 2, 1, 10), datetime(2024, 2, 22, 10), datetime(2024, 1, 21, 0, 30), datetime(2024, 1, 27, 11),
        ],
        "EXROUTE": ["INTRAVENOUS"] * 4 + [None] + ["INTRAVENOUS"] * 3 + ["ORAL"],
        "EXDOSFRQ": ["ONCE"] * 4 + [None] + ["ONCE"] * 4,
    }
)
ADAE = pl.DataFrame(
    {
        "USUBJID": ["A-001", "A-001", "A-002", "A-003", "A-003"],
        "TRT01A": ["Drug X", "Drug X", "Placebo", "Drug X", "Drug X"],
        "AESEQ": [1.0, 2.0, 1.0, 1.0, 2.0],
        "AETERM": ["feeling sick", "high blood pressure", "headache", "heart attack", "low platelets"],
        "AEDECOD": ["Nausea", "Hypertension", "Headache", "Myocardial infarction", "Platelet count decreased"],
        "AEBODSYS": [
            "Gastrointestinal disorders", "Vascular disorders", "Nervous system disorders", "Cardiac disorders", "Investigations",
        ],
        "AELLT": ["Nausea", "Hypertension", "Headache", "Myocardial infarction", "Platelet count decreased"],
        "AEHLT": ["Nausea and vomiting symptoms", "Vascular hypertensive disorders NEC", "Headaches NEC", "Ischaemic coronary artery disorders", "Platelet analyses"],
        "AETOXGR": ["2", "3", "1", "5", "3"],
        "ATOXGR": [None, None, None, None, "4"],
        "AESEV": ["MODERATE", "SEVERE", "MILD", "SEVERE", "SEVERE"],
        "AESTDTC": ["2024-01-15", "2024-02", "2024-02", "2024-03-18", "2024-02-10"],
        "ASTDT": [date(2024, 1, 15), None, date(2024, 2, 1), date(2024, 3, 18), date(2024, 2, 10)],
        "ASTDTF": [None, None, "D", None, None],
        "AEENDTC": ["2024-01-20", None, None, "2024-03-20", None],
        "AENDT": [date(2024, 1, 20), None, None, date(2024, 3, 20), None],
        "AESER": ["N", "N", "N", "Y", "N"],
        "AESDTH": ["N", "N", "N", "Y", "N"],
        "AESLIFE": ["N", "N", "N", "N", "N"],
        "AESHOSP": ["N", "N", "N", "Y", "N"],
        "AESDISAB": ["N", "N", "N", "N", "N"],
        "AESCONG": ["N", "N", "N", "N", "N"],
        "AESMIE": ["N", "N", "N", "N", "N"],
        "AEOUT": ["RECOVERED/RESOLVED", "NOT RECOVERED/NOT RESOLVED", "RECOVERING/RESOLVING", "FATAL", "UNKNOWN"],
        "AREL": [None, None, None, None, "DEFINITE"],
        "AEREL": ["Y", "N", "POSSIBLE", "MAYBE", "Y"],
        "AEACN": ["DOSE NOT CHANGED", "DOSE REDUCED", "NOT APPLICABLE", "DRUG WITHDRAWN", "DRUG INTERRUPTED"],
        "TRTEMFL": ["Y", "Y", "Y", "Y", "Y"],
    }
)
ADLB = pl.DataFrame(
    {
        "USUBJID": ["A-001"] * 4 + ["A-002"] * 2 + ["A-003"],
        "LBSEQ": [1.0, 2.0, 2.0, 3.0, 1.0, None, 1.0],
        "PARAMCD": ["ALT", "ALT", "ALT", "PLAT", "ALKPH", "ALT", "CHOLES"],
        "PARAM": [
            "Alanine Aminotransferase (U/L)", "Alanine Aminotransferase (U/L)", "Alanine Aminotransferase (U/L)",
            "Platelet (10^9/L)", "Alkaline Phosphatase", "Alanine Aminotransferase (U/L)", "Cholesterol (mmol/L)",
        ],
        "AVISIT": ["Baseline", "Week 3", "POST-BASELINE MAXIMUM", "Week 3", "Baseline", "Baseline", "Baseline"],
        "DTYPE": [None, None, None, None, None, "AVERAGE", None],
        "ADT": [date(2024, 1, 10), date(2024, 2, 2), date(2024, 2, 2), date(2024, 2, 2), date(2024, 2, 1), date(2024, 2, 1), date(2024, 1, 19)],
        "AVAL": [30.0, 130.0, 130.0, 90.0, 100.0, 25.0, 5.2],
        "AVALU": [None, None, None, None, "U/L", None, None],
        "ANRLO": [0.0, 0.0, 0.0, 150.0, 40.0, 0.0, 3.0],
        "ANRHI": [40.0, 40.0, 40.0, 400.0, 120.0, 40.0, 5.0],
    }
)
DATASETS = {"adsl": ADSL, "adex": ADEX, "adae": ADAE, "adlb": ADLB}

CONFIG = """\
[trial]
id = "a1"
title = "A made-up ADaM trial"
grading = "{grading}"

[[agents]]
id = "drug_x"
name = "Drug X"
dose_mg = 100
route = "INTRAVENOUS"
frequency = "Q3W"
dose_levels_mg = [100, 75]

[[agents]]
id = "placebo"
name = "Placebo"
dose_mg = 0
route = "INTRAVENOUS"
frequency = "Q3W"

[[arms]]
id = "drug_x"
value = "Drug X"
agents = ["drug_x"]

[[arms]]
id = "placebo"
value = "Placebo"
agents = ["placebo"]

[cdisc]
standard = "adam"
folder = "adam"
arm_variable = "TRT01A"
files = {{ {files} }}
treatments = {{"DRUG X" = "drug_x", "PLACEBO" = "placebo"}}
"""


def write_trial(folder: Path, *, grading: str = "ctcae", datasets: dict[str, pl.DataFrame] = DATASETS) -> Path:
    (folder / "adam").mkdir(parents=True, exist_ok=True)
    for name, frame in datasets.items():
        frame.write_parquet(folder / "adam" / f"{name}.parquet")
    files = ", ".join(f'{name} = "{name}.parquet"' for name in datasets)
    path = folder / "trial.toml"
    path.write_text(CONFIG.format(grading=grading, files=files), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path):
    return load_trial_config(write_trial(tmp_path))


def expected_frame(rows: dict[int, dict[str, str | None]]) -> pl.DataFrame:
    """Expected records by their position in the dataset; a column not named is missing (null)."""
    columns = sorted({column for row in rows.values() for column in row})
    return pl.DataFrame(
        [{ROW: number, **{column: row.get(column) for column in columns}} for number, row in rows.items()],
        schema={ROW: pl.Int64, **dict.fromkeys(columns, pl.String)},
    )


def assert_records(frame: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Every column of ``expected`` as in ``frame``, and every other column of ``frame`` empty."""
    assert_frame_equal(frame.select(expected.columns), expected)
    others = [column for column in frame.columns if column not in expected.columns]
    assert frame.select(others).null_count().row(0) == (frame.height,) * len(others), "columns expected empty hold values"


def test_the_frame_has_exactly_the_contract_columns(config):
    """Every source comes with ``_row``, the required columns (a pair per agent for adverse
    events), then the optional ones, every value as text; vitals and tumour assessments have no
    ADaM dataset here."""
    for name in ("subjects", "exposure", "adverse_events", "labs"):
        raw = adam_source(config, name)
        assert raw.frame.columns == [ROW, *required_columns(name, config.agent_ids), *OPTIONAL_COLUMNS.get(name, ())]
        assert raw.frame.schema[ROW] == pl.Int64
        assert all(dtype == pl.String for column, dtype in raw.frame.schema.items() if column != ROW)
    assert adam_source(config, "vitals") is None
    assert adam_source(config, "tumour_assessments") is None


def test_subjects_from_adsl(config):
    """One record per ADSL record (position 1-3).

    A-001: enrolled at randomisation (RANDDT 2024-01-10); AGE 61.0 is 61; treatment ended
    2024-03-01 (TRTEDT), discontinued for PHYSICIAN DECISION, which disposition_reasons.csv does
    not list: other; last contact the latest of LSTALVDT 2024-04-01 and TRTEDT 2024-03-01.
    A-002: no RANDDT, so enrolled at the first dose TRTSDT 2024-02-01; ONGOING, no end of
    treatment and so no reason; last contact LSTALVDT 2024-05-01.
    A-003: treatment ended 2024-03-10 for DEATH (death); died 2024-03-20; the cause
    MYOCARDIAL INFARCTION (DTHCAUS) is not in death_causes.csv, DTHCAT ADVERSE EVENT is:
    adverse_event; last contact the latest of LSTALVDT 2024-03-15, death 2024-03-20 and TRTEDT
    2024-03-10: 2024-03-20.
    """
    raw = adam_source(config, "subjects")
    expected = expected_frame(
        {
            1: {
                "subject_id": "A-001", "site_id": "01", "arm": "Drug X", "sex": "F", "age": "61",
                "enrolment_date": "2024-01-10", "end_of_treatment_date": "2024-03-01",
                "end_of_treatment_reason": "other", "last_contact_date": "2024-04-01",
            },
            2: {
                "subject_id": "A-002", "site_id": "02", "arm": "Placebo", "sex": "M", "age": "55",
                "enrolment_date": "2024-02-01", "last_contact_date": "2024-05-01",
            },
            3: {
                "subject_id": "A-003", "site_id": "01", "arm": "Drug X", "sex": "M", "age": "70",
                "enrolment_date": "2024-01-18", "end_of_treatment_date": "2024-03-10", "end_of_treatment_reason": "death",
                "last_contact_date": "2024-03-20", "death_date": "2024-03-20", "death_cause": "adverse_event",
            },
        }
    )
    assert_records(raw.frame, expected)
    assert raw.path.name == "adsl.parquet"
    assert {"STUDYID", "ARM", "SAFFL"} <= set(raw.ignored_columns)
    assert not {"USUBJID", "TRT01A", "RANDDT", "DTHCAUS", "DTHCAT"} & set(raw.ignored_columns)


def test_end_of_treatment_without_a_reason_is_not_recorded(tmp_path):
    """An ADSL without EOTSTT or a discontinuation reason (pharmaverse's) still dates the end of
    treatment: the reason is not_recorded. The cause of a death with no cause variable is unknown."""
    adsl = ADSL.drop("EOTSTT", "DCSREAS", "DTHCAUS", "DTHCAT")
    config = load_trial_config(write_trial(tmp_path, datasets={**DATASETS, "adsl": adsl}))
    frame = adam_source(config, "subjects").frame
    assert frame["end_of_treatment_reason"].to_list() == ["not_recorded", None, "not_recorded"]
    assert frame["death_cause"].to_list() == [None, None, "unknown"]


def test_exposure_from_the_dose_records(config):
    """Only PARAMCD DOSE records are administrations: positions 1, 3, 4, 6, 7, 8, 9 (NDOSE at 2
    and TDOSE at 5 describe the same doses). Dates are the date parts of ASTDTM and AENDTM; the
    23:30 dose of A-003 ends the next day. Agent: PARCAT2 as [cdisc] treatments maps it (case
    and spacing aside), DRUG Z as given. Planned dose: the arm's (drug X 100; placebo 0; none for
    DRUG Z, an agent the config does not know). Frequency: the agent's in the config (Q3W), not
    ADEX's ONCE; DRUG Z keeps ONCE. Adjustment per subject and agent in date order: A-001 100
    (none), 75 below 100 (reduced), 0 of an agent planned at 100 (held); A-002's placebo 0 mg is
    a dose given (none, twice); A-003 none.
    """
    raw = adam_source(config, "exposure")
    given = {"route": "INTRAVENOUS", "frequency": "Q3W"}
    expected = expected_frame(
        {
            1: {"subject_id": "A-001", "agent": "drug_x", "start_date": "2024-01-12", "end_date": "2024-01-12",
                "dose_mg": "100", "planned_dose_mg": "100", "adjustment": "none", **given},
            3: {"subject_id": "A-001", "agent": "drug_x", "start_date": "2024-02-02", "end_date": "2024-02-02",
                "dose_mg": "75", "planned_dose_mg": "100", "adjustment": "reduced", **given},
            4: {"subject_id": "A-001", "agent": "drug_x", "start_date": "2024-02-23", "end_date": "2024-02-23",
                "dose_mg": "0", "planned_dose_mg": "100", "adjustment": "held", **given},
            6: {"subject_id": "A-002", "agent": "placebo", "start_date": "2024-02-01", "end_date": "2024-02-01",
                "dose_mg": "0", "planned_dose_mg": "0", "adjustment": "none", **given},
            7: {"subject_id": "A-002", "agent": "placebo", "start_date": "2024-02-22", "end_date": "2024-02-22",
                "dose_mg": "0", "planned_dose_mg": "0", "adjustment": "none", **given},
            8: {"subject_id": "A-003", "agent": "drug_x", "start_date": "2024-01-20", "end_date": "2024-01-21",
                "dose_mg": "100", "planned_dose_mg": "100", "adjustment": "none", **given},
            9: {"subject_id": "A-003", "agent": "DRUG Z", "start_date": "2024-01-27", "end_date": "2024-01-27",
                "dose_mg": "100", "planned_dose_mg": None, "adjustment": "none", "route": "ORAL", "frequency": "ONCE"},
        }
    )
    assert_records(raw.frame, expected)
    assert "PARCAT1" in raw.ignored_columns and "AVISIT" in raw.ignored_columns


def test_exposure_without_end_dates_lasts_its_start_day(tmp_path):
    """An ADEX with no end variable (no AENDT, AENDTM, EXENDTC) gives each administration its start day."""
    config = load_trial_config(write_trial(tmp_path, datasets={**DATASETS, "adex": ADEX.drop("AENDTM")}))
    frame = adam_source(config, "exposure").frame
    assert frame["end_date"].to_list() == frame["start_date"].to_list()
    assert frame["end_date"].to_list()[5] == "2024-01-20"


def test_adverse_events_from_adae(config):
    """One record per ADAE record, identified as USUBJID-AESEQ (1.0 -> 1).

    1: A-001's nausea, AEREL Y -> probable for drug X (the arm's agent), unrelated to placebo
       (not the arm's) with action not_applicable; dates as ADaM gives them, nothing imputed.
    2: ASTDT missing, AESTDTC 2024-02: imputed here to the 1st (the first dose, 2024-01-12, is not
       in that month), flagged D; AEREL N -> unrelated; DOSE REDUCED -> dose_reduced.
    3: A-002 (placebo): ASTDT 2024-02-01 with ASTDTF D, as ADaM imputed it; POSSIBLE ->
       possible for placebo, unrelated to drug X.
    4: A-003's fatal myocardial infarction: AESDTH and AESHOSP Y -> death;hospitalisation;
       AEREL MAYBE is in no value map: passed as given.
    5: ATOXGR 4 is read before AETOXGR 3; AREL DEFINITE before AEREL Y; UNKNOWN outcome -> unknown.
    """
    raw = adam_source(config, "adverse_events")
    drug_x = {"attribution_placebo": "unrelated", "action_placebo": "not_applicable"}
    placebo = {"attribution_drug_x": "unrelated", "action_drug_x": "not_applicable"}
    expected = expected_frame(
        {
            1: {
                "ae_id": "A-001-1", "subject_id": "A-001", "verbatim_term": "feeling sick", "ctcae_term": "Nausea",
                "grade": "2", "onset_date": "2024-01-15", "resolution_date": "2024-01-20", "serious": "N",
                "outcome": "recovered", "attribution_drug_x": "probable", "action_drug_x": "dose_not_changed",
                "meddra_pt": "Nausea", "meddra_soc": "Gastrointestinal disorders", "meddra_llt": "Nausea",
                "meddra_hlt": "Nausea and vomiting symptoms", "severity": "MODERATE",
                "onset_date_given": "2024-01-15", "resolution_date_given": "2024-01-20", **drug_x,
            },
            2: {
                "ae_id": "A-001-2", "subject_id": "A-001", "verbatim_term": "high blood pressure", "ctcae_term": "Hypertension",
                "grade": "3", "onset_date": "2024-02-01", "serious": "N", "outcome": "not_recovered",
                "attribution_drug_x": "unrelated", "action_drug_x": "dose_reduced", "meddra_pt": "Hypertension",
                "meddra_soc": "Vascular disorders", "meddra_llt": "Hypertension", "meddra_hlt": "Vascular hypertensive disorders NEC",
                "severity": "SEVERE", "onset_date_given": "2024-02", "onset_date_imputed": "D", **drug_x,
            },
            3: {
                "ae_id": "A-002-1", "subject_id": "A-002", "verbatim_term": "headache", "ctcae_term": "Headache",
                "grade": "1", "onset_date": "2024-02-01", "serious": "N", "outcome": "recovering",
                "attribution_placebo": "possible", "action_placebo": "not_applicable", "meddra_pt": "Headache",
                "meddra_soc": "Nervous system disorders", "meddra_llt": "Headache", "meddra_hlt": "Headaches NEC",
                "severity": "MILD", "onset_date_given": "2024-02", "onset_date_imputed": "D", **placebo,
            },
            4: {
                "ae_id": "A-003-1", "subject_id": "A-003", "verbatim_term": "heart attack", "ctcae_term": "Myocardial infarction",
                "grade": "5", "onset_date": "2024-03-18", "resolution_date": "2024-03-20", "serious": "Y",
                "serious_criteria": "death;hospitalisation", "outcome": "fatal", "attribution_drug_x": "MAYBE",
                "action_drug_x": "drug_withdrawn", "meddra_pt": "Myocardial infarction", "meddra_soc": "Cardiac disorders",
                "meddra_llt": "Myocardial infarction", "meddra_hlt": "Ischaemic coronary artery disorders", "severity": "SEVERE",
                "onset_date_given": "2024-03-18", "resolution_date_given": "2024-03-20", **drug_x,
            },
            5: {
                "ae_id": "A-003-2", "subject_id": "A-003", "verbatim_term": "low platelets", "ctcae_term": "Platelet count decreased",
                "grade": "4", "onset_date": "2024-02-10", "serious": "N", "outcome": "unknown",
                "attribution_drug_x": "definite", "action_drug_x": "drug_interrupted", "meddra_pt": "Platelet count decreased",
                "meddra_soc": "Investigations", "meddra_llt": "Platelet count decreased", "meddra_hlt": "Platelet analyses",
                "severity": "SEVERE", "onset_date_given": "2024-02-10", **drug_x,
            },
        }
    )
    assert_records(raw.frame, expected)
    assert raw.path.name == "adae.parquet"
    assert set(raw.ignored_columns) == {"TRT01A", "TRTEMFL"}


def test_severity_graded_adverse_events(tmp_path):
    """In a trial graded by severity there is no CTCAE term, and the grade is the severity's
    (MODERATE 2, SEVERE 3, MILD 1; severity_grades.csv); AETOXGR and ATOXGR are not read."""
    config = load_trial_config(write_trial(tmp_path, grading="severity"))
    raw = adam_source(config, "adverse_events")
    assert raw.frame["ctcae_term"].to_list() == [None] * 5
    assert raw.frame["grade"].to_list() == ["2", "3", "1", "3", "3"]
    assert {"AETOXGR", "ATOXGR"} <= set(raw.ignored_columns)


def test_labs_from_adlb(config):
    """Results of their own only: position 3 repeats position 2 (same subject, ALT, date, value
    and LBSEQ: the post-baseline maximum), position 6 is derived (DTYPE AVERAGE); both are set
    apart. PLAT -> PLT and ALKPH -> ALP (lab_test_codes.csv); CHOLES is kept as given. The unit is
    AVALU where given (U/L), else the one at the end of PARAM."""
    raw = adam_source(config, "labs")
    expected = expected_frame(
        {
            1: {"subject_id": "A-001", "collection_date": "2024-01-10", "test_code": "ALT", "value": "30", "unit": "U/L", "lln": "0", "uln": "40"},
            2: {"subject_id": "A-001", "collection_date": "2024-02-02", "test_code": "ALT", "value": "130", "unit": "U/L", "lln": "0", "uln": "40"},
            4: {"subject_id": "A-001", "collection_date": "2024-02-02", "test_code": "PLT", "value": "90", "unit": "10^9/L", "lln": "150", "uln": "400"},
            5: {"subject_id": "A-002", "collection_date": "2024-02-01", "test_code": "ALP", "value": "100", "unit": "U/L", "lln": "40", "uln": "120"},
            7: {"subject_id": "A-003", "collection_date": "2024-01-19", "test_code": "CHOLES", "value": "5.2", "unit": "mmol/L", "lln": "3", "uln": "5"},
        }
    )
    assert_records(raw.frame, expected)


def test_records_set_apart_are_counted_in_the_log(config, caplog):
    """The ADEX records that are no administration (NDOSE at 2, TDOSE at 5: 2 of 9) and the ADLB
    records derived from others (positions 3 and 6: 2 of 7) are named in the log, not dropped silently."""
    with caplog.at_level("WARNING", logger="toxwatch"):
        adam_source(config, "exposure")
        adam_source(config, "labs")
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("2 of 9 ADEX records") for message in messages)
    assert any(message.startswith("2 of 7 ADLB records") for message in messages)


def test_death_causes_map_to_contract_values():
    """death_causes.csv names only causes the contract accepts (an empty target reads as missing)."""
    allowed = next(set(item.allowed_values) for item in contract.source_columns("subjects") if item.name == "death_cause")
    targets = {value for value in value_map(DEATH_CAUSES).values() if value is not None}
    assert targets <= allowed
    assert value_map(DEATH_CAUSES)["PROGRESSIVE DISEASE"] == "disease_progression"
    assert value_map(DEATH_CAUSES)["ADVERSE EVENT"] == "adverse_event"


def test_read_source_dispatches_to_adam(config):
    """validators.read.read_source reads a trial with [cdisc] standard = "adam" through this reader."""
    assert_frame_equal(read_source(config, "adverse_events").frame, adam_source(config, "adverse_events").frame)
    assert_frame_equal(read_cdisc_source(config, "exposure").frame, adam_source(config, "exposure").frame)


def test_labs_optional_other_datasets_required(tmp_path):
    """Without ADLB there are no labs; without ADAE the run stops, naming the key to set."""
    config = load_trial_config(write_trial(tmp_path, datasets={name: DATASETS[name] for name in ("adsl", "adex", "adae")}))
    assert adam_source(config, "labs") is None
    config = load_trial_config(write_trial(tmp_path / "no-adae", datasets={name: DATASETS[name] for name in ("adsl", "adex")}))
    with pytest.raises(InputError, match=r"cdisc\.files\.adae"):
        adam_source(config, "adverse_events")


def test_missing_arm_variable_stops_the_run(tmp_path):
    """The configured arm variable must be in ADSL: the message names it and the key to change."""
    config = load_trial_config(write_trial(tmp_path, datasets={**DATASETS, "adsl": ADSL.drop("TRT01A")}))
    with pytest.raises(InputError, match=r"TRT01A.*arm_variable"):
        adam_source(config, "subjects")


# ---- random.cdisc.data, oncology-style ADaM (../shared/reference/rcd-onco) ---------------------------

# Every arm's subjects received Drug A or Drug B (ADEX PARCAT2; one of them each, about half and
# half, at the same doses in every arm, "B: Placebo" included), so every arm is configured with
# both agents: an agent is made unrelated to an event only when the arm does not receive it.
RCD_CONFIG = """\
[trial]
id = "ab12345"
title = "random.cdisc.data oncology ADaM"

[[agents]]
id = "drug_a"
name = "Drug A"
dose_mg = 960
route = "INTRAVENOUS"
frequency = "QW"
dose_levels_mg = [480, 720, 960, 1200, 1440]

[[agents]]
id = "drug_b"
name = "Drug B"
dose_mg = 960
route = "INTRAVENOUS"
frequency = "QW"
dose_levels_mg = [480, 720, 960, 1200, 1440]

[[arms]]
id = "a"
value = "A: Drug X"
agents = ["drug_a", "drug_b"]

[[arms]]
id = "b"
value = "B: Placebo"
agents = ["drug_a", "drug_b"]

[[arms]]
id = "c"
value = "C: Combination"
agents = ["drug_a", "drug_b"]

[cdisc]
standard = "adam"
folder = "{folder}"
arm_variable = "ACTARM"
files = {{adsl = "cadsl.parquet", adae = "cadae.parquet", adex = "cadex.parquet"}}
treatments = {{"Drug A" = "drug_a", "Drug B" = "drug_b"}}
"""


@pytest.fixture
def rcd(tmp_path):
    folder = reference_path("rcd-onco")
    path = tmp_path / "trial.toml"
    path.write_text(RCD_CONFIG.format(folder=folder.as_posix()), encoding="utf-8")
    return load_trial_config(path), folder


def test_rcd_every_arm_receives_both_drugs(rcd):
    """What the configuration above rests on, counted from ADEX directly: in each ACTARM both
    PARCAT2 values occur, and each subject receives one of them."""
    _, folder = rcd
    adex = pl.read_parquet(folder / "cadex.parquet")
    per_arm = adex.group_by("ACTARM").agg(pl.col("PARCAT2").unique().sort())
    assert all(drugs == ["Drug A", "Drug B"] for drugs in per_arm["PARCAT2"].to_list())
    assert adex.group_by("USUBJID").agg(pl.col("PARCAT2").n_unique())["PARCAT2"].max() == 1


def test_rcd_row_counts(rcd):
    """The README's counts: ADSL 400, ADAE 1934; ADEX 6400 records of which the DOSE records are
    the administrations, 7 visits x 400 subjects = 2800; no ADLB, so no labs."""
    config, _ = rcd
    for name, rows in (("subjects", 400), ("adverse_events", 1934)):
        frame = adam_source(config, name).frame
        assert frame[ROW].to_list() == list(range(1, rows + 1))
    assert adam_source(config, "exposure").frame.height == 2800
    assert adam_source(config, "labs") is None


def test_rcd_grades_and_relationship(rcd):
    """The README's AETOXGR distribution (1: 639, 2: 374, 3: 378, 4: 182, 5: 361) and AEREL
    (Y 917 -> probable, N 1017 -> unrelated) for both agents, every arm receiving both."""
    config, _ = rcd
    frame = adam_source(config, "adverse_events").frame
    grades = dict(frame["grade"].value_counts().iter_rows())
    assert grades == {"1": 639, "2": 374, "3": 378, "4": 182, "5": 361}
    for agent in ("drug_a", "drug_b"):
        assert dict(frame[f"attribution_{agent}"].value_counts().iter_rows()) == {"probable": 917, "unrelated": 1017}
    assert frame["ae_id"].n_unique() == 1934


def test_rcd_doses_add_up_to_the_totals(rcd):
    """Per subject, the administrations read add up to ADEX's own totals: the doses to TDOSE and
    their number to TNDOSE (each subject has one drug), joined here from the Parquet file."""
    config, folder = rcd
    adex = pl.read_parquet(folder / "cadex.parquet")
    totals = adex.filter(pl.col("PARAMCD").is_in(["TDOSE", "TNDOSE"])).pivot(on="PARAMCD", index="USUBJID", values="AVAL")
    read = (
        adam_source(config, "exposure")
        .frame.group_by(pl.col("subject_id").alias("USUBJID"))
        .agg(pl.col("dose_mg").cast(pl.Float64).sum().alias("dose"), pl.len().cast(pl.Float64).alias("doses"))
    )
    joined = totals.join(read, on="USUBJID", how="full", coalesce=True)
    assert joined.height == 400
    assert (joined["TDOSE"] == joined["dose"]).all()
    assert (joined["TNDOSE"] == joined["doses"]).all()


@pytest.mark.slow
def test_rcd_validation_keeps_every_record(rcd):
    """Validated as a whole trial: no subject, administration or adverse event is excluded."""
    from ctcae.terms import load_dictionary
    from validators.validate import validate_trial

    config, _ = rcd
    result = validate_trial(config, load_dictionary("5.0"), run_date=date(2026, 6, 30))
    accounting = {name: source.accounting for name, source in result.sources.items()}
    assert {name: counts["rows_in"] for name, counts in accounting.items()} == {"subjects": 400, "exposure": 2800, "adverse_events": 1934}
    assert all(counts["excluded"] == 0 for counts in accounting.values())


# ---- pharmaverse ADaM, CDISC pilot (../shared/reference/sdtm/pharmaverseadam) ------------------------

PILOT_CONFIG = PILOT_TRIAL + """\
[cdisc]
standard = "adam"
folder = "{folder}"
arm_variable = "TRT01A"
files = {{adsl = "adsl.parquet", adae = "adae.parquet", adlb = "adlb_ctcae.parquet"}}
"""


@pytest.fixture
def pilot(tmp_path):
    folder = reference_path("sdtm", "pharmaverseadam")
    path = tmp_path / "trial.toml"
    path.write_text(PILOT_CONFIG.format(folder=folder.as_posix()), encoding="utf-8")
    return load_trial_config(path), folder


def test_pilot_subjects_and_adverse_events(pilot):
    """ADSL 306 records (254 randomised, 52 screen failures), ADAE 1191; the README's 15 onsets
    of YYYY-MM flagged D and 11 of YYYY flagged M (ASTDTF); ASEV MILD 770, MODERATE 378,
    SEVERE 43 as grades 1, 2, 3."""
    config, _ = pilot
    subjects = adam_source(config, "subjects").frame
    assert subjects.height == 306
    assert (subjects["arm"] == "Screen Failure").sum() == 52
    events = adam_source(config, "adverse_events").frame
    assert events.height == 1191
    assert dict(events["onset_date_imputed"].value_counts().iter_rows()) == {None: 1165, "D": 15, "M": 11}
    assert dict(events["grade"].value_counts().iter_rows()) == {"1": 770, "2": 378, "3": 43}


def test_pilot_placebo_subjects_unrelated_to_xanomeline(pilot):
    """A placebo subject's (TRT01A) event is unrelated to xanomeline; the others' xanomeline
    attribution is AREL mapped (NONE unrelated, REMOTE unlikely, POSSIBLE possible, PROBABLE
    probable; missing stays missing). Counted from the Parquet files with a join on ADSL."""
    config, folder = pilot
    adae = pl.read_parquet(folder / "adae.parquet").drop("TRT01A").join(
        pl.read_parquet(folder / "adsl.parquet").select("USUBJID", "TRT01A"), on="USUBJID", how="left", maintain_order="left"
    )
    levels = {"NONE": "unrelated", "REMOTE": "unlikely", "POSSIBLE": "possible", "PROBABLE": "probable", None: None}
    expected = [
        "unrelated" if arm == "Placebo" else levels[relationship]
        for arm, relationship in zip(adae["TRT01A"].to_list(), adae["AREL"].to_list())
    ]
    frame = adam_source(config, "adverse_events").frame
    assert frame["attribution_xanomeline"].to_list() == expected
    assert expected.count("unrelated") > 300


def test_pilot_labs_are_the_sdtm_results(pilot):
    """Set apart the post-baseline summary records (which repeat visit records), ADLB holds the
    very results of SDTM LB: per test, as many records as LB has, counted here from
    pharmaversesdtm/lb.parquet (LYMPH is left out: ADaM derives it from the lymphocyte fraction,
    so it has no LB count of its own)."""
    config, _ = pilot
    lb = pl.read_parquet(reference_path("sdtm", "pharmaversesdtm", "lb.parquet"))
    lb_code = {
        "ALB": "ALB", "ALP": "ALP", "ALT": "ALT", "AST": "AST", "BILI": "BILI", "CA": "CA", "CHOLES": "CHOL",
        "CK": "CK", "CREAT": "CREAT", "GGT": "GGT", "GLUC": "GLUC", "K": "K", "PHOS": "PHOS", "PLT": "PLAT",
        "SODIUM": "SODIUM", "WBC": "WBC",
    }
    expected = dict(lb.filter(pl.col("LBTESTCD").is_in(list(lb_code.values())))["LBTESTCD"].value_counts().iter_rows())
    frame = adam_source(config, "labs").frame
    read = dict(frame.filter(pl.col("test_code") != "LYMPH")["test_code"].value_counts().iter_rows())
    assert {lb_code[code]: count for code, count in read.items()} == expected
    assert set(frame["unit"].unique().to_list()) >= {"U/L", "10^9/L", "umol/L", "mmol/L", "g/L"}
