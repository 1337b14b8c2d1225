"""Where toxwatch finds its files: the data it ships (curated CTCAE facts, generator profile,
bundled trial) and the per-user folder (imported NCI dictionaries live there, not in the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV_VAR = "TOXWATCH_HOME"


def toxwatch_home() -> Path:
    """The per-user toxwatch folder: ``$TOXWATCH_HOME`` when set, else the platform data folder.

    The environment variable lets a site keep one shared, validated copy of the NCI
    dictionaries, and lets tests work in a temporary folder.
    """
    configured = os.environ.get(HOME_ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("toxwatch")


def ctcae_dir(home: Path | None = None) -> Path:
    """Folder holding imported CTCAE dictionaries and mappings (``<home>/ctcae``)."""
    return (toxwatch_home() if home is None else Path(home)) / "ctcae"


SHIPPED_DATA = Path(__file__).resolve().parents[1] / "data"


def data_path(*parts: str) -> Path:
    """A file or folder of the data toxwatch ships, e.g. ``data_path("ctcae", "synonyms.csv")``.

    The one place that knows where the shipped data lives; every module asks here.
    """
    return SHIPPED_DATA.joinpath(*parts)
