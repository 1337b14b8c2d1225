"""Read a trial's source files as text, exactly as given, with their line numbers.

Every column is read as text so that a malformed value becomes a query later instead of a
crash now. A line that is not a record (a wrong number of fields, a quote not closed, bytes not
valid in the file's encoding) is set apart with its physical line number and its raw text, and
the rest of the file is read; blank lines are no records. Only an unusable file (missing,
unreadable, no header, required columns absent) stops the run.

A CSV file is read one of two ways, which give the same records:

* whole, by Polars, when the byte count proves that every line had the header's fields and
  none was blank (``_every_byte_accounted_for``): the everyday file pays nothing more;
* line by line, when Polars refuses the file or the count does not add up: lines without a
  quote are checked by their commas (vectorised), lines with one by a small tokenizer, and
  Polars reads the records that are left.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from trial.errors import InputError
from trial.config import TrialConfig
from validators import contract, encodings
from validators.checks import ROW_FORMAT_FIXES, TEXT_ENCODING
from validators.schemas import SCHEMAS
from validators.value_maps import map_values

ROW = "_row"  # physical line where the record starts (header = line 1), spreadsheet row (xlsx), or record position
RAW_LINE = "raw_line"  # the text of a line that is not a record, as given

# A line that is not a record: where it is, what it says, what is wrong and how to fix it.
MALFORMED_SCHEMA = {
    ROW: pl.Int64, RAW_LINE: pl.String, "field": pl.String, "value": pl.String, "problem": pl.String, "fix": pl.String
}
# Reasons found while reading, in the shape of validators/parse.py's REASON_SCHEMA (which takes ROW from here).
READ_REASON_SCHEMA = {ROW: pl.Int64, "field": pl.String, "value": pl.String, "problem": pl.String, "check": pl.String}
# A query shows this much of a line; the excluded record keeps all of it.
SHOWN_CHARACTERS = 120
# A quoted value may run over this many lines; an opening quote with no close nearer is an error.
MAX_RECORD_LINES = 1000

BOM = b"\xef\xbb\xbf"
log = logging.getLogger("toxwatch")

# The contract's columns, from the Pandera models (validators/schemas.py via validators/contract.py).
# Columns every file of a source must have, in order; adverse events also carry a pair per agent.
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {name: contract.file_columns(name) for name in SCHEMAS}

# Columns a source may leave out: they are added empty.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    name: contract.optional_columns(name) for name in SCHEMAS if contract.optional_columns(name)
}


# Formats read by readers/files.py, which writes each value as a CSV export of it would.
TABLE_FORMATS = ("xlsx", "xpt", "sas7bdat")


def required_columns(source: str, agent_ids: list[str]) -> tuple[str, ...]:
    """Canonical columns a source must have; adverse events carry one pair per agent."""
    return SOURCE_COLUMNS[source] + contract.per_agent_columns(source, agent_ids)


@dataclass(frozen=True)
class RawSource:
    name: str
    path: Path
    sha256: str
    frame: pl.DataFrame  # canonical text columns + ROW
    malformed: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MALFORMED_SCHEMA))  # lines that are no record
    reasons: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=READ_REASON_SCHEMA))  # values read with doubt
    ignored_columns: tuple[str, ...] = ()  # the file's columns that are not read (not in the contract, not mapped)
    encoding: str | None = None  # the text encoding the file was read in; None for Parquet


@dataclass
class _Text:
    """A file's columns as text (the file's own names) with ROW, and its lines that are no record."""

    frame: pl.DataFrame
    malformed: list[dict]
    encoding: str
    ascii_only: bool


def read_source(config: TrialConfig, name: str) -> RawSource | None:
    """Read one configured source; None when the optional source is not configured."""
    if config.model.cdisc is not None:
        from readers.cdisc import read_cdisc_source  # readers/ builds on this module

        return read_cdisc_source(config, name)
    path = config.source_path(name)
    if path is None:
        return None
    source = getattr(config.model.sources, name)
    if not path.is_file():
        raise InputError(path, f"sources.{name}.path", "source file not found", "correct the path in the trial config")
    file_format = source.file_format
    if file_format == "parquet":
        with path.open("rb") as handle:
            sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
        try:
            text = _Text(_read_parquet(path), [], "", True)
        except Exception as error:  # polars raises several error types for unreadable files
            raise InputError(path, None, f"cannot be read as parquet ({error})", "export it as parquet with a header row") from None
    elif file_format in TABLE_FORMATS:
        text, sha256 = _read_table(path, source=source, name=name)
    else:
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        text = _read_csv(data, path=path, source=name, declared=source.encoding)
        del data
    return _raw_source(text, config=config, name=name, path=path, sha256=sha256)


def _read_table(path: Path, *, source, name: str) -> tuple[_Text, str]:
    """An Excel workbook or a SAS file of a source (``[sources.<name>]``) as text, and its sha256."""
    from readers.files import read_table  # readers/ builds on this module

    try:
        table = read_table(path, encoding=source.encoding, sheet=source.sheet, as_format=source.file_format, source=name)
    except InputError as error:
        if error.field in ("sheet", "encoding"):
            raise InputError(path, f"sources.{name}.{error.field}", error.problem, error.fix) from None
        raise
    # SAS text read as UTF-8 is checked for GBK text read in the wrong encoding, as a CSV file's is.
    return _Text(table.frame, [], table.encoding or "", ascii_only=table.encoding is None), table.sha256


def read_source_chunks(config: TrialConfig, name: str, *, chunk_bytes: int, sha256: str | None = None) -> Iterator[RawSource]:
    """A configured source in pieces of about ``chunk_bytes``, each with the file's own line
    numbers, so that a large file is never held whole; ``sha256`` is the file's checksum when
    already known.

    A UTF-8 (or ASCII) CSV file in which no line holds an odd number of quotes (so no quoted
    value runs over a line end, and no quote is left open) is cut at line ends. Any other file
    is read whole, as one piece. A piece is read exactly as ``read_source`` reads a file (whole
    by Polars, or line by line), with the file's header in front of it. A source read from CDISC
    domains (``[cdisc]``) is read whole.
    """
    if config.model.cdisc is not None:
        raw = read_source(config, name)
        if raw is not None:
            yield raw
        return
    path = config.source_path(name)
    if path is None:
        return
    source = getattr(config.model.sources, name)
    file_format = source.file_format
    declared_utf8 = source.encoding is None or encodings.codec_name(source.encoding) == encodings.UTF8
    if file_format != "csv" or not declared_utf8 or not path.is_file() or path.stat().st_size <= chunk_bytes:
        raw = read_source(config, name)
        if raw is not None:
            yield raw
        return
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        header_end = data.find(b"\n")
        if header_end == -1 or _a_line_opens_a_quote(data) or not _is_utf8(data):
            raw = read_source(config, name)
            if raw is not None:
                yield raw
            return
        checksum = sha256 or _mapped_sha256(data)
        header = data[: header_end + 1]
        start, lines_before = header_end + 1, 1
        while start < len(data):
            end = _line_end_after(data, min(start + chunk_bytes, len(data)) - 1)
            body = data[start:end]
            # The piece's first line is its line 2 (after the header); in the file it is line lines_before + 1.
            text = _read_csv(header + body, path=path, source=name, declared=source.encoding, shift=lines_before - 1)
            yield _raw_source(text, config=config, name=name, path=path, sha256=checksum)
            lines_before += body.count(b"\n")
            start = end


def _a_line_opens_a_quote(data: mmap.mmap) -> bool:
    """Whether some line holds an odd number of quote characters, read 16 MB of lines at a time."""
    start = 0
    while start < len(data):
        end = _line_end_after(data, min(start + (1 << 24), len(data)) - 1)
        block = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
        quotes = np.flatnonzero(block == ord('"'))
        if quotes.size:
            line_of_quote = np.searchsorted(np.flatnonzero(block == ord("\n")), quotes)
            if (np.bincount(line_of_quote) % 2).any():
                return True
        start = end
    return False


def _line_end_after(data: mmap.mmap, position: int) -> int:
    """The position just after the first line end at or after ``position`` (the file's end if none)."""
    found = data.find(b"\n", position)
    return len(data) if found == -1 else found + 1


def _mapped_sha256(data: mmap.mmap) -> str:
    digest = hashlib.sha256()
    for start in range(0, len(data), 1 << 24):
        digest.update(data[start : start + (1 << 24)])
    return digest.hexdigest()


def _raw_source(text: _Text, *, config: TrialConfig, name: str, path: Path, sha256: str) -> RawSource:
    """The file's text under the contract's names: mapped columns renamed, optional ones added
    empty, the file's other columns set aside (named in ``ignored_columns``)."""
    source = getattr(config.model.sources, name)
    encoding = text.encoding or None
    columns = [column for column in text.frame.columns if column != ROW]
    renames = {source_name: canonical for canonical, source_name in source.columns.items()}
    missing_mapped = [name_ for name_ in renames if name_ not in columns]
    if missing_mapped:
        raise InputError(path, missing_mapped[0], "column named in the config mapping is not in the file", f"correct sources.{name}.columns")
    canonical_columns = [renames.get(column, column) for column in columns]

    expected = required_columns(name, config.agent_ids)
    missing = [column for column in expected if column not in canonical_columns]
    if missing:
        raise InputError(
            path,
            missing[0],
            f"required column missing (missing: {', '.join(missing)})",
            f"add the column, or map the file's own name onto it under [sources.{name}.columns]",
        )
    optional = OPTIONAL_COLUMNS.get(name, ())
    read_columns = set(expected + optional)
    ignored = tuple(column for column in columns if renames.get(column, column) not in read_columns)
    absent = [column for column in optional if column not in canonical_columns]
    frame = (
        text.frame.lazy()
        .rename(renames)
        .with_columns([pl.lit(None, dtype=pl.String).alias(column) for column in absent])
        .select(ROW, *expected, *optional)
        .collect()
    )
    text.frame = pl.DataFrame()  # release the text as read: ``frame`` holds what is read of it
    reasons = _gbk_read_as_utf8(frame, path=path, source=name) if encoding == encodings.UTF8 and not text.ascii_only else None
    if source.values:
        frame = map_values(frame, source.values, config.agent_ids)  # values in the file's words (validators/value_maps.py)
    malformed = pl.DataFrame(
        [{**line, "field": renames.get(line["field"], line["field"])} for line in text.malformed], schema=MALFORMED_SCHEMA
    )
    return RawSource(
        name=name,
        path=path,
        sha256=sha256,
        frame=frame,
        malformed=malformed,
        reasons=reasons if reasons is not None else pl.DataFrame(schema=READ_REASON_SCHEMA),
        ignored_columns=ignored,
        encoding=encoding,
    )


def _read_parquet(path: Path) -> pl.DataFrame:
    lazy = pl.scan_parquet(path)
    columns = lazy.collect_schema().names()
    lazy = _as_text(lazy.with_columns(pl.all().cast(pl.String)), columns)
    return lazy.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64)).collect(engine="streaming")


