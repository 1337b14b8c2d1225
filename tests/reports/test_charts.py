"""matplotlib charts inlined as SVG (reports/charts.py): well-formed, titled and described, the same
bytes for the same data, self-contained, and drawing exactly the marks their tables hold."""

import re
import xml.etree.ElementTree as ElementTree
from datetime import date

import polars as pl
import pytest

from reports.charts import enrolment_chart, heatmap_chart, km_chart, swimmer_chart

SVG = "{http://www.w3.org/2000/svg}"

# A t_heatmap of three cycles and after treatment (denominators 10, 8, 5, 9). Hypertension (rank
# 1): 4 subjects in all, 3 in cycle 1 at worst grade 2, 2 in cycle 2 at worst grade 3. Fatigue
# (rank 2): 1 subject, grade 1, cycle 3. Rash (rank 3): 1 subject, grade 5, after treatment.
# Totals: 4 in cycle 1 (worst 2), 2 in cycle 2 (3), 1 in cycle 3 (1), 1 after treatment (5).
HEATMAP_COLUMNS = ["term_rank", "meddra_soc", "term", "cycle", "cycle_label", "subjects", "events", "denominator", "percent",
                   "worst_grade", "term_subjects", "term_worst_grade"]
HEATMAP = pl.DataFrame(
    [
        (0, "(any)", "(any)", 1, "1", 4, 5, 10, 40.0, 2, 6, 5),
        (0, "(any)", "(any)", 2, "2", 2, 2, 8, 25.0, 3, 6, 5),
        (0, "(any)", "(any)", 3, "3", 1, 1, 5, 20.0, 1, 6, 5),
        (0, "(any)", "(any)", None, "After treatment", 1, 1, 9, 11.1, 5, 6, 5),
        (1, "Vascular disorders", "Hypertension", 1, "1", 3, 3, 10, 30.0, 2, 4, 3),
        (1, "Vascular disorders", "Hypertension", 2, "2", 2, 2, 8, 25.0, 3, 4, 3),
        (2, "General disorders and administration site conditions", "Fatigue", 3, "3", 1, 1, 5, 20.0, 1, 1, 1),
        (3, "Skin and subcutaneous tissue disorders", "Rash maculo-papular", None, "After treatment", 1, 1, 9, 11.1, 5, 1, 5),
    ],
    schema=HEATMAP_COLUMNS,
    orient="row",
)

# A t_swimmer of three subjects: A (200 days on study, both agents, a hold and a reduction of
# apatinib, a grade 3 AE, first PD on day 150, still on treatment at the cut, day 200); B (90
# days, apatinib only, grade 4 and grade 5 AEs, death on day 90); C (30 days, both agents, nothing
# else).
SWIMMER_COLUMNS = ["subject_id", "kind", "agent", "start_day", "end_day", "grade", "ae_id", "ae_term", "reason", "days_on_study"]
SWIMMER = pl.DataFrame(
    [
        ("A", "on_study", None, 1, 200, None, None, None, None, 200),
        ("A", "on_agent", "apatinib", 1, 199, None, None, None, None, 200),
        ("A", "on_agent", "anti_pd1", 1, 183, None, None, None, None, 200),
        ("A", "hold", "apatinib", 40, 43, None, None, None, "Hypertension", 200),
        ("A", "reduction", "apatinib", 44, 199, None, None, None, "Hypertension", 200),
        ("A", "grade_3_plus", None, 38, 50, 3, "AE1", "Hypertension", None, 200),
        ("A", "progression", None, 150, None, None, None, None, None, 200),
        ("A", "on_treatment_at_cut", None, 200, None, None, None, None, None, 200),
        ("B", "on_study", None, 1, 90, None, None, None, None, 90),
        ("B", "on_agent", "apatinib", 1, 80, None, None, None, None, 90),
        ("B", "grade_3_plus", None, 60, 70, 4, "AE2", "Colitis", None, 90),
        ("B", "grade_3_plus", None, 88, 90, 5, "AE3", "Pharyngeal hemorrhage", None, 90),
        ("B", "death", None, 90, None, None, None, None, "adverse_event", 90),
        ("C", "on_study", None, 1, 30, None, None, None, None, 30),
        ("C", "on_agent", "apatinib", 1, 28, None, None, None, None, 30),
        ("C", "on_agent", "anti_pd1", 1, 15, None, None, None, None, 30),
    ],
    schema=SWIMMER_COLUMNS,
    orient="row",
)
AGENTS = {"apatinib": "Apatinib", "anti_pd1": "Anti-PD-1"}

