"""Any data file as text: CSV (UTF-8, with a byte-order mark, GB18030), Parquet, SAS transport,
SAS datasets and Excel workbooks give the same text for the same table.

The table every route writes (three adverse events):

    AESEQ  SUBJID  AESTDT      AEDTM                AGE  WT     AETERM
    1      01      2024-01-05  2024-01-05T10:30:00  61   70.5   恶心 (nausea)
    2      02      (missing)   2024-02-29T08:05:09  --   80.25  " Headache " (spaces around it)
    3      03      2023-12-31  (missing)            45   --     (missing)

AESEQ is an integer (Parquet Int64; SAS and Excel keep every number as a float), AGE a whole
number kept as a float, WT a decimal. Read as text, every route must give:

    AESEQ "1", "2", "3"  (never "1.0")
    SUBJID "01", "02", "03"  (the leading zero kept)
    AESTDT "2024-01-05", null, "2023-12-31"
    AEDTM "2024-01-05T10:30:00", "2024-02-29T08:05:09", null
    AGE "61", null, "45"
    WT "70.5", "80.25", null
    AETERM "恶心", "Headache" (stripped), null

and ROW: lines 2, 3, 4 of a CSV file and rows 2, 3, 4 of a sheet (header = line/row 1); records
1, 2, 3 of a Parquet or SAS file. "恶心" in GB18030 is the bytes B6 F1 D0 C4, not valid UTF-8.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import openpyxl
import polars as pl
import pyreadstat
import pytest

from readers.files import FORMATS, TextTable, file_format, read_table
from tests.conftest import reference_path
from trial.errors import InputError
from validators.read import MALFORMED_SCHEMA, ROW

NAUSEA = "恶心"
COLUMNS = ["AESEQ", "SUBJID", "AESTDT", "AEDTM", "AGE", "WT", "AETERM"]
EXPECTED = {
    "AESEQ": ["1", "2", "3"],
    "SUBJID": ["01", "02", "03"],
    "AESTDT": ["2024-01-05", None, "2023-12-31"],
    "AEDTM": ["2024-01-05T10:30:00", "2024-02-29T08:05:09", None],
    "AGE": ["61", None, "45"],
    "WT": ["70.5", "80.25", None],
    "AETERM": [NAUSEA, "Headache", None],
}
LABELS = {"AESEQ": "Sequence Number", "SUBJID": "Subject Identifier", "AETERM": "Reported Term for the Adverse Event"}

CSV_TEXT = (
    "AESEQ,SUBJID,AESTDT,AEDTM,AGE,WT,AETERM\n"
    f"1,01,2024-01-05,2024-01-05T10:30:00,61,70.5,{NAUSEA}\n"
    "2,02,,2024-02-29T08:05:09,,80.25, Headache \n"
    "3,03,2023-12-31,,45,,\n"
)


def typed_table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "AESEQ": [1, 2, 3],
            "SUBJID": ["01", "02", "03"],
            "AESTDT": [dt.date(2024, 1, 5), None, dt.date(2023, 12, 31)],
            "AEDTM": [dt.datetime(2024, 1, 5, 10, 30), dt.datetime(2024, 2, 29, 8, 5, 9), None],
            "AGE": [61.0, None, 45.0],
            "WT": [70.5, 80.25, None],
            "AETERM": [NAUSEA, " Headache ", None],
        },
        schema={
            "AESEQ": pl.Int64,
            "SUBJID": pl.String,
            "AESTDT": pl.Date,
            "AEDTM": pl.Datetime("us"),
            "AGE": pl.Float64,
            "WT": pl.Float64,
            "AETERM": pl.String,
        },
    )


def write_csv(folder: Path, encoding: str) -> Path:
    path = folder / f"ae-{encoding}.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    return path


def write_parquet(folder: Path) -> Path:
    path = folder / "ae.parquet"
    typed_table().write_parquet(path)
    return path


def write_xpt(folder: Path) -> Path:
    """A SAS transport file: numbers as floats, the dates as SAS dates and date-times."""
    path = folder / "ae.xpt"
    table = typed_table().with_columns(pl.col("AESEQ").cast(pl.Float64), pl.col("AETERM").fill_null(""))
    pyreadstat.write_xport(
        table, str(path), column_labels=LABELS, variable_format={"AESTDT": "DATE9", "AEDTM": "DATETIME20"}
    )
    return path


def write_xlsx(folder: Path) -> Path:
    path = folder / "ae.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    for row in typed_table().iter_rows():
        sheet.append(list(row))
    workbook.save(path)
    return path


def assert_expected(table: TextTable, rows: list[int]) -> None:
    assert table.frame.columns == [ROW, *COLUMNS]
    assert table.frame.schema == {ROW: pl.Int64, **dict.fromkeys(COLUMNS, pl.String)}
    assert table.frame[ROW].to_list() == rows
    assert table.frame.drop(ROW).to_dict(as_series=False) == EXPECTED
    assert table.malformed.is_empty() and table.malformed.schema == MALFORMED_SCHEMA


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_reads_as_the_table(tmp_path, encoding, caplog):
    """UTF-8 with or without a byte-order mark, and GB18030 detected without being declared
    (with a warning naming the setting), read as the same text."""
    path = write_csv(tmp_path, encoding)
    with caplog.at_level(logging.WARNING, logger="toxwatch"):
        table = read_table(path)
    assert_expected(table, [2, 3, 4])
    assert table.encoding == ("gb18030" if encoding == "gb18030" else "utf-8")
    assert ("reads as GB18030" in caplog.text) == (encoding == "gb18030")
    assert table.labels == {}
    assert table.path == path


def test_csv_declared_gb18030_reads_without_warning(tmp_path, caplog):
    path = write_csv(tmp_path, "gb18030")
    with caplog.at_level(logging.WARNING, logger="toxwatch"):
        table = read_table(path, encoding="gb18030")
    assert_expected(table, [2, 3, 4])
    assert table.encoding == "gb18030"
    assert "GB18030" not in caplog.text


def test_parquet_reads_as_the_table(tmp_path):
    table = read_table(write_parquet(tmp_path))
    assert_expected(table, [1, 2, 3])
    assert table.encoding is None


def test_sas_transport_reads_as_the_table_with_its_labels(tmp_path):
    table = read_table(write_xpt(tmp_path))
    assert_expected(table, [1, 2, 3])
    assert table.labels == LABELS
    assert table.encoding == "utf-8"


def test_xlsx_reads_as_the_table(tmp_path):
    table = read_table(write_xlsx(tmp_path))
    assert_expected(table, [2, 3, 4])
    assert table.encoding is None


def test_sha256_is_of_the_file_bytes(tmp_path):
    import hashlib

    for path in (write_csv(tmp_path, "utf-8"), write_parquet(tmp_path), write_xpt(tmp_path), write_xlsx(tmp_path)):
        assert read_table(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# --- SAS datasets ----------------------------------------------------------------------------

# pyreadstat's own test file test_data/basic/sample.sas7bdat (written by SAS), with the values
# of the CSV its test suite checks it against (test_data/basic/sample.csv): five records of a
# character, a number, a date, a date-time, two coded numbers and a time; the fifth has no
# date, date-time or time. That CSV writes times with microseconds (10:10:10.000000) and
# midnight as 0:00:00; as text they read 10:10:10 and 00:00:00.
SAS_SAMPLE = {
    "mychar": ["a", "b", "c", "d", "e"],
    "mynum": ["1.1", "1.2", "-1000.3", "-1.4", "1000.3"],
    "mydate": ["2018-05-06", "1880-05-06", "1960-01-01", "1583-01-01", None],
    "dtime": ["2018-05-06T10:10:10", "1880-05-06T10:10:10", "1960-01-01T00:00:00", "1583-01-01T00:00:00", None],
    "mylabl": ["1", "2", "1", "2", "1"],
    "myord": ["1", "2", "3", "1", "1"],
    "mytime": ["10:10:10", "23:10:10", "00:00:00", "16:10:10", None],
}


def sas_sample() -> Path:
    """pyreadstat's sample.sas7bdat: in the folder TOXWATCH_SAS_SAMPLES names, or installed with pyreadstat."""
    folders = [Path(os.environ["TOXWATCH_SAS_SAMPLES"])] if os.environ.get("TOXWATCH_SAS_SAMPLES") else []
    folders.append(Path(pyreadstat.__file__).parent)
    for folder in folders:
        found = sorted(folder.rglob("sample.sas7bdat"))
        if found:
            return found[0]
    pytest.skip(
        "no .sas7bdat sample: SAS datasets cannot be written here, and pyreadstat's wheel carries no test data "
        "(set TOXWATCH_SAS_SAMPLES to a folder holding pyreadstat's test_data/basic/sample.sas7bdat)"
    )


