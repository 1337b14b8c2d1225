"""Where the shipped data is found: inside the installed package, or the checkout's data/ folder.

The installed case is exercised for real by tests/test_wheel.py (slow); here the same decision is
taken on hand-made folder layouts.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ctcae.home import INSTALLED_DATA_DIR, data_path, find_shipped_data
from tests.conftest import REPO_ROOT


def test_in_this_checkout_the_data_is_the_repository_data_folder():
    assert data_path() == REPO_ROOT / "data"
    assert data_path("ctcae", "lab_tests.csv").is_file()
    assert data_path("trials", "npc-apatinib-pd1", "trial.toml").is_file()


def test_installed_layout_uses_the_data_inside_the_package(tmp_path):
    package = tmp_path / "site-packages" / "ctcae"
    (package / INSTALLED_DATA_DIR / "ctcae").mkdir(parents=True)
    assert find_shipped_data(package) == package / INSTALLED_DATA_DIR


def test_data_inside_the_package_wins_over_a_data_folder_beside_it(tmp_path):
    package = tmp_path / "ctcae"
    (package / INSTALLED_DATA_DIR).mkdir(parents=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    assert find_shipped_data(package) == package / INSTALLED_DATA_DIR


def test_checkout_layout_uses_the_top_level_data_folder(tmp_path):
    package = tmp_path / "ctcae"
    package.mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    assert find_shipped_data(package) == tmp_path / "data"


def test_a_stray_data_folder_in_site_packages_is_not_taken_for_ours(tmp_path):
    """Some distributions install a top-level data/ into site-packages; without our
    pyproject.toml beside it, it is not toxwatch's checkout."""
    package = tmp_path / "site-packages" / "ctcae"
    package.mkdir(parents=True)
    (tmp_path / "site-packages" / "data").mkdir()
    with pytest.raises(RuntimeError, match="shipped data is missing"):
        find_shipped_data(package)


def test_a_zipped_import_is_refused_with_the_fix(tmp_path):
    archive = tmp_path / "toxwatch.whl"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ctcae/_shipped/ctcae/lab_tests.csv", "test_code\n")
    package = zipfile.Path(archive, "ctcae/")
    assert not isinstance(package, Path)
    with pytest.raises(RuntimeError, match="pip install"):
        find_shipped_data(package)
