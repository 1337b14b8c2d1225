"""Study status and exposure when a source has a doubtful record: deaths known only from a grade 5
AE or an end-of-treatment reason, an end-of-treatment reason without a date, and exposure records
without an end date.

Mini trial (tests/data/mini; see tests/safetydb/test_tables.py), TEAE window last dose + 30 days.
Enrolled 01-01: S1, S2 (site 01), S3, S4 (site 02); enrolled 04-20: S5, S6 (site 01). Treated: S1
(first dose 01-10), S2 (01-15), S3 (02-01), S5 (05-01); S4 and S6 never dosed. Every subject's
last contact is 07-01, except S3 (02-20, the day S3 died).

**Deaths and end of treatment** (``deaths``, cut 2025-07-01), the mini trial with:
- S1: AE2 (hypertensive crisis, onset 05-01, apatinib definite) recorded grade 5, outcome fatal,
  no resolution; the subjects file records no death and no end of treatment;
- S2: end of treatment 03-15 for the reason "death"; no death recorded;
- S3: end of treatment 02-19 (reason death); death 02-20 (adverse_event), AE6 grade 5; last dose
  02-18 (apatinib 02-01 to 02-18, anti-PD-1 02-01);
- S5: end-of-treatment reason "progression" with no date.

Worked by hand:
- died: S1 (grade 5 AE), S2 (reason death), S3 (recorded) = 3 of the 4 treated; S1 and S2 have no
  death date: deaths of unknown date. Before the fix only S3 counted, and S1 and S5 were "on
  treatment at the cut".
- on treatment 0: S1 and S2 died, S3 died, S5 ended treatment (date unknown).
- ended treatment 4: "progression, date unknown" S5 (reason order of progression, so first),
  "death" S2 and S3, "died, no end of treatment recorded" S1.
- died on treatment 0; after the end of treatment 1 (S3: 02-20 > 02-19); date unknown 2 (S1, S2).
  Within 30 days of the last dose 1 (S3: 02-20 <= 02-18 + 30 = 03-20), more than 30 days after it
  0: S3 died after the end of treatment yet within 30 days of the last dose, the two definitions
  disagree on purpose. Alive in follow-up after treatment 1 (S5).
- enrolled 6, treated 4, never dosed 2 (S4, S6); died never dosed 0; enrolment date unknown 0.
- by site: 01 (S1, S2, S5, S6) enrolled 4, treated 3, on treatment 0, ended 3, died 2 (S1, S2);
  02 (S3, S4) 2, 1, 0, 1, 1; all sites 6, 4, 0, 4, 3.
- deaths listing, by date then subject (undated last): S3 (02-20, adverse_event, study day
  02-20 - 02-01 + 1 = 20, within 30 days, Pharyngeal hemorrhage, related); S1 (no date or cause,
  Hypertension, related: AE2 is definite for apatinib); S2 (no date, cause or grade 5 AE: "not
  assessed (no grade 5 AE)").
- swimmer: death marks S3 on day 20, S1 and S2 with no day; no "on treatment at the cut" arrow;
  AE2 is a grade 5 mark on S1's day 05-01 - 01-10 + 1 = 112, unresolved.
- reconciliation: fatal_ae_without_death for AE2 (S1); death_reason_without_death_date for S2
  (reason "death" on 2025-03-15); none for S3 (its death is recorded).

The same sources at cut 2025-03-01: S5 and S6 are not yet enrolled (4 enrolled, 3 treated);
S2's end of treatment (03-15, "death") is after the cut, so its reason is dropped with its date
and S2 is alive and on treatment; AE2 (onset 05-01) is not yet known, so S1 is alive and on
treatment: on treatment 2, ended 1 (S3, death), died 1 (S3); no death_reason_without_death_date.

**A death dated after the cut** (``early``: the mini trial unchanged, cut 2025-02-19): AE6 (grade
5, onset 02-18) is known, but the subjects file dates S3's death 02-20, after the cut: S3 was
alive at the cut. Treated S1, S2, S3, all on treatment; died 0; no death listed; no
fatal_ae_without_death query (the death is recorded, only later).

**Exposure without an end date** (``exposure``, cut 2025-07-01), the mini trial with the end date
emptied on S1's apatinib 01-10 record (its only one), S2's apatinib 01-15 and 02-14 records,
S3's apatinib 02-01 record (its only one) and S5's apatinib 05-01 record (its only one); S5's last
contact 06-20; and a new AE15 (S2, nausea, grade 1, onset 04-10, not serious).

Worked by hand (end: what the store makes of each record; before the fix an open record ran to
the cut, 07-01):
- S2 01-15: the day before the agent's next record (02-11): 02-10, not recorded.
- S2 02-14 (the last): the earliest of end of treatment 03-15, last contact 07-01, cut: 03-15.
- S3 02-01: end of treatment, death and last contact all 02-20: 02-20.
- S5 05-01: no end of treatment or death; last contact 06-20, before the cut: 06-20.
- S1 01-10: no end of treatment or death; last contact 07-01 = the cut: 07-01.
- Every other record keeps its end and end_date_recorded true, S5's anti-PD-1 05-15 record too
  (its end, 05-14, before its start, is read as the start: recorded).
- S2's apatinib: 01-15..02-10 at 250 mg (27 days: 6750 mg), held 02-11..02-13 (0 mg),
  02-14..03-15 at 125 mg (15 + 15 = 30 days: 3750 mg): cumulative 10500 mg over 01-15..03-15
  (17 + 28 + 15 = 60 days), planned 250 x 60 = 15000 mg, RDI 70.0% (before: to 07-01, 24000 mg
  of 42000 over 168 days, 57.1%).
- days on apatinib (first to last dose, both ends): S1 01-10..07-01 = 22 + 28 + 31 + 30 + 31 +
  30 + 1 = 173, S2 60, S3 02-01..02-20 = 20, S5 05-01..06-20 = 31 + 20 = 51; median (51 + 60) / 2
  = 55.5.
- S2's last dose 03-15, so the TEAE window ends 04-14: AE15 (04-10, after the end of treatment)
  is treatment-emergent; AE5 (04-30) is not (before: last dose 07-01, so it was).
- serious TEAE, time at risk (days from the first dose, both ends): S1 to AE2's onset 05-01 =
  112; S3 to AE7's onset 02-05 = 5; S2 (no serious TEAE) to the end of its window 04-14 = 17 + 28
  + 31 + 14 = 90 (before: to its last contact 07-01, 168); S5 (none) to its last contact 06-20
  (window end 06-20 + 30 = 07-20 is later) = 51. Total 112 + 5 + 90 + 51 = 258 subject-days
  (before: 336); 2 subjects with the event.
- swimmer: S2's apatinib bar from day 1 to day 60 (before: 168).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows.stages import ingest
from safetydb.models import build_cut_models
from safetydb.store import SafetyStore
from tests.conftest import make_mini_trial
from trial.config import load_trial_config

MODELS = (
    "stg_exposure", "int_subject_status", "int_adverse_events", "int_agent_exposure", "int_eair", "t_disposition",
    "t_enrolment_by_site", "t_deaths", "t_swimmer", "t_exposure", "q_fatal_ae_without_death",
    "q_death_reason_without_death_date",
)


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of a mini-trial CSV (it must be there exactly once)."""
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def models_at(config_path: Path, cut: date) -> dict[str, pl.DataFrame]:
    loaded = ingest(config_path, cut_date=cut)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, load_trial_config(config_path), loaded.cut_id, cut)
        return {name: store.model(name) for name in MODELS}


