"""The DSMB report: flags first, data cut and denominator on every table, self-contained."""

import re
from pathlib import Path

import pytest

from flows.stages import analyse, ingest, render
from tests.conftest import make_mini_trial


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


def test_every_table_states_cut_and_denominator(report):
    sections = re.findall(r'<section id="(\w+)" class="table-section">(.*?)</section>', report, flags=re.S)
    assert len(sections) == 11
    for name, body in sections:
        assert "Data cut 2025-07-01" in body, name
    for name, body in sections:
        if name in ("t_overview", "t_soc_term", "t_attribution", "t_aesi"):
            assert "N = 4 treated subjects" in body, name


def test_status_and_statement_of_each_rule(report):
    assert "Any treatment-related death" in report
    assert re.search(r'status-STOP">STOP</span> Any treatment-related death', report)


def test_report_needs_no_network(report):
    external = re.findall(r'(?:src|href)="(?!#)[^"]*"', report)
    assert external == []
    assert "<script" not in report
    assert "http://www.w3.org/2000/svg" in report  # the SVG namespace, not a fetch


def test_row_accounting_shown(report):
    assert re.search(r"<td>adverse_events</td><td class=\"num\">14</td><td class=\"num\">9</td><td class=\"num\">5</td>", report)
