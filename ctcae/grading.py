"""CTCAE grading of laboratory values and blood pressure from declarative criteria.

The grade bands live in ``data/ctcae/grading_criteria_v<version>.csv``: one row is one grade
band of one CTCAE term for one test, with numeric cut-points and a note of its source. The
test catalogue (names, the unit each criterion is written in, and conversion factors for the
other accepted units) lives in ``data/ctcae/lab_tests.csv``. No expressions are stored in the
data; the single evaluator in this module reads the rows.

How a band is read
    Each band has an optional lower and an optional upper cut-point. A cut-point is a number
    (``absolute``, in the criterion's unit) or a multiple of the ULN, the LLN or the subject's
    baseline, and is inclusive or exclusive. The CTCAE text is read as written:
    ``>3.0 - 5.0 x ULN`` is ``> 3 x ULN and <= 5 x ULN``; ``<LLN - 75.0 x 10e9/L`` is
    ``>= 75 and < LLN``; ``1.5 - 3.0 x baseline`` includes 1.5 x baseline. Whole-number
    ranges (blood pressure ``140 - 159``, sodium ``125-129``) are read as half-open intervals
    (``>= 140 and < 160``) so that non-integer values have a grade. A value within a relative
    1e-9 of a cut-point counts as equal to it, so unit conversion or multiplication rounding
    cannot move a value across a boundary.

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

import csv
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
from ctcae.home import data_path

DATA_DIR = data_path("ctcae")
LAB_TESTS_FILE = DATA_DIR / "lab_tests.csv"
CRITERIA_FILE_PREFIX = "grading_criteria_v"

SUPPORTED_TESTS: tuple[str, ...] = (
    "ALT", "AST", "ALP", "BILI", "CREAT", "CK", "PLT", "NEUT", "WBC", "LYMPH", "HGB", "K",
    "SODIUM", "UPROT_DIP", "UPROT_24H", "SBP", "DBP",
)

REFERENCE_KINDS = ("uln", "lln", "baseline")
CUT_POINT_KINDS = ("absolute",) + REFERENCE_KINDS
REFERENCE_LABELS = {"uln": "ULN", "lln": "LLN", "baseline": "baseline"}
RELATIVE_TOLERANCE = 1e-9
BLOOD_PRESSURE_TEST = "BP"
BLOOD_PRESSURE_UNIT = "mmHg"

CRITERIA_COLUMNS = (
    "ctcae_term", "test_code", "grade", "direction", "baseline_condition",
    "lower_reference", "lower_factor", "lower_inclusive",
    "upper_reference", "upper_factor", "upper_inclusive",
    "unit", "caveat", "source_note",
)
CRITERIA_SCHEMA = {
    "ctcae_term": pl.String, "test_code": pl.String, "grade": pl.Int64, "direction": pl.String,
    "baseline_condition": pl.String,
    "lower_reference": pl.String, "lower_factor": pl.Float64, "lower_inclusive": pl.Boolean,
    "upper_reference": pl.String, "upper_factor": pl.Float64, "upper_inclusive": pl.Boolean,
    "unit": pl.String, "caveat": pl.String, "source_note": pl.String,
}


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
# Criteria as data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CutPoint:
    """One end of a grade band: ``factor`` x ULN/LLN/baseline, or ``factor`` itself (absolute)."""

    reference: str
    factor: float
    inclusive: bool

    def threshold(self, references: dict[str, float | None]) -> float | None:
        """The cut-point in the criterion's unit, or None when its reference is missing."""
        if self.reference == "absolute":
            return self.factor
        reference_value = references.get(self.reference)
        if reference_value is None:
            return None
        return self.factor * reference_value

    def describe(self, unit: str) -> str:
        number = _format_number(self.factor)
        if self.reference == "absolute":
            return f"{number}+" if unit == "+" else f"{number} {unit}"
        label = REFERENCE_LABELS[self.reference]
        return label if self.factor == 1 else f"{number} x {label}"


