"""Row-level reading: one malformed line costs that line, never the file.

The failures come from a fault campaign on the hand-made mini trial (tests/data/mini). Its
adverse-events file has a header (line 1) and AE1-AE14 on lines 2-15; validated as given it is
14 rows = 9 clean + 3 counted with queries (AE10, AE12, AE13) + 2 excluded (AE11, AE14)
(tests/validators/test_validate.py). AE5 (line 6, subject S2, "tiredness", Fatigue grade 1) is
a clean record, so breaking its line moves one row from clean to excluded:
14 rows = 8 clean + 3 counted with queries + 3 excluded.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from ctcae.terms import load_curated_dictionary
from tests.conftest import make_mini_trial
from trial.config import load_trial_config
from trial.errors import InputError
from validators import read
from validators.read import read_source
from validators.validate import validate_trial

AE5 = "AE5,S2,tiredness,Fatigue,,1,2025-04-30,,N,,not_recovered,unlikely,unlikely,not_applicable,not_applicable,"


def trial_with_ae_lines(tmp_path: Path, edit) -> Path:
    """The mini trial with its adverse-events lines (header first, no line ends) edited; returns trial.toml."""
    config = make_mini_trial(tmp_path / "trial")
    ae_file = config.parent / "adverse_events.csv"
    lines = ae_file.read_text().splitlines()
    assert lines[5] == AE5
    ae_file.write_text("\n".join(edit(lines)) + "\n")
    return config


def with_ae5(text: str):
    def edit(lines: list[str]) -> list[str]:
        return lines[:5] + [text] + lines[6:]
    return edit


def validate(config: Path):
    return validate_trial(load_trial_config(config), load_curated_dictionary("5.0"))


def accounting(result, source: str = "adverse_events") -> tuple[int, int, int, int]:
    counts = result.sources[source].accounting
    return counts["rows_in"], counts["clean"], counts["counted_with_queries"], counts["excluded"]


def row_format_queries(result) -> list[dict]:
    return result.queries.filter(pl.col("check") == "row_format").to_dicts()


def test_an_unquoted_comma_excludes_its_line_and_the_rest_is_read(tmp_path):
    """AE5's verbatim term typed "tiredness, mild" without quotes: line 6 has 17 fields and the
    header 16. It is excluded with one query; the other 13 records are read as before:
    14 rows = 8 clean + 3 counted with queries + 3 excluded (AE11, AE14, line 6)."""
    line = AE5.replace("tiredness", "tiredness, mild")
    result = validate(trial_with_ae_lines(tmp_path, with_ae5(line)))
    assert accounting(result) == (14, 8, 3, 3)
    [query] = row_format_queries(result)
    assert (query["file"], query["row"], query["field"], query["value"]) == ("adverse_events.csv", 6, None, line)
    assert query["problem"] == "line 6 has 17 fields; the header has 16"
    assert query["fix"] == "quote the value that contains a comma, or remove the extra comma"
    assert query["effect"] == "excluded"
    records = result.sources["adverse_events"].records
    assert "AE5" not in records["ae_id"].to_list()
    assert records.filter(pl.col("ae_id") == "AE6")["_row"].to_list() == [7]  # the rest keeps its lines


def test_a_line_with_a_field_too_few_is_excluded(tmp_path):
    """AE5 with the comma between verbatim and coded term lost: 15 fields, header 16."""
    line = AE5.replace("tiredness,Fatigue", "tiredness Fatigue")
    result = validate(trial_with_ae_lines(tmp_path, with_ae5(line)))
    assert accounting(result) == (14, 8, 3, 3)
    [query] = row_format_queries(result)
    assert query["problem"] == "line 6 has 15 fields; the header has 16"
    assert "an empty value still needs its comma" in query["fix"]


def test_an_unbalanced_quote_is_one_query_cut_short_and_the_rest_is_read(tmp_path):
    """AE5's verbatim term opens a quote that never closes, after 300 characters of text. Read as
    CSV the quote would swallow every later line (the fault: a 6.8 KB message of raw records).
    Here line 6 alone is excluded, its query shows the first 119 characters and "…" (120), the
    excluded record keeps the whole line, and AE6-AE14 are read:
    14 rows = 8 clean + 3 counted with queries + 3 excluded."""
    long_text = "tiredness " * 30
    line = AE5.replace("tiredness", '"' + long_text)
    result = validate(trial_with_ae_lines(tmp_path, with_ae5(line)))
    assert accounting(result) == (14, 8, 3, 3)
    [query] = row_format_queries(result)
    assert (query["row"], query["field"]) == (6, "verbatim_term")
    assert query["problem"] == "line 6 opens a quote in verbatim_term that is not closed"
    assert query["value"] == line[:119] + "…"
    assert len(query["value"]) == 120
    assert query["fix"] == 'close the quote, or double a quote that belongs to the value ("")'
    excluded = result.sources["adverse_events"].excluded.filter(pl.col("_row") == 6).row(0, named=True)
    assert excluded["raw_line"] == line
    assert excluded["reasons"] == "line 6 opens a quote in verbatim_term that is not closed"
    assert result.sources["adverse_events"].records["ae_id"].to_list()[-1] == "AE13"  # AE14 is excluded as before


@pytest.mark.parametrize("closing_line", [6, 8])
def test_a_quote_left_open_does_not_swallow_the_records_after_it(tmp_path, closing_line):
    """AE5 (line 6) opens a quote and a stray quote after AE6's "nasopharyngeal" (line 7) or AE8's
    "diarrhoea" (line 9) would close it. As CSV the lines between make one value of AE5 with the
    right number of fields, and the fatal bleed AE6 would vanish from the counts. A value over
    several lines holding a record's commas (15 here) is taken for a quote left open instead:
    line 6 is excluded, and the line with the stray quote is a record with a quote in a value.
    14 rows = 8 clean + 3 counted with queries + 3 excluded (AE11, AE14, line 6)."""
    def edit(lines):
        lines = list(lines)
        lines[5] = AE5.replace("tiredness", '"tiredness')
        lines[closing_line] = lines[closing_line].replace("nasopharyngeal", 'nasopharyngeal"').replace("diarrhoea", 'diarrhoea"')
        return lines

    result = validate(trial_with_ae_lines(tmp_path, edit))
    assert accounting(result) == (14, 8, 3, 3)
    assert [query["row"] for query in row_format_queries(result)] == [6]
    records = result.sources["adverse_events"].records
    assert {"AE6", "AE7", "AE8"} <= set(records["ae_id"].to_list())
    assert records.filter(pl.col("ae_id") == "AE6")["grade"].to_list() == [5]


def test_a_latin1_byte_in_a_utf8_file_is_that_lines_query(tmp_path):
    """AE5's verbatim term "fatigué" saved in Latin-1 (é = byte 0xE9) in a UTF-8 file. The file is
    not valid UTF-8 and not Chinese GB18030 text (0xE9 then "," is no GB18030 character), so it is
    read as UTF-8 and line 6 is excluded, naming the byte and its column; the query's value
    writes the byte \\xe9. 14 rows = 8 clean + 3 counted with queries + 3 excluded."""
    config = trial_with_ae_lines(tmp_path, with_ae5(AE5.replace("tiredness", "fatigu@")))
    ae_file = config.parent / "adverse_events.csv"
    ae_file.write_bytes(ae_file.read_bytes().replace(b"fatigu@", b"fatigu\xe9"))
    result = validate(config)
    assert accounting(result) == (14, 8, 3, 3)
    [query] = row_format_queries(result)
    assert (query["row"], query["field"]) == (6, "verbatim_term")
    assert query["problem"] == "line 6 has bytes that are not valid UTF-8 (0xE9 in verbatim_term)"
    assert query["value"] == AE5.replace("tiredness", "fatigu\\xe9")
    assert 'encoding = "latin-1"' in query["fix"]


def test_blank_lines_are_skipped_and_later_lines_keep_their_numbers(tmp_path):
    """An empty line after AE2 (line 4) and a line of spaces after AE8 (line 11) are no rows: the
    accounting is the mini trial's own, 14 = 9 + 3 + 2, with no query added (the fault: a blank
    line became a quarantined row with 9 queries). Line numbers count them: AE3 is on line 5,
    AE10 (its grade queried) on line 13, AE14 on line 17."""
    def edit(lines):
        return lines[:3] + [""] + lines[3:9] + ["   "] + lines[9:]

    result = validate(trial_with_ae_lines(tmp_path, edit))
    assert accounting(result) == (14, 9, 3, 2)
    ae_queries = result.queries.filter(pl.col("source") == "adverse_events")
    assert ae_queries.height == 6  # AE10, AE12, AE13, AE11 and two for AE14, as without the blank lines
    rows = dict(result.sources["adverse_events"].records.select("ae_id", "_row").iter_rows())
    assert (rows["AE3"], rows["AE10"]) == (5, 13)
    assert ae_queries.filter(pl.col("record_key") == "AE10")["row"].to_list() == [13]
    assert set(result.sources["adverse_events"].excluded["_row"].to_list()) == {14, 17}  # AE11, AE14


def test_a_quoted_line_break_moves_later_line_numbers(tmp_path):
    """AE1's verbatim term is "high" and "blood pressure" on two lines, in quotes: AE1 starts on
    line 2 and ends on line 3, AE2 starts on line 4, and AE10's grade query is on line 12 (11
    without the break). The break is kept in the value."""
    def edit(lines):
        lines = list(lines)
        lines[1] = lines[1].replace("high blood pressure", '"high\nblood pressure"')
        return lines

    result = validate(trial_with_ae_lines(tmp_path, edit))
    assert accounting(result) == (14, 9, 3, 2)
    records = result.sources["adverse_events"].records
    rows = dict(records.select("ae_id", "_row").iter_rows())
    assert (rows["AE1"], rows["AE2"], rows["AE10"]) == (2, 4, 12)
    assert records.filter(pl.col("ae_id") == "AE1")["verbatim_term"].to_list() == ["high\nblood pressure"]
    assert result.queries.filter(pl.col("record_key") == "AE10")["row"].to_list() == [12]


def test_a_quoted_line_break_and_a_broken_line_together(tmp_path):
    """The quoted break of AE1 (lines 2-3) with an unquoted comma in AE5 (now line 7): the file is
    read line by line, AE5 is the one excluded line, and AE10 is still on line 12."""
    def edit(lines):
        lines = list(lines)
        lines[1] = lines[1].replace("high blood pressure", '"high\nblood pressure"')
        lines[5] = AE5.replace("tiredness", "tiredness, mild")
        return lines

    result = validate(trial_with_ae_lines(tmp_path, edit))
    assert accounting(result) == (14, 8, 3, 3)
    assert [(query["row"], query["problem"]) for query in row_format_queries(result)] == [
        (7, "line 7 has 17 fields; the header has 16")
    ]
    rows = dict(result.sources["adverse_events"].records.select("ae_id", "_row").iter_rows())
    assert (rows["AE1"], rows["AE2"], rows["AE10"]) == (2, 4, 12)


TRICKY = (
    # header with a quoted name; a value with a comma, a doubled quote, a line break, CRLF line ends
    '\ufeffid,"note, free",n\r\n'
    '1,"a, b",10\r\n'
    '2,"say ""hi""",20\r\n'
    '3,"two\r\nlines",30\r\n'
    '4,,40\r\n'
    '5, spaced ,50'  # no line end after the last line
)