# Kaplan-Meier curves, worked by hand. PFS, 4 subjects: event on day 100 (S = 3/4), censored on
# day 200, event on day 400 (S = 0.75 x 1/2 = 0.375). OS, 4 subjects: censored on day 300, event
# on day 500 (S = 2/3). At risk at month m (day 30.4375 m): the at_risk of the first time at or
# after it, 0 past the last time. PFS: month 0 -> 4, 3 (day 91.3) -> 4 (day 100), 6 (182.6) -> 3
# (day 200), 12 (365.25) -> 2 (day 400), 18 and 24 -> 0. OS: 0 -> 4, 3 -> 4, 6 -> 4, 12 -> 3
# (day 500: 3 left after the censoring on day 300), 18 (547.9) and 24 -> 0.
KM = pl.DataFrame(
    [
        ("pfs", 0, 1.0, 1.0, 1.0, 4, 0, 0),
        ("pfs", 100, 0.75, 0.13, 0.96, 4, 1, 0),
        ("pfs", 200, 0.75, 0.13, 0.96, 3, 0, 1),
        ("pfs", 400, 0.375, 0.01, 0.78, 2, 1, 0),
        ("os", 0, 1.0, 1.0, 1.0, 4, 0, 0),
        ("os", 300, 1.0, 1.0, 1.0, 4, 0, 1),
        ("os", 500, 0.6667, 0.05, 0.95, 3, 1, 0),
    ],
    schema=["endpoint", "time_days", "survival", "ci_lower", "ci_upper", "at_risk", "events", "censored"],
    orient="row",
)

ENROLMENT = pl.DataFrame(
    {
        "month": [date(2024, 3, 1), date(2024, 4, 1), date(2024, 5, 1), date(2024, 6, 1)],
        "enrolled": [2, 5, 0, 3],
        "cumulative_enrolled": [2, 7, 7, 10],
    }
)


def parse(chart) -> ElementTree.Element:
    return ElementTree.fromstring(str(chart.svg))


def group(root: ElementTree.Element, element_id: str) -> ElementTree.Element:
    found = [element for element in root.iter() if element.get("id") == element_id]
    assert len(found) == 1, element_id
    return found[0]


def marks(root: ElementTree.Element, element_id: str) -> int:
    """The marks a group draws: its paths (a collection's members) or its uses (a line's markers)."""
    element = group(root, element_id)
    return sum(1 for e in element.iter() if e.tag in (f"{SVG}path", f"{SVG}use") and e.get("id") is None)


CHARTS = {
    "heatmap": lambda: heatmap_chart(HEATMAP, title="TEAEs by cycle", terms=20),
    "swimmer": lambda: swimmer_chart(SWIMMER, title="Swimmer plot", agents=AGENTS),
    "km": lambda: km_chart(KM, title="PFS and OS", labels={"pfs": "PFS", "os": "OS"}),
    "enrolment": lambda: enrolment_chart(ENROLMENT, title="Enrolment"),
}


@pytest.mark.parametrize("name", CHARTS)
def test_svg_is_titled_described_and_self_contained(name):
    chart = CHARTS[name]()
    root = parse(chart)  # well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert group(root, title_id).tag == f"{SVG}title" and group(root, title_id).text
    assert group(root, desc_id).tag == f"{SVG}desc" and group(root, desc_id).text == chart.alternative
    svg = str(chart.svg)
    assert not re.search(r"<script|<\?xml|<!DOCTYPE|<metadata|@import|@font-face", svg)
    assert not re.search(r'(?:src|href)="(?!#)', svg)  # references stay inside the chart
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/1999/xlink", "http://www.w3.org/2000/svg"]
    assert not re.search(r"\b20\d\d-\d\d-\d\dT", svg)  # no creation date
    # Every id carries the chart's key, so that charts sharing a page never collide.
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))
    assert all(element_id.startswith(f"{chart.key}-") for element_id in ids)
    assert re.findall(r"url\(#([^)]+)\)", svg) and all(ref.startswith(f"{chart.key}-") for ref in re.findall(r"url\(#([^)]+)\)", svg))
    # Text stays text, in a sans-serif list with a CJK fallback after DejaVu Sans.
    assert root.find(f".//{SVG}text") is not None
    assert "font-family: 'DejaVu Sans', 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif" in svg


@pytest.mark.parametrize("name", CHARTS)
def test_the_same_data_gives_the_same_bytes(name):
    assert str(CHARTS[name]().svg) == str(CHARTS[name]().svg)


