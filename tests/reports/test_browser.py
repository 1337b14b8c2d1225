"""The DSMB report opens in a real headless browser with the network off."""

import shutil
import subprocess
from pathlib import Path

import pytest

from flows.stages import analyse, ingest, render
from tests.conftest import make_mini_trial

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
    assert dom.count("<svg") == 2  # the Bayesian rule's boundary chart, the cumulative incidence chart
    assert "Overview of treatment-emergent adverse events" in dom


def test_report_screenshot_is_not_blank(report_path, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600", f"--screenshot={shot}", report_path.as_uri()],
        capture_output=True, timeout=120,
    )
    assert shot.stat().st_size > 20_000  # a blank white page compresses to a few kB
