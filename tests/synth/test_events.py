"""Tests of synth.events at trial scale: incidences in the published ranges, recurrences.

2,000 subjects, so that the shares are stable enough to compare with the publications'
ranges.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from synth import generate_trial
from tests.synth.conftest import read_source

pytestmark = pytest.mark.slow

RELATED = ["possible", "probable", "definite"]


@pytest.fixture(scope="module")
def large_trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("large")
    generate_trial(2000, 2024, folder)
    return folder


def test_incidences_are_in_the_published_ranges(large_trial: Path) -> None:
    subjects = read_source(large_trial, "subjects")
    ae = read_source(large_trial, "adverse_events")
    exposure = read_source(large_trial, "exposure")
    n = subjects.height
    related = pl.col("attribution_apatinib").is_in(RELATED) | pl.col("attribution_anti_pd1").is_in(RELATED)

    def share(frame: pl.DataFrame) -> float:
        return frame["subject_id"].n_unique() / n

    assert 0.35 <= share(ae.filter(pl.col("ctcae_term") == "Hypertension")) <= 0.70
    assert 0.25 <= share(ae.filter(related & (pl.col("grade") >= 3))) <= 0.65
    assert share(ae.filter(related & (pl.col("grade") == 5))) <= 0.03
    assert 0.08 <= share(ae.filter(pl.col("serious") == "Y")) <= 0.35
    apatinib = exposure.filter(pl.col("agent") == "apatinib")
    assert 0.35 <= share(apatinib.filter(pl.col("adjustment").is_in(["held", "reduced"]))) <= 0.65
    assert 0.08 <= share(apatinib.filter(pl.col("adjustment") == "discontinued")) <= 0.30
    # Necrosis and hemorrhage concentrate in nasopharyngeal recurrence or re-irradiation.
    necrosis = ae.filter(
        (pl.col("ctcae_term") == "Pharyngeal necrosis") | (pl.col("other_specify") == "Nasopharyngeal necrosis")
    ).join(subjects, on="subject_id")
    high_risk = necrosis.filter(
        pl.col("recurrence_type").is_in(["local", "locoregional", "locoregional_distant"]) | (pl.col("prior_reirradiation") == "Y")
    )
    assert high_risk["subject_id"].n_unique() >= 0.8 * necrosis["subject_id"].n_unique()
    # Some events recur: same term, a new record after the previous one resolved.
    repeated = ae.group_by("subject_id", "ctcae_term", "other_specify").len().filter(pl.col("len") > 1)
    assert repeated.height > 0
