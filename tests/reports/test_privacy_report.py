"""Free text in the open DSMB report: omitted by default (trial config
privacy.open_report_free_text), printed when the trial allows it; counts never change."""

from pathlib import Path

import polars as pl
import pytest

from ctcae.terms import load_curated_dictionary
from flows.stages import analyse, ingest, render
from reports.free_text import NOTE, OMITTED, OpenReportText
from tests.conftest import BUNDLED_CONFIG, make_mini_trial
from trial.config import load_trial_config

# Typed into the mini trial's free text: AE13 (the catch-all "Skin and subcutaneous tissue
# disorders - Other, specify", grade 1, TEAE) gets a name and a date of birth as its "Other,
# specify" text; AE7 (epistaxis grade 3, serious, a qualifying event of the severe-hemorrhage
# rule) gets a phone number as its "Other, specify" text.
NAME_AND_BIRTH = "Zhang Wei DOB 1962-03-14"
PHONE = "call 13812345678"
IDENTIFIERS = ("Zhang Wei", "1962-03-14", "13812345678")


def run_mini_trial(folder: Path, privacy: str) -> tuple[str, str]:
    """The DSMB report's HTML and queries.csv of the mini trial with identifiers in its free text
    and a names file listing Zhang Wei."""
    config = make_mini_trial(folder, config_text=BUNDLED_CONFIG.read_text() + '\n[privacy]\nnames_file = "names.txt"\n' + privacy)
    (config.parent / "names.txt").write_text("Zhang Wei\n", encoding="utf-8")
    events = config.parent / "adverse_events.csv"
    text = events.read_text()
    text = text.replace('"Skin and subcutaneous tissue disorders - Other, specify",,', f'"Skin and subcutaneous tissue disorders - Other, specify",{NAME_AND_BIRTH},')
    text = text.replace("AE7,S3,nose bleed,epistaxis ,,", f"AE7,S3,nose bleed,epistaxis ,{PHONE},")
    assert NAME_AND_BIRTH in text and PHONE in text
    events.write_text(text)
    loaded = ingest(config)
    analyse(loaded)
    (path,) = render(loaded)
    return Path(path).read_text(), (Path(loaded.out_dir) / "queries.csv").read_text()


@pytest.fixture(scope="module")
def omitted(tmp_path_factory):
    return run_mini_trial(tmp_path_factory.mktemp("omitted"), "")


@pytest.fixture(scope="module")
def allowed(tmp_path_factory):
    return run_mini_trial(tmp_path_factory.mktemp("allowed"), "open_report_free_text = true\n")


@pytest.mark.slow
def test_open_report_omits_free_text_by_default(omitted):
    html, _ = omitted
    for identifier in IDENTIFIERS:
        assert identifier not in html
    assert NOTE in html
    # The CTCAE term and the grade stay; the text beside them is the omission mark.
    assert f"<td>Epistaxis: {OMITTED}</td><td class=\"num\">3</td>" in html
    # AE13's row of the SOC table keeps its counts, under the mark.
    assert f"<td>Skin and subcutaneous tissue disorders</td><td>{OMITTED}</td><td class=\"num\">1</td>" in html


@pytest.mark.slow
def test_open_report_prints_free_text_when_the_trial_allows_it(allowed):
    html, _ = allowed
    assert f"<td>Epistaxis: {PHONE}</td>" in html
    assert f"<td>{NAME_AND_BIRTH}</td>" in html  # AE13's row of the SOC table, under its specified text
    assert NOTE not in html
    assert OMITTED not in html


@pytest.mark.slow
def test_queries_locate_the_identifiers_without_repeating_them(omitted, allowed):
    """Three findings, whatever the report prints: AE13's name (names file) and labelled date of
    birth, AE7's mobile number."""
    for _, queries in (omitted, allowed):
        found = pl.read_csv(queries.encode()).filter(pl.col("check") == "free_text_identifier")
        assert sorted(found.select("record_key", "value").iter_rows()) == [
            ("AE13", "date of birth at characters 11-24"),
            ("AE13", "name from the trial's names list at characters 1-9"),
            ("AE7", "phone-number-like text at characters 6-16"),
        ]
        for identifier in IDENTIFIERS:
            assert identifier not in queries


