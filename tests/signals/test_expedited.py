"""SUSAR clocks and expectedness on hand-made serious events (ICH E2A: 7 / 15 calendar days).

The RSI below is written as a trial.toml would write it and parsed by the configuration model,
so these tests read entries exactly as a trial would give them. The cut is 2025-03-20.
"""

from datetime import date

import polars as pl
import pytest

from signals.expedited import ClockRules, expedited_flags, expedited_reports, reporting_compliance
from trial.config import Expedited

CUT = date(2025, 3, 20)
RSI = {
    "apatinib": ["Hypertension", "Epistaxis", "Diarrhea"],
    "anti_pd1": [
        "Pneumonitis", "Diarrhea", "Myocarditis",
        {"term": "Hepatobiliary disorders - Other, specify", "specify": "Immune-mediated hepatitis"},
    ],
}
# Levels a trial with the default [attribution] counts as related; "not_assessed" (missing or
# invalid attribution) is related by the conservative reading, as stg_ae_attribution says.
RELATED_LEVELS = {"possible", "probable", "definite", "not_assessed"}


def rsi(entries: dict) -> dict:
    return Expedited.model_validate({"reference_safety_information": entries}).reference_safety_information


def run(saes: list[dict], attributions: list[tuple], reference: dict = RSI) -> pl.DataFrame:
    """The listing for ``saes``; ``attributions`` are (ae_id, agent) pairs read as "probable", or (ae_id, agent, level)."""
    schema = {"ae_id": pl.String, "subject_id": pl.String, "ctcae_term": pl.String, "other_specify": pl.String, "grade": pl.Int64, "serious_criteria": pl.String, "awareness_date": pl.Date, "expedited_report_date": pl.Date}
    rows = []
    for item in attributions:
        ae_id, agent, level = item if len(item) == 3 else (*item, "probable")
        rows.append({"ae_id": ae_id, "agent": agent, "attribution": level, "related": level in RELATED_LEVELS})
    attribution = pl.DataFrame(rows, schema={"ae_id": pl.String, "agent": pl.String, "attribution": pl.String, "related": pl.Boolean})
    return expedited_reports(
        pl.DataFrame(saes, schema=schema), attribution, reference_safety_information=rsi(reference), cut_date=CUT, rules=ClockRules(7, 15, 3)
    )


def sae(ae_id, term, grade, criteria, aware, reported=None, specify=None):
    return {"ae_id": ae_id, "subject_id": "S1", "ctcae_term": term, "other_specify": specify, "grade": grade, "serious_criteria": criteria, "awareness_date": aware, "expedited_report_date": reported}


def by_ae(reports: pl.DataFrame, column: str) -> dict:
    return dict(reports.select("ae_id", column).iter_rows())


# --- clocks -------------------------------------------------------------------------------


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
    reports = run([sae("A", "Colitis", 5, "death", aware)], [("A", "anti_pd1")])
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
    assert reports.row(0, named=True)["due_date"] == date(2025, 3, 25)  # 18 + 7


def test_grade_4_without_the_criterion_is_read_as_life_threatening():
    """CTCAE grade 4 means life-threatening consequences: when the seriousness criteria leave
    it out, the shorter (7-day) clock applies, the conservative reading. Aware 03-18 -> due 03-25."""
    reports = run([sae("C", "Colitis", 4, "hospitalisation", date(2025, 3, 18))], [("C", "apatinib")])
    row = reports.row(0, named=True)
    assert (row["clock_days"], row["due_date"]) == (7, date(2025, 3, 25))


@pytest.mark.parametrize(
    ("reported", "status"),
    [
        (date(2025, 3, 8), "submitted on time"),  # aware 03-01 + 7 = due 03-08: on the due date is on time
        (date(2025, 3, 9), "submitted 1 days late"),
        (None, "overdue by 12 days"),  # due 03-08, cut 03-20
    ],
)
def test_a_submitted_report_stops_the_clock(reported, status):
    reports = run([sae("K", "Colitis", 5, "death", date(2025, 3, 1), reported)], [("K", "anti_pd1")])
    assert reports.row(0, named=True)["status"] == status
    assert [f["ae_id"] for f in expedited_flags(reports)] == ([] if reported else ["K"])


