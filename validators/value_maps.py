"""Value maps: the values a source file writes in its own words, read as the contract's values.

An EDC export writes an outcome as "Recovered" or "痊愈", seriousness as "Yes", attribution as
"Possibly related". The trial config maps such values, per canonical column of a source, onto
the contract's (``[sources.<name>.values.<column>]``, docs/trial-config.md):

* a value is matched on its text without surrounding spaces, whatever its case;
* a map applies after the file's columns are renamed and before validation, so a value the map
  does not list reaches validation as given and is queried there if it is not valid: never
  dropped, never replaced by a guess;
* a per-agent column is mapped for one agent (``attribution_apatinib``) or for every agent
  (``attribution_*``); an agent's own map adds to the map for every agent and wins over it.

The config is checked when it loads (``value_map_problem``): a map names a column of its
source, maps no empty value, maps onto a value the column allows, and does not map one value
(case and spaces aside) two ways.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from validators.contract import SourceColumn, source_columns

EVERY_AGENT = "*"  # ``attribution_*``: the map of a per-agent column for every agent


def value_map_problem(
    source: str, column: str, mapping: Mapping[str, str], agent_ids: Sequence[str]
) -> tuple[str, str] | None:
    """What is wrong with the map of one column of a source, as (problem, fix); None if nothing."""
    declared = _declared_column(source, column, agent_ids)
    if declared is None:
        return (
            f"the {source} source has no column {column!r} to map",
            f"key the map by a canonical column of the source: {', '.join(mappable_columns(source, agent_ids))}",
        )
    for given, value in mapping.items():
        if not given.strip():
            return "an empty value is mapped: a missing value stays missing", "remove the empty key"
        if not value.strip():
            return f"{given!r} is mapped to an empty value: a map does not make a value missing", "map it to a value of the contract"
        allowed = declared.allowed_values
        if allowed is not None and value not in allowed:
            return f"{given!r} is mapped to {value!r}, which {column} does not allow", f"map it to one of {', '.join(allowed)}"
    seen: dict[str, tuple[str, str]] = {}
    for (given, value), matched in zip(mapping.items(), _matched_text(list(mapping))):
        if matched in seen and seen[matched][1] != value:
            first, first_value = seen[matched]
            return (
                f"{first!r} and {given!r} are the same value (case and spaces aside) mapped to {first_value!r} and {value!r}",
                "keep one of them",
            )
        seen.setdefault(matched, (given, value))
    return None


def mappable_columns(source: str, agent_ids: Sequence[str]) -> list[str]:
    """The names a map of the source may be keyed by: its canonical columns, a per-agent one for
    every agent (``attribution_*``) and for each agent."""
    names = []
    for declared in source_columns(source):
        if declared.per_agent:
            names.append(declared.for_agent(EVERY_AGENT))
            names.extend(declared.for_agent(agent) for agent in agent_ids)
        else:
            names.append(declared.name)
    return names


def _declared_column(source: str, column: str, agent_ids: Sequence[str]) -> SourceColumn | None:
    for declared in source_columns(source):
        if declared.per_agent:
            if column in (declared.for_agent(EVERY_AGENT), *(declared.for_agent(agent) for agent in agent_ids)):
                return declared
        elif declared.name == column:
            return declared
    return None


def column_maps(values: Mapping[str, Mapping[str, str]], agent_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each column's map with the maps for every agent spelled out per agent: column -> {value
    as matched (trimmed, lower case) -> value of the contract}."""
    spelled: dict[str, dict[str, str]] = {}
    every_agent = {column: mapping for column, mapping in values.items() if column.endswith("_" + EVERY_AGENT)}
    for column, mapping in every_agent.items():
        prefix = column.removesuffix(EVERY_AGENT)
        for agent in agent_ids:
            spelled.setdefault(prefix + agent, {}).update(mapping)
    for column, mapping in values.items():
        if column not in every_agent:
            spelled.setdefault(column, {}).update(mapping)  # an agent's own map wins over the one for every agent
    return {
        column: dict(zip(_matched_text(list(mapping)), mapping.values()))
        for column, mapping in spelled.items()
        if mapping
    }


def map_values(frame: pl.DataFrame, values: Mapping[str, Mapping[str, str]], agent_ids: Sequence[str]) -> pl.DataFrame:
    """The frame (canonical text columns) with each mapped column's listed values replaced by
    the contract's; a value not listed, and a missing one, as given."""
    expressions = []
    for column, mapping in column_maps(values, agent_ids).items():
        matched = pl.col(column).str.strip_chars().str.to_lowercase()
        expressions.append(
            matched.replace_strict(list(mapping), list(mapping.values()), default=pl.col(column), return_dtype=pl.String).alias(column)
        )
    return frame.with_columns(expressions) if expressions else frame


def _matched_text(given: list[str]) -> list[str]:
    """Values as they are matched: without surrounding spaces, in lower case (by Polars, as the
    file's values are, so that both sides are folded alike)."""
    return pl.Series(given, dtype=pl.String).str.strip_chars().str.to_lowercase().to_list()

