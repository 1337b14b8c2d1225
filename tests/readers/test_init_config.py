"""The starter trial config written from CDISC data (readers/init_config.py, `toxwatch init`).

A hand-made SDTM folder of five subjects and a screen failure (study "ABC 123"):

* DM: arm "Drug X 10 mg" (ARMCD HIGH): S-001, S-002, S-006; arm "Drug X 5 mg + placebo" (ARMCD
  LOW): S-003, S-004; S-005 a screen failure (ARMCD SCRNFAIL). ACTARM differs from ARM for S-002
  (actually given the low arm) and S-006 (NOTTRT, "Not Treated"): 2 subjects. S-006 has no EX
  record: never dosed. DM comes as dm.csv and DM.parquet (the same records).
* EX (interval records, days = end - start + 1):

  | subject | EXTRT   | dose | days | route |
  |---------|---------|------|------|-------|
  | S-001   | DRUG-X  | 10   | 28   | ORAL  |
  | S-001   | DRUG-X  | 5    | 3    | ORAL  |
  | S-001   | DRUG-X  | 5    | 3    | ORAL  |
  | S-002   | DRUG-X  | 10   | 14   | PO    |
  | S-002   | DRUG-X  | 5    | 2    | ORAL  |
  | S-003   | DRUG-X  | 5    | 28   | ORAL  |
  | S-003   | PLACEBO | 0    | 28   | ORAL  |
  | S-004   | Drug-X  | 5    | 10   | ORAL  |
  | S-004   | Placebo | 0    | 10   | ORAL  |

  Drug X: 7 records (the spelling "Drug-X" is the same treatment), 10 mg in 2 records over 42 days
  and 5 mg in 5 records over 46 days. Taken as one pool, 5 mg leads by records and by days. But
  arm HIGH gets 10 mg on 28 + 14 = 42 days and 5 mg on 3 + 3 + 2 = 8 days, so it plans 10 mg.
  Arm LOW gets only 5 mg (38 days), so it plans 5 mg. The agent's dose is the higher of the two,
  10 mg, and arm LOW has doses_mg = { drug_x = 5 }. Dose levels: [10, 5]. Route: ORAL 6 records,
  PO 1, so ORAL. Frequency: QD. Placebo: 2 records, every dose 0, so dose_mg 0 and no levels. It
  is written "PLACEBO" once and "Placebo" once; the tie goes to the first written. Arm HIGH's
  records name Drug X only; arm LOW's name Drug X and placebo.
* AE: AESEV values only (no AETOXGR), so grading is "severity". AEREL: POSSIBLE, NOT RELATED,
  "probably related" (folded to PROBABLY RELATED), MAYBE (not in the default map) and one left
  blank. AESTDTC: one onset without a day (2024-01), one without a month (2024).
* SUPPAE: AEAWARDT ("Date Sponsor Became Aware") is the awareness variable. AERELX
  ("Relationship to Drug X") is a per-agent relationship; its values are POSSIBLE and REMOTE.
* VS: found and read (vitals).

Expected relationship values: NOT RELATED -> unrelated, REMOTE -> unlikely, POSSIBLE -> possible,
PROBABLY RELATED -> probable; MAYBE is written commented out.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import polars as pl
import pytest

from readers.init_config import config_from_cdisc, find_domain_files
from tests.conftest import reference_path
from trial.config import load_trial_config
from trial.errors import InputError

DM = """\
STUDYID,DOMAIN,USUBJID,ARMCD,ARM,ACTARMCD,ACTARM,RFXSTDTC
ABC 123,DM,S-001,HIGH,Drug X 10 mg,HIGH,Drug X 10 mg,2024-01-01
ABC 123,DM,S-002,HIGH,Drug X 10 mg,LOW,Drug X 5 mg + placebo,2024-01-05
ABC 123,DM,S-003,LOW,Drug X 5 mg + placebo,LOW,Drug X 5 mg + placebo,2024-01-02
ABC 123,DM,S-004,LOW,Drug X 5 mg + placebo,LOW,Drug X 5 mg + placebo,2024-01-03
ABC 123,DM,S-005,SCRNFAIL,Screen Failure,SCRNFAIL,Screen Failure,
ABC 123,DM,S-006,HIGH,Drug X 10 mg,NOTTRT,Not Treated,
"""
EX = """\
STUDYID,DOMAIN,USUBJID,EXSEQ,EXTRT,EXDOSE,EXDOSU,EXROUTE,EXDOSFRQ,EXSTDTC,EXENDTC
ABC 123,EX,S-001,1,DRUG-X,10,mg,ORAL,QD,2024-01-01,2024-01-28
ABC 123,EX,S-001,2,DRUG-X,5,mg,ORAL,QD,2024-01-29,2024-01-31
ABC 123,EX,S-001,3,DRUG-X,5,mg,ORAL,QD,2024-02-01,2024-02-03
ABC 123,EX,S-002,1,DRUG-X,10,mg,PO,QD,2024-01-05,2024-01-18
ABC 123,EX,S-002,2,DRUG-X,5,mg,ORAL,QD,2024-01-19,2024-01-20
ABC 123,EX,S-003,1,DRUG-X,5,mg,ORAL,QD,2024-01-02,2024-01-29
ABC 123,EX,S-003,2,PLACEBO,0,mg,ORAL,QD,2024-01-02,2024-01-29
ABC 123,EX,S-004,1,Drug-X,5,mg,ORAL,QD,2024-01-03,2024-01-12
ABC 123,EX,S-004,2,Placebo,0,mg,ORAL,QD,2024-01-03,2024-01-12
"""
AE = """\
STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AEDECOD,AEBODSYS,AESEV,AEREL,AESER,AESTDTC
ABC 123,AE,S-001,1,Headache,HEADACHE,Nervous system disorders,MILD,POSSIBLE,N,2024-01-03
ABC 123,AE,S-001,2,Nausea,NAUSEA,Gastrointestinal disorders,MODERATE,NOT RELATED,N,2024-01
ABC 123,AE,S-002,1,Rash,RASH,Skin and subcutaneous tissue disorders,SEVERE,probably related,Y,2024-01-10
ABC 123,AE,S-003,1,Fatigue,FATIGUE,General disorders and administration site conditions,MILD,MAYBE,N,2024
ABC 123,AE,S-004,1,Headache,HEADACHE,Nervous system disorders,MILD,,N,2024-01-05
"""
SUPPAE = """\
STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL
ABC 123,AE,S-002,AESEQ,1,AEAWARDT,Date Sponsor Became Aware,2024-01-12
ABC 123,AE,S-002,AESEQ,1,AERELX,Relationship to Drug X,POSSIBLE
ABC 123,AE,S-001,AESEQ,1,AERELX,Relationship to Drug X,REMOTE
"""
VS = """\
STUDYID,DOMAIN,USUBJID,VSTESTCD,VSSTRESN
ABC 123,VS,S-001,SYSBP,120
"""


@pytest.fixture
def sdtm(tmp_path: Path) -> Path:
    folder = tmp_path / "sdtm"
    folder.mkdir()
    for name, text in {"dm.csv": DM, "ex.csv": EX, "ae.csv": AE, "suppae.csv": SUPPAE, "vs.csv": VS}.items():
        (folder / name).write_text(text, encoding="utf-8")
    pl.read_csv(folder / "dm.csv", infer_schema=False).write_parquet(folder / "DM.parquet")
    return folder


def prose(text: str) -> str:
    """The comments of a config text as one line, so that a phrase wrapped over two lines is found."""
    return " ".join(line.removeprefix("#").strip() for line in text.splitlines() if line.startswith("#"))


def written(folder: Path, out: Path, **options) -> tuple[str, dict]:
    text = config_from_cdisc(folder, out=out, **options)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text, tomllib.loads(text)


def test_domains_are_found_in_any_case_and_the_preferred_format_is_read(sdtm):
    """DM comes as dm.csv and DM.parquet: Parquet is preferred to CSV."""
    found = find_domain_files(sdtm, "sdtm")
    assert {domain: item.path.name for domain, item in found.items()} == {
        "dm": "DM.parquet", "ae": "ae.csv", "suppae": "suppae.csv", "ex": "ex.csv", "vs": "vs.csv",
    }
    assert [path.name for path in found["dm"].passed_over] == ["dm.csv"]


def test_the_hand_made_sdtm_folder_gives_the_hand_worked_config(sdtm, tmp_path):
    out = tmp_path / "config" / "trial.toml"
    text, config = written(sdtm, out, standard="sdtm")

    assert config["trial"]["id"] == "abc-123"
    assert config["trial"]["title"] == "ABC 123 (from SDTM)"
    assert config["trial"]["grading"] == "severity"
    assert config["trial"]["ctcae_version"] == "5.0"
    assert config["trial"]["cycle_length_days"] == 28

    assert config["agents"] == [
        {"id": "drug_x", "name": "DRUG-X", "dose_mg": 10, "dose_levels_mg": [10, 5], "route": "ORAL", "frequency": "QD"},
        {"id": "placebo", "name": "PLACEBO", "dose_mg": 0, "dose_levels_mg": [], "route": "ORAL", "frequency": "QD"},
    ]
    assert config["arms"] == [
        {"id": "high", "value": "Drug X 10 mg", "agents": ["drug_x"]},
        {"id": "low", "value": "Drug X 5 mg + placebo", "agents": ["drug_x", "placebo"], "doses_mg": {"drug_x": 5}},
    ]

    cdisc = config["cdisc"]
    assert cdisc["standard"] == "sdtm"
    assert cdisc["folder"] == "../sdtm"  # relative to the config's folder
    assert cdisc["arm_variable"] == "ARM"
    assert cdisc["awareness_variable"] == "AEAWARDT"
    assert cdisc["files"] == {"dm": "DM.parquet", "ae": "ae.csv", "suppae": "suppae.csv", "ex": "ex.csv", "vs": "vs.csv"}
    assert cdisc["treatments"] == {"DRUG-X": "drug_x", "PLACEBO": "placebo"}
    assert cdisc["relationship_values"] == {
        "NOT RELATED": "unrelated", "REMOTE": "unlikely", "POSSIBLE": "possible", "PROBABLY RELATED": "probable",
    }
    assert cdisc["partial_dates"] == {"start_day": "first_or_reference", "start_month": "first", "end_day": "last", "end_month": "last"}
    assert config["windows"] == {"teae_end_days": 30, "acute_days": 90, "follow_up_days": 730}
    assert "stopping_rules" not in config and "aesi" not in config

    # The choices the data left open are written as comments, with the counts found.
    assert '# MAYBE = ""' in text
    assert "map it: unrelated / unlikely / possible / probable / definite" in prose(text)
    assert '# vs = "vs.csv"' not in text
    assert "DM: DM.parquet is read; dm.csv is not." in prose(text)
    assert "1 subject in no arm (screen failure): outside every arm and the safety population." in prose(text)
    assert "1 subject of the arms with no EX record (never dosed)" in prose(text)
    assert "it differs from ARM for 2 subjects" in prose(text)
    assert "1 record without a value, queried and counted as related" in prose(text)
    assert "AESTDTC: 1 without a day, 1 without a month" in prose(text)
    assert "# [cdisc.relationship_variables]" in text and '# drug_x = "AERELX"' in text
    assert re.search(r"^# awareness_variable", text, flags=re.M) is None


def test_the_written_config_loads_and_names_the_domain_files(sdtm, tmp_path):
    out = tmp_path / "config" / "trial.toml"
    written(sdtm, out, standard="sdtm")
    config = load_trial_config(out)
    assert [arm.value for arm in config.arms] == ["Drug X 10 mg", "Drug X 5 mg + placebo"]
    assert {domain: path.resolve() for domain, path in config.cdisc_files().items()} == {
        "dm": sdtm / "DM.parquet", "ae": sdtm / "ae.csv", "suppae": sdtm / "suppae.csv", "ex": sdtm / "ex.csv",
        "vs": sdtm / "vs.csv",
    }
    assert config.model.arms[1].planned_dose(config.model.agents[0]) == 5


def test_the_stopping_rule_examples_load_once_uncommented(sdtm, tmp_path):
    """The commented examples follow docs/trial-config.md's [[stopping_rules]] syntax."""
    out = tmp_path / "trial.toml"
    text, _ = written(sdtm, out, standard="sdtm")
    lines = text.splitlines()
    start = lines.index("# [[stopping_rules]]")
    end = lines.index("[report]")
    uncommented = [line.removeprefix("# ") if line.startswith("# ") and not line.startswith("# No ") else line for line in lines[start:end]]
    out.write_text("\n".join(lines[:start] + uncommented + lines[end:]) + "\n", encoding="utf-8")
    rules = load_trial_config(out).model.stopping_rules
    assert [(rule.id, rule.kind) for rule in rules] == [("related_death", "event_count"), ("severe_related_rate", "bayes")]
    assert rules[0].event.related_to == ["drug_x"]  # the active agent, not the placebo
    assert rules[1].max_subjects == 4  # the dosed subjects of the arms: S-001 to S-004


