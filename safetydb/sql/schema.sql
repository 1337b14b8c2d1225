-- The persistent store: data cuts, the records counted for each, and the records excluded.
-- The source tables (subjects, exposure, adverse_events, labs, vitals) are created by
-- safetydb/store.py (source_table_ddl) from the sources' Pandera models, validators/schemas.py.
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
CREATE TABLE IF NOT EXISTS ae_attribution (
    cut_id VARCHAR NOT NULL, ae_id VARCHAR NOT NULL, agent VARCHAR NOT NULL, attribution VARCHAR NOT NULL,
    action VARCHAR,
    PRIMARY KEY (cut_id, ae_id, agent)
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
