"""Tests of synth.sdtm: a native trial folder written as SDTM domains, record by record.

A hand-typed native trial with the bundled trial.toml (agents apatinib, APATINIB MESYLATE, and
anti_pd1, ANTI-PD-1 ANTIBODY):

* NPC-01-0001: first exposure record apatinib held (0 mg) on 2024-01-02, then 250 mg from
  2024-01-03, so the first dose is 2024-01-03; treatment ended 2024-03-01 for toxicity; died
  2024-04-01 of an adverse event.
* NPC-01-0002: on treatment; recurrence "local", re-irradiated.
* NPC-02-0003: treatment ended 2024-02-01 for "other", NPC-02-0004 with its reason not recorded.

Adverse events (ae_id, term, ...):

* AE-000001: Hypertension grade 3, serious (hospitalisation), apatinib possible and dose reduced,
  anti-PD-1 unlikely and dose not changed: AEACN MULTIPLE, one action per agent in SUPPAE.
* AE-000002: an "Other, specify" term (Skin ... - Other, specify) with its text RCCEP, both
  agents dose not changed; the term tabulated (AEDECOD) is RCCEP, its SOC the CTCAE term's.
* AE-000003: a misspelt term "Hypertenshun" (CTCAE does not know it): no AEDECOD, no AEBODSYS;
  its anti-PD-1 relationship "related" is off the scale and written as given.
* AE-000004: "fatigue" in lower case: AEDECOD as CTCAE spells it, Fatigue.

Every expected value is worked out by hand in the test that states it.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import polars as pl
import pytest

from flows.cli import main
from synth.sdtm import agent_codes, cdisc_config_text, write_sdtm
from tests.synth.conftest import BUNDLED_DIR
from trial.config import load_trial_config

SUBJECTS = """\
subject_id,site_id,arm,sex,age,enrolment_date,recurrence_type,prior_reirradiation,end_of_treatment_date,end_of_treatment_reason,last_contact_date,death_date,death_cause
NPC-01-0001,S01,apatinib+anti-PD-1,F,50,2024-01-01,distant,N,2024-03-01,toxicity,2024-04-01,2024-04-01,adverse_event
NPC-01-0002,S01,apatinib+anti-PD-1,M,61,2024-01-05,local,Y,,,2024-06-30,,
NPC-02-0003,S02,apatinib+anti-PD-1,M,45,2024-01-06,regional,N,2024-02-01,other,2024-06-30,,
NPC-02-0004,S02,apatinib+anti-PD-1,F,39,2024-01-07,regional,N,2024-02-02,not_recorded,2024-06-30,,
"""
EXPOSURE = """\
subject_id,agent,start_date,end_date,dose_mg,planned_dose_mg,route,frequency,adjustment,adjustment_reason
NPC-01-0001,apatinib,2024-01-02,2024-01-02,0,250,PO,QD,held,Hypertension
NPC-01-0001,apatinib,2024-01-03,2024-03-01,250,250,PO,QD,none,
NPC-01-0001,anti_pd1,2024-01-03,2024-01-03,200,200,IV,Q2W,none,
NPC-01-0002,apatinib,2024-01-06,2024-06-30,250,250,PO,QD,none,
"""
ADVERSE_EVENTS = """\
ae_id,subject_id,verbatim_term,ctcae_term,other_specify,grade,onset_date,resolution_date,serious,serious_criteria,outcome,attribution_apatinib,attribution_anti_pd1,action_apatinib,action_anti_pd1,awareness_date,expedited_report_date,treatment
AE-000001,NPC-01-0001,high blood pressure,Hypertension,,3,2024-01-10,2024-02-01,Y,hospitalisation,recovered,possible,unlikely,dose_reduced,dose_not_changed,2024-01-11,,antihypertensive
AE-000002,NPC-01-0001,RCCEP,"Skin and subcutaneous tissue disorders - Other, specify",RCCEP,1,2024-01-20,,N,,not_recovered,unrelated,probable,dose_not_changed,dose_not_changed,,,none
AE-000003,NPC-01-0002,BP up,Hypertenshun,,2,2024-02-10,2024-02-20,N,,recovered,definite,related,dose_not_changed,dose_not_changed,,,
AE-000004,NPC-01-0002,tired,fatigue,,1,2024-03-01,2024-03-05,N,,recovered,possible,possible,dose_not_changed,dose_not_changed,,,none
"""
LABS = """\
subject_id,collection_date,test_code,value,unit,lln,uln
NPC-01-0001,2024-01-02,PLT,180,10^9/L,100,300
NPC-01-0001,2024-01-02,UPROT_DIP,1,dipstick,,
NPC-01-0002,2024-01-05,BILI,,umol/L,3.4,20.5
"""
VITALS = """\
subject_id,measure_date,sbp_mmhg,dbp_mmhg,heart_rate_bpm,weight_kg
NPC-01-0001,2024-01-02,130,85,,61.5
"""
TUMOUR = """\
subject_id,visit,assessment_date,overall_response,new_lesions,method
NPC-01-0001,Week 8,2024-02-27,PD,Y,CT
NPC-01-0002,Week 8,2024-03-01,SD,,
"""
NATIVE = {
    "subjects.csv": SUBJECTS, "exposure.csv": EXPOSURE, "adverse_events.csv": ADVERSE_EVENTS, "labs.csv": LABS,
    "vitals.csv": VITALS, "tumour_assessments.csv": TUMOUR,
}


@pytest.fixture
def written(tmp_path: Path) -> Path:
    native = tmp_path / "native"
    native.mkdir()
    for name, text in NATIVE.items():
        (native / name).write_text(text, encoding="utf-8")
    shutil.copyfile(BUNDLED_DIR / "trial.toml", native / "trial.toml")
    return write_sdtm(native, tmp_path / "sdtm")


def domain(config: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(config.parent / f"{name}.csv", infer_schema=False)


def qualifiers(config: Path, name: str) -> list[tuple]:
    return domain(config, name).select("USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL").rows()


def test_agent_codes_make_qualifier_names_of_at_most_eight_characters():
    assert agent_codes(["apatinib", "anti_pd1"]) == {"apatinib": "APA", "anti_pd1": "PD1"}
    # A clash takes the agent's number.
    assert agent_codes(["drug_abc", "abc"]) == {"drug_abc": "ABC", "abc": "002"}


def test_demographics_and_their_qualifiers(written):
    """First dose: the earliest start of a dose above 0, 2024-01-03 (the 0 mg hold of 2024-01-02
    is no dose). End of treatment, enrolment, last contact and death are the subject's own dates.
    SUPPDM holds recurrence, re-irradiation and the cause of death as death_causes.csv writes it."""
    dm = domain(written, "dm")
    assert dm.select("USUBJID", "RFXSTDTC", "RFXENDTC", "RFICDTC", "RFPENDTC", "DTHDTC", "DTHFL", "ARM").rows()[:2] == [
        ("NPC-01-0001", "2024-01-03", "2024-03-01", "2024-01-01", "2024-04-01", "2024-04-01", "Y", "apatinib+anti-PD-1"),
        ("NPC-01-0002", "2024-01-06", None, "2024-01-05", "2024-06-30", None, None, "apatinib+anti-PD-1"),
    ]
    assert qualifiers(written, "suppdm")[:5] == [
        ("NPC-01-0001", None, None, "RECURTYP", "distant"),
        ("NPC-01-0001", None, None, "REIRRAD", "N"),
        ("NPC-01-0001", None, None, "DTHCAUS", "ADVERSE EVENT"),
        ("NPC-01-0002", None, None, "RECURTYP", "local"),
        ("NPC-01-0002", None, None, "REIRRAD", "Y"),
    ]


def test_disposition_events(written):
    """toxicity -> ADVERSE EVENT on the end of treatment, then the death in follow-up; other ->
    OTHER (disposition_reasons.csv lists no such term, so it reads back as other); not_recorded ->
    no record; the subject on treatment has none."""
    ds = domain(written, "ds")
    assert ds.select("USUBJID", "DSSEQ", "DSDECOD", "EPOCH", "DSSTDTC").rows() == [
        ("NPC-01-0001", "1", "ADVERSE EVENT", "TREATMENT", "2024-03-01"),
        ("NPC-01-0001", "2", "DEATH", "FOLLOW-UP", "2024-04-01"),
        ("NPC-02-0003", "1", "OTHER", "TREATMENT", "2024-02-01"),
    ]


def test_exposure_and_its_adjustments(written):
    ex = domain(written, "ex")
    assert ex.select("USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXROUTE", "EXDOSFRQ", "EXSTDTC", "EXENDTC", "EXADJ").rows()[:2] == [
        ("NPC-01-0001", "1", "APATINIB MESYLATE", "0", "PO", "QD", "2024-01-02", "2024-01-02", "Hypertension"),
        ("NPC-01-0001", "2", "APATINIB MESYLATE", "250", "PO", "QD", "2024-01-03", "2024-03-01", None),
    ]
    assert ex["EXTRT"][2] == "ANTI-PD-1 ANTIBODY"
    assert qualifiers(written, "suppex") == [
        ("NPC-01-0001", "EXSEQ", "1", "EXADJTYP", "held"),
        ("NPC-01-0001", "EXSEQ", "2", "EXADJTYP", "none"),
        ("NPC-01-0001", "EXSEQ", "3", "EXADJTYP", "none"),
        ("NPC-01-0002", "EXSEQ", "1", "EXADJTYP", "none"),
    ]


def test_adverse_events_and_their_qualifiers(written):
    """AESEQ numbers each subject's records; the identifier is in AESPID. AEDECOD and AEBODSYS as
    the module docstring works out; serious flags Y/N where criteria are given; outcome and action
    as CDISC terms."""
    ae = domain(written, "ae")
    assert ae.select("USUBJID", "AESEQ", "AESPID", "AEDECOD", "AEBODSYS", "AETOXGR", "AESER", "AESHOSP", "AESDTH", "AEOUT", "AEACN").rows() == [
        ("NPC-01-0001", "1", "AE-000001", "Hypertension", "Vascular disorders", "3", "Y", "Y", "N", "RECOVERED/RESOLVED", "MULTIPLE"),
        ("NPC-01-0001", "2", "AE-000002", "RCCEP", "Skin and subcutaneous tissue disorders", "1", "N", None, None,
         "NOT RECOVERED/NOT RESOLVED", "DOSE NOT CHANGED"),
        ("NPC-01-0002", "1", "AE-000003", None, None, "2", "N", None, None, "RECOVERED/RESOLVED", "DOSE NOT CHANGED"),
        ("NPC-01-0002", "2", "AE-000004", "Fatigue", "General disorders and administration site conditions", "1", "N", None, None,
         "RECOVERED/RESOLVED", "DOSE NOT CHANGED"),
    ]
    by_record = {}
    for subject, _, seq, qnam, value in qualifiers(written, "suppae"):
        by_record.setdefault((subject, seq), {})[qnam] = value
    assert by_record[("NPC-01-0001", "1")] == {
        "AECTCTRM": "Hypertension", "AETRTMNT": "antihypertensive", "AERELAPA": "POSSIBLE", "AERELPD1": "UNLIKELY",
        "AEACNAPA": "DOSE REDUCED", "AEACNPD1": "DOSE NOT CHANGED", "AEAWARDT": "2024-01-11",
    }
    assert by_record[("NPC-01-0001", "2")] == {
        "AECTCTRM": "Skin and subcutaneous tissue disorders - Other, specify", "AEOTHSPC": "RCCEP", "AETRTMNT": "none",
        "AERELAPA": "UNRELATED", "AERELPD1": "PROBABLE",
    }
    assert by_record[("NPC-01-0002", "1")] == {"AECTCTRM": "Hypertenshun", "AERELAPA": "DEFINITE", "AERELPD1": "related"}
    assert by_record[("NPC-01-0002", "2")]["AECTCTRM"] == "fatigue"


def test_labs_vital_signs_and_responses(written):
    """PLT is written PLAT (lab_test_codes.csv); UPROT_DIP, which the map does not list, as given.
    A missing result has neither LBSTRESC nor LBSTRESN. The vitals row gives three VS records
    (its heart rate is missing), tied by VSGRPID 1. Each assessment is an overall response, the
    first also a new-lesion result, tied by RSGRPID; the first overall response has its method."""
    lb = domain(written, "lb")
    assert lb.select("LBSEQ", "LBTESTCD", "LBSTRESC", "LBSTRESN", "LBSTRESU", "LBSTNRLO", "LBSTNRHI", "LBDTC").rows() == [
        ("1", "PLAT", "180", "180", "10^9/L", "100", "300", "2024-01-02"),
        ("2", "UPROT_DIP", "1", "1", "dipstick", None, None, "2024-01-02"),
        ("1", "BILI", None, None, "umol/L", "3.4", "20.5", "2024-01-05"),
    ]
    vs = domain(written, "vs")
    assert vs.select("VSSEQ", "VSGRPID", "VSTESTCD", "VSSTRESN", "VSSTRESU", "VSDTC").rows() == [
        ("1", "1", "SYSBP", "130", "mmHg", "2024-01-02"),
        ("2", "1", "DIABP", "85", "mmHg", "2024-01-02"),
        ("3", "1", "WEIGHT", "61.5", "kg", "2024-01-02"),
    ]
    rs = domain(written, "rs")
    assert rs.select("USUBJID", "RSSEQ", "RSGRPID", "RSTESTCD", "RSSTRESC", "VISIT", "RSDTC").rows() == [
        ("NPC-01-0001", "1", "1", "OVRLRESP", "PD", "Week 8", "2024-02-27"),
        ("NPC-01-0001", "2", "1", "NEWLPROG", "Y", "Week 8", "2024-02-27"),
        ("NPC-01-0002", "1", "2", "OVRLRESP", "SD", "Week 8", "2024-03-01"),
    ]
    assert qualifiers(written, "supprs") == [("NPC-01-0001", "RSSEQ", "1", "METHOD", "CT")]


def test_the_config_is_the_original_with_cdisc_in_place_of_sources(written):
    """Every section but [sources] reads as the bundled config's; [cdisc] names the domain files,
    maps EXTRT and the relationship values back exactly, and names each qualifier. The comment that
    introduced the tumour-assessment source goes with it; the one above [aesi_groups] stays."""
    original = tomllib.loads((BUNDLED_DIR / "trial.toml").read_text(encoding="utf-8"))
    text = written.read_text(encoding="utf-8")
    config = tomllib.loads(text)
    assert {key: value for key, value in config.items() if key != "cdisc"} == {
        key: value for key, value in original.items() if key != "sources"
    }
    cdisc = config["cdisc"]
    assert cdisc["files"] == {
        name: f"{name}.csv" for name in ("dm", "suppdm", "ds", "ex", "suppex", "ae", "suppae", "lb", "vs", "rs", "supprs")
    }
    assert cdisc["treatments"] == {"APATINIB MESYLATE": "apatinib", "ANTI-PD-1 ANTIBODY": "anti_pd1"}
    assert cdisc["relationship_values"] == {
        "UNRELATED": "unrelated", "UNLIKELY": "unlikely", "POSSIBLE": "possible", "PROBABLE": "probable", "DEFINITE": "definite",
    }
    assert cdisc["relationship_variables"] == {"apatinib": "AERELAPA", "anti_pd1": "AERELPD1"}
    assert cdisc["columns"]["adverse_events"]["action_anti_pd1"] == "AEACNPD1"
    assert all(len(qnam) <= 8 for columns in cdisc["columns"].values() for qnam in columns.values())
    assert "# RECIST 1.1 time-point responses" not in text
    assert "# Adverse events of special interest: a set matches by CTCAE term" in text
    loaded = load_trial_config(written)
    assert loaded.model.sources.subjects is None
    assert set(loaded.cdisc_files()) == set(cdisc["files"])


def test_config_text_without_sources_gets_cdisc_at_the_end():
    text = cdisc_config_text('[trial]\nid = "x"\n', '[cdisc]\nstandard = "sdtm"\n')
    assert text == '[trial]\nid = "x"\n\n[cdisc]\nstandard = "sdtm"\n'


def test_synth_sdtm_writes_both_folders(tmp_path, capsys):
    """`toxwatch synth --sdtm` writes the native trial in OUT and its SDTM domains in OUT/sdtm/, each
    folder with a trial.toml that loads; the SDTM one has a DM record per subject written."""
    out = tmp_path / "trial"
    assert main(["synth", "--subjects", "4", "--seed", "3", "--out", str(out), "--sdtm"]) == 0
    assert f"SDTM folder: {out / 'sdtm'}" in capsys.readouterr().out
    assert load_trial_config(out / "trial.toml").model.cdisc is None
    sdtm = load_trial_config(out / "sdtm" / "trial.toml")
    assert sdtm.model.cdisc.standard == "sdtm"
    assert domain(out / "sdtm" / "trial.toml", "dm")["USUBJID"].to_list() == pl.read_csv(out / "subjects.csv")["subject_id"].to_list()
