"""Shared fixtures: the repository root and the optional shared reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

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