def test_missing_awareness_date_is_not_computable_and_never_overdue():
    """A fatal unexpected event without an awareness date has no day 0.

    Its clock would be 7 days, but no due date exists: the listing says so, no flag is raised,
    and compliance counts it as not computable rather than overdue (even though any awareness
    date before 03-13 would make it overdue at this cut).
    """
    reports = run([sae("N", "Colitis", 5, "death", None)], [("N", "anti_pd1")])
    row = reports.row(0, named=True)
    assert (row["susar"], row["clock_days"], row["due_date"]) == (True, 7, None)
    assert (row["clock_state"], row["status"]) == ("not computable", "not computable: awareness date missing")
    assert expedited_flags(reports) == []
    compliance = reporting_compliance(reports)
    # A clock that cannot be computed may hide a report due or overdue: never "up to date".
    assert (compliance["status"], compliance["overdue"], compliance["not_computable"]) == ("INCOMPLETE", 0, 1)


# --- expectedness, judged per suspected agent ------------------------------------------


def test_expected_or_unrelated_events_are_not_susars():
    reports = run(
        [
            sae("D", "Hypertension", 3, "hospitalisation", date(2025, 3, 1)),  # expected for apatinib
            sae("E", "Colitis", 3, "hospitalisation", date(2025, 3, 1)),  # related to nothing
            sae("F", "Pneumonitis", 3, "hospitalisation", date(2025, 3, 1)),  # expected for anti-PD-1 but related to apatinib only
        ],
        [("D", "apatinib"), ("F", "apatinib"), ("E", "apatinib", "unlikely"), ("E", "anti_pd1", "unrelated")],
    )
    assert by_ae(reports, "susar") == {"D": False, "E": False, "F": True}
    assert by_ae(reports, "suspected_for") == {"D": "apatinib", "E": "", "F": "apatinib"}
    assert by_ae(reports, "status")["E"] == "not a SUSAR"


def test_expected_for_one_suspected_agent_is_still_a_susar_for_the_other():
    """Expectedness is per product: each agent's RSI speaks only for that agent.

    G (Hypertension, grade 3) is suspected for both agents. apatinib's RSI lists Hypertension,
    anti-PD-1's does not: unexpected for anti_pd1, so a SUSAR on the 15-day clock (not fatal).
    H (Diarrhea) is listed in both RSIs: expected for both, not a SUSAR.
    """
    reports = run(
        [sae("G", "Hypertension", 3, "hospitalisation", date(2025, 3, 1)), sae("H", "Diarrhea", 3, "hospitalisation", date(2025, 3, 1))],
        [("G", "apatinib"), ("G", "anti_pd1"), ("H", "apatinib"), ("H", "anti_pd1")],
    )
    g = reports.filter(pl.col("ae_id") == "G").row(0, named=True)
    assert (g["susar"], g["clock_days"]) == (True, 15)
    assert (g["suspected_for"], g["unexpected_for"], g["expected_for"]) == ("anti_pd1, apatinib", "anti_pd1", "apatinib")
    assert g["expectedness_reason"] == "anti_pd1: Hypertension not in RSI"
    h = reports.filter(pl.col("ae_id") == "H").row(0, named=True)
    assert (h["susar"], h["unexpected_for"], h["expected_for"], h["expectedness_reason"]) == (False, "", "anti_pd1, apatinib", "")


def test_fatal_event_listed_without_a_maximum_grade_is_a_susar():
    """An entry without max_grade expects the reaction up to grade 3.

    Myocarditis is in anti-PD-1's RSI without max_grade; a fatal myocarditis (grade 5, death) is
    above grade 3, so unexpected: a SUSAR on the 7-day clock, aware 03-15, due 03-22.
    """
    reports = run([sae("M", "Myocarditis", 5, "death", date(2025, 3, 15))], [("M", "anti_pd1")])
    row = reports.row(0, named=True)
    assert (row["susar"], row["clock_days"], row["due_date"]) == (True, 7, date(2025, 3, 22))
    assert row["expectedness_reason"] == "anti_pd1: grade 5 above the RSI's expected maximum grade 3"


@pytest.mark.parametrize(
    "entry",
    [{"term": "Myocarditis", "max_grade": 5}, {"term": "Myocarditis", "fatal_expected": True}],
    ids=["max_grade_5", "fatal_expected"],
)
def test_fatal_event_listed_as_fatal_is_expected(entry):
    reports = run([sae("M", "Myocarditis", 5, "death", date(2025, 3, 15))], [("M", "anti_pd1")], {"anti_pd1": [entry]})
    row = reports.row(0, named=True)
    assert (row["susar"], row["expected_for"], row["status"]) == (False, "anti_pd1", "not a SUSAR")


