"""EDC exports as sources: an Excel workbook, or a CSV file in GB18030 or in UTF-8 with a
byte-order mark, with the EDC's own column names and its values in words, read through the
trial config's column maps (``columns``) and value maps (``values``).

The export holds the bundled trial's subjects, exposure and adverse-event rows of three
subjects: NPC-01-0001 (Guangzhou, S01), NPC-02-0019 (Nanning, S02: 12 AEs, 2 of them serious)
and NPC-05-0008 (Shenzhen, S05: a fatal AE). The EDC writes sex, re-irradiation, seriousness,
outcome and attribution in words: in English ("Male", "Yes", "Recovered", "Possibly related"),
and in Chinese at the Nanning site ("男", "是", "痊愈", "可能有关"). The workbook has one sheet
per form (DM, EX, AE, in that order; the subjects source names no sheet and reads the first)
and a column the contract does not have ("Form Status"), which is set aside.

Independent route: the same rows in toxwatch's own format (the bundled CSV rows as they are),
validated the same way. Read through the maps, the export must give the same records, the same
accounting and the same queries (the file name aside).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ctcae.terms import load_curated_dictionary
from flows.cli import main
from tests.conftest import REPO_ROOT
from trial.config import load_trial_config
from trial.errors import InputError
from validators import contract
from validators.read import ROW
from validators.validate import validate_trial
from validators.value_maps import column_maps, map_values

BUNDLED = REPO_ROOT / "data" / "trials" / "npc-apatinib-pd1"
SUBJECTS = ("NPC-01-0001", "NPC-02-0019", "NPC-05-0008")
CHINESE_SITE = "S02"
RUN_DATE = date(2026, 7, 1)
SOURCES = ("subjects", "exposure", "adverse_events")
SHEETS = {"subjects": "DM", "exposure": "EX", "adverse_events": "AE"}
EXTRA_COLUMN = "Form Status"  # an EDC column the contract does not have

# canonical column -> the EDC's name for it
EDC_COLUMNS = {
    "subjects": {
        "subject_id": "Subject ID", "site_id": "Site", "arm": "Treatment Arm", "sex": "Sex", "age": "Age (years)",
        "enrolment_date": "Enrolment Date", "recurrence_type": "Recurrence", "prior_reirradiation": "Prior Re-irradiation",
        "end_of_treatment_date": "EOT Date", "end_of_treatment_reason": "EOT Reason", "last_contact_date": "Last Contact",
        "death_date": "Death Date", "death_cause": "Cause of Death",
    },
    "exposure": {
        "subject_id": "Subject ID", "agent": "Drug", "start_date": "Start Date", "end_date": "End Date", "dose_mg": "Dose (mg)",
        "planned_dose_mg": "Planned Dose (mg)", "route": "Route", "frequency": "Frequency", "adjustment": "Dose Change",
        "adjustment_reason": "Reason for Change",
    },
    "adverse_events": {
        "ae_id": "AE Number", "subject_id": "Subject ID", "verbatim_term": "Reported Term", "ctcae_term": "CTCAE Term",
        "other_specify": "Other, Specify", "grade": "CTCAE Grade", "onset_date": "Onset Date",
        "resolution_date": "Resolution Date", "serious": "Serious?", "serious_criteria": "Seriousness Criteria",
        "outcome": "Outcome", "attribution_apatinib": "Relationship to Apatinib",
        "attribution_anti_pd1": "Relationship to Anti-PD-1", "action_apatinib": "Action Taken (Apatinib)",
        "action_anti_pd1": "Action Taken (Anti-PD-1)", "awareness_date": "Date Aware",
        "expedited_report_date": "Date Reported", "treatment": "Treatment Given",
    },
}

# canonical column -> contract value -> (English, Chinese) words the EDC writes
WORDS = {
    "sex": {"M": ("Male", "男"), "F": ("Female", "女")},
    "prior_reirradiation": {"Y": ("Yes", "是"), "N": ("No", "否")},
    "serious": {"Y": ("Yes", "是"), "N": ("No", "否")},
    "outcome": {
        "recovered": ("Recovered", "痊愈"),
        "recovering": ("Recovering", "好转"),
        "not_recovered": ("Not recovered", "未愈"),
        "recovered_with_sequelae": ("Recovered with sequelae", "痊愈伴后遗症"),
        "fatal": ("Fatal", "死亡"),
        "unknown": ("Unknown", "不详"),
    },
    "attribution_*": {
        "unrelated": ("Not related", "无关"),
        "unlikely": ("Unlikely related", "可能无关"),
        "possible": ("Possibly related", "可能有关"),
        "probable": ("Probably related", "很可能有关"),
        "definite": ("Definitely related", "肯定有关"),
    },
}
WORDED_COLUMNS = {"subjects": ("sex", "prior_reirradiation"), "adverse_events": ("serious", "outcome", "attribution_*")}

AGENTS = """
[[agents]]
id = "apatinib"
name = "Apatinib mesylate"
dose_mg = 250
route = "PO"
frequency = "QD"
dose_levels_mg = [250, 125]

