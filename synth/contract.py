"""The source contract as the generator writes it, taken from the validators' declarations.

The generator must write what the validators accept, so it declares nothing of its own: the
columns of each source come from ``validators.read`` (required and optional columns, for the
bundled trial's agents) in the order of the source's Pandera model, the attribution scale
from ``ctcae.attribution``, and every coded value it writes (AE actions and outcomes,
seriousness, exposure adjustments, subject codes) from ``validators.schemas``. A value the
generator needs by name is checked against that declaration here, when the package is
imported: a renamed value fails loudly instead of producing a folder full of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from ctcae.attribution import ATTRIBUTION_LEVELS, DEFAULT_RELATED_LEVELS
from validators.read import OPTIONAL_COLUMNS, SOURCE_COLUMNS, required_columns
from validators.schemas import ACTIONS, ADJUSTMENTS, OUTCOMES, OVERALL_RESPONSES, SCHEMAS, YES_NO

# The agents of the bundled trial (its trial.toml), in the order their columns are written.
AGENTS = ("apatinib", "anti_pd1")

SOURCE_NAMES = tuple(SOURCE_COLUMNS)


def declared(value: str, allowed: Iterable[str], *, column: str) -> str:
    """`value` itself, once the declaration of `column` is known to allow it."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(
            f"the synthetic trial generator writes {value!r} into {column}, which the validators do "
            f"not allow (allowed: {', '.join(allowed)}); use a declared value"
        )
    return value


@cache
def allowed_values(source: str, column: str) -> tuple[str, ...]:
    """The values a source column's Pandera model allows (its ``isin`` check)."""
    schema_column = SCHEMAS[source].to_schema().columns[column]
    for check in schema_column.checks:
        if "allowed_values" in check.statistics:
            return tuple(check.statistics["allowed_values"])
    raise ValueError(f"validators.schemas declares no allowed values for {source}.{column}")


# Optional columns the generator does not write: a CTCAE-graded trial in toxwatch's own format
# codes its AEs by CTCAE term (no MedDRA coding as given, no severity, no partial dates).
NOT_GENERATED: dict[str, tuple[str, ...]] = {
    "adverse_events": (
        "meddra_pt", "meddra_soc", "meddra_llt", "meddra_hlt", "severity",
        "onset_date_given", "onset_date_imputed", "resolution_date_given", "resolution_date_imputed",
    ),
}


def source_columns(source: str) -> list[str]:
    """The columns of one source file: the validators' names, in the order of the source's model.

    The names are those the reader requires and accepts (``validators.read``), for the
    bundled trial's agents. The order is the Pandera model's, which is the documented order
    (docs/sources.md); its per-agent field stands for one column per agent, in AGENTS order.
    """
    optional = [name for name in OPTIONAL_COLUMNS.get(source, ()) if name not in NOT_GENERATED.get(source, ())]
    names = [*required_columns(source, list(AGENTS)), *optional]
    model_order = []
    for name, column in SCHEMAS[source].to_schema().columns.items():
        if column.regex:
            model_order.extend(name.removesuffix(".+") + agent for agent in AGENTS)
        else:
            model_order.append(name)
    unordered = [name for name in names if name not in model_order]
    if unordered:
        raise ValueError(f"validators.read declares {source} columns its Pandera model lacks: {unordered}")
    return sorted(dict.fromkeys(names), key=model_order.index)


# --- adverse events ----------------------------------------------------------------------

# An attribution is drawn as its index on the scale; these indices count as related (the
# usual choice, which the bundled trial.toml makes too).
RELATED_LEVEL_CODES = tuple(ATTRIBUTION_LEVELS.index(level) for level in DEFAULT_RELATED_LEVELS)

