"""Where toxwatch finds its files: the data it ships (curated CTCAE facts, generator profile,
bundled trial) and the per-user folder (imported NCI dictionaries live there, not in the repository)."""

from __future__ import annotations

import importlib.resources
import os
from functools import lru_cache
from importlib.resources.abc import Traversable
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


PACKAGE = "ctcae"
# Where the wheel puts the repository's top-level data/ folder (see pyproject.toml): inside the
# ctcae package, so an installed toxwatch carries its data and claims no generic top-level name
# such as ``data`` in site-packages.
INSTALLED_DATA_DIR = "_shipped"


def data_path(*parts: str) -> Path:
    """A file or folder of the data toxwatch ships, e.g. ``data_path("ctcae", "synonyms.csv")``.

    The one place that knows where the shipped data lives; every module asks here.
    """
    return shipped_data_root().joinpath(*parts)


@lru_cache(maxsize=1)
def shipped_data_root() -> Path:
    """The shipped data folder, found from the ``ctcae`` package through importlib.resources."""
    return find_shipped_data(importlib.resources.files(PACKAGE))


def find_shipped_data(package_dir: Traversable) -> Path:
    """The data folder for a ``ctcae`` package found at ``package_dir`` (a resources Traversable).

    Installed from the wheel, the data sits inside the package (``ctcae/_shipped/``). In a
    checkout (``uv run``, an editable install, or the repository on ``sys.path``), the package is
    the repository's own ``ctcae/`` folder, and the data is the top-level ``data/`` beside it;
    that folder counts only next to the project's ``pyproject.toml``, so a stray ``data``
    folder in site-packages is never taken for ours.

    The result must be a real folder: DuckDB, Polars and the trial configuration read files by
    path. pip and uv always install a wheel unpacked, so ``files()`` is a plain directory
    there; only a zipped import (the wheel itself on ``sys.path``) is not, and is refused with
    the fix rather than read half-way.
    """
    if not isinstance(package_dir, Path):
        raise RuntimeError(
            f"toxwatch is imported from an archive ({package_dir}); its data files must be real "
            "files: install it with `pip install` or `uv pip install` instead"
        )
    installed = package_dir / INSTALLED_DATA_DIR
    if installed.is_dir():
        return installed
    checkout = package_dir.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout / "data"
    raise RuntimeError(
        f"toxwatch's shipped data is missing: neither {installed} nor a checkout's data/ folder "
        "exists; reinstall toxwatch from its wheel or run it from the repository"
    )