def test_both_ways_of_reading_give_the_same_records():
    """A valid file with every CSV feature, read whole and read line by line: the same values and
    the same line numbers (id 4 starts on line 6: record 3 spans lines 4-5). The byte-order mark
    is not part of the first name; a doubled quote is one quote; a line break in a value is \\n."""
    data = TRICKY.encode("utf-8")
    whole = read._read_whole(data, encoding="utf-8", ascii_only=False)
    by_line = read._read_lines(data, codec="utf-8", path=Path("tricky.csv"))
    assert whole is not None  # nothing in it is malformed, so the fast way takes it
    assert whole.frame.columns == ["id", "note, free", "n", "_row"]
    assert by_line.malformed == []
    assert by_line.frame.to_dicts() == whole.frame.to_dicts()
    assert whole.frame.to_dicts() == [
        {"id": "1", "note, free": "a, b", "n": "10", "_row": 2},
        {"id": "2", "note, free": 'say "hi"', "n": "20", "_row": 3},
        {"id": "3", "note, free": "two\nlines", "n": "30", "_row": 4},
        {"id": "4", "note, free": None, "n": "40", "_row": 6},
        {"id": "5", "note, free": "spaced", "n": "50", "_row": 7},
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a,b,c\n1,2\n3,4,5\n",  # a field too few, which Polars would pad
        "a,b,c\n1,2,3\n\n4,5,6\n",  # a blank line, which Polars would read as a row
        "\na,b,c\n1,2,3\n",  # a blank line before the header, which Polars would skip
        "a,b,c\n1,2,3,4\n",  # a field too many
        'a,b,c\n1,"2,3\n4,5,6\n',  # a quote never closed
        "a,b,c\r1,2,3\r4,5\r",  # carriage returns alone, and a field too few
    ],
)
def test_the_fast_way_never_takes_a_file_with_a_line_that_is_no_record(text):
    """The byte count refuses these files, so the line-by-line reader gets them."""
    assert read._read_whole(text.encode(), encoding="utf-8", ascii_only=True) is None


