"""Reading a large source in pieces gives exactly what reading it whole gives.

``read_source_chunks`` cuts a file between lines (only when no record can span lines) and reads
each piece as ``read_source`` reads a file. The pieces put together must equal the whole
reading: the same records with the same physical line numbers, the same lines set apart as no
record, and the same values. The files here are small and the pieces tiny (a few hundred bytes),
so that cuts fall next to blank lines and malformed lines.
"""

from __future__ import annotations

import random

import polars as pl
import pytest

from tests.conftest import make_mini_trial
from trial.config import load_trial_config
from validators.read import read_source, read_source_chunks

HEADER = "subject_id,collection_date,test_code,value,unit,lln,uln\n"


def labs_text(seed: int, *, lines: int = 120) -> str:
    """Lab lines with, now and then, a blank line, a line with a field too many or too few."""
    pick = random.Random(seed)
    out = [HEADER]
    for index in range(lines):
        roll = pick.random()
        if roll < 0.05:
            out.append("\n")
        elif roll < 0.08:
            out.append(f"S{index % 6 + 1},2025-02-{index % 27 + 1:02d},ALT,{index},U/L,0,40,extra\n")
        elif roll < 0.10:
            out.append(f"S{index % 6 + 1},2025-02-{index % 27 + 1:02d},ALT\n")
        else:
            out.append(f"S{index % 6 + 1},2025-02-{index % 27 + 1:02d},ALT,{index},U/L,0,40\n")
    return "".join(out)


def whole_and_pieces(tmp_path, text: bytes | str, chunk_bytes: int):
    config_path = make_mini_trial(tmp_path / "trial")
    labs = config_path.parent / "labs.csv"
    labs.write_bytes(text.encode() if isinstance(text, str) else text)
    config = load_trial_config(config_path)
    return read_source(config, "labs"), list(read_source_chunks(config, "labs", chunk_bytes=chunk_bytes))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("chunk_bytes", [64, 300, 1000])
def test_pieces_put_together_equal_the_whole_reading(tmp_path, seed, chunk_bytes):
    whole, pieces = whole_and_pieces(tmp_path, labs_text(seed), chunk_bytes)
    assert len(pieces) > 1
    assert pl.concat([piece.frame for piece in pieces]).equals(whole.frame)
    assert pl.concat([piece.malformed for piece in pieces]).equals(whole.malformed)
    assert {piece.sha256 for piece in pieces} == {whole.sha256}


def test_a_line_set_apart_keeps_its_physical_line_number(tmp_path):
    """Line 1 header, lines 2-4 records, line 5 blank, line 6 a field too many, line 7 a record.
    With pieces of 40 bytes every line is its own piece."""
    text = HEADER + "S1,2025-02-01,ALT,10,U/L,0,40\n" * 3 + "\n" + "S1,2025-02-02,ALT,11,U/L,0,40,9\n" + "S1,2025-02-03,ALT,12,U/L,0,40\n"
    _, pieces = whole_and_pieces(tmp_path, text, 40)
    assert pl.concat([piece.frame for piece in pieces])["_row"].to_list() == [2, 3, 4, 7]
    assert pl.concat([piece.malformed for piece in pieces])["_row"].to_list() == [6]


def quoted_text(seed: int) -> str:
    """Lines some of which have a quoted value holding a comma, a line break, or a quote never
    closed."""
    pick = random.Random(seed)
    out = [HEADER]
    for index in range(80):
        roll = pick.random()
        if roll < 0.15:
            out.append(f'S1,2025-02-01,ALT,{index},"U/L, as sent",0,40\n')
        elif roll < 0.25:
            out.append(f'S1,2025-02-01,ALT,{index},"U/L\nsecond line",0,40\n')
        elif roll < 0.27:
            out.append(f'S1,2025-02-01,ALT,{index},"U/L,0,40\n')
        else:
            out.append(f"S1,2025-02-01,ALT,{index},U/L,0,40\n")
    return "".join(out)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk_bytes", [50, 400])
def test_a_file_with_quotes_is_read_as_whole(tmp_path, seed, chunk_bytes):
    """Cut only when no line holds an odd number of quotes; the pieces equal the whole reading."""
    whole, pieces = whole_and_pieces(tmp_path, quoted_text(seed), chunk_bytes)
    assert pl.concat([piece.frame for piece in pieces]).equals(whole.frame)
    assert pl.concat([piece.malformed for piece in pieces]).equals(whole.malformed)


def test_a_file_whose_quotes_close_on_their_line_is_cut(tmp_path):
    text = HEADER + 'S1,2025-02-01,ALT,10,"U/L, as sent",0,40\n' * 20
    whole, pieces = whole_and_pieces(tmp_path, text, 100)
    assert len(pieces) > 1
    assert pl.concat([piece.frame for piece in pieces]).equals(whole.frame)


@pytest.mark.parametrize(
    "text",
    [
        HEADER + 'S1,2025-02-01,ALT,10,"U/L\nas sent",0,40\n' * 20,  # a quoted value over two lines
        (HEADER + "S1,2025-02-01,ALT,10,U/L,0,40\n" * 20 + "S1,2025-02-01,ALT,caf\xe9,U/L,0,40\n").encode("latin-1"),  # not UTF-8
    ],
)
def test_a_file_that_cannot_be_cut_safely_is_read_whole(tmp_path, text):
    whole, pieces = whole_and_pieces(tmp_path, text, 64)
    assert len(pieces) == 1
    assert pieces[0].frame.equals(whole.frame) and pieces[0].malformed.equals(whole.malformed)
