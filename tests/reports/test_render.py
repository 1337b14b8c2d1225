"""The DSMB report: flags first, data cut and denominator on every table, self-contained."""

import re
from pathlib import Path

import pytest

from flows.stages import analyse, ingest, render
from tests.conftest import OUTPUT_TABLES, make_mini_trial


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    loaded = ingest(make_mini_trial(tmp_path_factory.mktemp("report")))
    analyse(loaded)
    (path,) = render(loaded)
    return Path(path).read_text()


def test_flags_come_before_every_table(report):
    flags_at = report.index('id="flags"')
    assert flags_at < report.index('id="t_overview"')
    assert flags_at < report.index('id="accounting"')


def test_every_table_states_cut_population_and_window(report):
    """Every table of the output folder has its section, except cumulative_incidence_curves, which
    the report draws as the chart of t_cumulative_incidence, and km_curves, the steps of the
    Kaplan-Meier curves of t_survival."""
    sections = dict(re.findall(r'<section id="(\w+)" class="table-section">(.*?)</section>', report, flags=re.S))
    assert set(sections) == OUTPUT_TABLES - {"cumulative_incidence_curves", "km_curves"}
    for name, body in sections.items():
        assert "Data cut 2025-07-01" in body, name
    for name in ("t_overview", "t_soc_term", "t_attribution", "t_aesi", "t_cumulative_incidence", "t_deaths"):
        assert "N = 4 treated subjects" in sections[name], name
    for name in ("t_overview", "t_soc_term", "t_attribution", "t_aesi"):
        assert "Window: treatment-emergent: onset from the first dose to 30 days after the last dose" in sections[name], name
    assert "acute: onset on study days 1-90; late: onset on study days 91-730" in sections["t_acute_late"]
    assert "28-day cycles from the first dose (calendar)" in sections["t_by_cycle"]
    assert "Window: onset from study day 1 to 730" in sections["t_cumulative_incidence"]


def test_status_and_statement_of_each_rule(report):
    assert "Any treatment-related death" in report
    assert re.search(r'status-STOP">STOP</span> Any treatment-related death', report)


def test_report_needs_no_network(report):
    external = re.findall(r'(?:src|href)="(?!#)[^"]*"', report)
    assert external == []
    assert "<script" not in report
    assert "http://www.w3.org/2000/svg" in report  # the SVG namespace, not a fetch


def test_row_accounting_shown(report):
    """Mini trial AEs: 14 rows = 9 clean + 3 counted with queries + 2 excluded (tests/validators)."""
    assert re.search(
        r'<td>adverse_events</td><td class="num">14</td><td class="num">9</td><td class="num">3</td><td class="num">2</td>', report
    )


def test_two_headlines_and_the_records_not_counted(report):
    """Mini trial: S3's grade 5 pharyngeal hemorrhage (AE6, probable for apatinib) crosses the
    related-death rule. The RSI expects pharyngeal hemorrhage with apatinib up to grade 4 only,
    so AE6 is a SUSAR: aware 2025-02-19, due 02-26 (7 days, fatal), never submitted -> overdue at
    the cut, on its own headline. AE11 and AE14 could not be counted."""
    assert re.search(r'id="stopping-status">\s*<h2>Stopping rules <span class="status status-STOP">STOP</span>', report)
    assert re.search(r'id="reporting-status">\s*<h2>Expedited reporting <span class="status compliance-OVERDUE">OVERDUE</span>', report)
    assert "2 adverse-event record(s) could not be counted" in report
