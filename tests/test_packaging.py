"""The top-level packages are this repository's, not same-named distributions from PyPI."""

import importlib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.parametrize("package", ["flows", "trial", "ctcae", "validators", "readers", "safetydb", "signals", "reports", "synth"])
def test_package_imports_from_this_repository(package):
    module = importlib.import_module(package)
    assert Path(module.__file__).resolve().parent == REPO_ROOT / package


def test_console_script_points_at_the_cli():
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["toxwatch"] == "flows.cli:main"
