"""Verbatim term matching: exact, synonym, fuzzy suggestions (never coded), lookup JSON."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from ctcae.matching import lookup_json, match_term
from ctcae.terms import fold_term, load_curated_dictionary
from tests.conftest import REPO_ROOT, reference_path

SYNONYMS = REPO_ROOT / "data" / "ctcae" / "synonyms.csv"


def synonym_rows() -> list[dict[str, str]]:
    with SYNONYMS.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def v5():
    return load_curated_dictionary("5.0")


@pytest.fixture(scope="module")
def v6():
    return load_curated_dictionary("6.0")


# --- exact ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verbatim", "term"),
    [
        ("  palmar PLANTAR erythrodysesthesia-syndrome ", "Palmar-plantar erythrodysesthesia syndrome"),
        ("death nos.", "Death NOS"),
        ("Rash  maculo papular", "Rash maculo-papular"),
        ("hepatobiliary disorders other specify", "Hepatobiliary disorders - Other, specify"),
        ("HYPERTENSION", "Hypertension"),
    ],
)
def test_exact_match_folds_case_spacing_and_punctuation(v5, verbatim, term):
    result = match_term(verbatim, v5)
    assert (result.term, result.match, result.score, result.suggestions) == (term, "exact", 100.0, [])


# --- synonyms ------------------------------------------------------------------------------


def test_synonym_file_shape():
    rows = synonym_rows()
    assert list(rows[0]) == ["synonym", "ctcae_term", "version", "note"]
    assert len(rows) >= 60
    assert {row["version"] for row in rows} == {"5.0", "6.0"}
    assert all(row["note"].strip() for row in rows)


def test_each_synonym_is_listed_once_per_version():
    keys = Counter((fold_term(row["synonym"]), row["version"]) for row in synonym_rows())
    assert [key for key, count in keys.items() if count > 1] == []


def test_every_synonym_resolves_to_a_term_of_its_version(v5, v6):
    dictionaries = {"5.0": v5, "6.0": v6}
    for row in synonym_rows():
        dictionary = dictionaries[row["version"]]
        assert dictionary.lookup(row["ctcae_term"]) is not None, row
        assert dictionary.lookup(row["synonym"]) is None, f"{row['synonym']} is itself a term"
        result = match_term(row["synonym"], dictionary)
        assert (result.term, result.match) == (row["ctcae_term"], "synonym"), row


def test_every_synonym_target_is_an_nci_term():
    nci = {}
    for version in ("5.0", "6.0"):
        with reference_path("ctcae", f"CTCAE_v{version}_terms.csv").open(newline="", encoding="utf-8") as handle:
            nci[version] = {row["ctcae_term"] for row in csv.DictReader(handle)}
    for row in synonym_rows():
        assert row["ctcae_term"] in nci[row["version"]], row


@pytest.mark.parametrize(
    ("verbatim", "term"),
    [
        ("nose bleed", "Epistaxis"),
        ("Nosebleed", "Epistaxis"),
        ("HFS", "Palmar-plantar erythrodysesthesia syndrome"),
        ("hand-foot syndrome", "Palmar-plantar erythrodysesthesia syndrome"),
        ("HFSR", "Palmar-plantar erythrodysesthesia syndrome"),
        ("Hand foot skin reaction", "Palmar-plantar erythrodysesthesia syndrome"),
        ("RCCEP", "Skin and subcutaneous tissue disorders - Other, specify"),
        (
            "reactive cutaneous capillary endothelial proliferation",
            "Skin and subcutaneous tissue disorders - Other, specify",
        ),
        ("high blood pressure", "Hypertension"),
        ("HTN", "Hypertension"),
        ("raised ALT", "Alanine aminotransferase increased"),
        ("ALT elevation", "Alanine aminotransferase increased"),
        ("thrombocytopenia", "Platelet count decreased"),
        ("neutropenia", "Neutrophil count decreased"),
        ("leukopenia", "White blood cell decreased"),
        ("hypokalaemia", "Hypokalemia"),
        ("nasopharyngeal necrosis", "Respiratory, thoracic and mediastinal disorders - Other, specify"),
        ("nasopharyngeal hemorrhage", "Pharyngeal hemorrhage"),
        ("nasopharyngeal bleeding", "Pharyngeal hemorrhage"),
        ("immune hepatitis", "Hepatobiliary disorders - Other, specify"),
        ("stomatitis", "Mucositis oral"),
    ],
)
def test_v5_synonyms(v5, verbatim, term):
    result = match_term(verbatim, v5)
    assert (result.term, result.match, result.score) == (term, "synonym", 100.0)


@pytest.mark.parametrize(
    ("verbatim", "term", "match"),
    [
        ("thrombocytopenia", "Thrombocytopenia", "exact"),
        ("low platelets", "Thrombocytopenia", "synonym"),
        ("Platelet count decreased", "Thrombocytopenia", "synonym"),
        ("proteinuria", "Urinary protein increased", "synonym"),
        ("immune hepatitis", "Hepatitis", "synonym"),
        ("hepatitis", "Hepatitis", "exact"),
    ],
)
def test_v6_synonyms(v6, verbatim, term, match):
    result = match_term(verbatim, v6)
    assert (result.term, result.match) == (term, match)


# --- fuzzy and none ------------------------------------------------------------------------


def test_misspelling_gets_ranked_suggestions_but_no_term(v5):
    result = match_term("hypertenshun", v5)
    assert result.term is None
    assert result.match == "fuzzy"
    assert result.suggestions[0][0] == "Hypertension"
    assert result.score == result.suggestions[0][1]
    scores = [score for _, score in result.suggestions]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 100 for score in scores)


def test_suggestions_respect_the_limit(v5):
    result = match_term("hemorrhage", v5, limit=3)
    assert result.term is None
    assert len(result.suggestions) == 3
    assert len({term for term, _ in result.suggestions}) == 3


@pytest.mark.parametrize("verbatim", ["zzqx", "", "   ", None])
def test_nothing_alike_is_none(v5, verbatim):
    result = match_term(verbatim, v5)
    assert (result.term, result.match, result.score, result.suggestions) == (None, "none", 0.0, [])


# --- lookup JSON ---------------------------------------------------------------------------

LOOKUP_KEYS = {
    "term", "soc", "meddra_code", "allowed_grades", "version", "match", "score", "suggestions", "dictionary"
}


def test_lookup_json_for_a_synonym(tmp_path):
    answer = lookup_json("HFSR", "5.0", home=tmp_path)
    assert set(answer) == LOOKUP_KEYS
    assert answer == {
        "term": "Palmar-plantar erythrodysesthesia syndrome",
        "soc": "Skin and subcutaneous tissue disorders",
        "meddra_code": 10054524,
        "allowed_grades": [1, 2, 3],
        "version": "5.0",
        "match": "synonym",
        "score": 100.0,
        "suggestions": [],
        "dictionary": answer["dictionary"],
    }
    assert answer["dictionary"].startswith("toxwatch curated CTCAE v5.0 table, ")


def test_lookup_json_for_a_misspelling(tmp_path):
    answer = lookup_json("hypertenshun", "6.0", home=tmp_path)
    assert set(answer) == LOOKUP_KEYS
    assert (answer["term"], answer["soc"], answer["allowed_grades"]) == (None, None, None)
    assert answer["match"] == "fuzzy"
    assert answer["suggestions"][0] == {
        "term": "Hypertension", "score": answer["score"], "soc": "Vascular disorders"
    }
    assert answer["version"] == "6.0"