@dataclass(frozen=True)
class GradeBand:
    """One grade band of one CTCAE term for one test (one row of the criteria file)."""

    ctcae_term: str
    test_code: str
    grade: int
    direction: str  # "high" (term of increased values) or "low"
    baseline_condition: str  # "any", "normal" or "abnormal"
    lower: CutPoint | None
    upper: CutPoint | None
    unit: str
    caveat: str
    source_note: str

    def references_needed(self) -> frozenset[str]:
        needed = set()
        for cut_point in (self.lower, self.upper):
            if cut_point is not None and cut_point.reference != "absolute":
                needed.add(cut_point.reference)
        if self.baseline_condition != "any":
            needed.add("baseline")
            needed.add(self.normal_limit())
        return frozenset(needed)

    def normal_limit(self) -> str:
        """The limit that separates a normal from an abnormal baseline for this direction."""
        return "uln" if self.direction == "high" else "lln"

    def describe(self, test_label: str | None = None) -> str:
        """Short band text, e.g. '>3 x ULN and <=5 x ULN (baseline normal)'."""
        parts = []
        if self.lower is not None:
            operator = ">=" if self.lower.inclusive else ">"
            parts.append(operator + self.lower.describe(self.unit))
        if self.upper is not None:
            operator = "<=" if self.upper.inclusive else "<"
            parts.append(operator + self.upper.describe(self.unit))
        text = " and ".join(parts)
        if test_label:
            text = f"{test_label} {text}"
        if self.baseline_condition != "any":
            limit = REFERENCE_LABELS[self.normal_limit()]
            if self.baseline_condition == "normal":
                comparison = "<=" if self.direction == "high" else ">="
            else:
                comparison = ">" if self.direction == "high" else "<"
            text += f" (baseline {self.baseline_condition}: baseline {comparison} {limit})"
        return text


@dataclass(frozen=True)
class LabTest:
    """A test of the catalogue: its criterion unit and the accepted units with their factors."""

    code: str
    name: str
    criterion_unit: str
    unit_factors: dict = field(hash=False)  # normalised unit spelling -> factor to criterion unit
    unit_spellings: tuple[str, ...] = ()
    allowed_values: frozenset[float] | None = None

    def accepted_units(self) -> str:
        return ", ".join(self.unit_spellings)


@dataclass(frozen=True)
class GradingCriteria:
    """All grade bands of one CTCAE version, indexed for the evaluator."""

    version: str
    bands: tuple[GradeBand, ...]
    bands_by_test: dict = field(hash=False)  # test code -> {term -> tuple of bands}
    tests_by_term: dict = field(hash=False)  # lower-cased term -> tuple of test codes
    term_spelling: dict = field(hash=False)  # lower-cased term -> term as written in CTCAE
    references_by_test: dict = field(hash=False)  # test code -> ULN/LLN/baseline its bands use
    ratio_only_by_test: dict = field(hash=False)  # test code -> no absolute cut-point at all

    def terms_of(self, test_code: str) -> tuple[str, ...]:
        return tuple(self.bands_by_test.get(test_code, {}))

    def references_used(self, test_code: str) -> frozenset[str]:
        return self.references_by_test.get(test_code, frozenset())

    def is_ratio_only(self, test_code: str) -> bool:
        """True when no band of the test has an absolute cut-point (units then cannot matter)."""
        return self.ratio_only_by_test.get(test_code, True)

    def is_shared_term(self, term: str) -> bool:
        return len(self.tests_by_term.get(term.lower(), ())) > 1


def supported_versions() -> tuple[str, ...]:
    """CTCAE versions that have a criteria file, e.g. ('5.0',)."""
    versions = []
    for path in DATA_DIR.glob(f"{CRITERIA_FILE_PREFIX}*.csv"):
        versions.append(path.stem[len(CRITERIA_FILE_PREFIX):])
    return tuple(sorted(versions, key=_version_sort_key))


def _version_sort_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))


def criteria_file(version: str) -> Path:
    """Path of the criteria file of a version; ValueError naming the supported versions."""
    if not isinstance(version, str):
        raise ValueError(f"CTCAE version must be text such as '5.0', not {version!r}")
    path = DATA_DIR / f"{CRITERIA_FILE_PREFIX}{version}.csv"
    if not path.exists():
        available = ", ".join(supported_versions()) or "none"
        raise ValueError(f"CTCAE version {version!r} has no grading criteria; supported versions: {available}")
    return path


def criteria_table(version: str = "5.0") -> pl.DataFrame:
    """The grade bands of a CTCAE version as a typed table (one row per band)."""
    path = criteria_file(version)
    return pl.read_csv(path, schema=CRITERIA_SCHEMA).select(CRITERIA_COLUMNS)


