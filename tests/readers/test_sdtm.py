"""SDTM domains read as toxwatch's sources (readers/sdtm.py).

A hand-made three-subject trial, written as CSV domains (DM, DS, EX, AE, SUPPAE, LB):

* T1-001, arm "Drug A + Drug B" (drug A planned at 100 mg in this arm, its agent dose being
  150 mg; drug B 200 mg): drug A 100 mg then 50 mg (the 50 mg record comes first in the file),
  drug B 200 mg then 0 mg; two adverse events, one with a partial onset (2024-03), one with a
  relationship no value map lists (SUSPECTED); drug B's relationship is in SUPPAE (QNAM AERELB),
  and so is the awareness date (AEAWARE);
* T1-002, arm "Placebo": placebo 0 mg, one adverse event with partial onset and end (2024-02),
  a first dose on 2024-02-12 and a death on 2024-02-25; and a vitamin D record, a treatment the
  config does not map;
* T1-003, a screen failure: no exposure, no adverse event.

Every expected value is worked out by hand in the test that states it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from readers.cdisc import read_cdisc_source
from readers.sdtm import sdtm_source
from tests.conftest import reference_path
from tests.readers.pilot_trial import PILOT_TRIAL
from trial.config import load_trial_config
from trial.errors import InputError
from validators.read import OPTIONAL_COLUMNS, ROW, read_source, required_columns

DM = """\
STUDYID,DOMAIN,USUBJID,SUBJID,RFSTDTC,RFENDTC,RFXSTDTC,RFXENDTC,RFICDTC,RFPENDTC,DTHDTC,DTHFL,SITEID,AGE,AGEU,SEX,ARM,ACTARM,DMDTC
T1,DM,T1-001,001,2024-01-15,2024-04-30,2024-01-15T10:00,2024-03-10,2024-01-08,2024-04-30T12:00,,,01,58,YEARS,F,Drug A + Drug B,Drug A + Drug B,2024-01-08
T1,DM,T1-002,002,2024-02-12,2024-02-25,2024-02-12,2024-02-24,,,2024-02-25,Y,02,61.0,YEARS,M,Placebo,Placebo,2024-02-05
T1,DM,T1-003,003,,,,,2024-01-20,2024-01-25,,,01,45,YEARS,F,Screen Failure,Screen Failure,2024-01-20
"""
DS = """\
STUDYID,DOMAIN,USUBJID,DSSEQ,DSCAT,DSDECOD,EPOCH,DSSTDTC
T1,DS,T1-001,1,PROTOCOL MILESTONE,RANDOMIZED,SCREENING,2024-01-14
T1,DS,T1-001,2,DISPOSITION EVENT,ADVERSE EVENT,TREATMENT,2024-03-10
T1,DS,T1-001,3,DISPOSITION EVENT,COMPLETED,FOLLOW-UP,2024-04-30
T1,DS,T1-002,1,DISPOSITION EVENT,DEATH,TREATMENT,2024-02-25
T1,DS,T1-003,1,DISPOSITION EVENT,SCREEN FAILURE,SCREENING,2024-01-25
"""
EX = """\
STUDYID,DOMAIN,USUBJID,EXSEQ,EXTRT,EXDOSE,EXDOSU,EXROUTE,EXDOSFRQ,EXSTDTC,EXENDTC,EXADJ
T1,EX,T1-001,2,DRUG A,50,mg,ORAL,QD,2024-02-11,2024-03-10,Neutrophil count decreased
T1,EX,T1-001,1,DRUG A,100,mg,ORAL,QD,2024-01-15T10:00,2024-02-10,
T1,EX,T1-001,3,Drug B,200,mg,INTRAVENOUS,Q2W,2024-01-15,2024-01-15,
T1,EX,T1-001,4,DRUG B,0,mg,INTRAVENOUS,Q2W,2024-03-01,2024-03-01,Pneumonitis
T1,EX,T1-002,1,placebo,0,mg,ORAL,QD,2024-02-12,2024-02-24,
T1,EX,T1-002,2,VITAMIN D,1000,IU,ORAL,QD,2024-02-12,,
"""
AE = """\
STUDYID,DOMAIN,USUBJID,AESEQ,AESPID,AETERM,AELLT,AEDECOD,AEHLT,AEBODSYS,AETOXGR,AESEV,AESER,AESDTH,AESLIFE,AESHOSP,AESDISAB,AESCONG,AESMIE,AEOUT,AEREL,AEACN,AESTDTC,AEENDTC
T1,AE,T1-001,1,1,low neutrophils,Neutrophil count decreased,Neutrophil count decreased,Neutrophil analyses,Investigations,3,SEVERE,N,N,N,N,N,N,N,RECOVERED/RESOLVED,PROBABLE,DOSE REDUCED,2024-02-10T09:30,2024-02-20
T1,AE,T1-001,2,2,pneumonitis,Pneumonitis,Pneumonitis,Lower respiratory tract inflammations,"Respiratory, thoracic and mediastinal disorders",4,SEVERE,Y,N,Y,Y,N,N,N,NOT RECOVERED/NOT RESOLVED,SUSPECTED,DRUG WITHDRAWN,2024-03,
T1,AE,T1-002,1,1,headache,Headache,Headache,Headaches NEC,Nervous system disorders,1,MILD,N,N,N,N,N,N,N,recovered/resolved,REMOTE,NOT APPLICABLE,2024-02,2024-02
"""
SUPPAE = """\
STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL
T1,AE,T1-001,AESEQ,1,AERELB,Relationship to Drug B,NOT RELATED
T1,AE,T1-001,AESEQ,2,AERELB,Relationship to Drug B,POSSIBLE
T1,AE,T1-001,AESEQ,2,AEAWARE,Date sponsor aware,2024-03-05
T1,AE,T1-002,AESEQ,1,AETRTEM,Treatment emergent flag,Y
"""
LB = """\
STUDYID,DOMAIN,USUBJID,LBSEQ,LBTESTCD,LBTEST,LBSTRESC,LBSTRESN,LBSTRESU,LBSTNRLO,LBSTNRHI,LBDTC
T1,LB,T1-001,1,PLAT,Platelets,80,80,GI/L,150,400,2024-02-10T08:00
T1,LB,T1-001,2,ALB,Albumin,38,38,g/L,33,49,2024-02-10
T1,LB,T1-002,1,lym,Lymphocytes,0.9,0.9,GI/L,1,4,2024-02-20
T1,LB,T1-002,2,BILI,Bilirubin,<3.42,,umol/L,3.42,20.52,2024-02-20
"""
DOMAINS = {"dm": DM, "ds": DS, "ex": EX, "ae": AE, "suppae": SUPPAE, "lb": LB}

CONFIG = """\
[trial]
id = "t1"
title = "A made-up SDTM trial"
grading = "{grading}"

