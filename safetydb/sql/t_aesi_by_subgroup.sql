-- grain: (variable, level_position, aesi). Per subgroup level (subgroup_levels: the configured levels in order, then any other value found, then Missing) and per AESI set and group, and any grade >= 3 TEAE: treated subjects in the level with a grade >= 1 TEAE in it / treated subjects in the level.
-- A subject's level is the value of the subgroup's variable in the subjects source (as known at
-- the cut); a subject with no value is in the level Missing, never left out.
-- In a trial graded by severity ($grading) the grade >= 3 label reads "severe or fatal".
WITH subject_values AS (
    UNPIVOT (SELECT subject_id, COLUMNS(* EXCLUDE (subject_id))::VARCHAR FROM stg_subjects)
    ON COLUMNS(* EXCLUDE (subject_id))
    INTO NAME variable VALUE value
),
subgroups AS (
    SELECT DISTINCT variable, subgroup_label, subgroup_position FROM subgroup_levels
),
treated_levels AS (
    SELECT g.variable, d.subject_id, v.value AS level
    FROM subgroups AS g
    CROSS JOIN int_subject_dosing AS d
    LEFT JOIN subject_values AS v ON v.subject_id = d.subject_id AND v.variable = g.variable
    WHERE d.treated
),
levels AS (
    -- the configured levels, then values found in the data that the config does not list, then Missing
    SELECT variable, subgroup_label, subgroup_position, level, level_label, level_position
    FROM subgroup_levels
    UNION ALL
    SELECT
        t.variable, g.subgroup_label, g.subgroup_position, t.level,
        COALESCE(t.level, 'Missing') AS level_label,
        (SELECT MAX(level_position) FROM subgroup_levels AS c WHERE c.variable = t.variable)
            + row_number() OVER (PARTITION BY t.variable ORDER BY t.level NULLS LAST) AS level_position
    FROM (SELECT DISTINCT variable, level FROM treated_levels) AS t
    JOIN subgroups AS g USING (variable)
    WHERE NOT EXISTS (SELECT 1 FROM subgroup_levels AS c WHERE c.variable = t.variable AND c.level = t.level)
),
outcomes AS (
    SELECT 'grade_3_plus' AS aesi, CASE WHEN $grading = 'severity' THEN 'Any severe or fatal TEAE' ELSE 'Any grade >= 3 TEAE' END AS label, 'overall' AS kind, CAST(NULL AS VARCHAR) AS aesi_group, 0 AS position
    UNION ALL
    SELECT aesi, label, kind, aesi_group, position FROM aesi_units
),
events AS (
    SELECT 'grade_3_plus' AS aesi, subject_id FROM int_adverse_events WHERE teae AND grade >= 3
    UNION
    SELECT u.aesi, a.subject_id
    FROM int_ae_aesi_units AS u
    JOIN int_adverse_events AS a USING (ae_id)
    WHERE a.teae
),
counts AS (
    SELECT
        l.variable,
        l.level_position,
        o.aesi,
        COUNT(t.subject_id) AS subjects_in_level,
        COUNT(e.subject_id) AS subjects_with_event
    FROM levels AS l
    CROSS JOIN outcomes AS o
    LEFT JOIN treated_levels AS t ON t.variable = l.variable AND t.level IS NOT DISTINCT FROM l.level
    LEFT JOIN events AS e ON e.aesi = o.aesi AND e.subject_id = t.subject_id
    GROUP BY l.variable, l.level_position, o.aesi
)
SELECT
    l.variable,
    l.subgroup_label,
    l.subgroup_position,
    l.level,
    l.level_label,
    l.level_position,
    o.aesi,
    o.label,
    o.kind,
    o.aesi_group,
    o.position,
    c.subjects_with_event,
    c.subjects_in_level,
    round(100.0 * c.subjects_with_event / NULLIF(c.subjects_in_level, 0), 1) AS percent
FROM counts AS c
JOIN levels AS l USING (variable, level_position)
JOIN outcomes AS o USING (aesi)
ORDER BY l.subgroup_position, l.level_position, o.position
