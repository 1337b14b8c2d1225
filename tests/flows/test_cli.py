"""The command line: exit codes, one-line errors, JSON outputs."""

import csv
import json
import subprocess
import sys

import polars as pl
import pytest

from flows.cli import main
from tests.conftest import OUTPUT_TABLES, REPO_ROOT, make_mini_trial


def test_validate_exits_2_when_rows_were_queried(tmp_path, capsys):
    config = make_mini_trial(tmp_path / "t")
    assert main(["validate", str(config), "--out", str(tmp_path / "out")]) == 2
    out = capsys.readouterr().out
    assert "adverse_events: 14 rows in = 9 clean + 3 counted with queries + 2 excluded" in out


def test_unusable_config_exits_1_with_one_message(tmp_path, capsys):
    config = make_mini_trial(tmp_path / "t")
    config.write_text(config.read_text().replace("acute_days = 90", "acute_days = -1"))
    assert main(["validate", str(config)]) == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert "windows.acute_days" in error and "Fix:" in error


def test_missing_source_file_exits_1(tmp_path, capsys):
    config = make_mini_trial(tmp_path / "t")
    (config.parent / "exposure.csv").unlink()
    assert main(["tables", str(config), "--out", str(tmp_path / "out")]) == 1
    assert "exposure.csv: sources.exposure.path: source file not found" in capsys.readouterr().err


@pytest.mark.slow  # the whole pipeline without Prefect: about 2 s
def test_tables_writes_csv_and_parquet(tmp_path):
    """Every table of the output folder as CSV and Parquet, the same numbers in both: the mini
    trial's overview has any TEAE in 4 of 4 treated subjects, 10 events (worked out in
    tests/safetydb/test_tables.py)."""
    config = make_mini_trial(tmp_path / "t")
    assert main(["tables", str(config), "--out", str(tmp_path / "out")]) == 2
    tables = tmp_path / "out" / "npc-apatinib-pd1" / "2025-07-01" / "tables"
    assert {p.stem for p in tables.glob("*.csv")} == {p.stem for p in tables.glob("*.parquet")} == OUTPUT_TABLES
    with (tables / "t_overview.csv").open(newline="") as handle:
        from_csv = next(r for r in csv.DictReader(handle) if r["category"] == "Any TEAE")
    from_parquet = pl.read_parquet(tables / "t_overview.parquet").filter(pl.col("category") == "Any TEAE").row(0, named=True)
    assert (from_csv["subjects"], from_csv["events"], from_csv["denominator"]) == ("4", "10", "4")
    assert (from_parquet["subjects"], from_parquet["events"], from_parquet["denominator"]) == (4, 10, 4)


def test_rules_boundary_json_reproduces_the_published_toxbdry_case(capsys):
    assert main(["rules", "boundary", "--kind", "toxbdry", "--p0", "0.2", "--p1", "0.35", "--looks", "20,40,60,75", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["looks"] == [20, 40, 60, 75]
    assert payload["lo"] == [7, 12, 17, 20] and payload["hi"] == [7, 12, 17, 21]
    assert {"p", "p_cross", "p_early_stop", "expected_n"} <= set(payload["oc"][0])


@pytest.mark.slow  # the whole pipeline without Prefect: about 2 s
def test_rules_check_reads_the_latest_cut(tmp_path, capsys):
    config = make_mini_trial(tmp_path / "t")
    main(["tables", str(config), "--out", str(tmp_path / "out")])
    capsys.readouterr()
    assert main(["rules", "check", str(config), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    # the mini trial (tests/signals/test_rules.py): S3's related fatal bleed stops related_death,
    # AE6 and AE7 stop severe_hemorrhage (2 of min 2), 2 of 4 in cycle 1 leaves the Bayes rule OK
    assert {r["rule_id"]: r["status"] for r in payload["rules"]} == {
        "related_death": "STOP", "severe_hemorrhage": "STOP", "severe_trae_rate": "OK",
    }


def test_ctcae_lookup_and_grade_json(capsys):
    assert main(["ctcae", "lookup", "HFS", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["term"], payload["match"]) == ("Palmar-plantar erythrodysesthesia syndrome", "synonym")
    assert main(["ctcae", "grade", "--test", "PLT", "--value", "60", "--lln", "150", "--unit", "10^9/L", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["grade"] == 2  # CTCAE v5.0: <75 - 50 x 10^9/L


def test_help_does_not_import_the_heavy_stack():
    code = "import sys; from flows.cli import build_parser; build_parser(); print(sorted(m for m in ('prefect', 'polars', 'duckdb', 'pandera') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_ctcae_map_shows_the_v6_term(capsys):
    # NCI's v5.0 -> v6.0 mapping sheet: Proteinuria became Urinary protein increased.
    assert main(["ctcae", "map", "Proteinuria", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["to_term"], row["to_version"]) == ("Urinary protein increased", "6.0")


def test_validate_does_not_store_a_cut_nor_replace_a_review(tmp_path):
    """A validation-only run publishes to <cut>-validation; the review folder of the cut, if
    any, is left as it was."""
    config = make_mini_trial(tmp_path / "t")
    review = tmp_path / "out" / "npc-apatinib-pd1" / "2025-07-01"
    review.mkdir(parents=True)
    (review / "dsmb_report.html").write_text("an earlier review")
    main(["validate", str(config), "--out", str(tmp_path / "out")])
    assert not (config.parent / "toxwatch.duckdb").exists()
    assert (tmp_path / "out" / "npc-apatinib-pd1" / "2025-07-01-validation" / "queries.csv").is_file()
    assert (review / "dsmb_report.html").read_text() == "an earlier review"
