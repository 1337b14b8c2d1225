"""Safety counts that lose no event: hand-made trials run end to end, numbers worked out by hand.

Subjects, dosing and config are the mini trial's (tests/data/mini, bundled trial config):
treated S1 (first dose 2025-01-10), S2 (01-15), S3 (02-01, died 02-20 of an adverse event),
S5 (05-01); N = 4. Cycle 1 = study days 1-28. The cut is the last date in the data, 2025-07-01.
"""

import json
from pathlib import Path

import polars as pl
import pytest
from scipy import stats

from flows.stages import analyse, ingest
from safetydb.export import read_tables
from tests.conftest import make_mini_trial

HEADER = (
    "ae_id,subject_id,verbatim_term,ctcae_term,other_specify,grade,onset_date,resolution_date,serious,"
    "serious_criteria,outcome,attribution_apatinib,attribution_anti_pd1,action_apatinib,action_anti_pd1,awareness_date\n"
)

# Trial A: the review's findings, each doubtful record counted the conservative way.
TRIAL_A = HEADER + "\n".join(
    [
        # clean: S1 grade 2 hypertension, study day 11
        "AE1,S1,high bp,Hypertension,,2,2025-01-20,2025-02-20,N,,recovered,probable,unlikely,dose_not_changed,dose_not_changed,",
        # attribution "related" is not on the scale: related to apatinib, shown as not assessed (S2 day 11)
        "AE2,S2,hypertension,Hypertension,,3,2025-01-25,2025-02-05,N,,recovered,related,unlikely,dose_reduced,dose_not_changed,",
        # grade 4 with outcome fatal: counted the worse way, grade 5 (a death); S3 day 10, possible
        "AE3,S3,nose bleed,Epistaxis,,4,2025-02-10,,Y,hospitalisation,fatal,possible,unlikely,drug_withdrawn,drug_withdrawn,2025-02-11",
        # catch-all term with no specified text: counted under the catch-all term (S1 day 23)
        'AE4,S1,necrosis,"Respiratory, thoracic and mediastinal disorders - Other, specify",,3,2025-02-01,,N,,not_recovered,unrelated,unrelated,dose_not_changed,dose_not_changed,',
        # no usable onset date: excluded
        "AE5,S5,tired,Fatigue,,1,2025-13-01,,N,,recovered,unlikely,unlikely,dose_not_changed,dose_not_changed,",
        # unknown subject: excluded
        "AE6,S9,tired,Fatigue,,2,2025-03-01,,N,,recovered,unlikely,unlikely,dose_not_changed,dose_not_changed,",
        # serious, no awareness date: counted; its clock is not computable (S2 day 37)
        "AE7,S2,pneumonitis,Pneumonitis,,3,2025-02-20,,Y,hospitalisation,recovering,unlikely,probable,dose_not_changed,drug_interrupted,",
    ]
) + "\n"

# Trial B: no stopping rule near its boundary, but an overdue SUSAR report; a death with no
# fatal AE; dose changes that the AE actions do not record.
TRIAL_B = HEADER + "\n".join(
    [
        "AE1,S1,high bp,Hypertension,,2,2025-01-20,2025-02-20,N,,recovered,probable,unlikely,dose_not_changed,dose_not_changed,",
        "AE7,S2,pneumonitis,Pneumonitis,,3,2025-02-20,,Y,hospitalisation,recovering,unlikely,probable,dose_not_changed,dose_not_changed,",
        # Nausea is in no agent's RSI: a SUSAR for anti-PD-1, 15-day clock from 03-01 -> due 03-16, overdue at the cut
        "AE8,S1,nausea,Nausea,,3,2025-03-01,2025-03-10,Y,hospitalisation,recovered,unlikely,probable,dose_not_changed,drug_interrupted,2025-03-01",
    ]
) + "\n"


def run(tmp_path: Path, adverse_events: str) -> tuple[dict, dict, pl.DataFrame, dict]:
    config = make_mini_trial(tmp_path)
    (config.parent / "adverse_events.csv").write_text(adverse_events)
    return run_folder(config)