[[agents]]
id = "drug_a"
name = "Drug A"
dose_mg = 150
route = "ORAL"
frequency = "QD"
dose_levels_mg = [150, 100, 50]

[[agents]]
id = "drug_b"
name = "Drug B"
dose_mg = 200
route = "INTRAVENOUS"
frequency = "Q2W"

[[agents]]
id = "placebo"
name = "Placebo"
dose_mg = 0
route = "ORAL"
frequency = "QD"

[[arms]]
id = "combination"
value = "Drug A + Drug B"
agents = ["drug_a", "drug_b"]
doses_mg = {{drug_a = 100}}

[[arms]]
id = "placebo"
value = "Placebo"
agents = ["placebo"]

[cdisc]
standard = "sdtm"
folder = "sdtm"
files = {{ {files} }}
treatments = {{"DRUG A" = "drug_a", "DRUG B" = "drug_b", "PLACEBO" = "placebo"}}
relationship_variables = {{drug_b = "AERELB"}}
awareness_variable = "AEAWARE"
"""


def write_trial(folder: Path, *, grading: str = "ctcae", domains: dict[str, str] = DOMAINS) -> Path:
    (folder / "sdtm").mkdir(parents=True, exist_ok=True)
    for domain, text in domains.items():
        (folder / "sdtm" / f"{domain}.csv").write_text(text, encoding="utf-8")
    files = ", ".join(f'{domain} = "{domain}.csv"' for domain in domains)
    path = folder / "trial.toml"
    path.write_text(CONFIG.format(grading=grading, files=files), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path):
    return load_trial_config(write_trial(tmp_path))


def expected_frame(rows: dict[int, dict[str, str | None]]) -> pl.DataFrame:
    """Expected records by their row in the domain file; a column not named is missing (null)."""
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
    events), then the optional ones, every value as text."""
    for name in ("subjects", "exposure", "adverse_events", "labs"):
        raw = sdtm_source(config, name)
        assert raw.frame.columns == [ROW, *required_columns(name, config.agent_ids), *OPTIONAL_COLUMNS.get(name, ())]
        assert raw.frame.schema[ROW] == pl.Int64
        assert all(dtype == pl.String for column, dtype in raw.frame.schema.items() if column != ROW)


