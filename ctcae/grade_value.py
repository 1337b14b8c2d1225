"""CTCAE grade of one laboratory value or blood-pressure reading: the one evaluator.

The evaluator reads the grade bands of ``ctcae.criteria`` (criteria as data, never code), and
``ctcae.grade_frame`` calls it for whole frames, so a value gets the same grade, term, reason
and criterion text whichever way it is graded.

Equal within rounding
    A value within a relative 1e-9 of a cut-point counts as equal to it, so unit conversion or
    multiplication rounding cannot move a value across a boundary.

Grade of a term
    The grade is the highest grade whose band the value meets, 0 when it meets none. Several
    bands may exist for one grade (baseline-normal and baseline-abnormal branches; the x ULN
    and x baseline rules of creatinine); the worst grade wins.

Missing ULN, LLN or baseline
    A band that needs a missing number is undecided. The result is gradable only if the grade
    does not depend on the missing number; otherwise it is "not gradable" and the reason names
    what is missing and the grades still possible. Consequences:

    * Counts, hemoglobin, potassium, sodium without LLN/ULN: grades set by absolute cut-points
      are still given; a value that could be grade 0 or 1 is not gradable.
    * ALT, AST, ALP, bilirubin without baseline: v5.0 grades by x ULN when the baseline was
      normal and by x baseline when it was abnormal (baseline > ULN). A value <= ULN is grade 0
      on both branches; any higher value is not gradable.
    * Creatinine without baseline: the x baseline rule (grades 2-3) is undecided, so only a
      value whose x ULN grade is 3 or 4 is gradable.
    * 24-hour urine protein without ULN: grade 1 (>= ULN) is undecided; grades 2-3 are given.

Judgement calls
    * Baseline abnormal means baseline > ULN for the "increased" terms; baseline == ULN is
      normal.
    * Creatinine: the grade is the worse of the x ULN rule and the x baseline rule (v5.0 lists
      both for grades 2 and 3). The x baseline rule applies whatever the baseline level and even
      when the value is <= ULN. v5.0 has no x baseline rule for grade 1.
    * Grades that need symptoms or interventions cannot come from a number. Hypokalemia grades
      1 and 2 share one range; the value gives grade 1 (grade 2 needs symptoms). Hyponatremia
      125-<130 mmol/L gives grade 2 (grade 3 if symptomatic). Anemia, hypertension and
      leukocytosis grade 4 are clinical. The numeric grade is then a lower bound, and the
      criterion text says so.
    * Hypertension: adult criteria only; the "if previously WNL" condition of grade 2 and the
      treatment criteria are not applied. The grade is the worse of the systolic and diastolic
      grades; with one of them missing the grade is given only if the other reaches grade 3.
    * Proteinuria: dipstick 1+ grade 1, 2+ and 3+ grade 2, 4+ grade 3 (adult). The 24-hour
      collection and the dipstick are graded as separate tests; v5.0 says the 24-hour result
      takes precedence, which is for the caller to apply when both exist.
    * Two-directional tests (K: hypo/hyperkalemia; SODIUM: hypo/hypernatremia; WBC: decreased /
      leukocytosis; LYMPH: decreased / increased) report the term in whose direction the value
      lies. A value meeting no band of either term is grade 0 with no term.
    * Hemoglobin mmol/L is not accepted: CTCAE's own mmol/L cut-points are rounded and do not
      convert exactly to its g/L cut-points.

Units
    Value, LLN, ULN and baseline are given in one unit. They are converted to the criterion's
    unit with the factors in ``lab_tests.csv``. An unknown unit is not gradable. The unit may be
    omitted only when it cannot change the grade: every criterion of the test is a multiple of
    ULN/LLN/baseline, or every accepted unit of the test has factor 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ctcae.criteria import (
    REFERENCE_KINDS,
    REFERENCE_LABELS,
    GradeBand,
    GradingCriteria,
    LabTest,
    format_number,
    lab_test_catalogue,
    load_criteria,
    normalise_unit,
    resolve_test,
)

RELATIVE_TOLERANCE = 1e-9
BLOOD_PRESSURE_TEST = "BP"
BLOOD_PRESSURE_UNIT = "mmHg"


# ---------------------------------------------------------------------------------------------
# Public result type
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeResult:
    """Outcome of grading one measurement.

    ``grade`` is 0 when the value meets no grade band and None when it is not gradable (then
    ``reason`` says why). ``value`` and ``unit`` are as given; ``reference`` holds the numbers
    actually compared, in the criterion's unit: ``unit``, the converted ``value`` and the
    ULN/LLN/baseline the test's criteria use (None when not provided).
    """

    test: str
    ctcae_term: str | None
    grade: int | None
    gradable: bool
    criterion: str
    reason: str | None
    value: float
    unit: str | None
    reference: dict = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict:
        """JSON-ready dictionary (NaN and infinities become None)."""
        return {
            "test": self.test,
            "ctcae_term": self.ctcae_term,
            "grade": self.grade,
            "gradable": self.gradable,
            "criterion": self.criterion,
            "reason": self.reason,
            "value": _json_number(self.value),
            "unit": self.unit,
            "reference": {key: _json_number(item, rounded=True) for key, item in self.reference.items()},
        }


def _json_number(item, rounded: bool = False):
    """None for NaN/infinity; converted numbers rounded to 12 significant digits (no 30.951000000000004)."""
    if not isinstance(item, float):
        return item
    if not math.isfinite(item):
        return None
    if rounded:
        return float(f"{item:.12g}")
    return item


# ---------------------------------------------------------------------------------------------
# The evaluator
# ---------------------------------------------------------------------------------------------


def _compare(value: float, threshold: float) -> int:
    """-1, 0 or 1 as value is below, equal to (within rounding) or above the threshold."""
    if math.isclose(value, threshold, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12):
        return 0
    return -1 if value < threshold else 1


def _lower_cut_point_met(band: GradeBand, value: float, references: dict) -> bool | None:
    """Whether the value is above the band's lower cut-point; None when undecidable."""
    cut_point = band.lower
    if cut_point is None:
        return True
    threshold = cut_point.threshold(references)
    if threshold is None:
        return _lower_cut_point_met_without_baseline(band, value, references)
    comparison = _compare(value, threshold)
    return comparison >= 0 if cut_point.inclusive else comparison > 0