def _as_text(lazy: pl.LazyFrame, columns: list[str]) -> pl.LazyFrame:
    """Surrounding spaces are not data; an empty cell is a missing value."""
    return lazy.with_columns(pl.col(columns).str.strip_chars()).with_columns(
        pl.when(pl.col(columns) != "").then(pl.col(columns))
    )


# --- CSV -----------------------------------------------------------------------------------


def _read_csv(data: bytes, *, path: Path, source: str, declared: str | None, shift: int = 0) -> _Text:
    """A CSV file as text: whole when it can be, line by line when it must. ``shift``: lines of
    the file before ``data``'s second line, less one (a piece of a file with its header in front)."""
    codec = encodings.codec_name(declared)
    ascii_only = data.isascii()
    if codec != encodings.UTF8 and not ascii_only:
        try:
            utf8 = data.decode(codec).encode(encodings.UTF8)
        except UnicodeDecodeError:
            return _read_lines(data, codec=codec, path=path, shift=shift)
        return _read_whole(utf8, encoding=codec, ascii_only=False, shift=shift) or _read_lines(data, codec=codec, path=path, shift=shift)
    text = _read_whole(data, encoding=codec, ascii_only=ascii_only, shift=shift)
    if text is not None:
        return text
    if declared is None and not ascii_only and not _is_utf8(data) and not _header_says_utf8(data) and encodings.reads_as_gb18030(data):
        log.warning(
            "%s is not valid UTF-8 and reads as GB18030 (Chinese): read as GB18030; "
            'declare encoding = "gb18030" in [sources.%s] of the trial config to say so',
            path.name,
            source,
        )
        try:
            utf8 = data.decode(encodings.GB18030).encode(encodings.UTF8)
        except UnicodeDecodeError:  # a few lines are not GB18030 either: each is a query
            return _read_lines(data, codec=encodings.GB18030, path=path, shift=shift)
        return _read_whole(utf8, encoding=encodings.GB18030, ascii_only=False, shift=shift) or _read_lines(
            data, codec=encodings.GB18030, path=path, shift=shift
        )
    return _read_lines(data, codec=codec, path=path, shift=shift)


