-- grain: (source, source_row). Lab results and blood-pressure readings on treatment with a CTCAE grade of 1 or more (graded when the cut was stored), as the reconciliation checks read them: both compare a value's grade with an AE grade (>= 1) or with value_grade_min (>= 1), so a grade 0 value never matters.
WITH measured AS (
    -- Graded lab results and blood pressure readings as known at the cut, one row per source record.
    SELECT
        'labs' AS source,
        l.source_row,
        l.subject_id || '/' || l.test_code || '/' || strftime(l.collection_date, '%Y-%m-%d') AS record_key,
        l.subject_id,
        'value' AS field,
        regexp_replace(CAST(l.value AS VARCHAR), '\.0$', '') AS value,
        l.collection_date AS measure_date,
        l.toxicity_term,
        l.toxicity_grade,
        l.test_code || ' ' || regexp_replace(CAST(l.value AS VARCHAR), '\.0$', '') || COALESCE(' ' || l.unit, '') AS reading,
        concat_ws(
            ', ',
            'LLN ' || regexp_replace(CAST(l.lln AS VARCHAR), '\.0$', ''),
            'ULN ' || regexp_replace(CAST(l.uln AS VARCHAR), '\.0$', ''),
            'baseline ' || regexp_replace(CAST(l.baseline AS VARCHAR), '\.0$', '')
        ) AS reference
    FROM stg_labs AS l
    WHERE l.gradable AND l.toxicity_grade >= 1
    UNION ALL
    SELECT
        'vitals' AS source,
        v.source_row,
        v.subject_id || '/' || strftime(v.measure_date, '%Y-%m-%d') AS record_key,
        v.subject_id,
        'sbp_mmhg/dbp_mmhg' AS field,
        COALESCE(CAST(v.sbp_mmhg AS VARCHAR), '?') || '/' || COALESCE(CAST(v.dbp_mmhg AS VARCHAR), '?') AS value,
        v.measure_date,
        v.toxicity_term,
        v.toxicity_grade,
        'BP ' || COALESCE(CAST(v.sbp_mmhg AS VARCHAR), '?') || '/' || COALESCE(CAST(v.dbp_mmhg AS VARCHAR), '?') || ' mmHg' AS reading,
        '' AS reference
    FROM vitals AS v
    JOIN stg_subjects AS s USING (subject_id)
    WHERE v.load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND v.measure_date <= $cut_date AND v.gradable AND v.toxicity_grade >= 1
)
-- On treatment as in t_lab_shift: after the first dose, no later than the TEAE window after the last dose.
SELECT m.*
FROM measured AS m
JOIN int_subject_dosing AS d USING (subject_id)
WHERE m.measure_date > d.first_dose_date
    AND ($teae_end_days IS NULL OR m.measure_date <= d.last_dose_date + CAST($teae_end_days AS INTEGER))
