-- grain: aesi. Per AESI set and group: subjects with a grade >= 1 TEAE in it, study day of first onset (median, range), episodes (AE records), resolved episodes and their duration in days (onset day = day 1; median, range), fatal episodes, and episodes unresolved at the cut.
-- An episode is resolved when its resolution date is on or before the cut and it is not fatal
-- (grade 5); unresolved = episodes - resolved - fatal, so every episode is in one of the three.
WITH population AS (
    SELECT COUNT(*) AS n FROM int_subject_dosing WHERE treated
),
episodes AS (
    SELECT
        u.aesi,
        a.ae_id,
        a.subject_id,
        a.study_day,
        a.grade = 5 AS fatal,
        a.resolution_date IS NOT NULL AND a.grade < 5 AS resolved,
        CASE WHEN a.resolution_date IS NOT NULL AND a.grade < 5 THEN date_diff('day', a.onset_date, a.resolution_date) + 1 END AS episode_days
    FROM int_ae_aesi_units AS u
    JOIN int_adverse_events AS a USING (ae_id)
    WHERE a.teae
),
first_onset AS (
    SELECT aesi, subject_id, MIN(study_day) AS first_onset_day
    FROM episodes
    GROUP BY aesi, subject_id
),
per_unit_onset AS (
    SELECT
        aesi,
        COUNT(*) AS subjects,
        median(first_onset_day) AS median_first_onset_day,
        MIN(first_onset_day) AS min_first_onset_day,
        MAX(first_onset_day) AS max_first_onset_day
    FROM first_onset
    GROUP BY aesi
),
per_unit_episodes AS (
    SELECT
        aesi,
        COUNT(*) AS episodes,
        COUNT(*) FILTER (WHERE resolved) AS resolved_episodes,
        median(episode_days) AS median_episode_days,
        MIN(episode_days) AS min_episode_days,
        MAX(episode_days) AS max_episode_days,
        COUNT(*) FILTER (WHERE fatal) AS fatal_episodes,
        COUNT(*) FILTER (WHERE NOT resolved AND NOT fatal) AS unresolved_episodes
    FROM episodes
    GROUP BY aesi
)
SELECT
    u.aesi,
    u.label,
    u.kind,
    u.aesi_group,
    u.position,
    COALESCE(o.subjects, 0) AS subjects,
    p.n AS denominator,
    round(100.0 * COALESCE(o.subjects, 0) / NULLIF(p.n, 0), 1) AS percent,
    o.median_first_onset_day,
    o.min_first_onset_day,
    o.max_first_onset_day,
    COALESCE(e.episodes, 0) AS episodes,
    COALESCE(e.resolved_episodes, 0) AS resolved_episodes,
    e.median_episode_days,
    e.min_episode_days,
    e.max_episode_days,
    COALESCE(e.fatal_episodes, 0) AS fatal_episodes,
    COALESCE(e.unresolved_episodes, 0) AS unresolved_episodes
FROM aesi_units AS u
CROSS JOIN population AS p
LEFT JOIN per_unit_onset AS o USING (aesi)
LEFT JOIN per_unit_episodes AS e USING (aesi)
ORDER BY u.position