def normalise_unit(unit: str) -> str:
    """Unit spelling used for matching: no spaces, lower case, micro sign written as 'u'."""
    text = "".join(unit.split()).lower()
    return text.replace("\u00b5", "u").replace("\u03bc", "u")


@lru_cache(maxsize=1)
def lab_test_catalogue() -> dict[str, LabTest]:
    """The tests of ``lab_tests.csv`` by code, with their accepted units."""
    rows_by_code: dict[str, list[dict]] = {}
    with LAB_TESTS_FILE.open(newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            if None in row or None in row.values():
                raise ValueError(f"lab_tests.csv line {line_number}: number of fields differs from the header")
            rows_by_code.setdefault(row["test_code"], []).append(row)

    catalogue = {}
    for code, rows in rows_by_code.items():
        first = rows[0]
        unit_factors: dict[str, float] = {}
        for row in rows:
            for column in ("test_name", "criterion_unit", "allowed_values"):
                if row[column] != first[column]:
                    raise ValueError(f"lab_tests.csv: {code} has more than one {column}")
            spelling = normalise_unit(row["unit"])
            if spelling in unit_factors:
                raise ValueError(f"lab_tests.csv: {code} lists unit {row['unit']!r} twice")
            unit_factors[spelling] = float(row["factor_to_criterion_unit"])
        if normalise_unit(first["criterion_unit"]) not in unit_factors:
            raise ValueError(f"lab_tests.csv: {code} does not list its criterion unit as a unit")
        allowed_values = None
        if first["allowed_values"]:
            allowed_values = frozenset(float(item) for item in first["allowed_values"].split(";"))
        catalogue[code] = LabTest(
            code=code,
            name=first["test_name"],
            criterion_unit=first["criterion_unit"],
            unit_factors=unit_factors,
            unit_spellings=tuple(row["unit"] for row in rows),
            allowed_values=allowed_values,
        )
    return catalogue


@lru_cache(maxsize=None)
def load_criteria(version: str = "5.0") -> GradingCriteria:
    """Read and check the criteria file of a version."""
    path = criteria_file(version)
    catalogue = lab_test_catalogue()
    bands = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            bands.append(_band_from_row(row, f"{path.name} line {line_number}", catalogue))

    bands_by_test: dict[str, dict[str, list[GradeBand]]] = {}
    tests_by_term: dict[str, list[str]] = {}
    term_spelling: dict[str, str] = {}
    for band in bands:
        bands_by_test.setdefault(band.test_code, {}).setdefault(band.ctcae_term, []).append(band)
        term_key = band.ctcae_term.lower()
        term_spelling[term_key] = band.ctcae_term
        tests = tests_by_term.setdefault(term_key, [])
        if band.test_code not in tests:
            tests.append(band.test_code)

    references_by_test: dict[str, set[str]] = {}
    ratio_only_by_test: dict[str, bool] = {}
    for band in bands:
        references_by_test.setdefault(band.test_code, set()).update(band.references_needed())
        has_absolute = any(
            cut_point is not None and cut_point.reference == "absolute" for cut_point in (band.lower, band.upper)
        )
        ratio_only_by_test[band.test_code] = ratio_only_by_test.get(band.test_code, True) and not has_absolute

    return GradingCriteria(
        version=version,
        bands=tuple(bands),
        references_by_test={code: frozenset(kinds) for code, kinds in references_by_test.items()},
        ratio_only_by_test=ratio_only_by_test,
        bands_by_test={
            code: {term: tuple(term_bands) for term, term_bands in terms.items()}
            for code, terms in bands_by_test.items()
        },
        tests_by_term={term: tuple(tests) for term, tests in tests_by_term.items()},
        term_spelling=term_spelling,
    )


def _band_from_row(row: dict, where: str, catalogue: dict[str, LabTest]) -> GradeBand:
    if None in row or None in row.values():
        raise ValueError(f"{where}: number of fields differs from the header")
    test_code = row["test_code"]
    if test_code not in catalogue:
        raise ValueError(f"{where}: test {test_code!r} is not in lab_tests.csv")
    if row["unit"] != catalogue[test_code].criterion_unit:
        raise ValueError(f"{where}: unit {row['unit']!r} differs from the criterion unit in lab_tests.csv")
    if row["direction"] not in ("high", "low"):
        raise ValueError(f"{where}: direction must be high or low")
    if row["baseline_condition"] not in ("any", "normal", "abnormal"):
        raise ValueError(f"{where}: baseline_condition must be any, normal or abnormal")
    grade = int(row["grade"])
    if not 1 <= grade <= 5:
        raise ValueError(f"{where}: grade must be 1-5")
    lower = _cut_point_from_row(row, "lower", where)
    upper = _cut_point_from_row(row, "upper", where)
    if lower is None and upper is None:
        raise ValueError(f"{where}: a band needs at least one cut-point")
    if lower is not None and upper is not None and lower.reference == upper.reference:
        if lower.factor >= upper.factor:
            raise ValueError(f"{where}: lower cut-point is not below the upper cut-point")
    return GradeBand(
        ctcae_term=row["ctcae_term"],
        test_code=test_code,
        grade=grade,
        direction=row["direction"],
        baseline_condition=row["baseline_condition"],
        lower=lower,
        upper=upper,
        unit=row["unit"],
        caveat=row["caveat"],
        source_note=row["source_note"],
    )


def _cut_point_from_row(row: dict, side: str, where: str) -> CutPoint | None:
    reference = row[f"{side}_reference"]
    if reference == "":
        if row[f"{side}_factor"] or row[f"{side}_inclusive"]:
            raise ValueError(f"{where}: {side} cut-point has a factor but no reference")
        return None
    if reference not in CUT_POINT_KINDS:
        raise ValueError(f"{where}: {side}_reference must be one of {', '.join(CUT_POINT_KINDS)}")
    inclusive_text = row[f"{side}_inclusive"]
    if inclusive_text not in ("true", "false"):
        raise ValueError(f"{where}: {side}_inclusive must be true or false")
    return CutPoint(reference=reference, factor=float(row[f"{side}_factor"]), inclusive=inclusive_text == "true")


# ---------------------------------------------------------------------------------------------
# The evaluator
# ---------------------------------------------------------------------------------------------


def _format_number(number: float) -> str:
    return f"{number:g}"


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
class _Evaluation:
    ctcae_term: str | None
    grade: int | None
    criterion: str
    reason: str | None
    reference: dict = field(hash=False)

    @property
    def gradable(self) -> bool:
        return self.grade is not None


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


def _not_gradable(term: str | None, version: str, reason: str, reference: dict) -> _Evaluation:
    label = term if term is not None else "CTCAE"
    return _Evaluation(term, None, f"{label} v{version}: not gradable", reason, reference)


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
            return f"{REFERENCE_LABELS[kind]} is negative ({_format_number(number)})"
        if number == 0 and kind in ("uln", "baseline"):
            return f"{REFERENCE_LABELS[kind]} is 0; a multiple of it is not a usable cut-point"
    lln = references.get("lln")
    uln = references.get("uln")
    if "lln" in used and "uln" in used and lln is not None and uln is not None and lln > uln:
        return f"LLN ({_format_number(lln)}) is greater than ULN ({_format_number(uln)})"
    return None


def _as_number(number) -> float | None:
    """A float, or None for a missing value (None or NaN)."""
    if number is None:
        return None
    number = float(number)
    if math.isnan(number):
        return None
    return number


def _evaluate(
    criteria: GradingCriteria,
    test: LabTest,
    terms: tuple[str, ...],
    value,
    unit: str | None,
    uln,
    lln,
    baseline,
) -> _Evaluation:
    """Grade one measurement of ``test`` for the given CTCAE terms of that test."""
    version = criteria.version
    single_term = terms[0] if len(terms) == 1 else None
    try:
        raw_references = {"uln": _as_number(uln), "lln": _as_number(lln), "baseline": _as_number(baseline)}
        value = _as_number(value)
    except (TypeError, ValueError):
        return _not_gradable(single_term, version, "value, ULN, LLN or baseline is not a number", {})
    if value is None:
        return _not_gradable(single_term, version, "value missing", {})

    factor, reference_unit, unit_problem = _unit_factor(criteria, test, unit)
    if unit_problem is not None:
        return _not_gradable(single_term, version, unit_problem, {})

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
        return _not_gradable(single_term, version, "value is not a finite number", shown_reference)
    if converted_value < 0:
        return _not_gradable(single_term, version, f"negative value ({_format_number(value)})", shown_reference)
    if test.allowed_values is not None and converted_value not in test.allowed_values:
        allowed = ", ".join(_format_number(item) for item in sorted(test.allowed_values))
        return _not_gradable(
            single_term, version,
            f"{test.code} value {_format_number(value)} is not one of {allowed}", shown_reference,
        )
    problem = _reference_problem(criteria, test.code, references)
    if problem is not None:
        return _not_gradable(single_term, version, problem, shown_reference)

    outcomes = [
        _grade_term(term, criteria.bands_by_test[test.code][term], converted_value, references)
        for term in terms
    ]
    return _combine_term_outcomes(criteria, test, outcomes, shown_reference)


def _unit_factor(criteria: GradingCriteria, test: LabTest, unit: str | None) -> tuple[float, str | None, str | None]:
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
) -> _Evaluation:
    """One result for a test: the term in whose direction the value lies, else grade 0 or undecided."""
    version = criteria.version
    abnormal = [outcome for outcome in outcomes if outcome.grade is not None and outcome.grade > 0]
    if len(abnormal) > 1:
        terms = " and ".join(outcome.term for outcome in abnormal)
        return _not_gradable(None, version, f"value meets bands of both {terms}", reference)
    if abnormal:
        outcome = abnormal[0]
        return _Evaluation(outcome.term, outcome.grade, _describe_met_bands(criteria, outcome, test), None, reference)

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
        return _not_gradable(term, version, f"{missing_text} missing; {possibilities}", reference)

    if len(outcomes) == 1:
        outcome = outcomes[0]
        return _Evaluation(outcome.term, 0, _describe_met_bands(criteria, outcome, test), None, reference)
    terms = " / ".join(outcome.term for outcome in outcomes)
    return _Evaluation(None, 0, f"{terms} v{version} grade 0: no grade band met", None, reference)