@pytest.fixture(scope="module")
def deaths_trial(tmp_path_factory) -> Path:
    config = make_mini_trial(tmp_path_factory.mktemp("deaths"))
    folder = config.parent
    edit(folder / "adverse_events.csv",
         "AE2,S1,hypertensive crisis,Hypertension,,3,2025-05-01,2025-05-10,Y,hospitalisation,recovered,",
         "AE2,S1,hypertensive crisis,Hypertension,,5,2025-05-01,,Y,death,fatal,")
    edit(folder / "subjects.csv", ",2025-03-15,toxicity,2025-07-01,,", ",2025-03-15,death,2025-07-01,,")
    edit(folder / "subjects.csv", ",2025-02-20,death,2025-02-20,2025-02-20,adverse_event", ",2025-02-19,death,2025-02-20,2025-02-20,adverse_event")
    edit(folder / "subjects.csv", "S5,01,Apatinib + anti-PD-1,F,58,2025-04-20,locoregional,N,,,2025-07-01,,",
         "S5,01,Apatinib + anti-PD-1,F,58,2025-04-20,locoregional,N,,progression,2025-07-01,,")
    return config


@pytest.fixture(scope="module")
def deaths(deaths_trial) -> dict[str, pl.DataFrame]:
    return models_at(deaths_trial, date(2025, 7, 1))


def by(frame: pl.DataFrame, key: str, *columns: str) -> dict:
    return {row[0]: row[1:] for row in frame.select(key, *columns).iter_rows()}


def test_a_grade_5_ae_or_the_reason_death_makes_a_death_of_unknown_date(deaths):
    status = by(deaths["int_subject_status"].filter(pl.col("treated")), "subject_id",
                "died", "death_recorded", "death_timing", "on_treatment", "ended_treatment", "end_of_treatment_reason", "end_of_treatment_date_unknown")
    assert status == {
        "S1": (True, False, "date unknown", False, True, "died, no end of treatment recorded", False),
        "S2": (True, False, "date unknown", False, True, "death", False),
        "S3": (True, True, "after the end of treatment", False, True, "death", False),
        "S5": (False, False, None, False, True, "progression", True),
    }