def test_heatmap_draws_one_cell_and_one_number_per_non_empty_cell():
    """Rows: any TEAE, Hypertension, Fatigue, Rash; 8 non-empty cells (4 totals, 2 hypertension, 1
    fatigue, 1 rash), each a coloured box with its number of subjects."""
    chart = CHARTS["heatmap"]()
    root = parse(chart)
    assert marks(root, "t_heatmap-cells") == 8
    counts = {
        element.get("id"): "".join(element.itertext()).strip()
        for element in root.iter() if (element.get("id") or "").startswith("t_heatmap-count-")
    }
    # count-<row>-<column>: rows 0 any TEAE, 1 Hypertension, 2 Fatigue, 3 Rash; columns 0-2 cycles 1-3, 3 after treatment.
    assert counts == {
        "t_heatmap-count-0-0": "4", "t_heatmap-count-0-1": "2", "t_heatmap-count-0-2": "1", "t_heatmap-count-0-3": "1",
        "t_heatmap-count-1-0": "3", "t_heatmap-count-1-1": "2", "t_heatmap-count-2-2": "1", "t_heatmap-count-3-3": "1",
    }
    svg = str(chart.svg)
    for label in ("Any TEAE (6)", "Hypertension (4)", "Fatigue (1)", "Rash maculo-papular (1)", "After", "N on treatment"):
        assert f">{label}<" in svg, label
    for grade in ("Grade 1", "Grade 2", "Grade 3", "Grade 4", "Grade 5 (fatal)"):  # grade in words, not colour alone
        assert f">{grade}<" in svg
    assert chart.alternative == (
        "Hypertension is the most frequent treatment-emergent term: 4 subjects, worst grade 3 in cycle 2. "
        "Most subjects with a TEAE onset: cycle 1, 4 of 10 on treatment. "
        "The chart shows the 3 most frequent of 3 terms across cycles 1-3 and after treatment."
    )


def test_heatmap_shows_the_most_frequent_terms_only():
    """With terms=1: the totals row and Hypertension; 4 + 2 cells."""
    chart = heatmap_chart(HEATMAP, title="TEAEs by cycle", terms=1)
    root = parse(chart)
    assert marks(root, "t_heatmap-cells") == 6
    assert ">Fatigue (1)<" not in str(chart.svg)
    assert chart.alternative.endswith("The chart shows the 1 most frequent of 3 terms across cycles 1-3 and after treatment.")


def test_swimmer_draws_one_lane_per_subject_and_every_mark():
    chart = CHARTS["swimmer"]()
    root = parse(chart)
    assert marks(root, "t_swimmer-on-study") == 3  # lanes: A, B, C
    assert marks(root, "t_swimmer-on-agent-apatinib") == 3
    assert marks(root, "t_swimmer-on-agent-anti_pd1") == 2
    for element_id, expected in [
        ("hold", 1), ("reduction", 1), ("grade-3", 1), ("grade-4", 1), ("grade-5", 1),
        ("progression", 1), ("death", 1), ("on-treatment-at-cut", 1),
    ]:
        assert marks(root, f"t_swimmer-{element_id}") == expected, element_id
    svg = str(chart.svg)
    for label in ("on Apatinib (first to last dose)", "on Anti-PD-1 (first to last dose)", "grade 3 AE onset", "grade 5 AE onset", "death"):
        assert f">{label}<" in svg, label
    # Lanes top to bottom by time on study: A (200 days), B (90), C (30); A's 199 days are 6.5 months.
    positions = [svg.index(f">{label}</text>") for label in ("A", "B", "C")]
    assert positions == sorted(positions)
    assert chart.alternative == (
        "3 treated subjects, one lane each, the longest 6.5 months on study; 3 grade ≥3 AE onsets in 2 subjects; 1 death; "
        "1 first progression; 1 subject still on treatment at the cut; 1 dose hold and 1 dose reduction."
    )


def test_swimmer_above_the_limit_keeps_subjects_with_severe_events_first():
    """Limit 2 of 3, with C now 300 days on study (the longest) but with no grade >= 3 AE and no
    death: A (grade 3 AE) and B (grade 4 and 5 AEs, death) are drawn, C is left out."""
    longer_c = SWIMMER.with_columns(
        pl.when(pl.col("subject_id") == "C").then(300).otherwise(pl.col("days_on_study")).alias("days_on_study"),
        pl.when((pl.col("subject_id") == "C") & (pl.col("kind") == "on_study")).then(300).otherwise(pl.col("end_day")).alias("end_day"),
    )
    chart = swimmer_chart(longer_c, title="Swimmer plot", agents=AGENTS, max_subjects=2)
    svg = str(chart.svg)
    assert marks(parse(chart), "t_swimmer-on-study") == 2
    assert ">A</text>" in svg and ">B</text>" in svg and ">C</text>" not in svg
    assert chart.alternative.endswith(
        "With more than 2 subjects the plot shows 2: those with a grade ≥3 AE or a death first, then the longest on study; "
        "1 subject is left out (all are in the table)."
    )
    # Among subjects alike, the longest on study are kept: limit 1 keeps A (200 days) before B (90).
    only_one = swimmer_chart(longer_c, title="Swimmer plot", agents=AGENTS, max_subjects=1)
    assert ">A</text>" in str(only_one.svg) and ">B</text>" not in str(only_one.svg)