[[agents]]
id = "anti_pd1"
name = "Anti-PD-1 antibody"
dose_mg = 200
route = "IV"
frequency = "Q2W"
dose_levels_mg = [200]
"""


def bundled_rows(source: str) -> pl.DataFrame:
    """The bundled trial's rows of the three subjects, as text, in file order."""
    frame = pl.read_csv(BUNDLED / f"{source}.csv", infer_schema=False)
    return frame.filter(pl.col("subject_id").is_in(SUBJECTS))


def in_words(source: str, row: dict) -> dict:
    """A bundled row as the EDC writes it: worded columns in English, or in Chinese at the
    Chinese site; a value with no word (e.g. a data error of the bundled trial) as it is."""
    chinese = row["subject_id"].split("-")[1] == CHINESE_SITE.removeprefix("S")
    worded = dict(row)
    for column in WORDED_COLUMNS.get(source, ()):
        for name in [name for name in row if column.endswith("*") and name.startswith(column[:-1])] or [column]:
            words = WORDS[column].get(row[name])
            if words is not None:
                worded[name] = words[1] if chinese else words[0]
    return worded


def edc_records(source: str) -> tuple[list[str], list[dict]]:
    """The EDC's header (its own names, an extra column first) and its records in words."""
    names = EDC_COLUMNS[source]
    header = [EXTRA_COLUMN, *names.values()]
    records = []
    for row in bundled_rows(source).iter_rows(named=True):
        worded = in_words(source, row)
        records.append({EXTRA_COLUMN: "Verified", **{names[column]: worded[column] for column in names}})
    return header, records


def cell(source: str, column: str, value: str | None):
    """A value as an Excel export holds it: a date as a date, a number as a number, else text."""
    if value is None:
        return None
    kind = {declared.name: declared.kind for declared in contract.source_columns(source)}.get(column)
    try:
        if kind == "date":
            return date.fromisoformat(value)
        if kind in ("whole number", "number"):
            number = float(value)
            return int(number) if number.is_integer() else number
    except ValueError:
        pass  # a value that is no date or number stays text, as an EDC keeps a free-text field
    return value


def value_maps_toml(source: str) -> str:
    lines = []
    for column in WORDED_COLUMNS.get(source, ()):
        lines.append(f"[sources.{source}.values.{json.dumps(column)}]")
        for value, words in WORDS[column].items():
            for word in words:
                lines.append(f"{json.dumps(word, ensure_ascii=False)} = {json.dumps(value)}")
    return "\n".join(lines)


