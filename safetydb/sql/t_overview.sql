-- grain: category. AET01-style overview of treatment-emergent AEs; denominator = treated subjects.
WITH population AS (
    SELECT COUNT(*) AS n FROM int_subject_dosing WHERE treated
),
teae AS (
    SELECT * FROM int_adverse_events WHERE teae
),
categories AS (
    SELECT 1 AS ord, 'Any TEAE' AS category, COUNT(DISTINCT subject_id) AS subjects, COUNT(*) AS events FROM teae
    UNION ALL SELECT 2, 'Treatment-related TEAE', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE related_any
    UNION ALL SELECT 3, 'Grade >= 3 TEAE', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE grade >= 3
    UNION ALL SELECT 4, 'Grade >= 3 treatment-related TEAE', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE grade >= 3 AND related_any
    UNION ALL SELECT 5, 'Serious TEAE', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE serious = 'Y'
    UNION ALL SELECT 6, 'Treatment-related serious TEAE', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE serious = 'Y' AND related_any
    UNION ALL SELECT 7, 'TEAE leading to dose reduction', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE led_to_reduction
    UNION ALL SELECT 8, 'TEAE leading to drug interruption', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE led_to_interruption
    UNION ALL SELECT 9, 'TEAE leading to withdrawal of an agent', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE led_to_withdrawal
    UNION ALL SELECT 10, 'Fatal TEAE (grade 5)', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE grade = 5
    UNION ALL SELECT 11, 'Treatment-related fatal TEAE', COUNT(DISTINCT subject_id), COUNT(*) FROM teae WHERE grade = 5 AND related_any
    UNION ALL SELECT 12, 'Deaths (any cause)', COUNT(*), NULL FROM int_subject_dosing WHERE treated AND death_date IS NOT NULL
)
SELECT
    c.ord, c.category, c.subjects, c.events, p.n AS denominator,
    round(100.0 * c.subjects / NULLIF(p.n, 0), 1) AS percent
FROM categories AS c, population AS p
ORDER BY c.ord
