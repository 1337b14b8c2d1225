"""Import of the official NCI CTCAE workbooks (v5.0 and v6.0) into the per-user toxwatch folder.

The NCI publishes CTCAE as an Excel workbook. Each version has a "Clean Copy" sheet with one
row per term: MedDRA LLT code, MedDRA SOC, CTCAE term, the text of grades 1-5, definition,
navigational note and change note. A grade that does not exist for a term is written as
``-`` (v5.0 writes ``" -"``, with a leading space). The v6.0 workbook also carries the
"CTCAE v5.0 to v6.0 Mapping" sheet: one row per v5.0 (term, grade/definition/note) with the
v6.0 (term, grade/definition/note) it became and the change type.

Imported files are written to ``<toxwatch home>/ctcae/``:
``terms_v{version}.parquet`` (the full dictionary), ``terms_v{version}.json`` (provenance)
and, from the v6.0 workbook, ``mapping_v5.0_v6.0.parquet``.

Maintainer command: ``python -m ctcae.workbook PATH_TO_NCI_WORKBOOK.xlsx``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
from openpyxl.utils.exceptions import InvalidFileException

from ctcae.home import ctcae_dir

NCI_DOWNLOAD_URL = "https://ctep.cancer.gov/protocoldevelopment/electronic_applications/ctc.htm"

# The Clean Copy sheet identifies the version: it is the sheet every NCI release carries.
CLEAN_COPY_SHEETS = {
    "5.0": "CTCAE v5.0 Clean Copy",
    "6.0": "CTCAE v6.0 Clean Copy",
}
MAPPING_SHEET_V5_V6 = "CTCAE v5.0 to v6.0 Mapping"

# Cells that mean "this grade does not exist for this term". NCI writes " -" (v5.0) or "-"
# (v6.0); en and em dashes are accepted too because re-saved copies sometimes autocorrect.
ABSENT_GRADE_MARKERS = frozenset({"", "-", "\u2013", "\u2014"})

OTHER_SPECIFY_SUFFIX = "Other, specify"

TERMS_SCHEMA = {
    "ctcae_term": pl.String,
    "meddra_soc": pl.String,
    "meddra_code": pl.Int64,
    "allowed_grades": pl.List(pl.Int8),
    "other_specify": pl.Boolean,
    "grade_1": pl.String,
    "grade_2": pl.String,
    "grade_3": pl.String,
    "grade_4": pl.String,
    "grade_5": pl.String,
    "definition": pl.String,
    "navigational_note": pl.String,
    "change_vs_previous": pl.String,
}

MAPPING_SCHEMA = {
    "v5_meddra_code": pl.Int64,
    "v5_meddra_soc": pl.String,
    "v5_term": pl.String,
    "v5_item": pl.String,
    "v5_grade": pl.Int8,
    "change_type": pl.String,
    "v6_meddra_code": pl.Int64,
    "v6_meddra_soc": pl.String,
    "v6_term": pl.String,
    "v6_item": pl.String,
    "v6_grade": pl.Int8,
    "v6_other_specify": pl.String,
}

# Change type given to v6.0 terms that no v5.0 row maps to (new in v6.0).
ADDITION_CHANGE_TYPE = "Addition"


class NotACtcaeWorkbookError(ValueError):
    """The file is not an NCI CTCAE workbook that toxwatch can import."""


@dataclass(frozen=True)
class WorkbookContents:
    """What an NCI workbook holds, read into tables (nothing written yet)."""

    version: str
    terms: pl.DataFrame
    mapping: pl.DataFrame | None  # v5.0 -> v6.0 mapping, only in the v6.0 workbook


@dataclass(frozen=True)
class ImportResult:
    """Where an imported workbook was written, and what it held."""

    version: str
    source_file: str
    source_sha256: str
    term_count: int
    imported_at: str
    terms_path: Path
    provenance_path: Path
    mapping_path: Path | None
    mapping_rows: int

    def describe(self) -> str:
        """One line for a log or a console: version, terms, mapping rows and the destination."""
        text = f"Imported CTCAE v{self.version} from {self.source_file}: {self.term_count} terms"
        if self.mapping_path is not None:
            text += f", {self.mapping_rows} v5.0->v6.0 mapping rows"
        return f"{text} -> {self.terms_path.parent}"


def terms_path(version: str, home: Path | None = None) -> Path:
    """Location of an imported dictionary (parquet)."""
    return ctcae_dir(home) / f"terms_v{version}.parquet"


def provenance_path(version: str, home: Path | None = None) -> Path:
    """Location of the provenance record of an imported dictionary (JSON)."""
    return ctcae_dir(home) / f"terms_v{version}.json"


def mapping_path(home: Path | None = None) -> Path:
    """Location of the imported v5.0 -> v6.0 mapping (parquet)."""
    return ctcae_dir(home) / "mapping_v5.0_v6.0.parquet"


def read_provenance(version: str, home: Path | None = None) -> dict[str, Any] | None:
    """Provenance of the imported dictionary of ``version``, or None when none was imported."""
    path = provenance_path(version, home)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def clean_cell(value: Any) -> str:
    """Cell text with non-breaking spaces made plain and the ends trimmed ('' for empty)."""
    if value is None:
        return ""
    return re.sub(r"\s+", " ", str(value).replace("\u00a0", " ")).strip()


def is_grade_present(cell: Any) -> bool:
    """A grade exists for a term when its cell is neither empty nor the NCI "-" marker."""
    return clean_cell(cell) not in ABSENT_GRADE_MARKERS


def allowed_grades_from_cells(grade_cells: list[Any]) -> list[int]:
    """Grades 1..5 whose cells are present (``grade_cells`` is the Grade 1..Grade 5 cells)."""
    return [grade for grade, cell in enumerate(grade_cells, start=1) if is_grade_present(cell)]


def is_other_specify_term(term: str) -> bool:
    """CTCAE "<SOC> - Other, specify" terms need the investigator's own words beside them."""
    return clean_cell(term).endswith(OTHER_SPECIFY_SUFFIX)