def test_sas_dataset_reads_as_text():
    table = read_table(sas_sample())
    assert table.frame[ROW].to_list() == [1, 2, 3, 4, 5]
    assert table.frame.drop(ROW).to_dict(as_series=False) == SAS_SAMPLE
    assert table.encoding == "utf-8"


# --- text encodings of SAS transport files ----------------------------------------------------


def xpt_with_gb18030_text(folder: Path) -> Path:
    """A transport file whose AETERM holds 恶心 in GB18030 bytes (written as a 4-byte stand-in, then replaced)."""
    path = folder / "gbk.xpt"
    pyreadstat.write_xport(pl.DataFrame({"AESEQ": [1.0, 2.0], "AETERM": ["QZQZ", "Fatigue"]}), str(path))
    data = path.read_bytes()
    assert data.count(b"QZQZ") == 1
    path.write_bytes(data.replace(b"QZQZ", NAUSEA.encode("gb18030")))
    return path


def test_sas_transport_in_gb18030_is_detected(tmp_path, caplog):
    path = xpt_with_gb18030_text(tmp_path)
    with caplog.at_level(logging.WARNING, logger="toxwatch"):
        table = read_table(path)
    assert table.frame["AETERM"].to_list() == [NAUSEA, "Fatigue"]
    assert table.encoding == "gb18030"
    assert "reads as GB18030" in caplog.text


