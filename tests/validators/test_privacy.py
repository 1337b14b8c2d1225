"""The free-text scan: likely personal identifiers in an adverse event's free text become queries
that say where the identifier sits and what kind it is, never what it is."""

import hashlib

import polars as pl
import pytest

from ctcae.home import data_path
from tests.conftest import BUNDLED_CONFIG, make_mini_trial
from trial.config import load_trial_config
from trial.errors import InputError
from validators.privacy import FREE_TEXT_COLUMNS, names_regex, read_names, read_patterns, scan_free_text
from validators.read import ROW
from validators.schemas import SCHEMAS
from validators.validate import QUERY_SCHEMA

PATTERNS = read_patterns(data_path("privacy", "identifier_patterns.csv"))
NAMES = ["Zhang Wei", "张伟", "Li Na"]


def scan(*texts: str, field: str = "verbatim_term", names=NAMES, first_row: int = 2) -> pl.DataFrame:
    """The scan over one AE record per text (AE1, AE2, ...), the text in ``field``."""
    records = pl.DataFrame(
        {
            ROW: range(first_row, first_row + len(texts)),
            "ae_id": [f"AE{number}" for number in range(1, 1 + len(texts))],
            "subject_id": "S1",
            "verbatim_term": list(texts) if field == "verbatim_term" else None,
            "other_specify": list(texts) if field == "other_specify" else None,
        },
        schema_overrides={ROW: pl.Int64, "verbatim_term": pl.String, "other_specify": pl.String},
    )
    return scan_free_text(records, source="adverse_events", file="adverse_events.csv", patterns=PATTERNS, names=names)


def findings(text: str, **options) -> set[tuple[str, str]]:
    """(pattern, value) of each finding in one text; the pattern is the last word of the problem's bracket."""
    result = scan(text, **options)
    return {(problem.split("pattern ")[1].split(")")[0], value) for problem, value in result.select("problem", "value").iter_rows()}


# Positions counted by hand, from 1, in characters (a Chinese character is one).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "Zhang Wei " is 10 characters; "DOB 1962-03-14" runs from 11 to 24.
        ("Zhang Wei DOB 1962-03-14", {("dob_label", "date of birth at characters 11-24"),
                                      ("name_list", "name from the trial's names list at characters 1-9")}),
        # 患 者 张 伟 ， = 1-5; 出生1962年3月14日 (12 characters) = 6-17.
        ("患者张伟，出生1962年3月14日", {("dob_label", "date of birth at characters 6-17"),
                                       ("name_list", "name from the trial's names list at characters 3-4")}),
        ("seen 1962年3月14日", {("date_chinese", "date-like text at characters 6-15")}),
        ("visit 2024-05-01 ER", {("date_ymd", "date-like text at characters 7-16")}),
        ("on 14/03/1962", {("date_dmy", "date-like text at characters 4-13")}),
        ("on 14 Mar 1962", {("date_month_name", "date-like text at characters 4-14")}),
        ("on 19620314", {("date_compact", "date-like text at characters 4-11")}),
        ("call 13812345678", {("phone_cn_mobile", "phone-number-like text at characters 6-16")}),
        ("电话13812345678", {("phone_cn_mobile", "phone-number-like text at characters 3-13")}),
        ("tel 010-62345678", {("phone_number", "phone-number-like text at characters 5-16")}),
        ("ID 11010119620314123X", {("id_cn_resident", "ID-number-like text at characters 4-21")}),
        ("SSN 123-45-6789", {("id_number", "ID-number-like text at characters 5-15")}),
        ("MRN 200912345", {("id_number", "ID-number-like text at characters 5-13")}),
        ("mail zhang.wei@example.com", {("email", "e-mail address at characters 6-26")}),
        ("zhang  wei said", {("name_list", "name from the trial's names list at characters 1-10")}),
        # Two dates: one query for the pattern, the first match located.
        ("2024-05-01 then 2024-06-02", {("date_ymd", "date-like text at characters 1-10 (first of 2 matches)")}),
    ],
)
def test_identifiers_are_found_and_located(text, expected):
    assert findings(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "grade 3 rash", "2 cm lesion", "day 14", "C1D15 infusion reaction", "BP 160/100 mmHg", "ALT 3x ULN",
        "platelets 45000", "weight loss 5 kg", "onset cycle 2 day 8", "PD-1 related pneumonitis", "dose 250 mg QD",
        "1/2 grade", "temperature 38.5", "WBC 2.1 x10^9/L", "CTCAE v5.0", "MedDRA 10019211", "3-4 times a day",
        "since 2024", "March 2024", "May be related", "NPC-01-0001", "AE-000123",
        "Reactive cutaneous capillary endothelial proliferation (RCCEP)", "weight gain", "Weiss ring",
        "鼻咽坏死", "高血压3级", "第14天",
    ],
)
def test_ordinary_adverse_event_text_is_not_flagged(text):
    """Counts, grades, doses, days, cycles and lab values are not identifiers; "Wei" and "Li Na"
    are names only as whole words."""
    assert findings(text, names=NAMES + ["Wei"]) == set()


