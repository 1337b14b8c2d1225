"""Vectorised CTCAE grading of a whole labs frame, row for row identical to ``grade``.

Grading millions of lab results one ``grade`` call at a time is too slow for a data cut, and a
second, vectorised reading of the criteria would be a second evaluator that could drift from
the first. So this module never decides a grade itself: Polars expressions only work out, for
every row, which way each of the evaluator's comparisons goes, and the evaluator of
``ctcae.grade_value`` runs once per distinct set of outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ctcae.criteria import REFERENCE_KINDS, GradeBand, GradingCriteria, LabTest, load_criteria, resolve_test
from ctcae.grade_value import RELATIVE_TOLERANCE, Evaluation, evaluate, unit_factor


FRAME_RESULT_COLUMNS = ("ctcae_term", "grade", "gradable", "reason", "criterion")


def grade_frame(labs: pl.DataFrame, *, version: str = "5.0") -> pl.DataFrame:
    """Grade every row of a labs frame; returns it with ctcae_term, grade, gradable, reason, criterion.

    Needs ``test_code`` and ``value``; ``unit``, ``lln``, ``uln`` and ``baseline`` are used when
    present (a missing column counts as missing values). ``unit`` applies to value, LLN, ULN
    and baseline of the row. A test code without grading criteria (e.g. TSH) is not gradable
    with the reason rather than an error. Every row gets exactly what ``grade`` gives for it.

    How it stays identical to ``grade`` without grading row by row: for each test, Polars
    expressions built from the test's criteria rows compute, for every row, the outcome of each
    comparison the evaluator can make (value against each cut-point, baseline against ULN/LLN:
    below, equal within the tolerance, above, or undecidable) and which references are missing.
    Together with the stage the row stops at (value missing, unit not accepted, value not
    finite) these form a key that fully determines the evaluator's result. The evaluator then
    runs once per distinct key, on one row having it, and the result is copied to the other
    rows. Rows whose reason quotes their own numbers (negative value, dipstick value not
    allowed, unusable ULN/LLN/baseline) go through the evaluator one by one.
    """
    criteria = load_criteria(version)
    for required in ("test_code", "value"):
        if required not in labs.columns:
            raise ValueError(f"labs frame has no {required!r} column")

    def column(name: str, dtype) -> pl.Series:
        if name not in labs.columns:
            return pl.repeat(None, labs.height, dtype=dtype, eager=True).alias(name)
        return labs.get_column(name).cast(dtype, strict=False).alias(name)

    test_ids, test_codes = _dense_ids(column("test_code", pl.String))
    unit_ids, units = _dense_ids(column("unit", pl.String))
    work = pl.DataFrame(
        [
            column("value", pl.Float64),
            pl.Series("unit_id", unit_ids, dtype=pl.UInt32),
            column("lln", pl.Float64),
            column("uln", pl.Float64),
            column("baseline", pl.Float64),
        ]
    )

    outcomes = _OutcomeTable()
    outcome_ids = np.zeros(labs.height, dtype=np.uint32)
    order = np.argsort(test_ids.astype(np.uint16) if len(test_codes) < 2**16 else test_ids, kind="stable")
    ends = np.cumsum(np.bincount(test_ids, minlength=len(test_codes)))
    start = 0
    for test_index, test_code in enumerate(test_codes):
        rows = order[start:ends[test_index]]
        start = ends[test_index]
        if rows.size == 0:
            continue
        target = _resolve_frame_test(criteria, test_code)
        if isinstance(target, str):
            outcome_ids[rows] = outcomes.add(Evaluation.not_gradable(None, criteria.version, target, {}))
        else:
            outcome_ids[rows] = _grade_test_rows(criteria, target, work[rows], units, outcomes)

    table = outcomes.frame()
    taken = pl.Series("outcome", outcome_ids, dtype=pl.UInt32)
    return labs.with_columns(table.get_column(name).gather(taken) for name in FRAME_RESULT_COLUMNS)


def _dense_ids(texts: pl.Series) -> tuple[np.ndarray, list[str | None]]:
    """Each row's index into the distinct texts of the column (None counts as a text)."""
    distinct = texts.drop_nulls().unique().to_list()
    ids = texts.replace_strict(distinct, list(range(len(distinct))), default=len(distinct), return_dtype=pl.UInt32)
    return ids.to_numpy(), distinct + [None]


