-- grain: source_row. Lab results of treated subjects with their baseline, flagged baseline or on-treatment (first dose < date <= last dose + TEAE window).
SELECT
    l.source_row, l.subject_id, l.collection_date, l.test_code, l.value, l.unit, l.lln, l.uln,
    b.baseline,
    l.source_row = b.baseline_row AS is_baseline,
    COALESCE(
        l.collection_date > d.first_dose_date
        AND ($teae_end_days IS NULL OR l.collection_date <= d.last_dose_date + CAST($teae_end_days AS INTEGER)),
        FALSE
    ) AS on_treatment
FROM stg_labs AS l
JOIN int_subject_dosing AS d USING (subject_id)
LEFT JOIN int_lab_baseline AS b USING (subject_id, test_code)
WHERE d.treated
