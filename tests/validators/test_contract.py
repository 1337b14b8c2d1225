"""The source contract is declared once, in the Pandera models, and everything else derives from it.

The expected column lists below are written out by hand (they are what read.py, parse.py and
sql/schema.sql declared before they were derived), so a change of the models that changes the
contract fails here and has to be made on purpose.
"""

import duckdb
import pytest

from safetydb.store import DERIVED_COLUMNS, SOURCE_TABLES, SafetyStore
from validators import contract
from validators.checks import FRAME_CHECKS
from validators.parse import DATE_COLUMNS, DECIMAL_COLUMNS, INTEGER_COLUMNS
from validators.read import OPTIONAL_COLUMNS, SOURCE_COLUMNS, required_columns
from validators.schemas import SCHEMAS

SUBJECTS = (
    "subject_id", "site_id", "arm", "sex", "age", "enrolment_date", "recurrence_type",
    "prior_reirradiation", "end_of_treatment_date", "end_of_treatment_reason",
    "last_contact_date", "death_date", "death_cause",
)
EXPOSURE = (
    "subject_id", "agent", "start_date", "end_date", "dose_mg", "planned_dose_mg", "route",
    "frequency", "adjustment", "adjustment_reason",
)
ADVERSE_EVENTS = (
    "ae_id", "subject_id", "verbatim_term", "ctcae_term", "other_specify", "grade",
    "onset_date", "resolution_date", "serious", "serious_criteria", "outcome", "awareness_date",
)
LABS = ("subject_id", "collection_date", "test_code", "value", "unit", "lln", "uln")
VITALS = ("subject_id", "measure_date", "sbp_mmhg", "dbp_mmhg", "heart_rate_bpm", "weight_kg")
TUMOUR_ASSESSMENTS = ("subject_id", "assessment_date", "overall_response")


def test_the_reader_requires_the_models_columns_in_their_order():
    assert SOURCE_COLUMNS == {
        "subjects": SUBJECTS, "exposure": EXPOSURE, "adverse_events": ADVERSE_EVENTS, "labs": LABS, "vitals": VITALS,
        "tumour_assessments": TUMOUR_ASSESSMENTS,
    }
    assert OPTIONAL_COLUMNS == {
        "adverse_events": (
            "expedited_report_date", "meddra_pt", "meddra_soc", "meddra_llt", "meddra_hlt", "severity",
            "onset_date_given", "onset_date_imputed", "resolution_date_given", "resolution_date_imputed", "treatment",
        ),
        "tumour_assessments": ("visit", "new_lesions", "method"),
    }
    assert required_columns("adverse_events", ["a", "b"]) == ADVERSE_EVENTS + (
        "attribution_a", "action_a", "attribution_b", "action_b",
    )
    assert required_columns("labs", ["a"]) == LABS


def test_the_parser_types_the_models_columns():
    assert DATE_COLUMNS == {
        "subjects": ("enrolment_date", "end_of_treatment_date", "last_contact_date", "death_date"),
        "exposure": ("start_date", "end_date"),
        "adverse_events": ("onset_date", "resolution_date", "awareness_date", "expedited_report_date"),
        "labs": ("collection_date",),
        "vitals": ("measure_date",),
        "tumour_assessments": ("assessment_date",),
    }
    assert INTEGER_COLUMNS == {"subjects": ("age",), "adverse_events": ("grade",), "vitals": ("sbp_mmhg", "dbp_mmhg", "heart_rate_bpm")}
    assert DECIMAL_COLUMNS == {"exposure": ("dose_mg", "planned_dose_mg"), "labs": ("value", "lln", "uln"), "vitals": ("weight_kg",)}


@pytest.mark.parametrize("source", list(SCHEMAS))
def test_every_column_has_a_type_and_a_description(source):
    for column in contract.source_columns(source):
        assert column.kind in ("text", "date", "whole number", "number"), column.name
        assert column.description.strip(), column.name


def test_every_frame_check_is_declared_once_with_its_text():
    """Each Pandera frame check has its declaration in validators/checks.py, and takes its problem
    text from it; every declared check is some model's; problem texts tell checks apart."""
    in_models = {}
    for source, model in SCHEMAS.items():
        for check in model.to_schema().checks:
            in_models[check.name] = check.error
    assert set(in_models) == set(FRAME_CHECKS)
    for name, error in in_models.items():
        assert error == FRAME_CHECKS[name].error, name
    errors = [check.error for check in FRAME_CHECKS.values()]
    assert len(errors) == len(set(errors))
    for check in FRAME_CHECKS.values():
        assert check.fix and check.consequence.reading, check.name


