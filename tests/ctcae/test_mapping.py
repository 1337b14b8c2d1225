"""CTCAE v5.0 <-> v6.0 term mapping, curated and imported, checked against NCI's mapping sheet."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from ctcae.mapping import map_term, mapping_table
from ctcae.terms import load_curated_dictionary
from ctcae.workbook import import_workbook
from tests.conftest import REPO_ROOT, reference_path

CURATED_MAPPING = REPO_ROOT / "data" / "ctcae" / "mapping_v5.0_v6.0.csv"


def curated_mapping_rows() -> list[dict[str, str]]:
    with CURATED_MAPPING.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def nci_mapping() -> dict[tuple[str, str], list[dict[str, str]]]:
    """NCI's grade-level rows grouped by (v5 term, v6 term), from the reference CSV."""
    path = reference_path("ctcae", "CTCAE_v5.0_to_v6.0_mapping.csv")
    grouped: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            grouped[(row["v5_ctcae_term"], row["v6_ctcae_term"])].append(row)
    return grouped


@pytest.fixture(scope="module")
def imported_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("toxwatch_home")
    import_workbook(reference_path("ctcae", "CTCAE_v5.0_2017-11-27.xlsx"), home=home)
    import_workbook(reference_path("ctcae", "CTCAE_v6.0_Final_Clean-Tracked-Mapping_w_OS_Jan2026.xlsx"), home=home)
    return home


@pytest.fixture
def curated_home(tmp_path) -> Path:
    return tmp_path  # nothing imported: the curated mapping is used


# --- pinned facts of NCI's mapping sheet (same answers from curated and imported) -----------


@pytest.fixture(params=["curated", "imported"])
def home(request, curated_home):
    if request.param == "curated":
        return curated_home
    return request.getfixturevalue("imported_home")


def targets(term: str, home: Path, **kwargs) -> list[str | None]:
    return [item.to_term for item in map_term(term, "5.0", "6.0", home=home, **kwargs)]


def test_platelet_count_decreased_becomes_thrombocytopenia(home):
    (mapped,) = map_term("Platelet count decreased", "5.0", "6.0", home=home)
    assert mapped.to_term == "Thrombocytopenia"
    assert mapped.change_type == "Deletion"
    assert mapped.grade_map == ((1, 1), (2, 2), (3, 3), (4, 4))


def test_proteinuria_becomes_urinary_protein_increased(home):
    assert targets("Proteinuria", home) == ["Urinary protein increased"]


def test_renamed_terms(home):
    assert targets("Lung infection", home) == ["Pneumonia"]
    assert targets("Lymphocyte count decreased", home) == ["Lymphopenia"]
    assert targets("CPK increased", home) == ["Investigations - Other, specify"]
    assert map_term("CPK increased", "5.0", "6.0", home=home)[0].other_specify == "CPK increased"


def test_hypertension_grade_1_moves_to_other_specify(home):
    assert targets("Hypertension", home) == ["Hypertension", "Vascular disorders - Other, specify"]
    (grade_1,) = map_term("Hypertension", "5.0", "6.0", grade=1, home=home)
    assert (grade_1.to_term, grade_1.other_specify) == ("Vascular disorders - Other, specify", "Hypertension")
    (grade_3,) = map_term("Hypertension", "5.0", "6.0", grade=3, home=home)
    assert (grade_3.to_term, grade_3.target_grades(3)) == ("Hypertension", (3,))


def test_lymphocyte_grades_collapse_to_grade_1(home):
    (mapped,) = map_term("lymphocyte count DECREASED", "5.0", "6.0", home=home)
    assert [mapped.target_grades(g) for g in (1, 2, 3, 4)] == [(1,), (1,), (1,), (1,)]


def test_unchanged_term_maps_to_itself(home):
    (mapped,) = map_term("Epistaxis", "5.0", "6.0", home=home)
    assert mapped.to_term == "Epistaxis"


def test_reverse_direction(home):
    assert [m.to_term for m in map_term("Thrombocytopenia", "6.0", "5.0", home=home)] == ["Platelet count decreased"]
    hematochezia = {m.to_term for m in map_term("Hematochezia", "6.0", "5.0", home=home)}
    assert {"Rectal hemorrhage", "Lower gastrointestinal hemorrhage", "Anal hemorrhage"} <= hematochezia
    (lymphopenia,) = map_term("Lymphopenia", "6.0", "5.0", home=home)
    assert lymphopenia.target_grades(1) == (1, 2, 3, 4)


