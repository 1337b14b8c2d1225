-- grain: ae_id. Reconciliation: an AE counted at grade 5 (fatal) for a subject with no death recorded (int_subject_status counts the subject as a death of unknown date).
SELECT
    'adverse_events' AS source,
    a.ae_id AS record_key,
    a.subject_id,
    'grade' AS field,
    CAST(a.grade_reported AS VARCHAR) AS value,
    'fatal_ae_without_death' AS "check",
    a.ae_term || ' is counted as fatal (grade 5), but the subject has no death_date; the subject is counted as a death of unknown date' AS problem,
    'enter death_date and death_cause for the subject, or correct the grade and outcome of the AE' AS fix
FROM int_adverse_events AS a
JOIN int_subject_dosing AS d USING (subject_id)
WHERE a.grade = 5 AND d.death_date IS NULL AND d.death_cause IS NULL
    AND NOT d.death_after_cut  -- a death dated after the cut: alive at it, the death is recorded
