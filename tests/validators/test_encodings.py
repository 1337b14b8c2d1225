"""Text encodings of source files: declared, detected, and text read in the wrong one.

The mini trial's adverse-events file (tests/data/mini) is ASCII; here some verbatim terms are
Chinese. Its accounting as given is 14 rows = 9 clean + 3 counted with queries + 2 excluded
(tests/validators/test_validate.py); AE1 (line 2) and AE5 (line 6) are clean records.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

from ctcae.terms import load_curated_dictionary
from tests.conftest import make_mini_trial
from trial.config import load_trial_config
from trial.errors import InputError
from validators.encodings import gb18030_reading, reads_as_chinese
from validators.read import read_source
from validators.validate import validate_trial

# "头痛" (headache) in GBK is the bytes CD B7 CD B4, which are also valid UTF-8: U+0377 U+0374
# (written with escapes: U+0374 has a look-alike, U+02B9, that editors substitute).
HEADACHE = "头痛"
HEADACHE_AS_UTF8 = "\u0377\u0374"
# "乏力" (fatigue) and "恶心" (nausea) in GBK are not valid UTF-8 (B7 A6 C1 A6; B6 F1 D0 C4).
FATIGUE, NAUSEA = "乏力", "恶心"


def trial_with_terms(tmp_path: Path, terms: dict[str, str], *, encoding: str, declared: str | None = None) -> Path:
    """The mini trial with some AEs' verbatim terms replaced (ae_id -> term), the file written in
    ``encoding`` and, when given, ``declared`` as its encoding in the trial config."""
    folder = tmp_path / "trial"
    config = make_mini_trial(folder)
    if declared is not None:
        text = config.read_text().replace(
            '[sources.adverse_events]\npath = "adverse_events.csv"\n',
            f'[sources.adverse_events]\npath = "adverse_events.csv"\nencoding = "{declared}"\n',
        )
        assert f'encoding = "{declared}"' in text
        config.write_text(text)
    ae_file = folder / "adverse_events.csv"
    lines = ae_file.read_text().splitlines()
    for number, line in enumerate(lines):
        fields = line.split(",")
        if fields[0] in terms:
            fields[2] = terms[fields[0]]
            lines[number] = ",".join(fields)
    ae_file.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return config


def verbatim_terms(raw) -> dict[str, str]:
    return dict(raw.frame.select("ae_id", "verbatim_term").iter_rows())


def validate(config: Path):
    return validate_trial(load_trial_config(config), load_curated_dictionary("5.0"))


def test_a_gbk_file_is_detected_and_read_as_gb18030(tmp_path, caplog):
    """A GBK export with 乏力 for AE5 and 恶心 for AE8 is not valid UTF-8; as GB18030 it reads as
    two everyday Chinese words, so it is read so, with one warning naming the setting."""
    config = trial_with_terms(tmp_path, {"AE5": FATIGUE, "AE8": NAUSEA}, encoding="gbk")
    with caplog.at_level(logging.WARNING, logger="toxwatch"):
        raw = read_source(load_trial_config(config), "adverse_events")
    assert raw.encoding == "gb18030"
    terms = verbatim_terms(raw)
    assert (terms["AE5"], terms["AE8"], terms["AE1"]) == (FATIGUE, NAUSEA, "high blood pressure")
    assert raw.malformed.is_empty() and raw.reasons.is_empty()
    [warning] = [record.getMessage() for record in caplog.records if record.name == "toxwatch"]
    assert "adverse_events.csv is not valid UTF-8 and reads as GB18030" in warning
    assert 'encoding = "gb18030"' in warning


def test_a_gbk_file_with_a_broken_byte_is_still_gb18030(tmp_path):
    """The same export with byte FF (valid in no encoding of Chinese) in AE2's line: the file is
    read as GB18030 and line 3 alone is excluded, naming the byte."""
    config = trial_with_terms(tmp_path, {"AE5": FATIGUE, "AE8": NAUSEA, "AE2": "crisis@"}, encoding="gbk")
    ae_file = config.parent / "adverse_events.csv"
    ae_file.write_bytes(ae_file.read_bytes().replace(b"crisis@", b"crisis\xff"))
    raw = read_source(load_trial_config(config), "adverse_events")
    assert raw.encoding == "gb18030"
    assert verbatim_terms(raw)["AE5"] == FATIGUE
    assert raw.malformed.select("_row", "field", "problem").rows() == [
        (3, "verbatim_term", "line 3 has bytes that are not valid GB18030 (0xFF in verbatim_term)")
    ]
    assert raw.frame.height == 13


def test_a_declared_encoding_is_used_without_a_warning(tmp_path, caplog):
    config = trial_with_terms(tmp_path, {"AE5": FATIGUE}, encoding="gb18030", declared="gb18030")
    with caplog.at_level(logging.WARNING, logger="toxwatch"):
        raw = read_source(load_trial_config(config), "adverse_events")
    assert (raw.encoding, verbatim_terms(raw)["AE5"]) == ("gb18030", FATIGUE)
    assert not [record for record in caplog.records if record.name == "toxwatch"]


def test_a_declared_latin1_file_reads_its_accents(tmp_path):
    """The byte E9 is é in Latin-1: "fatigué", no query."""
    config = trial_with_terms(tmp_path, {"AE5": "fatigué"}, encoding="latin-1", declared="latin-1")
    result = validate(config)
    records = result.sources["adverse_events"].records
    assert records.filter(pl.col("ae_id") == "AE5")["verbatim_term"].to_list() == ["fatigué"]
    assert result.queries.filter(pl.col("check").is_in(["row_format", "text_encoding"])).is_empty()


def test_a_latin1_file_is_not_taken_for_chinese(tmp_path):
    """Undeclared Latin-1 "Cafés" (E9 73) reads as GB18030 too, into the rare character 閟 of GBK's
    extension rows, not everyday Chinese: the file stays UTF-8, and its line is a row_format query."""
    config = trial_with_terms(tmp_path, {"AE5": "Cafés"}, encoding="latin-1")
    raw = read_source(load_trial_config(config), "adverse_events")
    assert raw.encoding == "utf-8"
    assert raw.malformed.select("_row", "problem").rows() == [(6, "line 6 has bytes that are not valid UTF-8 (0xE9 in verbatim_term)")]


def test_gbk_text_that_happens_to_be_utf8_is_queried_and_counted(tmp_path, caplog):
    """AE5's verbatim term is 头痛 saved as GBK in a file otherwise ASCII: its bytes are valid
    UTF-8, so the file reads as UTF-8 and the term as "\u0377\u0374". The value is queried (text_encoding,
    counted as given) with its GB18030 reading, and the record is counted with a query:
    14 rows = 8 clean + 4 counted with queries + 2 excluded."""
    config = trial_with_terms(tmp_path, {"AE5": HEADACHE}, encoding="gbk")
    assert HEADACHE.encode("gbk").decode("utf-8") == HEADACHE_AS_UTF8
    with caplog.at_level(logging.WARNING, logger="toxwatch"):
        result = validate(config)
    counts = result.sources["adverse_events"].accounting
    assert (counts["rows_in"], counts["clean"], counts["counted_with_queries"], counts["excluded"]) == (14, 8, 4, 2)
    [query] = result.queries.filter(pl.col("check") == "text_encoding").to_dicts()
    assert (query["row"], query["record_key"], query["field"], query["value"]) == (6, "AE5", "verbatim_term", HEADACHE_AS_UTF8)
    assert query["problem"] == f"verbatim_term '{HEADACHE_AS_UTF8}' looks like GBK/GB18030 text read as UTF-8: it reads '头痛'"
    assert query["effect"] == "counted"
    assert 'encoding = "gb18030"' in query["fix"]
    records = result.sources["adverse_events"].records
    assert records.filter(pl.col("ae_id") == "AE5")["verbatim_term"].to_list() == [HEADACHE_AS_UTF8]  # counted as given
    assert any("look like GBK/GB18030 text" in record.getMessage() for record in caplog.records if record.name == "toxwatch")


def test_declaring_gb18030_reads_that_text_right(tmp_path):
    config = trial_with_terms(tmp_path, {"AE5": HEADACHE}, encoding="gbk", declared="gb18030")
    result = validate(config)
    records = result.sources["adverse_events"].records
    assert records.filter(pl.col("ae_id") == "AE5")["verbatim_term"].to_list() == [HEADACHE]
    assert result.queries.filter(pl.col("check") == "text_encoding").is_empty()


def test_chinese_written_in_utf8_is_not_queried(tmp_path):
    config = trial_with_terms(tmp_path, {"AE5": FATIGUE, "AE1": HEADACHE}, encoding="utf-8")
    result = validate(config)
    assert result.queries.filter(pl.col("check") == "text_encoding").is_empty()
    assert result.sources["adverse_events"].accounting["clean"] == 9


@pytest.mark.parametrize(
    ("value", "reading"),
    [
        (HEADACHE_AS_UTF8, HEADACHE),  # CD B7 CD B4
        ("\u01b6\u046a", "贫血"),  # anaemia, C6 B6 D1 AA
        ("grade 2 " + HEADACHE_AS_UTF8, "grade 2 头痛"),  # ASCII around it is kept
        (HEADACHE, None),  # real Chinese in UTF-8 has CJK characters
        ("β-HCG", None),  # CE B2 reads as one character
        ("37.5°C, 5 µmol/L", None),  # C2 B0 and C2 B5 read as two characters, but apart
        ("José", None),
        ("Müller-Lüdenscheidt", None),
        ("Слабость", None),  # Cyrillic weakness: its D1 81 is no GB2312 character
        ("tiredness", None),
    ],
)
def test_what_is_taken_for_gbk_read_as_utf8(value, reading):
    assert gb18030_reading(value) == reading


def test_chinese_share_of_a_text():
    assert reads_as_chinese("ae_id,verbatim_term\nAE1,乏力\nAE2,恶心呕吐\n")
    assert not reads_as_chinese("ae_id,verbatim_term\nAE1,tiredness\n")  # no non-ASCII text to judge
    assert not reads_as_chinese(b"Caf\xe9s".decode("gb18030"))


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    """A UTF-8 file with a byte-order mark, read whole and (with a blank line) line by line."""
    for blank in ("", "\n"):
        config = make_mini_trial(tmp_path / f"bom{len(blank)}")
        ae_file = config.parent / "adverse_events.csv"
        text = ae_file.read_text()
        first_end = text.index("\n") + 1
        ae_file.write_bytes(b"\xef\xbb\xbf" + (text[:first_end] + blank + text[first_end:]).encode())
        raw = read_source(load_trial_config(config), "adverse_events")
        assert raw.frame["ae_id"][0] == "AE1"
        assert raw.frame["_row"][0] == 2 + len(blank)


@pytest.mark.parametrize(
    ("encoding", "problem"),
    [
        ("utf8x", 'unknown text encoding \'utf8x\' (e.g. "utf-8", "gb18030", "latin-1")'),
        ("hex", 'unknown text encoding \'hex\' (e.g. "utf-8", "gb18030", "latin-1")'),
        ("utf-16", "encoding 'utf-16' is not ASCII-compatible (UTF-16 and UTF-32 are not read); export the file as UTF-8"),
    ],
)
def test_an_unusable_encoding_stops_with_file_key_and_problem(tmp_path, encoding, problem):
    config = trial_with_terms(tmp_path, {}, encoding="utf-8", declared=encoding)
    with pytest.raises(InputError) as caught:
        load_trial_config(config)
    assert (caught.value.field, caught.value.problem) == ("sources.adverse_events.encoding", problem)
    assert caught.value.file == str(config)
