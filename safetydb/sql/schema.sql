-- The persistent store: data cuts, the records counted for each, and the records excluded.
CREATE TABLE IF NOT EXISTS store_info (
    schema_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cuts (
    cut_id VARCHAR PRIMARY KEY,
    trial_id VARCHAR NOT NULL,
    cut_date DATE NOT NULL,
    config_sha256 VARCHAR NOT NULL,
    inputs_sha256 VARCHAR NOT NULL,
    dictionary VARCHAR NOT NULL,
    toolkit_version VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS subjects (
    cut_id VARCHAR NOT NULL, subject_id VARCHAR NOT NULL, site_id VARCHAR, arm VARCHAR, sex VARCHAR,
    age INTEGER, enrolment_date DATE, recurrence_type VARCHAR, prior_reirradiation VARCHAR,
    end_of_treatment_date DATE, end_of_treatment_reason VARCHAR, last_contact_date DATE,
    death_date DATE, death_cause VARCHAR, source_row BIGINT,
    PRIMARY KEY (cut_id, subject_id)
);
CREATE TABLE IF NOT EXISTS exposure (
    cut_id VARCHAR NOT NULL, subject_id VARCHAR NOT NULL, agent VARCHAR NOT NULL, start_date DATE,
    end_date DATE, dose_mg DOUBLE, planned_dose_mg DOUBLE, route VARCHAR, frequency VARCHAR,
    adjustment VARCHAR, adjustment_reason VARCHAR, source_row BIGINT
);
CREATE TABLE IF NOT EXISTS adverse_events (
    cut_id VARCHAR NOT NULL, ae_id VARCHAR NOT NULL, subject_id VARCHAR NOT NULL, verbatim_term VARCHAR,
    ctcae_term VARCHAR NOT NULL, meddra_soc VARCHAR NOT NULL, other_specify_term BOOLEAN, other_specify VARCHAR,
    grade INTEGER NOT NULL, grade_reported INTEGER,
    onset_date DATE NOT NULL, resolution_date DATE, serious VARCHAR, serious_criteria VARCHAR,
    outcome VARCHAR, awareness_date DATE, expedited_report_date DATE, source_row BIGINT,
    PRIMARY KEY (cut_id, ae_id)
);
CREATE TABLE IF NOT EXISTS ae_attribution (
    cut_id VARCHAR NOT NULL, ae_id VARCHAR NOT NULL, agent VARCHAR NOT NULL, attribution VARCHAR NOT NULL,
    action VARCHAR,
    PRIMARY KEY (cut_id, ae_id, agent)
);
CREATE TABLE IF NOT EXISTS labs (
    cut_id VARCHAR NOT NULL, subject_id VARCHAR NOT NULL, collection_date DATE, test_code VARCHAR,
    value DOUBLE, unit VARCHAR, lln DOUBLE, uln DOUBLE, source_row BIGINT,
    baseline DOUBLE, is_baseline BOOLEAN, toxicity_term VARCHAR, toxicity_grade INTEGER, gradable BOOLEAN
);
CREATE TABLE IF NOT EXISTS vitals (
    cut_id VARCHAR NOT NULL, subject_id VARCHAR NOT NULL, measure_date DATE, sbp_mmhg INTEGER,
    dbp_mmhg INTEGER, heart_rate_bpm INTEGER, weight_kg DOUBLE, source_row BIGINT,
    toxicity_term VARCHAR, toxicity_grade INTEGER, gradable BOOLEAN
);
CREATE TABLE IF NOT EXISTS quarantine (
    cut_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_row BIGINT NOT NULL, subject_id VARCHAR, record_json VARCHAR,
    reasons VARCHAR NOT NULL,
    PRIMARY KEY (cut_id, source, source_row)
);
CREATE TABLE IF NOT EXISTS flag_history (
    cut_id VARCHAR NOT NULL, cut_date DATE NOT NULL, rule_id VARCHAR NOT NULL, status VARCHAR NOT NULL,
    evaluable INTEGER, events INTEGER, boundary INTEGER,
    PRIMARY KEY (cut_id, rule_id)
);
