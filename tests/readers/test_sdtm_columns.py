"""What an SDTM trial keeps outside the standard variables (readers/sdtm_columns.py,
``[cdisc.columns]``), and the findings domains VS and RS (readers/sdtm_findings.py).

A hand-made two-subject trial, written as CSV domains:

* S-1: DM with SUPPDM RECURTYP "local" and DTHCAUS "DISEASE PROGRESSION" (a subject-level
  qualifier: IDVAR empty); three EX records of drug A: 100 mg, 0 mg (SUPPEX EXADJTYP
  "discontinued"), 0 mg (no qualifier); two AEs, AESPID "AE-7" and "AE-9"; SUPPAE gives AE 1 its
  CTCAE term and, for the subject (IDVAR empty), an "Other, specify" text, which AE 2 overrides
  with its own; AE 1's action with drug A is "DOSE REDUCED" in SUPPAE although AEACN says
  MULTIPLE; AE 2 has no action qualifier.
* S-2: no SUPPDM record; its death cause is DM's (none: unknown).

VS: S-1 on 2024-01-10 has a supine and a standing blood pressure (VSPOS), a pulse and a weight
with no position, a second SYSBP and DIABP in the standing position (repeated), and a temperature
(not a vital sign the contract has); S-2 one weight of 70.0 kg on 2024-01-11. RS: S-1 has two
assessments, each an overall response (OVRLRESP), a target response (TRGRESP, not read) and for
the first a new-lesion result (NEWLPROG N); SUPPRS gives the first overall response its method.

Every expected value is worked out by hand in the test that states it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from readers.sdtm import sdtm_source
from trial.config import load_trial_config
from trial.errors import InputError
from validators.read import ROW

DOMAINS = {
    "dm": """\
STUDYID,DOMAIN,USUBJID,RFXSTDTC,RFXENDTC,RFICDTC,RFPENDTC,DTHDTC,DTHFL,SITEID,AGE,SEX,ARM
T2,DM,S-1,2024-01-10,2024-02-01,2024-01-05,2024-03-01,2024-03-01,Y,01,60,M,Drug A
T2,DM,S-2,2024-01-11,,2024-01-06,2024-03-02,2024-03-02,Y,01,61,F,Drug A
""",
    "suppdm": """\
STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL
T2,DM,S-1,,,RECURTYP,Site of recurrence,local
T2,DM,S-1,,,DTHCAUS,Cause of death,DISEASE PROGRESSION
""",
    "ex": """\
STUDYID,DOMAIN,USUBJID,EXSEQ,EXTRT,EXDOSE,EXROUTE,EXDOSFRQ,EXSTDTC,EXENDTC,EXADJ
T2,EX,S-1,1,DRUG A,100,PO,QD,2024-01-10,2024-01-20,
T2,EX,S-1,2,DRUG A,0,PO,QD,2024-01-21,2024-01-21,Hypertension
T2,EX,S-1,3,DRUG A,0,PO,QD,2024-01-22,2024-02-01,Fatigue
""",
    "suppex": """\
STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL
T2,EX,S-1,EXSEQ,2,EXADJTYP,Type of dose adjustment,discontinued
""",
    "ae": """\
STUDYID,DOMAIN,USUBJID,AESEQ,AESPID,AETERM,AEDECOD,AETOXGR,AESTDTC,AESER,AEOUT,AEACN
T2,AE,S-1,1,AE-7,high blood pressure,Hypertension,3,2024-01-15,N,RECOVERED/RESOLVED,MULTIPLE
T2,AE,S-1,2,AE-9,skin lesions,RCCEP,2,2024-01-18,N,RECOVERED/RESOLVED,DOSE NOT CHANGED
""",
    "suppae": """\
STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL
T2,AE,S-1,AESEQ,1,AECTCTRM,CTCAE term,Hypertension
T2,AE,S-1,AESEQ,1,AEACNA,Action with drug A,DOSE REDUCED
T2,AE,S-1,,,AEOTHSPC,Other specify,subject-level text
T2,AE,S-1,AESEQ,2,AEOTHSPC,Other specify,RCCEP
T2,AE,S-1,AESEQ,2,AEOTHSPC,Other specify,a second value is not read
""",
    "vs": """\
STUDYID,DOMAIN,USUBJID,VSSEQ,VSTESTCD,VSPOS,VSSTRESN,VSSTRESU,VSDTC
T2,VS,S-1,1,SYSBP,SUPINE,120,mmHg,2024-01-10
T2,VS,S-1,2,DIABP,SUPINE,80,mmHg,2024-01-10
T2,VS,S-1,3,SYSBP,STANDING,118,mmHg,2024-01-10
T2,VS,S-1,4,DIABP,STANDING,78,mmHg,2024-01-10
T2,VS,S-1,5,PULSE,,72.0,beats/min,2024-01-10
T2,VS,S-1,6,WEIGHT,,65.5,kg,2024-01-10
T2,VS,S-1,7,TEMP,,36.8,C,2024-01-10
T2,VS,S-1,8,SYSBP,STANDING,121,mmHg,2024-01-10
T2,VS,S-1,9,DIABP,STANDING,79,mmHg,2024-01-10
T2,VS,S-2,1,WEIGHT,,70.0,kg,2024-01-11
""",
    "rs": """\