def test_subjects_from_dm_and_ds(config):
    """One record per DM line (header = line 1), the screen failure included.

    T1-001: enrolled at informed consent (RFICDTC 2024-01-08); treatment ended 2024-03-10
    (RFXENDTC) for an adverse event: DS has three records, a protocol milestone (not a
    disposition event), the treatment epoch's ADVERSE EVENT (toxicity) and the later follow-up
    COMPLETED; the end of treatment takes the treatment epoch's. Last contact RFPENDTC's date.
    T1-002: no RFICDTC, so enrolled at the earlier of the screening visit (DMDTC 2024-02-05) and
    the first dose (RFSTDTC 2024-02-12): 2024-02-05; AGE 61.0 is 61; died 2024-02-25
    (DTHDTC), cause unknown (DM records none); DS DEATH -> death; no RFPENDTC, so last contact
    RFENDTC 2024-02-25. T1-003: a screen failure, no end of treatment, so no reason (its DS
    SCREEN FAILURE is not read); last contact RFPENDTC 2024-01-25.
    """
    raw = sdtm_source(config, "subjects")
    expected = expected_frame(
        {
            2: {
                "subject_id": "T1-001", "site_id": "01", "arm": "Drug A + Drug B", "sex": "F", "age": "58",
                "enrolment_date": "2024-01-08", "end_of_treatment_date": "2024-03-10",
                "end_of_treatment_reason": "toxicity", "last_contact_date": "2024-04-30",
            },
            3: {
                "subject_id": "T1-002", "site_id": "02", "arm": "Placebo", "sex": "M", "age": "61",
                "enrolment_date": "2024-02-05", "end_of_treatment_date": "2024-02-24", "end_of_treatment_reason": "death",
                "last_contact_date": "2024-02-25", "death_date": "2024-02-25", "death_cause": "unknown",
            },
            4: {
                "subject_id": "T1-003", "site_id": "01", "arm": "Screen Failure", "sex": "F", "age": "45",
                "enrolment_date": "2024-01-20", "last_contact_date": "2024-01-25",
            },
        }
    )
    assert_records(raw.frame, expected)
    assert raw.path.name == "dm.csv"
    assert set(raw.ignored_columns) == {"STUDYID", "DOMAIN", "SUBJID", "AGEU", "ACTARM"}


def test_end_of_treatment_reason_without_ds_is_not_recorded(tmp_path):
    """Without DS, a dated end of treatment (T1-001, T1-002) has the reason ``not_recorded``;
    the screen failure, with no end of treatment, has none."""
    domains = {domain: text for domain, text in DOMAINS.items() if domain != "ds"}
    config = load_trial_config(write_trial(tmp_path, domains=domains))
    reasons = sdtm_source(config, "subjects").frame["end_of_treatment_reason"].to_list()
    assert reasons == ["not_recorded", "not_recorded", None]


def test_actual_arm_is_read_when_configured(tmp_path):
    """[cdisc] arm_variable = "ACTARM" reads the arm from ACTARM (here equal to ARM), and ARM is then ignored."""
    path = write_trial(tmp_path)
    path.write_text(path.read_text().replace('standard = "sdtm"', 'standard = "sdtm"\narm_variable = "ACTARM"'))
    raw = sdtm_source(load_trial_config(path), "subjects")
    assert raw.frame["arm"].to_list() == ["Drug A + Drug B", "Placebo", "Screen Failure"]
    assert "ARM" in raw.ignored_columns and "ACTARM" not in raw.ignored_columns


