-- grain: (meddra_soc, term). AET02/AET04: subjects with a TEAE by SOC and term (an "Other, specify" event under its specified text), by worst grade; '(any)' rows are totals.
WITH population AS (
    SELECT COUNT(*) AS n FROM int_subject_dosing WHERE treated
),
per_subject AS (
    SELECT
        CASE WHEN grouping(meddra_soc) = 1 THEN '(any)' ELSE meddra_soc END AS meddra_soc,
        CASE WHEN grouping(ae_term) = 1 THEN '(any)' ELSE ae_term END AS term,
        subject_id,
        MAX(grade) AS worst_grade,
        COUNT(*) AS events
    FROM int_adverse_events
    WHERE teae
    GROUP BY GROUPING SETS ((meddra_soc, ae_term, subject_id), (meddra_soc, subject_id), (subject_id))
)
SELECT
    s.meddra_soc,
    s.term,
    COUNT(*) AS subjects,
    CAST(SUM(s.events) AS BIGINT) AS events,
    p.n AS denominator,
    round(100.0 * COUNT(*) / NULLIF(p.n, 0), 1) AS percent,
    COUNT(*) FILTER (WHERE s.worst_grade = 1) AS worst_grade_1,
    COUNT(*) FILTER (WHERE s.worst_grade = 2) AS worst_grade_2,
    COUNT(*) FILTER (WHERE s.worst_grade = 3) AS worst_grade_3,
    COUNT(*) FILTER (WHERE s.worst_grade = 4) AS worst_grade_4,
    COUNT(*) FILTER (WHERE s.worst_grade = 5) AS worst_grade_5,
    COUNT(*) FILTER (WHERE s.worst_grade >= 3) AS grade_3_plus
FROM per_subject AS s, population AS p
GROUP BY s.meddra_soc, s.term, p.n
ORDER BY s.meddra_soc = '(any)' DESC, s.meddra_soc, s.term = '(any)' DESC, subjects DESC, s.term