def _header_says_utf8(data: bytes) -> bool:
    """A byte-order mark, or a header line of valid UTF-8 that is not plain ASCII: the file was
    written as UTF-8, and a bad byte further on is that line's fault, not a sign of GB18030."""
    if data.startswith(BOM):
        return True
    end = data.find(b"\n")
    header = data if end == -1 else data[:end]
    if header.isascii():
        return False
    try:
        header.decode(encodings.UTF8)
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8(data: bytes | mmap.mmap) -> bool:
    """Whether the file is valid UTF-8, read 16 MB at a time (an ASCII piece is not decoded)."""
    decoder = codecs.getincrementaldecoder(encodings.UTF8)()
    try:
        for start in range(0, len(data), 1 << 24):
            piece = data[start : start + (1 << 24)]
            if not (piece.isascii() and not decoder.getstate()[0]):
                decoder.decode(piece)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# Per record, counted before the spaces around values are stripped (names no file uses).
_BYTES, _QUOTES, _BREAKS, _SWALLOWS = "__toxwatch_bytes", "__toxwatch_quotes", "__toxwatch_breaks", "__toxwatch_swallows"


def _read_whole(data: bytes, *, encoding: str, ascii_only: bool, shift: int = 0) -> _Text | None:
    """The file read by Polars in one go, or None when a line is no record or blank (so the
    file is read line by line). ``data`` is UTF-8."""
    if b"\r" in data:
        # Polars drops a lone carriage return at the end of a value, which the byte count
        # cannot tell from a missing comma: lines ending \r\n are the only ones taken whole.
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None
    tail = data[-4096:]
    trailing = len(tail) - len(tail.rstrip(b" \t\n"))
    if trailing == len(tail):
        trailing = len(data) - len(data.rstrip(b" \t\n"))  # a file ending in 4 KB of blank lines
    if data[len(data) - trailing :].count(b"\n") > 1:
        # Blank lines at the end of a file are common and harmless: cut them here.
        data = data[: len(data) - trailing] + b"\n"
    elif not data.endswith(b"\n"):
        # Polars drops one trailing comma from a last line with no line end: give it one.
        data += b"\n"
    start = len(BOM) if data.startswith(BOM) else 0
    header_end = data.find(b"\n")
    header_end = len(data) if header_end == -1 else header_end
    header = data[start:header_end]
    if not header.strip() or header.count(b'"') % 2:
        return None  # a blank line before the header (Polars skips it), or a header over several lines
    has_quotes = data.find(b'"', header_end) != -1
    try:
        lazy = pl.scan_csv(data, infer_schema=False)
        columns = lazy.collect_schema().names()
        counts = [_per_record(pl.col(columns).str.len_bytes()).alias(_BYTES)]
        if has_quotes:
            counts.append(_per_record(pl.col(columns).str.count_matches('"', literal=True)).alias(_QUOTES))
            counts.append(_per_record(pl.col(columns).str.count_matches("\n", literal=True)).alias(_BREAKS))
            # _swallows_records, for every value as read (a line break at a value's end counts)
            swallows = pl.col(columns).str.contains("\n", literal=True) & (
                pl.col(columns).str.count_matches(",", literal=True) >= len(columns) - 1
            )
            counts.append(pl.any_horizontal(swallows).alias(_SWALLOWS))
        frame = _as_text(lazy.with_columns(counts), columns).collect(engine="streaming")
    except Exception:  # polars raises several error types for a malformed line
        return None
    if not _every_byte_accounted_for(frame, data, header_end=header_end, columns=len(columns)):
        return None
    rows = pl.int_range(2 + shift, frame.height + 2 + shift, dtype=pl.Int64, eager=True)
    if has_quotes and frame[_BREAKS].sum():
        if frame[_SWALLOWS].any():
            return None
        # A quoted value with a line break moves every later record down a line.
        rows = rows + frame[_BREAKS].cum_sum() - frame[_BREAKS]
    frame = frame.drop(_BYTES, _QUOTES, _BREAKS, _SWALLOWS, strict=False).with_columns(rows.alias(ROW))
    return _Text(frame, [], encoding, ascii_only)


