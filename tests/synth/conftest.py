"""Shared material of the synthetic trial generator's tests: hand-typed CTCAE facts and contract
values, the source reader, and the clean 400-subject trial most tests look at.

The clinical rules are checked against values typed here by hand (CTCAE v5.0 allowed
grades and lab units), never against the generator's own profile file.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from synth import generate_trial
from tests.conftest import REPO_ROOT

BUNDLED_DIR = REPO_ROOT / "data" / "trials" / "npc-apatinib-pd1"
SOURCE_NAMES = ("subjects", "exposure", "adverse_events", "labs", "vitals", "tumour_assessments")

# CTCAE v5.0 allowed grades of every term the generator may emit (typed from the NCI
# workbook; membership matters: Lung infection and Myocarditis have no grade 1,
# Pharyngeal necrosis only grades 3-5).
ALLOWED_GRADES: dict[str, set[int]] = {
    "Hypertension": {1, 2, 3, 4, 5},
    "Palmar-plantar erythrodysesthesia syndrome": {1, 2, 3},
    "Proteinuria": {1, 2, 3},
    "Skin and subcutaneous tissue disorders - Other, specify": {1, 2, 3, 4, 5},
    "Respiratory, thoracic and mediastinal disorders - Other, specify": {1, 2, 3, 4, 5},
    "Pharyngeal necrosis": {3, 4, 5},
    "Hypothyroidism": {1, 2, 3, 4, 5},
    "Hyperthyroidism": {1, 2, 3, 4, 5},
    "Alanine aminotransferase increased": {1, 2, 3, 4},
    "Aspartate aminotransferase increased": {1, 2, 3, 4},
    "Blood bilirubin increased": {1, 2, 3, 4},
    "Fatigue": {1, 2, 3},
    "Headache": {1, 2, 3},
    "CPK increased": {1, 2, 3, 4},
    "Anemia": {1, 2, 3, 4, 5},
    "Epistaxis": {1, 2, 3, 4, 5},
    "Pharyngeal hemorrhage": {1, 2, 3, 4, 5},
    "Mucositis oral": {1, 2, 3, 4, 5},
    "Pneumonitis": {1, 2, 3, 4, 5},
    "Lung infection": {2, 3, 4, 5},
    "Myocarditis": {2, 3, 4, 5},
    "Diarrhea": {1, 2, 3, 4, 5},
    "Nausea": {1, 2, 3},
    "Anorexia": {1, 2, 3, 4, 5},
    "Weight loss": {1, 2, 3},
    "Platelet count decreased": {1, 2, 3, 4},
    "White blood cell decreased": {1, 2, 3, 4},
    "Neutrophil count decreased": {1, 2, 3, 4},
    "Hoarseness": {1, 2, 3},
    "Dysphagia": {1, 2, 3, 4, 5},
    "Rash maculo-papular": {1, 2, 3},
    "Pruritus": {1, 2, 3},
    "Hepatobiliary disorders - Other, specify": {1, 2, 3, 4, 5},
    "Colitis": {1, 2, 3, 4, 5},
    "Adrenal insufficiency": {1, 2, 3, 4, 5},
    "Creatinine increased": {1, 2, 3, 4},
    "Hypokalemia": {1, 2, 3, 4, 5},
    "Hyponatremia": {1, 2, 3, 4, 5},
}
ATTRIBUTION_SCALE = {"unrelated", "unlikely", "possible", "probable", "definite"}
RELATED = ["possible", "probable", "definite"]
ACTIONS = {"dose_not_changed", "dose_reduced", "drug_interrupted", "drug_withdrawn", "not_applicable"}

ATTRIBUTION_SCALE = {"unrelated", "unlikely", "possible", "probable", "definite"}
UNITS = {
    "ALT": "U/L", "AST": "U/L", "ALP": "U/L", "BILI": "umol/L", "CREAT": "umol/L", "CK": "U/L",
    "PLT": "10^9/L", "NEUT": "10^9/L", "WBC": "10^9/L", "LYMPH": "10^9/L", "HGB": "g/L",
    "K": "mmol/L", "SODIUM": "mmol/L", "TSH": "mIU/L", "UPROT_DIP": "dipstick", "UPROT_24H": "g/24h",
}


def read_source(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{name}.csv", try_parse_dates=True, infer_schema_length=None)


@pytest.fixture(scope="package")
def clean_trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 subjects, seed 11, no injected errors: generated once for the whole package."""
    folder = tmp_path_factory.mktemp("clean")
    generate_trial(400, 11, folder)
    return folder