def test_without_suppae_the_awareness_variable_is_left_commented(sdtm, tmp_path):
    (sdtm / "suppae.csv").unlink()
    text, config = written(sdtm, tmp_path / "trial.toml", standard="sdtm")
    assert "awareness_variable" not in config["cdisc"]
    assert '# awareness_variable = "AEAWARDT"' in text and '"not computable"' in text
    # Without the per-agent qualifier, REMOTE is no longer found.
    assert config["cdisc"]["relationship_values"] == {"NOT RELATED": "unrelated", "POSSIBLE": "possible", "PROBABLY RELATED": "probable"}


def test_a_ctcae_grade_decides_the_grading(sdtm, tmp_path):
    ae = pl.read_csv(sdtm / "ae.csv", infer_schema=False).with_columns(pl.Series("AETOXGR", ["1", "2", "3", "1", None]))
    ae.write_csv(sdtm / "ae.csv")
    text, config = written(sdtm, tmp_path / "trial.toml", standard="sdtm")
    assert config["trial"]["grading"] == "ctcae"
    assert "AESEV also has values" in prose(text)


def test_the_id_option_replaces_studyid(sdtm, tmp_path):
    _, config = written(sdtm, tmp_path / "trial.toml", standard="sdtm", trial_id="my-trial")
    assert config["trial"]["id"] == "my-trial"
    with pytest.raises(InputError, match="not a trial id"):
        config_from_cdisc(sdtm, standard="sdtm", out=tmp_path / "trial.toml", trial_id="My Trial")


