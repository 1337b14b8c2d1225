"""Shared fixtures: the repository root and the optional shared reference data."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Tests never read or write the user's own toxwatch data (imported CTCAE dictionaries).
os.environ["TOXWATCH_HOME"] = tempfile.mkdtemp(prefix="toxwatch-home-")
atexit.register(shutil.rmtree, os.environ["TOXWATCH_HOME"], ignore_errors=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference"


def reference_path(*parts: str) -> Path:
    """Path of a file in the shared reference folder, or skip the test with the reason."""
    path = SHARED_REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data not present: {Path('..', 'shared', 'reference', *parts)}")
    return path


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


MINI_TRIAL = REPO_ROOT / "tests" / "data" / "mini"
BUNDLED_CONFIG = REPO_ROOT / "data" / "trials" / "npc-apatinib-pd1" / "trial.toml"


def make_mini_trial(folder: Path, *, config_text: str | None = None) -> Path:
    """A hand-made 6-subject trial (tests/data/mini) with the bundled trial config; returns trial.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in MINI_TRIAL.glob("*.csv"):
        shutil.copy(source, folder / source.name)
    (folder / "labs.csv").write_text("subject_id,collection_date,test_code,value,unit,lln,uln\n")
    (folder / "vitals.csv").write_text("subject_id,measure_date,sbp_mmhg,dbp_mmhg,heart_rate_bpm,weight_kg\n")
    config = folder / "trial.toml"
    config.write_text(config_text if config_text is not None else BUNDLED_CONFIG.read_text())
    return config


@pytest.fixture
def mini_config(tmp_path: Path) -> Path:
    return make_mini_trial(tmp_path / "mini")
