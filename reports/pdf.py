"""dsmb_report.pdf: the DSMB report on paper, made by WeasyPrint from the rendered HTML.

The PDF is the same document as dsmb_report.html: the HTML file is read back and laid out with
its own print stylesheet (``@page`` and ``@media print`` in the template: margins, running
header with trial and data cut, "Page n of N", a page break before each major section, table
headers repeated on every page, no table row or chart split across pages). Only the page size
is given here, from the trial config's ``[report] paper`` (landscape for the wide tables).

WeasyPrint needs Pango (a system library). Where it cannot load, the review still publishes
its HTML report: ``write_pdf`` logs one warning naming what to install and returns an outcome
that says the PDF was not written; the manifest records it. The PDF fetches nothing: the
report is self-contained, and any URL other than ``data:`` is refused.

The file is reproducible: the same HTML gives the same bytes (no creation date and no
document identifier are written).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

notes = logging.getLogger("toxwatch")

PDF_NAME = "dsmb_report.pdf"
CLOSED_PDF_NAME = "dsmb_report_closed.pdf"  # the closed report by arm, when the trial has one
# The CSS page size of each paper the trial config allows ([report] paper).
PAGE_SIZES = {"A4": "A4", "Letter": "letter"}
INSTALL = (
    "install Pango 1.44 or later (Debian or Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0; "
    "macOS: brew install pango), and fonts-noto-cjk for Chinese text"
)


@dataclass(frozen=True)
class PdfOutcome:
    """What became of the PDF: written to ``path``, or not, and why."""

    paper: str
    path: Path | None
    problem: str | None = None

    @property
    def written(self) -> bool:
        return self.path is not None

    def manifest_entry(self) -> dict[str, Any]:
        """The manifest's record of the PDF (``pdf`` in manifest.json)."""
        entry: dict[str, Any] = {"file": PDF_NAME, "written": self.written, "paper": self.paper}
        if not self.written:
            entry["reason"] = f"{self.problem}; {INSTALL}"
        return entry


@lru_cache(maxsize=1)
def _weasyprint() -> tuple[Any, str | None]:
    """The weasyprint module, or None and why it cannot load (imported on first use: it is slow
    to import, and most commands never need it)."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: a shared library (Pango) not found
        return None, f"WeasyPrint could not load ({type(error).__name__}: {' '.join(str(error).split())})"
    return weasyprint, None


def pdf_unavailable() -> str | None:
    """Why no PDF can be made on this machine, or None when WeasyPrint loads."""
    return _weasyprint()[1]


def write_pdf(html_path: Path, *, paper: str, pdf_path: Path | None = None) -> PdfOutcome:
    """Lay out the rendered report ``html_path`` on ``paper`` ("A4" or "Letter") and write it
    as ``pdf_path`` (default: dsmb_report.pdf beside the HTML)."""
    if paper not in PAGE_SIZES:
        raise ValueError(f"paper must be one of {sorted(PAGE_SIZES)}, not {paper!r}")
    weasyprint, problem = _weasyprint()
    if weasyprint is None:
        notes.warning("%s not written: %s; %s. The HTML report is complete.", PDF_NAME, problem, INSTALL)
        return PdfOutcome(paper=paper, path=None, problem=problem)
    from weasyprint.urls import URLFetcher

    pdf_path = pdf_path or html_path.with_name(PDF_NAME)
    document = weasyprint.HTML(
        string=html_path.read_text(encoding="utf-8"),
        base_url=None,
        url_fetcher=URLFetcher(allowed_protocols=["data"]),
    )
    size = PAGE_SIZES[paper]
    # A user stylesheet: !important to prevail over the size the report's own stylesheet names.
    page_size = weasyprint.CSS(string=f"@page {{ size: {size} !important; }} @page wide {{ size: {size} landscape !important; }}")
    with _warnings_held_back(logging.getLogger("weasyprint")):
        document.write_pdf(pdf_path, stylesheets=[page_size])
    return PdfOutcome(paper=paper, path=pdf_path)


@contextmanager
def _warnings_held_back(logger: logging.Logger) -> Iterator[None]:
    """WeasyPrint warns about every screen-only CSS property it skips (the SVG rules of the
    report's stylesheet among them): held back while it lays out the report, errors aside."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
