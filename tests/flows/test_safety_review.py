"""End to end: the real Prefect flow on the bundled sample trial, on an embedded Prefect server."""

import json
import os
import re
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import BUNDLED_CONFIG, OUTPUT_TABLES, REPO_ROOT

pytestmark = pytest.mark.slow  # a Prefect flow run on the embedded server: about 35 s


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
    """The output contract (docs/outputs.md): OUT/<trial-id>/<cut-date>/ holds the report, flags,
    queries and manifest, and tables/ holds one CSV and one Parquet file for each of 33 tables:
    the 22 SQL table models, the 8 tables computed in Python from them (cumulative incidence,
    time to first dose modification, exposure-adjusted rates, efficacy), and the 3 written from
    signals (expedited_reports, bryant_day_oc, bryant_day_status) (OUTPUT_TABLES, listed by
    hand). The same 33 are named by the code that writes them and by the docs; no table is
    missing and none is extra."""
    from safetydb.export import COMPUTED_TABLES
    from safetydb.store import TABLE_MODELS

    out_dir = Path(review["out_dir"])
    assert out_dir.parent.name == "npc-apatinib-pd1"
    for name in ("dsmb_report.html", "flags.json", "queries.csv", "manifest.json"):
        assert (out_dir / name).is_file(), name
    tables = out_dir / "tables"
    assert len(OUTPUT_TABLES) == 22 + 8 + 3
    assert {p.stem for p in tables.glob("*.csv")} == OUTPUT_TABLES
    assert {p.stem for p in tables.glob("*.parquet")} == OUTPUT_TABLES
    assert set(TABLE_MODELS) | set(COMPUTED_TABLES) | {"expedited_reports", "bryant_day_oc", "bryant_day_status"} == OUTPUT_TABLES

    docs = (REPO_ROOT / "docs" / "outputs.md").read_text()
    tables_section = docs.split("\n## Tables\n", 1)[1].split("\n## ", 1)[0]
    table_rows = set(re.findall(r"^\| `(\w+)` \| ", tables_section, flags=re.M))
    # t_ae_risk_difference compares arms: written to tables/by_arm/ only, for a trial of two or more arms
    assert table_rows == (OUTPUT_TABLES - {"cumulative_incidence_curves"}) | {"t_ae_risk_difference"}
    assert "`cumulative_incidence_curves` holds the step points" in docs  # documented in t_cumulative_incidence's row


def test_manifest_accounts_for_every_row(review):
    out_dir = Path(review["out_dir"])
    manifest = json.loads((out_dir / "manifest.json").read_text())
    for source, counts in manifest["row_accounting"].items():
        file = BUNDLED_CONFIG.parent / manifest["inputs"][source]["file"]
        rows_in_file = pl.read_csv(file, infer_schema=False).height  # independent count of the file
        assert counts["rows_in"] == rows_in_file == counts["clean"] + counts["counted_with_queries"] + counts["excluded"], source
    queries = pl.read_csv(out_dir / "queries.csv", infer_schema=False)
    # the sample carries deliberate data errors, and the sources disagree in places
    # queries.csv names cross-source findings by the file "(reconciliation)": counted from the file,
    # the manifest's two numbers split it exactly
    reconciliation = queries.filter(pl.col("file") == "(reconciliation)").height
    assert (manifest["queries"]["validation"], manifest["queries"]["reconciliation"]) == (queries.height - reconciliation, reconciliation)
    assert reconciliation > 0 and queries.height > reconciliation
    assert len(manifest["config"]["sha256"]) == 64
    assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"].values())


def test_flags_cover_every_configured_rule(review):
    flags = json.loads((Path(review["out_dir"]) / "flags.json").read_text())
    assert [r["rule_id"] for r in flags["rules"]] == ["related_death", "severe_hemorrhage", "severe_trae_rate"]


def test_a_fatal_outcome_with_a_typo_in_the_grade_still_stops_the_trial(review):
    """Independent route from the raw file: an AE is a death when its grade is 5 or its outcome
    is fatal (the worse reading), and related unless both attributions say unrelated/unlikely
    (a missing or invalid attribution counts as related). The bundled sample has exactly one
    such record (recorded grade 4, outcome fatal), so the related-death rule stops."""
    events = pl.read_csv(BUNDLED_CONFIG.parent / "adverse_events.csv", infer_schema=False)
    not_related = ("unrelated", "unlikely")
    deaths = events.filter(
        ((pl.col("grade") == "5") | (pl.col("outcome") == "fatal"))
        & ~(pl.col("attribution_apatinib").is_in(not_related) & pl.col("attribution_anti_pd1").is_in(not_related))
    )
    assert deaths.height == 1
    flags = json.loads((Path(review["out_dir"]) / "flags.json").read_text())
    related_death = next(r for r in flags["rules"] if r["rule_id"] == "related_death")
    assert (related_death["events"], related_death["status"]) == (deaths.height, "STOP")
    assert flags["stopping"]["status"] == "STOP"
