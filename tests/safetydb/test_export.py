"""CSV outputs neutralise spreadsheet formulas (OWASP CSV injection); Parquet keeps raw values."""

import polars as pl

from safetydb.export import write_csv


def test_formula_triggers_are_written_as_text(tmp_path):
    """Cells starting with = + - @ tab or carriage return get a leading apostrophe, which a
    spreadsheet shows as text and never runs; other text and numbers are written as they are,
    and writing an already neutralised frame again changes nothing."""
    payloads = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tx", "\rx", "nose bleed", None]
    frame = pl.DataFrame({"text": payloads, "number": [-1, 2, 3, 4, 5, 6, 7, 8]})
    path = tmp_path / "out.csv"
    write_csv(frame, path)
    back = pl.read_csv(path, infer_schema=False)
    assert back["text"].to_list() == [
        '\'=HYPERLINK("http://x","y")', "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(1)", "'\tx", "'\rx", "nose bleed", None,
    ]
    assert back["number"].to_list() == ["-1", "2", "3", "4", "5", "6", "7", "8"]
    write_csv(back.with_columns(pl.col("number").cast(pl.Int64)), tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == path.read_bytes()