def test_sas_transport_declared_gb18030(tmp_path, caplog):
    path = xpt_with_gb18030_text(tmp_path)
    with caplog.at_level(logging.WARNING, logger="toxwatch"):
        table = read_table(path, encoding="gb18030")
    assert table.frame["AETERM"].to_list() == [NAUSEA, "Fatigue"]
    assert table.encoding == "gb18030"
    assert caplog.text == ""


def test_sas_transport_declared_utf8_but_not_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as raised:
        read_table(xpt_with_gb18030_text(tmp_path), encoding="utf-8")
    assert raised.value.field == "encoding"
    assert "not valid utf-8" in raised.value.problem


def test_sas_transport_in_latin1_must_be_declared(tmp_path):
    """"Nausée" in Latin-1 (the é is the byte E9) is not UTF-8 and does not read as Chinese:
    undeclared it stops the run naming the setting; declared "latin-1" it reads as written."""
    path = tmp_path / "latin1.xpt"
    pyreadstat.write_xport(pl.DataFrame({"AETERM": ["QZQZQZ"]}), str(path))
    path.write_bytes(path.read_bytes().replace(b"QZQZQZ", "Nausée".encode("latin-1")))
    with pytest.raises(InputError) as raised:
        read_table(path)
    assert raised.value.field == "encoding"
    assert raised.value.problem == "its text is not valid UTF-8"
    table = read_table(path, encoding="latin-1")
    assert table.frame["AETERM"].to_list() == ["Nausée"]
    assert table.encoding == "iso8859-1"


# --- numbers, dates and rows as text -----------------------------------------------------------


