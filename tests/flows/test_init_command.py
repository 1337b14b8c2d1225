"""`toxwatch init --from-sdtm DIR` / `--from-adam DIR`: writes a trial config that loads, and never
overwrites a file unless told to (exit 1, one line naming the file and the fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.cli import main
from tests.readers.test_init_config import AE, DM, EX
from trial.config import load_trial_config


@pytest.fixture
def sdtm(tmp_path: Path) -> Path:
    folder = tmp_path / "sdtm"
    folder.mkdir()
    for name, text in {"DM.csv": DM, "EX.csv": EX, "AE.csv": AE}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_init_writes_a_config_that_loads(sdtm, tmp_path, capsys):
    out = tmp_path / "trials" / "abc" / "trial.toml"
    assert main(["init", "--from-sdtm", str(sdtm), "--out", str(out)]) == 0
    config = load_trial_config(out)
    assert config.id == "abc-123"
    assert config.model.cdisc.folder == "../../sdtm"
    assert config.model.cdisc.files == {"dm": "DM.csv", "ae": "AE.csv", "ex": "EX.csv"}
    printed = capsys.readouterr().out
    assert f"trial config: {out} (trial abc-123, grading severity)" in printed
    assert "arms: Drug X 10 mg, Drug X 5 mg + placebo" in printed
    assert "agents: drug_x 10 mg, placebo 0 mg" in printed


def test_init_refuses_to_overwrite_without_force(sdtm, tmp_path, capsys):
    out = tmp_path / "trial.toml"
    out.write_text("# the user's own config\n")
    assert main(["init", "--from-sdtm", str(sdtm), "--out", str(out)]) == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert f"{out}: --out: the file exists" in error and "--force" in error
    assert out.read_text() == "# the user's own config\n"

    assert main(["init", "--from-sdtm", str(sdtm), "--out", str(out), "--force", "--id", "abc"]) == 0
    assert load_trial_config(out).id == "abc"


def test_init_needs_one_standard_and_a_usable_folder(sdtm, tmp_path, capsys):
    with pytest.raises(SystemExit) as usage:
        main(["init", "--out", str(tmp_path / "a.toml")])
    assert usage.value.code == 1
    assert "one of the arguments --from-sdtm --from-adam is required" in capsys.readouterr().err
    assert main(["init", "--from-adam", str(sdtm), "--out", str(tmp_path / "b.toml")]) == 1
    error = capsys.readouterr().err
    assert "no ADaM ADSL, ADEX, ADAE file" in error and "--from-sdtm" in error
    assert not (tmp_path / "b.toml").exists()