def test_v6_addition_has_no_v5_counterpart(home):
    (hepatitis,) = map_term("Hepatitis", "6.0", "5.0", home=home)
    assert (hepatitis.to_term, hepatitis.change_type) == (None, "Addition")


def test_same_version_is_identity(home):
    (mapped,) = map_term("Alopecia", "5.0", "5.0", home=home)
    assert (mapped.to_term, mapped.grade_map) == ("Alopecia", ((1, 1), (2, 2)))


def test_unknown_term_maps_to_nothing(home):
    assert map_term("Not a CTCAE term", "5.0", "6.0", home=home) == []


def test_mapping_table_for_pooling(home):
    table = mapping_table("5.0", "6.0", terms=["Proteinuria", "Hypertension", "Fatigue"], home=home)
    assert table.columns == [
        "from_version", "from_term", "to_version", "to_term", "change_type", "grade_map", "other_specify"
    ]
    assert table.select("from_term", "to_term").rows() == [
        ("Fatigue", "Fatigue"),
        ("Hypertension", "Hypertension"),
        ("Hypertension", "Vascular disorders - Other, specify"),
        ("Proteinuria", "Urinary protein increased"),
    ]
    assert set(table["from_version"]) == {"5.0"} and set(table["to_version"]) == {"6.0"}
    reverse = mapping_table("6.0", "5.0", terms=["Lymphopenia"], home=home)
    assert reverse["grade_map"].to_list() == ["1->1; 1->2; 1->3; 1->4"]


def test_unknown_version_is_rejected(home):
    with pytest.raises(ValueError, match="supported versions"):
        mapping_table("4.0", "5.0", home=home)


# --- the curated mapping file against NCI's sheet ------------------------------------------


def test_curated_mapping_pairs_agree_with_nci(nci_mapping):
    nci_targets: dict[str, set[str]] = defaultdict(set)
    for v5_term, v6_term in nci_mapping:
        nci_targets[v5_term].add(v6_term)
    curated_targets: dict[str, set[str]] = defaultdict(set)
    for row in curated_mapping_rows():
        if not row["v5_term"]:
            continue
        pair = (row["v5_term"], row["v6_term"])
        assert pair in nci_mapping, pair
        nci_rows = nci_mapping[pair]
        assert row["change_type"] in {r["change_type"] for r in nci_rows}, pair
        nci_grades = {
            (r["v5_grade_definition_or_note"], r["v6_grade_definition_or_note"])
            for r in nci_rows
            if r["v5_grade_definition_or_note"].startswith("Grade")
        }
        for part in filter(None, row["grade_map"].split("; ")):
            source, target = part.split("->")
            assert (f"Grade {source}", f"Grade {target}") in nci_grades, (pair, part)
        assert len(list(filter(None, row["grade_map"].split("; ")))) == len(nci_grades), pair
        curated_targets[row["v5_term"]].add(row["v6_term"])
    for v5_term, mapped in curated_targets.items():
        assert mapped == nci_targets[v5_term], v5_term


def test_curated_additions_are_new_in_v6(nci_mapping):
    reached = {v6_term for _, v6_term in nci_mapping}
    additions = [row for row in curated_mapping_rows() if not row["v5_term"]]
    assert additions
    for row in additions:
        assert row["change_type"] == "Addition"
        assert row["v6_term"] not in reached, row["v6_term"]


def test_curated_mapping_covers_the_curated_tables():
    v5 = load_curated_dictionary("5.0")
    v6 = load_curated_dictionary("6.0")
    rows = curated_mapping_rows()
    mapped_v5 = {row["v5_term"] for row in rows if row["v5_term"]}
    assert mapped_v5 == set(v5.terms)
    assert all(v6.lookup(row["v6_term"]) is not None for row in rows)


def test_imported_mapping_covers_every_v5_term(imported_home):
    table = mapping_table("5.0", "6.0", home=imported_home)
    assert table["from_term"].n_unique() == 837