def meddra_code_from_cell(value: Any) -> int | None:
    """MedDRA LLT code as an integer (Excel may hold it as a number or as text)."""
    text = clean_cell(value)
    if not text:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def text_or_none(value: Any) -> str | None:
    """Cell text, or None for an empty cell or the "-" marker; inner line breaks kept."""
    if value is None:
        return None
    text = str(value).replace("\u00a0", " ").strip()
    return None if text in ABSENT_GRADE_MARKERS else text


def sha256_of_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def not_a_workbook_error(path: Path, reason: str) -> NotACtcaeWorkbookError:
    """The error for a file that is not an NCI CTCAE workbook: what is wrong and how to fix it."""
    expected = " or ".join(f'"{name}"' for name in CLEAN_COPY_SHEETS.values())
    return NotACtcaeWorkbookError(
        f"{path} is not an NCI CTCAE workbook: {reason}. Expected an .xlsx file with a sheet "
        f"named {expected} (the v6.0 workbook also has \"{MAPPING_SHEET_V5_V6}\"). "
        f"Fix: download the CTCAE v5.0 or v6.0 Excel file from NCI CTEP ({NCI_DOWNLOAD_URL}) "
        "and import it unchanged."
    )


def open_workbook(path: Path) -> openpyxl.Workbook:
    """Open an .xlsx read-only; a file that is not a readable workbook gets the clear error."""
    if not path.exists():
        raise FileNotFoundError(f"CTCAE workbook not found: {path}")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise not_a_workbook_error(path, f"it cannot be opened as an Excel workbook ({exc})") from exc


def detect_version(sheet_names: list[str], path: Path) -> str:
    """CTCAE version of a workbook, from its Clean Copy sheet name."""
    found = [version for version, sheet in CLEAN_COPY_SHEETS.items() if sheet in sheet_names]
    if len(found) != 1:
        listed = ", ".join(f'"{name}"' for name in sheet_names) or "none"
        raise not_a_workbook_error(path, f"its sheets are {listed}")
    return found[0]


def header_key(value: Any) -> str:
    """Header text normalised for column recognition (NBSP and repeated spaces removed)."""
    return clean_cell(value).lower()


def locate_term_columns(header: tuple[Any, ...], path: Path, sheet: str) -> dict[str, int]:
    """Column index of each field of a Clean Copy sheet, recognised by header text.

    v5.0 says "MedDRA Code"; v6.0 says "CTCAE v6.0 MedDRA 28.0 LLT Code". Both end with the
    same word, and the Grade headers read "Grade n" once the trailing NBSPs are removed.
    """
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = header_key(cell)
        grade = re.fullmatch(r"grade ([1-5])", key)
        if grade:
            columns[f"grade_{grade.group(1)}"] = index
        elif key.endswith("code"):
            columns.setdefault("meddra_code", index)
        elif key.endswith("soc"):
            columns.setdefault("meddra_soc", index)
        elif key.endswith("term"):
            columns.setdefault("ctcae_term", index)
        elif key == "definition":
            columns["definition"] = index
        elif key == "navigational note":
            columns["navigational_note"] = index
        elif key.startswith("ctcae") and key.endswith("change"):
            columns["change_vs_previous"] = index
    required = ["meddra_code", "meddra_soc", "ctcae_term"] + [f"grade_{g}" for g in range(1, 6)]
    missing = [name for name in required if name not in columns]
    if missing:
        raise not_a_workbook_error(
            path, f'sheet "{sheet}" lacks the columns {", ".join(missing)} in its first row'
        )
    return columns