def test_exposure_from_ex(config):
    """One record per EX line. Drug A's planned dose is the combination arm's 100 mg (its agent
    dose is 150 mg); in start order its 100 mg (line 3, first: none) comes before its 50 mg
    (line 2: below the previous 100 mg, reduced, reason EXADJ). Drug B ("Drug B" matched in any
    case): 200 mg (none), then 0 mg of an agent planned at 200 mg (held). Placebo ("placebo")
    0 mg of an agent planned at 0 mg: a dose given, none. VITAMIN D is no configured treatment:
    its agent stays as given and it has no planned dose, so validation queries it; no end date."""
    raw = sdtm_source(config, "exposure")
    common_a = {"subject_id": "T1-001", "agent": "drug_a", "planned_dose_mg": "100", "route": "ORAL", "frequency": "QD"}
    common_b = {"subject_id": "T1-001", "agent": "drug_b", "planned_dose_mg": "200", "route": "INTRAVENOUS", "frequency": "Q2W"}
    expected = expected_frame(
        {
            2: {**common_a, "start_date": "2024-02-11", "end_date": "2024-03-10", "dose_mg": "50", "adjustment": "reduced",
                "adjustment_reason": "Neutrophil count decreased"},
            3: {**common_a, "start_date": "2024-01-15", "end_date": "2024-02-10", "dose_mg": "100", "adjustment": "none"},
            4: {**common_b, "start_date": "2024-01-15", "end_date": "2024-01-15", "dose_mg": "200", "adjustment": "none"},
            5: {**common_b, "start_date": "2024-03-01", "end_date": "2024-03-01", "dose_mg": "0", "adjustment": "held",
                "adjustment_reason": "Pneumonitis"},
            6: {"subject_id": "T1-002", "agent": "placebo", "start_date": "2024-02-12", "end_date": "2024-02-24", "dose_mg": "0",
                "planned_dose_mg": "0", "route": "ORAL", "frequency": "QD", "adjustment": "none"},
            7: {"subject_id": "T1-002", "agent": "VITAMIN D", "start_date": "2024-02-12", "dose_mg": "1000", "route": "ORAL",
                "frequency": "QD", "adjustment": "none"},
        }
    )
    assert_records(raw.frame, expected)
    assert set(raw.ignored_columns) == {"STUDYID", "DOMAIN", "EXSEQ", "EXDOSU"}