def test_spaces_after_a_closing_quote_are_not_data():
    """Polars refuses `"b" ,`; the line-by-line reader reads it as b, like the spaces around any value."""
    text = read._read_lines(b'x,y,z\n1,"b" ,3\n', codec="utf-8", path=Path("spaces.csv"))
    assert text.malformed == []
    assert text.frame.to_dicts() == [{"x": "1", "y": "b", "z": "3", "_row": 2}]


def test_blank_lines_at_the_end_are_cut_on_the_fast_way():
    data = b"a,b\n1,2\n3,4\n\n \n\n"
    text = read._read_whole(data, encoding="utf-8", ascii_only=True)
    assert text is not None
    assert text.frame.to_dicts() == [{"a": "1", "b": "2", "_row": 2}, {"a": "3", "b": "4", "_row": 3}]


def test_a_file_of_blank_lines_has_no_header(tmp_path):
    config = make_mini_trial(tmp_path / "trial")
    (config.parent / "adverse_events.csv").write_text("\n  \n\n")
    with pytest.raises(InputError) as caught:
        read_source(load_trial_config(config), "adverse_events")
    assert caught.value.problem == "the file has no header row (it is empty or blank)"


def test_columns_not_in_the_contract_are_named_not_read(tmp_path):
    """subjects.csv with two identifier columns the contract does not have, and the adverse
    events' grade under its SDTM name AETOXGR, mapped: the subjects' result names "name" and
    "date_of_birth" as not read, the adverse events' names nothing (AETOXGR is read as grade)."""
    text = make_mini_trial(tmp_path / "m").read_text().replace(
        '[sources.adverse_events]\npath = "adverse_events.csv"\n',
        '[sources.adverse_events]\npath = "adverse_events.csv"\ncolumns = { grade = "AETOXGR" }\n',
    )
    config = make_mini_trial(tmp_path / "m", config_text=text)
    subjects = config.parent / "subjects.csv"
    lines = subjects.read_text().splitlines()
    subjects.write_text("\n".join([lines[0] + ",name,date_of_birth"] + [line + ",Li Wei,1970-01-01" for line in lines[1:]]) + "\n")
    ae_file = config.parent / "adverse_events.csv"
    ae_file.write_text(ae_file.read_text().replace(",grade,", ",AETOXGR,", 1))
    result = validate(config)
    assert result.sources["subjects"].ignored_columns == ("name", "date_of_birth")
    assert result.sources["adverse_events"].ignored_columns == ()
    assert "name" not in result.sources["subjects"].records.columns
    assert accounting(result, "subjects") == (6, 5, 1, 0)  # as without the extra columns