def read_terms_sheet(worksheet: Any, path: Path, sheet: str) -> pl.DataFrame:
    """One row per CTCAE term, with the allowed grades and the Other-specify flag derived."""
    rows = worksheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise not_a_workbook_error(path, f'sheet "{sheet}" is empty')
    columns = locate_term_columns(header, path, sheet)

    def cell(row: tuple[Any, ...], name: str) -> Any:
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else None

    records: list[dict[str, Any]] = []
    for row in rows:
        term = clean_cell(cell(row, "ctcae_term"))
        if not term:
            continue  # blank trailing rows are common in Excel exports
        grade_cells = [cell(row, f"grade_{grade}") for grade in range(1, 6)]
        records.append(
            {
                "ctcae_term": term,
                "meddra_soc": clean_cell(cell(row, "meddra_soc")),
                "meddra_code": meddra_code_from_cell(cell(row, "meddra_code")),
                "allowed_grades": allowed_grades_from_cells(grade_cells),
                "other_specify": is_other_specify_term(term),
                **{f"grade_{g}": text_or_none(c) for g, c in enumerate(grade_cells, start=1)},
                "definition": text_or_none(cell(row, "definition")),
                "navigational_note": text_or_none(cell(row, "navigational_note")),
                "change_vs_previous": text_or_none(cell(row, "change_vs_previous")),
            }
        )
    if not records:
        raise not_a_workbook_error(path, f'sheet "{sheet}" holds no terms')
    table = pl.DataFrame(records, schema=TERMS_SCHEMA)
    duplicated = table.filter(pl.col("ctcae_term").is_duplicated())["ctcae_term"].unique().to_list()
    if duplicated:
        raise not_a_workbook_error(path, f'sheet "{sheet}" lists terms twice: {sorted(duplicated)}')
    return table


def grade_of_item(item: str) -> int | None:
    """Grade number of a mapping item ("Grade 3" -> 3; "Definition" and notes -> None)."""
    match = re.fullmatch(r"Grade ([1-5])", item)
    return int(match.group(1)) if match else None


def locate_mapping_columns(row: tuple[Any, ...]) -> dict[str, int] | None:
    """Column index of each mapping field, or None when ``row`` is not the header row.

    The sheet has two header rows ("V5" / "V6" above, field names below); the field row is the
    one with "Change Type", the v5.0 fields before it and the v6.0 fields after it.
    """
    keys = [header_key(cell) for cell in row]
    if "change type" not in keys:
        return None
    columns = {"change_type": keys.index("change type")}
    for index, key in enumerate(keys):
        side = "v5" if key.startswith("ctcae v5.0") else "v6" if key.startswith("ctcae v6.0") else None
        if side is None:
            continue
        if key.endswith("code"):
            columns[f"{side}_meddra_code"] = index
        elif key.endswith("soc"):
            columns[f"{side}_meddra_soc"] = index
        elif key.endswith("term"):
            columns[f"{side}_term"] = index
        elif "grade/definition" in key:
            columns[f"{side}_item"] = index
        elif key.endswith("other specify"):
            columns[f"{side}_other_specify"] = index
    return columns


def read_mapping_sheet(worksheet: Any, path: Path) -> pl.DataFrame:
    """The v5.0 -> v6.0 mapping, one row per v5.0 (term, grade/definition/note); no NCI text."""
    columns: dict[str, int] | None = None
    records: list[dict[str, Any]] = []
    for row in worksheet.iter_rows(values_only=True):
        if columns is None:
            columns = locate_mapping_columns(row)
            continue

        def cell(name: str) -> Any:
            index = columns.get(name)
            return row[index] if index is not None and index < len(row) else None

        v5_term = clean_cell(cell("v5_term"))
        if not v5_term:
            continue
        v5_item, v6_item = clean_cell(cell("v5_item")), clean_cell(cell("v6_item"))
        other = clean_cell(cell("v6_other_specify"))
        records.append(
            {
                "v5_meddra_code": meddra_code_from_cell(cell("v5_meddra_code")),
                "v5_meddra_soc": clean_cell(cell("v5_meddra_soc")),
                "v5_term": v5_term,
                "v5_item": v5_item,
                "v5_grade": grade_of_item(v5_item),
                "change_type": clean_cell(cell("change_type")),
                "v6_meddra_code": meddra_code_from_cell(cell("v6_meddra_code")),
                "v6_meddra_soc": clean_cell(cell("v6_meddra_soc")),
                "v6_term": clean_cell(cell("v6_term")) or None,
                "v6_item": v6_item or None,
                "v6_grade": grade_of_item(v6_item),
                "v6_other_specify": None if other in ("", "N/A") else other,
            }
        )
    if columns is None or not records:
        raise not_a_workbook_error(path, f'sheet "{MAPPING_SHEET_V5_V6}" has no mapping rows')
    return pl.DataFrame(records, schema=MAPPING_SCHEMA)