def test_disposition_with_doubtful_records(deaths):
    table = deaths["t_disposition"].sort("ord")
    assert [(c, n, d) for c, n, d in table.select("category", "subjects", "denominator").iter_rows()] == [
        ("Enrolled", 6, 6),
        ("Treated (safety population: at least one dose)", 4, 6),
        ("Never dosed", 2, 6),
        ("On treatment at the cut", 0, 4),
        ("Ended treatment", 4, 4),
        ("Ended treatment: progression, date unknown", 1, 4),
        ("Ended treatment: death", 2, 4),
        ("Ended treatment: died, no end of treatment recorded", 1, 4),
        ("Died", 3, 4),
        ("Died on treatment", 0, 4),
        ("Died after the end of treatment", 1, 4),
        ("Died, date unknown", 2, 4),
        ("Died within 30 days of the last dose", 1, 4),
        ("Died more than 30 days after the last dose", 0, 4),
        ("Alive, in follow-up after treatment", 1, 4),
        ("Died, never dosed", 0, 6),
        ("Enrolment date unknown (in no month of the enrolment table)", 0, 6),
    ]
    assert table["ord"].to_list() == list(range(1, 18))


def test_enrolment_by_site_counts_the_same_deaths(deaths):
    table = deaths["t_enrolment_by_site"]
    assert by(table, "site_id", "enrolled", "treated", "on_treatment", "ended_treatment", "died") == {
        "01": (4, 3, 0, 3, 2),
        "02": (2, 1, 0, 1, 1),
        "(all sites)": (6, 4, 0, 4, 3),
    }


def test_deaths_listing_has_every_death(deaths):
    table = deaths["t_deaths"]
    assert table.select("subject_id", "death_date", "death_cause", "study_day", "within_30_days_of_last_dose", "fatal_events", "treatment_related").rows() == [
        ("S3", date(2025, 2, 20), "adverse_event", 20, True, "Pharyngeal hemorrhage", "related"),
        ("S1", None, None, None, None, "Hypertension", "related"),
        ("S2", None, None, None, None, None, "not assessed (no grade 5 AE)"),
    ]


def test_swimmer_draws_no_arrow_and_undated_deaths_off_the_axis(deaths):
    swimmer = deaths["t_swimmer"]
    death = swimmer.filter(pl.col("kind") == "death").sort("subject_id")
    assert death.select("subject_id", "start_day", "reason").rows() == [("S1", None, None), ("S2", None, None), ("S3", 20, "adverse_event")]
    assert swimmer.filter(pl.col("kind") == "on_treatment_at_cut").height == 0
    fatal = swimmer.filter(pl.col("ae_id") == "AE2").row(0, named=True)
    assert (fatal["kind"], fatal["grade"], fatal["start_day"], fatal["end_day"]) == ("grade_3_plus", 5, 112, None)


def test_missing_death_records_are_queried(deaths):
    assert deaths["q_fatal_ae_without_death"].select("record_key", "subject_id").rows() == [("AE2", "S1")]
    reason = deaths["q_death_reason_without_death_date"]
    assert reason.select("record_key", "field", "value", "check").rows() == [("S2", "end_of_treatment_reason", "death", "death_reason_without_death_date")]
    assert "on 2025-03-15" in reason["problem"].item() and "death of unknown date" in reason["problem"].item()


def test_an_end_of_treatment_after_an_earlier_cut_is_dropped_with_its_reason(deaths_trial, deaths):
    early = models_at(deaths_trial, date(2025, 3, 1))
    status = by(early["int_subject_status"].filter(pl.col("treated")), "subject_id", "died", "on_treatment", "end_of_treatment_reason")
    assert status == {"S1": (False, True, None), "S2": (False, True, None), "S3": (True, False, "death")}
    table = by(early["t_disposition"], "category", "subjects", "denominator")
    assert table["Enrolled"] == (4, 4) and table["Treated (safety population: at least one dose)"] == (3, 4)
    assert (table["On treatment at the cut"], table["Ended treatment"], table["Died"]) == ((2, 3), (1, 3), (1, 3))
    assert early["q_death_reason_without_death_date"].height == 0


@pytest.mark.slow  # its own load of the mini trial: about 1 s
def test_a_death_dated_after_the_cut_is_not_a_death_at_it(tmp_path):
    early = models_at(make_mini_trial(tmp_path / "early"), date(2025, 2, 19))
    status = by(early["int_subject_status"].filter(pl.col("treated")), "subject_id", "died", "on_treatment")
    assert status == {"S1": (False, True), "S2": (False, True), "S3": (False, True)}
    assert early["int_adverse_events"].filter(pl.col("ae_id") == "AE6")["grade"].item() == 5  # known at the cut
    assert early["t_deaths"].height == 0
    assert early["q_fatal_ae_without_death"].height == 0


