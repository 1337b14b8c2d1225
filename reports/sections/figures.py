"""Figures of the DSMB report: the AE heatmap (t_heatmap) and the swimmer plot (t_swimmer).

Each figure is a chart drawn from its table (reports/charts.py), the sentence that says in words
what it shows, and a note with the population, denominator, window and data cut; the table
behind it, every row, is in tables/. Free text follows the open report's rule: a term the report
may not print is drawn as "(free text omitted)".
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from reports.charts import Chart, heatmap_chart, swimmer_chart
from reports.free_text import OpenReportText
from trial.config import TrialConfig


@dataclass(frozen=True)
class Figure:
    """A chart as the report shows it: heading, note, the chart and the table file behind it."""

    key: str
    caption: str
    note: str
    chart: Chart

    @property
    def table_files(self) -> str:
        return f"tables/{self.key}.csv and tables/{self.key}.parquet"


def figures_context(
    tables: dict[str, pl.DataFrame],
    config: TrialConfig,
    *,
    population: str,
    teae_window: str,
    cycle_rule: str,
    free_text: OpenReportText,
) -> dict:
    """The section's figures, in the order shown. ``population`` is the report's sentence naming
    the data cut and the safety population; ``teae_window`` and ``cycle_rule`` the treatment-emergent
    window and the cycles, in words."""
    settings = config.model.report
    omitted = f" {free_text.note}" if free_text.note else ""
    heatmap_cells = free_text.column(tables["t_heatmap"], "term")
    terms_in_table = heatmap_cells.filter(pl.col("term") != "(any)")["term_rank"].n_unique()
    terms_shown = min(settings.heatmap_terms, terms_in_table)
    heatmap = Figure(
        key="t_heatmap",
        caption="Treatment-emergent adverse events by cycle: heatmap of the most frequent terms",
        note=(
            f"{population} Window: {teae_window}. Cycles: {cycle_rule}. Rows: any TEAE, then the {terms_shown} most frequent "
            f"of {terms_in_table} terms (by subjects with the term, then worst grade; [report] heatmap_terms = {settings.heatmap_terms}); "
            "\"Other, specify\" events under their specified text; (n) after a row's name: subjects with it in any cycle. "
            "Columns: the cycle of onset; After: onset after the last dose, within the treatment-emergent window. "
            "A cell: the subjects whose TEAE of the term started in the cycle (number) and the worst grade among them in that cycle "
            "(colour, named in the legend); an empty cell: none. Denominator of each column, under the chart: the subjects on "
            "treatment in the cycle (After: treated subjects whose last dose is before the cut). Grades as counted: a doubtful "
            "grade is counted the conservative way and queried." + omitted
        ),
        chart=heatmap_chart(
            heatmap_cells, terms=settings.heatmap_terms, title="Treatment-emergent adverse events by cycle of onset and worst grade"
        ),
    )
    progression = (
        "Progression: the first assessment with overall response PD (RECIST 1.1) on or after the first dose."
        if config.model.sources.tumour_assessments is not None
        else "No tumour-assessment source: progression is not drawn."
    )
    swimmer = Figure(
        key="t_swimmer",
        caption="Course of each treated subject: swimmer plot",
        note=(
            f"{population} One lane per treated subject, the longest on study at the top; time from the first dose (study day 1) "
            "in months of 30.4375 days, to death, else the last contact, else (no last contact recorded) the last date the "
            "subject's records show them observed: last dose, AE onset, lab sample or tumour assessment (grey line). Bars: each agent from its first to its last dose "
            "(a held dose does not end a bar); marks on a bar: its dose holds and reductions (exposure records). Grade ≥3 AEs: "
            "onset on or after the first dose, treatment-emergent or not, grade as counted (a doubtful grade the conservative "
            f"way); deaths by the cut, any cause, as the disposition counts them (a death of unknown date, including one known "
            f"only from a grade 5 AE or the end-of-treatment reason \"death\", has no place on the time axis and is counted in the "
            f"sentence under the chart; the fatal AE has its own mark at its onset). {progression} Arrow: on treatment at the "
            f"cut: alive, and no end of treatment (neither a date nor a reason) by the cut. "
            f"With more than {config.model.report.swimmer_max_subjects} treated subjects ([report] swimmer_max_subjects) the plot "
            "draws that many lanes, subjects with a grade ≥3 AE or a death first; the table has every subject."
        ),
        chart=swimmer_chart(
            tables["t_swimmer"],
            agents={agent.id: agent.name for agent in config.model.agents},
            max_subjects=settings.swimmer_max_subjects,
            title="Time on each agent, dose holds and reductions, grade ≥3 adverse events, progression and death, per subject",
        ),
    )
    return {"shown": [heatmap, swimmer], "heatmap": heatmap, "swimmer": swimmer}