def write_trial(folder: Path, kind: str) -> Path:
    """A trial folder of the three subjects: ``native`` (toxwatch's own CSV files), ``xlsx``,
    ``gb18030`` or ``utf8_bom`` (the EDC export); returns its trial.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    if kind == "xlsx":
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
    for source in SOURCES:
        if kind == "native":
            bundled_rows(source).write_csv(folder / f"{source}.csv")
            sections.append(f'[sources.{source}]\npath = "{source}.csv"\n')
            continue
        header, records = edc_records(source)
        if kind == "xlsx":
            sheet = workbook.create_sheet(SHEETS[source])
            sheet.append(header)
            canonical = {edc: name for name, edc in EDC_COLUMNS[source].items()}
            for record in records:
                sheet.append([cell(source, canonical.get(name, name), record[name]) for name in header])
            file, keys = "edc_export.xlsx", "" if source == "subjects" else f'sheet = "{SHEETS[source]}"\n'
        else:
            encoding = "gb18030" if kind == "gb18030" else "utf-8-sig"
            file = f"edc_{SHEETS[source].lower()}.csv"
            with (folder / file).open("w", encoding=encoding, newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=header)
                writer.writeheader()
                writer.writerows(records)
            keys = 'encoding = "gb18030"\n' if kind == "gb18030" else ""
        columns = "\n".join(f"{name} = {json.dumps(edc)}" for name, edc in EDC_COLUMNS[source].items())
        sections.append(
            f'[sources.{source}]\npath = "{file}"\n{keys}\n[sources.{source}.columns]\n{columns}\n\n{value_maps_toml(source)}\n'
        )
    if kind == "xlsx":
        workbook.save(folder / "edc_export.xlsx")
    config = folder / "trial.toml"
    config.write_text(
        f'[trial]\nid = "edc-export"\ntitle = "Three subjects from an EDC export"\n{AGENTS}\n' + "\n".join(sections),
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def dictionary():
    return load_curated_dictionary("5.0")


@pytest.fixture(scope="module")
def native(tmp_path_factory, dictionary):
    config = write_trial(tmp_path_factory.mktemp("native"), "native")
    return validate_trial(load_trial_config(config), dictionary, run_date=RUN_DATE)


def test_the_export_is_in_words_and_both_languages():
    """The export is what it claims to be: words, not the contract's codes, at every site."""
    _, records = edc_records("adverse_events")
    outcomes = {(record["Subject ID"], record["Outcome"]) for record in records}
    assert ("NPC-02-0019", "痊愈") in outcomes and ("NPC-01-0001", "Recovered") in outcomes
    assert ("NPC-05-0008", "Fatal") in outcomes
    assert not {record["Serious?"] for record in records} & {"Y", "N"}


@pytest.mark.parametrize("kind", ["xlsx", "gb18030", "utf8_bom"])
def test_an_edc_export_validates_as_the_same_rows_in_toxwatch_format(tmp_path, dictionary, native, kind):
    """Same records (typed, with the same row numbers: the workbook's header is row 1 as the
    CSV file's is line 1), same accounting, same queries; the EDC's extra column is set aside."""
    config = write_trial(tmp_path / kind, kind)
    edc = validate_trial(load_trial_config(config), dictionary, run_date=RUN_DATE)
    for source in SOURCES:
        expected, got = native.sources[source], edc.sources[source]
        assert got.accounting == expected.accounting, source
        assert_frame_equal(got.records, expected.records, check_row_order=True)
        assert_frame_equal(got.queries.drop("file"), expected.queries.drop("file"))
        assert EXTRA_COLUMN in got.ignored_columns
    # Counted by hand in the bundled files (NPC-01-0001, NPC-02-0019, NPC-05-0008): 3 subjects;
    # 50 + 21 + 12 = 83 exposure rows; 12 + 12 + 10 = 34 AEs, of which 0 + 2 + 1 serious as
    # given. One bundled data error is among them: NPC-05-0008's grade 1 headache (AE-000338,
    # line 28 of the three subjects' AEs) has outcome fatal, queried as "fatal exactly when
    # grade 5" and counted the worse way, as a grade 5 serious death: 0 + 2 + 2 serious.
    assert [edc.sources[source].accounting["rows_in"] for source in SOURCES] == [3, 83, 34]
    records = edc.sources["adverse_events"].records
    serious = records.filter(pl.col("serious") == "Y").group_by("subject_id").len()
    assert dict(serious.iter_rows()) == {"NPC-02-0019": 2, "NPC-05-0008": 2}
    assert records.filter(pl.col("outcome") == "fatal")["ae_id"].to_list() == ["AE-000338"]
    assert edc.queries.select("row", "record_key", "field", "value", "check").rows() == [
        (28, "AE-000338", "outcome", "fatal", "fatal_iff_grade_5")
    ]


