-- grain: category. AET01-style overview of treatment-emergent AEs; denominator = treated subjects; each row names the source field it counts. In a trial graded by severity ($grading) grade >= 3 reads "severe or fatal" and grade 5 "fatal".
WITH population AS (
    SELECT COUNT(*) AS n FROM int_subject_dosing WHERE treated
),
teae AS (
    SELECT * FROM int_adverse_events WHERE teae
),
exposure_changes AS (
    SELECT
        e.subject_id,
        bool_or(e.adjustment = 'held') AS held,
        bool_or(e.adjustment = 'reduced') AS reduced
    FROM stg_exposure AS e
    JOIN int_subject_dosing AS d USING (subject_id)
    WHERE d.treated
    GROUP BY e.subject_id
),
categories AS (
    SELECT 1 AS ord, 'Any TEAE' AS category, 'adverse_events' AS source, COUNT(DISTINCT subject_id) AS subjects, COUNT(*) AS events FROM teae
    UNION ALL SELECT 2, 'Treatment-related TEAE', 'adverse_events: attribution_<agent>', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE related_any
    UNION ALL SELECT 3, CASE WHEN $grading = 'severity' THEN 'Severe or fatal TEAE' ELSE 'Grade >= 3 TEAE' END, 'adverse_events: grade', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE grade >= 3
    UNION ALL SELECT 4, CASE WHEN $grading = 'severity' THEN 'Severe or fatal treatment-related TEAE' ELSE 'Grade >= 3 treatment-related TEAE' END, 'adverse_events: grade, attribution_<agent>', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE grade >= 3 AND related_any
    UNION ALL SELECT 5, 'Serious TEAE', 'adverse_events: serious', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE serious = 'Y'
    UNION ALL SELECT 6, 'Treatment-related serious TEAE', 'adverse_events: serious, attribution_<agent>', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE serious = 'Y' AND related_any
    UNION ALL SELECT 7, 'TEAE leading to dose reduction', 'adverse_events: action_<agent>', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE led_to_reduction
    UNION ALL SELECT 8, 'TEAE leading to drug interruption', 'adverse_events: action_<agent>', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE led_to_interruption
    UNION ALL SELECT 9, 'TEAE leading to withdrawal of an agent', 'adverse_events: action_<agent>', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE led_to_withdrawal
    UNION ALL SELECT 10, CASE WHEN $grading = 'severity' THEN 'Fatal TEAE' ELSE 'Fatal TEAE (grade 5)' END, 'adverse_events: grade, outcome', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE grade = 5
    UNION ALL SELECT 11, 'Treatment-related fatal TEAE', 'adverse_events: grade, outcome, attribution_<agent>', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE grade = 5 AND related_any
    UNION ALL SELECT 12, 'Deaths (any cause)', 'subjects: death_date, death_cause', COUNT(*), NULL FROM int_subject_dosing WHERE treated AND (death_date IS NOT NULL OR death_cause IS NOT NULL)
    UNION ALL SELECT 13, 'Any dose hold (exposure records)', 'exposure: adjustment = held', COUNT(*) FILTER (WHERE held), NULL FROM exposure_changes
    UNION ALL SELECT 14, 'Any dose reduction (exposure records)', 'exposure: adjustment = reduced', COUNT(*) FILTER (WHERE reduced), NULL FROM exposure_changes
)
SELECT
    c.ord, c.category, c.source, c.subjects, c.events, p.n AS denominator,
    round(100.0 * c.subjects / NULLIF(p.n, 0), 1) AS percent
FROM categories AS c, population AS p
ORDER BY c.ord
