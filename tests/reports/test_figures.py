"""The report's figures section (reports/sections/figures.py): settings from the trial config, notes
with population, denominator, window and cut, and free text kept out of the open report's charts."""

import polars as pl

from reports.free_text import OMITTED, OpenReportText
from reports.sections.figures import figures_context
from tests.conftest import BUNDLED_CONFIG
from tests.reports.test_charts import HEATMAP, SWIMMER
from trial.config import load_trial_config

POPULATION = "Data cut 2025-07-01. Safety population: N = 10 treated subjects (at least one dose)."

# A specified "Other, specify" text typed about a patient, as the heatmap's third term.
TYPED = "rash on Mr Wang's left arm"
CELLS = HEATMAP.with_columns(
    pl.when(pl.col("term") == "Rash maculo-papular").then(pl.lit(TYPED)).otherwise(pl.col("term")).alias("term")
)


def context(config_text: str, tmp_path, *, open_report_free_text: bool = False) -> dict:
    path = tmp_path / "trial.toml"
    path.write_text(config_text)
    config = load_trial_config(path)
    free_text = OpenReportText(omit=not open_report_free_text, dictionary=None, named_texts=frozenset())
    return figures_context(
        {"t_heatmap": CELLS, "t_swimmer": SWIMMER}, config, population=POPULATION,
        teae_window="treatment-emergent: onset from the first dose to 30 days after the last dose",
        cycle_rule="28-day cycles from the first dose (calendar)", free_text=free_text,
    )


def test_figures_follow_the_report_settings(tmp_path):
    """[report] heatmap_terms = 1 draws the totals row and the first term only; swimmer_max_subjects
    = 2 draws two lanes of three and says so in the note and under the chart."""
    text = BUNDLED_CONFIG.read_text() + "\n[report]\nheatmap_terms = 1\nswimmer_max_subjects = 2\n"
    heatmap, swimmer = context(text, tmp_path)["shown"]
    assert (heatmap.key, swimmer.key) == ("t_heatmap", "t_swimmer")
    assert "the 1 most frequent of 3 terms" in heatmap.note
    assert ">Fatigue (1)<" not in str(heatmap.chart.svg)
    assert "With more than 2 treated subjects ([report] swimmer_max_subjects)" in swimmer.note
    assert "1 subject is left out" in swimmer.chart.alternative
    for figure in (heatmap, swimmer):
        assert figure.note.startswith(POPULATION)
        assert figure.table_files == f"tables/{figure.key}.csv and tables/{figure.key}.parquet"
    assert "Denominator of each column, under the chart: the subjects on treatment in the cycle" in heatmap.note
    assert "Window: treatment-emergent: onset from the first dose to 30 days after the last dose" in heatmap.note


def test_defaults_show_twenty_terms_and_a_hundred_lanes(tmp_path):
    heatmap, swimmer = context(BUNDLED_CONFIG.read_text(), tmp_path)["shown"]
    assert "[report] heatmap_terms = 20" in heatmap.note
    assert "With more than 100 treated subjects" in swimmer.note


def test_free_text_is_omitted_from_the_open_report_charts(tmp_path):
    """With privacy.open_report_free_text false (the default) a typed text is drawn as the mark;
    its cells and counts stay."""
    heatmap, _ = context(BUNDLED_CONFIG.read_text(), tmp_path)["shown"]
    svg = str(heatmap.chart.svg)
    assert "Wang" not in svg and "Wang" not in heatmap.chart.alternative
    assert f">{OMITTED} (1)<" in svg
    shown, _ = context(BUNDLED_CONFIG.read_text(), tmp_path, open_report_free_text=True)["shown"]
    assert ">rash on Mr Wang's left arm (1)<" in str(shown.chart.svg)