@pytest.mark.parametrize(("kind", "given"), [("xlsx", "Lost to follow-up"), ("gb18030", "失访")])
def test_an_unmapped_value_is_queried_as_given_and_the_record_counted(tmp_path, dictionary, kind, given):
    """An outcome the map does not list reaches validation as the EDC wrote it: the record is
    counted (not excluded) and its query shows the text as given."""
    config = write_trial(tmp_path / kind, kind)
    first_ae = bundled_rows("adverse_events").row(0, named=True)["ae_id"]  # NPC-01-0001's first AE, line 2
    if kind == "xlsx":
        workbook = openpyxl.load_workbook(config.parent / "edc_export.xlsx")
        sheet = workbook["AE"]
        outcome_column = [c.value for c in sheet[1]].index("Outcome") + 1
        assert sheet.cell(row=2, column=[c.value for c in sheet[1]].index("AE Number") + 1).value == first_ae
        sheet.cell(row=2, column=outcome_column, value=given)
        workbook.save(config.parent / "edc_export.xlsx")
    else:
        path = config.parent / "edc_ae.csv"
        lines = path.read_text(encoding="gb18030").splitlines(keepends=True)
        assert f",{first_ae}," in lines[1] and ",Recovered," in lines[1]
        lines[1] = lines[1].replace(",Recovered,", f",{given},")
        path.write_text("".join(lines), encoding="gb18030")
    result = validate_trial(load_trial_config(config), dictionary, run_date=RUN_DATE).sources["adverse_events"]
    queries = result.queries.filter((pl.col("record_key") == first_ae) & (pl.col("field") == "outcome"))
    assert queries.select("row", "value", "effect").rows() == [(2, given, "counted")]
    assert first_ae in result.records["ae_id"].to_list()
    assert result.excluded.filter(pl.col("ae_id") == first_ae).is_empty()


@pytest.mark.slow  # the validation flow with its query report: about 9 s
def test_validate_cli_on_the_workbook(tmp_path, capsys, dictionary):
    """``toxwatch validate`` on the workbook trial prints the accounting of the same rows in
    toxwatch's format (validated here directly, as the CLI does, on today's date) and writes
    queries that name the workbook."""
    native_today = validate_trial(load_trial_config(write_trial(tmp_path / "native", "native")), dictionary)
    config = write_trial(tmp_path / "xlsx", "xlsx")
    queried = any(result.queries.height for result in native_today.sources.values())
    assert main(["validate", str(config), "--out", str(tmp_path / "out")]) == (2 if queried else 0)
    out = capsys.readouterr().out
    for source in SOURCES:
        counts = native_today.sources[source].accounting
        line = (
            f"{source}: {counts['rows_in']} rows in = {counts['clean']} clean + "
            f"{counts['counted_with_queries']} counted with queries + {counts['excluded']} excluded"
        )
        assert line in out
    queries_csv = next((tmp_path / "out").rglob("queries.csv"))
    files = set(pl.read_csv(queries_csv, infer_schema=False)["file"].drop_nulls().to_list())
    assert files <= {"edc_export.xlsx"}


# --- the value maps ---------------------------------------------------------------------------