def test_a_folder_without_a_required_domain_is_refused(sdtm, tmp_path):
    (sdtm / "ex.csv").unlink()
    with pytest.raises(InputError, match="no SDTM EX file"):
        config_from_cdisc(sdtm, standard="sdtm", out=tmp_path / "trial.toml")
    with pytest.raises(InputError, match="folder not found"):
        config_from_cdisc(tmp_path / "nowhere", standard="sdtm", out=tmp_path / "trial.toml")


def test_an_arm_without_exposure_lists_every_agent(sdtm, tmp_path):
    """No AE is made unrelated by an arm whose subjects have no exposure record: the arm gets every agent."""
    dm = (sdtm / "dm.csv").read_text() + "ABC 123,DM,S-007,OBS,Observation,OBS,Observation,\n"
    (sdtm / "dm.csv").write_text(dm)
    (sdtm / "DM.parquet").unlink()
    _, config = written(sdtm, tmp_path / "trial.toml", standard="sdtm")
    assert config["arms"][-1] == {"id": "obs", "value": "Observation", "agents": ["drug_x", "placebo"]}
    load_trial_config(tmp_path / "trial.toml")


# ---- the reference data -------------------------------------------------------------------------


def test_pharmaverse_sdtm(tmp_path):
    """The CDISC pilot (README of ../shared/reference/sdtm): ARM Placebo 86, Xanomeline Low Dose 84,
    Xanomeline High Dose 84, Screen Failure 52; EXTRT PLACEBO always 0 mg; XANOMELINE 54 mg (293
    records) and 81 mg (72). The high-dose arm titrates: 54 mg for two weeks, then 81 mg, so 81 mg is
    its dose on the most days; the low-dose arm only ever takes 54 mg. AESEV only (no AETOXGR): the
    trial is graded by severity. AEREL NONE, REMOTE, POSSIBLE, PROBABLE."""
    folder = reference_path("sdtm", "pharmaversesdtm")
    out = tmp_path / "trial.toml"
    text, config = written(folder, out, standard="sdtm")
    assert config["trial"]["id"] == "cdiscpilot01"
    assert config["trial"]["grading"] == "severity"
    assert {arm["value"] for arm in config["arms"]} == {"Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"}
    agents = {agent["id"]: agent for agent in config["agents"]}
    assert set(agents) == {"placebo", "xanomeline"}
    assert (agents["placebo"]["dose_mg"], agents["placebo"]["dose_levels_mg"]) == (0, [])
    assert (agents["xanomeline"]["dose_mg"], agents["xanomeline"]["dose_levels_mg"]) == (81, [81, 54])
    arms = {arm["value"]: arm for arm in config["arms"]}
    assert arms["Placebo"]["agents"] == ["placebo"]
    assert arms["Xanomeline Low Dose"]["doses_mg"] == {"xanomeline": 54}
    assert "doses_mg" not in arms["Xanomeline High Dose"]
    assert config["cdisc"]["relationship_values"] == {"NONE": "unrelated", "REMOTE": "unlikely", "POSSIBLE": "possible", "PROBABLE": "probable"}
    assert "52 subjects in no arm (screen failure)" in prose(text)
    assert "it differs from ARM for 12 subjects" in prose(text)
    loaded = load_trial_config(out)
    assert loaded.model.cdisc.files["ae"] == "ae.parquet"  # Parquet preferred to the CSV beside it


