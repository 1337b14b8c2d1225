"""SUSAR clocks on hand-made serious events around each deadline (ICH E2A: 7 / 15 calendar days)."""

from datetime import date

import polars as pl
import pytest

from signals.expedited import ClockRules, expedited_flags, expedited_reports

RSI = {"apatinib": ["Hypertension", "Epistaxis"], "anti_pd1": ["Pneumonitis"]}
CUT = date(2025, 3, 20)


def run(saes: list[dict], related: list[tuple[str, str]]) -> pl.DataFrame:
    schema = {"ae_id": pl.String, "subject_id": pl.String, "ctcae_term": pl.String, "other_specify": pl.String, "grade": pl.Int64, "serious_criteria": pl.String, "awareness_date": pl.Date, "expedited_report_date": pl.Date}
    sae_frame = pl.DataFrame(saes, schema=schema)
    attribution = pl.DataFrame(
        [{"ae_id": ae, "agent": agent, "related": True} for ae, agent in related],
        schema={"ae_id": pl.String, "agent": pl.String, "related": pl.Boolean},
    )
    return expedited_reports(sae_frame, attribution, reference_safety_information=RSI, cut_date=CUT, rules=ClockRules(7, 15, 3))


def sae(ae_id, term, grade, criteria, aware, reported=None, specify=None):
    return {"ae_id": ae_id, "subject_id": "S1", "ctcae_term": term, "other_specify": specify, "grade": grade, "serious_criteria": criteria, "awareness_date": aware, "expedited_report_date": reported}


@pytest.mark.parametrize(
    ("aware", "status"),
    [
        (date(2025, 3, 13), "due today"),  # 13 + 7 = 20 = cut
        (date(2025, 3, 12), "overdue by 1 days"),  # due 19th
        (date(2025, 3, 14), "due soon: in 1 days"),
        (date(2025, 3, 16), "due soon: in 3 days"),  # the edge of due_soon_days
        (date(2025, 3, 17), "due in 4 days"),
    ],
)
def test_fatal_unexpected_related_event_is_due_in_7_days(aware, status):
    reports = run([sae("A", "Myocarditis", 5, "death", aware)], [("A", "anti_pd1")])
    row = reports.row(0, named=True)
    assert row["susar"] and row["clock_days"] == 7
    assert row["status"] == status


@pytest.mark.parametrize(
    ("aware", "status"),
    [
        (date(2025, 3, 5), "due today"),  # 5 + 15 = 20
        (date(2025, 3, 4), "overdue by 1 days"),
        (date(2025, 3, 6), "due soon: in 1 days"),
    ],
)
def test_other_serious_unexpected_event_is_due_in_15_days(aware, status):
    reports = run([sae("B", "Colitis", 3, "hospitalisation", aware)], [("B", "apatinib")])
    assert reports.row(0, named=True)["clock_days"] == 15
    assert reports.row(0, named=True)["status"] == status


def test_life_threatening_uses_the_short_clock():
    reports = run([sae("C", "Colitis", 4, "life_threatening;hospitalisation", date(2025, 3, 18))], [("C", "apatinib")])
    assert reports.row(0, named=True)["due_date"] == date(2025, 3, 25)


def test_expected_or_unrelated_events_are_not_susars():
    reports = run(
        [
            sae("D", "Hypertension", 3, "hospitalisation", date(2025, 3, 1)),  # expected for apatinib
            sae("E", "Colitis", 3, "hospitalisation", date(2025, 3, 1)),  # related to nothing
            sae("F", "Pneumonitis", 3, "hospitalisation", date(2025, 3, 1)),  # expected for anti-PD-1 but related to apatinib only
        ],
        [("D", "apatinib"), ("F", "apatinib")],
    )
    susar = dict(reports.select("ae_id", "susar").iter_rows())
    assert susar == {"D": False, "E": False, "F": True}


def test_expected_for_one_related_agent_is_not_a_susar():
    # Related to both; expected for anti-PD-1: not unexpected for every related agent.
    reports = run([sae("G", "Pneumonitis", 3, "hospitalisation", date(2025, 3, 1))], [("G", "apatinib"), ("G", "anti_pd1")])
    assert reports.row(0, named=True)["susar"] is False


def test_flags_for_overdue_and_due_soon():
    reports = run(
        [
            sae("H", "Myocarditis", 5, "death", date(2025, 3, 1)),  # overdue
            sae("I", "Colitis", 3, "hospitalisation", date(2025, 3, 7)),  # due in 2 days
            sae("J", "Colitis", 3, "hospitalisation", date(2025, 3, 19)),  # due in 14 days
        ],
        [("H", "anti_pd1"), ("I", "apatinib"), ("J", "apatinib")],
    )
    flags = {f["ae_id"]: f["status"] for f in expedited_flags(reports)}
    assert flags == {"H": "STOP", "I": "WARN"}


@pytest.mark.parametrize(
    ("reported", "status"),
    [
        (date(2025, 3, 8), "submitted on time"),  # aware 03-01 + 7 = due 03-08: on the due date is on time
        (date(2025, 3, 9), "submitted 1 days late"),
        (None, "overdue by 12 days"),
    ],
)
def test_a_submitted_report_stops_the_clock(reported, status):
    reports = run([sae("K", "Myocarditis", 5, "death", date(2025, 3, 1), reported)], [("K", "anti_pd1")])
    assert reports.row(0, named=True)["status"] == status
    assert [f["ae_id"] for f in expedited_flags(reports)] == ([] if reported else ["K"])


def test_reference_safety_information_matches_the_other_specify_text():
    rsi_term = "Skin and subcutaneous tissue disorders - Other, specify"
    reports = run(
        [
            sae("L", rsi_term, 3, "hospitalisation", date(2025, 3, 1), specify="Epistaxis"),  # specify text is expected
            sae("M", rsi_term, 3, "hospitalisation", date(2025, 3, 1), specify="Vitiligo"),
        ],
        [("L", "apatinib"), ("M", "apatinib")],
    )
    assert dict(reports.select("ae_id", "susar").iter_rows()) == {"L": False, "M": True}