def test_numbers_read_alike_from_parquet_and_xlsx(tmp_path):
    """A whole float is its integer (-0.0 is 0); a decimal its shortest text with Polars'
    exponent (1e-7, not Python's 1e-07); past 2**53 a whole float keeps its float text
    (2**53 + 2 = 9007199254740994 reads 9007199254740994.0 from Parquet; a workbook keeps it as
    the integer it writes, 9007199254740994); NaN, pandas' missing number, is null."""
    values = [1.0, 0.1, 1e-7, 1e20, -0.0, 123456789012.5, -1000.3]
    expected = ["1", "0.1", "1e-7", "1e+20", "0", "123456789012.5", "-1000.3"]
    pl.DataFrame({"X": [*values, 9007199254740994.0, float("nan")]}).write_parquet(tmp_path / "n.parquet")
    assert read_table(tmp_path / "n.parquet").frame["X"].to_list() == [*expected, "9007199254740994.0", None]
    workbook = openpyxl.Workbook()
    workbook.active.append(["X"])
    for value in values:
        workbook.active.append([value])
    workbook.save(tmp_path / "n.xlsx")
    assert read_table(tmp_path / "n.xlsx").frame["X"].to_list() == expected


def test_parquet_datetimes_with_fractions_and_zones(tmp_path):
    """A fraction of a second and a time zone appear only where the value has them."""
    frame = pl.DataFrame(
        {
            "naive": [dt.datetime(2024, 1, 5, 10, 2, 3), dt.datetime(2024, 1, 5, 10, 2, 3, 500)],
            "zoned": [dt.datetime(2024, 1, 5, 10, 2, 3), dt.datetime(2024, 1, 5, 23, 0)],
            "flag": [True, False],
            "time": [dt.time(7, 38, 33), None],
        },
        schema_overrides={"zoned": pl.Datetime("us", "UTC")},
    )
    frame.write_parquet(tmp_path / "t.parquet")
    table = read_table(tmp_path / "t.parquet")
    assert table.frame.drop(ROW).to_dict(as_series=False) == {
        "naive": ["2024-01-05T10:02:03", "2024-01-05T10:02:03.000500"],
        "zoned": ["2024-01-05T10:02:03+00:00", "2024-01-05T23:00:00+00:00"],
        "flag": ["true", "false"],
        "time": ["07:38:33", None],
    }


