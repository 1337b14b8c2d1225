"""The scheduled flows (flows/scheduled.py) on the mini trial, with the embedded Prefect server,
and the commands that do not orchestrate, which never import Prefect."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, make_mini_trial

CUT = "2025-07-01"  # the mini trial's latest date


def test_commands_that_do_not_orchestrate_never_import_prefect(tmp_path):
    """validate, tables (twice, at two cuts), diff and deployments run in one process that
    never imports Prefect: they start fast and work where no Prefect server runs."""
    config = make_mini_trial(tmp_path / "trial")
    out = tmp_path / "out"
    code = f"""
import sys
from flows.cli import main
config, out = {str(config)!r}, {str(out)!r}
codes = [
    main(["validate", config, "--out", out]),
    main(["tables", config, "--cut", "2025-04-01", "--out", out]),
    main(["tables", config, "--out", out]),
    main(["diff", config]),
    main(["deployments", config]),
]
print(codes, "prefect" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.stdout.strip().splitlines()[-1] == "[2, 2, 2, 0, 0] False", result.stderr


@pytest.fixture(scope="module")
def embedded_prefect(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(home))
        yield


@pytest.mark.slow  # three flow runs on the embedded Prefect server: about 40 s
def test_digest_twice_is_the_same_digest_and_the_dsmb_package_freezes_the_cut(tmp_path, embedded_prefect):
    from flows.scheduled import dsmb_package, safety_digest

    config = make_mini_trial(tmp_path / "trial")
    out = tmp_path / "out"
    first = safety_digest(str(config), out_root=str(out))
    digest_dir = out / "npc-apatinib-pd1" / "digests" / CUT
    assert Path(first["digest"]["out_dir"]) == digest_dir
    text = (digest_dir / "digest.txt").read_text()
    assert text.startswith("SAFETY DIGEST - npc-apatinib-pd1")
    assert first["review"]["stopping"] == "STOP"  # S3's related grade 5 hemorrhage (tests/data/mini)

    again = safety_digest(str(config), out_root=str(out))  # same inputs: the same folders again
    assert (digest_dir / "digest.txt").read_text() == text
    assert again["review"]["alerts"] == first["review"]["alerts"]  # no webhook configured: nothing sent either time

    package = dsmb_package(str(config), review_date=date(2025, 7, 15), out_root=str(out))
    frozen_dir = out / "npc-apatinib-pd1" / "dsmb" / "2025-07-15"
    freeze = json.loads((frozen_dir / "freeze.json").read_text())
    review_manifest = json.loads((out / "npc-apatinib-pd1" / CUT / "manifest.json").read_text())
    assert (freeze["cut_id"], freeze["cut_date"]) == (review_manifest["cut_id"], CUT)
    assert package["package"]["out_dir"] == str(frozen_dir)
    manifest = json.loads((frozen_dir / "manifest.json").read_text())
    assert {"dsmb_report.html", "flags.json", "freeze.json", "review_manifest.json"} <= set(manifest["files"])
