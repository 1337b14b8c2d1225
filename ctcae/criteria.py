"""CTCAE grading criteria for laboratory values and blood pressure, kept as data.

The grade bands live in ``data/ctcae/grading_criteria_v<version>.csv``: one row is one grade
band of one CTCAE term for one test, with numeric cut-points and a note of its source. The
test catalogue (names, the unit each criterion is written in, and conversion factors for the
other accepted units) lives in ``data/ctcae/lab_tests.csv``. No expressions are stored in the
data: this module reads and checks the rows into a typed model, ``ctcae.grade_value`` is the
one evaluator of that model, and ``ctcae.grade_frame`` applies the evaluator to whole frames.

How a band is written
    Each band has an optional lower and an optional upper cut-point. A cut-point is a number
    (``absolute``, in the criterion's unit) or a multiple of the ULN, the LLN or the subject's
    baseline, and is inclusive or exclusive. The CTCAE text is read as written:
    ``>3.0 - 5.0 x ULN`` is ``> 3 x ULN and <= 5 x ULN``; ``<LLN - 75.0 x 10e9/L`` is
    ``>= 75 and < LLN``; ``1.5 - 3.0 x baseline`` includes 1.5 x baseline. Whole-number
    ranges (blood pressure ``140 - 159``, sodium ``125-129``) are read as half-open intervals
    (``>= 140 and < 160``) so that non-integer values have a grade.

Every row is checked when the file is loaded (known test, the test's criterion unit, direction,
baseline condition, grade 1-5, at least one cut-point, lower below upper), so that a mistake in
the data stops with its file and line instead of becoming a wrong grade.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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


def format_number(number: float) -> str:
    """A cut-point or value as a reader writes it: 3, 0.5, 1e+06 (never 3.0)."""
    return f"{number:g}"


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
        number = format_number(self.factor)
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
# Resolving what the caller asked for
# ---------------------------------------------------------------------------------------------


def resolve_test(criteria: GradingCriteria, test: str) -> tuple[LabTest, tuple[str, ...]]:
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

