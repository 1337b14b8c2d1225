-- grain: subject_id. Reconciliation: a treated subject whose arm is none of the trial config's [[arms]] values ($arm_values, with two or more arms configured): counted with all arms pooled, in no arm's tables or rules.
SELECT
    'subjects' AS source,
    d.subject_id AS record_key,
    d.subject_id,
    'arm' AS field,
    d.arm AS value,
    'arm_not_configured' AS "check",
    'the treated subject''s arm ' || COALESCE('"' || d.arm || '"', '(missing)') || ' is none of the trial config''s arms ('
        || array_to_string($arm_values, ', ') || '): counted with all arms pooled, in no arm' AS problem,
    'correct the subject''s arm, or add the arm to [[arms]] in the trial config with its value as the data write it' AS fix
FROM int_subject_dosing AS d
WHERE d.treated AND len($arm_values) >= 2 AND (d.arm IS NULL OR NOT list_contains($arm_values, d.arm))