# ---------------------------------------------------------------------------------------------
# Resolving what the caller asked for
# ---------------------------------------------------------------------------------------------


def _resolve_test(criteria: GradingCriteria, test: str) -> tuple[LabTest, tuple[str, ...]]:
    """A test code, test name or CTCAE term -> (test, the terms to grade). ValueError if unknown."""
    catalogue = lab_test_catalogue()
    key = str(test).strip()
    by_code = {code.lower(): code for code in catalogue if code in criteria.bands_by_test}
    if key.lower() in by_code:
        code = by_code[key.lower()]
        return catalogue[code], criteria.terms_of(code)
    for code, lab_test in catalogue.items():
        if lab_test.name.lower() == key.lower() and code in criteria.bands_by_test:
            return lab_test, criteria.terms_of(code)
    term_key = key.lower()
    if term_key in criteria.tests_by_term:
        codes = criteria.tests_by_term[term_key]
        term = criteria.term_spelling[term_key]
        if len(codes) > 1:
            hint = " or use grade_blood_pressure(sbp, dbp)" if term == "Hypertension" else ""
            raise ValueError(
                f"CTCAE term {term!r} is graded from several tests ({', '.join(codes)}); "
                f"name the test{hint}"
            )
        return catalogue[codes[0]], (term,)
    supported = ", ".join(code for code in SUPPORTED_TESTS if code in criteria.bands_by_test)
    raise ValueError(
        f"unknown test {test!r} for CTCAE v{criteria.version} grading; supported tests: {supported} "
        f"(or a CTCAE term name)"
    )


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

    ``test`` is a test code of ``SUPPORTED_TESTS``, a test name, or a CTCAE term name (case
    does not matter). A term name grades that term only (``"Hypokalemia"`` grades a high
    potassium as grade 0); a test code grades every term of the test and reports the one in
    whose direction the value lies. ``uln``, ``lln`` and ``baseline`` are in the same unit as
    ``value``. Unknown test or version -> ValueError; anything about the measurement that
    prevents grading -> a not-gradable result with the reason.
    """
    criteria = load_criteria(version)
    lab_test, terms = _resolve_test(criteria, test)
    evaluation = _evaluate(criteria, lab_test, terms, value, unit, uln, lln, baseline)
    return _result(lab_test.code, evaluation, value, unit)


def _result(test_code: str, evaluation: _Evaluation, value, unit: str | None) -> GradeResult:
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
        evaluation = _not_gradable(term, criteria.version, reason, reference)
        return _result(BLOOD_PRESSURE_TEST, evaluation, shown_value, BLOOD_PRESSURE_UNIT)

    if systolic is None and diastolic is None:
        return not_gradable("systolic and diastolic blood pressure missing")
    if systolic is not None and diastolic is not None and diastolic > systolic:
        return not_gradable(
            f"diastolic ({_format_number(diastolic)}) above systolic ({_format_number(systolic)}); "
            "reading is implausible"
        )

    components = []  # (label, test, evaluation)
    for label, code, number in (("systolic", "SBP", systolic), ("diastolic", "DBP", diastolic)):
        if number is None:
            continue
        lab_test = catalogue[code]
        evaluation = _evaluate(criteria, lab_test, (term,), number, BLOOD_PRESSURE_UNIT, None, None, None)
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
    evaluation = _Evaluation(term, worst_grade, criterion, None, reference)
    return _result(BLOOD_PRESSURE_TEST, evaluation, shown_value, BLOOD_PRESSURE_UNIT)


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
            outcome_ids[rows] = outcomes.add(_not_gradable(None, criteria.version, target, {}))
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

    def add(self, evaluation: _Evaluation) -> int:
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
    """Every comparison ``band_met`` can make for the band, whatever the numbers."""
    comparisons = []
    if band.baseline_condition != "any":
        comparisons.append(("baseline", band.normal_limit()))
    for cut_point in (band.lower, band.upper):
        if cut_point is not None:
            comparisons.append(("value", cut_point.reference, cut_point.factor))
    if band.lower is not None and band.lower.reference == "baseline":
        # _lower_cut_point_met_without_baseline compares the value with the same multiple of ULN
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
    """``_compare`` as an expression: weight x (0 below, 1 equal within tolerance, 2 above, 3 undecidable).

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

    def evaluate(row: dict) -> _Evaluation:
        return _evaluate(
            criteria, lab_test, terms, row["value"], units[row["unit_id"]], row["uln"], row["lln"], row["baseline"]
        )

    plan = _frame_plan(criteria, lab_test, terms)
    if plan is None:
        return _grade_one_by_one(rows, evaluate, outcomes)

    factors: dict[int, float] = {}
    problem_units: list[int] = []
    for unit_id in rows.get_column("unit_id").unique().to_list():
        factor, _, problem = _unit_factor(criteria, lab_test, units[unit_id])
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

    # The numbers in the criterion's unit, as _evaluate converts them (NaN counts as missing).
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
    # unusable ULN/LLN/baseline (_reference_problem), and references too large to multiply.
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
            key_outcomes[row["key"]] = outcomes.add(evaluate(row))
    if not key_outcomes:
        return _grade_one_by_one(rows, evaluate, outcomes)
    outcome_ids = keys.replace_strict(
        list(key_outcomes), list(key_outcomes.values()), default=0, return_dtype=pl.UInt32
    ).to_numpy().copy()
    one_by_one_rows = np.flatnonzero(keys.to_numpy() == _STAGE_ONE_BY_ONE)
    if one_by_one_rows.size:
        outcome_ids[one_by_one_rows] = _grade_one_by_one(rows[one_by_one_rows], evaluate, outcomes)
    return outcome_ids


def _grade_one_by_one(rows: pl.DataFrame, evaluate, outcomes: _OutcomeTable) -> np.ndarray:
    """Outcome numbers from the evaluator row by row (identical rows evaluated once)."""
    graded: dict[tuple, int] = {}
    outcome_ids = np.empty(rows.height, dtype=np.uint32)
    for index, row in enumerate(rows.iter_rows(named=True)):
        identity = (row["value"], row["unit_id"], row["lln"], row["uln"], row["baseline"])
        if identity not in graded:
            graded[identity] = outcomes.add(evaluate(row))
        outcome_ids[index] = graded[identity]
    return outcome_ids


def _resolve_frame_test(criteria: GradingCriteria, test_code: str | None):
    """Like _resolve_test, but an unknown test becomes the reason text instead of an error."""
    if test_code is None or test_code.strip() == "":
        return "test code missing"
    try:
        return _resolve_test(criteria, test_code)
    except ValueError:
        return f"no CTCAE v{criteria.version} grading criteria for test {test_code!r}"