def addition_rows(v6_terms: pl.DataFrame, mapping: pl.DataFrame) -> pl.DataFrame:
    """Mapping rows for v6.0 terms that no v5.0 term maps to (terms new in v6.0)."""
    reached = set(mapping["v6_term"].drop_nulls().to_list())
    new_terms = v6_terms.filter(~pl.col("ctcae_term").is_in(list(reached)))
    return pl.DataFrame(
        {
            "v5_meddra_code": [None] * new_terms.height,
            "v5_meddra_soc": [None] * new_terms.height,
            "v5_term": [None] * new_terms.height,
            "v5_item": [None] * new_terms.height,
            "v5_grade": [None] * new_terms.height,
            "change_type": [ADDITION_CHANGE_TYPE] * new_terms.height,
            "v6_meddra_code": new_terms["meddra_code"],
            "v6_meddra_soc": new_terms["meddra_soc"],
            "v6_term": new_terms["ctcae_term"],
            "v6_item": [None] * new_terms.height,
            "v6_grade": [None] * new_terms.height,
            "v6_other_specify": [None] * new_terms.height,
        },
        schema=MAPPING_SCHEMA,
    )


def read_workbook(path: str | Path) -> WorkbookContents:
    """Read an NCI CTCAE workbook into tables: the term dictionary and, for v6.0, the mapping."""
    path = Path(path)
    workbook = open_workbook(path)
    try:
        version = detect_version(list(workbook.sheetnames), path)
        sheet = CLEAN_COPY_SHEETS[version]
        terms = read_terms_sheet(workbook[sheet], path, sheet)
        mapping = None
        if version == "6.0":
            if MAPPING_SHEET_V5_V6 not in workbook.sheetnames:
                raise not_a_workbook_error(path, f'the sheet "{MAPPING_SHEET_V5_V6}" is missing')
            mapping = read_mapping_sheet(workbook[MAPPING_SHEET_V5_V6], path)
            mapping = pl.concat([mapping, addition_rows(terms, mapping)])
    finally:
        workbook.close()
    return WorkbookContents(version=version, terms=terms, mapping=mapping)


def write_parquet_atomically(table: pl.DataFrame, destination: Path) -> None:
    """Write a parquet file so that a reader never sees half of it."""
    temporary = destination.with_name(destination.name + ".tmp")
    table.write_parquet(temporary)
    os.replace(temporary, destination)


def write_text_atomically(text: str, destination: Path) -> None:
    """Write a text file so that a reader never sees half of it."""
    temporary = destination.with_name(destination.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, destination)


def import_workbook(path: str | Path, *, home: Path | None = None) -> ImportResult:
    """Import an NCI CTCAE workbook into ``<home>/ctcae/`` (home defaults to toxwatch_home()).

    Writes the full dictionary, its provenance (source file name, sha256, import time, term
    count) and, for the v6.0 workbook, the v5.0 -> v6.0 mapping. Raises
    NotACtcaeWorkbookError (a ValueError) for a file that is not a CTCAE workbook.
    """
    path = Path(path)
    contents = read_workbook(path)
    destination = ctcae_dir(home)
    destination.mkdir(parents=True, exist_ok=True)
    imported_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    sha256 = sha256_of_file(path)

    out_terms = terms_path(contents.version, home)
    write_parquet_atomically(contents.terms, out_terms)
    out_mapping = None
    if contents.mapping is not None:
        out_mapping = mapping_path(home)
        write_parquet_atomically(contents.mapping, out_mapping)

    provenance = {
        "ctcae_version": contents.version,
        "source_file": path.name,
        "source_sha256": sha256,
        "sheet": CLEAN_COPY_SHEETS[contents.version],
        "term_count": contents.terms.height,
        "imported_at": imported_at,
        "mapping_file": out_mapping.name if out_mapping else None,
        "mapping_rows": contents.mapping.height if contents.mapping is not None else 0,
    }
    out_provenance = provenance_path(contents.version, home)
    write_text_atomically(json.dumps(provenance, indent=2) + "\n", out_provenance)
    return ImportResult(
        version=contents.version,
        source_file=path.name,
        source_sha256=sha256,
        term_count=contents.terms.height,
        imported_at=imported_at,
        terms_path=out_terms,
        provenance_path=out_provenance,
        mapping_path=out_mapping,
        mapping_rows=provenance["mapping_rows"],
    )


def main(argv: list[str] | None = None) -> int:
    """Import the workbooks named on the command line into the toxwatch home."""
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments:
        print("usage: python -m ctcae.workbook NCI_CTCAE_WORKBOOK.xlsx [...]", file=sys.stderr)
        return 2
    for argument in arguments:
        try:
            print(import_workbook(argument).describe())
        except (NotACtcaeWorkbookError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
