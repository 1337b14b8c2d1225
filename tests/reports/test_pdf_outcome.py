"""What becomes of the PDF when WeasyPrint cannot load, how the manifest records it, and the
marking of Chinese text (fast: no layout)."""

from __future__ import annotations

import pytest

from reports import pdf as report_pdf
from reports.language import mark_chinese
from tests.reports.pdf_support import NO_PANGO, CollectedWarnings, weasyprint_missing  # noqa: F401 (a fixture)


@pytest.mark.usefixtures("weasyprint_missing")
def test_without_weasyprint_no_pdf_one_warning(tmp_path):
    html = tmp_path / "dsmb_report.html"
    html.write_text("<!DOCTYPE html><title>t</title><p>report</p>", encoding="utf-8")
    with CollectedWarnings() as collected:
        outcome = report_pdf.write_pdf(html, paper="Letter")
    assert not outcome.written
    assert not (tmp_path / "dsmb_report.pdf").exists()
    assert report_pdf.pdf_unavailable() is not None
    (warning,) = collected.messages
    assert warning.startswith(f"dsmb_report.pdf not written: WeasyPrint could not load (OSError: {NO_PANGO})")
    assert "libpango-1.0-0 libpangoft2-1.0-0" in warning and "The HTML report is complete." in warning
    entry = outcome.manifest_entry()
    assert entry["written"] is False and entry["file"] == "dsmb_report.pdf" and entry["paper"] == "Letter"
    assert entry["reason"].startswith("WeasyPrint could not load (OSError: cannot load library 'libpango-1.0-0'") and "install Pango" in entry["reason"]


def test_the_manifest_entry_of_a_written_pdf(tmp_path):
    outcome = report_pdf.PdfOutcome(paper="A4", path=tmp_path / "dsmb_report.pdf")
    assert outcome.manifest_entry() == {"file": "dsmb_report.pdf", "written": True, "paper": "A4"}


def test_only_the_papers_the_config_allows(tmp_path):
    with pytest.raises(ValueError, match="paper must be one of"):
        report_pdf.write_pdf(tmp_path / "dsmb_report.html", paper="A3")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("广州研究中心", '<span lang="zh">广州研究中心</span>'),
        ("RCCEP: 反应性皮肤毛细血管增生症", '<span lang="zh">RCCEP: 反应性皮肤毛细血管增生症</span>'),
        ("<b>中</b> & co", '<span lang="zh">&lt;b&gt;中&lt;/b&gt; &amp; co</span>'),  # escaped, never markup
    ],
)
def test_chinese_text_is_marked_and_escaped(value, shown):
    assert str(mark_chinese(value)) == shown


@pytest.mark.parametrize("value", ["Hypertension", "カタカナ", "", None, 3, 2.5])
def test_other_values_are_left_alone(value):
    assert mark_chinese(value) is value


def test_the_boundary_chart_draws_without_the_page_stylesheet():
    """A PDF renderer applies no page CSS inside an SVG, and SVG fills a polyline black by default:
    the boundary chart's lines carry their own fill, stroke and dash."""
    from xml.etree import ElementTree

    from reports.plots import boundary_chart

    svg = ElementTree.fromstring(str(boundary_chart([{"n": 3, "x": 1}, {"n": 6, "x": 2}], [{"n": 6, "r": 3}], title="t")))
    lines = {line.get("class"): line for line in svg.iter("{http://www.w3.org/2000/svg}polyline")}
    assert lines["boundary"].get("fill") == "none" and lines["boundary"].get("stroke-dasharray") == "5 3"
    assert lines["observed"].get("fill") == "none" and lines["observed"].get("stroke")
