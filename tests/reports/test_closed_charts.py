"""The closed report's charts by arm: the AE dot plot with risk differences against the reference
arm (table t_ae_risk_difference) and the time to the first grade >= 3 AE by arm.

The two-arm trial of tests/reports/test_closed_report.py (the bundled trial, rows 1-24 of its
subjects file in arm A, rows 25-59 in arm B, row 60 in no configured arm; every subject dosed, so
N = 24 and 35), with arm B marked ``reference = true``. The numbers are checked against the tables
by arm they come from (t_soc_term's counts per arm, t_cumulative_incidence's subjects at risk) and
against a plain computation of Newcombe's interval (tests/safetydb/test_risk_difference.py).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import polars as pl
import pytest

from flows.stages import analyse, ingest, render, render_pdf
from reports.sections.arm_figures import dot_plot_figure
from safetydb.risk_difference import ae_risk_differences
from tests.reports.test_closed_report import two_arm_trial
from tests.safetydb.test_risk_difference import newcombe, round_half_away
from trial.config import load_trial_config

ARM_N = {"a": 24, "b": 35}
SVG = "{http://www.w3.org/2000/svg}"


def with_reference(config: Path) -> Path:
    text = config.read_text(encoding="utf-8")
    marked = text.replace('label = "Arm B"\n', 'label = "Arm B"\nreference = true\n', 1)
    assert marked != text
    config.write_text(marked, encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The two-arm trial, arm B the reference, through ingest, analyse and render (no Prefect)."""
    config = with_reference(two_arm_trial(tmp_path_factory.mktemp("charts") / "trial"))
    loaded = ingest(config)
    analyse(loaded)
    render(loaded)
    out = Path(loaded.out_dir)
    return {
        "config": config,
        "loaded": loaded,
        "closed": (out / "dsmb_report_closed.html").read_text(encoding="utf-8"),
        "by_arm": out / "tables" / "by_arm",
    }


def by_arm(run, name: str) -> pl.DataFrame:
    return pl.read_parquet(run["by_arm"] / f"{name}.parquet")


def chart(report: str, key: str) -> ElementTree.Element:
    found = re.search(rf'<svg id="{key}-chart".*?</svg>', report, flags=re.S)
    assert found, key
    return ElementTree.fromstring(found.group(0))


def group(svg: ElementTree.Element, element_id: str) -> ElementTree.Element | None:
    return next((element for element in svg.iter() if element.get("id") == element_id), None)


def texts(element: ElementTree.Element) -> list[str]:
    return [text.text or "" for text in element.iter(f"{SVG}text")]


def expected_terms(run, *, min_percent: float = 5, max_terms: int = 30) -> list[str]:
    """The dot plot's terms by the rule, from t_soc_term by arm: a term whose percent reaches 5 in
    arm A or B, ordered by All arms subjects (then highest arm percent, SOC, term), at most 30."""
    terms = by_arm(run, "t_soc_term").filter((pl.col("meddra_soc") != "(any)") & (pl.col("term") != "(any)"))
    arms = terms.filter(pl.col("arm_id").is_in(["a", "b"])).group_by("meddra_soc", "term").agg(pl.col("percent").max().alias("highest"))
    total = terms.filter(pl.col("arm_id") == "total").select("meddra_soc", "term", pl.col("subjects").alias("pooled"))
    ordered = total.join(arms, on=["meddra_soc", "term"], how="left").with_columns(pl.col("highest").fill_null(0.0)).sort(
        ["pooled", "highest", "meddra_soc", "term"], descending=[True, True, False, False]
    )
    return ordered.filter(pl.col("highest") >= min_percent).head(max_terms)["term"].to_list()


