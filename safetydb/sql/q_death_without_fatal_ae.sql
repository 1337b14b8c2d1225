-- grain: subject_id. Reconciliation: a subject who died of an adverse event (death_cause) with no AE counted at grade 5.
SELECT
    'subjects' AS source,
    d.subject_id AS record_key,
    d.subject_id,
    'death_cause' AS field,
    d.death_cause AS value,
    'death_without_fatal_ae' AS "check",
    'death on ' || COALESCE(strftime(d.death_date, '%Y-%m-%d'), 'an unknown date') || ' caused by an adverse event, but no AE of the subject is grade 5 or fatal' AS problem,
    'record the fatal adverse event (grade 5, outcome fatal), or correct death_cause' AS fix
FROM int_subject_dosing AS d
WHERE d.death_cause = 'adverse_event'
    AND NOT EXISTS (SELECT 1 FROM int_adverse_events AS a WHERE a.subject_id = d.subject_id AND a.grade = 5)
