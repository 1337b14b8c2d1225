"""Import of the NCI CTCAE workbooks: allowed grades, provenance, mapping, clear errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from ctcae.terms import load_dictionary
from ctcae.workbook import (
    NotACtcaeWorkbookError,
    allowed_grades_from_cells,
    import_workbook,
    is_grade_present,
)
from tests.conftest import reference_path

V5_WORKBOOK = "CTCAE_v5.0_2017-11-27.xlsx"
V6_WORKBOOK = "CTCAE_v6.0_Final_Clean-Tracked-Mapping_w_OS_Jan2026.xlsx"
# sha256 values published with the reference files
V5_SHA256 = "dc11095f39227ef48402eb166cefaf0933bb7a0b0cc61c187649c0b19c6f601f"
V6_SHA256 = "884a171b8c2fffa1c274dcf4333981d2136d8b3f9f574360897b8708265b91c2"


@pytest.fixture(scope="module")
def imported_home(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A toxwatch home with both NCI workbooks imported, once for the module."""
    v5 = reference_path("ctcae", V5_WORKBOOK)
    v6 = reference_path("ctcae", V6_WORKBOOK)
    home = tmp_path_factory.mktemp("toxwatch_home")
    return {"home": home, "5.0": import_workbook(v5, home=home), "6.0": import_workbook(v6, home=home)}