ACTION_NOT_CHANGED = declared("dose_not_changed", ACTIONS, column="adverse_events.action_<agent>")
ACTION_REDUCED = declared("dose_reduced", ACTIONS, column="adverse_events.action_<agent>")
ACTION_INTERRUPTED = declared("drug_interrupted", ACTIONS, column="adverse_events.action_<agent>")
ACTION_WITHDRAWN = declared("drug_withdrawn", ACTIONS, column="adverse_events.action_<agent>")
ACTION_NOT_APPLICABLE = declared("not_applicable", ACTIONS, column="adverse_events.action_<agent>")

OUTCOME_FATAL = declared("fatal", OUTCOMES, column="adverse_events.outcome")
OUTCOME_RECOVERED = declared("recovered", OUTCOMES, column="adverse_events.outcome")
OUTCOME_RECOVERED_WITH_SEQUELAE = declared("recovered_with_sequelae", OUTCOMES, column="adverse_events.outcome")
OUTCOME_RECOVERING = declared("recovering", OUTCOMES, column="adverse_events.outcome")
OUTCOME_NOT_RECOVERED = declared("not_recovered", OUTCOMES, column="adverse_events.outcome")
OUTCOME_UNKNOWN = declared("unknown", OUTCOMES, column="adverse_events.outcome")

YES = declared("Y", YES_NO, column="adverse_events.serious, subjects.prior_reirradiation")
NO = declared("N", YES_NO, column="adverse_events.serious, subjects.prior_reirradiation")

# --- subjects ----------------------------------------------------------------------------

_SEXES = allowed_values("subjects", "sex")
MALE = declared("M", _SEXES, column="subjects.sex")
FEMALE = declared("F", _SEXES, column="subjects.sex")

_END_REASONS = allowed_values("subjects", "end_of_treatment_reason")
# Natural ends of treatment (without toxicity), as codes into this tuple.
NATURAL_END_REASONS = tuple(
    declared(reason, _END_REASONS, column="subjects.end_of_treatment_reason")
    for reason in ("progression", "death", "withdrawal", "completed")
)
END_REASON_TOXICITY = declared("toxicity", _END_REASONS, column="subjects.end_of_treatment_reason")
END_REASON_DEATH = declared("death", _END_REASONS, column="subjects.end_of_treatment_reason")
END_REASON_WITHDRAWAL = declared("withdrawal", _END_REASONS, column="subjects.end_of_treatment_reason")

_DEATH_CAUSES = allowed_values("subjects", "death_cause")
DEATH_CAUSE_PROGRESSION = declared("disease_progression", _DEATH_CAUSES, column="subjects.death_cause")
DEATH_CAUSE_ADVERSE_EVENT = declared("adverse_event", _DEATH_CAUSES, column="subjects.death_cause")
DEATH_CAUSE_OTHER = declared("other", _DEATH_CAUSES, column="subjects.death_cause")

RECURRENCE_TYPES = allowed_values("subjects", "recurrence_type")

# --- exposure ----------------------------------------------------------------------------

ADJUSTMENT_NONE = declared("none", ADJUSTMENTS, column="exposure.adjustment")
ADJUSTMENT_REDUCED = declared("reduced", ADJUSTMENTS, column="exposure.adjustment")
ADJUSTMENT_HELD = declared("held", ADJUSTMENTS, column="exposure.adjustment")
ADJUSTMENT_DISCONTINUED = declared("discontinued", ADJUSTMENTS, column="exposure.adjustment")

# --- tumour assessments ------------------------------------------------------------------

RESPONSE_CR = declared("CR", OVERALL_RESPONSES, column="tumour_assessments.overall_response")
RESPONSE_PR = declared("PR", OVERALL_RESPONSES, column="tumour_assessments.overall_response")
RESPONSE_SD = declared("SD", OVERALL_RESPONSES, column="tumour_assessments.overall_response")
RESPONSE_PD = declared("PD", OVERALL_RESPONSES, column="tumour_assessments.overall_response")
RESPONSE_NE = declared("NE", OVERALL_RESPONSES, column="tumour_assessments.overall_response")
IMAGING_METHODS = allowed_values("tumour_assessments", "method")
