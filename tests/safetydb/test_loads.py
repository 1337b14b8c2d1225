"""Loads and cuts: what a load is made from decides whether it is reused.

A load is one reading of the inputs (records, queries, row accounting, grades); a cut is a date
applied to a load. The same inputs with a new cut date reuse the load; a changed source file,
config, CTCAE dictionary or toolkit makes a new one, and the manifest always describes the load
the tables were built from. Worked on the mini trial (tests/data/mini): 15 AE rows, of which
AE5 and AE9 (Fatigue, subjects S2 and S4) are counted, AE11 (subject S9, not enrolled) and AE14
(onset 2025-02-30) excluded.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import duckdb
import polars as pl
import pytest

import flows.stages
import safetydb.identity
from ctcae.terms import load_dictionary
from flows.stages import analyse, ingest, publish, render, write_manifest
from safetydb.store import SCHEMA_VERSION, SafetyStore
from tests.conftest import make_mini_trial
from trial.errors import InputError

SOURCE_TABLES = (
    "subjects", "exposure", "adverse_events", "labs", "vitals", "tumour_assessments", "ae_attribution", "quarantine", "load_queries",
)


def row_counts(database: str) -> dict[str, int]:
    with duckdb.connect(database, read_only=True) as connection:
        return {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in SOURCE_TABLES}


def stored(database: str, sql: str, parameters: dict | None = None) -> list[tuple]:
    with duckdb.connect(database, read_only=True) as connection:
        return connection.execute(sql, parameters or {}).fetchall()


def test_a_new_cut_date_on_the_same_inputs_reuses_the_load(tmp_path):
    """Cut 2025-07-01 (the latest date in the data), then 2025-04-01 on the same files: one load,
    two cuts; no source row is stored twice."""
    config = make_mini_trial(tmp_path / "trial")
    first = ingest(config)
    counts = row_counts(first.database_path)
    second = ingest(config, cut_date=date(2025, 4, 1))
    assert first.loaded_now and not second.loaded_now
    assert second.load_id == first.load_id
    assert second.cut_id != first.cut_id
    assert (first.cut_date, second.cut_date) == ("2025-07-01", "2025-04-01")
    assert row_counts(first.database_path) == counts
    assert second.accounting == first.accounting
    assert stored(first.database_path, "SELECT cut_date FROM cuts ORDER BY cut_date") == [(date(2025, 4, 1),), (date(2025, 7, 1),)]


@pytest.mark.slow  # two loads and a whole review: about 4 s
def test_a_changed_dictionary_makes_a_new_load_and_the_manifest_describes_it(tmp_path, monkeypatch):
    """The dictionary without Fatigue: AE5 and AE9 (counted) are now unknown terms, kept under
    "Not coded to CTCAE" with a term_known query each; AE11 and AE14 (excluded anyway) get one
    too. The new load's tables, stored rows and manifest all say so; the old load is kept as it was."""
    config = make_mini_trial(tmp_path / "trial")
    before = ingest(config, out_root=tmp_path / "out")
    discard_folder(before)
    full = load_dictionary("5.0")
    without_fatigue = replace(
        full, table=full.table.filter(pl.col("ctcae_term") != "Fatigue"), description=full.description + " without Fatigue"
    )
    monkeypatch.setattr(flows.stages, "load_dictionary", lambda version: without_fatigue)
    after = ingest(config, out_root=tmp_path / "out")
    assert after.loaded_now and after.load_id != before.load_id
    assert after.dictionary.endswith("without Fatigue")

    socs = stored(
        after.database_path,
        "SELECT load_id, ae_id, meddra_soc FROM adverse_events WHERE ae_id IN ('AE5', 'AE9') ORDER BY load_id = $new, ae_id",
        {"new": after.load_id},
    )
    general = "General disorders and administration site conditions"
    assert socs == [
        (before.load_id, "AE5", general), (before.load_id, "AE9", general),
        (after.load_id, "AE5", "Not coded to CTCAE"), (after.load_id, "AE9", "Not coded to CTCAE"),
    ]
    term_queries = stored(
        after.database_path,
        "SELECT record_key FROM load_queries WHERE load_id = $load AND \"check\" = 'term_known' AND value = 'Fatigue' ORDER BY record_key",
        {"load": after.load_id},
    )
    assert term_queries == [("AE11",), ("AE14",), ("AE5",), ("AE9",)]
    assert after.accounting["adverse_events"]["counted_with_queries"] == before.accounting["adverse_events"]["counted_with_queries"] + 2

    analysis = analyse(after)
    write_manifest(after, reports=render(after), reconciliation_queries=analysis["reconciliation_queries"])
    published = publish(after)
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["load"]["load_id"] == after.load_id
    assert manifest["ctcae_dictionary"] == after.dictionary
    assert manifest["row_accounting"] == after.accounting
    soc_rows = pl.read_csv(published / "tables" / "t_soc_term.csv", infer_schema=False)
    assert "Not coded to CTCAE" in soc_rows["meddra_soc"].to_list()
    queries = pl.read_csv(published / "queries.csv", infer_schema=False)
    assert queries.filter(pl.col("check") == "term_known")["value"].to_list().count("Fatigue") == 4