def run_folder(config: Path) -> tuple[dict, dict, pl.DataFrame, dict]:
    loaded = ingest(config)
    analyse(loaded)
    out = Path(loaded.out_dir)
    flags = json.loads((out / "flags.json").read_text())
    queries = pl.read_csv(out / "queries.csv", infer_schema=False)
    return flags, read_tables(out / "tables"), queries, loaded.accounting


@pytest.fixture(scope="module")
def trial_a(tmp_path_factory):
    return run(tmp_path_factory.mktemp("a"), TRIAL_A)


@pytest.fixture(scope="module")
def trial_b(tmp_path_factory):
    return run(tmp_path_factory.mktemp("b"), TRIAL_B)


def overview_row(tables: dict, category: str) -> dict:
    return tables["t_overview"].filter(pl.col("category") == category).row(0, named=True)


def rule(flags: dict, rule_id: str) -> dict:
    return next(r for r in flags["rules"] if r["rule_id"] == rule_id)


def test_row_accounting_counts_doubtful_records(trial_a):
    """7 AE rows = 1 clean (AE1) + 4 counted with queries (AE2, AE3, AE4, AE7) + 2 excluded (AE5, AE6)."""
    _, _, _, accounting = trial_a
    assert accounting["adverse_events"] == {"rows_in": 7, "clean": 1, "counted_with_queries": 4, "excluded": 2}


def test_overview_keeps_every_placeable_event(trial_a):
    """TEAEs: AE1, AE4 (S1), AE2, AE7 (S2), AE3 (S3): 5 events in 3 subjects. Grade >= 3: AE2,
    AE3 (counted 5), AE4, AE7: 4 events in 3 subjects. Related: AE1, AE2 (not assessed -> related),
    AE3, AE7: 4 events in 3 subjects. Fatal: AE3 only, related."""
    _, tables, _, _ = trial_a
    assert (overview_row(tables, "Any TEAE")["subjects"], overview_row(tables, "Any TEAE")["events"]) == (3, 5)
    assert (overview_row(tables, "Grade >= 3 TEAE")["subjects"], overview_row(tables, "Grade >= 3 TEAE")["events"]) == (3, 4)
    assert overview_row(tables, "Treatment-related TEAE")["events"] == 4
    assert overview_row(tables, "Fatal TEAE (grade 5)")["events"] == 1
    assert overview_row(tables, "Treatment-related fatal TEAE")["events"] == 1
    catch_all = tables["t_soc_term"].filter(pl.col("term") == "Respiratory, thoracic and mediastinal disorders - Other, specify")
    assert catch_all["worst_grade_3"].to_list() == [1]
    not_assessed = tables["t_attribution"].filter((pl.col("agent") == "apatinib") & (pl.col("term") == "(any)"))
    assert not_assessed["events_not_assessed"].to_list() == [1]  # AE2


def test_stopping_rules_count_the_doubtful_events(trial_a):
    """related_death: AE3 (grade 4 recorded, outcome fatal -> grade 5, possible for apatinib) -> 1
    event, STOP. severe_trae_rate (cycle 1, grade >= 3, related): AE2 (S2 day 11, not assessed)
    and AE3 (S3 day 10) -> x = 2; evaluable: S1, S2, S5 completed 28 days, S3 had the event -> n = 4."""
    flags, _, _, _ = trial_a
    assert (rule(flags, "related_death")["events"], rule(flags, "related_death")["status"]) == (1, "STOP")
    trae = rule(flags, "severe_trae_rate")
    assert (trae["evaluable"], trae["events"]) == (4, 2)
    assert flags["stopping"]["status"] == "STOP"


