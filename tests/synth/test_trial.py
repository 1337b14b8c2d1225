"""Tests of synth.trial: the folder `generate_trial` writes, its arguments and its determinism."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

import synth.trial as synth_trial
from synth import generate_trial
from tests.conftest import REPO_ROOT
from tests.synth.conftest import BUNDLED_DIR, SOURCE_NAMES, read_source


def file_hashes(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("first", 99), ("second", 99), ("other", 100)):
        generate_trial(150, seed, tmp_path / name, error_rate=0.02)
    first = file_hashes(tmp_path / "first")
    assert first == file_hashes(tmp_path / "second")
    other = file_hashes(tmp_path / "other")
    for name in SOURCE_NAMES:
        assert first[f"{name}.csv"] != other[f"{name}.csv"], name


def test_returns_rows_written_and_copies_the_bundled_config(tmp_path: Path) -> None:
    counts = generate_trial(30, 1, tmp_path)
    assert set(counts) == set(SOURCE_NAMES)
    for name in SOURCE_NAMES:
        assert counts[name] == read_source(tmp_path, name).height
    assert counts["subjects"] == 30
    assert (tmp_path / "trial.toml").read_bytes() == (BUNDLED_DIR / "trial.toml").read_bytes()


def test_writing_into_the_bundled_folder_keeps_its_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "bundled"
    folder.mkdir()
    (folder / "trial.toml").write_text("# the lead's config\n", encoding="utf-8")
    monkeypatch.setattr(synth_trial, "BUNDLED_TRIAL_DIR", folder)
    monkeypatch.setattr(synth_trial, "BUNDLED_CONFIG_PATH", folder / "trial.toml")
    generate_trial(10, 1, folder)
    assert (folder / "trial.toml").read_text(encoding="utf-8") == "# the lead's config\n"


def test_bundled_sample_is_the_generator_output(tmp_path: Path) -> None:
    """The shipped sample is exactly what the generator makes for its seed (no drift)."""
    if not (BUNDLED_DIR / "adverse_events.csv").exists():
        pytest.skip("bundled sample not generated yet")
    generate_trial(60, 20240115, tmp_path, error_rate=0.02)
    for name in SOURCE_NAMES:
        assert (tmp_path / f"{name}.csv").read_bytes() == (BUNDLED_DIR / f"{name}.csv").read_bytes(), name


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_subjects"):
        generate_trial(0, 1, tmp_path)
    with pytest.raises(ValueError, match="error_rate"):
        generate_trial(10, 1, tmp_path, error_rate=0.9)
    with pytest.raises(ValueError, match="data_cutoff"):
        generate_trial(10, 1, tmp_path, data_cutoff=date(2024, 1, 20))


@pytest.mark.slow
def test_nothing_is_dated_after_an_early_cutoff(tmp_path: Path) -> None:
    cutoff = date(2025, 2, 28)
    generate_trial(200, 3, tmp_path, data_cutoff=cutoff)
    for name in SOURCE_NAMES:
        frame = read_source(tmp_path, name)
        for column, dtype in frame.schema.items():
            if dtype == pl.Date:
                latest = frame[column].max()
                assert latest is None or latest <= cutoff, (name, column)


def test_generating_leaves_the_reference_data_untouched(tmp_path: Path) -> None:
    data_dir = REPO_ROOT / "data" / "synth"
    before = file_hashes(data_dir)
    generate_trial(20, 8, tmp_path)
    assert file_hashes(data_dir) == before