def test_the_outcome_not_the_recorded_grade_is_compared_with_the_maximum():
    """Epistaxis is expected for apatinib up to grade 4 here; Hypertension up to the default 3.

    P: epistaxis grade 4, life-threatening  -> 4 <= 4, expected.
    Q: epistaxis grade 5, death             -> 5 > 4, SUSAR.
    R: epistaxis grade 3 with criterion death -> counted as 5 > 4, SUSAR.
    S: hypertension grade 4, hospitalisation -> 4 > 3 (grade 4 is life-threatening), SUSAR.
    T: hypertension grade 3, life_threatening -> counted as 4 > 3, SUSAR.
    """
    reference = {"apatinib": [{"term": "Epistaxis", "max_grade": 4}, "Hypertension"]}
    reports = run(
        [
            sae("P", "Epistaxis", 4, "life_threatening", date(2025, 3, 15)),
            sae("Q", "Epistaxis", 5, "death", date(2025, 3, 15)),
            sae("R", "Epistaxis", 3, "death", date(2025, 3, 15)),
            sae("S", "Hypertension", 4, "hospitalisation", date(2025, 3, 15)),
            sae("T", "Hypertension", 3, "life_threatening", date(2025, 3, 15)),
        ],
        [(ae, "apatinib") for ae in "PQRST"],
        reference,
    )
    assert by_ae(reports, "expectedness_reason") == {
        "P": "",
        "Q": "apatinib: grade 5 above the RSI's expected maximum grade 4",
        "R": "apatinib: fatal outcome (grade 3 recorded) above the RSI's expected maximum grade 4",
        "S": "apatinib: grade 4 above the RSI's expected maximum grade 3",
        "T": "apatinib: life-threatening outcome (grade 3 recorded) above the RSI's expected maximum grade 3",
    }
    assert by_ae(reports, "susar") == {"P": False, "Q": True, "R": True, "S": True, "T": True}


def test_catch_all_entry_with_specify_matches_only_that_text():
    """anti-PD-1's RSI lists "Hepatobiliary disorders - Other, specify" for immune-mediated hepatitis only.

    U: that term, text differing only in case and spacing -> expected.
    V: that term, "Cholangitis"                            -> not covered, SUSAR.
    W: another SOC's Other, specify with the same text      -> the term differs, SUSAR.
    """
    hepatobiliary = "Hepatobiliary disorders - Other, specify"
    reports = run(
        [
            sae("U", hepatobiliary, 3, "hospitalisation", date(2025, 3, 1), specify="immune-mediated  Hepatitis"),
            sae("V", hepatobiliary, 3, "hospitalisation", date(2025, 3, 1), specify="Cholangitis"),
            sae("W", "Gastrointestinal disorders - Other, specify", 3, "hospitalisation", date(2025, 3, 1), specify="Immune-mediated hepatitis"),
        ],
        [("U", "anti_pd1"), ("V", "anti_pd1"), ("W", "anti_pd1")],
    )
    assert by_ae(reports, "susar") == {"U": False, "V": True, "W": True}
    assert by_ae(reports, "expectedness_reason")["V"] == "anti_pd1: Cholangitis not in RSI"


def test_a_plain_entry_matches_the_other_specify_text():
    rsi_term = "Skin and subcutaneous tissue disorders - Other, specify"
    reports = run(
        [
            sae("L", rsi_term, 3, "hospitalisation", date(2025, 3, 1), specify="Epistaxis"),  # specify text is listed for apatinib
            sae("M", rsi_term, 3, "hospitalisation", date(2025, 3, 1), specify="Vitiligo"),
        ],
        [("L", "apatinib"), ("M", "apatinib")],
    )
    assert by_ae(reports, "susar") == {"L": False, "M": True}