def _lower_cut_point_met_without_baseline(band: GradeBand, value: float, references: dict) -> bool | None:
    """A baseline-abnormal band (baseline > ULN) cannot be met by a value <= factor x ULN.

    With f >= 1 and baseline > ULN: value <= f x ULN < f x baseline. So even without the
    baseline we know that such a value is below every x baseline cut-point of that branch.
    """
    cut_point = band.lower
    uln = references.get("uln")
    if (
        cut_point.reference == "baseline"
        and band.baseline_condition == "abnormal"
        and band.direction == "high"
        and uln is not None
        and cut_point.factor >= 1
        and _compare(value, cut_point.factor * uln) <= 0
    ):
        return False
    return None


def _upper_cut_point_met(band: GradeBand, value: float, references: dict) -> bool | None:
    """Whether the value is below the band's upper cut-point; None when undecidable."""
    cut_point = band.upper
    if cut_point is None:
        return True
    threshold = cut_point.threshold(references)
    if threshold is None:
        return None
    comparison = _compare(value, threshold)
    return comparison <= 0 if cut_point.inclusive else comparison < 0


def _baseline_condition_met(band: GradeBand, references: dict) -> bool | None:
    """Baseline normal/abnormal as the band requires: abnormal = beyond the limit of its direction."""
    if band.baseline_condition == "any":
        return True
    baseline = references.get("baseline")
    limit = references.get(band.normal_limit())
    if baseline is None or limit is None:
        return None
    if band.direction == "high":
        baseline_abnormal = _compare(baseline, limit) > 0
    else:
        baseline_abnormal = _compare(baseline, limit) < 0
    if band.baseline_condition == "abnormal":
        return baseline_abnormal
    return not baseline_abnormal


def band_met(band: GradeBand, value: float, references: dict) -> bool | None:
    """True if the value lies in the band, False if not, None if a missing number decides it."""
    conditions = (
        _baseline_condition_met(band, references),
        _lower_cut_point_met(band, value, references),
        _upper_cut_point_met(band, value, references),
    )
    if False in conditions:
        return False
    if None in conditions:
        return None
    return True


@dataclass(frozen=True)
class _TermOutcome:
    term: str
    grade: int | None  # None when undecided
    possible_grades: tuple[int, ...]
    bands_met: tuple[GradeBand, ...]
    missing: tuple[str, ...]  # reference kinds whose absence leaves the grade undecided