class _OutcomeTable:
    """The distinct results of a frame; rows point at them by number."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}

    def add(self, evaluation: Evaluation) -> int:
        outcome = (evaluation.ctcae_term, evaluation.grade, evaluation.gradable, evaluation.reason, evaluation.criterion)
        return self.ids.setdefault(outcome, len(self.ids))

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            list(self.ids),
            schema={
                "ctcae_term": pl.String, "grade": pl.Int64, "gradable": pl.Boolean,
                "reason": pl.String, "criterion": pl.String,
            },
            orient="row",
        )


# Stage a frame row stops at, in the order the evaluator checks them (low 3 bits of the row key).
_STAGE_VALUE_MISSING = 0
_STAGE_UNIT_PROBLEM = 1  # the rest of the key is the unit
_STAGE_NOT_FINITE = 2
_STAGE_ONE_BY_ONE = 3  # the reason quotes the row's numbers: evaluated row by row
_STAGE_GRADED = 4  # the rest of the key is the comparison outcomes and missing references
_STAGE_BITS = 3
_KEY_BITS = 62
# Converted ULN/LLN/baseline above this go row by row, so that no cut-point overflows to infinity.
_LARGEST_VECTORISED_REFERENCE = 1e300


@dataclass(frozen=True)
class _FramePlan:
    """What the vectorised path computes for one test (and the terms asked for)."""

    comparisons: tuple[tuple, ...]  # ("value", reference kind, factor) or ("baseline", limit kind)
    references: tuple[str, ...]  # ULN/LLN/baseline the bands use, in REFERENCE_KINDS order
    largest_reference: float


def _band_comparisons(band: GradeBand) -> list[tuple]:
    """Every comparison ``grade_value.band_met`` can make for the band, whatever the numbers."""
    comparisons = []
    if band.baseline_condition != "any":
        comparisons.append(("baseline", band.normal_limit()))
    for cut_point in (band.lower, band.upper):
        if cut_point is not None:
            comparisons.append(("value", cut_point.reference, cut_point.factor))
    if band.lower is not None and band.lower.reference == "baseline":
        # grade_value._lower_cut_point_met_without_baseline compares the value with the same multiple of ULN
        comparisons.append(("value", "uln", band.lower.factor))
    return comparisons


def _frame_plan(criteria: GradingCriteria, test: LabTest, terms: tuple[str, ...]) -> _FramePlan | None:
    """The comparisons of the test's bands; None when they are too many for a 62-bit key."""
    comparisons: list[tuple] = []
    factors = [1.0]
    for term in terms:
        for band in criteria.bands_by_test[test.code][term]:
            for comparison in _band_comparisons(band):
                if comparison not in comparisons:
                    comparisons.append(comparison)
                if comparison[0] == "value":
                    factors.append(abs(comparison[2]))
    used = set(criteria.references_used(test.code))
    used.update(comparison[1] for comparison in comparisons if comparison[1] in REFERENCE_KINDS)
    references = tuple(kind for kind in REFERENCE_KINDS if kind in used)
    if _STAGE_BITS + 2 * len(comparisons) + len(references) > _KEY_BITS:
        return None
    return _FramePlan(tuple(comparisons), references, _LARGEST_VECTORISED_REFERENCE / max(factors))


def _comparison_code(left: pl.Expr, right: pl.Expr | float, weight: int) -> pl.Expr:
    """``grade_value._compare`` as an expression: weight x (0 below, 1 equal within tolerance, 2 above, 3 undecidable).

    Exact replica of math.isclose(left, right, rel_tol, abs_tol) for finite numbers:
    |right - left| <= max(|rel_tol x right|, |rel_tol x left|, abs_tol).
    """
    if isinstance(right, float):
        right_tolerance = pl.lit(max(abs(RELATIVE_TOLERANCE * right), 1e-12))
        right = pl.lit(right)
    else:
        right_tolerance = pl.max_horizontal((right * RELATIVE_TOLERANCE).abs(), pl.lit(1e-12))
    tolerance = pl.max_horizontal((left * RELATIVE_TOLERANCE).abs(), right_tolerance)
    close = (left - right).abs() <= tolerance
    above = (left > right).cast(pl.Int64) * (2 * weight)
    return pl.when(close).then(pl.lit(weight, pl.Int64)).otherwise(above).fill_null(3 * weight)


