"""t_ae_risk_difference: each arm's TEAE incidence against the reference arm, with Newcombe's interval.

The hand-made trial (tables by arm as tables_by_arm writes them): arm A, 10 treated subjects;
arm B, the reference, 16; one more treated subject in no configured arm (All arms: 27).

| SOC / term                   | A (N=10) | B (N=16) | All arms | percent A / B | difference A - B          |
|------------------------------|----------|----------|----------|---------------|---------------------------|
| SKIN / Rash                  | 4        | 2        | 6        | 40.0 / 12.5   | 27.5                      |
| GASTROINTESTINAL / Nausea    | 0 (none) | 3        | 3        | 0.0 / 18.8    | -18.75 -> -18.8           |
| NERVOUS / Headache           | 1        | 0 (none) | 1        | 10.0 / 0.0    | 10.0                      |
| GENERAL / Fatigue            | 0 (none) | 1        | 1        | 0.0 / 6.3     | -6.25 -> -6.3 (not -6.2)  |
| RESPIRATORY / Cough          | 0 (none) | 0 (none) | 1        | 0.0 / 0.0     | 0.0                       |

Percents and differences round halves away from zero (3/16 = 18.75 % -> 18.8; 1/16 = 6.25 % ->
6.3; -6.25 -> -6.3, where Python's round would give -6.2). Rank: by All arms subjects (Rash 6,
Nausea 3), then the three terms of 1 subject by their highest percent in an arm: Headache (10.0),
Fatigue (6.3), Cough (0.0; its one subject is in no arm).

95% intervals (Newcombe's method 10: each arm's Wilson score interval l, u, then
lower = d - sqrt((pA - lA)^2 + (uB - pB)^2), upper = d + sqrt((uA - pA)^2 + (pB - lB)^2)),
worked out with the Wilson limits, in percent:

- Rash: A 4/10 -> (16.818, 68.733), B 2/16 -> (3.498, 36.023):
  lower = 27.5 - sqrt(23.182^2 + 23.523^2) = -5.526 -> -5.5; upper = 27.5 + sqrt(28.733^2 + 9.002^2) = 57.610 -> 57.6
- Nausea: A 0/10 -> (0, 27.753), B 3/16 -> (6.592, 43.009): lower = -18.75 - 24.259 = -43.0,
  upper = -18.75 + sqrt(27.753^2 + 12.158^2) = 11.550 -> 11.5
- Headache: A 1/10 -> (1.788, 40.415), B 0/16 -> (0, 19.361): -11.0 to 40.4
- Fatigue: A 0/10 -> (0, 27.753), B 1/16 -> (1.112, 28.329): -28.3 to 22.0
- Cough: 0/10 and 0/16: -19.4 to 27.8 (the Wilson upper limits of 0/16 and 0/10)

The test also recomputes them by a plain Python route (``wilson``, ``newcombe`` below).
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from safetydb.risk_difference import ae_risk_differences, dot_plot_terms, newcombe_difference, percent, rounded

ARMS = [("a", "Arm A"), ("b", "Arm B")]
Z = 1.959963984540054  # the 97.5% point of the standard normal


def soc_term_by_arm() -> pl.DataFrame:
    rows = [
        # arm_id, soc, term, subjects; the "(any)" rows are totals the table must not read as terms
        ("a", "(any)", "(any)", 5), ("a", "SKIN", "(any)", 4), ("a", "SKIN", "Rash", 4), ("a", "NERVOUS", "Headache", 1),
        ("b", "(any)", "(any)", 6), ("b", "SKIN", "Rash", 2), ("b", "GASTROINTESTINAL", "Nausea", 3), ("b", "GENERAL", "Fatigue", 1),
        ("total", "(any)", "(any)", 12), ("total", "SKIN", "Rash", 6), ("total", "GASTROINTESTINAL", "Nausea", 3),
        ("total", "NERVOUS", "Headache", 1), ("total", "GENERAL", "Fatigue", 1), ("total", "RESPIRATORY", "Cough", 1),
    ]
    labels = dict(ARMS) | {"total": "All arms"}
    return pl.DataFrame(
        [(arm_id, labels[arm_id], soc, term, subjects) for arm_id, soc, term, subjects in rows],
        schema=["arm_id", "arm", "meddra_soc", "term", "subjects"], orient="row",
    )


def overview_by_arm() -> pl.DataFrame:
    return pl.DataFrame(
        {"arm_id": ["a", "a", "b", "b", "total"], "arm": ["Arm A", "Arm A", "Arm B", "Arm B", "All arms"],
         "ord": [1, 2, 1, 2, 1], "denominator": [10, 10, 16, 16, 27]}
    )


def wilson(events: int, n: int) -> tuple[float, float]:
    p = events / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - half) / (1 + Z * Z / n), (centre + half) / (1 + Z * Z / n)


def newcombe(a: int, n: int, b: int, m: int) -> tuple[float, float, float]:
    (l1, u1), (l2, u2) = wilson(a, n), wilson(b, m)
    p1, p2 = a / n, b / m
    return p1 - p2, p1 - p2 - math.hypot(p1 - l1, u2 - p2), p1 - p2 + math.hypot(u1 - p1, p2 - l2)


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return ae_risk_differences(soc_term_by_arm(), overview_by_arm(), ARMS, reference="b")


# ---- Newcombe's interval ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998), Table II, method 10: (a) 56/70 - 48/80, (e) 0/10 - 0/20, (g) 10/10 - 0/20.
        ((56, 70, 48, 80), (0.2, 0.0524, 0.3339)),
        ((0, 10, 0, 20), (0.0, -0.1611, 0.2775)),
        ((10, 10, 0, 20), (1.0, 0.6791, 1.0)),
    ],
)
def test_newcombe_reproduces_the_papers_examples(counts, expected):
    """Example (a) by hand: 56/70 = 0.8, Wilson (0.6918, 0.8770); 48/80 = 0.6, Wilson (0.4905,
    0.7004); lower = 0.2 - sqrt(0.1082^2 + 0.1004^2) = 0.2 - 0.1476 = 0.0524, upper = 0.2 +
    sqrt(0.0770^2 + 0.1095^2) = 0.2 + 0.1339 = 0.3339. The difference is 0.8 - 0.6 = 0.2."""
    difference, lower, upper = newcombe_difference(*counts)
    assert (round(difference, 4), round(lower, 4), round(upper, 4)) == expected


@pytest.mark.parametrize("counts", [(4, 10, 2, 16), (0, 10, 3, 16), (0, 10, 1, 16), (1, 10, 0, 16), (0, 10, 0, 16), (84, 84, 1, 86)])
def test_newcombe_matches_a_plain_computation(counts):
    assert newcombe_difference(*counts) == pytest.approx(newcombe(*counts), abs=1e-12)


def test_newcombe_refuses_an_empty_group():
    with pytest.raises(ValueError, match="at least one subject"):
        newcombe_difference(0, 0, 1, 10)
    with pytest.raises(ValueError, match="not counts"):
        newcombe_difference(11, 10, 1, 10)


# ---- the table ----------------------------------------------------------------------------------


def test_one_row_per_term_and_arm_compared_with_the_reference(table):
    assert table.select("meddra_soc", "term", "arm_id").is_duplicated().sum() == 0
    assert table["arm_id"].unique().to_list() == ["a"]  # the reference arm has no row of its own
    assert table["term"].to_list() == ["Rash", "Nausea", "Headache", "Fatigue", "Cough"]
    assert table["term_rank"].to_list() == [1, 2, 3, 4, 5]
    assert table["all_arms_subjects"].to_list() == [6, 3, 1, 1, 1]
    assert table["highest_arm_percent"].to_list() == [40.0, 18.8, 10.0, 6.3, 0.0]
    assert set(table["reference_arm"].to_list()) == {"Arm B"}


def test_counts_percents_and_differences_as_worked_out_by_hand(table):
    got = table.select(
        "term", "subjects", "denominator", "percent", "reference_subjects", "reference_denominator", "reference_percent",
        "risk_difference", "ci_lower", "ci_upper",
    ).rows()
    assert got == [
        ("Rash", 4, 10, 40.0, 2, 16, 12.5, 27.5, -5.5, 57.6),
        ("Nausea", 0, 10, 0.0, 3, 16, 18.8, -18.8, -43.0, 11.5),
        ("Headache", 1, 10, 10.0, 0, 16, 0.0, 10.0, -11.0, 40.4),
        ("Fatigue", 0, 10, 0.0, 1, 16, 6.3, -6.3, -28.3, 22.0),
        ("Cough", 0, 10, 0.0, 0, 16, 0.0, 0.0, -19.4, 27.8),
    ]
    assert set(table["method"].to_list()) == {"Newcombe hybrid score interval (method 10), 95%"}


def test_intervals_agree_with_the_plain_computation(table):
    counts = table.select("subjects", "denominator", "reference_subjects", "reference_denominator").rows()
    expected = [[round_half_away(100 * value) for value in newcombe(*row)] for row in counts]
    assert table.select("risk_difference", "ci_lower", "ci_upper").rows() == [tuple(row) for row in expected]


def round_half_away(value: float) -> float:
    """One decimal, halves away from zero, with a guard for the binary representation of x.x5."""
    scaled = abs(value) * 10
    whole = math.floor(scaled + 0.5 + 1e-9)
    return math.copysign(whole / 10, value) if whole else 0.0


def test_without_a_reference_arm_every_arm_has_rows_and_no_difference():
    table = ae_risk_differences(soc_term_by_arm(), overview_by_arm(), ARMS, reference=None)
    assert table.height == 10  # 5 terms x 2 arms
    assert table.filter(pl.col("term") == "Nausea").select("arm_id", "subjects", "percent").rows() == [("a", 0, 0.0), ("b", 3, 18.8)]
    for column in ("reference_arm_id", "reference_subjects", "reference_percent", "risk_difference", "ci_lower", "ci_upper", "method"):
        assert table[column].null_count() == table.height, column


def test_an_arm_without_treated_subjects_has_no_percent_nor_difference():
    overview = overview_by_arm().filter(pl.col("arm_id") != "a")
    table = ae_risk_differences(soc_term_by_arm(), overview, ARMS, reference="b")
    rash = table.filter(pl.col("term") == "Rash").row(0, named=True)
    assert (rash["subjects"], rash["denominator"], rash["percent"], rash["risk_difference"]) == (4, 0, None, None)


def test_an_unknown_reference_is_refused():
    with pytest.raises(ValueError, match="not one of the arms"):
        ae_risk_differences(soc_term_by_arm(), overview_by_arm(), ARMS, reference="placebo")


def test_rounding_is_half_away_from_zero():
    from fractions import Fraction

    assert percent(3, 16) == 18.8 and percent(1, 16) == 6.3 and percent(1, 8) == 12.5
    assert rounded(Fraction(-625, 100)) == -6.3 and rounded(Fraction(-4, 100)) == 0.0
    assert percent(1, 0) is None


# ---- which terms the dot plot shows ------------------------------------------------------------


def test_dot_plot_terms_reach_the_threshold_in_an_arm_most_frequent_first(table):
    """Threshold 10%: Rash (40.0 in A), Nausea (18.8 in B) and Headache (10.0 in A, the threshold
    itself) reach it; Fatigue (6.3) and Cough (0) do not. At most 2 terms: the two most frequent."""
    assert dot_plot_terms(table, min_percent=10, max_terms=30)["term"].to_list() == ["Rash", "Nausea", "Headache"]
    assert dot_plot_terms(table, min_percent=10, max_terms=2)["term"].to_list() == ["Rash", "Nausea"]
    assert dot_plot_terms(table, min_percent=6.3, max_terms=30)["term"].to_list() == ["Rash", "Nausea", "Headache", "Fatigue"]
    assert dot_plot_terms(table, min_percent=0, max_terms=30).height == 5
    assert dot_plot_terms(table, min_percent=50, max_terms=30).is_empty()


def test_dot_plot_terms_keep_every_arm_of_a_term():
    table = ae_risk_differences(soc_term_by_arm(), overview_by_arm(), ARMS, reference=None)
    shown = dot_plot_terms(table, min_percent=15, max_terms=30)  # Nausea reaches 18.8 in B only
    assert shown.select("term", "arm_id").rows() == [("Rash", "a"), ("Rash", "b"), ("Nausea", "a"), ("Nausea", "b")]
    with pytest.raises(ValueError, match="at least one term"):
        dot_plot_terms(table, min_percent=5, max_terms=0)