STUDYID,DOMAIN,USUBJID,RSSEQ,RSTESTCD,RSCAT,RSORRES,RSSTRESC,VISIT,RSDTC
T2,RS,S-1,1,TRGRESP,RECIST 1.1,SD,SD,WEEK 8,2024-03-01
T2,RS,S-1,2,OVRLRESP,RECIST 1.1,Stable Disease,SD,WEEK 8,2024-03-01
T2,RS,S-1,3,NEWLPROG,RECIST 1.1,N,N,WEEK 8,2024-03-01
T2,RS,S-1,4,TRGRESP,RECIST 1.1,PR,PR,WEEK 16,2024-04-26
T2,RS,S-1,5,OVRLRESP,RECIST 1.1,PR,,WEEK 16,2024-04-26T10:00
""",
    "supprs": """\
STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL
T2,RS,S-1,RSSEQ,2,METHOD,Imaging method,MRI
""",
}

CONFIG = """\
[trial]
id = "t2"
title = "A made-up SDTM trial with supplemental qualifiers"

[[agents]]
id = "drug_a"
name = "Drug A"
dose_mg = 100
route = "PO"
frequency = "QD"

[cdisc]
standard = "{standard}"
folder = "sdtm"
files = {{ {files} }}
treatments = {{"DRUG A" = "drug_a"}}
{extra}
[cdisc.columns.subjects]
recurrence_type = "RECURTYP"
death_cause = "DTHCAUS"

[cdisc.columns.exposure]
adjustment = "EXADJTYP"

[cdisc.columns.adverse_events]
ae_id = "AESPID"
ctcae_term = "AECTCTRM"
other_specify = "AEOTHSPC"
action_drug_a = "AEACNA"

[cdisc.columns.tumour_assessments]
method = "METHOD"
"""


def write_trial(folder: Path, *, standard: str = "sdtm", domains: dict[str, str] = DOMAINS, extra: str = "") -> Path:
    (folder / "sdtm").mkdir(parents=True, exist_ok=True)
    for domain, text in domains.items():
        (folder / "sdtm" / f"{domain}.csv").write_text(text, encoding="utf-8")
    files = ", ".join(f'{domain} = "{domain}.csv"' for domain in domains)
    path = folder / "trial.toml"
    path.write_text(CONFIG.format(standard=standard, files=files, extra=extra), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path):
    return load_trial_config(write_trial(tmp_path))


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return frame.select(ROW, *columns).rows()


def test_subject_qualifiers_from_suppdm(config):
    """S-1: recurrence "local" and cause of death DISEASE PROGRESSION (death_causes.csv:
    disease_progression) from SUPPDM; S-2 has no SUPPDM record, so its recurrence stays missing
    and its cause of death is DM's reading of a death without a cause: unknown."""
    frame = sdtm_source(config, "subjects").frame
    assert rows(frame, "subject_id", "recurrence_type", "death_cause") == [
        (2, "S-1", "local", "disease_progression"),
        (3, "S-2", None, "unknown"),
    ]


def test_exposure_adjustment_from_suppex(config):
    """EXSEQ 2 is 0 mg of an agent planned at 100 mg, which the reader derives as held; its SUPPEX
    qualifier says discontinued and is read instead. EXSEQ 3, 0 mg without a qualifier: held, as
    derived. EXSEQ 1, the first dose: none."""
    frame = sdtm_source(config, "exposure").frame
    assert rows(frame, "dose_mg", "adjustment") == [(2, "100", "none"), (3, "0", "discontinued"), (4, "0", "held")]


def test_adverse_event_columns_from_ae_and_suppae(config):
    """ae_id is AESPID (an AE variable), not USUBJID-AESEQ. AE 1: CTCAE term from its SUPPAE
    record (the same as AEDECOD here); action with drug A from SUPPAE AEACNA, DOSE REDUCED ->
    dose_reduced (ae_actions.csv), in place of AEACN MULTIPLE; "Other, specify" text from the
    subject-level SUPPAE record. AE 2: no CTCAE-term qualifier, so the reader's own (AEDECOD
    RCCEP); its own "Other, specify" record wins over the subject's, and of its two the first is
    read; no action qualifier, so AEACN DOSE NOT CHANGED -> dose_not_changed."""
    raw = sdtm_source(config, "adverse_events")
    assert rows(raw.frame, "ae_id", "ctcae_term", "other_specify", "action_drug_a") == [
        (2, "AE-7", "Hypertension", "subject-level text", "dose_reduced"),
        (3, "AE-9", "RCCEP", "RCCEP", "dose_not_changed"),
    ]
    assert "AESPID" not in raw.ignored_columns


