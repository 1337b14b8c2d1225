"""Documentation that must not drift from the code."""

import re

from safetydb.export import ARM_COMPARISON_TABLES, COMPUTED_TABLES
from safetydb.store import TABLE_MODELS
from tests.conftest import REPO_ROOT
from trial.config import TrialConfigModel


def test_every_table_is_documented():
    documented = set(re.findall(r"^\| `(t_\w+)` \|", (REPO_ROOT / "docs" / "outputs.md").read_text(), flags=re.M))
    assert documented == set(TABLE_MODELS) | {name for name in COMPUTED_TABLES + ARM_COMPARISON_TABLES if name.startswith("t_")}


def test_every_config_section_is_documented():
    text = (REPO_ROOT / "docs" / "trial-config.md").read_text()
    for section in TrialConfigModel.model_fields:
        assert f"`{section}`" in text or f"[{section}" in text, section


def test_every_check_consequence_is_documented():
    """docs/validation.md lists each check with the effect and reading declared in validators/checks.py."""
    from validators.checks import DUPLICATE_CONSEQUENCES, FIELD_CONSEQUENCES, FRAME_CHECKS, RUN_CHECKS

    text = (REPO_ROOT / "docs" / "validation.md").read_text()
    for check in [*FRAME_CHECKS.values(), *RUN_CHECKS.values()]:
        assert f"| `{check.name}` | `{check.field}` | {check.consequence.effect} | {check.consequence.reading} |" in text, check.name
    for (source, field), consequence in FIELD_CONSEQUENCES.items():
        assert f"| {source} | `{field}` | {consequence.effect} | {consequence.reading} |" in text, (source, field)
    for source, consequence in DUPLICATE_CONSEQUENCES.items():
        assert consequence.reading in text, source


def test_every_reconciliation_check_is_documented():
    from safetydb.store import RECONCILIATION_MODELS

    text = (REPO_ROOT / "docs" / "validation.md").read_text()
    for model in RECONCILIATION_MODELS:
        assert f"| `{model.removeprefix('q_')}` |" in text, model


def test_source_column_tables_are_generated_from_the_models():
    """docs/sources.md holds, for each source, the column table validators.contract derives from its
    Pandera model (rewrite with `uv run python -m validators.contract`), under the model's heading."""
    from validators import contract
    from validators.schemas import SCHEMAS

    text = (REPO_ROOT / "docs" / "sources.md").read_text()
    for source in SCHEMAS:
        assert contract.heading(source) in text, source
        assert contract.documented_block(text, source) == contract.generated_block(source), (
            f"docs/sources.md: the {source} table differs from validators/schemas.py; run `uv run python -m validators.contract`"
        )


def test_every_documented_check_is_declared():
    """No row of docs/validation.md's check table names a check that validators/checks.py does not declare."""
    from validators.checks import FRAME_CHECKS

    text = (REPO_ROOT / "docs" / "validation.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \| `\w+` \|", text, flags=re.M))
    assert documented == set(FRAME_CHECKS)