def test_values_match_trimmed_whatever_their_case_and_an_agents_own_map_wins():
    """attribution_* maps "Possibly related" for both agents; attribution_anti_pd1 maps
    "Possibly related" to probable for anti-PD-1 only. Matching: " POSSIBLY related " is
    "Possibly related"; "Possibly" is not listed and stays as given; a missing value stays
    missing."""
    values = {
        "attribution_*": {"Possibly related": "possible", "Not related": "unrelated"},
        "attribution_anti_pd1": {"Possibly related": "probable"},
        "outcome": {"痊愈": "recovered"},
    }
    frame = pl.DataFrame(
        {
            ROW: [2, 3, 4],
            "attribution_apatinib": [" POSSIBLY related ", "Possibly", None],
            "attribution_anti_pd1": ["possibly related", "NOT RELATED", "Not related"],
            "outcome": ["痊愈", " 痊愈", "Recovered"],
        }
    )
    mapped = map_values(frame, values, ["apatinib", "anti_pd1"])
    assert mapped["attribution_apatinib"].to_list() == ["possible", "Possibly", None]
    assert mapped["attribution_anti_pd1"].to_list() == ["probable", "unrelated", "unrelated"]
    assert mapped["outcome"].to_list() == ["recovered", "recovered", "Recovered"]
    assert set(column_maps(values, ["apatinib", "anti_pd1"])) == {"attribution_apatinib", "attribution_anti_pd1", "outcome"}


# --- config checks ----------------------------------------------------------------------------