AE_EXPECTED = {
    # Line 2: complete dates (the time dropped); drug B's relationship from SUPPAE (NOT RELATED ->
    # unrelated); AEACN applies to both agents the arm receives; placebo is not received.
    2: {
        "ae_id": "T1-001-1", "subject_id": "T1-001", "verbatim_term": "low neutrophils",
        "ctcae_term": "Neutrophil count decreased", "grade": "3", "severity": "SEVERE",
        "meddra_pt": "Neutrophil count decreased", "meddra_soc": "Investigations",
        "meddra_llt": "Neutrophil count decreased", "meddra_hlt": "Neutrophil analyses",
        "onset_date": "2024-02-10", "onset_date_given": "2024-02-10T09:30",
        "resolution_date": "2024-02-20", "resolution_date_given": "2024-02-20",
        "serious": "N", "outcome": "recovered",
        "attribution_drug_a": "probable", "action_drug_a": "dose_reduced",
        "attribution_drug_b": "unrelated", "action_drug_b": "dose_reduced",
        "attribution_placebo": "unrelated", "action_placebo": "not_applicable",
    },
    # Line 3: onset 2024-03 -> 2024-03-01, day imputed (the first dose, 2024-01-15, is not in
    # March); ongoing; serious for life threat and hospitalisation (in the contract's order);
    # AEREL SUSPECTED is on no value map: passed on as given for validation to query; drug B
    # POSSIBLE from SUPPAE; awareness date from SUPPAE AEAWARE.
    3: {
        "ae_id": "T1-001-2", "subject_id": "T1-001", "verbatim_term": "pneumonitis",
        "ctcae_term": "Pneumonitis", "grade": "4", "severity": "SEVERE",
        "meddra_pt": "Pneumonitis", "meddra_soc": "Respiratory, thoracic and mediastinal disorders",
        "meddra_llt": "Pneumonitis", "meddra_hlt": "Lower respiratory tract inflammations",
        "onset_date": "2024-03-01", "onset_date_given": "2024-03", "onset_date_imputed": "D",
        "serious": "Y", "serious_criteria": "life_threatening;hospitalisation", "outcome": "not_recovered",
        "awareness_date": "2024-03-05",
        "attribution_drug_a": "SUSPECTED", "action_drug_a": "drug_withdrawn",
        "attribution_drug_b": "possible", "action_drug_b": "drug_withdrawn",
        "attribution_placebo": "unrelated", "action_placebo": "not_applicable",
    },
    # Line 4 (placebo): onset 2024-02 -> the first dose 2024-02-12, which falls later in that
    # month; end 2024-02 -> 2024-02-29 capped at the death on 2024-02-25; outcome matched in any
    # case; placebo's relationship AEREL REMOTE -> unlikely; the drugs are not received.
    4: {
        "ae_id": "T1-002-1", "subject_id": "T1-002", "verbatim_term": "headache",
        "ctcae_term": "Headache", "grade": "1", "severity": "MILD",
        "meddra_pt": "Headache", "meddra_soc": "Nervous system disorders", "meddra_llt": "Headache", "meddra_hlt": "Headaches NEC",
        "onset_date": "2024-02-12", "onset_date_given": "2024-02", "onset_date_imputed": "D",
        "resolution_date": "2024-02-25", "resolution_date_given": "2024-02", "resolution_date_imputed": "D",
        "serious": "N", "outcome": "recovered",
        "attribution_drug_a": "unrelated", "action_drug_a": "not_applicable",
        "attribution_drug_b": "unrelated", "action_drug_b": "not_applicable",
        "attribution_placebo": "unlikely", "action_placebo": "not_applicable",
    },
}


def test_adverse_events_from_ae_and_suppae(config):
    """One record per AE line, identified USUBJID-AESEQ (AE_EXPECTED says why each value is what it is)."""
    raw = sdtm_source(config, "adverse_events")
    assert_records(raw.frame, expected_frame(AE_EXPECTED))
    assert set(raw.ignored_columns) == {"STUDYID", "DOMAIN", "AESPID"}


def test_severity_graded_trial_grades_by_severity(tmp_path):
    """grading = "severity": no CTCAE term; the grade is AESEV's (SEVERE 3, SEVERE 3, MILD 1),
    not AETOXGR's (3, 4, 1), which is then not read."""
    config = load_trial_config(write_trial(tmp_path, grading="severity"))
    raw = sdtm_source(config, "adverse_events")
    assert raw.frame["ctcae_term"].to_list() == [None, None, None]
    assert raw.frame["grade"].to_list() == ["3", "3", "1"]
    assert "AETOXGR" in raw.ignored_columns


def test_labs_from_lb(config):
    """LB in standard units; PLAT is the platelet count PLT, lym (any case) the lymphocyte count
    LYMPH; ALB is no CTCAE-graded test and is kept as given. A result that is no number (bilirubin
    below the limit of detection, LBSTRESN empty) is its text LBSTRESC, for validation to query."""
    raw = sdtm_source(config, "labs")
    expected = expected_frame(
        {
            2: {"subject_id": "T1-001", "collection_date": "2024-02-10", "test_code": "PLT", "value": "80", "unit": "GI/L",
                "lln": "150", "uln": "400"},
            3: {"subject_id": "T1-001", "collection_date": "2024-02-10", "test_code": "ALB", "value": "38", "unit": "g/L",
                "lln": "33", "uln": "49"},
            4: {"subject_id": "T1-002", "collection_date": "2024-02-20", "test_code": "LYMPH", "value": "0.9", "unit": "GI/L",
                "lln": "1", "uln": "4"},
            5: {"subject_id": "T1-002", "collection_date": "2024-02-20", "test_code": "BILI", "value": "<3.42",
                "unit": "umol/L", "lln": "3.42", "uln": "20.52"},
        }
    )
    assert_records(raw.frame, expected)
    assert set(raw.ignored_columns) == {"STUDYID", "DOMAIN", "LBSEQ", "LBTEST"}