def _grade_term(term: str, bands: tuple[GradeBand, ...], value: float, references: dict) -> _TermOutcome:
    """Highest grade whose band is met; undecided if a higher band depends on a missing number."""
    statuses = [(band, band_met(band, value, references)) for band in bands]
    met = [band for band, status in statuses if status is True]
    best_grade = max((band.grade for band in met), default=0)
    undecided = [band for band, status in statuses if status is None and band.grade > best_grade]
    bands_at_best = tuple(band for band in met if band.grade == best_grade)
    if not undecided:
        return _TermOutcome(term, best_grade, (best_grade,), bands_at_best, ())
    missing = set()
    for band in undecided:
        for kind in band.references_needed():
            if references.get(kind) is None:
                missing.add(kind)
    possible = sorted({best_grade} | {band.grade for band in undecided})
    ordered_missing = tuple(kind for kind in REFERENCE_KINDS if kind in missing)
    return _TermOutcome(term, None, tuple(possible), bands_at_best, ordered_missing)


@dataclass(frozen=True)
class Evaluation:
    """What the evaluator decides for one measurement, before it is dressed as a GradeResult.

    ``grade_frame`` keeps these (not GradeResults) so that equal outcomes of many rows are one.
    """

    ctcae_term: str | None
    grade: int | None
    criterion: str
    reason: str | None
    reference: dict = field(hash=False)

    @property
    def gradable(self) -> bool:
        return self.grade is not None

    @classmethod
    def not_gradable(cls, term: str | None, version: str, reason: str, reference: dict) -> Evaluation:
        label = term if term is not None else "CTCAE"
        return cls(term, None, f"{label} v{version}: not gradable", reason, reference)


def _describe_met_bands(criteria: GradingCriteria, outcome: _TermOutcome, test: LabTest) -> str:
    test_label = test.name.lower() if criteria.is_shared_term(outcome.term) else None
    header = f"{outcome.term} v{criteria.version} grade {outcome.grade}"
    if outcome.grade == 0:
        return f"{header}: no grade band met"
    texts = [band.describe(test_label) for band in outcome.bands_met]
    caveats = [band.caveat for band in outcome.bands_met if band.caveat]
    text = f"{header}: {'; '.join(texts)}"
    if caveats:
        text += f" ({'; '.join(caveats)})"
    return text


def _possible_grades_text(grades: tuple[int, ...]) -> str:
    words = [str(grade) for grade in grades]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _reference_problem(criteria: GradingCriteria, test_code: str, references: dict) -> str | None:
    """Why the provided ULN/LLN/baseline cannot be used, or None when they are usable."""
    used = criteria.references_used(test_code)
    for kind in REFERENCE_KINDS:
        number = references.get(kind)
        if kind not in used or number is None:
            continue
        if not math.isfinite(number):
            return f"{REFERENCE_LABELS[kind]} is not a finite number"
        if number < 0:
            return f"{REFERENCE_LABELS[kind]} is negative ({format_number(number)})"
        if number == 0 and kind in ("uln", "baseline"):
            return f"{REFERENCE_LABELS[kind]} is 0; a multiple of it is not a usable cut-point"
    lln = references.get("lln")
    uln = references.get("uln")
    if "lln" in used and "uln" in used and lln is not None and uln is not None and lln > uln:
        return f"LLN ({format_number(lln)}) is greater than ULN ({format_number(uln)})"
    return None


def _as_number(number) -> float | None:
    """A float, or None for a missing value (None or NaN)."""
    if number is None:
        return None
    number = float(number)
    if math.isnan(number):
        return None
    return number