def test_excluded_records_are_shown_with_their_worst_case(trial_a):
    """2 AEs excluded: AE5 (S5, no onset) and AE6 (S9, unknown). Worst way:
    severe_hemorrhage (event count, stops at 2): 1 + 2 = 3 events -> STOP instead of WARN.
    related_death: 1 + 2 = 3 -> STOP, no change.
    severe_trae_rate: S5 is evaluable without the event -> x + 1; S9 is new -> n + 1, x + 1:
    n = 5, x = 4. Pr(p > 0.35 | Beta(0.7 + 4, 1.3 + 1)) computed independently with scipy."""
    flags, _, _, _ = trial_a
    excluded = flags["excluded_records"]
    assert excluded["adverse_events"] == 2
    hemorrhage = rule(flags, "severe_hemorrhage")
    assert hemorrhage["status"] == "WARN"
    assert hemorrhage["if_excluded_counted"] == {"evaluable": 4, "events": 3, "status": "STOP", "changes_status": True}
    assert rule(flags, "related_death")["if_excluded_counted"]["changes_status"] is False
    trae = rule(flags, "severe_trae_rate")["if_excluded_counted"]
    assert (trae["evaluable"], trae["events"]) == (5, 4)
    posterior = stats.beta.sf(0.35, 0.7 + 4, 1.3 + 1)  # 0.961 > threshold 0.9
    assert posterior > 0.9 and trae["status"] == "STOP" and trae["changes_status"] is True
    # As counted (x = 2, n = 4): Pr = 0.676; one more event (3 of 5) gives 0.828, still <= 0.9: OK.
    assert rule(flags, "severe_trae_rate")["status"] == "OK"
    assert "severe_hemorrhage" in excluded["rules_changed_if_counted"]
    assert "severe_hemorrhage" in excluded["statement"]


def test_queries_say_the_conservative_reading(trial_a):
    _, _, queries, _ = trial_a
    validation = queries.filter((pl.col("check") != "parse") & (pl.col("file") == "adverse_events.csv"))
    reading = dict(validation.select("record_key", "reading").iter_rows())
    assert reading["AE2"] == "counted as related to that agent, shown as not assessed"
    assert reading["AE3"].startswith("counted the worse way: grade 5")
    assert reading["AE4"] == 'counted under its "Other, specify" term'
    assert reading["AE6"].startswith("excluded from safety counts")
    assert queries.filter(pl.col("record_key") == "AE5")["effect"].to_list() == ["excluded"]


def test_missing_awareness_date_is_listed_not_overdue(trial_a):
    """AE7 is serious and probable for anti-PD-1; Pneumonitis is in anti-PD-1's RSI (grade 3 <=
    the default expected maximum 3): not a SUSAR. AE3 (grade 5, Epistaxis listed for apatinib up
    to grade 4): a SUSAR, 7-day clock from 02-11 -> due 02-18, overdue at the cut."""
    flags, _, _, _ = trial_a
    assert flags["reporting"]["status"] == "OVERDUE"
    assert [f["ae_id"] for f in flags["expedited"]] == ["AE3"]


def test_an_overdue_report_does_not_stop_the_trial(trial_b):
    """Trial B: no qualifying event for any rule (AE7 and AE8 are grade 3 but past cycle 1 and
    not hemorrhages) -> stopping OK. AE8 (Nausea, in no RSI, probable for anti-PD-1, aware 03-01,
    15-day clock) is overdue at 2025-07-01 -> reporting OVERDUE, on its own headline."""
    flags, _, _, _ = trial_b
    assert flags["stopping"]["status"] == "OK"
    assert flags["reporting"]["status"] == "OVERDUE"
    assert flags["reporting"]["overdue"] == 1


def test_deaths_and_dose_changes_are_reconciled(trial_b):
    """S3 died of an adverse event (subjects.csv) but trial B has no grade 5 AE for S3 ->
    death_without_fatal_ae. The deaths listing says relatedness was not assessed.
    Exposure: S2's apatinib hold (02-11) and reduction (02-14) for PPE have no AE whose action
    records them -> 2 exposure_change_without_ae_action. AE8 interrupted anti-PD-1 for S1 and no
    anti-PD-1 exposure record is held around it -> 1 ae_action_without_exposure_change."""
    _, tables, queries, _ = trial_b
    by_check = dict(queries.group_by("check").len().iter_rows())
    assert by_check["death_without_fatal_ae"] == 1
    assert by_check["exposure_change_without_ae_action"] == 2
    assert by_check["ae_action_without_exposure_change"] == 1
    assert queries.filter(pl.col("check") == "death_without_fatal_ae")["record_key"].to_list() == ["S3"]
    deaths = tables["t_deaths"]
    assert deaths.filter(pl.col("subject_id") == "S3")["treatment_related"].to_list() == ["not assessed (no grade 5 AE)"]