def _grade_test_rows(
    criteria: GradingCriteria,
    target: tuple[LabTest, tuple[str, ...]],
    rows: pl.DataFrame,
    units: list[str | None],
    outcomes: _OutcomeTable,
) -> np.ndarray:
    """Outcome numbers of the rows of one test (columns value, unit_id, lln, uln, baseline)."""
    lab_test, terms = target

    def evaluate_row(row: dict) -> Evaluation:
        return evaluate(
            criteria, lab_test, terms, row["value"], units[row["unit_id"]], row["uln"], row["lln"], row["baseline"]
        )

    plan = _frame_plan(criteria, lab_test, terms)
    if plan is None:
        return _grade_one_by_one(rows, evaluate_row, outcomes)

    factors: dict[int, float] = {}
    problem_units: list[int] = []
    for unit_id in rows.get_column("unit_id").unique().to_list():
        factor, _, problem = unit_factor(criteria, lab_test, units[unit_id])
        if problem is None:
            factors[unit_id] = factor
        else:
            problem_units.append(unit_id)
    distinct_factors = set(factors.values())
    if len(distinct_factors) > 1:
        factor = pl.col("unit_id").replace_strict(
            list(factors), list(factors.values()), default=None, return_dtype=pl.Float64
        )
    else:
        factor = pl.lit(distinct_factors.pop() if distinct_factors else 1.0)

    # The numbers in the criterion's unit, as ``evaluate`` converts them (NaN counts as missing).
    value = pl.col("value")
    converted = [(value * factor).alias("converted_value")]
    converted += [(pl.col(kind).fill_nan(None) * factor).alias(f"converted_{kind}") for kind in plan.references]

    def number(kind: str) -> pl.Expr:
        return pl.col(f"converted_{kind}")

    key_parts = []
    weight = 1 << _STAGE_BITS
    for comparison in plan.comparisons:
        if comparison[0] == "baseline":
            left, right = number("baseline"), number(comparison[1])
        else:
            _, kind, cut_factor = comparison
            left = number("value")
            right = cut_factor if kind == "absolute" else number(kind) * cut_factor
        key_parts.append(_comparison_code(left, right, weight))
        weight <<= 2
    for kind in plan.references:
        key_parts.append(number(kind).is_null().cast(pl.Int64) * weight)
        weight <<= 1
    key_parts = [part.alias(f"key_part_{index}") for index, part in enumerate(key_parts)]

    # Rows whose reason quotes their numbers: negative value, dipstick value not allowed,
    # unusable ULN/LLN/baseline (grade_value._reference_problem), and references too large to multiply.
    one_by_one = number("value") < 0
    if lab_test.allowed_values is not None:
        one_by_one = one_by_one | ~number("value").is_in(sorted(lab_test.allowed_values))
    for kind in plan.references:
        reference = number(kind)
        usable = reference >= 0 if kind == "lln" else reference > 0
        one_by_one = one_by_one | (reference.is_not_null() & ~(usable & (reference <= plan.largest_reference)))
    if "lln" in plan.references and "uln" in plan.references:
        one_by_one = one_by_one | (number("lln") > number("uln"))

    stage = (
        pl.when(value.is_null() | value.is_nan()).then(pl.lit(_STAGE_VALUE_MISSING, pl.Int64))
        .when(pl.col("unit_id").is_in(problem_units))
        .then(pl.col("unit_id").cast(pl.Int64) * (1 << _STAGE_BITS) + _STAGE_UNIT_PROBLEM)
        .when(~number("value").is_finite()).then(pl.lit(_STAGE_NOT_FINITE, pl.Int64))
        .when(one_by_one).then(pl.lit(_STAGE_ONE_BY_ONE, pl.Int64))
        .otherwise(pl.sum_horizontal(pl.col(r"^key_part_\d+$")) + _STAGE_GRADED)
    )
    keys = (
        rows.lazy()
        .with_columns(converted)
        .with_columns(key_parts)
        .select(stage.alias("key"))
        .collect()
        .get_column("key")
    )

    # One evaluation per distinct key, on a row that has it.
    keyed = rows.with_columns(keys)
    key_outcomes: dict[int, int] = {}
    for row in keyed.unique(subset="key", keep="any").iter_rows(named=True):
        if row["key"] != _STAGE_ONE_BY_ONE:
            key_outcomes[row["key"]] = outcomes.add(evaluate_row(row))
    if not key_outcomes:
        return _grade_one_by_one(rows, evaluate_row, outcomes)
    outcome_ids = keys.replace_strict(
        list(key_outcomes), list(key_outcomes.values()), default=0, return_dtype=pl.UInt32
    ).to_numpy().copy()
    one_by_one_rows = np.flatnonzero(keys.to_numpy() == _STAGE_ONE_BY_ONE)
    if one_by_one_rows.size:
        outcome_ids[one_by_one_rows] = _grade_one_by_one(rows[one_by_one_rows], evaluate_row, outcomes)
    return outcome_ids


def _grade_one_by_one(rows: pl.DataFrame, evaluate_row, outcomes: _OutcomeTable) -> np.ndarray:
    """Outcome numbers from the evaluator row by row (identical rows evaluated once)."""
    graded: dict[tuple, int] = {}
    outcome_ids = np.empty(rows.height, dtype=np.uint32)
    for index, row in enumerate(rows.iter_rows(named=True)):
        identity = (row["value"], row["unit_id"], row["lln"], row["uln"], row["baseline"])
        if identity not in graded:
            graded[identity] = outcomes.add(evaluate_row(row))
        outcome_ids[index] = graded[identity]
    return outcome_ids


def _resolve_frame_test(criteria: GradingCriteria, test_code: str | None):
    """Like ``resolve_test``, but an unknown test becomes the reason text instead of an error."""
    if test_code is None or test_code.strip() == "":
        return "test code missing"
    try:
        return resolve_test(criteria, test_code)
    except ValueError:
        return f"no CTCAE v{criteria.version} grading criteria for test {test_code!r}"
