"""The words of the two headlines and of the records-not-counted statement (signals/flags.py,
signals/expedited.py):

- Stopping headline "NO RULES" when the trial configures no stopping rule: no rule is no
  all-clear, so it never reads OK.
- Expedited reporting "INCOMPLETE" when no SUSAR report is overdue or due soon but a SUSAR clock
  cannot be computed (no awareness date): that report may be due or overdue, so the status cannot
  read UP TO DATE. OVERDUE and DUE SOON still come first.
- The statement on the AE records that could not be counted names their reasons, the most
  frequent first (ties in alphabetical order), each with its count of records; past three
  reasons, the number of further reasons.

The last test runs the mini trial (tests/data/mini) with its stopping rules taken out of the
config and AE6's awareness date emptied.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from signals.expedited import ClockRules, expedited_reports, reporting_compliance
from signals.flags import NO_RULES, WorstCase, exclusion_summary, stopping_status
from signals.rules import RuleResult
from tests.conftest import BUNDLED_CONFIG, make_mini_trial
from trial.config import Expedited

CUT = date(2025, 3, 20)


# --- 2. stopping headline -------------------------------------------------------------------------


def rule(rule_id: str, status: str) -> RuleResult:
    return RuleResult(
        rule_id=rule_id, title=rule_id, kind="event_count", status=status, evaluable=10, events=0, boundary=None,
        statement="", definition={},
    )


def test_no_stopping_rule_is_no_all_clear():
    assert NO_RULES == "NO RULES"
    assert stopping_status([]) == {"status": "NO RULES", "statement": "No stopping rules are configured."}


def test_rules_configured_keep_their_statuses():
    """One rule OK: OK. One OK and one STOP: STOP, the crossed rule named."""
    assert stopping_status([rule("a", "OK")])["status"] == "OK"
    assert stopping_status([rule("a", "OK"), rule("b", "STOP")]) == {"status": "STOP", "statement": "Stopping boundary crossed: b."}


# --- 3. expedited reporting status ----------------------------------------------------------------

# Colitis is listed for neither agent: a serious colitis related to anti-PD-1 is a SUSAR. Grade 3
# with hospitalisation: the 15-day clock. Hypertension is expected with apatinib: not a SUSAR.
RSI = Expedited.model_validate(
    {"reference_safety_information": {"apatinib": ["Hypertension"], "anti_pd1": ["Pneumonitis"]}}
).reference_safety_information
SAE_SCHEMA = {
    "ae_id": pl.String, "subject_id": pl.String, "ctcae_term": pl.String, "other_specify": pl.String, "grade": pl.Int64,
    "serious_criteria": pl.String, "awareness_date": pl.Date, "expedited_report_date": pl.Date,
}


def compliance(*events: tuple) -> dict:
    """``events``: (ae_id, term, agent, awareness date, report date); grade 3, hospitalisation,
    related (probable) to the agent only; cut 2025-03-20, due soon within 3 days."""
    saes = pl.DataFrame(
        [
            {"ae_id": ae_id, "subject_id": "S1", "ctcae_term": term, "other_specify": None, "grade": 3,
             "serious_criteria": "hospitalisation", "awareness_date": aware, "expedited_report_date": reported}
            for ae_id, term, _, aware, reported in events
        ],
        schema=SAE_SCHEMA,
    )
    attribution = pl.DataFrame(
        [{"ae_id": ae_id, "agent": agent, "attribution": "probable", "related": True} for ae_id, _, agent, _, _ in events],
        schema={"ae_id": pl.String, "agent": pl.String, "attribution": pl.String, "related": pl.Boolean},
    )
    reports = expedited_reports(saes, attribution, reference_safety_information=RSI, cut_date=CUT, rules=ClockRules(7, 15, 3))
    return reporting_compliance(reports)


NO_AWARENESS = ("N", "Colitis", "anti_pd1", None, None)
ON_TIME = ("T", "Colitis", "anti_pd1", date(2025, 3, 1), date(2025, 3, 10))  # due 03-16, sent 03-10
LATE = ("L", "Colitis", "anti_pd1", date(2025, 2, 1), date(2025, 2, 20))  # due 02-16, sent 02-20
OVERDUE = ("O", "Colitis", "anti_pd1", date(2025, 3, 1), None)  # due 03-16: overdue by 4 days at 03-20
DUE_SOON = ("D", "Colitis", "anti_pd1", date(2025, 3, 6), None)  # due 03-21: in 1 day
RUNNING = ("R", "Colitis", "anti_pd1", date(2025, 3, 10), None)  # due 03-25: in 5 days, not soon
EXPECTED = ("E", "Hypertension", "apatinib", None, None)  # expected: not a SUSAR, no clock


@pytest.mark.parametrize(
    ("events", "status", "statement"),
    [
        ((NO_AWARENESS,), "INCOMPLETE", "1 SUSAR expedited report: 1 without an awareness date (due date not computable)."),
        ((NO_AWARENESS, ON_TIME, RUNNING), "INCOMPLETE",
         "3 SUSAR expedited reports: 1 without an awareness date (due date not computable)."),
        ((NO_AWARENESS, LATE), "INCOMPLETE",
         "2 SUSAR expedited reports: 1 without an awareness date (due date not computable), 1 submitted late."),
        ((NO_AWARENESS, DUE_SOON), "DUE SOON",
         "2 SUSAR expedited reports: 1 due today or soon, 1 without an awareness date (due date not computable)."),
        ((NO_AWARENESS, OVERDUE, DUE_SOON), "OVERDUE",
         "3 SUSAR expedited reports: 1 overdue, 1 due today or soon, 1 without an awareness date (due date not computable)."),
        ((ON_TIME, RUNNING), "UP TO DATE", "2 SUSAR expedited reports: all submitted on time or not yet due."),
        ((EXPECTED,), "UP TO DATE", "No SUSARs at this cut: no expedited reports are due."),
    ],
)
def test_a_clock_that_cannot_be_computed_makes_the_status_incomplete(events, status, statement):
    result = compliance(*events)
    assert (result["status"], result["statement"]) == (status, statement)
    assert result["not_computable"] == sum(event is NO_AWARENESS for event in events)


# --- 8. the records not counted, with their reasons -------------------------------------------------

ONSET = "onset_date is not a date (YYYY-MM-DD)"
NO_DOSE = "the subject has no usable dose record: every exposure record was excluded"
TERM = "ctcae_term is missing"
NO_SUBJECT = "subject_id is missing"
UNKNOWN_SUBJECT = "subject_id is not among the subjects (absent from the subjects file, or its row there is excluded)"


def excluded(*reasons: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"source_row": list(range(2, len(reasons) + 2)), "subject_id": [f"S{i}" for i in range(len(reasons))], "reasons": list(reasons)},
        schema={"source_row": pl.Int64, "subject_id": pl.String, "reasons": pl.String},
    )


def test_every_record_counted():
    assert exclusion_summary(excluded(), {})["statement"] == "Every adverse-event record was counted."


def test_two_reasons_each_with_its_count():
    """One record with an impossible onset date, one of a subject not in the subjects file: 1
    each, in alphabetical order as they tie."""
    summary = exclusion_summary(excluded(UNKNOWN_SUBJECT, ONSET), {"related_death": WorstCase(5, 1, "STOP", False)})
    assert summary["adverse_events"] == 2
    assert summary["statement"] == (
        f"2 adverse-event record(s) could not be counted (1 × {ONSET} | 1 × {UNKNOWN_SUBJECT}). "
        "Counted the worst way they would change no rule's status."
    )


def test_the_three_most_frequent_reasons_then_how_many_more():
    """Nine records: onset date 3, missing term 2, no usable dose record 2, missing subject 1,
    unknown subject 1. Shown: 3 onset; the two reasons of 2 records in alphabetical order
    ("ctcae..." before "the subject..."); then the 2 records with other reasons."""
    records = excluded(ONSET, NO_DOSE, ONSET, TERM, UNKNOWN_SUBJECT, NO_DOSE, TERM, ONSET, NO_SUBJECT)
    worst = {"related_death": WorstCase(5, 1, "STOP", True), "severe_hemorrhage": WorstCase(5, 0, "OK", False)}
    summary = exclusion_summary(records, worst)
    assert (summary["adverse_events"], summary["rules_changed_if_counted"]) == (9, ["related_death"])
    assert summary["statement"] == (
        f"9 adverse-event record(s) could not be counted (3 × {ONSET} | 2 × {TERM} | 2 × {NO_DOSE} | 2 with other reasons). "
        "Counted the worst way they would change the status of: related_death."
    )


# --- the three through a run ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_trial_without_stopping_rules_through_a_run(tmp_path):
    """The mini trial with no [[stopping_rules]] and AE6 (S3's fatal pharyngeal hemorrhage, a SUSAR
    for apatinib: fatal, above the RSI's grade 4) without its awareness date. flags.json: stopping
    NO RULES; reporting INCOMPLETE, 1 SUSAR not computable, none overdue; records not counted: AE11
    (subject S9 is not in the subjects file) and AE14 (onset 2025-02-30), one each. The report's
    headlines say the same."""
    from flows.stages import analyse, ingest, render

    config_text = re.sub(r"\n\[\[stopping_rules\]\]\n.*?(?=\n# Efficacy)", "\n", BUNDLED_CONFIG.read_text(encoding="utf-8"), flags=re.S)
    assert "[[stopping_rules]]" not in config_text and "[efficacy]" in config_text
    config = make_mini_trial(tmp_path / "mini", config_text=config_text)
    events = config.parent / "adverse_events.csv"
    ae6 = "AE6,S3,nasopharyngeal bleeding,Pharyngeal hemorrhage,,5,2025-02-18,2025-02-20,Y,death,fatal,probable,unlikely,drug_withdrawn,drug_withdrawn,2025-02-19"
    text = events.read_text(encoding="utf-8")
    assert ae6 in text
    events.write_text(text.replace(ae6, ae6.removesuffix("2025-02-19")), encoding="utf-8")

    loaded = ingest(config)
    analyse(loaded)
    render(loaded)
    out_dir = Path(loaded.out_dir)
    flags = json.loads((out_dir / "flags.json").read_text(encoding="utf-8"))
    assert flags["rules"] == []
    assert flags["stopping"] == {"status": "NO RULES", "statement": "No stopping rules are configured."}
    reporting = flags["reporting"]
    assert (reporting["status"], reporting["susars"], reporting["not_computable"], reporting["overdue"]) == ("INCOMPLETE", 1, 1, 0)
    assert flags["excluded_records"]["statement"] == (
        f"2 adverse-event record(s) could not be counted (1 × {ONSET} | 1 × {UNKNOWN_SUBJECT}). "
        "Counted the worst way they would change no rule's status."
    )
    report = (out_dir / "dsmb_report.html").read_text(encoding="utf-8")
    assert re.search(r'id="stopping-status">\s*<h2>Stopping rules <span class="status status-NO-RULES">NO RULES</span>', report)
    assert re.search(r'id="reporting-status">\s*<h2>Expedited reporting <span class="status compliance-INCOMPLETE">INCOMPLETE</span>', report)
