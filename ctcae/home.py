"""Per-user data folder of toxwatch (imported NCI dictionaries live here, not in the repository)."""

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