def reference_rows(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV, read with the csv module (an independent route)."""
    with reference_path("ctcae", name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def grades_of(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


# --- grade cells ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", [" -", "-", "\u00a0-\u00a0", " - ", "", None, "   "])
def test_absent_grade_markers(cell):
    assert is_grade_present(cell) is False


@pytest.mark.parametrize("cell", ["Death", "Steroids initiated", ">ULN and >Baseline"])
def test_present_grade_text(cell):
    assert is_grade_present(cell) is True


def test_allowed_grades_skip_absent_cells():
    assert allowed_grades_from_cells([">ULN", " -", "Steroids initiated", " -", " -"]) == [1, 3]
    assert allowed_grades_from_cells([" -", " -", " -", " -", "Death"]) == [5]


# --- a small hand-made workbook in the NCI layout -----------------------------------------


def write_mini_workbook(path: Path) -> None:
    """Two terms in the v5.0 layout, with the NBSP-padded Grade headers and " -" markers."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "CTCAE v5.0 Clean Copy"
    sheet.append(
        ["MedDRA Code", "MedDRA SOC", "CTCAE Term"]
        + [f"Grade {g} \u00a0\u00a0" for g in range(1, 6)]
        + ["Definition", "Navigational Note", "CTCAE v5.0 Change"]
    )
    sheet.append([10000001, "Soc A", "Term one", "g1", " -", "g3", " -", " -", "def", None, None])
    sheet.append([10000002, "Soc A", "Soc A - Other, specify", "g1", "g2", "g3", "g4", "g5", " -", None, None])
    sheet.append([None, None, None, None, None, None, None, None, None, None, None])
    workbook.save(path)


def test_import_of_a_workbook_in_the_nci_layout(tmp_path):
    source = tmp_path / "mini.xlsx"
    write_mini_workbook(source)
    result = import_workbook(source, home=tmp_path / "home")
    assert (result.version, result.term_count, result.mapping_path) == ("5.0", 2, None)
    table = pl.read_parquet(result.terms_path)
    assert table["ctcae_term"].to_list() == ["Term one", "Soc A - Other, specify"]
    assert table["allowed_grades"].to_list() == [[1, 3], [1, 2, 3, 4, 5]]
    assert table["other_specify"].to_list() == [False, True]
    assert table["meddra_code"].to_list() == [10000001, 10000002]


# --- files that are not CTCAE workbooks ----------------------------------------------------


def test_workbook_with_other_sheets_gives_a_clear_error(tmp_path):
    source = tmp_path / "adverse_events_export.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "AE listing"
    workbook.save(source)
    with pytest.raises(NotACtcaeWorkbookError) as caught:
        import_workbook(source, home=tmp_path / "home")
    message = str(caught.value)
    assert "adverse_events_export.xlsx" in message
    assert '"CTCAE v5.0 Clean Copy"' in message and '"CTCAE v6.0 Clean Copy"' in message
    assert '"AE listing"' in message
    assert "download" in message and "NCI" in message
    assert isinstance(caught.value, ValueError)
    assert not (tmp_path / "home" / "ctcae").exists()


def test_file_that_is_not_excel_gives_a_clear_error(tmp_path):
    source = tmp_path / "terms.xlsx"
    source.write_text("ctcae_term,grade\nAnemia,2\n", encoding="utf-8")
    with pytest.raises(NotACtcaeWorkbookError, match="terms.xlsx.*not an NCI CTCAE workbook"):
        import_workbook(source, home=tmp_path / "home")


def test_clean_copy_sheet_without_grade_columns_is_rejected(tmp_path):
    source = tmp_path / "edited.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "CTCAE v5.0 Clean Copy"
    sheet.append(["MedDRA Code", "MedDRA SOC", "CTCAE Term", "Notes"])
    workbook.save(source)
    with pytest.raises(NotACtcaeWorkbookError, match="grade_1"):
        import_workbook(source, home=tmp_path / "home")


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.xlsx"):
        import_workbook(tmp_path / "nowhere.xlsx", home=tmp_path)


# --- the real NCI workbooks ----------------------------------------------------------------


def test_import_counts_and_provenance(imported_home):
    v5, v6 = imported_home["5.0"], imported_home["6.0"]
    assert (v5.version, v5.term_count, v5.source_sha256) == ("5.0", 837, V5_SHA256)
    assert (v6.version, v6.term_count, v6.source_sha256) == ("6.0", 850, V6_SHA256)
    provenance = json.loads(v5.provenance_path.read_text(encoding="utf-8"))
    assert provenance["source_file"] == V5_WORKBOOK
    assert provenance["source_sha256"] == V5_SHA256
    assert provenance["term_count"] == 837
    assert provenance["imported_at"][:2] == "20"
    assert v5.terms_path == imported_home["home"] / "ctcae" / "terms_v5.0.parquet"
    assert v6.mapping_path == imported_home["home"] / "ctcae" / "mapping_v5.0_v6.0.parquet"


@pytest.mark.parametrize(
    ("version", "reference", "count"),
    [("5.0", "CTCAE_v5.0_terms.csv", 837), ("6.0", "CTCAE_v6.0_terms.csv", 850)],
)
def test_every_term_has_the_workbook_grades_soc_and_code(imported_home, version, reference, count):
    dictionary = load_dictionary(version, home=imported_home["home"])
    rows = reference_rows(reference)
    assert len(rows) == count == len(dictionary)
    for row in rows:
        info = dictionary.lookup(row["ctcae_term"])
        assert info is not None, row["ctcae_term"]
        assert info.allowed_grades == grades_of(row["allowed_grades"]), row["ctcae_term"]
        assert info.soc == row["meddra_soc"], row["ctcae_term"]
        assert info.meddra_code == int(row["meddra_code"]), row["ctcae_term"]
        assert info.other_specify == row["ctcae_term"].endswith("Other, specify"), row["ctcae_term"]


def test_known_grade_sets(imported_home):
    dictionary = load_dictionary("5.0", home=imported_home["home"])
    assert dictionary.lookup("Eosinophilia").allowed_grades == (1, 3)
    assert dictionary.lookup("Alopecia").allowed_grades == (1, 2)
    assert dictionary.lookup("Death NOS").allowed_grades == (5,)
    v6 = load_dictionary("6.0", home=imported_home["home"])
    assert v6.lookup("Hypertension").allowed_grades == (2, 3, 4, 5)
    assert v6.lookup("Lymphopenia").allowed_grades == (1,)


def test_twenty_six_other_specify_terms_per_version(imported_home):
    for version in ("5.0", "6.0"):
        table = load_dictionary(version, home=imported_home["home"]).table
        assert table["other_specify"].sum() == 26


def test_imported_mapping_holds_every_sheet_row(imported_home):
    mapping = pl.read_parquet(imported_home["6.0"].mapping_path)
    sheet_rows = mapping.filter(pl.col("v5_term").is_not_null())
    assert sheet_rows.height == 4070  # non-empty rows of the mapping sheet
    assert sheet_rows["v5_term"].n_unique() == 837
    platelets = sheet_rows.filter(pl.col("v5_term") == "Platelet count decreased")
    assert set(platelets["v6_term"]) == {"Thrombocytopenia"}
    assert sorted(platelets["v5_grade"].drop_nulls().to_list()) == [1, 2, 3, 4]
    hypertension_g1 = sheet_rows.filter((pl.col("v5_term") == "Hypertension") & (pl.col("v5_grade") == 1))
    assert hypertension_g1.select("v6_term", "v6_grade", "v6_other_specify").row(0) == (
        "Vascular disorders - Other, specify",
        1,
        "Hypertension",
    )


def test_imported_mapping_lists_v6_additions(imported_home):
    mapping = pl.read_parquet(imported_home["6.0"].mapping_path)
    additions = mapping.filter(pl.col("change_type") == "Addition")
    assert additions["v5_term"].null_count() == additions.height
    assert {"Hepatitis", "Diabetes mellitus", "Thyroiditis"} <= set(additions["v6_term"])
    # Thrombocytopenia is new in v6.0 but is reached from Platelet count decreased
    assert "Thrombocytopenia" not in set(additions["v6_term"])