def _per_record(counts: pl.Expr) -> pl.Expr:
    return pl.sum_horizontal(counts).cast(pl.Int64)


def _every_byte_accounted_for(frame: pl.DataFrame, data: bytes, *, header_end: int, columns: int) -> bool:
    """Whether the values Polars read, with their commas, quotes and line ends, make up the file.

    Polars refuses a line with too many fields, but pads a line with too few with empty values
    and reads a blank line as a row of them: each adds commas the file does not have, so the sum
    exceeds the file's size. A quoted value costs its two quotes and one more byte per quote
    doubled inside it: the quotes in the file less those in the values.
    """
    values = frame[_BYTES].sum()
    commas = frame.height * (columns - 1)
    line_ends = frame.height  # every line ends with one (_read_whole)
    quote_bytes = data.count(b'"', header_end) - frame[_QUOTES].sum() if _QUOTES in frame.columns else 0
    header_bytes = min(header_end + 1, len(data))
    return header_bytes + values + commas + quote_bytes + line_ends == len(data)


# --- line by line --------------------------------------------------------------------------

_QUOTED = re.compile(r'"((?:[^"]|"")*+)"')
_SURROGATE = re.compile(r"[\udc80-\udcff]")


def _read_lines(data: bytes, *, codec: str, path: Path, shift: int = 0) -> _Text:
    """The file read line by line: the lines that are no record set apart, the rest read by Polars."""
    utf8, undecodable = _as_utf8(data, codec)
    lines = _physical_lines(utf8, path)
    blank = lines.str.contains(r"^\s*$").to_numpy().copy()
    quotes = lines.str.count_matches('"', literal=True).to_numpy()
    commas = lines.str.count_matches(",", literal=True).to_numpy()
    decodable = np.ones(len(lines), dtype=bool)
    decodable[list(undecodable)] = False
    blank &= decodable
    text_of = _LineText(lines, np.flatnonzero(quotes > 0))

    non_blank = np.flatnonzero(~blank)
    if non_blank.size == 0:
        raise InputError(path, None, "the file has no header row (it is empty or blank)", "export it as csv with a header row")
    first = int(non_blank[0])
    if first in undecodable:
        raise InputError(path, None, f"the header row has bytes that are not valid {_label(codec)}", ROW_FORMAT_FIXES["encoding"])
    odd_quote_lines = np.flatnonzero(quotes % 2 == 1)
    stops = np.array(sorted(undecodable), dtype=np.int64)
    header, header_last = _record_at(text_of, first, odd_quote_lines, stops)
    if isinstance(header, str):
        raise InputError(path, None, "the header row has a quote that is not closed", "correct the header row: column names separated by commas")
    width = len(header)

    # Lines with a quote first, in order: a quoted value may hold line breaks, and the lines it
    # runs over are part of its record whatever their commas.
    candidates = (np.arange(len(lines)) > header_last) & ~blank & decodable
    malformed: list[dict] = []
    rewritten: dict[int, str] = {}
    inside = np.zeros(len(lines), dtype=bool)
    next_free = header_last + 1
    no_stops = np.array([], dtype=np.int64)
    absorbed: set[int] = set()  # undecodable lines within a record: one problem for the record
    quoted = (np.arange(len(lines)) > header_last) & ~blank & (quotes > 0)
    for index in np.flatnonzero(quoted):
        index = int(index)
        if index < next_free:
            continue
        # A byte not valid in the encoding is never a quote, comma or line end: the record's
        # lines are found as usual, and the record is one excluded record if any holds such a byte.
        fields, last = _record_at(text_of, index, odd_quote_lines, no_stops, width)
        bad = [line for line in range(index, last + 1) if line in undecodable]
        if bad:
            malformed.append(_encoding_problem(undecodable[bad[0]], index + shift, codec, header))
            absorbed.update(bad)
            inside[index + 1 : last + 1] = True
            next_free = last + 1
        elif isinstance(fields, str):
            malformed.append(_quote_problem(text_of(index), index + shift, fields, header))
        elif len(fields) != width:
            malformed.append(_field_count_problem(text_of(index), index + shift, len(fields), width))
        else:
            rewritten[index] = ",".join(_quote(value) for value in fields)
            inside[index + 1 : last + 1] = True
            next_free = last + 1
    plain = candidates & (quotes == 0) & ~inside
    wrong_width = np.flatnonzero(plain & (commas != width - 1))
    for index, line in zip(wrong_width, lines.gather(wrong_width).to_list()):
        malformed.append(_field_count_problem(line, int(index) + shift, int(commas[index]) + 1, width))
    for index, raw in undecodable.items():
        if index not in absorbed and not inside[index]:
            malformed.append(_encoding_problem(raw, index + shift, codec, header))
    malformed.sort(key=lambda line: line[ROW])

    is_start = plain & (commas == width - 1)
    is_start[list(rewritten)] = True
    starts = np.flatnonzero(is_start)
    del lines, text_of
    body = _records_text(utf8, is_start, rewritten)
    if body is None:
        raise InputError(path, None, "cannot be read as csv (its lines could not be counted)", "export it as csv with a header row")
    schema = dict.fromkeys(_polars_names(header), pl.String)
    try:
        lazy = pl.scan_csv(body, has_header=False, schema=schema)
        frame = _as_text(lazy, list(schema)).collect(engine="streaming")
    except Exception as error:
        raise InputError(path, None, f"cannot be read as csv ({error})", "export it as csv with a header row") from None
    if frame.height != starts.size:
        raise InputError(path, None, "cannot be read as csv (its records could not be told apart)", "export it as csv with a header row")
    frame = frame.with_columns(pl.Series(ROW, starts + 1 + shift, dtype=pl.Int64))
    return _Text(frame, malformed, codec, data.isascii())