def test_one_identifier_is_one_query():
    """An eleven-digit mobile number is also a long number: the pattern listed first keeps it."""
    assert findings("call 13812345678") == {("phone_cn_mobile", "phone-number-like text at characters 6-16")}


@pytest.mark.parametrize("field", ["verbatim_term", "other_specify"])
def test_the_query_never_carries_the_identifier(field):
    identifiers = ["Zhang Wei", "1962-03-14", "13812345678", "11010119620314123X", "zhang.wei@example.com", "张伟", "1962年3月14日"]
    text = "Zhang Wei, DOB 1962-03-14, tel 13812345678, ID 11010119620314123X, zhang.wei@example.com, 张伟 1962年3月14日"
    result = scan(text, field=field)
    assert result.height >= 5
    assert set(result["field"]) == {field}
    for row in result.iter_rows(named=True):
        for column, cell in row.items():
            for identifier in identifiers:
                assert identifier.casefold() not in str(cell).casefold(), (column, identifier)


def test_query_shape_and_wording():
    result = scan("DOB 1962-03-14")
    assert result.schema == pl.Schema(QUERY_SCHEMA)
    (query,) = result.iter_rows(named=True)
    assert query | {"query_id": None} == {
        "query_id": None,
        "source": "adverse_events",
        "file": "adverse_events.csv",
        "row": 2,
        "record_key": "AE1",
        "subject_id": "S1",
        "field": "verbatim_term",
        "value": "date of birth at characters 1-14",
        "check": "free_text_identifier",
        "problem": "verbatim_term may hold a personal identifier (date of birth, pattern dob_label); free text must not identify a person",
        "effect": "counted",
        "reading": "counted; the text is kept in the store and listed to the data manager only",
        "fix": "remove the identifier from the free text in the EDC",
    }


def test_query_ids_are_stable_and_name_record_field_and_pattern():
    """The id is the first 10 hex digits of sha256("source|record key|field|pattern"): the same
    finding keeps its id from one transfer to the next, whatever its row."""
    first = scan("DOB 1962-03-14", "call 13812345678")
    moved = scan("DOB 1962-03-14", "call 13812345678", first_row=40)
    shifted = scan("grade 2", "DOB 1962-03-14", "call 13812345678")
    expected = {
        "Q-" + hashlib.sha256(b"adverse_events|AE1|verbatim_term|dob_label").hexdigest()[:10],
        "Q-" + hashlib.sha256(b"adverse_events|AE2|verbatim_term|phone_cn_mobile").hexdigest()[:10],
    }
    assert set(first["query_id"]) == expected
    assert set(scan("DOB 1962-03-14", "call 13812345678")["query_id"]) == expected
    assert set(moved["query_id"]) == expected
    assert set(shifted["query_id"]).isdisjoint(expected)  # other records (AE2, AE3), other ids


def test_no_names_no_text_no_findings():
    assert findings("Zhang Wei", names=[]) == set()
    assert scan("DOB 1962-03-14", names=[]).height == 1
    empty = scan_free_text(pl.DataFrame({ROW: [], "ae_id": [], "subject_id": []}), source="adverse_events", file="x", patterns=PATTERNS)
    assert empty.is_empty() and empty.schema == pl.Schema(QUERY_SCHEMA)


def test_names_regex_keeps_whole_latin_words_and_longer_names_first():
    assert names_regex([]) is None
    regex = names_regex(["Zhang", "Zhang Wei", "张伟"])
    assert regex.index("Zhang") < regex.index("张伟")
    assert regex.startswith(r"(?i)(?:(?-u:\b)Zhang\s+Wei(?-u:\b)|")


