"""Personal identifiers typed into free text: found, located, and queried to the data manager.

Free text (the investigator's words, the "Other, specify" text) must not carry a name, a date of
birth, a phone or ID number. The scan flags likely identifiers with patterns kept as data
(``data/privacy/identifier_patterns.csv``, or the trial's own file: ``[privacy]`` in the trial
config) and with the trial's list of names. Each finding is a query that says where the
identifier sits and what kind it is, never what it is: the query listing must not spread it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from trial.errors import InputError
from validators.read import ROW

# The free-text columns of each source (validators/schemas.py): every other text column is a
# code, an identifier of the record, or a value checked against a list.
FREE_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {"adverse_events": ("verbatim_term", "other_specify")}
PATTERN_COLUMNS = ("pattern", "regex", "description", "note")
NAMES_PATTERN = "name_list"
NAMES_DESCRIPTION = "name from the trial's names list"
CHECK = "free_text_identifier"
READING = "counted; the text is kept in the store and listed to the data manager only"
FIX = "remove the identifier from the free text in the EDC"
# Stands in for the first match while the characters before it are counted; free text from an
# EDC export holds no NUL character.
_MARK = "\u0000"


def read_patterns(path: Path) -> pl.DataFrame:
    """The identifier patterns of a CSV file (pattern, regex, description, note), each regex checked.

    A regex is Rust regex syntax (Polars): no look-around. One that does not compile, or that
    matches empty text (it would flag every record), stops the run naming its row.
    """
    if not path.is_file():
        raise InputError(path, None, "identifier pattern file not found", "give privacy.free_text_patterns the path of a CSV file")
    try:
        patterns = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise InputError(path, None, f"not a readable CSV file ({error})", "save it as UTF-8 CSV with a header line") from None
    missing = [column for column in PATTERN_COLUMNS if column not in patterns.columns]
    if missing:
        raise InputError(path, ", ".join(missing), "required column is missing", f"give the columns {', '.join(PATTERN_COLUMNS)}")
    patterns = patterns.select(pl.col(column).str.strip_chars() for column in PATTERN_COLUMNS)
    taken = {NAMES_PATTERN}
    for line, (name, regex, description, _note) in enumerate(patterns.iter_rows(), start=2):
        where = f"line {line}"
        if not name or not regex or not description:
            raise InputError(path, where, "pattern, regex and description must each be given", "fill them in, or delete the line")
        if name in taken:
            raise InputError(path, f"{where} pattern", f"pattern name {name!r} is taken", "give each pattern its own name")
        taken.add(name)
        try:
            matches_empty = pl.Series([""]).str.contains(regex).item()
        except pl.exceptions.PolarsError as error:
            raise InputError(path, f"{where} regex", f"not a valid regular expression ({error})", "correct it (Rust regex syntax: no look-around)") from None
        if matches_empty:
            raise InputError(path, f"{where} regex", "the regular expression matches empty text, so it would flag every record", "make it require at least one character")
    return patterns


def read_names(path: Path | None) -> list[str]:
    """The names of a names file: one a line; blank lines and lines starting with # are skipped."""
    if path is None:
        return []
    if not path.is_file():
        raise InputError(path, None, "names file not found", "give privacy.names_file the path of a text file, one name a line")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(path, None, "not UTF-8 text", "save the names file as UTF-8") from None
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def names_regex(names: Sequence[str]) -> str | None:
    """One case-insensitive regex for the names; None for no names.

    Spacing inside a name may vary ("Zhang  Wei"). A name that starts or ends with a Latin letter
    or digit must stand as a whole word there, so that "Wei" does not flag "weight"; a Chinese name
    has no word boundaries to rely on and matches where it stands. Longer names come first, so
    "Zhang Wei" is found whole rather than as "Zhang".
    """
    alternatives = []
    for name in sorted(set(names), key=lambda text: (-len(text), text)):
        words = [pl.escape_regex(word) for word in name.split()]
        if not words:
            continue
        regex = r"\s+".join(words)
        if name[0].isascii() and name[0].isalnum():
            regex = r"(?-u:\b)" + regex
        if name[-1].isascii() and name[-1].isalnum():
            regex += r"(?-u:\b)"
        alternatives.append(regex)
    return "(?i)(?:" + "|".join(alternatives) + ")" if alternatives else None