def test_a_fatal_ae_and_a_death_of_another_cause_are_reconciled(tmp_path):
    """Mini trial with S3's death recorded as disease progression: AE6 (grade 5 pharyngeal
    hemorrhage, onset 02-18, death 02-20) is still counted as fatal, and one
    fatal_ae_other_death_cause query asks which record is right."""
    config = make_mini_trial(tmp_path / "cause")
    subjects = config.parent / "subjects.csv"
    subjects.write_text(subjects.read_text().replace("2025-02-20,2025-02-20,adverse_event", "2025-02-20,2025-02-20,disease_progression"))
    _, tables, queries, _ = run_folder(config)
    found = queries.filter(pl.col("check") == "fatal_ae_other_death_cause")
    assert found["record_key"].to_list() == ["AE6"]
    assert "recorded as disease_progression" in found["problem"][0]
    assert overview_row(tables, "Fatal TEAE (grade 5)")["events"] == 1


def test_the_report_says_when_a_status_rests_on_a_conservative_reading(tmp_path):
    """Trial A: the related-death rule stops on AE3, recorded grade 4 with outcome fatal and
    counted as grade 5; the report names AE3 as counted by a conservative reading."""
    from flows.stages import render

    config = make_mini_trial(tmp_path / "note")
    (config.parent / "adverse_events.csv").write_text(TRIAL_A)
    loaded = ingest(config)
    analyse(loaded)
    report = Path(render(loaded)[0]).read_text()
    death_rule = report[report.index('id="rule-related_death"'):report.index('id="rule-severe_hemorrhage"')]
    assert "1 event(s) counted by a conservative reading of a doubtful record (AE3" in death_rule
    assert "5 (reported 4)" in death_rule


def test_a_future_date_is_queried_and_never_moves_the_cut(tmp_path):
    """AE6 (S3's fatal, probable pharyngeal hemorrhage) typed with onset 2205-02-18 and
    resolution 2205-02-20: a date after the day of the run is no date. The onset is read as
    missing, so AE6 cannot be placed: excluded (with AE11 and AE14: 3 excluded), and the
    related-death rule, OK without it (x = 0), is shown to STOP if it were counted (x = 0 + 3).
    The resolution date is read as missing too (counted). The default cut stays 2025-07-01
    (last contact), not 2205. A cut before the first enrolment (2025-01-01) is refused."""
    from datetime import date

    from trial.errors import InputError

    config = make_mini_trial(tmp_path / "future")
    events = config.parent / "adverse_events.csv"
    events.write_text(events.read_text().replace("AE6,S3,nasopharyngeal bleeding,Pharyngeal hemorrhage,,5,2025-02-18,2025-02-20", "AE6,S3,nasopharyngeal bleeding,Pharyngeal hemorrhage,,5,2205-02-18,2205-02-20"))
    flags, _, queries, accounting = run_folder(config)
    assert flags["cut_date"] == "2025-07-01"
    future = queries.filter(pl.col("check") == "date_not_after_run").sort("field")
    assert future["field"].to_list() == ["onset_date", "resolution_date"]
    assert future["effect"].to_list() == ["excluded", "counted"]
    assert accounting["adverse_events"]["excluded"] == 3
    death = rule(flags, "related_death")
    assert (death["status"], death["events"]) == ("OK", 0)
    assert death["if_excluded_counted"] == {"evaluable": 4, "events": 3, "status": "STOP", "changes_status": True}
    assert "related_death" in flags["excluded_records"]["rules_changed_if_counted"]
    with pytest.raises(InputError) as caught:
        ingest(config, cut_date=date(2024, 12, 31))
    assert caught.value.field == "--cut" and "before the first enrolment (2025-01-01)" in caught.value.problem