def test_xlsx_rows_are_spreadsheet_rows(tmp_path):
    """Header on row 1; row 3 left empty is no record, so the records are rows 2 and 4. A
    date-time at midnight is a date (Excel keeps dates as date-times); a value under an empty
    header cell (column C) is kept under an empty name, as Polars names an empty CSV header."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"] = "SUBJID", "AESTDT"
    sheet["A2"], sheet["B2"] = "01", dt.datetime(2024, 3, 1)
    sheet["A4"], sheet["B4"], sheet["C4"] = "02", dt.datetime(2024, 3, 2, 14, 0), "note"
    workbook.save(tmp_path / "gap.xlsx")
    table = read_table(tmp_path / "gap.xlsx")
    assert table.frame.to_dict(as_series=False) == {
        ROW: [2, 4],
        "SUBJID": ["01", "02"],
        "AESTDT": ["2024-03-01", "2024-03-02T14:00:00"],
        "": [None, "note"],
    }


def test_xlsx_sheet_by_name(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Cover"
    workbook.active.append(["This export was made on 2026-06-30"])
    data = workbook.create_sheet("AE")
    data.append(["SUBJID", "AETERM"])
    data.append(["01", "Fatigue"])
    workbook.save(tmp_path / "edc.xlsx")
    table = read_table(tmp_path / "edc.xlsx", sheet="AE")
    assert table.frame.to_dict(as_series=False) == {ROW: [2], "SUBJID": ["01"], "AETERM": ["Fatigue"]}
    with pytest.raises(InputError) as raised:
        read_table(tmp_path / "edc.xlsx", sheet="Adverse events")
    assert raised.value.field == "sheet"
    assert "'Cover', 'AE'" in raised.value.problem


def test_csv_lines_that_are_no_record_are_set_apart(tmp_path):
    """Line 3 has four fields where the header has three: set apart with its line number; the
    records are lines 2 and 4."""
    path = tmp_path / "ae.csv"
    path.write_text("SUBJID,AETERM,AESEV\n01,Fatigue,MILD\n02,Rash, itchy,MILD\n03,Nausea,SEVERE\n")
    table = read_table(path)
    assert table.frame.to_dict(as_series=False) == {
        ROW: [2, 4],
        "SUBJID": ["01", "03"],
        "AETERM": ["Fatigue", "Nausea"],
        "AESEV": ["MILD", "SEVERE"],
    }
    assert table.malformed[ROW].to_list() == [3]
    assert table.malformed["raw_line"].to_list() == ["02,Rash, itchy,MILD"]


# --- the reference SDTM data ---------------------------------------------------------------


def test_reference_dm_reads_alike_as_parquet_and_csv():
    """pharmaversesdtm DM: 306 subjects (README) in both files. The CSV holds R's numbers as
    written ("63.0"), the Parquet file floats: a number read from Parquet is its integer text
    ("63"), so numeric columns are compared as numbers and the rest as text."""
    parquet = read_table(reference_path("sdtm", "pharmaversesdtm", "dm.parquet"))
    csv = read_table(reference_path("sdtm", "pharmaversesdtm", "dm.csv"))
    assert parquet.frame.height == csv.frame.height == 306
    assert parquet.frame[ROW].to_list() == list(range(1, 307))
    assert csv.frame[ROW].to_list() == list(range(2, 308))
    assert parquet.frame.columns == csv.frame.columns
    numeric = [name for name, dtype in pl.read_parquet_schema(parquet.path).items() if dtype.is_numeric()]
    assert numeric == ["RFICDTC", "AGE", "DMDY", "ACTARMUD"]
    for name in parquet.frame.columns:
        if name == ROW:
            continue
        from_parquet, from_csv = parquet.frame[name], csv.frame[name]
        if name in numeric:
            from_parquet, from_csv = from_parquet.cast(pl.Float64), from_csv.cast(pl.Float64)
        assert from_parquet.to_list() == from_csv.to_list(), name
    first = parquet.frame.row(0, named=True)
    assert (first["USUBJID"], first["AGE"], first["DMDY"], first["RFICDTC"]) == ("01-701-1015", "63", "-7", None)
    assert csv.frame.row(0, named=True)["AGE"] == "63.0"


def test_reference_ae_reads_alike_as_parquet_sas_transport_and_xlsx(tmp_path):
    """pharmaversesdtm AE (1191 records, README), written again as a SAS transport file and as
    a workbook from the Parquet file's values: the three give the same text. (AESEQ, a float
    in Parquet, reads "1" from all three.)"""
    source = reference_path("sdtm", "pharmaversesdtm", "ae.parquet")
    values = pl.read_parquet(source)
    pyreadstat.write_xport(values, str(tmp_path / "ae.xpt"))
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("AE")
    sheet.append(values.columns)
    for row in values.iter_rows():
        sheet.append(list(row))
    workbook.save(tmp_path / "ae.xlsx")
    parquet = read_table(source).frame.drop(ROW)
    assert parquet.height == 1191
    assert parquet["AESEQ"].head(3).to_list() == ["1", "2", "3"]
    assert read_table(tmp_path / "ae.xpt").frame.drop(ROW).equals(parquet)
    assert read_table(tmp_path / "ae.xlsx").frame.drop(ROW).equals(parquet)


# --- formats and unusable files ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ae.csv", "csv"), ("AE.CSV", "csv"), ("ae.parquet", "parquet"), ("ae.xpt", "xpt"), ("ae.sas7bdat", "sas7bdat"), ("ae.xlsx", "xlsx")],
)
def test_format_from_the_suffix(name, expected):
    assert file_format(Path(name)) == expected
    assert expected in FORMATS


def test_declared_format_wins(tmp_path):
    path = tmp_path / "ae.txt"
    path.write_text("SUBJID,AETERM\n01,Fatigue\n")
    assert file_format(path, "csv") == "csv"
    assert read_table(path, as_format="csv").frame.to_dict(as_series=False) == {ROW: [2], "SUBJID": ["01"], "AETERM": ["Fatigue"]}
    with pytest.raises(InputError) as raised:
        file_format(path, "sas")
    assert raised.value.field == "format"


def test_a_txt_file_is_a_clear_input_error(tmp_path):
    path = tmp_path / "ae.txt"
    path.write_text("SUBJID,AETERM\n01,Fatigue\n")
    with pytest.raises(InputError) as raised:
        read_table(path)
    error = raised.value
    assert error.file == str(path)
    assert ".txt" in error.problem
    assert "declare its format" in error.fix and ".csv" in error.fix


def test_an_xls_workbook_is_told_to_be_saved_as_xlsx(tmp_path):
    with pytest.raises(InputError, match="save the workbook as .xlsx"):
        file_format(tmp_path / "ae.xls")


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "ae.xpt")
    with pytest.raises(InputError, match="is a folder"):
        read_table(tmp_path, as_format="csv")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ae.parquet", "cannot be read as Parquet"),
        ("ae.xpt", "cannot be read as a SAS transport (.xpt) file"),
        ("ae.sas7bdat", "cannot be read as a SAS dataset (.sas7bdat) file"),
        ("ae.xlsx", "cannot be read as an Excel workbook (.xlsx)"),
    ],
)
def test_a_file_not_in_its_format_is_an_input_error(tmp_path, name, problem):
    path = tmp_path / name
    path.write_text("SUBJID,AETERM\n01,Fatigue\n")
    with pytest.raises(InputError) as raised:
        read_table(path)
    assert raised.value.problem.startswith(problem)
    assert raised.value.file == str(path)


def test_a_csv_file_given_as_xpt_by_its_suffix_is_an_input_error_not_a_traceback(tmp_path):
    path = tmp_path / "ae.xpt"
    path.write_bytes(write_parquet(tmp_path).read_bytes())
    with pytest.raises(InputError, match="SAS transport"):
        read_table(path)


def test_settings_that_do_not_apply_are_input_errors(tmp_path):
    with pytest.raises(InputError) as raised:
        read_table(write_parquet(tmp_path), encoding="gb18030")
    assert raised.value.field == "encoding"
    with pytest.raises(InputError) as raised:
        read_table(write_csv(tmp_path, "utf-8"), sheet="AE")
    assert raised.value.field == "sheet"
    with pytest.raises(InputError) as raised:
        read_table(write_csv(tmp_path, "utf-8"), encoding="klingon")
    assert raised.value.field == "encoding"


def test_a_parquet_column_of_lists_is_an_input_error(tmp_path):
    pl.DataFrame({"SUBJID": ["01"], "DOSES": [[1, 2]]}).write_parquet(tmp_path / "ex.parquet")
    with pytest.raises(InputError) as raised:
        read_table(tmp_path / "ex.parquet")
    assert raised.value.field == "DOSES"
    assert "export the column as text" in raised.value.fix


def test_an_empty_sheet_is_an_input_error(tmp_path):
    openpyxl.Workbook().save(tmp_path / "empty.xlsx")
    with pytest.raises(InputError, match="no header row"):
        read_table(tmp_path / "empty.xlsx")


@pytest.mark.parametrize("kind", ["csv", "parquet", "xlsx"])
def test_a_column_named_like_the_row_number_is_an_input_error(tmp_path, kind):
    frame = pl.DataFrame({"SUBJID": ["01"], ROW: ["7"]})
    path = tmp_path / f"ae.{kind}"
    if kind == "csv":
        frame.write_csv(path)
    elif kind == "parquet":
        frame.write_parquet(path)
    else:
        workbook = openpyxl.Workbook()
        workbook.active.append(frame.columns)
        workbook.active.append(frame.row(0))
        workbook.save(path)
    with pytest.raises(InputError) as raised:
        read_table(path)
    assert raised.value.field == ROW