def test_free_text_columns_are_text_columns_of_the_source_models():
    for source, columns in FREE_TEXT_COLUMNS.items():
        model_columns = SCHEMAS[source].to_schema().columns
        for column in columns:
            assert column in model_columns, (source, column)


def test_bundled_trial_free_text_has_no_identifier():
    """The bundled trial's AE file (446 records): its verbatim terms and "Other, specify" texts are
    clinical words only, so the scan finds nothing."""
    records = pl.read_csv(BUNDLED_CONFIG.parent / "adverse_events.csv", infer_schema=False).with_row_index(ROW, offset=2)
    assert records.height == 446
    assert scan_free_text(records.with_columns(pl.col(ROW).cast(pl.Int64)), source="adverse_events", file="adverse_events.csv", patterns=PATTERNS, names=NAMES).is_empty()


# --- the pattern and names files -------------------------------------------------------------------


def test_shipped_patterns_each_have_a_description_and_a_note():
    assert PATTERNS.columns == ["pattern", "regex", "description", "note"]
    assert PATTERNS.filter(pl.any_horizontal(pl.all().is_null())).is_empty()
    assert PATTERNS["pattern"].is_unique().all()


@pytest.mark.parametrize(
    ("content", "field", "problem"),
    [
        ("pattern,regex,description\nx,\\d+,digits\n", "note", "required column is missing"),
        ("pattern,regex,description,note\nx,(\\d+,digits,unbalanced\n", "line 2 regex", "not a valid regular expression"),
        ("pattern,regex,description,note\nx,\\d*,digits,matches nothing at all\n", "line 2 regex", "matches empty text"),
        ("pattern,regex,description,note\nx,\\d+,digits,a\nx,[a-z]+,letters,b\n", "line 3 pattern", "is taken"),
        ("pattern,regex,description,note\nname_list,\\d+,digits,a\n", "line 2 pattern", "is taken"),
        ("pattern,regex,description,note\nx,,digits,a\n", "line 2", "must each be given"),
    ],
)
def test_bad_pattern_file_names_line_and_problem(tmp_path, content, field, problem):
    path = tmp_path / "patterns.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_patterns(path)
    assert error.value.field == field
    assert problem in error.value.problem


def test_names_file_skips_blank_and_comment_lines(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("# site 01 staff and subjects\nZhang Wei\n\n  李娜  \n", encoding="utf-8")
    assert read_names(path) == ["Zhang Wei", "李娜"]
    assert read_names(None) == []
    with pytest.raises(InputError, match="names file not found"):
        read_names(tmp_path / "absent.txt")


# --- the scan inside validation --------------------------------------------------------------------


def test_validation_queries_identifiers_and_counts_the_record_with_queries(tmp_path):
    """Mini trial with AE1's verbatim term "high blood pressure, Li Na DOB 1962-03-14" and a names
    file listing Li Na: AE1 gets two free-text queries (dob_label, name_list) and moves from clean
    to counted with queries: 14 = 8 + 4 + 2 (tests/validators/test_validate.py: 9 + 3 + 2)."""
    from ctcae.terms import load_curated_dictionary
    from validators.validate import validate_trial

    config_path = make_mini_trial(tmp_path / "mini", config_text=BUNDLED_CONFIG.read_text() + '\n[privacy]\nnames_file = "names.txt"\n')
    (config_path.parent / "names.txt").write_text("Li Na\n", encoding="utf-8")
    events = config_path.parent / "adverse_events.csv"
    events.write_text(events.read_text().replace("AE1,S1,high blood pressure,", 'AE1,S1,"high blood pressure, Li Na DOB 1962-03-14",'))

    validation = validate_trial(load_trial_config(config_path), load_curated_dictionary("5.0"))
    accounting = validation.sources["adverse_events"].accounting
    assert (accounting["clean"], accounting["counted_with_queries"], accounting["excluded"]) == (8, 4, 2)
    privacy = validation.queries.filter(pl.col("check") == "free_text_identifier")
    assert sorted(privacy.select("record_key", "field", "value").iter_rows()) == [
        ("AE1", "verbatim_term", "date of birth at characters 28-41"),
        ("AE1", "verbatim_term", "name from the trial's names list at characters 22-26"),
    ]
