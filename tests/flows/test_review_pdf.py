"""`toxwatch run` (the Prefect flow) publishes the DSMB report's PDF with the HTML, on the paper
the trial config asks for, and the manifest names it with its sha256."""

import hashlib
import json
import os

import pytest

from flows.cli import main
from reports.pdf import pdf_unavailable
from tests.conftest import BUNDLED_CONFIG, make_mini_trial

pytestmark = pytest.mark.slow  # a Prefect flow run on the embedded server


def test_run_publishes_the_pdf_on_the_configured_paper(tmp_path, capsys):
    if (problem := pdf_unavailable()) is not None:
        pytest.skip(f"{problem}: no PDF on this machine")
    pypdfium2 = pytest.importorskip("pypdfium2")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from prefect.testing.utilities import prefect_test_harness

    text = BUNDLED_CONFIG.read_text()
    text = text.replace("\n[report]\n", '\n[report]\npaper = "Letter"\n', 1) if "\n[report]\n" in text else text + '\n[report]\npaper = "Letter"\n'
    config = make_mini_trial(tmp_path / "mini", config_text=text)
    with prefect_test_harness(server_startup_timeout=180):
        assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 2  # the mini trial's rows are queried
    out_dir = tmp_path / "out" / "npc-apatinib-pd1" / "2025-07-01"
    pdf = out_dir / "dsmb_report.pdf"
    assert f"report: {pdf}" in capsys.readouterr().out
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["reports"] == ["dsmb_report.html", "dsmb_report.pdf"]
    assert manifest["pdf"] == {"file": "dsmb_report.pdf", "written": True, "paper": "Letter"}
    assert manifest["files"]["dsmb_report.pdf"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert manifest["timings_s"]["pdf_s"] > 0
    document = pypdfium2.PdfDocument(pdf)
    width, height = document[0].get_size()
    assert abs(width - 612) <= 1 and abs(height - 792) <= 1  # US Letter, 8.5 x 11 in
    document.close()
