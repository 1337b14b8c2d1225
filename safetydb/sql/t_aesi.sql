-- grain: aesi. Adverse events of special interest: subjects with any grade and grade >= 3, and median study day of first onset.
WITH population AS (
    SELECT COUNT(*) AS n FROM int_subject_dosing WHERE treated
),
sets AS (
    SELECT DISTINCT aesi, label FROM aesi_terms
),
per_subject AS (
    SELECT m.aesi, a.subject_id, MAX(a.grade) AS worst_grade, MIN(a.study_day) AS first_onset_day, COUNT(*) AS events
    FROM int_ae_aesi AS m
    JOIN int_adverse_events AS a USING (ae_id)
    WHERE a.teae
    GROUP BY m.aesi, a.subject_id
)
SELECT
    s.aesi,
    s.label,
    COUNT(ps.subject_id) AS subjects,
    CAST(COALESCE(SUM(ps.events), 0) AS BIGINT) AS events,
    COUNT(*) FILTER (WHERE ps.worst_grade >= 3) AS grade_3_plus,
    COUNT(*) FILTER (WHERE ps.worst_grade = 5) AS grade_5,
    p.n AS denominator,
    round(100.0 * COUNT(ps.subject_id) / NULLIF(p.n, 0), 1) AS percent,
    median(ps.first_onset_day) AS median_first_onset_day
FROM sets AS s
CROSS JOIN population AS p
LEFT JOIN per_subject AS ps USING (aesi)
GROUP BY s.aesi, s.label, p.n
ORDER BY s.aesi