# --- which texts the open report prints (no trial run) ---------------------------------------------


@pytest.fixture(scope="module")
def bundled_open_text():
    return OpenReportText.for_trial(load_trial_config(BUNDLED_CONFIG), dictionary=load_curated_dictionary("5.0"))


def test_ctcae_terms_and_the_configs_own_texts_are_printed(bundled_open_text):
    """The bundled trial names RCCEP's "Other, specify" text in [aesi.rccep]: trial vocabulary,
    printed. A CTCAE term and the '(any)' total row are printed; anything else is not."""
    shows = bundled_open_text.shows
    assert shows("Epistaxis") and shows("epistaxis ") and shows("(any)") and shows(None)
    assert shows("Reactive cutaneous capillary endothelial proliferation (RCCEP)")
    assert shows("Immune-mediated hepatitis")  # [aesi.hepatitis] other_specify
    assert not shows(NAME_AND_BIRTH)
    assert not shows("Hypertenshun")  # a term the dictionary does not know was typed too


def test_masks_keep_every_row_and_count(bundled_open_text):
    terms = pl.DataFrame({"term": ["(any)", "Epistaxis", NAME_AND_BIRTH], "subjects": [3, 2, 1]})
    assert bundled_open_text.column(terms, "term").rows() == [("(any)", 3), ("Epistaxis", 2), (OMITTED, 1)]

    listing = pl.DataFrame({
        "ae_term": ["Epistaxis", NAME_AND_BIRTH, "Hypertenshun"],
        "ctcae_term": ["Epistaxis", "Skin and subcutaneous tissue disorders - Other, specify", "Hypertenshun"],
    })
    assert bundled_open_text.column(listing, "ae_term", coded="ctcae_term")["ae_term"].to_list() == [
        "Epistaxis", f"Skin and subcutaneous tissue disorders - Other, specify: {OMITTED}", OMITTED,
    ]

    deaths = pl.DataFrame({"fatal_events": [f"Pharyngeal hemorrhage; {NAME_AND_BIRTH}", None]})
    assert bundled_open_text.joined_column(deaths, "fatal_events", separator="; ")["fatal_events"].to_list() == [
        f"Pharyngeal hemorrhage; {OMITTED}", None,
    ]

    reasons = pl.DataFrame({
        "expectedness_reason": [f"apatinib: {NAME_AND_BIRTH} not in RSI", "apatinib: grade 4 above the RSI's expected maximum grade 3"],
        "other_specify": [NAME_AND_BIRTH, None],
        "ctcae_term": ["Skin and subcutaneous tissue disorders - Other, specify", "Epistaxis"],
    })
    assert bundled_open_text.within(reasons, "expectedness_reason", texts=["other_specify", "ctcae_term"])["expectedness_reason"].to_list() == [
        f"apatinib: {OMITTED} not in RSI", "apatinib: grade 4 above the RSI's expected maximum grade 3",
    ]

    event = {"ae_id": "AE7", "ctcae_term": "Epistaxis", "other_specify": PHONE, "grade": 3}
    assert bundled_open_text.event(event) == event | {"other_specify": OMITTED}


def test_nothing_is_masked_when_the_trial_allows_free_text(tmp_path):
    path = tmp_path / "trial.toml"
    path.write_text(BUNDLED_CONFIG.read_text() + "\n[privacy]\nopen_report_free_text = true\n")
    open_text = OpenReportText.for_trial(load_trial_config(path))
    assert open_text.note is None and open_text.shows(NAME_AND_BIRTH)
    terms = pl.DataFrame({"term": [NAME_AND_BIRTH]})
    assert open_text.column(terms, "term").equals(terms)