def test_sources_sdtm_does_not_feed(config):
    """SDTM feeds no vitals or tumour assessments here; labs without an LB file are not read."""
    assert sdtm_source(config, "vitals") is None
    assert sdtm_source(config, "tumour_assessments") is None


def test_labs_absent_without_lb(tmp_path):
    domains = {domain: text for domain, text in DOMAINS.items() if domain != "lb"}
    assert sdtm_source(load_trial_config(write_trial(tmp_path, domains=domains)), "labs") is None


def test_read_source_reads_cdisc_trials(config):
    """validators.read.read_source (what validation calls) reads a [cdisc] trial's domains."""
    via_validation = read_source(config, "adverse_events")
    assert_frame_equal(via_validation.frame, read_cdisc_source(config, "adverse_events").frame)
    assert via_validation.sha256 == sdtm_source(config, "adverse_events").sha256


def test_relationship_from_an_ae_variable(tmp_path):
    """Drug B's relationship may be an AE variable instead of a SUPPAE qualifier: AERELB in AE
    (NOT RELATED, POSSIBLE, and PROBABLE on the placebo subject's event, whose arm does not
    receive drug B) gives unrelated, possible, unrelated; no SUPPAE is needed then."""
    header, *lines = AE.splitlines()
    relationships = ["NOT RELATED", "POSSIBLE", "PROBABLE"]
    ae = "\n".join([header + ",AERELB", *(line + "," + value for line, value in zip(lines, relationships))]) + "\n"
    domains = {**{domain: text for domain, text in DOMAINS.items() if domain != "suppae"}, "ae": ae}
    path = write_trial(tmp_path, domains=domains)
    path.write_text(path.read_text().replace('awareness_variable = "AEAWARE"\n', ""))
    raw = sdtm_source(load_trial_config(path), "adverse_events")
    assert raw.frame["attribution_drug_b"].to_list() == ["unrelated", "possible", "unrelated"]
    assert raw.frame["awareness_date"].to_list() == [None, None, None]
    assert "AERELB" not in raw.ignored_columns

    path.write_text(path.read_text().replace('drug_b = "AERELB"', 'drug_b = "AERELX"'))
    with pytest.raises(InputError) as error:
        sdtm_source(load_trial_config(path), "adverse_events")
    assert error.value.field == "cdisc.relationship_variables.drug_b"


def test_missing_domain_or_variable_is_one_clear_error(tmp_path):
    """No AE file configured: the error names the [cdisc.files] key. AE without AEDECOD: the
    error names the file and the variable."""
    domains = {domain: text for domain, text in DOMAINS.items() if domain != "ae"}
    config = load_trial_config(write_trial(tmp_path / "no_ae", domains=domains))
    with pytest.raises(InputError) as error:
        sdtm_source(config, "adverse_events")
    assert error.value.field == "cdisc.files.ae"

    without_decod = AE.replace("AEDECOD", "AEDECODE")
    config = load_trial_config(write_trial(tmp_path / "no_decod", domains={**DOMAINS, "ae": without_decod}))
    with pytest.raises(InputError) as error:
        sdtm_source(config, "adverse_events")
    assert error.value.field == "AEDECOD" and error.value.file.endswith("ae.csv")


@pytest.mark.slow
def test_validation_of_the_sdtm_trial(config):
    """The domains go through the normal validation: nothing is lost, and exactly the values
    the reader passed on as given are queried. Exposure line 7 (VITAMIN D, no configured agent,
    so no planned dose; no end date); adverse event line 3 (drug A's relationship SUSPECTED);
    lab line 5 (the result "<3.42" is no number: excluded, as a lab result without a value is).
    The rest is clean: 3 subjects, 5 exposure records, 2 adverse events, 3 lab results."""
    from ctcae.terms import load_dictionary
    from validators.validate import validate_trial

    result = validate_trial(config, load_dictionary("5.0"))
    accounting = {name: source.accounting for name, source in result.sources.items()}
    assert accounting == {
        "subjects": {"rows_in": 3, "clean": 3, "counted_with_queries": 0, "excluded": 0},
        "exposure": {"rows_in": 6, "clean": 5, "counted_with_queries": 1, "excluded": 0},
        "adverse_events": {"rows_in": 3, "clean": 2, "counted_with_queries": 1, "excluded": 0},
        "labs": {"rows_in": 4, "clean": 3, "counted_with_queries": 0, "excluded": 1},
    }
    queried = set(result.queries.select("source", "row", "field").iter_rows())
    assert queried == {
        ("exposure", 7, "agent"), ("exposure", 7, "end_date"), ("exposure", 7, "planned_dose_mg"),
        ("adverse_events", 3, "attribution_drug_a"), ("labs", 5, "value"),
    }


