-- The persistent store (table layout 3): loads, data cuts, the records of each load, and the
-- history of what each cut showed.
--
-- A load is one reading of a trial's inputs: the source files (by checksum), the trial config,
-- the CTCAE dictionary and criteria, and the toolkit that validated and graded them. Its records,
-- queries and row accounting are stored once. A data cut is a date applied to a load: a new cut
-- date on the same inputs reuses the load; a changed input, config, dictionary or toolkit makes
-- a new load. Every cut is kept, so a past cut is re-reported identically.
--
-- The source tables (subjects, exposure, adverse_events, labs, vitals, tumour_assessments) are created by
-- safetydb/store.py (source_table_ddl) from the sources' Pandera models, validators/schemas.py;
-- load_queries (a load's validation queries) from the queries.csv layout, validators/validate.py.
CREATE TABLE IF NOT EXISTS store_info (
    schema_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS loads (
    load_id VARCHAR PRIMARY KEY,
    trial_id VARCHAR NOT NULL,
    identity_sha256 VARCHAR NOT NULL,     -- inputs, config, dictionary and toolkit, hashed together
    config_sha256 VARCHAR NOT NULL,
    inputs_json VARCHAR NOT NULL,         -- {source: {file, sha256}}
    dictionary VARCHAR NOT NULL,          -- the CTCAE dictionary as described to readers
    dictionary_sha256 VARCHAR NOT NULL,   -- its terms and lab criteria
    toolkit_version VARCHAR NOT NULL,
    toolkit_sha256 VARCHAR NOT NULL,      -- the code that validates, grades and stores
    run_date DATE NOT NULL,               -- dates after it were read as missing (and queried)
    first_date_after_run DATE,            -- the earliest such date: the load holds until that day
    latest_date DATE,                     -- the latest date in the data up to run_date: the default cut
    first_enrolment DATE,
    accounting_json VARCHAR NOT NULL,     -- {source: {rows_in, clean, counted_with_queries, excluded}}
    ignored_columns_json VARCHAR NOT NULL, -- {source: [file columns not read]}
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS cuts (
    cut_id VARCHAR PRIMARY KEY,
    load_id VARCHAR NOT NULL,
    trial_id VARCHAR NOT NULL,
    cut_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS ae_attribution (
    load_id VARCHAR NOT NULL, ae_id VARCHAR NOT NULL, agent VARCHAR NOT NULL, attribution VARCHAR NOT NULL,
    action VARCHAR,
    PRIMARY KEY (load_id, ae_id, agent)
);
CREATE TABLE IF NOT EXISTS quarantine (
    load_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_row BIGINT NOT NULL, subject_id VARCHAR, record_json VARCHAR,
    reasons VARCHAR NOT NULL,
    PRIMARY KEY (load_id, source, source_row)
);
CREATE TABLE IF NOT EXISTS flag_history (
    cut_id VARCHAR NOT NULL, cut_date DATE NOT NULL, rule_id VARCHAR NOT NULL, status VARCHAR NOT NULL,
    evaluable INTEGER, events INTEGER, boundary INTEGER,
    PRIMARY KEY (cut_id, rule_id)
);
-- The alerts delivered (flows/alerts.py): an event is sent to a webhook once; only a successful
-- delivery is recorded, so a failed one is tried again at the next run.
CREATE TABLE IF NOT EXISTS alerts_sent (
    trial_id VARCHAR NOT NULL, webhook VARCHAR NOT NULL, event_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    sent_at TIMESTAMP NOT NULL, cut_id VARCHAR,
    PRIMARY KEY (trial_id, webhook, event_id)
);
