"""The bundled trial's tumour assessments through the review: loaded, accounted for, in the manifest.

The expected row accounting is worked out from the shipped file with plain Polars, by the rules
of docs/sources.md: an assessment of an unknown subject, dated before its subject's enrolment or
after the day of the run is excluded; one whose response is no RECIST 1.1 code (or missing), whose
new_lesions or method is not an allowed value, or which shares its subject and date with an
assessment of another response is counted with a query; the rest are clean.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import polars as pl
import pytest

from flows.stages import ingest
from tests.conftest import BUNDLED_CONFIG, REPO_ROOT

RUN_DATE = date(2026, 7, 1)


def expected_accounting() -> dict[str, int]:
    folder = BUNDLED_CONFIG.parent
    assessments = pl.read_csv(folder / "tumour_assessments.csv", infer_schema=False)
    subjects = pl.read_csv(folder / "subjects.csv", infer_schema=False).select("subject_id", "enrolment_date")
    rows = assessments.join(subjects, on="subject_id", how="left", maintain_order="left")
    excluded = (
        pl.col("enrolment_date").is_null()
        | (pl.col("assessment_date") < pl.col("enrolment_date"))
        | (pl.col("assessment_date") > RUN_DATE.isoformat())
    )
    queried = (
        ~pl.col("overall_response").is_in(["CR", "PR", "SD", "PD", "NE"]).fill_null(False)
        | ~pl.col("new_lesions").is_in(["Y", "N"]).fill_null(True)
        | ~pl.col("method").is_in(["CT", "MRI", "PET-CT", "other"]).fill_null(True)
        | (pl.col("overall_response").n_unique().over("subject_id", "assessment_date") > 1)
    )
    counted = rows.filter(~excluded)
    return {
        "rows_in": rows.height,
        "clean": counted.filter(~queried).height,
        "counted_with_queries": counted.filter(queried).height,
        "excluded": rows.height - counted.height,
    }


def test_the_bundled_sample_has_something_to_query():
    expected = expected_accounting()
    assert expected["counted_with_queries"] > 0 and expected["excluded"] > 0


def test_the_bundled_trial_loads_its_tumour_assessments(tmp_path):
    loaded = ingest(BUNDLED_CONFIG, out_root=tmp_path / "out", database=tmp_path / "store.duckdb", run_date=RUN_DATE)
    assert loaded.cut_date == "2026-06-30"  # the sample's data cut: no assessment moves it
    assert loaded.accounting["tumour_assessments"] == expected_accounting()
    assert loaded.inputs["tumour_assessments"]["file"] == "tumour_assessments.csv"


@pytest.mark.slow  # the whole review on the embedded Prefect server, reports included
def test_the_demo_accounts_for_the_source_in_its_manifest(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo", "--out", str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    (cut_folder,) = (tmp_path / "npc-apatinib-pd1").iterdir()
    manifest = json.loads((cut_folder / "manifest.json").read_text())
    assert set(manifest["row_accounting"]) == {"subjects", "exposure", "adverse_events", "labs", "vitals", "tumour_assessments"}
    counts = manifest["row_accounting"]["tumour_assessments"]
    expected = expected_accounting()
    # The demo validates on the day it runs; the sample has no date after 2026-07-01.
    assert counts == expected
    assert manifest["inputs"]["tumour_assessments"]["file"] == "tumour_assessments.csv"
    queries = pl.read_csv(cut_folder / "queries.csv", infer_schema=False).filter(pl.col("source") == "tumour_assessments")
    assert queries["row"].n_unique() == expected["counted_with_queries"] + expected["excluded"]