@pytest.mark.slow  # three loads: about 4 s
def test_a_changed_config_or_toolkit_makes_a_new_load(tmp_path, monkeypatch):
    """One byte more in trial.toml (a comment) is another config; other code is another toolkit."""
    config = make_mini_trial(tmp_path / "trial")
    first = ingest(config)
    discard_folder(first)
    config.write_text(config.read_text() + "\n# reviewed\n")
    second = ingest(config)
    discard_folder(second)
    assert second.loaded_now and second.load_id != first.load_id
    monkeypatch.setattr(safetydb.identity, "toolkit_sha256", lambda: "0" * 64)
    third = ingest(config)
    discard_folder(third)
    assert third.loaded_now and third.load_id not in (first.load_id, second.load_id)
    fourth = ingest(config)
    discard_folder(fourth)
    assert not fourth.loaded_now and fourth.load_id == third.load_id


@pytest.mark.slow  # two loads: about 3 s
def test_a_changed_source_file_makes_a_new_load_and_keeps_the_old_cut(tmp_path):
    config = make_mini_trial(tmp_path / "trial")
    first = ingest(config)
    discard_folder(first)
    events = config.parent / "adverse_events.csv"
    events.write_text(events.read_text().replace("AE2,S1,hypertensive crisis,Hypertension,,3,", "AE2,S1,hypertensive crisis,Hypertension,,4,"))
    second = ingest(config)
    discard_folder(second)
    assert second.loaded_now and second.load_id != first.load_id
    assert second.inputs["adverse_events"]["sha256"] != first.inputs["adverse_events"]["sha256"]
    grades = stored(
        first.database_path, "SELECT load_id = $old, grade FROM adverse_events WHERE ae_id = 'AE2' ORDER BY 1 DESC", {"old": first.load_id}
    )
    assert grades == [(True, 3), (False, 4)]
    with SafetyStore(first.database_path) as store:
        assert [cut.cut_id for cut in store.cuts("npc-apatinib-pd1")] == [first.cut_id, second.cut_id]
        assert store.previous_cut(store.get_cut(second.cut_id)).cut_id == first.cut_id


