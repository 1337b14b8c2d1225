"""Documentation that must not drift from the code."""

import re

from safetydb.store import TABLE_MODELS
from tests.conftest import REPO_ROOT
from validators.trial_config import TrialConfigModel


def test_every_table_is_documented():
    documented = set(re.findall(r"^\| `(t_\w+)` \|", (REPO_ROOT / "docs" / "outputs.md").read_text(), flags=re.M))
    assert documented == set(TABLE_MODELS)


def test_every_config_section_is_documented():
    text = (REPO_ROOT / "docs" / "trial-config.md").read_text()
    for section in TrialConfigModel.model_fields:
        assert f"`{section}`" in text or f"[{section}" in text, section