# ---- the table ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_risk_difference_table_counts_match_the_tables_by_arm(run):
    table = by_arm(run, "t_ae_risk_difference")
    soc_term = by_arm(run, "t_soc_term").filter((pl.col("meddra_soc") != "(any)") & (pl.col("term") != "(any)"))
    assert table["arm_id"].unique().to_list() == ["a"] and set(table["reference_arm_id"].to_list()) == {"b"}
    assert table.height == soc_term.filter(pl.col("arm_id") == "total").height  # every term, once for arm A
    counts = {(row["arm_id"], row["meddra_soc"], row["term"]): row["subjects"] for row in soc_term.iter_rows(named=True)}
    for row in table.iter_rows(named=True):
        key = (row["meddra_soc"], row["term"])
        assert (row["subjects"], row["denominator"]) == (counts.get(("a", *key), 0), ARM_N["a"]), key
        assert (row["reference_subjects"], row["reference_denominator"]) == (counts.get(("b", *key), 0), ARM_N["b"]), key
        difference, lower, upper = newcombe(row["subjects"], ARM_N["a"], row["reference_subjects"], ARM_N["b"])
        assert (row["risk_difference"], row["ci_lower"], row["ci_upper"]) == (
            round_half_away(100 * difference), round_half_away(100 * lower), round_half_away(100 * upper),
        ), key


# ---- the closed report --------------------------------------------------------------------------


@pytest.mark.slow
def test_charts_follow_the_overview_in_the_closed_report(run):
    keys = ("t_overview", "t_ae_risk_difference", "cumulative_incidence_by_arm", "t_soc_term")
    positions = [run["closed"].index(f'<section id="{key}"') for key in keys]
    assert positions == sorted(positions)


@pytest.mark.slow
def test_dot_plot_shows_the_terms_of_the_rule_with_each_arm_and_the_differences(run):
    svg = chart(run["closed"], "t_ae_risk_difference")
    terms = expected_terms(run)
    assert terms, "the bundled trial has terms of 5% or more"
    drawn = texts(svg)
    for term in terms:
        assert term[:43] in " ".join(drawn), term
    # One dot per term in each arm's incidence group, one estimate per term for arm A against B.
    for element_id in ("incidence-a", "incidence-b", "difference-a"):
        found = group(svg, f"t_ae_risk_difference-{element_id}")
        assert found is not None and len(list(found.iter(f"{SVG}use"))) == len(terms), element_id
    assert group(svg, "t_ae_risk_difference-difference-b") is None  # the reference arm is not compared with itself
    assert f"{len(terms)} terms shown" in run["closed"]
    assert "Arm B (N=35), reference" in " ".join(drawn) and "Arm A (N=24)" in " ".join(drawn)


@pytest.mark.slow
def test_dot_plot_note_states_population_window_cut_and_method(run):
    section = re.search(r'<section id="t_ae_risk_difference".*?</section>', run["closed"], flags=re.S).group(0)
    note = re.sub(r"\s+", " ", re.search(r'<p class="note">(.*?)</p>', section, flags=re.S).group(1))
    for phrase in (
        "Data cut 2026-06-30.", "treated subjects (at least one dose by the cut) of each arm", "Window: treatment-emergent",
        "at least 5% in at least one arm", "Arm B, the reference arm", "Newcombe", "not adjusted for the number of terms",
        "tables/by_arm/t_ae_risk_difference.csv",
    ):
        assert phrase in note, phrase


@pytest.mark.slow
def test_time_to_first_grade_3_by_arm_with_numbers_at_risk(run):
    """Month 0: each arm's N (24, 35); later months: t_cumulative_incidence's at_risk of the arm."""
    svg = chart(run["closed"], "cumulative_incidence_by_arm")
    for arm_id in ("a", "b"):
        assert group(svg, f"cumulative_incidence_by_arm-curve-{arm_id}") is not None
        assert texts(group(svg, f"cumulative_incidence_by_arm-at-risk-{arm_id}-0")) == [str(ARM_N[arm_id])]
    table = by_arm(run, "t_cumulative_incidence").filter(pl.col("endpoint") == "grade_3_plus")
    for arm_id, month, at_risk in table.filter(pl.col("arm_id") != "total").select("arm_id", "month", "at_risk").iter_rows():
        drawn = group(svg, f"cumulative_incidence_by_arm-at-risk-{arm_id}-{month:g}")
        if drawn is not None:  # months past the axis are not drawn
            assert texts(drawn) == [str(at_risk)], (arm_id, month)
    assert group(svg, "cumulative_incidence_by_arm-curve-total") is None
    section = re.search(r'<section id="cumulative_incidence_by_arm".*?</section>', run["closed"], flags=re.S).group(0)
    for phrase in ("Data cut 2026-06-30.", "of grade 3 or more", "competing risk", "Aalen-Johansen", "Number at risk"):
        assert phrase in section, phrase