def test_vitals_from_vs(config):
    """One row per measurement: S-1 on 2024-01-10 in three positions. Supine: 120/80 (rows 2-3,
    first at line 2). Standing: two of each pressure, paired in order: 118/78 (first at line 4)
    and 121/79 (line 9). No position: pulse 72.0 -> 72 and weight 65.5 (line 6); the temperature
    (line 8) is no vitals column. S-2: weight 70.0 -> 70 (line 11)."""
    frame = sdtm_source(config, "vitals").frame
    assert rows(frame, "subject_id", "measure_date", "sbp_mmhg", "dbp_mmhg", "heart_rate_bpm", "weight_kg") == [
        (2, "S-1", "2024-01-10", "120", "80", None, None),
        (4, "S-1", "2024-01-10", "118", "78", None, None),
        (6, "S-1", "2024-01-10", None, None, "72", "65.5"),
        (9, "S-1", "2024-01-10", "121", "79", None, None),
        (11, "S-2", "2024-01-11", None, None, None, "70"),
    ]


def test_tumour_assessments_from_rs(config):
    """One row per OVRLRESP record (lines 3 and 6); the target responses are not read. The
    first: SD (RSSTRESC), new lesions N from the NEWLPROG record of the same date and visit,
    method MRI from SUPPRS. The second: RSSTRESC empty, so RSORRES PR; its date-time is read as
    its date; no new-lesion record and no method."""
    frame = sdtm_source(config, "tumour_assessments").frame
    assert rows(frame, "subject_id", "visit", "assessment_date", "overall_response", "new_lesions", "method") == [
        (3, "S-1", "WEEK 8", "2024-03-01", "SD", "N", "MRI"),
        (6, "S-1", "WEEK 16", "2024-04-26", "PR", None, None),
    ]


def test_new_lesions_go_with_their_assessment_group(tmp_path):
    """Two assessments of S-1 on one date and visit (entered twice), told apart by RSGRPID: the
    first (SD) has new lesions N, the second (PD) Y; without the group both would take the first."""
    rs = """\
STUDYID,DOMAIN,USUBJID,RSSEQ,RSGRPID,RSTESTCD,RSSTRESC,VISIT,RSDTC
T2,RS,S-1,1,1,OVRLRESP,SD,WEEK 8,2024-03-01
T2,RS,S-1,2,1,NEWLPROG,N,WEEK 8,2024-03-01
T2,RS,S-1,3,2,OVRLRESP,PD,WEEK 8,2024-03-01
T2,RS,S-1,4,2,NEWLPROG,Y,WEEK 8,2024-03-01
"""
    config = load_trial_config(write_trial(tmp_path, domains={**DOMAINS, "rs": rs}))
    frame = sdtm_source(config, "tumour_assessments").frame
    assert rows(frame, "overall_response", "new_lesions") == [(2, "SD", "N"), (4, "PD", "Y")]


def test_without_vs_and_rs_there_are_no_vitals_or_assessments(tmp_path):
    """VS and RS are optional domains: a trial without them has no vitals and no tumour assessments."""
    domains = {domain: text for domain, text in DOMAINS.items() if domain not in ("vs", "rs", "supprs")}
    path = write_trial(tmp_path, domains=domains)
    text = path.read_text().replace('[cdisc.columns.tumour_assessments]\nmethod = "METHOD"\n', "")
    path.write_text(text)
    config = load_trial_config(path)
    assert sdtm_source(config, "vitals") is None
    assert sdtm_source(config, "tumour_assessments") is None


@pytest.mark.parametrize(
    ("replace", "key", "problem"),
    [
        ('ae_id = "AESPID"', "cdisc.columns.adverse_events.verbatim", "'verbatim' is not a column of the adverse_events source"),
        ('ae_id = "AESPID"', "cdisc.columns.adverse_events.attribution_drug_a", "attribution_drug_a cannot be mapped here"),
        ('ae_id = "AESPID"', "cdisc.columns.adverse_events.awareness_date", "awareness_date cannot be mapped here"),
        ('recurrence_type = "RECURTYP"', "cdisc.columns.subjects.subject_id", "subject_id cannot be mapped here"),
    ],
)
def test_a_column_the_source_does_not_have_or_that_has_its_own_key_is_refused(tmp_path, replace, key, problem):
    path = write_trial(tmp_path)
    column = key.rsplit(".", 1)[1]
    path.write_text(path.read_text().replace(replace, f'{column} = "X"'))
    with pytest.raises(InputError) as error:
        load_trial_config(path)
    assert error.value.field == key
    assert problem in error.value.problem


def test_columns_are_refused_for_adam(tmp_path):
    with pytest.raises(InputError) as error:
        load_trial_config(write_trial(tmp_path, standard="adam"))
    assert error.value.field == "cdisc.columns"


def test_a_qualifier_without_its_supplemental_domain_stops_the_run(tmp_path):
    """AECTCTRM is no AE variable; without a SUPPAE file it cannot be read: the run stops naming the key."""
    domains = {domain: text for domain, text in DOMAINS.items() if domain != "suppae"}
    config = load_trial_config(write_trial(tmp_path, domains=domains))
    with pytest.raises(InputError) as error:
        sdtm_source(config, "adverse_events")
    assert error.value.field == "cdisc.columns.adverse_events.ctcae_term"
    assert "no SUPPAE file" in error.value.problem