def test_a_mistyped_agent_still_makes_the_subject_treated(tmp_path):
    """Every exposure row of S5 names "apatinb" or "anti-pd1" (typos): the doses still prove S5
    was treated, so S5 stays in the safety population (N = 4) and AE8 (S5, day 20) stays a TEAE:
    Any TEAE 4 subjects / 10 events as in the unchanged mini trial. Each row is queried."""
    config = make_mini_trial(tmp_path / "agent")
    exposure = config.parent / "exposure.csv"
    text = exposure.read_text().replace("S5,apatinib,", "S5,apatinb,").replace("S5,anti_pd1,", "S5,anti-pd1,")
    exposure.write_text(text)
    _, tables, queries, accounting = run_folder(config)
    assert overview_row(tables, "Any TEAE")["denominator"] == 4
    assert (overview_row(tables, "Any TEAE")["subjects"], overview_row(tables, "Any TEAE")["events"]) == (4, 10)
    assert queries.filter(pl.col("check") == "agent_known").height == 3
    assert accounting["exposure"]["excluded"] == 0


def test_an_empty_adverse_event_file_is_never_an_all_clear(tmp_path):
    """A header-only AE file with 4 treated subjects: 0 events is missing input, so every rule
    and the stopping headline say NOT EVALUABLE (ranked above WARN), never OK."""
    flags, _, _, accounting = run(tmp_path / "empty", HEADER)
    assert accounting["adverse_events"]["rows_in"] == 0
    assert [r["status"] for r in flags["rules"]] == ["NOT EVALUABLE"] * 3
    assert flags["stopping"]["status"] == "NOT EVALUABLE"
    assert "no record while 4 subjects are treated" in flags["stopping"]["statement"]


def test_a_death_cause_with_no_date_is_still_a_death(tmp_path):
    """S3's death_date left empty, death_cause adverse_event kept: S3 is counted among the
    deaths (of unknown date) and listed; AE6 (grade 5) carries it, so no death or fatal-AE
    reconciliation query fires, only the death_has_cause query."""
    config = make_mini_trial(tmp_path / "nodate")
    subjects = config.parent / "subjects.csv"
    subjects.write_text(subjects.read_text().replace("2025-02-20,2025-02-20,adverse_event", "2025-02-20,,adverse_event"))
    _, tables, queries, _ = run_folder(config)
    assert overview_row(tables, "Deaths (any cause)")["subjects"] == 1
    assert tables["t_deaths"]["subject_id"].to_list() == ["S3"]
    checks = set(queries["check"])
    assert "death_has_cause" in checks
    assert not {"death_without_fatal_ae", "fatal_ae_without_death"} & checks


def test_aes_of_a_subject_whose_every_dose_record_was_excluded_are_shown(tmp_path):
    """S3's two exposure rows start on 2025-02-31 (no date): both excluded, so S3 has no usable
    dose record and its AE6 (fatal, probable) and AE7 cannot be placed against treatment. They
    join AE11 and AE14 among the records not counted (4), and the related-death rule, OK without
    them (x = 0), is shown to STOP if they were counted (x = 0 + 4)."""
    config = make_mini_trial(tmp_path / "nodose")
    exposure = config.parent / "exposure.csv"
    exposure.write_text(exposure.read_text().replace("S3,apatinib,2025-02-01,", "S3,apatinib,2025-02-31,").replace("S3,anti_pd1,2025-02-01,", "S3,anti_pd1,2025-02-31,"))
    flags, _, _, accounting = run_folder(config)
    assert accounting["exposure"]["excluded"] == 2
    assert flags["excluded_records"]["adverse_events"] == 4
    death = rule(flags, "related_death")
    assert (death["status"], death["if_excluded_counted"]["status"], death["if_excluded_counted"]["changes_status"]) == ("OK", "STOP", True)
