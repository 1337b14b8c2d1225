"""What was given for each adverse event: the `treatment` column of adverse_events.csv.

Drawn in its own stage ("treatment") after every other AE column, so that adding it changed
no other draw. The probabilities are data (``data/synth/ae_treatments.csv``): per AE type and
grade, the chance of each treatment; what is left is "none". A row with ctcae_term ``*``
holds the probabilities of every AE type not listed. With an error rate, a few rows get a
value outside the vocabulary (``[treatment]`` in ``trial_parameters.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from synth.draws import cumulative_rows, draw_categories, stage_rng
from synth.profile import SYNTH_DATA_DIR, AeProfile, _per_grade
from validators.treatments import NO_TREATMENT, SEPARATOR, ae_treatments

AE_TREATMENTS_PATH = SYNTH_DATA_DIR / "ae_treatments.csv"
ANY_OTHER_TERM = "*"


@dataclass(frozen=True)
class TreatmentProfile:
    """Per AE type of the profile and grade, the probability of each treatment value."""

    values: list[str]  # the drawn values; the last is NO_TREATMENT
    probability: np.ndarray  # (profile terms, 5 grades, values)


def load_treatment_profile(profile: AeProfile, path: Path = AE_TREATMENTS_PATH) -> TreatmentProfile:
    """Read and check the treatment probabilities against the AE profile and the vocabulary."""
    frame = pl.read_csv(path, infer_schema=False)
    allowed = set(ae_treatments()) - {NO_TREATMENT}
    keys = [(term, specify or None) for term, specify in zip(profile.ctcae_term, profile.other_specify)]
    rows_by_key: dict[tuple[str, str | None], list[tuple[str, list[float]]]] = {}
    for row in frame.iter_rows(named=True):
        key = (row["ctcae_term"], row["other_specify"] or None)
        if key[0] != ANY_OTHER_TERM and key not in keys:
            raise ValueError(f"{path.name}: {key} is not an AE type of ae_profile.csv")
        unknown = [value for value in row["treatment"].split(SEPARATOR) if value not in allowed]
        if unknown:
            raise ValueError(f"{path.name}, term {key[0]!r}: treatment {unknown} not among {sorted(allowed)}")
        grades = _per_grade(row["probability_by_grade"], term=key[0], column="probability_by_grade")
        rows_by_key.setdefault(key, []).append((row["treatment"], grades))
    if (ANY_OTHER_TERM, None) not in rows_by_key:
        raise ValueError(f"{path.name}: needs a row with ctcae_term {ANY_OTHER_TERM!r} for the AE types not listed")

    values = sorted({treatment for rows in rows_by_key.values() for treatment, _ in rows}) + [NO_TREATMENT]
    probability = np.zeros((len(keys), 5, len(values)))
    for index, key in enumerate(keys):
        for treatment, grades in rows_by_key.get(key, rows_by_key[(ANY_OTHER_TERM, None)]):
            probability[index, :, values.index(treatment)] = grades
        given = probability[index, :, :-1].sum(axis=1)
        if np.any(given > 1.0 + 1e-9):
            raise ValueError(f"{path.name}, term {key[0]!r}: treatment probabilities above 1 for a grade")
        probability[index, :, -1] = np.clip(1.0 - given, 0.0, 1.0)
    return TreatmentProfile(values=values, probability=probability)


def with_treatments(records: pl.DataFrame, treatments: TreatmentProfile, seed: int, params: dict[str, Any],
                    error_rate: float = 0.0) -> pl.DataFrame:
    """The AE records with their `treatment` column, drawn by AE type and grade."""
    rng = stage_rng(seed, "treatment")
    term = records["term"].to_numpy()
    grade = records["grade"].to_numpy()
    picks = draw_categories(rng, cumulative_rows(treatments.probability[term, grade - 1]))
    drawn = np.array(treatments.values, dtype=object)[picks]
    if error_rate > 0 and records.height:
        settings = params["treatment"]
        in_vocabulary = [value for value in settings["off_vocabulary"] if value in ae_treatments()]
        if in_vocabulary:
            raise ValueError(f"trial_parameters.toml, treatment.off_vocabulary: {in_vocabulary} are in the vocabulary")
        count = min(records.height, max(1, int(round(error_rate * settings["error_rate_factor"] * records.height))))
        rows = np.sort(rng.choice(records.height, size=count, replace=False))
        off_vocabulary = settings["off_vocabulary"]
        drawn[rows] = [off_vocabulary[i] for i in rng.integers(0, len(off_vocabulary), count)]
    return records.with_columns(pl.Series("treatment", drawn, dtype=pl.String))
