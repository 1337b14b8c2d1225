"""`toxwatch init` marks the placebo arm as the reference arm (`reference = true`): the first arm
whose name or arm code, trimmed, case-folded and without a leading label ("B: "), is a placebo's
(data/cdisc/reference_arms.csv: PLACEBO, PBO). A name that only contains the word ("Drug X 5 mg +
placebo", a double-dummy arm) is not a placebo arm.

The hand-made SDTM folder of tests/readers/test_init_config.py with two arms added to DM:
S-004 moved to arm "Placebo" (ARMCD PBO), and S-007 in arm "C: Placebo" (ARMCD C, no EX record).
In DM order the arms are Drug X 10 mg, Drug X 5 mg + placebo, Placebo, C: Placebo: "Placebo" is
the reference; "C: Placebo" also names a placebo arm and is told that only one arm can be.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from readers.init_config import ArmFound, _names_placebo, config_from_cdisc
from tests.conftest import reference_path
from tests.readers.test_init_config import AE, DM, EX, prose
from trial.config import load_trial_config

PLACEBO_DM = DM.replace(
    "ABC 123,DM,S-004,LOW,Drug X 5 mg + placebo,LOW,Drug X 5 mg + placebo,2024-01-03",
    "ABC 123,DM,S-004,PBO,Placebo,PBO,Placebo,2024-01-03",
) + "ABC 123,DM,S-007,C,C: Placebo,C,C: Placebo,\n"


@pytest.mark.parametrize(
    ("value", "code", "variable", "named_by"),
    [
        ("Placebo", "Pbo", "ARM", "ARM"),
        ("Vehicle", " pbo ", "ARM", "ARMCD"),
        ("B: Placebo", "ARM B", "TRT01P", "TRT01P"),
        ("  PLACEBO ", None, "ACTARM", "ACTARM"),
        ("Drug X 5 mg + placebo", "LOW", "ARM", None),
        ("Placebo run-in then Drug X", "RUNIN", "ARM", None),
        ("Xanomeline Low Dose", "Xan_Lo", "ARM", None),
    ],
)
def test_which_arms_name_a_placebo(value, code, variable, named_by):
    assert _names_placebo(ArmFound(id="x", value=value, code=code, subjects=1), variable) == named_by


def test_the_first_placebo_arm_is_written_as_the_reference(tmp_path):
    folder = tmp_path / "sdtm"
    folder.mkdir()
    for name, text in {"dm.csv": PLACEBO_DM, "ex.csv": EX, "ae.csv": AE}.items():
        (folder / name).write_text(text, encoding="utf-8")
    out = tmp_path / "trial.toml"
    text = config_from_cdisc(folder, standard="sdtm", out=out)
    out.write_text(text, encoding="utf-8")
    arms = {arm["value"]: arm for arm in tomllib.loads(text)["arms"]}
    assert list(arms) == ["Drug X 10 mg", "Drug X 5 mg + placebo", "Placebo", "C: Placebo"]
    assert [value for value, arm in arms.items() if arm.get("reference")] == ["Placebo"]
    assert "Its ARM names a placebo arm (data/cdisc/reference_arms.csv): the reference (control) arm" in prose(text)
    assert "Its ARM names a placebo arm too; only one arm is the reference: pbo." in prose(text)
    assert load_trial_config(out).reference_arm.value == "Placebo"


def test_the_cdisc_pilots_placebo_arm_is_the_reference(tmp_path):
    """CDISC pilot DM: ARM "Placebo", ARMCD "Pbo" (../shared/reference/sdtm)."""
    folder = reference_path("sdtm", "pharmaversesdtm")
    out = tmp_path / "trial.toml"
    out.write_text(config_from_cdisc(folder, standard="sdtm", out=out), encoding="utf-8")
    config = load_trial_config(out)
    assert [(arm.value, arm.reference) for arm in config.arms] == [
        ("Placebo", True), ("Xanomeline High Dose", False), ("Xanomeline Low Dose", False),
    ]
