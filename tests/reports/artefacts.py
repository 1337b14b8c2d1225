"""Where the report tests keep what a person should be able to look at after a run (PDF pages
as PNG, browser screenshots): the folder in TOXWATCH_TEST_ARTEFACTS, so that CI can keep it,
or else the test's own temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

ARTEFACTS_ENV = "TOXWATCH_TEST_ARTEFACTS"


def artefact_folder(tmp_path: Path, name: str) -> Path:
    """A folder ``name`` under $TOXWATCH_TEST_ARTEFACTS (created), or under ``tmp_path``."""
    root = os.environ.get(ARTEFACTS_ENV)
    folder = (Path(root) if root else tmp_path) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
