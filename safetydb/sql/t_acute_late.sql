-- grain: (phase, ctcae_term). Acute (onset within acute_days of first dose) vs late TEAEs; each phase has its own denominator: subjects observed in it.
WITH observed AS (
    SELECT 'acute' AS phase, COUNT(*) AS n FROM int_subject_dosing WHERE treated
    UNION ALL
    SELECT 'late', COUNT(*) FROM int_subject_dosing WHERE treated AND days_observed > $acute_days
),
per_subject AS (
    SELECT
        phase,
        CASE WHEN grouping(ctcae_term) = 1 THEN '(any)' ELSE ctcae_term END AS ctcae_term,
        subject_id,
        MAX(grade) AS worst_grade,
        COUNT(*) AS events
    FROM int_adverse_events
    WHERE teae
    GROUP BY GROUPING SETS ((phase, ctcae_term, subject_id), (phase, subject_id))
)
SELECT
    s.phase,
    s.ctcae_term,
    COUNT(*) AS subjects,
    CAST(SUM(s.events) AS BIGINT) AS events,
    COUNT(*) FILTER (WHERE s.worst_grade >= 3) AS grade_3_plus,
    o.n AS denominator,
    round(100.0 * COUNT(*) / NULLIF(o.n, 0), 1) AS percent
FROM per_subject AS s
JOIN observed AS o USING (phase)
GROUP BY s.phase, s.ctcae_term, o.n
ORDER BY s.phase, s.ctcae_term = '(any)' DESC, subjects DESC, s.ctcae_term
