-- grain: (subject_id, test_code). Baseline = the last result on or before the first dose.
SELECT subject_id, test_code, source_row AS baseline_row, value AS baseline
FROM (
    SELECT
        l.*,
        row_number() OVER (
            PARTITION BY l.subject_id, l.test_code ORDER BY l.collection_date DESC, l.source_row DESC
        ) AS recency
    FROM stg_labs AS l
    JOIN int_subject_dosing AS d USING (subject_id)
    WHERE d.treated AND l.collection_date <= d.first_dose_date
)
WHERE recency = 1
