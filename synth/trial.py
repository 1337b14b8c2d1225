"""The whole synthetic trial: every stage in order, the six source files and trial.toml.

The one entry point, `generate_trial`, writes a complete trial folder for the bundled
apatinib + anti-PD-1 NPC trial.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl

from ctcae.home import data_path
from synth.adverse_events import adverse_events_source, build_adverse_events
from synth.ae_treatments import load_treatment_profile, with_treatments
from synth.cohort import draw_cohort
from synth.contract import SOURCE_NAMES
from synth.errors import inject_ae_errors, inject_exposure_errors
from synth.events import draw_attribution, draw_event_candidates, keep_events_until_first_death
from synth.exposure import build_exposure, exposure_source, reconcile_reduction_actions
from synth.labs import build_labs
from synth.profile import load_ae_profile, load_lab_reference, load_parameters
from synth.subjects import subjects_source
from synth.treatment import draw_intended_actions, observation_end_rel, resolve_treatment_course
from synth.tumour import build_tumour_assessments
from synth.vitals import build_vitals

BUNDLED_TRIAL_DIR = data_path("trials", "npc-apatinib-pd1")
BUNDLED_CONFIG_PATH = BUNDLED_TRIAL_DIR / "trial.toml"

DEFAULT_DATA_CUTOFF = date(2026, 6, 30)

SOURCE_FILE_NAMES = {name: f"{name}.csv" for name in SOURCE_NAMES}


def generate_trial(n_subjects: int, seed: int, out_dir: Path, *, data_cutoff: date = DEFAULT_DATA_CUTOFF,
                   error_rate: float = 0.0) -> dict[str, int]:
    """Write a complete synthetic trial folder and return the rows written per source.

    Writes subjects.csv, exposure.csv, adverse_events.csv, labs.csv, vitals.csv and
    tumour_assessments.csv (the source contract, docs/sources.md) into `out_dir` and copies
    the bundled trial.toml next to them, unless `out_dir` is the bundled trial folder itself.
    Nothing is dated after `data_cutoff`. `error_rate` is the fraction of AE rows given a
    data-entry error (a few lab, exposure and tumour-assessment rows get one too); 0 gives
    clean data.
    """
    if not isinstance(n_subjects, int) or n_subjects < 1:
        raise ValueError(f"n_subjects must be a positive integer, got {n_subjects!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0.0 <= error_rate <= 0.5:
        raise ValueError(f"error_rate must be between 0 and 0.5, got {error_rate!r}")
    if not BUNDLED_CONFIG_PATH.exists():
        raise FileNotFoundError(f"bundled trial config not found: {BUNDLED_CONFIG_PATH}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    params = load_parameters()
    profile = load_ae_profile()
    lab_reference = load_lab_reference()

    cohort = draw_cohort(n_subjects, seed, data_cutoff, params)
    candidates = draw_event_candidates(cohort, profile, seed, params)
    candidates, fatal_onset_rel, fatal_death_rel = keep_events_until_first_death(candidates, cohort, seed, params)
    attribution = draw_attribution(candidates, profile, seed)
    intents = draw_intended_actions(candidates, attribution, profile, seed, params)
    course, actions = resolve_treatment_course(
        candidates, intents, fatal_onset_rel, fatal_death_rel, cohort, seed, params
    )

    # Onsets after the subject's collection window (30 days after the last dose, last
    # contact, death) are not recorded.
    collection_end = observation_end_rel(course, params)
    observed = candidates["onset"].to_numpy() <= collection_end[candidates["subject"].to_numpy()]
    observed_mask = pl.Series(observed)
    candidates = candidates.filter(observed_mask)
    attribution = {agent: levels[observed] for agent, levels in attribution.items()}
    actions = {agent: values[observed] for agent, values in actions.items()}

    records = build_adverse_events(candidates, attribution, actions, cohort, course, profile, seed, params)
    exposure = build_exposure(records, cohort, course, seed, params)
    records = reconcile_reduction_actions(records, exposure)

    counts = {}
    subjects = subjects_source(cohort, course, params)
    counts["subjects"] = _write(subjects, out_dir / SOURCE_FILE_NAMES["subjects"])
    exposure_rows = inject_exposure_errors(exposure_source(exposure, cohort), error_rate, seed, params)
    counts["exposure"] = _write(exposure_rows, out_dir / SOURCE_FILE_NAMES["exposure"])
    # What was given for each AE: drawn last, in its own stage, from the clean records.
    treated_records = with_treatments(records, load_treatment_profile(profile), seed, params, error_rate)
    ae_rows = adverse_events_source(inject_ae_errors(treated_records, cohort, profile, error_rate, seed, params))
    counts["adverse_events"] = _write(ae_rows, out_dir / SOURCE_FILE_NAMES["adverse_events"])
    counts["labs"] = build_labs(records, cohort, course, profile, lab_reference, seed, params, error_rate,
                                out_dir / SOURCE_FILE_NAMES["labs"])
    vitals = build_vitals(records, cohort, course, profile, seed, params)
    counts["vitals"] = _write(vitals, out_dir / SOURCE_FILE_NAMES["vitals"])
    tumour_assessments = build_tumour_assessments(cohort, course, seed, params, error_rate)
    counts["tumour_assessments"] = _write(tumour_assessments, out_dir / SOURCE_FILE_NAMES["tumour_assessments"])

    if out_dir.resolve() != BUNDLED_TRIAL_DIR.resolve():
        shutil.copyfile(BUNDLED_CONFIG_PATH, out_dir / "trial.toml")
    return counts


def _write(frame: pl.DataFrame, path: Path) -> int:
    frame.write_csv(path, float_scientific=False)
    return frame.height
