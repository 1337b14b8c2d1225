"""The tumour-assessment source in the store: its table, its staging model at a cut, and the load identity.

The mini trial (tests/data/mini: S1, S2, S4 enrolled 2025-01-01, S5 2025-04-20) with seven
assessments, worked out by hand:

  S1 2025-03-07 SD | S1 2025-05-02 PR | S1 2025-06-27 PR | S2 2025-03-07 SD and PD (same date,
  both kept) | S4 2025-04-01 "bad" (read as NE) | S5 2025-06-20 SD

* cut 2025-04-01: the assessments dated on or before it, of subjects enrolled by then: S1 03-07,
  S2 03-07 twice, S4 04-01 (on the cut date: in) = 4 rows; S5 is not enrolled yet.
* cut 2025-07-01: all 7.
"""

import hashlib
from datetime import date

import polars as pl
import pytest

from ctcae.terms import load_curated_dictionary
from flows.stages import ingest
from safetydb.identity import load_identity
from safetydb.models import build_cut_models
from safetydb.store import STAGING_MODELS, SafetyStore, model_grain
from tests.conftest import make_mini_trial
from trial.config import load_trial_config

ASSESSMENTS = """\
subject_id,visit,assessment_date,overall_response,new_lesions,method
S1,Week 8,2025-03-07,SD,N,MRI
S1,Week 16,2025-05-02,PR,N,MRI
S1,Week 24,2025-06-27,PR,N,MRI
S2,Week 8,2025-03-07,SD,N,CT
S2,Week 8,2025-03-07,PD,Y,CT
S4,,2025-04-01,bad,,
S5,Week 8,2025-06-20,SD,N,CT
"""
RUN_DATE = date(2025, 7, 1)


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    config = make_mini_trial(tmp_path_factory.mktemp("tumour-store") / "mini")
    (config.parent / "tumour_assessments.csv").write_text(ASSESSMENTS)
    return config


def staged(config, cut_date: date) -> pl.DataFrame:
    loaded = ingest(config, cut_date=cut_date, run_date=RUN_DATE)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, load_trial_config(config), loaded.cut_id, cut_date)
        return store.model("stg_tumour_assessments")


def test_the_staging_model_is_a_staging_model_with_a_unique_grain():
    assert "stg_tumour_assessments" in STAGING_MODELS
    assert model_grain("stg_tumour_assessments") == ["source_row"]


def test_a_cut_holds_the_assessments_dated_on_or_before_it(trial):
    early = staged(trial, date(2025, 4, 1)).sort("subject_id", "assessment_date", "overall_response")
    assert early.select("subject_id", "assessment_date", "overall_response").rows() == [
        ("S1", date(2025, 3, 7), "SD"),
        ("S2", date(2025, 3, 7), "PD"),
        ("S2", date(2025, 3, 7), "SD"),
        ("S4", date(2025, 4, 1), "NE"),
    ]
    assert early.schema["assessment_date"] == pl.Date
    assert early.columns == ["source_row", "subject_id", "visit", "assessment_date", "overall_response", "new_lesions", "method"]
    assert early["source_row"].n_unique() == early.height

    late = staged(trial, date(2025, 7, 1))
    assert late.height == 7
    assert late.filter(pl.col("subject_id") == "S5")["overall_response"].to_list() == ["SD"]


def test_the_load_identity_holds_the_files_checksum(trial, tmp_path):
    dictionary = load_curated_dictionary("5.0")
    config = load_trial_config(trial)
    identity = load_identity(config, dictionary)
    file = trial.parent / "tumour_assessments.csv"
    assert identity.inputs["tumour_assessments"] == {
        "file": "tumour_assessments.csv", "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
    }
    # Another delivery of the file alone is another load.
    other = make_mini_trial(tmp_path / "other")
    (other.parent / "tumour_assessments.csv").write_text(ASSESSMENTS.replace("S1,Week 24,2025-06-27,PR", "S1,Week 24,2025-06-27,PD"))
    other_identity = load_identity(load_trial_config(other), dictionary)
    assert other_identity.inputs["tumour_assessments"]["sha256"] != identity.inputs["tumour_assessments"]["sha256"]
    assert other_identity.sha256 != identity.sha256
    assert {name: given for name, given in other_identity.inputs.items() if name != "tumour_assessments"} == {
        name: given for name, given in identity.inputs.items() if name != "tumour_assessments"
    }


def test_the_load_accounts_for_the_source(trial):
    """Queried: S2's two responses of 2025-03-07 and S4's "bad" (3); the other 4 are clean."""
    loaded = ingest(trial, cut_date=date(2025, 7, 1), run_date=RUN_DATE)
    assert loaded.accounting["tumour_assessments"] == {"rows_in": 7, "clean": 4, "counted_with_queries": 3, "excluded": 0}
    with SafetyStore(loaded.database_path) as store:
        stored = store.connection.execute(
            "SELECT COUNT(*) FROM tumour_assessments WHERE load_id = $load_id", {"load_id": loaded.load_id}
        ).fetchone()[0]
    assert stored == 7