def test_swimmer_death_of_unknown_date_is_not_drawn_but_counted():
    undated = SWIMMER.with_columns(
        pl.when(pl.col("kind") == "death").then(None).otherwise(pl.col("start_day")).alias("start_day")
    )
    chart = swimmer_chart(undated, title="Swimmer plot", agents=AGENTS)
    assert not [e for e in parse(chart).iter() if e.get("id") == "t_swimmer-death"]
    assert "1 death (1 of unknown date, not drawn)" in chart.alternative


def test_km_draws_curves_bands_censor_ticks_and_numbers_at_risk():
    chart = CHARTS["km"]()
    root = parse(chart)
    at_risk = {
        element.get("id").removeprefix("km_curves-at-risk-"): "".join(element.itertext()).strip()
        for element in root.iter() if (element.get("id") or "").startswith("km_curves-at-risk-")
    }
    assert at_risk == {
        "pfs-0": "4", "pfs-3": "4", "pfs-6": "3", "pfs-12": "2", "pfs-18": "0", "pfs-24": "0",
        "os-0": "4", "os-3": "4", "os-6": "4", "os-12": "3", "os-18": "0", "os-24": "0",
    }
    assert marks(root, "km_curves-censored-pfs") == 1
    assert marks(root, "km_curves-censored-os") == 1
    for endpoint in ("pfs", "os"):
        group(root, f"km_curves-curve-{endpoint}")
        group(root, f"km_curves-band-{endpoint}")
    # At 12 months (day 365.25) the estimates stand at their last step before: PFS 0.75 (day 200), OS 1.0 (day 300).
    assert chart.alternative == (
        "PFS: 4 subjects, 2 events; 75% at 12 months (95% band 13-96%). OS: 4 subjects, 1 event; 100% at 12 months (95% band 100-100%)."
    )


def test_enrolment_draws_a_bar_per_month_and_says_the_span():
    chart = CHARTS["enrolment"]()
    root = parse(chart)
    bars = [e.get("id") for e in root.iter() if (e.get("id") or "").startswith("t_enrolment_by_month-enrolled-")]
    assert len(bars) == 4  # one per month, May's empty one included
    assert marks(root, "t_enrolment_by_month-cumulative") == 4 + 1  # the line's path, then a marker per month
    assert chart.alternative == "10 subjects enrolled from March 2024 to June 2024; the most in one month: 5, in April 2024."
    assert ">10<" in str(chart.svg)  # the total, at the end of the line


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: heatmap_chart(HEATMAP, title="x", terms=0), "terms"),
        (lambda: swimmer_chart(SWIMMER, title="x", max_subjects=0), "max_subjects"),
        (lambda: swimmer_chart(SWIMMER.with_columns(pl.lit("nap").alias("kind")), title="x"), "unknown kind"),
        (lambda: km_chart(KM.drop("censored"), title="x"), "censored"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_text_is_escaped_in_the_markup():
    """A term with markup characters is drawn as text: the SVG still parses, the title too."""
    cells = HEATMAP.with_columns(pl.col("term").str.replace("Fatigue", "Pain & <swelling>"))
    chart = heatmap_chart(cells, title="TEAEs <by> cycle & grade")
    root = parse(chart)
    assert "Pain & <swelling> (1)" in ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]
    assert group(root, "t_heatmap-title").text == "TEAEs <by> cycle & grade"


def test_km_curve_reaching_zero_leaves_a_gap_in_its_band():
    """A curve whose last time is an event falls to 0, where the interval is undefined (empty in
    km_curves): 2 subjects, events on days 100 and 200: S(100) = 0.5, S(200) = 0. The chart draws
    the curve to 0 with no band at that step; its sentence reads the last landmark with an interval,
    6 months (day 183): 50% (band 1-91%)."""
    curves = pl.DataFrame(
        [("pfs", 0, 1.0, 1.0, 1.0, 2, 0, 0), ("pfs", 100, 0.5, 0.006, 0.91, 2, 1, 0), ("pfs", 200, 0.0, None, None, 1, 1, 0)],
        schema={"endpoint": pl.String, "time_days": pl.Int64, "survival": pl.Float64, "ci_lower": pl.Float64,
                "ci_upper": pl.Float64, "at_risk": pl.Int64, "events": pl.Int64, "censored": pl.Int64},
        orient="row",
    )
    chart = km_chart(curves, title="PFS")
    root = parse(chart)
    group(root, "km_curves-curve-pfs")
    assert chart.alternative == "PFS: 2 subjects, 2 events; 50% at 6 months (95% band 1-91%)."