@pytest.fixture(scope="module")
def exposure(tmp_path_factory) -> dict[str, pl.DataFrame]:
    config = make_mini_trial(tmp_path_factory.mktemp("open-ended"))
    folder = config.parent
    for old, new in (
        ("S1,apatinib,2025-01-10,2025-06-30,", "S1,apatinib,2025-01-10,,"),
        ("S2,apatinib,2025-01-15,2025-02-10,", "S2,apatinib,2025-01-15,,"),
        ("S2,apatinib,2025-02-14,2025-03-15,", "S2,apatinib,2025-02-14,,"),
        ("S3,apatinib,2025-02-01,2025-02-18,", "S3,apatinib,2025-02-01,,"),
        ("S5,apatinib,2025-05-01,2025-06-30,", "S5,apatinib,2025-05-01,,"),
    ):
        edit(folder / "exposure.csv", old, new)
    edit(folder / "subjects.csv", "S5,01,Apatinib + anti-PD-1,F,58,2025-04-20,locoregional,N,,,2025-07-01,,",
         "S5,01,Apatinib + anti-PD-1,F,58,2025-04-20,locoregional,N,,,2025-06-20,,")
    events = folder / "adverse_events.csv"
    events.write_text(events.read_text() + "AE15,S2,nausea,Nausea,,1,2025-04-10,2025-04-12,N,,recovered,possible,unlikely,dose_not_changed,dose_not_changed,\n")
    return models_at(config, date(2025, 7, 1))


def test_an_open_exposure_record_ends_at_the_end_of_treatment_death_or_last_contact(exposure):
    records = exposure["stg_exposure"].filter(pl.col("agent") == "apatinib")
    ends = {(s, start): (end, recorded) for s, start, end, recorded in records.select("subject_id", "start_date", "end_date", "end_date_recorded").iter_rows()}
    assert ends == {
        ("S1", date(2025, 1, 10)): (date(2025, 7, 1), False),
        ("S2", date(2025, 1, 15)): (date(2025, 2, 10), False),  # filled from the next record
        ("S2", date(2025, 2, 11)): (date(2025, 2, 13), True),
        ("S2", date(2025, 2, 14)): (date(2025, 3, 15), False),
        ("S3", date(2025, 2, 1)): (date(2025, 2, 20), False),
        ("S5", date(2025, 5, 1)): (date(2025, 6, 20), False),
    }
    anti_pd1 = exposure["stg_exposure"].filter(pl.col("agent") == "anti_pd1")
    assert anti_pd1["end_date_recorded"].all()  # S5's 05-15 record too: an end before the start is recorded
    assert anti_pd1.filter((pl.col("subject_id") == "S5") & (pl.col("start_date") == date(2025, 5, 15)))["end_date"].item() == date(2025, 5, 15)


def test_dose_intensity_and_days_on_treatment_stop_at_the_end_of_treatment(exposure):
    s2 = exposure["int_agent_exposure"].filter((pl.col("subject_id") == "S2") & (pl.col("agent") == "apatinib")).row(0, named=True)
    assert (s2["last_dose_date"], s2["treatment_days"], s2["cumulative_dose_mg"], s2["planned_cumulative_dose_mg"]) == (date(2025, 3, 15), 60, 10500, 15000)
    assert s2["rdi_percent"] == pytest.approx(70.0)
    days = by(exposure["int_agent_exposure"].filter(pl.col("agent") == "apatinib"), "subject_id", "treatment_days")
    assert days == {"S1": (173,), "S2": (60,), "S3": (20,), "S5": (51,)}
    assert exposure["t_exposure"].filter(pl.col("agent") == "apatinib")["median_days_on_treatment"].item() == 55.5


def test_an_ae_after_the_end_of_treatment_within_the_window_stays_treatment_emergent(exposure):
    teae = by(exposure["int_adverse_events"].filter(pl.col("subject_id") == "S2"), "ae_id", "teae")
    assert teae["AE15"] == (True,)  # 04-10 <= 03-15 + 30
    assert teae["AE5"] == (False,)  # 04-30 > 04-14


def test_time_at_risk_ends_with_the_treatment(exposure):
    serious = exposure["int_eair"].filter(pl.col("category") == "serious").row(0, named=True)
    assert (serious["subjects_with_event"], serious["subjects"], serious["subject_days"]) == (2, 4, 258)


def test_swimmer_bar_of_an_open_record(exposure):
    bar = exposure["t_swimmer"].filter((pl.col("subject_id") == "S2") & (pl.col("kind") == "on_agent") & (pl.col("agent") == "apatinib"))
    assert bar.select("start_day", "end_day").rows() == [(1, 60)]
