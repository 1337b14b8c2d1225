"""The cover of the DSMB report (its first screen, and page 1 of the PDF with the headlines).

What the committee needs to know which package it holds: the trial, the data cut and the
previous review's cut, where the numbers come from (cut, load, toolkit version, CTCAE
dictionary), and that the report is open (arms pooled). No date of generation: the same
inputs give the same report, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetydb.identity import toolkit_version
from trial.config import TrialConfig


def cover_context(out_dir: Path, loaded_cut: dict, config: TrialConfig) -> dict:
    """The cover's facts; the previous review's cut is the ``from`` cut of changes.json (None
    for the trial's first cut in the store)."""
    changes = json.loads((out_dir / "changes.json").read_text(encoding="utf-8"))
    previous = changes.get("from")
    trial = config.model.trial
    return {
        "trial_title": trial.title,
        "trial_id": config.id,
        "registry_id": trial.registry_id,
        "cut_date": loaded_cut["cut_date"],
        "cut_id": loaded_cut["cut_id"],
        "previous_cut": {"cut_date": previous["cut_date"], "cut_id": previous["cut_id"]} if previous else None,
        "load_id": loaded_cut["load_id"],
        "toolkit_version": toolkit_version(),
        "dictionary": loaded_cut["dictionary"],
        "paper": config.model.report.paper,
    }
