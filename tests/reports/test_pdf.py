"""The DSMB report on paper (dsmb_report.pdf, laid out by WeasyPrint from the rendered HTML).

What a committee member holding the printout relies on: the paper the trial config asks for,
"Page n of N" and the trial and data cut on every page, every major section present, a long
table's header row repeated on the pages it continues on, Chinese text printed (with a CJK font
embedded), and the same PDF for the same report. Where WeasyPrint cannot load, the review
still publishes its HTML and its manifest says the PDF was not written.

The pages are kept as PNG files in $TOXWATCH_TEST_ARTEFACTS (or the test's temporary folder).
"""

from __future__ import annotations

import ctypes
import hashlib
import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from flows.stages import analyse, ingest, publish, render, render_pdf, write_manifest
from reports import pdf as report_pdf
from tests.conftest import BUNDLED_CONFIG, make_mini_trial
from tests.reports.artefacts import artefact_folder
from tests.reports.pdf_support import CollectedWarnings, weasyprint_missing  # noqa: F401 (a fixture)

pdfium = pytest.importorskip("pypdfium2")
pdfium_c = pytest.importorskip("pypdfium2.raw")

POINTS_PER_MM = 72 / 25.4
# Page sizes in PostScript points: A4 is 210 x 297 mm, US Letter 8.5 x 11 in.
PAPERS = {"A4": (210 * POINTS_PER_MM, 297 * POINTS_PER_MM), "Letter": (8.5 * 72, 11 * 72)}
# The print stylesheet's page margins (reports/templates/_print.css.j2): 18 mm top and bottom, 14 mm at the sides.
MARGIN_TOP_BOTTOM_MM, MARGIN_SIDES_MM = 18, 14
RENDER_SCALE = 1.0  # one PNG pixel per point
CHINESE_TEXT = "反应性皮肤毛细血管增生症"  # RCCEP, as a Chinese investigator writes it
CJK_FONT_NAMES = ("NotoSansCJK", "NotoSerifCJK", "SourceHanSans", "SourceHanSerif", "WenQuanYi", "MicrosoftYaHei", "PingFang")


def weasyprint_or_skip() -> None:
    problem = report_pdf.pdf_unavailable()
    if problem is not None:
        pytest.skip(f"{problem}: no PDF can be made on this machine ({report_pdf.INSTALL})")


