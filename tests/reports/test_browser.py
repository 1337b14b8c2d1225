"""The DSMB report opens in a real headless browser with the network off."""

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flows.stages import analyse, ingest, render
from tests.conftest import make_mini_trial
from tests.reports.artefacts import artefact_folder

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--proxy-server=127.0.0.1:9",  # any fetch would fail: the page must need none
]

pytestmark = [
    pytest.mark.slow,  # a headless browser: about 5 s
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)"),
]


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> Path:
    loaded = ingest(make_mini_trial(tmp_path_factory.mktemp("browser")))
    analyse(loaded)
    return Path(render(loaded)[0])


def test_report_renders_offline_with_flags_and_tables(report_path, tmp_path):
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", report_path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    dom = result.stdout
    assert "Stopping rules" in dom and "Expedited reporting" in dom
    assert "Any treatment-related death" in dom
    # the Bayesian rule's boundary chart, the cumulative incidence chart, enrolment by month, the AE
    # heatmap, the swimmer plot (the mini trial has no tumour assessment: no Kaplan-Meier chart)
    assert dom.count("<svg") == 5
    assert "Overview of treatment-emergent adverse events" in dom


def test_report_screenshot_is_not_blank(report_path, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600", f"--screenshot={shot}", report_path.as_uri()],
        capture_output=True, timeout=120,
    )
    assert shot.stat().st_size > 20_000  # a blank white page compresses to a few kB


# --- every section visible, a silent console, no remote URL, a full-page screenshot -------------

# Run in a copy of the report only (the report itself has no script): the size and style of every
# <section id> as laid out, and the page's full height, written into the DOM that --dump-dom prints.
SECTION_PROBE = """<script>
const sections = [...document.querySelectorAll("section[id]")].map((section) => {
  const box = section.getBoundingClientRect(); const style = getComputedStyle(section);
  let shown = true;
  for (let node = section; node; node = node.parentElement) {
    const s = getComputedStyle(node);
    if (s.display === "none" || s.visibility !== "visible" || s.opacity === "0") shown = false;
  }
  return {id: section.id, width: box.width, height: box.height, shown};
});
const probe = document.createElement("pre");
probe.id = "toxwatch-probe";
probe.textContent = JSON.stringify({sections, height: document.documentElement.scrollHeight});
document.body.appendChild(probe);
</script>"""
CONTROL = '<script>console.error("toxwatch-console-control")</script>'
SCREENSHOT_MAX_HEIGHT = 16000  # Chromium draws a headless window up to about 16k pixels tall


def browse(report: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    """Open ``report`` in headless Chromium (network off), its console logged to stderr."""
    return subprocess.run(
        [CHROMIUM, *FLAGS, "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}", *extra, report.as_uri()],
        capture_output=True, text=True, timeout=120,
    )


def with_script(report: Path, folder: Path, script: str) -> Path:
    copy = folder / f"probe-{report.name}"
    copy.write_text(report.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
    return copy


def probe(report: Path, tmp_path: Path) -> dict:
    import json

    result = browse(with_script(report, tmp_path, SECTION_PROBE), tmp_path, "--dump-dom")
    found = re.search(r'<pre id="toxwatch-probe">(.*?)</pre>', result.stdout, flags=re.S)
    assert found, result.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


def test_every_section_is_visible(report_path, tmp_path):
    """Each <section id> of the report is laid out with a size and shown (no display: none,
    hidden or transparent element on its way up)."""
    ids = re.findall(r'<section id="([^"]+)"', report_path.read_text(encoding="utf-8"))
    laid_out = probe(report_path, tmp_path)["sections"]
    assert [section["id"] for section in laid_out] == ids
    hidden = [section for section in laid_out if not (section["shown"] and section["width"] > 0 and section["height"] > 0)]
    assert hidden == []


def test_the_console_stays_silent(report_path, tmp_path):
    """Nothing reaches the console: no failed load, no blocked request, no error. A copy of the
    report that writes to the console shows the check would see it."""
    control = browse(with_script(report_path, tmp_path, CONTROL), tmp_path, "--dump-dom")
    assert "toxwatch-console-control" in control.stderr  # the browser's console is captured
    report = browse(report_path, tmp_path, "--dump-dom")
    assert "</html>" in report.stdout
    assert [line for line in report.stderr.splitlines() if ":CONSOLE" in line] == []


def test_no_remote_address_in_the_report(report_path):
    """Every src and href is a fragment or data; no CSS url() or @import reaches out."""
    text = report_path.read_text(encoding="utf-8")
    addresses = re.findall(r"""\b(?:src|href)\s*=\s*["']?\s*([^"'\s>]*)""", text, flags=re.I)
    assert [address for address in addresses if re.match(r"(?i)(https?:)?//", address)] == []
    assert re.findall(r"(?i)(?:url\(\s*[\"']?\s*(?:https?:)?//|@import)", text) == []


def test_full_page_screenshot(report_path, tmp_path):
    """The whole report as one image, kept as a test artefact."""
    from PIL import Image

    height = min(probe(report_path, tmp_path)["height"], SCREENSHOT_MAX_HEIGHT)
    shot = artefact_folder(tmp_path, "browser") / "dsmb_report-full-page.png"
    browse(report_path, tmp_path, f"--window-size=1200,{height}", "--hide-scrollbars", f"--screenshot={shot}")
    with Image.open(shot) as image:
        assert image.size == (1200, height)
        colours = image.convert("L").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 16  # more than a blank page's few shades