def configured(tmp_path: Path, extra: str, *, subjects: str = 'path = "subjects.csv"') -> Path:
    config = tmp_path / "trial.toml"
    config.write_text(
        f'[trial]\nid = "t"\ntitle = "t"\n{AGENTS}\n[sources.subjects]\n{subjects}\n\n'
        '[sources.exposure]\npath = "exposure.csv"\n\n[sources.adverse_events]\npath = "adverse_events.csv"\n\n' + extra,
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize(
    ("source", "column", "body", "problem"),
    [
        ("adverse_events", "outcom", '"Recovered" = "recovered"', "no column 'outcom'"),
        ("subjects", "attribution_*", '"Yes" = "possible"', "no column"),  # subjects have no per-agent column
        ("adverse_events", "attribution_placebo", '"Yes" = "possible"', "no column"),  # no such agent
        ("adverse_events", "serious", '"Yes" = "yes"', "'yes', which serious does not allow"),
        ("adverse_events", "serious", '"Yes" = "Y"\n"YES " = "N"', "same value"),
        ("adverse_events", "serious", '" " = "N"', "empty value is mapped"),
        ("adverse_events", "outcome", '"Unknown" = ""', "mapped to an empty value"),
    ],
)
def test_a_wrong_value_map_stops_at_config_load(tmp_path, source, column, body, problem):
    extra = f"[sources.{source}.values.{json.dumps(column)}]\n{body}\n"
    with pytest.raises(InputError) as caught:
        load_trial_config(configured(tmp_path, extra))
    assert caught.value.field == f"sources.{source}.values.{column}"
    assert problem in caught.value.problem


def test_value_maps_that_fit_the_contract_load(tmp_path):
    extra = (
        '[sources.adverse_events.values."attribution_*"]\n"Possibly related" = "possible"\n\n'
        '[sources.adverse_events.values.action_anti_pd1]\n"None" = "dose_not_changed"\n\n'
        '[sources.adverse_events.values.grade]\n"Grade 3" = "3"\n\n'
        '[sources.adverse_events.values.serious]\n"Yes" = "Y"\n"YES" = "Y"\n'
    )
    source = load_trial_config(configured(tmp_path, extra)).model.sources.adverse_events
    assert source.values["serious"] == {"Yes": "Y", "YES": "Y"}


@pytest.mark.parametrize(
    ("subjects", "key"),
    [
        ('path = "subjects.csv"\nsheet = "DM"', "sources.subjects.sheet"),
        ('path = "subjects.xlsx"\nencoding = "gb18030"', "sources.subjects.encoding"),
        ('path = "subjects.parquet"\nencoding = "gb18030"', "sources.subjects.encoding"),
        ('path = "subjects.dat"\nformat = "xls"', "sources.subjects.format"),
    ],
)
def test_sheet_and_encoding_must_fit_the_format(tmp_path, subjects, key):
    with pytest.raises(InputError) as caught:
        load_trial_config(configured(tmp_path, "", subjects=subjects))
    assert caught.value.field == key


@pytest.mark.parametrize(
    ("path", "declared", "expected"),
    [("s.xlsx", None, "xlsx"), ("s.XPT", None, "xpt"), ("s.sas7bdat", None, "sas7bdat"), ("s.parquet", None, "parquet"),
     ("s.csv", None, "csv"), ("s.txt", None, "csv"), ("export.dat", "xlsx", "xlsx")],
)
def test_the_format_is_declared_or_from_the_suffix(tmp_path, path, declared, expected):
    subjects = f'path = "{path}"' + (f'\nformat = "{declared}"' if declared else "")
    assert load_trial_config(configured(tmp_path, "", subjects=subjects)).model.sources.subjects.file_format == expected


def test_a_sheet_the_workbook_lacks_names_the_config_key(tmp_path, dictionary):
    config = write_trial(tmp_path / "xlsx", "xlsx")
    config.write_text(config.read_text(encoding="utf-8").replace('sheet = "AE"', 'sheet = "Adverse Events"'), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        validate_trial(load_trial_config(config), dictionary, run_date=RUN_DATE)
    assert caught.value.field == "sources.adverse_events.sheet"
    assert "'DM', 'EX', 'AE'" in caught.value.problem


def test_every_source_key_is_documented():
    """docs/trial-config.md names each key of [sources.<name>] in its section."""
    from trial.config import Source

    text = (REPO_ROOT / "docs" / "trial-config.md").read_text(encoding="utf-8")
    section = text.split("## `[sources.<name>]`", 1)[1].split("\n## ", 1)[0]
    for key in Source.model_fields:
        assert f"`{key}`" in section, key
    assert "[sources.<name>.values.<column>]" in section


# SAS names (at most 8 characters) of the subjects and exposure columns
SAS_COLUMNS = {
    "subjects": {
        "subject_id": "SUBJID", "site_id": "SITEID", "arm": "ARM", "sex": "SEX", "age": "AGE", "enrolment_date": "ENRLDTC",
        "recurrence_type": "RECUR", "prior_reirradiation": "REIRR", "end_of_treatment_date": "EOTDTC",
        "end_of_treatment_reason": "EOTRSN", "last_contact_date": "LCONTDTC", "death_date": "DTHDTC", "death_cause": "DTHCAUS",
    },
    "exposure": {
        "subject_id": "SUBJID", "agent": "EXTRT", "start_date": "EXSTDTC", "end_date": "EXENDTC", "dose_mg": "EXDOSE",
        "planned_dose_mg": "EXPLDOSE", "route": "EXROUTE", "frequency": "EXDOSFRQ", "adjustment": "EXADJ",
        "adjustment_reason": "EXADJRSN",
    },
}


def test_sas_transport_sources_validate_as_the_same_rows(tmp_path, dictionary, native):
    """Subjects and exposure as SAS transport files (numbers as SAS floats: age 36.0, dose
    250.0; a missing text value blank), under SAS names mapped by ``columns``: the same
    records and accounting as the rows in toxwatch's format."""
    import pyreadstat

    config = write_trial(tmp_path, "native")
    text = config.read_text(encoding="utf-8")
    for source, names in SAS_COLUMNS.items():
        kinds = {declared.name: declared.kind for declared in contract.source_columns(source)}
        typed = bundled_rows(source).select(
            (pl.col(column).cast(pl.Float64) if kinds[column] in ("whole number", "number") else pl.col(column).fill_null(""))
            .alias(sas)
            for column, sas in names.items()
        )
        pyreadstat.write_xport(typed, str(tmp_path / f"{source}.xpt"))
        columns = "\n".join(f"{column} = {json.dumps(sas)}" for column, sas in names.items())
        text = text.replace(f'path = "{source}.csv"\n', f'path = "{source}.xpt"\n\n[sources.{source}.columns]\n{columns}\n')
    config.write_text(text, encoding="utf-8")
    result = validate_trial(load_trial_config(config), dictionary, run_date=RUN_DATE)
    for source in SAS_COLUMNS:
        assert result.sources[source].path.suffix == ".xpt"
        assert result.sources[source].accounting == native.sources[source].accounting
        # A transport file's record position is its row: the CSV line less the header's.
        expected = native.sources[source].records.with_columns(pl.col(ROW) - 1)
        assert_frame_equal(result.sources[source].records, expected)
