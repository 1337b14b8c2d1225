"""Efficacy from tumour assessments written off the code, OS censoring on recorded dates only, and
the efficacy notes' count of assessments that could not be placed.

The mini trial (tests/data/mini), cut and run 2025-07-01, with these changes: S4 gets an apatinib
record from 2025-01-10 with its end date left empty (validation reads it as ongoing) and its last
contact moves to 2025-03-10; S6 (never dosed before) gets an apatinib record from 2025-05-05 with
its end date left empty, and its last contact is emptied, so that its open record runs to the cut;
and these assessments:

  S1 2025-02-21 "stable" (SD) | S1 2025-03-07 "Progressive disease" (PD)
  S2 2025-03-07 SD with new_lesions "Yes" (new lesions: PD)
  S4 2025-03-07 SD
  S5 2025-06-20 NE and PR on the same date (the date reads PR)
  S6 2025-06-20 SD
  S9 2025-03-07 PR (no such subject: excluded) | S5 2025-04-10 SD (before enrolment 2025-04-20: excluded)

Accounting: rows in 9 = clean 2 (S4, S6) + counted with queries 5 (S1 twice, S2, S5 twice) + excluded 2.

Efficacy (treated subjects, origin the first dose = day 1; SD needs 42 days; worked by hand):

  S1  first dose 2025-01-10. SD on 2025-02-21 = day 43 (42 days on), PD on 2025-03-07 = day 57:
      best SD, progression day 57 (PFS event 57). OS censored at last contact 2025-07-01 = day 173.
  S2  first dose 2025-01-15. New lesions on 2025-03-07 = day 52: PD, PFS event 52; OS censored
      at last contact 2025-07-01 = day 168.
  S3  first dose 2025-02-01, died 2025-02-20 = day 20, no assessment: NE; PFS and OS events 20.
  S4  first dose 2025-01-10. SD on day 57: best SD, PFS censored 57. OS: known alive on the
      recorded last contact 2025-03-10 (day 60), the last dose's start 2025-01-10 (day 1) and
      the last assessment 2025-03-07 (day 57): censored on day 60. The dose's end, read as
      ongoing to the cut (2025-07-01, day 173), is no evidence and is not used.
  S5  first dose 2025-05-01. The date 2025-06-20 (50 days on) reads PR (worst adequate of NE and
      PR); unconfirmed, it counts as SD (50 >= 42); PFS censored day 51; OS censored at last
      contact 2025-07-01 = day 62.
  S6  first dose 2025-05-05. SD on 2025-06-20 = day 47 (46 days on): best SD, PFS censored 47.
      OS: no last contact recorded; known alive on the last dose's start (day 1) and the
      assessment (day 47): censored on day 47. The open record's end is the cut (day 58), which
      was the censoring date when dose end dates counted as known alive.

Before the readings, "stable" and "Progressive disease" were NE (S1: NE, PFS censored on day 1)
and "Yes" was no new lesions (S2: SD, PFS censored day 52). Best response: SD 4 (S1, S4, S5, S6),
PD 1 (S2), NE 1 (S3), N = 6; ORR 0/6, DCR 4/6 = 66.7%.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from flows.stages import ingest
from reports.sections.efficacy import efficacy_context
from safetydb.efficacy import derive_analysis_subjects, derive_efficacy_subjects, efficacy_tables
from safetydb.models import build_cut_models
from safetydb.store import SafetyStore
from tests.conftest import make_mini_trial
from trial.config import Efficacy, load_trial_config

CUT = date(2025, 7, 1)
ASSESSMENTS = """\
subject_id,visit,assessment_date,overall_response,new_lesions,method
S1,Week 6,2025-02-21,stable,N,CT
S1,Week 8,2025-03-07,Progressive disease,N,CT
S2,Week 8,2025-03-07,SD,Yes,CT
S4,Week 8,2025-03-07,SD,N,CT
S5,Week 8,2025-06-20,NE,N,CT
S5,Week 8,2025-06-20,PR,N,CT
S6,Week 6,2025-06-20,SD,N,CT
S9,Week 8,2025-03-07,PR,N,CT
S5,Screening,2025-04-10,SD,,CT
"""


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    config_path = make_mini_trial(tmp_path_factory.mktemp("efficacy-readings") / "mini")
    folder = config_path.parent
    (folder / "tumour_assessments.csv").write_text(ASSESSMENTS)
    with (folder / "exposure.csv").open("a") as exposure:
        exposure.write("S4,apatinib,2025-01-10,,250,250,PO,QD,none,\nS6,apatinib,2025-05-05,,250,250,PO,QD,none,\n")
    subjects = folder / "subjects.csv"
    contacts = {"S4": "2025-03-10", "S6": ""}
    lines = []
    for line in subjects.read_text().splitlines():
        fields = line.split(",")
        if fields[0] in contacts:
            fields[10] = contacts[fields[0]]  # last_contact_date
        lines.append(",".join(fields))
    assert lines[0].split(",")[10] == "last_contact_date"
    subjects.write_text("\n".join(lines) + "\n")
    loaded = ingest(config_path, cut_date=CUT, run_date=CUT)
    config = load_trial_config(config_path)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, config, loaded.cut_id, CUT)
        dosing = store.model("int_subject_dosing")
        tables = efficacy_tables(store, Efficacy())
    return {"loaded": loaded, "config": config, "dosing": dosing, "tables": tables, "folder": folder}


def by_subject(frame: pl.DataFrame, *columns: str) -> dict:
    return {row[0]: row[1:] if len(row) > 2 else row[1] for row in frame.select("subject_id", *columns).iter_rows()}


def test_the_load_accounts_for_every_assessment(cut):
    assert cut["loaded"].accounting["tumour_assessments"] == {"rows_in": 9, "clean": 2, "counted_with_queries": 5, "excluded": 2}


def test_a_progression_written_out_is_a_progression(cut):
    subjects = cut["tables"]["efficacy_subjects"]
    assert by_subject(subjects, "best_response") == {"S1": "SD", "S2": "PD", "S3": "NE", "S4": "SD", "S5": "SD", "S6": "SD"}
    assert by_subject(subjects, "first_progression_date") == {
        "S1": date(2025, 3, 7), "S2": date(2025, 3, 7), "S3": None, "S4": None, "S5": None, "S6": None,
    }
    assert by_subject(subjects, "pfs_days", "pfs_event") == {
        "S1": (57, True), "S2": (52, True), "S3": (20, True), "S4": (57, False), "S5": (51, False), "S6": (47, False),
    }
    best = {row["category"]: (row["subjects"], row["denominator"], row["percent"]) for row in cut["tables"]["t_best_response"].iter_rows(named=True)}
    assert best["SD"] == (4, 6, 66.7) and best["PD"] == (1, 6, 16.7) and best["NE"] == (1, 6, 16.7)
    assert best["ORR"] == (0, 6, 0.0) and best["DCR"] == (4, 6, 66.7)


def test_os_is_censored_on_recorded_dates_not_on_a_dose_end_read_as_ongoing(cut):
    dosing = {row["subject_id"]: row for row in cut["dosing"].iter_rows(named=True)}
    assert (dosing["S4"]["last_dose_start_date"], dosing["S4"]["last_contact_date"]) == (date(2025, 1, 10), date(2025, 3, 10))
    assert (dosing["S6"]["last_dose_start_date"], dosing["S6"]["last_contact_date"]) == (date(2025, 5, 5), None)
    assert dosing["S1"]["last_dose_start_date"] == date(2025, 1, 24)  # the later of its records' starts
    os_ = by_subject(cut["tables"]["efficacy_subjects"], "os_days", "os_event")
    assert os_ == {"S1": (173, False), "S2": (168, False), "S3": (20, True), "S4": (60, False), "S5": (62, False), "S6": (47, False)}


def test_without_a_last_contact_os_is_censored_at_the_last_dose_start_or_assessment():
    """Hand-made: origin 2025-01-01; no last contact recorded; dose records starting on d0 and d28,
    the last one's end read as ongoing to the cut (d180); one assessment SD on d20. Known alive:
    d28 (the last dose's start) -> censored on day 29, not day 181. A subject with no dose start,
    no contact and no assessment is censored on day 1."""
    origin = date(2025, 1, 1)

    def d(days: int) -> date:
        return origin + timedelta(days=days)

    dosing = pl.DataFrame(
        {
            "subject_id": ["A", "B"], "enrolment_date": [d(-7), d(-7)], "first_dose_date": [origin, origin],
            "last_dose_date": [d(180), d(180)], "last_dose_start_date": [d(28), None], "treated": [True, True],
            "death_date": [None, None], "last_contact_date": [None, None],
        },
        schema_overrides={"death_date": pl.Date, "last_contact_date": pl.Date, "last_dose_start_date": pl.Date},
    )
    assessments = pl.DataFrame(
        {"subject_id": ["A"], "assessment_date": [d(20)], "overall_response": ["SD"], "new_lesions": ["N"]}
    )
    subjects = derive_efficacy_subjects(assessments, derive_analysis_subjects(dosing))
    assert by_subject(subjects, "os_days", "os_event") == {"A": (29, False), "B": (1, False)}


def test_the_notes_say_how_many_assessments_could_not_be_placed(cut):
    """The load excluded 2 assessments (S9, and S5's screening scan): every efficacy table's note
    says so; without a count (the default) the notes say nothing of it."""
    excluded = cut["loaded"].accounting["tumour_assessments"]["excluded"]
    context = efficacy_context(cut["tables"], cut["folder"] / "no-tables", cut["config"], cut_date="2025-07-01", excluded_assessments=excluded)
    sentence = (
        "2 tumour assessment records could not be placed (unknown subject, no usable date, before enrolment, "
        "or a line that is not a record) and are not counted; see queries.csv."
    )
    notes = {table.key: table.note for table in context["tables"]}
    assert set(notes) == {"t_best_response", "t_survival", "efficacy_subjects"}
    assert all(sentence in note for note in notes.values())
    assert "the start of the last dose" in notes["t_survival"] and "a dose's end date is not used" in notes["t_survival"]
    one = efficacy_context(cut["tables"], cut["folder"] / "no-tables", cut["config"], cut_date="2025-07-01", excluded_assessments=1)
    assert "1 tumour assessment record could not be placed" in one["tables"][0].note and "and is not counted" in one["tables"][0].note
    default = efficacy_context(cut["tables"], cut["folder"] / "no-tables", cut["config"], cut_date="2025-07-01")
    assert not any("could not be placed" in table.note for table in default["tables"])
