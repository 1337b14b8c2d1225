"""Tests of the generator's reference data (data/synth, read by synth.profile) as data.

Each profile row must agree with CTCAE v5.0 (typed by hand in tests/synth/conftest.py) and
carry a source note, and every column must be documented in data/synth/README.md.
"""

from __future__ import annotations

import csv

import polars as pl

from tests.conftest import REPO_ROOT
from tests.synth.conftest import ALLOWED_GRADES


def test_profile_rows_are_documented_and_agree_with_ctcae() -> None:
    profile = pl.read_csv(REPO_ROOT / "data" / "synth" / "ae_profile.csv", infer_schema=False)
    assert profile.select(pl.struct("ctcae_term", "other_specify").is_unique().all()).item()
    for row in profile.iter_rows(named=True):
        term = row["ctcae_term"]
        assert term in ALLOWED_GRADES, term
        assert {int(grade) for grade in row["allowed_grades"].split(",")} == ALLOWED_GRADES[term], term
        assert (row["other_specify"] is not None) == term.endswith("Other, specify"), term
        assert row["source_note"], term
        assert row["attributed_to"] in {"apatinib", "anti_pd1", "both", "neither"}
        for agent in ("apatinib", "anti_pd1"):
            weights = [float(value) for value in row[f"attribution_weights_{agent}"].split(";")]
            related_share = sum(weights[2:]) / sum(weights)
            if row["attributed_to"] in (agent, "both"):
                assert related_share >= 0.4, (term, agent)
            else:
                assert related_share <= 0.35, (term, agent)


def test_every_profile_column_is_documented() -> None:
    readme = (REPO_ROOT / "data" / "synth" / "README.md").read_text(encoding="utf-8")
    with (REPO_ROOT / "data" / "synth" / "ae_profile.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    missing = [column for column in header if f"`{column}`" not in readme]
    assert not missing