def test_attribution_not_assessed_counts_as_suspected():
    """A missing or invalid attribution must not hide a SUSAR.

    X: Hypertension, apatinib "probable" (listed: expected), anti-PD-1 "not_assessed" (not in
    its RSI): suspected for both, unexpected for anti_pd1, a SUSAR. Y: the same event with
    anti-PD-1 "unlikely": suspected for apatinib only, expected, not a SUSAR.
    """
    reports = run(
        [sae("X", "Hypertension", 3, "hospitalisation", date(2025, 3, 1)), sae("Y", "Hypertension", 3, "hospitalisation", date(2025, 3, 1))],
        [("X", "apatinib"), ("X", "anti_pd1", "not_assessed"), ("Y", "apatinib"), ("Y", "anti_pd1", "unlikely")],
    )
    assert by_ae(reports, "suspected_for") == {"X": "anti_pd1 (not assessed), apatinib", "Y": "apatinib"}
    assert by_ae(reports, "unexpected_for") == {"X": "anti_pd1", "Y": ""}
    assert by_ae(reports, "susar") == {"X": True, "Y": False}


# --- flags and compliance: apart from the stopping rules -----------------------------


def test_flags_name_the_clock_state_not_a_stopping_status():
    """Aware dates and clocks, cut 03-20 (Colitis is unexpected for both agents).

    H fatal, aware 03-01: due 03-08, overdue.  I aware 03-07: due 03-22, due soon (2 days).
    J aware 03-05: due 03-20, due today.       Z aware 03-19: due 04-03, running: no flag.
    Flags come most urgent due date first.
    """
    reports = run(
        [
            sae("H", "Colitis", 5, "death", date(2025, 3, 1)),
            sae("I", "Colitis", 3, "hospitalisation", date(2025, 3, 7)),
            sae("J", "Colitis", 3, "hospitalisation", date(2025, 3, 5)),
            sae("Z", "Colitis", 3, "hospitalisation", date(2025, 3, 19)),
        ],
        [("H", "anti_pd1"), ("I", "apatinib"), ("J", "apatinib"), ("Z", "apatinib")],
    )
    flags = expedited_flags(reports)
    assert [(f["ae_id"], f["level"], f["due_date"]) for f in flags] == [
        ("H", "overdue", "2025-03-08"),
        ("J", "due today", "2025-03-20"),
        ("I", "due soon", "2025-03-22"),
    ]
    assert set(flags[0]) == {"ae_id", "subject_id", "ctcae_term", "level", "clock", "due_date"}
    assert flags[0]["clock"] == "overdue by 12 days"


def test_reporting_compliance_on_a_small_listing():
    """Five serious events at cut 03-20, all unexpected Colitis except the last.

    A1 fatal, aware 03-01, unreported: due 03-08, overdue.   A2 aware 03-07: due 03-22, due soon.
    A3 no awareness date: not computable.                    A4 aware 02-01, reported 02-20: due 02-16, late.
    A5 Hypertension for apatinib: expected, not a SUSAR, not counted.
    SUSARs 4; overdue 1, due soon 1, not computable 1, late 1 -> OVERDUE.
    """
    reports = run(
        [
            sae("A1", "Colitis", 5, "death", date(2025, 3, 1)),
            sae("A2", "Colitis", 3, "hospitalisation", date(2025, 3, 7)),
            sae("A3", "Colitis", 3, "hospitalisation", None),
            sae("A4", "Colitis", 3, "hospitalisation", date(2025, 2, 1), date(2025, 2, 20)),
            sae("A5", "Hypertension", 3, "hospitalisation", date(2025, 3, 1)),
        ],
        [("A1", "anti_pd1"), ("A2", "apatinib"), ("A3", "apatinib"), ("A4", "apatinib"), ("A5", "apatinib")],
    )
    assert reporting_compliance(reports) == {
        "status": "OVERDUE",
        "overdue": 1,
        "due_soon": 1,
        "not_computable": 1,
        "submitted_late": 1,
        "susars": 4,
        "statement": "4 SUSAR expedited reports: 1 overdue, 1 due today or soon, "
        "1 without an awareness date (due date not computable), 1 submitted late.",
    }
    without_overdue = reports.filter(pl.col("ae_id") != "A1")
    assert reporting_compliance(without_overdue)["status"] == "DUE SOON"
    on_time = reports.filter(pl.col("ae_id").is_in(["A4", "A5"]))
    assert reporting_compliance(on_time)["status"] == "UP TO DATE"  # late but submitted: nothing pending
    assert reporting_compliance(reports.filter(pl.col("ae_id") == "A5")) == {
        "status": "UP TO DATE", "overdue": 0, "due_soon": 0, "not_computable": 0, "submitted_late": 0, "susars": 0,
        "statement": "No SUSARs at this cut: no expedited reports are due.",
    }
