"""The bundled trial's AESI subgroup table against an independent Polars computation from its CSVs.

The question a committee asks of this trial: nasopharyngeal necrosis after prior re-irradiation.
In the bundled sample it is 5 of the 12 re-irradiated subjects against 6 of the 48 others.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from flows.stages import ingest
from safetydb.models import build_cut_models
from safetydb.store import SafetyStore
from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config

CUT = date(2026, 6, 30)
TEAE_END_DAYS = 30
FOLDER = BUNDLED_CONFIG.parent


def necrosis_by_reirradiation() -> dict[str, tuple[int, int]]:
    """Treated subjects (a dose > 0), by prior re-irradiation: (with a treatment-emergent necrosis
    event: Pharyngeal necrosis, or the "Other, specify" text Nasopharyngeal necrosis, onset from the
    first dose to the last dose + 30 days and by the cut; in the level)."""
    subjects = pl.read_csv(FOLDER / "subjects.csv", infer_schema=False)
    exposure = pl.read_csv(FOLDER / "exposure.csv", infer_schema=False).with_columns(
        pl.col("start_date").str.to_date(strict=False),
        pl.col("end_date").str.to_date(strict=False),
        pl.col("dose_mg").cast(pl.Float64, strict=False),
    )
    dosed = exposure.filter(pl.col("dose_mg") > 0).group_by("subject_id").agg(
        pl.col("start_date").min().alias("first_dose"),
        # an end before its start is read as the start (validators' reading)
        pl.max_horizontal("start_date", "end_date").max().alias("last_dose"),
    )
    events = pl.read_csv(FOLDER / "adverse_events.csv", infer_schema=False).with_columns(
        pl.col("onset_date").str.to_date(strict=False)
    )
    necrosis = events.filter(
        (pl.col("ctcae_term").str.strip_chars().str.to_lowercase() == "pharyngeal necrosis")
        | (pl.col("other_specify").str.strip_chars().str.to_lowercase() == "nasopharyngeal necrosis")
    ).join(dosed, on="subject_id")
    emergent = necrosis.filter(
        (pl.col("onset_date") >= pl.col("first_dose"))
        & (pl.col("onset_date") <= pl.col("last_dose") + timedelta(days=TEAE_END_DAYS))
        & (pl.col("onset_date") <= CUT)
    )
    treated = subjects.join(dosed, on="subject_id")
    result = {}
    for level in ("Y", "N"):
        in_level = treated.filter(pl.col("prior_reirradiation") == level)["subject_id"]
        with_event = emergent.filter(pl.col("subject_id").is_in(in_level.implode()))["subject_id"].n_unique()
        result[level] = (with_event, in_level.len())
    return result


@pytest.mark.slow  # loads the bundled trial: several seconds
def test_necrosis_after_prior_reirradiation(tmp_path):
    assert necrosis_by_reirradiation() == {"Y": (5, 12), "N": (6, 48)}
    loaded = ingest(BUNDLED_CONFIG, cut_date=CUT, out_root=tmp_path / "out", database=tmp_path / "store.duckdb")
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, load_trial_config(BUNDLED_CONFIG), loaded.cut_id, CUT)
        table = store.model("t_aesi_by_subgroup")
    necrosis = table.filter((pl.col("variable") == "prior_reirradiation") & (pl.col("aesi") == "necrosis"))
    shown = {row["level"]: (row["subjects_with_event"], row["subjects_in_level"], row["percent"]) for row in necrosis.iter_rows(named=True)}
    assert shown == {"Y": (5, 12, 41.7), "N": (6, 48, 12.5)}  # no Missing level: every subject has a value
