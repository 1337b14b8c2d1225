"""End to end: the real Prefect flow on the bundled sample trial, on an embedded Prefect server."""

import json
import os
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import BUNDLED_CONFIG


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from prefect.testing.utilities import prefect_test_harness

    from flows.safety_review import safety_review

    if not (BUNDLED_CONFIG.parent / "adverse_events.csv").exists():
        pytest.fail("the bundled sample trial is missing: regenerate it with `toxwatch synth`")
    out = tmp_path_factory.mktemp("review")
    database = out / "toxwatch.duckdb"
    with prefect_test_harness(server_startup_timeout=180):
        result = safety_review(str(BUNDLED_CONFIG), None, str(out), str(database))
    return result


def test_output_folder_contract(review):
    out_dir = Path(review["out_dir"])
    assert out_dir.parent.name == "npc-apatinib-pd1"
    for name in ("dsmb_report.html", "flags.json", "queries.csv", "manifest.json"):
        assert (out_dir / name).is_file(), name
    tables = out_dir / "tables"
    assert {p.stem for p in tables.glob("*.csv")} == {p.stem for p in tables.glob("*.parquet")}
    assert len(list(tables.glob("*.parquet"))) >= 5


def test_manifest_accounts_for_every_row(review):
    out_dir = Path(review["out_dir"])
    manifest = json.loads((out_dir / "manifest.json").read_text())
    for source, counts in manifest["row_accounting"].items():
        file = BUNDLED_CONFIG.parent / manifest["inputs"][source]["file"]
        rows_in_file = pl.read_csv(file, infer_schema=False).height  # independent count of the file
        assert counts["rows_in"] == rows_in_file == counts["clean"] + counts["quarantined"], source
    queries = pl.read_csv(out_dir / "queries.csv")
    assert queries.height == manifest["queries"] > 0  # the sample carries deliberate data errors
    assert len(manifest["config"]["sha256"]) == 64
    assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"].values())


def test_flags_cover_every_configured_rule(review):
    flags = json.loads((Path(review["out_dir"]) / "flags.json").read_text())
    assert [r["rule_id"] for r in flags["rules"]] == ["related_death", "severe_hemorrhage", "severe_trae_rate"]
    assert all(r["status"] in {"OK", "WARN", "STOP"} for r in flags["rules"])