# The layout of the source tables as sql/schema.sql wrote it (store layout 2), by hand.
STORE_LAYOUT = {
    "subjects": {
        "load_id": "VARCHAR", "subject_id": "VARCHAR", "site_id": "VARCHAR", "arm": "VARCHAR", "sex": "VARCHAR",
        "age": "INTEGER", "enrolment_date": "DATE", "recurrence_type": "VARCHAR", "prior_reirradiation": "VARCHAR",
        "end_of_treatment_date": "DATE", "end_of_treatment_reason": "VARCHAR", "last_contact_date": "DATE",
        "death_date": "DATE", "death_cause": "VARCHAR", "source_row": "BIGINT",
    },
    "exposure": {
        "load_id": "VARCHAR", "subject_id": "VARCHAR", "agent": "VARCHAR", "start_date": "DATE", "end_date": "DATE",
        "dose_mg": "DOUBLE", "planned_dose_mg": "DOUBLE", "route": "VARCHAR", "frequency": "VARCHAR",
        "adjustment": "VARCHAR", "adjustment_reason": "VARCHAR", "source_row": "BIGINT",
    },
    "adverse_events": {
        "load_id": "VARCHAR", "ae_id": "VARCHAR", "subject_id": "VARCHAR", "verbatim_term": "VARCHAR",
        "ctcae_term": "VARCHAR", "meddra_soc": "VARCHAR", "other_specify_term": "BOOLEAN", "other_specify": "VARCHAR",
        "grade": "INTEGER", "grade_reported": "INTEGER", "onset_date": "DATE", "resolution_date": "DATE",
        "serious": "VARCHAR", "serious_criteria": "VARCHAR", "outcome": "VARCHAR", "awareness_date": "DATE",
        "expedited_report_date": "DATE", "source_row": "BIGINT",
        "treatment": "VARCHAR",  # added with layout 4
        # added with layout 5: the MedDRA coding as given, severity, partial dates as given and their imputation
        "meddra_pt": "VARCHAR", "meddra_llt": "VARCHAR", "meddra_hlt": "VARCHAR", "severity": "VARCHAR",
        "onset_date_given": "VARCHAR", "onset_date_imputed": "VARCHAR",
        "resolution_date_given": "VARCHAR", "resolution_date_imputed": "VARCHAR",
    },
    "labs": {
        "load_id": "VARCHAR", "subject_id": "VARCHAR", "collection_date": "DATE", "test_code": "VARCHAR",
        "value": "DOUBLE", "unit": "VARCHAR", "lln": "DOUBLE", "uln": "DOUBLE", "source_row": "BIGINT",
        "baseline": "DOUBLE", "is_baseline": "BOOLEAN", "toxicity_term": "VARCHAR", "toxicity_grade": "INTEGER",
        "gradable": "BOOLEAN",
    },
    "vitals": {
        "load_id": "VARCHAR", "subject_id": "VARCHAR", "measure_date": "DATE", "sbp_mmhg": "INTEGER",
        "dbp_mmhg": "INTEGER", "heart_rate_bpm": "INTEGER", "weight_kg": "DOUBLE", "source_row": "BIGINT",
        "toxicity_term": "VARCHAR", "toxicity_grade": "INTEGER", "gradable": "BOOLEAN",
    },
    # Added with layout 3: tumour assessments, no key (two assessments of one date are both kept).
    "tumour_assessments": {
        "load_id": "VARCHAR", "subject_id": "VARCHAR", "visit": "VARCHAR", "assessment_date": "DATE",
        "overall_response": "VARCHAR", "new_lesions": "VARCHAR", "method": "VARCHAR", "source_row": "BIGINT",
    },
}
# Never missing in a counted record: a missing value excludes it (identifiers, dates, the lab
# result) or a conservative reading fills it (AE identifier, grade, seriousness, outcome; the
# end of an exposure record). Layout 2 declared a subset of these; the rest always held.
NOT_NULL = {
    "subjects": {"load_id", "subject_id"},
    "exposure": {"load_id", "subject_id", "agent", "start_date", "end_date"},
    # ctcae_term may be empty from layout 5 on, when the MedDRA preferred term is given
    "adverse_events": {"load_id", "ae_id", "subject_id", "meddra_soc", "grade", "onset_date", "serious", "outcome"},
    "labs": {"load_id", "subject_id", "collection_date", "test_code", "value"},
    "vitals": {"load_id", "subject_id", "measure_date"},
    "tumour_assessments": {"load_id", "subject_id", "assessment_date", "overall_response"},
}
PRIMARY_KEYS = {"subjects": ["load_id", "subject_id"], "adverse_events": ["load_id", "ae_id"]}


def test_store_source_tables_are_the_models_columns_with_the_stores_own(tmp_path):
    """The generated tables keep layout 2 (same columns and types), so SCHEMA_VERSION stays 2."""
    assert SOURCE_TABLES == tuple(SCHEMAS) and set(DERIVED_COLUMNS) == set(SCHEMAS)
    SafetyStore(tmp_path / "store.duckdb").close()
    with duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True) as connection:
        for table, layout in STORE_LAYOUT.items():
            rows = connection.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $table",
                {"table": table},
            ).fetchall()
            assert {name: data_type for name, data_type, _ in rows} == layout, table
            assert {name for name, _, nullable in rows if nullable == "NO"} == NOT_NULL[table], table
            keys = connection.execute(
                "SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = $table AND constraint_type = 'PRIMARY KEY'",
                {"table": table},
            ).fetchall()
            assert [list(key[0]) for key in keys] == ([PRIMARY_KEYS[table]] if table in PRIMARY_KEYS else []), table
