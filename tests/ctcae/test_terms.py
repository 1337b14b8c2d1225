"""CTCAE dictionaries: curated tables against the NCI workbook, lookup, loading and sources."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ctcae.terms import SUPPORTED_VERSIONS, fold_term, load_curated_dictionary, load_dictionary
from ctcae.workbook import import_workbook
from tests.conftest import REPO_ROOT, reference_path

CURATED_DIR = REPO_ROOT / "data" / "ctcae"

# Terms the trial's data generator emits (CTCAE v5.0 names).
GENERATOR_TERMS_V5 = [
    "Hypertension", "Palmar-plantar erythrodysesthesia syndrome", "Proteinuria",
    "Skin and subcutaneous tissue disorders - Other, specify",
    "Respiratory, thoracic and mediastinal disorders - Other, specify",
    "Hepatobiliary disorders - Other, specify", "Hypothyroidism", "Hyperthyroidism",
    "Alanine aminotransferase increased", "Aspartate aminotransferase increased",
    "Blood bilirubin increased", "Fatigue", "Headache", "CPK increased", "Anemia", "Epistaxis",
    "Pharyngeal hemorrhage", "Pharyngeal necrosis", "Mucositis oral", "Pneumonitis",
    "Lung infection", "Myocarditis", "Diarrhea", "Nausea", "Anorexia", "Weight loss",
    "Platelet count decreased", "White blood cell decreased", "Neutrophil count decreased",
    "Lymphocyte count decreased", "Creatinine increased", "Hypokalemia", "Hyponatremia",
    "Rash maculo-papular", "Pruritus", "Hoarseness", "Dysphagia", "Colitis",
    "Adrenal insufficiency", "Death NOS", "Intracranial hemorrhage", "Stroke",
    "Alkaline phosphatase increased",
]
# Further terms oncology safety monitoring relies on (AESI lists, immune-related AEs).
MONITORING_TERMS_V5 = [
    "Sudden death NOS", "Hypophysitis", "Oral hemorrhage", "Laryngeal hemorrhage",
    "Tracheal hemorrhage", "Bronchopulmonary hemorrhage", "Upper gastrointestinal hemorrhage",
    "Tumor hemorrhage", "Febrile neutropenia", "Hyperglycemia", "Acute kidney injury",
    "Vomiting", "Constipation", "Peripheral sensory neuropathy", "Infusion related reaction",
]
# The same clinical concepts under their v6.0 names (from the v6.0 workbook's mapping sheet).
V6_NAMES = [
    "Thrombocytopenia", "Urinary protein increased", "Pneumonia", "Lymphopenia",
    "Investigations - Other, specify", "Hypertension", "Vascular disorders - Other, specify",
    "Hepatitis", "Diabetes mellitus", "Tubulointerstitial nephritis", "Thyroiditis",
    "Palmar-plantar erythrodysesthesia syndrome", "Death NOS", "Sudden death NOS",
]


def reference_rows(name: str) -> list[dict[str, str]]:
    with reference_path("ctcae", name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def curated_rows(version: str) -> list[dict[str, str]]:
    with (CURATED_DIR / f"terms_v{version}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def imported_v5_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("toxwatch_home")
    import_workbook(reference_path("ctcae", "CTCAE_v5.0_2017-11-27.xlsx"), home=home)
    return home


# --- curated tables ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "reference"), [("5.0", "CTCAE_v5.0_terms.csv"), ("6.0", "CTCAE_v6.0_terms.csv")]
)
def test_curated_rows_agree_with_the_nci_workbook(version, reference):
    nci = {row["ctcae_term"]: row for row in reference_rows(reference)}
    for row in curated_rows(version):
        term = row["ctcae_term"]
        assert term in nci, f"{term} is not a CTCAE v{version} term"
        assert row["meddra_soc"] == nci[term]["meddra_soc"], term
        assert row["meddra_code"] == nci[term]["meddra_code"], term
        assert row["allowed_grades"] == nci[term]["allowed_grades"], term
        assert row["other_specify"] == ("Y" if term.endswith("Other, specify") else "N"), term


@pytest.mark.parametrize(
    ("version", "reference"), [("5.0", "CTCAE_v5.0_terms.csv"), ("6.0", "CTCAE_v6.0_terms.csv")]
)
def test_curated_tables_hold_every_other_specify_term(version, reference):
    terms = [row["ctcae_term"] for row in reference_rows(reference)]
    other_specify = {term for term in terms if term.endswith("Other, specify")}
    assert len(other_specify) == 26
    assert other_specify <= {row["ctcae_term"] for row in curated_rows(version)}


def test_curated_tables_carry_facts_only():
    for version in SUPPORTED_VERSIONS:
        with (CURATED_DIR / f"terms_v{version}.csv").open(encoding="utf-8") as handle:
            header = handle.readline().strip()
        assert header == "ctcae_term,meddra_soc,meddra_code,allowed_grades,other_specify"


def test_curated_tables_are_large_enough():
    assert len(curated_rows("5.0")) >= 150
    assert len(curated_rows("6.0")) >= 150


def test_curated_v5_holds_the_generator_and_monitoring_terms():
    dictionary = load_curated_dictionary("5.0")
    missing = [t for t in GENERATOR_TERMS_V5 + MONITORING_TERMS_V5 if dictionary.lookup(t) is None]
    assert missing == []


def test_curated_v6_holds_the_v6_names():
    dictionary = load_curated_dictionary("6.0")
    assert [t for t in V6_NAMES if dictionary.lookup(t) is None] == []
    assert dictionary.lookup("Platelet count decreased") is None  # renamed in v6.0
    assert dictionary.lookup("Proteinuria") is None


def test_curated_table_types():
    table = load_curated_dictionary("5.0").table
    assert table.columns == ["ctcae_term", "meddra_soc", "meddra_code", "allowed_grades", "other_specify"]
    assert str(table.schema["meddra_code"]) == "Int64"
    assert str(table.schema["allowed_grades"]) == "List(Int8)"
    assert str(table.schema["other_specify"]) == "Boolean"
    assert table["ctcae_term"].n_unique() == table.height


# --- lookup ---------------------------------------------------------------------------------


def test_lookup_folds_case_spacing_and_punctuation():
    dictionary = load_curated_dictionary("5.0")
    for spelling in ["eosinophilia", "  EOSINOPHILIA ", "Eosinophilia."]:
        info = dictionary.lookup(spelling)
        assert info is not None, spelling
        assert (info.term, info.soc, info.meddra_code, info.allowed_grades) == (
            "Eosinophilia", "Blood and lymphatic system disorders", 10014950, (1, 3)
        )
    assert dictionary.lookup("rash maculo papular").term == "Rash maculo-papular"
    assert dictionary.lookup("Palmar plantar  erythrodysesthesia-syndrome").meddra_code == 10054524
    assert dictionary.lookup("death nos").allowed_grades == (5,)
    assert dictionary.lookup("Not a CTCAE term") is None


def test_other_specify_flag():
    dictionary = load_curated_dictionary("5.0")
    assert dictionary.lookup("Hepatobiliary disorders - Other, specify").other_specify is True
    assert dictionary.lookup("Hypertension").other_specify is False


def test_is_grade_allowed():
    dictionary = load_curated_dictionary("5.0")
    assert dictionary.is_grade_allowed("Alopecia", 2)
    assert not dictionary.is_grade_allowed("Alopecia", 3)
    assert not dictionary.is_grade_allowed("Eosinophilia", 2)
    assert dictionary.is_grade_allowed("Death NOS", 5)
    assert not dictionary.is_grade_allowed("Death NOS", 4)
    assert not dictionary.is_grade_allowed("Not a CTCAE term", 1)
    v6 = load_curated_dictionary("6.0")
    assert not v6.is_grade_allowed("Hypertension", 1)  # v6.0 Hypertension starts at grade 2


def test_no_two_nci_terms_fold_to_the_same_key():
    for name in ("CTCAE_v5.0_terms.csv", "CTCAE_v6.0_terms.csv"):
        terms = [row["ctcae_term"] for row in reference_rows(name)]
        assert len({fold_term(term) for term in terms}) == len(terms)


# --- loading: curated or imported ----------------------------------------------------------


def test_curated_dictionary_when_nothing_imported(tmp_path):
    dictionary = load_dictionary("5.0", home=tmp_path)
    assert dictionary.source == "curated"
    assert dictionary.version == "5.0"
    count = len(curated_rows("5.0"))
    assert len(dictionary) == count
    assert dictionary.description == f"toxwatch curated CTCAE v5.0 table, {count} terms"


def test_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TOXWATCH_HOME", str(tmp_path))
    assert load_dictionary("6.0").source == "curated"
    from ctcae.home import toxwatch_home

    assert toxwatch_home() == tmp_path


def test_imported_dictionary_after_import(imported_v5_home):
    dictionary = load_dictionary("5.0", home=imported_v5_home)
    assert dictionary.source == "imported"
    assert len(dictionary) == 837
    assert dictionary.description.startswith(
        "NCI CTCAE v5.0 workbook CTCAE_v5.0_2017-11-27.xlsx (sha256 dc11095f3922"
    )
    assert ", 837 terms, imported 20" in dictionary.description
    # v6.0 was not imported into this home: curated
    assert load_dictionary("6.0", home=imported_v5_home).source == "curated"


def test_import_replaces_a_cached_curated_dictionary(tmp_path):
    before = load_dictionary("5.0", home=tmp_path)
    assert before is load_dictionary("5.0", home=tmp_path)  # cached
    import_workbook(reference_path("ctcae", "CTCAE_v5.0_2017-11-27.xlsx"), home=tmp_path)
    after = load_dictionary("5.0", home=tmp_path)
    assert (before.source, after.source) == ("curated", "imported")


@pytest.mark.parametrize("spelling", ["5", "5.0", "v5.0", "CTCAE v5"])
def test_version_spellings(spelling, tmp_path):
    assert load_dictionary(spelling, home=tmp_path).version == "5.0"


def test_unknown_version_lists_the_supported_ones(tmp_path):
    with pytest.raises(ValueError, match=r"4\.03.*5\.0, 6\.0"):
        load_dictionary("4.03", home=tmp_path)
