-- grain: subject_id. Reconciliation: a subject whose end-of-treatment reason is "death" with no death recorded (no death_date, no death_cause); counted as a death of unknown date (int_subject_status).
SELECT
    'subjects' AS source,
    d.subject_id AS record_key,
    d.subject_id,
    'end_of_treatment_reason' AS field,
    d.end_of_treatment_reason AS value,
    'death_reason_without_death_date' AS "check",
    'treatment ended for the reason death' || COALESCE(' on ' || strftime(d.end_of_treatment_date, '%Y-%m-%d'), ' (no end-of-treatment date)')
        || ', but the subject has no death_date; counted as a death of unknown date' AS problem,
    'enter death_date and death_cause for the subject, or correct end_of_treatment_reason' AS fix
FROM int_subject_dosing AS d
WHERE d.end_of_treatment_reason = 'death' AND d.death_date IS NULL AND d.death_cause IS NULL AND NOT d.death_after_cut
