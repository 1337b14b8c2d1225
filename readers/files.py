"""Read a data file of any format a trial delivers as text, under the file's own column names.

SDTM domains and ADaM datasets come as SAS transport files (``.xpt``), SAS datasets
(``.sas7bdat``), CSV or Parquet; EDC exports as CSV or Excel workbooks (``.xlsx``). Whatever the
container, a value becomes the text a CSV export of it would hold, so that every route gives
the same frame and validation sees one kind of input:

* text: as given, surrounding spaces stripped; an empty value is a missing value;
* a whole number: its integer text (``1``, not ``1.0``). SAS and Excel keep every number as a
  float and R writes integers as floats to Parquet, so ``AESEQ`` 1.0 must read ``1`` to match
  ``IDVARVAL`` "1" in SUPPAE. Past 2**53, where not every integer is a float, a number keeps
  its float text;
* a decimal: its shortest exact text (``70.25``, ``1e-7``); NaN, which pandas writes for a
  missing number, is a missing value;
* a date: ISO 8601 ``YYYY-MM-DD``; a date and time: ``YYYY-MM-DDTHH:MM:SS`` (fractions of a
  second and a time zone only when the value has them); a time: ``HH:MM:SS``;
* a SAS missing value (``.``, ``.A``-``.Z``, a blank character value): a missing value.

A CSV file is read by validators/read.py, which also sets apart the lines that are no record;
the other formats have no such lines. ``ROW`` is where a record is in the file: its physical
line in a CSV file (header = line 1), its spreadsheet row in a workbook (header = row 1), its
1-based position in the other formats.

An unusable file (missing, unreadable, not in the format it claims, no header) stops the run
with one ``InputError`` naming the file, the problem and the fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from trial.errors import InputError
from validators import encodings
from validators.read import MALFORMED_SCHEMA, ROW, _as_text, _polars_names, _read_csv

FORMATS = ("csv", "parquet", "xpt", "sas7bdat", "xlsx")
_SUFFIXES = {f".{name}": name for name in FORMATS}
# What each format is called in a message.
_FORMAT_NAMES = {
    "csv": "CSV",
    "parquet": "Parquet",
    "xpt": "SAS transport (.xpt)",
    "sas7bdat": "SAS dataset (.sas7bdat)",
    "xlsx": "Excel workbook (.xlsx)",
}
_EXPORT_FIX = "export it again from the source system, or declare the format it is in"
# Below this a whole float is an exact integer, and every integer has one float: above, a
# float's integer text would claim digits the float does not hold.
_EXACT_INTEGERS = 2**53
_EXPONENT_ZEROS = re.compile(r"e([+-])0+(?=\d)")

log = logging.getLogger("toxwatch")


@dataclass(frozen=True)
class TextTable:
    """A data file as text: its records, its lines that are no record, and what it says of itself."""

    path: Path
    sha256: str  # of the file's bytes
    frame: pl.DataFrame  # ROW (Int64), then every column as text under the file's own name
    malformed: pl.DataFrame  # CSV lines that are no record (validators.read.MALFORMED_SCHEMA); empty otherwise
    encoding: str | None  # the text encoding the values were read in (CSV, SAS); None for Parquet and XLSX
    labels: dict[str, str]  # column -> label, where the file carries labels (SAS); else empty


def file_format(path: Path, declared: str | None = None) -> str:
    """The format of a data file: ``declared`` when given, else the one its suffix names."""
    path = Path(path)
    if declared is not None:
        if declared not in FORMATS:
            raise InputError(path, "format", f"unknown file format {declared!r}", f"declare one of {', '.join(FORMATS)}")
        return declared
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    known = ", ".join(_SUFFIXES)
    if suffix == ".xls":
        fix = "save the workbook as .xlsx (Excel: Save As, Excel Workbook)"
    else:
        fix = f"give the file one of the suffixes {known}, or declare its format (comma-separated text as csv)"
    shown = f"suffix {suffix!r}" if suffix else "no suffix"
    raise InputError(path, None, f"the file's format is not known from its name ({shown}; read: {known})", fix)


def read_table(
    path: Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    as_format: str | None = None,
    source: str | None = None,
) -> TextTable:
    """A data file as text (module docstring).

    ``encoding``: the text encoding of a CSV or SAS file (default: UTF-8, or GB18030 when the
    text is not UTF-8 and reads as Chinese; a SAS dataset's own declared encoding). ``sheet``:
    the workbook sheet to read (default: the first). ``as_format``: the format, when the suffix
    does not say it. ``source``: the trial config's name for the file, named in a warning that
    a CSV file was read as GB18030 (default: the file's name without its suffix).
    """
    path = Path(path)
    kind = file_format(path, as_format)
    if encoding is not None and kind not in ("csv", "xpt", "sas7bdat"):
        raise InputError(path, "encoding", f"a text encoding is declared, but a {_FORMAT_NAMES[kind]} file has none to declare", "remove the encoding")
    if sheet is not None and kind != "xlsx":
        raise InputError(path, "sheet", f"a sheet is named, but a {_FORMAT_NAMES[kind]} file has no sheets", "remove the sheet")
    if encoding is not None:
        try:
            encodings.codec_name(encoding)
        except LookupError:
            raise InputError(path, "encoding", f"unknown text encoding {encoding!r}", 'declare one such as "utf-8", "gb18030", "latin-1"') from None
    _check_is_file(path)

    malformed = pl.DataFrame(schema=MALFORMED_SCHEMA)
    labels: dict[str, str] = {}
    used_encoding: str | None = None
    if kind == "csv":
        data = _file_bytes(path)
        sha256 = hashlib.sha256(data).hexdigest()
        _check_names(path, _csv_header(data))
        text = _read_csv(data, path=path, source=source or path.stem, declared=encoding)
        del data
        frame = text.frame
        malformed = pl.DataFrame(text.malformed, schema=MALFORMED_SCHEMA)
        used_encoding = text.encoding or None
    else:
        sha256 = _file_sha256(path)
        if kind == "parquet":
            frame = _read_parquet(path)
        elif kind == "xlsx":
            frame = _read_xlsx(path, sheet)
        else:
            frame, labels, used_encoding = _read_sas(path, kind, encoding)
    columns = [column for column in frame.columns if column != ROW]
    return TextTable(
        path=path,
        sha256=sha256,
        frame=frame.select(pl.col(ROW).cast(pl.Int64), *columns),
        malformed=malformed,
        encoding=used_encoding,
        labels=labels,
    )


# --- the file ------------------------------------------------------------------------------


def _check_is_file(path: Path) -> None:
    if not path.exists():
        raise InputError(path, None, "file not found", "correct the path in the trial config")
    if not path.is_file():
        raise InputError(path, None, "is a folder, not a file", "name the data file itself")


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(path, None, f"cannot be read ({error.strerror or error})", "check the file's permissions") from None


def _file_sha256(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise InputError(path, None, f"cannot be read ({error.strerror or error})", "check the file's permissions") from None


def _check_names(path: Path, names: list[str]) -> None:
    """The record position is kept under ROW: a file may not have a column of that name."""
    if ROW in names:
        raise InputError(path, ROW, f"the column name {ROW} is reserved for the record's position in the file", "rename the column")


def _csv_header(data: bytes) -> list[str]:
    """The header's names, near enough to find a reserved one (quotes dropped, commas split)."""
    line = data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    return [name.strip().strip('"') for name in line.decode("utf-8", errors="replace").split(",")]


# --- typed values as text (Parquet, SAS) ---------------------------------------------------


def _typed_as_text(frame: pl.LazyFrame, path: Path) -> pl.LazyFrame:
    """Every column of a typed frame as the text a CSV export would hold (module docstring)."""
    schema = frame.collect_schema()
    _check_names(path, schema.names())
    expressions = [_text_of(name, dtype, path) for name, dtype in schema.items()]
    return _as_text(frame.with_columns(expressions), schema.names())


def _text_of(name: str, dtype: pl.DataType, path: Path) -> pl.Expr:
    column = pl.col(name)
    if dtype == pl.String:
        return column
    if dtype.is_float():
        whole = (column == column.round(0)) & (column.abs() < _EXACT_INTEGERS)
        return (
            pl.when(column.is_nan())
            .then(None)
            .when(whole)
            .then(column.cast(pl.Int64).cast(pl.String))
            .otherwise(column.cast(pl.String))
            .alias(name)
        )
    if dtype == pl.Date:
        return column.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        zone = "%:z" if dtype.time_zone else ""
        return (
            pl.when(column.dt.nanosecond() == 0)
            .then(column.dt.to_string(f"%Y-%m-%dT%H:%M:%S{zone}"))
            .otherwise(column.dt.to_string(f"%Y-%m-%dT%H:%M:%S%.f{zone}"))
            .alias(name)
        )
    if dtype.is_nested() or dtype in (pl.Binary, pl.Object):
        raise InputError(path, name, f"the column holds {dtype} values, which are not read as text", "export the column as text")
    return column.cast(pl.String)  # integers, booleans (true/false), times, decimals, categories, nulls


# --- Parquet -------------------------------------------------------------------------------


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        lazy = _typed_as_text(pl.scan_parquet(path), path)
        return lazy.with_row_index(ROW, offset=1).collect(engine="streaming")
    except InputError:
        raise
    except Exception as error:  # polars raises several error types for a file that is not Parquet
        raise InputError(path, None, f"cannot be read as Parquet ({_first_line(error)})", _EXPORT_FIX) from None


# --- SAS -----------------------------------------------------------------------------------


def _read_sas(path: Path, kind: str, encoding: str | None) -> tuple[pl.DataFrame, dict[str, str], str]:
    """A SAS transport file or dataset as text, its column labels, and the encoding of its text.

    A SAS dataset declares its encoding and is read in it; a transport file declares none and
    is read as UTF-8. Text that is not UTF-8 and reads as Chinese is read as GB18030, as a CSV
    file is (validators/encodings.py).
    """
    codec = encodings.codec_name(encoding) if encoding is not None else None
    try:
        frame, meta = _pyreadstat_read(path, kind, codec)
    except _NotInEncoding:
        if codec is not None:
            raise InputError(
                path, "encoding", f"its text is not valid {codec}", "declare the encoding the file was written in"
            ) from None
        frame, meta = _read_sas_as_gb18030(path, kind)
        codec = encodings.GB18030
    if codec is None:
        declared = getattr(meta, "file_encoding", None) if kind == "sas7bdat" else None
        codec = _python_codec(declared) if declared else encodings.UTF8
    labels = {name: label for name, label in (meta.column_names_to_labels or {}).items() if label and label.strip()}
    lazy = _typed_as_text(frame.lazy(), path)
    return lazy.with_row_index(ROW, offset=1).collect(), labels, codec


class _NotInEncoding(Exception):
    """The file's text is not valid in the encoding it was read in."""


def _pyreadstat_read(path: Path, kind: str, codec: str | None):
    import pyreadstat  # imported here: the CLI starts without it

    reader = pyreadstat.read_xport if kind == "xpt" else pyreadstat.read_sas7bdat
    names = _iconv_names(codec) if codec is not None else [None]
    for name in names:
        try:
            return reader(str(path), output_format="polars", encoding=name)
        except UnicodeDecodeError:
            raise _NotInEncoding from None
        except Exception as error:  # pyreadstat raises ReadstatError and PyreadstatError, and others on odd values
            message = _first_line(error)
            if "unsupported character set" in message:
                if name is not names[-1]:
                    continue  # another spelling of the encoding's name
                problem = f"its text cannot be read in {codec}" if codec else f"its text is in an encoding that cannot be read ({message})"
                raise InputError(path, "encoding", problem, 'declare the encoding the file was written in (e.g. "latin-1")') from None
            if "encoding" in message:
                raise _NotInEncoding from None
            raise InputError(path, None, f"cannot be read as a {_FORMAT_NAMES[kind]} file ({message})", _EXPORT_FIX) from None
    raise AssertionError("unreachable: the last name returns or raises")


def _iconv_names(codec: str) -> list[str]:
    """Names pyreadstat (iconv) may know a Python codec by: ``iso8859-1`` as is, ``euc_jp`` as ``euc-jp``."""
    names = [codec, codec.replace("_", "-")]
    return list(dict.fromkeys(names))


def _read_sas_as_gb18030(path: Path, kind: str):
    fix = 'declare the encoding the file was written in (e.g. "gb18030", "latin-1")'
    try:
        frame, meta = _pyreadstat_read(path, kind, encodings.GB18030)
    except _NotInEncoding:
        raise InputError(path, "encoding", "its text is not valid UTF-8", fix) from None
    if not encodings.reads_as_chinese(_non_ascii_text(frame)):
        raise InputError(path, "encoding", "its text is not valid UTF-8", fix)
    log.warning(
        '%s: its text is not valid UTF-8 and reads as GB18030 (Chinese): read as GB18030; declare encoding = "gb18030" to say so',
        path.name,
    )
    return frame, meta


def _non_ascii_text(frame: pl.DataFrame) -> str:
    """Enough of the frame's non-ASCII text values to judge the language by."""
    values: list[str] = []
    size = 0
    for name, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        column = frame.get_column(name).drop_nulls().unique()
        for value in column.filter(column.str.len_bytes() != column.str.len_chars()).to_list():
            values.append(value)
            size += len(value)
            if size >= encodings.CHINESE_SAMPLE:
                return " ".join(values)
    return " ".join(values)


def _python_codec(name: str) -> str:
    """Python's name for an encoding a SAS dataset declares (``WINDOWS-1252`` -> ``cp1252``)."""
    try:
        return encodings.codec_name(name)
    except LookupError:
        return name.lower()


# --- Excel ---------------------------------------------------------------------------------


def _read_xlsx(path: Path, sheet: str | None) -> pl.DataFrame:
    """A workbook sheet as text: the first row with a value is the header; a row with no value
    is no record. A value under a header cell left empty is kept under an empty name, as Polars
    names an empty CSV header field."""
    import openpyxl  # imported here: the CLI starts without it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # a zip that is no workbook, a workbook that is not .xlsx, a damaged file
        raise InputError(path, None, f"cannot be read as an {_FORMAT_NAMES['xlsx']} ({_first_line(error)})", _EXPORT_FIX) from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            sheets = ", ".join(repr(name) for name in workbook.sheetnames)
            raise InputError(path, "sheet", f"the workbook has no sheet {sheet!r} (its sheets: {sheets})", "name one of its sheets")
        header: list[str | None] | None = None
        records: list[list[str | None]] = []
        rows: list[int] = []
        # Read-only sheets yield every row from the first, empty ones included: the count is the row number.
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            values = [_cell_text(value) for value in cells]
            if not any(value is not None and value.strip() for value in values):
                continue
            if header is None:
                header = values
            else:
                records.append(values)
                rows.append(number)
    except InputError:
        raise
    except Exception as error:
        raise InputError(path, None, f"cannot be read as an {_FORMAT_NAMES['xlsx']} ({_first_line(error)})", _EXPORT_FIX) from None
    finally:
        workbook.close()
    if header is None:
        raise InputError(path, None, f"the sheet {worksheet.title!r} is empty: it has no header row", "export the data with a header row")

    width = max(_used_width(header), *(_used_width(record) for record in records)) if records else _used_width(header)
    names = _polars_names([(header[index] if index < len(header) else None) or "" for index in range(width)])
    _check_names(path, names)
    columns = {name: [record[index] if index < len(record) else None for record in records] for index, name in enumerate(names)}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(names, pl.String)).with_columns(pl.Series(ROW, rows, dtype=pl.Int64))
    return _as_text(frame.lazy(), names).collect()


def _used_width(values: list[str | None]) -> int:
    """The number of cells up to the last one with a value."""
    for index in range(len(values) - 1, -1, -1):
        if values[index] is not None and values[index].strip():
            return index + 1
    return 0


def _cell_text(value: object) -> str | None:
    """A cell's value as the text a CSV export would hold (module docstring). Excel keeps a date
    as a date-time: one at midnight is a date."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if value.microsecond == 0 else "microseconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _number_text(value: float) -> str | None:
    """A float as text, as Polars writes it for the typed formats (``_text_of``)."""
    if math.isnan(value):
        return None
    if value.is_integer() and abs(value) < _EXACT_INTEGERS:
        return str(int(value))
    return _EXPONENT_ZEROS.sub(r"e\1", repr(value))


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