def _records_text(utf8: bytes, starts: np.ndarray, rewritten: dict[int, str]) -> bytes | None:
    """The file's records without its header, blank lines and lines that are no record: runs of
    one-line records copied as they are, a record with quotes written anew (``rewritten``, in
    place of all its lines). None if the file's line ends do not match its lines (never expected)."""
    line_ends = np.flatnonzero(np.frombuffer(utf8, dtype=np.uint8) == ord("\n"))
    line_starts = np.concatenate(([0], line_ends + 1))
    if line_ends.size + (0 if utf8.endswith(b"\n") or not utf8 else 1) != starts.size:
        return None
    as_is = starts.copy()
    as_is[list(rewritten)] = False
    # Where a run of lines copied as they are begins and ends, by line index.
    edges = np.flatnonzero(np.diff(np.concatenate(([False], as_is, [False])).astype(np.int8)))
    pieces: list[tuple[int, bytes | memoryview]] = [
        (index, (text + "\n").encode(encodings.UTF8)) for index, text in rewritten.items()
    ]
    view = memoryview(utf8)
    for first, after in zip(edges[::2], edges[1::2]):
        end = int(line_starts[after]) if after < line_starts.size else len(utf8)
        pieces.append((int(first), view[int(line_starts[first]) : end]))
        if not utf8.endswith(b"\n") and end == len(utf8):
            pieces.append((int(after), b"\n"))  # the last line has no line end
    pieces.sort(key=lambda piece: piece[0])
    return b"".join(piece for _, piece in pieces)