def test_the_two_ways_agree_on_random_files():
    """300 small files of random text, quotes, commas, line breaks, blank lines and lines with a
    field too many or too few (seeded): whenever the whole-file reader takes a file, the
    line-by-line reader finds no malformed line and reads the same records on the same lines."""
    import random

    generator = random.Random(20250701)
    alphabet = ["a", "b", " ", ",", '"', "\n", "\r\n", "é", "中", "\r", "\t"]

    def value() -> str:
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 5)))
        if generator.random() < 0.9 and (any(c in text for c in ',"\n\r') or generator.random() < 0.2):
            return '"' + text.replace('"', '""') + '"'
        return text

    taken = 0
    for _ in range(300):
        width = generator.randint(2, 6)
        line_end = generator.choice(["\n", "\r\n"])
        lines = [",".join(f"c{i}" for i in range(width))]
        for _ in range(generator.randint(0, 6)):
            kind = generator.random()
            if kind < 0.08:
                lines.append(generator.choice(["", "  "]))
            else:
                fields = width + (generator.choice([-1, 1]) if kind > 0.9 else 0)
                lines.append(",".join(value() for _ in range(fields)))
        data = (line_end.join(lines) + (line_end if generator.random() < 0.7 else "")).encode()
        whole = read._read_whole(data, encoding="utf-8", ascii_only=False)
        if whole is None:
            continue
        taken += 1
        by_line = read._read_lines(data, codec="utf-8", path=Path("random.csv"))
        assert by_line.malformed == [], data
        assert by_line.frame.to_dicts() == whole.frame.to_dicts(), data
    assert taken > 50  # the comparison is not empty