def normalised(text: str) -> str:
    """PDF text as a sentence: a line broken at a hyphen (pdfium marks it U+FFFE) joined with
    the hyphen, every run of white space one space."""
    text = re.sub("\ufffe\\s*", "-", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    text: str  # normalised
    png: Path


@dataclass(frozen=True)
class LaidOut:
    paper: str
    path: Path
    pages: list[Page]


def lay_out(html_path: Path, paper: str, folder: Path) -> LaidOut:
    """The report laid out on ``paper``, each page's size and text, and its pages as PNG files in ``folder``."""
    outcome = report_pdf.write_pdf(html_path, paper=paper, pdf_path=folder / f"dsmb_report-{paper}.pdf")
    assert outcome.written
    document = pdfium.PdfDocument(outcome.path)
    pages = []
    for index in range(len(document)):
        page = document[index]
        width, height = page.get_size()
        png = folder / f"{paper}-page-{index + 1:02d}.png"
        page.render(scale=RENDER_SCALE).to_pil().save(png)
        pages.append(Page(index + 1, width, height, normalised(page.get_textpage().get_text_range()), png))
    document.close()
    return LaidOut(paper, outcome.path, pages)


@pytest.fixture(scope="module")
def bundled_report(tmp_path_factory) -> Path:
    """The bundled trial's DSMB report (HTML), rendered by the plain stages."""
    weasyprint_or_skip()
    folder = tmp_path_factory.mktemp("bundled")
    loaded = ingest(BUNDLED_CONFIG, out_root=folder / "out", database=folder / "toxwatch.duckdb")
    analyse(loaded)
    (html_path,) = render(loaded)
    return Path(html_path)


@pytest.fixture(scope="module", params=sorted(PAPERS))
def laid_out(request, bundled_report, tmp_path_factory) -> LaidOut:
    folder = artefact_folder(tmp_path_factory.mktemp("pdf"), f"dsmb-pdf-{request.param}")
    return lay_out(bundled_report, request.param, folder)


pytestmark = pytest.mark.slow  # WeasyPrint lays out the bundled report in about 10 s per paper


def test_every_page_is_on_the_configured_paper(laid_out):
    """Portrait pages of the paper, within 1 pt; a section with a table of thirteen columns or
    more goes on landscape pages of the same paper. The cover is portrait."""
    width, height = PAPERS[laid_out.paper]
    for page in laid_out.pages:
        portrait = abs(page.width - width) <= 1 and abs(page.height - height) <= 1
        landscape = abs(page.width - height) <= 1 and abs(page.height - width) <= 1
        assert portrait or landscape, (page.number, page.width, page.height)
    first = laid_out.pages[0]
    assert abs(first.width - width) <= 1 and abs(first.height - height) <= 1
    assert sum(abs(p.width - width) <= 1 for p in laid_out.pages) > len(laid_out.pages) / 2


def test_many_pages_none_blank(laid_out):
    """Each page has ink inside its margins (the running header and page number alone do not count)."""
    from PIL import Image

    assert len(laid_out.pages) > 1
    for page in laid_out.pages:
        image = Image.open(page.png).convert("L")
        side = round(MARGIN_SIDES_MM * POINTS_PER_MM * RENDER_SCALE)
        top = round(MARGIN_TOP_BOTTOM_MM * POINTS_PER_MM * RENDER_SCALE)
        content = image.crop((side, top, image.width - side, image.height - top))
        inked = sum(content.point(lambda value: 255 if value < 160 else 0).histogram()[255:])
        assert inked > 500, f"page {page.number} of {laid_out.paper} looks blank ({inked} dark pixels): {page.png}"


def test_page_numbers_and_running_header(laid_out):
    """"Page n of N" on every page; the trial and data cut in the top margin of every page but the
    cover, which carries them in its own words."""
    total = len(laid_out.pages)
    for page in laid_out.pages:
        assert f"Page {page.number} of {total}" in page.text, page.number
        if page.number > 1:
            assert "npc-apatinib-pd1 · data cut 2026-06-30" in page.text, page.number
    assert "Data cut 2026-06-30 · cut id" in laid_out.pages[0].text


def test_every_section_title_is_printed(laid_out, bundled_report):
    """Every h2 of the HTML report (major sections and top-level tables) is in the PDF's text."""
    source = bundled_report.read_text(encoding="utf-8")
    titles = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", title)).split()) for title in re.findall(r"<h2[^>]*>(.*?)</h2>", source, flags=re.S)]
    assert len(titles) > 10
    printed = " ".join(page.text for page in laid_out.pages)
    missing = [title for title in titles if title not in printed]
    assert missing == []


def test_a_long_table_repeats_its_header_row(laid_out, bundled_report):
    """TEAEs by SOC and term: more rows than a page holds, so the table runs over onto the next
    page, where its header row is printed again. A row is at least 15.5 pt high (8 pt type at
    line height 1.45, padding and rule), and a page has at most 740 pt (A4) or 690 pt (Letter)
    between its margins: 47 rows at most, fewer than tables/t_soc_term.csv holds."""
    rows = pl.read_csv(bundled_report.parent / "tables" / "t_soc_term.csv").height
    assert rows > 47
    caption = "TEAEs by system organ class, term and worst grade"
    header = "SOC Term Subjects % G1 G2 G3 G4 G5 G≥3"
    contents = laid_out.pages[1]  # the contents page lists the caption too
    assert "Contents" in contents.text and caption in contents.text
    (start,) = [page.number for page in laid_out.pages[2:] if caption in page.text]
    assert header in laid_out.pages[start - 1].text
    continued = laid_out.pages[start]  # the page after the caption's
    assert caption not in continued.text
    assert header in continued.text


def test_the_cover_opens_the_pdf(laid_out):
    """Page 1: the cover (trial, registry, data cut, previous review, provenance) with both headlines."""
    cover = laid_out.pages[0].text
    for words in ("DSMB safety review: Apatinib + anti-PD-1", "registry NCT04350190", "Previous review none: this is the trial's first data cut in the store",
                  "Open report: arms pooled", "Stopping rules STOP", "Expedited reporting"):
        assert words in cover, words
    assert "Changes since the previous cut" not in cover  # the contents start page 2, the next major section page 3


# --- Chinese text ---------------------------------------------------------------------------------


def chinese_fonts_installed() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def font_of_character(text_page, index: int) -> tuple[str, bool]:
    """The name of the font a character is drawn with, and whether the PDF embeds that font."""
    text_object = pdfium_c.FPDFText_GetTextObject(text_page.raw, index)
    font = pdfium_c.FPDFTextObj_GetFont(text_object)
    length = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    buffer = ctypes.create_string_buffer(length)
    pdfium_c.FPDFFont_GetBaseFontName(font, buffer, length)
    return buffer.value.decode("utf-8", errors="replace"), bool(pdfium_c.FPDFFont_GetIsEmbedded(font))


@pytest.fixture(scope="module")
def chinese_report(tmp_path_factory) -> Path:
    """The mini trial, its AE13 ("Skin and subcutaneous tissue disorders - Other, specify") given
    a Chinese specification, with the open report allowed to print free text."""
    weasyprint_or_skip()
    folder = tmp_path_factory.mktemp("chinese")
    config = make_mini_trial(folder, config_text=BUNDLED_CONFIG.read_text() + "\n[privacy]\nopen_report_free_text = true\n")
    events = folder / "adverse_events.csv"
    coded = '"Skin and subcutaneous tissue disorders - Other, specify",,1,'
    assert events.read_text(encoding="utf-8").count(coded) == 1
    events.write_text(events.read_text(encoding="utf-8").replace(coded, coded.replace(",,", f",{CHINESE_TEXT},")), encoding="utf-8")
    loaded = ingest(config)
    analyse(loaded)
    (html_path,) = render(loaded)
    return Path(html_path)


def test_chinese_text_is_marked_in_the_html(chinese_report):
    """The specified text is listed under its own words in the SOC table, marked as Chinese."""
    assert f'<span lang="zh">{CHINESE_TEXT}</span>' in chinese_report.read_text(encoding="utf-8")


def test_chinese_text_is_printed_with_an_embedded_cjk_font(chinese_report, tmp_path):
    if not chinese_fonts_installed():
        pytest.skip("no Chinese font installed (`fc-list :lang=zh` finds none; Debian: apt-get install fonts-noto-cjk)")
    laid = lay_out(chinese_report, "A4", artefact_folder(tmp_path, "dsmb-pdf-chinese"))
    document = pdfium.PdfDocument(laid.path)
    found = []
    for index in range(len(document)):
        text_page = document[index].get_textpage()
        text = text_page.get_text_range()
        at = text.find(CHINESE_TEXT)
        if at >= 0:
            found.append(font_of_character(text_page, at))
    assert found, f"{CHINESE_TEXT} is not in the PDF's text"
    for name, embedded in found:
        assert any(cjk in name.replace(" ", "").replace("-", "") for cjk in CJK_FONT_NAMES), name
        assert embedded, name


def test_the_same_report_gives_the_same_pdf(chinese_report, tmp_path):
    """No creation date, no random identifier: the PDF is byte for byte the same each time."""
    first = report_pdf.write_pdf(chinese_report, paper="Letter", pdf_path=tmp_path / "first.pdf")
    second = report_pdf.write_pdf(chinese_report, paper="Letter", pdf_path=tmp_path / "second.pdf")
    assert hashlib.sha256(first.path.read_bytes()).digest() == hashlib.sha256(second.path.read_bytes()).digest()


# --- the review without WeasyPrint -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("weasyprint_missing")
def test_without_weasyprint_the_review_publishes_its_html_and_says_so(tmp_path):
    """One warning naming what to install; the folder is published with its HTML report and no
    PDF; the manifest records why."""
    with CollectedWarnings() as collected:
        loaded = ingest(make_mini_trial(tmp_path / "mini"), out_root=tmp_path / "out")
        analyse(loaded)
        reports = render(loaded)
        outcome = render_pdf(loaded)
        write_manifest(loaded, reports=reports, pdf=outcome)
        published = publish(loaded)
    assert (published / "dsmb_report.html").is_file()
    assert not (published / "dsmb_report.pdf").exists()
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["reports"] == ["dsmb_report.html"]
    assert manifest["pdf"]["written"] is False
    assert manifest["pdf"]["file"] == "dsmb_report.pdf" and manifest["pdf"]["paper"] == "A4"
    assert "WeasyPrint could not load" in manifest["pdf"]["reason"] and "libpango-1.0-0" in manifest["pdf"]["reason"]
    assert "dsmb_report.pdf" not in manifest["files"]
    warnings = [message for message in collected.messages if "dsmb_report.pdf" in message]
    assert len(warnings) == 1
    assert "not written" in warnings[0] and "Pango" in warnings[0] and "HTML report is complete" in warnings[0]