def _as_utf8(data: bytes, codec: str) -> tuple[bytes, dict[int, str]]:
    """The file in UTF-8, and its lines with bytes not valid in ``codec`` (line index -> the line
    with each such byte written \\xNN; in the UTF-8 text they are replaced)."""
    if codec == encodings.UTF8 and _is_utf8(data):
        return _with_line_feeds(data), {}
    try:
        return _with_line_feeds(data.decode(codec).encode(encodings.UTF8)), {}
    except UnicodeDecodeError:
        text = data.decode(codec, errors="surrogateescape")
    if "\n" not in text:
        text = text.replace("\r", "\n")  # carriage returns alone as line ends (old Mac exports)
    undecodable: dict[int, str] = {}
    line, searched = 0, 0
    for match in _SURROGATE.finditer(text):
        line += text.count("\n", searched, match.start())
        searched = match.start()
        if line not in undecodable:
            begin = text.rfind("\n", 0, match.start()) + 1
            finish = text.find("\n", match.start())
            raw = text[begin : len(text) if finish == -1 else finish].removesuffix("\r")
            undecodable[line] = raw.encode(codec, errors="surrogateescape").decode(codec, errors="backslashreplace")
    return text.encode(encodings.UTF8, errors="replace"), undecodable


def _with_line_feeds(utf8: bytes) -> bytes:
    """Carriage returns alone as line ends (old Mac exports) made line feeds."""
    return utf8.replace(b"\r", b"\n") if b"\n" not in utf8 and b"\r" in utf8 else utf8