def test_rcd_onco_adam(tmp_path):
    """random.cdisc.data's oncology ADaM (../shared/reference/rcd-onco): the datasets are named
    cadsl, cadae, cadex; AETOXGR 1-5, so the trial is CTCAE-graded; ADEX dose records name Drug A and
    Drug B (PARCAT2) at dated weekly visits (WEEK 1 DAY 8 ... WEEK 5 DAY 36), so the frequency is QW,
    whatever EXDOSFRQ (ONCE) says of a single record. AEREL Y / N."""
    folder = reference_path("rcd-onco")
    out = tmp_path / "trial.toml"
    _, config = written(folder, out, standard="adam")
    assert config["cdisc"]["files"] == {"adsl": "cadsl.parquet", "adae": "cadae.parquet", "adex": "cadex.parquet"}
    assert config["cdisc"]["arm_variable"] == "TRT01P"
    assert config["trial"]["grading"] == "ctcae"
    assert [(agent["id"], agent["frequency"]) for agent in config["agents"]] == [("drug_a", "QW"), ("drug_b", "QW")]
    assert config["cdisc"]["treatments"] == {"Drug A": "drug_a", "Drug B": "drug_b"}
    assert config["cdisc"]["relationship_values"] == {"N": "unrelated", "Y": "probable"}
    assert {arm["value"] for arm in config["arms"]} == {"A: Drug X", "B: Placebo", "C: Combination"}
    load_trial_config(out)