def evaluate(
    criteria: GradingCriteria,
    test: LabTest,
    terms: tuple[str, ...],
    value,
    unit: str | None,
    uln,
    lln,
    baseline,
) -> Evaluation:
    """Grade one measurement of ``test`` for the given CTCAE terms of that test.

    The one evaluator: ``grade``, ``grade_blood_pressure`` and ``grade_frame`` all come here, so
    that a value has one grade, reason and criterion text however it is graded.
    """
    version = criteria.version
    single_term = terms[0] if len(terms) == 1 else None
    try:
        raw_references = {"uln": _as_number(uln), "lln": _as_number(lln), "baseline": _as_number(baseline)}
        value = _as_number(value)
    except (TypeError, ValueError):
        reason = "value, ULN, LLN or baseline is not a number"
        return Evaluation.not_gradable(single_term, version, reason, {})
    if value is None:
        return Evaluation.not_gradable(single_term, version, "value missing", {})

    factor, reference_unit, unit_problem = unit_factor(criteria, test, unit)
    if unit_problem is not None:
        return Evaluation.not_gradable(single_term, version, unit_problem, {})

    converted_value = value * factor
    references = {
        kind: (None if number is None else number * factor) for kind, number in raw_references.items()
    }
    used = criteria.references_used(test.code)
    shown_reference = {"unit": reference_unit, "value": converted_value}
    for kind in REFERENCE_KINDS:
        if kind in used:
            shown_reference[kind] = references[kind]

    if not math.isfinite(converted_value):
        return Evaluation.not_gradable(single_term, version, "value is not a finite number", shown_reference)
    if converted_value < 0:
        reason = f"negative value ({format_number(value)})"
        return Evaluation.not_gradable(single_term, version, reason, shown_reference)
    if test.allowed_values is not None and converted_value not in test.allowed_values:
        allowed = ", ".join(format_number(item) for item in sorted(test.allowed_values))
        return Evaluation.not_gradable(
            single_term, version,
            f"{test.code} value {format_number(value)} is not one of {allowed}", shown_reference,
        )
    problem = _reference_problem(criteria, test.code, references)
    if problem is not None:
        return Evaluation.not_gradable(single_term, version, problem, shown_reference)

    outcomes = [
        _grade_term(term, criteria.bands_by_test[test.code][term], converted_value, references)
        for term in terms
    ]
    return _combine_term_outcomes(criteria, test, outcomes, shown_reference)


def unit_factor(criteria: GradingCriteria, test: LabTest, unit: str | None) -> tuple[float, str | None, str | None]:
    """(factor to the criterion unit, unit of the compared numbers, problem or None)."""
    if unit is None or (isinstance(unit, str) and unit.strip() == ""):
        if all(factor == 1 for factor in test.unit_factors.values()):
            return 1.0, test.criterion_unit, None
        if criteria.is_ratio_only(test.code):
            return 1.0, None, None
        return 1.0, None, f"unit missing; {test.code} needs one of: {test.accepted_units()}"
    factor = test.unit_factors.get(normalise_unit(unit))
    if factor is None:
        return 1.0, None, f"unit {unit!r} not recognised for {test.code}; accepted: {test.accepted_units()}"
    return factor, test.criterion_unit, None


def _combine_term_outcomes(
    criteria: GradingCriteria, test: LabTest, outcomes: list[_TermOutcome], reference: dict
) -> Evaluation:
    """One result for a test: the term in whose direction the value lies, else grade 0 or undecided."""
    version = criteria.version
    abnormal = [outcome for outcome in outcomes if outcome.grade is not None and outcome.grade > 0]
    if len(abnormal) > 1:
        terms = " and ".join(outcome.term for outcome in abnormal)
        return Evaluation.not_gradable(None, version, f"value meets bands of both {terms}", reference)
    if abnormal:
        outcome = abnormal[0]
        return Evaluation(outcome.term, outcome.grade, _describe_met_bands(criteria, outcome, test), None, reference)

    undecided = [outcome for outcome in outcomes if outcome.grade is None]
    if undecided:
        missing = []
        for outcome in undecided:
            missing.extend(kind for kind in outcome.missing if kind not in missing)
        missing_text = ", ".join(REFERENCE_LABELS[kind] for kind in missing)
        possibilities = "; ".join(
            f"{outcome.term} could be grade {_possible_grades_text(outcome.possible_grades)}"
            for outcome in undecided
        )
        term = undecided[0].term if len(undecided) == 1 else None
        return Evaluation.not_gradable(term, version, f"{missing_text} missing; {possibilities}", reference)

    if len(outcomes) == 1:
        outcome = outcomes[0]
        return Evaluation(outcome.term, 0, _describe_met_bands(criteria, outcome, test), None, reference)
    terms = " / ".join(outcome.term for outcome in outcomes)
    return Evaluation(None, 0, f"{terms} v{version} grade 0: no grade band met", None, reference)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def grade(
    test: str,
    value: float,
    *,
    uln: float | None = None,
    lln: float | None = None,
    baseline: float | None = None,
    unit: str | None = None,
    version: str = "5.0",
) -> GradeResult:
    """CTCAE grade of one measurement.

    ``test`` is a test code of ``ctcae.criteria.SUPPORTED_TESTS``, a test name, or a CTCAE term name (case
    does not matter). A term name grades that term only (``"Hypokalemia"`` grades a high
    potassium as grade 0); a test code grades every term of the test and reports the one in
    whose direction the value lies. ``uln``, ``lln`` and ``baseline`` are in the same unit as
    ``value``. Unknown test or version -> ValueError; anything about the measurement that
    prevents grading -> a not-gradable result with the reason.
    """
    criteria = load_criteria(version)
    lab_test, terms = resolve_test(criteria, test)
    evaluation = evaluate(criteria, lab_test, terms, value, unit, uln, lln, baseline)
    return _result(lab_test.code, evaluation, value, unit)