def _physical_lines(utf8: bytes, path: Path) -> pl.Series:
    """Each physical line of the file as text, without its line end (Polars, reading one field a line)."""
    unused = next((bytes((byte,)) for byte in (*range(0x1F, 0x0D, -1), *range(0x08, 0x00, -1)) if bytes((byte,)) not in utf8), None)
    if unused is None:
        raise InputError(path, None, "cannot be read as csv (it holds every control character)", "export it as csv with a header row")
    lines = pl.scan_csv(
        utf8, has_header=False, separator=unused.decode(), quote_char=None, schema={"line": pl.String}
    ).collect().to_series()
    return lines.fill_null("").str.strip_suffix("\r")


class _LineText:
    """The text of line ``index``; the lines with a quote are fetched at once, as they are read most."""

    def __init__(self, lines: pl.Series, quoted: np.ndarray) -> None:
        self.lines = lines
        self.quoted = dict(zip(quoted.tolist(), lines.gather(quoted).to_list()))

    def __call__(self, index: int, last: int | None = None) -> str:
        if last is None:
            return self.quoted[index] if index in self.quoted else self.lines[index]
        return "\n".join(self.lines.slice(index, last - index + 1).to_list())


def _polars_names(header: list[str]) -> list[str]:
    """The header's names as Polars gives them when the file is read whole (a repeated name gets
    ``_duplicated_<n>``), so both ways of reading name the columns alike."""
    names: list[str] = []
    repeats: dict[str, int] = {}
    for name in header:
        if name in repeats:
            repeats[name] += 1
            names.append(f"{name}_duplicated_{repeats[name] - 1}")
        else:
            repeats[name] = 0
            names.append(name)
    return names


def _record_at(
    text_of: _LineText, index: int, odd_quote_lines: np.ndarray, stops: np.ndarray, width: int | None = None
) -> tuple[list[str] | str, int]:
    """The fields of the record starting on line ``index`` and its last line, or what is wrong.

    A quote left open at the end of a line continues the value on the next line with an odd
    number of quotes, within ``MAX_RECORD_LINES``, with no undecodable line (``stops``) between,
    and unless the value so made looks like swallowed records (``_swallows_records``).
    """
    fields = _tokenize(text_of(index))
    if not (isinstance(fields, str) and fields.startswith("unclosed_quote")):
        return fields, index
    following = np.searchsorted(odd_quote_lines, index, side="right")
    if following == odd_quote_lines.size:
        return fields, index
    last = int(odd_quote_lines[following])
    blocked = np.searchsorted(stops, index, side="right")
    if last - index > MAX_RECORD_LINES or (blocked < stops.size and stops[blocked] <= last):
        return fields, index
    record = _tokenize(text_of(index, last))
    if isinstance(record, str) or (width is not None and _swallows_records(record, width)):
        return fields, index
    return record, last


def _swallows_records(fields: list[str], width: int) -> bool:
    """Whether a value over several lines holds a record's worth of commas (the header's count
    less one): the tail of one record and the head of the next, joined by a quote left open.
    Free text over several lines with that many commas is rarer than a stray quote, and a stray
    quote taken for a value would hide whole records from the counts. (Values as read, before
    the spaces around them are stripped: a value ending in a line break ran over two lines.)"""
    return any("\n" in value and value.count(",") >= width - 1 for value in fields)