def scan_free_text(
    records: pl.DataFrame,
    *,
    source: str,
    file: str,
    patterns: pl.DataFrame,
    names: Sequence[str] = (),
) -> pl.DataFrame:
    """One query per record, free-text field and pattern that finds a likely identifier.

    ``records``: the source's counted records (with ``ROW``, the record key columns and
    ``subject_id``); ``patterns``: from ``read_patterns``; ``names``: from ``read_names``.
    Where two patterns find the same characters (a mobile number is also a long number), the
    pattern listed first keeps the finding. The query's ``value`` says what kind of identifier
    sits at which characters of the field (counted from 1), never the text itself.
    """
    # validators/validate.py imports this module, so its query shape is looked up here.
    from validators.validate import QUERY_SCHEMA, RECORD_KEYS

    fields = [column for column in FREE_TEXT_COLUMNS.get(source, ()) if column in records.columns]
    table = patterns.select("pattern", "regex", "description")
    regex_of_names = names_regex(names)
    if regex_of_names is not None:
        table = pl.concat([table, pl.DataFrame({"pattern": [NAMES_PATTERN], "regex": [regex_of_names], "description": [NAMES_DESCRIPTION]})])
    if not fields or table.is_empty() or records.is_empty():
        return pl.DataFrame(schema=QUERY_SCHEMA)

    record_key = pl.concat_str([pl.col(key).cast(pl.String).fill_null("?") for key in RECORD_KEYS[source]], separator="/")
    texts = (
        records.select(ROW, record_key.alias("record_key"), "subject_id", *fields)
        .unpivot(index=[ROW, "record_key", "subject_id"], on=fields, variable_name="field", value_name="text")
        .filter(pl.col("text").is_not_null())
    )
    # One pass with every pattern at once: most texts hold no identifier and go no further.
    texts = texts.filter(pl.col("text").str.contains("|".join(f"(?:{regex})" for regex in table["regex"])))
    findings = [
        texts.filter(pl.col("text").str.contains(regex)).select(
            ROW,
            "record_key",
            "subject_id",
            "field",
            pl.lit(rank).alias("rank"),
            pl.lit(pattern).alias("pattern"),
            pl.lit(description).alias("description"),
            pl.col("text").str.count_matches(regex).alias("matches"),
            # Characters (not bytes) before the first match, and its length.
            pl.col("text").str.replace(regex, _MARK).str.split(_MARK).list.first().str.len_chars().alias("start"),
            pl.col("text").str.extract(regex, 0).str.len_chars().alias("length"),
        )
        for rank, (pattern, regex, description) in enumerate(table.iter_rows())
    ]
    found = pl.concat(findings).with_columns((pl.col("start") + pl.col("length")).alias("end"))
    found = found.join(_overlapped_by_earlier(found), on=[ROW, "field", "rank"], how="anti")
    if found.is_empty():
        return pl.DataFrame(schema=QUERY_SCHEMA)

    identity = pl.concat_str([pl.lit(source), pl.col("record_key"), pl.col("field"), pl.col("pattern")], separator="|")
    located = pl.format("{} at characters {}-{}", pl.col("description"), pl.col("start") + 1, pl.col("end"))
    return (
        found.sort(ROW, "field", "rank")
        .select(
            identity.map_elements(lambda text: "Q-" + hashlib.sha256(text.encode()).hexdigest()[:10], return_dtype=pl.String).alias("query_id"),
            pl.lit(source).alias("source"),
            pl.lit(file).alias("file"),
            pl.col(ROW).cast(pl.Int64).alias("row"),
            "record_key",
            "subject_id",
            "field",
            pl.when(pl.col("matches") > 1)
            .then(pl.format("{} (first of {} matches)", located, pl.col("matches")))
            .otherwise(located)
            .alias("value"),
            pl.lit(CHECK).alias("check"),
            pl.format(
                "{} may hold a personal identifier ({}, pattern {}); free text must not identify a person",
                pl.col("field"), pl.col("description"), pl.col("pattern"),
            ).alias("problem"),
            pl.lit("counted").alias("effect"),
            pl.lit(READING).alias("reading"),
            pl.lit(FIX).alias("fix"),
        )
        .cast(QUERY_SCHEMA)
    )


def _overlapped_by_earlier(found: pl.DataFrame) -> pl.DataFrame:
    """(ROW, field, rank) of each finding whose first match overlaps that of a pattern listed earlier."""
    earlier = found.select(ROW, "field", pl.col("rank").alias("earlier_rank"), pl.col("start").alias("earlier_start"), pl.col("end").alias("earlier_end"))
    return (
        found.join(earlier, on=[ROW, "field"])
        .filter(
            (pl.col("earlier_rank") < pl.col("rank"))
            & (pl.col("earlier_start") < pl.col("end"))
            & (pl.col("start") < pl.col("earlier_end"))
        )
        .select(ROW, "field", "rank")
        .unique()
    )
