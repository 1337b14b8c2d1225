-- grain: (source, record_key). Reconciliation: a lab result or blood pressure reading on treatment that grades >= $value_grade_min ([reconciliation] value_grade_min, default 3) by CTCAE (graded when the cut was stored), with no AE of its CTCAE term starting within $value_ae_window_days days of it, before or after.
SELECT
    o.source,
    o.record_key,
    o.subject_id,
    o.field,
    o.value,
    'value_without_ae' AS "check",
    o.reading || ' on ' || strftime(o.measure_date, '%Y-%m-%d') || ' grades ' || CAST(o.toxicity_grade AS VARCHAR)
        || ' for ' || o.toxicity_term || CASE WHEN o.reference <> '' THEN ' (' || o.reference || ')' ELSE '' END
        || ' and no ' || o.toxicity_term || ' AE starts within ' || CAST($value_ae_window_days AS VARCHAR)
        || ' days of it' AS problem,
    'report the ' || o.toxicity_term || ' adverse event, or explain the value' AS fix
FROM int_graded_values AS o
WHERE o.toxicity_grade >= $value_grade_min
    AND NOT EXISTS (
        SELECT 1 FROM int_adverse_events AS a
        WHERE a.subject_id = o.subject_id
            AND a.ctcae_term = o.toxicity_term
            AND abs(date_diff('day', o.measure_date, a.onset_date)) <= $value_ae_window_days
    )
-- Two results of one test on one day share a record key: the query names the worse one.
QUALIFY row_number() OVER (PARTITION BY o.source, o.record_key ORDER BY o.toxicity_grade DESC, o.source_row) = 1