def _tokenize(text: str) -> list[str] | str:
    """The fields of one record (RFC 4180: a quoted value may hold commas, line breaks and
    doubled quotes; a quote inside an unquoted value is kept as a character), or what is wrong:
    ``unclosed_quote:<field>`` or ``text_after_quote:<field>`` (the field's position from 0)."""
    fields: list[str] = []
    position = 0
    while True:
        if position < len(text) and text[position] == '"':
            match = _QUOTED.match(text, position)
            if match is None:
                return f"unclosed_quote:{len(fields)}"
            fields.append(match.group(1).replace('""', '"'))
            position = match.end()
            while position < len(text) and text[position] in " \t":
                position += 1  # spaces after the closing quote are not data
            if position == len(text):
                return fields
            if text[position] != ",":
                return f"text_after_quote:{len(fields) - 1}"
            position += 1
            continue
        comma = text.find(",", position)
        end = len(text) if comma == -1 else comma
        if "\n" in text[position:end]:
            return f"unclosed_quote:{len(fields)}"  # lines joined where a break is not inside quotes
        fields.append(text[position:end])
        if comma == -1:
            return fields
        position = comma + 1


def _quote(value: str) -> str:
    if any(character in value for character in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _shown(line: str) -> str:
    return line if len(line) <= SHOWN_CHARACTERS else line[: SHOWN_CHARACTERS - 1] + "…"


def _malformed(line: str, index: int, field_name: str | None, problem: str, fix: str) -> dict:
    return {ROW: index + 1, RAW_LINE: line, "field": field_name, "value": _shown(line), "problem": problem, "fix": fix}


def _field_count_problem(line: str, index: int, fields: int, width: int) -> dict:
    kind = "too_many_fields" if fields > width else "too_few_fields"
    return _malformed(line, index, None, f"line {index + 1} has {fields} fields; the header has {width}", ROW_FORMAT_FIXES[kind])


def _quote_problem(line: str, index: int, problem: str, header: list[str]) -> dict:
    kind, _, position = problem.partition(":")
    column = header[int(position)] if int(position) < len(header) else None
    where = f" in {column}" if column else ""
    if kind == "text_after_quote":
        text = f"line {index + 1}: a quoted value{where} is followed by more text before the next comma"
    else:
        text = f"line {index + 1} opens a quote{where} that is not closed"
    return _malformed(line, index, column, text, ROW_FORMAT_FIXES[kind])


def _encoding_problem(raw: str, index: int, codec: str, header: list[str]) -> dict:
    match = re.search(r"\\x([0-9a-f]{2})", raw)
    byte = f"0x{match.group(1).upper()}" if match else "a byte"
    column = _column_at(raw, match.start() if match else 0, header)
    where = f" in {column}" if column else ""
    text = f"line {index + 1} has bytes that are not valid {_label(codec)} ({byte}{where})"
    return _malformed(raw, index, column, text, ROW_FORMAT_FIXES["encoding"])


def _column_at(line: str, position: int, header: list[str]) -> str | None:
    """The header's name for the field holding ``position`` (counting commas, quotes aside)."""
    field_index = line.count(",", 0, max(position, 0))
    return header[field_index] if field_index < len(header) else None


def _label(codec: str) -> str:
    return {"utf-8": "UTF-8", "gb18030": "GB18030", "iso8859-1": "Latin-1"}.get(codec, codec)


# --- text in the wrong encoding ------------------------------------------------------------


def _gbk_read_as_utf8(frame: pl.DataFrame, *, path: Path, source: str) -> pl.DataFrame:
    """One reason per value that looks like GBK/GB18030 text read as UTF-8 (validators/encodings.py)."""
    found = []
    for column in frame.columns:
        if column == ROW:
            continue
        non_ascii = frame.select(ROW, column).filter(pl.col(column).str.len_bytes() != pl.col(column).str.len_chars())
        readings = {value: encodings.gb18030_reading(value) for value in non_ascii[column].unique().to_list()}
        flagged = [value for value, reading in readings.items() if reading is not None]
        for row, value in non_ascii.filter(pl.col(column).is_in(flagged)).iter_rows():
            if readings[value] is not None:
                found.append(
                    {
                        ROW: row,
                        "field": column,
                        "value": value,
                        "problem": f"{column} {value!r} looks like GBK/GB18030 text read as UTF-8: it reads {readings[value]!r}",
                        "check": TEXT_ENCODING,
                    }
                )
    if found:
        example = found[0]
        log.warning(
            "%s: %d values read as UTF-8 look like GBK/GB18030 text (e.g. %r); if the file was exported as GBK, "
            'declare encoding = "gb18030" in [sources.%s] of the trial config',
            path.name,
            len(found),
            example["value"],
            source,
        )
    return pl.DataFrame(found, schema=READ_REASON_SCHEMA)