def _result(test_code: str, evaluation: Evaluation, value, unit: str | None) -> GradeResult:
    try:
        number = _as_number(value)
    except (TypeError, ValueError):
        number = None
    return GradeResult(
        test=test_code,
        ctcae_term=evaluation.ctcae_term,
        grade=evaluation.grade,
        gradable=evaluation.gradable,
        criterion=evaluation.criterion,
        reason=evaluation.reason,
        value=math.nan if number is None else number,
        unit=unit,
        reference=evaluation.reference,
    )


def grade_blood_pressure(sbp: float | None, dbp: float | None, *, version: str = "5.0") -> GradeResult:
    """CTCAE Hypertension grade (adult) from one systolic/diastolic reading in mmHg.

    The grade is the worse of the systolic and the diastolic grade (grade 1: 120-139 or 80-89;
    grade 2: 140-159 or 90-99; grade 3: >=160 or >=100). Grades 4-5 are clinical. With one
    component missing the grade is given only when the other already reaches the highest
    numeric grade; a diastolic above the systolic is not gradable.
    """
    criteria = load_criteria(version)
    catalogue = lab_test_catalogue()
    systolic = _as_number(sbp)
    diastolic = _as_number(dbp)
    reference = {"unit": BLOOD_PRESSURE_UNIT, "systolic": systolic, "diastolic": diastolic}
    term = "Hypertension"
    shown_value = systolic if systolic is not None else math.nan

    def not_gradable(reason: str) -> GradeResult:
        evaluation = Evaluation.not_gradable(term, criteria.version, reason, reference)
        return _result(BLOOD_PRESSURE_TEST, evaluation, shown_value, BLOOD_PRESSURE_UNIT)

    if systolic is None and diastolic is None:
        return not_gradable("systolic and diastolic blood pressure missing")
    if systolic is not None and diastolic is not None and diastolic > systolic:
        return not_gradable(
            f"diastolic ({format_number(diastolic)}) above systolic ({format_number(systolic)}); "
            "reading is implausible"
        )

    components = []  # (label, test, evaluation)
    for label, code, number in (("systolic", "SBP", systolic), ("diastolic", "DBP", diastolic)):
        if number is None:
            continue
        lab_test = catalogue[code]
        evaluation = evaluate(criteria, lab_test, (term,), number, BLOOD_PRESSURE_UNIT, None, None, None)
        if not evaluation.gradable:
            return not_gradable(f"{label}: {evaluation.reason}")
        components.append((label, code, evaluation))

    worst_grade = max(evaluation.grade for _, _, evaluation in components)
    if len(components) == 1:
        label, code, _ = components[0]
        highest_numeric_grade = max(band.grade for band in criteria.bands_by_test[code][term])
        if worst_grade < highest_numeric_grade:
            missing_label = "diastolic" if label == "systolic" else "systolic"
            possible = _possible_grades_text(tuple(range(worst_grade, highest_numeric_grade + 1)))
            return not_gradable(
                f"{missing_label} blood pressure missing; {label} alone gives grade {worst_grade}, "
                f"so Hypertension could be grade {possible}"
            )

    if worst_grade == 0:
        criterion = f"{term} v{criteria.version} grade 0: no grade band met"
    else:
        texts = []
        caveats = []
        for _, code, evaluation in components:
            if evaluation.grade != worst_grade:
                continue
            for band in criteria.bands_by_test[code][term]:
                if band.grade == worst_grade:
                    texts.append(band.describe(catalogue[code].name.lower()))
                    if band.caveat and band.caveat not in caveats:
                        caveats.append(band.caveat)
        criterion = f"{term} v{criteria.version} grade {worst_grade}: {'; '.join(texts)}"
        if caveats:
            criterion += f" ({'; '.join(caveats)})"
    evaluation = Evaluation(term, worst_grade, criterion, None, reference)
    return _result(BLOOD_PRESSURE_TEST, evaluation, shown_value, BLOOD_PRESSURE_UNIT)