@pytest.mark.slow
def test_without_a_reference_arm_only_incidences_are_drawn(run, tmp_path):
    text = run["config"].read_text(encoding="utf-8").replace("reference = true\n", "")
    (tmp_path / "trial.toml").write_text(text, encoding="utf-8")
    config = load_trial_config(tmp_path / "trial.toml")
    table = ae_risk_differences(by_arm(run, "t_soc_term"), by_arm(run, "t_overview"), [("a", "Arm A"), ("b", "Arm B")], reference=None)
    figure = dot_plot_figure(table, [("a", "Arm A"), ("b", "Arm B")], config, population="Data cut 2026-06-30.", teae_window="TEAE")
    assert "No arm is marked as the reference (control) arm" in figure.note
    svg = str(figure.chart.svg)
    assert "t_ae_risk_difference-difference-" not in svg and "t_ae_risk_difference-interval-" not in svg
    assert "t_ae_risk_difference-incidence-a" in svg and "t_ae_risk_difference-incidence-b" in svg
    assert "No reference arm: no risk differences." in figure.chart.alternative


@pytest.mark.slow
def test_no_dot_plot_chart_when_no_term_reaches_the_threshold(run, tmp_path):
    text = run["config"].read_text(encoding="utf-8") + "\n[report]\ndot_plot_min_percent = 100\n"
    (tmp_path / "trial.toml").write_text(text, encoding="utf-8")
    config = load_trial_config(tmp_path / "trial.toml")
    figure = dot_plot_figure(
        by_arm(run, "t_ae_risk_difference"), [("a", "Arm A"), ("b", "Arm B")], config, population="Data cut 2026-06-30.", teae_window="TEAE"
    )
    assert figure.chart is None and "No treatment-emergent term has an incidence of 100% or more" in figure.empty


@pytest.mark.slow
def test_charts_are_the_same_bytes_on_a_second_render(run):
    render(run["loaded"])
    again = (Path(run["loaded"].out_dir) / "dsmb_report_closed.html").read_text(encoding="utf-8")
    for key in ("t_ae_risk_difference", "cumulative_incidence_by_arm"):
        assert re.search(rf'<svg id="{key}-chart".*?</svg>', again, flags=re.S).group(0) == re.search(
            rf'<svg id="{key}-chart".*?</svg>', run["closed"], flags=re.S
        ).group(0)


@pytest.mark.slow
def test_each_chart_is_on_one_page_with_its_heading_in_the_pdf(run):
    pdfium = pytest.importorskip("pypdfium2")
    entry = render_pdf(run["loaded"])
    if not entry["written"]:
        pytest.skip(f"no PDF on this machine: {entry.get('reason')}")
    document = pdfium.PdfDocument(Path(run["loaded"].out_dir) / "dsmb_report_closed.pdf")
    pages = [re.sub(r"\s+", " ", document[index].get_textpage().get_text_range()) for index in range(len(document))]
    document.close()
    for heading, axis_text in (
        ("dot plot with risk differences", "Risk difference vs Arm B"),
        ("Time to the first grade ≥3 AE by arm", "Number at risk"),
    ):
        found = [index for index, page in enumerate(pages) if heading in page]
        assert len(found) == 1, heading
        assert axis_text in pages[found[0]], heading
