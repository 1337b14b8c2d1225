"""Tests of synth.contract: the generator writes the columns docs/sources.md documents.

The expected columns are read from the tables of docs/sources.md, an independent route from
the validators' declaration the generator takes its names from.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from synth.contract import NOT_GENERATED, declared, source_columns
from tests.conftest import REPO_ROOT
from tests.synth.conftest import SOURCE_NAMES

SOURCES_DOC = REPO_ROOT / "docs" / "sources.md"


def contract_columns() -> dict[str, list[str]]:
    """Column lists of the five sources, read from the tables of docs/sources.md, less the optional
    columns the generator does not write (synth.contract.NOT_GENERATED: MedDRA coding as given,
    severity, partial dates)."""
    columns: dict[str, list[str]] = {}
    current = None
    for line in SOURCES_DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (\w+) —", line)
        if heading:
            current = heading.group(1)
            columns[current] = []
            continue
        cell = re.match(r"\| `([a-z_<>0-9]+)` \|", line)
        if current and cell:
            name = cell.group(1)
            if "<agent>" in name:
                columns[current].extend(name.replace("<agent>", agent) for agent in ("apatinib", "anti_pd1"))
            elif name not in NOT_GENERATED.get(current, ()):
                columns[current].append(name)
    return columns


def test_source_columns_are_the_documented_columns_in_the_documented_order() -> None:
    """Every agent's attribution, then every agent's action, between outcome and awareness_date."""
    expected = contract_columns()
    assert set(expected) == set(SOURCE_NAMES)
    for name in SOURCE_NAMES:
        assert source_columns(name) == expected[name], name
    adverse_events = source_columns("adverse_events")
    assert adverse_events[adverse_events.index("outcome") + 1:adverse_events.index("awareness_date")] == [
        "attribution_apatinib", "attribution_anti_pd1", "action_apatinib", "action_anti_pd1",
    ]


def test_a_value_the_validators_do_not_declare_is_refused() -> None:
    assert declared("fatal", ("fatal", "recovered"), column="adverse_events.outcome") == "fatal"
    with pytest.raises(ValueError, match="adverse_events.outcome"):
        declared("died", ("fatal", "recovered"), column="adverse_events.outcome")


def test_every_file_has_exactly_the_contract_columns(clean_trial: Path) -> None:
    expected = contract_columns()
    assert set(expected) == set(SOURCE_NAMES)
    for name in SOURCE_NAMES:
        with (clean_trial / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == expected[name], name