# ---- the pharmaverse CDISC pilot (../shared/reference/sdtm) ----------------------------------------

PILOT_CONFIG = PILOT_TRIAL + """\
[cdisc]
standard = "sdtm"
folder = "{folder}"
files = {{dm = "dm.parquet", ex = "ex.parquet", ae = "ae.parquet", suppae = "suppae.parquet"}}
treatments = {{XANOMELINE = "xanomeline", PLACEBO = "placebo"}}
"""


@pytest.fixture
def pilot(tmp_path):
    folder = reference_path("sdtm", "pharmaversesdtm")
    path = tmp_path / "trial.toml"
    path.write_text(PILOT_CONFIG.format(folder=folder.as_posix()), encoding="utf-8")
    return load_trial_config(path), folder


def test_pilot_row_counts(pilot):
    """The README's counts: DM 306 records (254 randomised + 52 screen failures), EX 591, AE 1191; every record kept, in file order."""
    config, _ = pilot
    for name, rows in (("subjects", 306), ("exposure", 591), ("adverse_events", 1191)):
        frame = sdtm_source(config, name).frame
        assert frame.height == rows
        assert frame[ROW].to_list() == list(range(1, rows + 1))


def test_pilot_every_adverse_event_kept_with_its_identifier(pilot):
    """Each AE record's identifier is USUBJID-AESEQ, computed here from the Parquet file
    directly (AESEQ is a float there: 1.0 -> "1"); all 1191 are distinct."""
    config, folder = pilot
    ae = pl.read_parquet(folder / "ae.parquet")
    expected = (ae["USUBJID"] + "-" + ae["AESEQ"].cast(pl.Int64).cast(pl.String)).to_list()
    frame = sdtm_source(config, "adverse_events").frame
    assert frame["ae_id"].to_list() == expected
    assert frame["ae_id"].n_unique() == 1191


def test_pilot_placebo_subjects_unrelated_to_xanomeline(pilot):
    """A placebo subject's event is unrelated to xanomeline whatever AEREL says; its placebo
    attribution is AEREL mapped (NONE unrelated, REMOTE unlikely, POSSIBLE possible, PROBABLE
    probable, missing stays missing); and the reverse for the xanomeline arms. Counted here from
    the Parquet files with a join on DM's planned arm."""
    config, folder = pilot
    ae = pl.read_parquet(folder / "ae.parquet").join(pl.read_parquet(folder / "dm.parquet").select("USUBJID", "ARM"), on="USUBJID")
    on_placebo = (ae["ARM"] == "Placebo").to_list()
    levels = {"NONE": "unrelated", "REMOTE": "unlikely", "POSSIBLE": "possible", "PROBABLE": "probable", None: None}
    mapped = [levels[value] for value in ae["AEREL"].to_list()]
    frame = sdtm_source(config, "adverse_events").frame
    assert sum(on_placebo) > 250  # the README: 281 treatment-emergent events in the placebo arm alone
    for placebo, level, xanomeline, placebo_level in zip(
        on_placebo, mapped, frame["attribution_xanomeline"].to_list(), frame["attribution_placebo"].to_list()
    ):
        assert (xanomeline, placebo_level) == (("unrelated", level) if placebo else (level, "unrelated"))


def test_pilot_partial_onsets_flagged(pilot):
    """The README: 15 AESTDTC are YYYY-MM (day imputed, D) and 11 are YYYY (month and day, M)."""
    config, _ = pilot
    flags = sdtm_source(config, "adverse_events").frame["onset_date_imputed"]
    assert (flags == "D").sum() == 15
    assert (flags == "M").sum() == 11
