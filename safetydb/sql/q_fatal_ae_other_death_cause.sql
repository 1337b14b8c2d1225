-- grain: ae_id. Reconciliation: an AE counted at grade 5 (fatal) for a subject whose recorded death has another cause, or came before the AE started (a cause recorded as unknown is no other cause).
SELECT
    'adverse_events' AS source,
    a.ae_id AS record_key,
    a.subject_id,
    'outcome' AS field,
    a.outcome AS value,
    'fatal_ae_other_death_cause' AS "check",
    a.ae_term || ' (onset ' || strftime(a.onset_date, '%Y-%m-%d') || ', grade ' || COALESCE(CAST(a.grade_reported AS VARCHAR), 'missing')
        || ' reported) is counted as fatal, but the subject''s death on ' || COALESCE(strftime(d.death_date, '%Y-%m-%d'), 'an unknown date')
        || ' is recorded as ' || COALESCE(d.death_cause, 'of unknown cause')
        || CASE WHEN d.death_date < a.onset_date THEN ', before the event started' ELSE '' END AS problem,
    'correct the AE''s grade and outcome, or the subject''s death_cause' AS fix
FROM int_adverse_events AS a
JOIN int_subject_dosing AS d USING (subject_id)
WHERE a.grade = 5
    AND (d.death_date IS NOT NULL OR d.death_cause IS NOT NULL)
    AND (COALESCE(d.death_cause, '') NOT IN ('adverse_event', 'unknown') OR d.death_date < a.onset_date)