@pytest.mark.slow  # three loads: about 4 s
def test_a_date_after_the_run_is_read_again_once_the_day_comes(tmp_path):
    """AE1 resolved 2025-08-10. Run on 2025-08-01: the date is after the run, read as missing and
    queried; the load holds on 2025-08-09 (nothing it read has changed meaning), and on
    2025-08-10 a new load reads the date as given."""
    config = make_mini_trial(tmp_path / "trial")
    events = config.parent / "adverse_events.csv"
    events.write_text(events.read_text().replace("AE1,S1,high blood pressure,Hypertension,,2,2025-01-20,2025-02-20,", "AE1,S1,high blood pressure,Hypertension,,2,2025-01-20,2025-08-10,"))
    early = ingest(config, run_date=date(2025, 8, 1))
    discard_folder(early)
    assert stored(early.database_path, "SELECT first_date_after_run FROM loads") == [(date(2025, 8, 10),)]
    assert stored(early.database_path, "SELECT resolution_date FROM adverse_events WHERE ae_id = 'AE1'") == [(None,)]
    same = ingest(config, run_date=date(2025, 8, 9))
    discard_folder(same)
    assert same.load_id == early.load_id and not same.loaded_now
    reached = ingest(config, run_date=date(2025, 8, 10))
    discard_folder(reached)
    assert reached.loaded_now and reached.load_id != early.load_id
    resolved = stored(
        early.database_path, "SELECT resolution_date FROM adverse_events WHERE ae_id = 'AE1' AND load_id = $load", {"load": reached.load_id}
    )
    assert resolved == [(date(2025, 8, 10),)]
    assert reached.cut_date == "2025-08-10"  # the latest date in the data, now that it is not in the future


def test_a_store_of_an_older_layout_is_refused_with_instructions_and_left_as_it_was(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE store_info (schema_version INTEGER NOT NULL)")
        connection.execute("INSERT INTO store_info VALUES (2)")
        connection.execute("CREATE TABLE cuts (cut_id VARCHAR PRIMARY KEY, trial_id VARCHAR)")
        connection.execute("INSERT INTO cuts VALUES ('c1', 'npc-apatinib-pd1')")
    with pytest.raises(InputError) as error:
        SafetyStore(path)
    assert f"table layout 2; this toxwatch reads layout {SCHEMA_VERSION}" in error.value.problem
    assert "move the file aside" in error.value.fix
    with duckdb.connect(str(path), read_only=True) as connection:
        assert connection.execute("SELECT * FROM cuts").fetchall() == [("c1", "npc-apatinib-pd1")]
        assert connection.execute("SELECT schema_version FROM store_info").fetchall() == [(2,)]


def discard_folder(loaded) -> None:
    flows.stages.discard(loaded)


@pytest.mark.slow  # a load and a whole review: about 3 s
def test_identifier_columns_are_dropped_and_named_in_the_manifest(tmp_path):
    """subjects.csv carries patient_name and date_of_birth (declared identifiers) and a nurse
    column (not declared): none is stored; the manifest names the first two as identifiers
    dropped and the third as a column not read."""
    config = make_mini_trial(tmp_path / "trial")
    config.write_text(config.read_text() + '\n[privacy]\nidentifier_columns = ["patient_name", "date_of_birth"]\n')
    subjects = config.parent / "subjects.csv"
    lines = subjects.read_text().splitlines()
    lines = [lines[0] + ",patient_name,date_of_birth,nurse"] + [line + ",Wang Wei,1970-03-02,Li" for line in lines[1:]]
    subjects.write_text("\n".join(lines) + "\n")
    loaded = ingest(config, out_root=tmp_path / "out")
    analysis = analyse(loaded)
    write_manifest(loaded, reports=[], reconciliation_queries=analysis["reconciliation_queries"])
    manifest = json.loads((publish(loaded) / "manifest.json").read_text())
    assert manifest["identifier_columns_dropped"] == {"subjects": ["patient_name", "date_of_birth"]}
    assert manifest["columns_not_read"] == {"subjects": ["nurse"]}
    columns = [row[0] for row in stored(loaded.database_path, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'subjects'")]
    assert not {"patient_name", "date_of_birth", "nurse"} & set(columns)
    with duckdb.connect(loaded.database_path, read_only=True) as connection:
        everything = connection.execute("SELECT string_agg(record_json, '') FROM quarantine").fetchone()[0] or ""
    assert "Wang Wei" not in everything
