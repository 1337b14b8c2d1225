-- grain: (phase, term). Acute (onset on study days 1..acute_days) and late (after that, up to follow_up_days from the first dose, whatever the last dose) toxicity by term; each phase has its own denominator: subjects at risk in it.
WITH at_risk AS (
    -- Acute: every treated subject. Late: treated subjects alive and followed beyond acute_days
    -- (a subject with a late event is at risk whatever the recorded last contact says).
    SELECT 'acute' AS phase, COUNT(*) AS n FROM int_subject_dosing WHERE treated
    UNION ALL
    SELECT 'late', COUNT(*) FROM int_subject_dosing
    WHERE treated AND (days_observed > $acute_days OR subject_id IN (SELECT subject_id FROM int_adverse_events WHERE phase = 'late'))
),
per_subject AS (
    SELECT
        phase,
        CASE WHEN grouping(ae_term) = 1 THEN '(any)' ELSE ae_term END AS term,
        subject_id,
        MAX(grade) AS worst_grade,
        bool_or(related_any) AS any_related,
        MAX(grade) FILTER (WHERE related_any) AS worst_related_grade,
        COUNT(*) AS events
    FROM int_adverse_events
    WHERE phase IS NOT NULL
    GROUP BY GROUPING SETS ((phase, ae_term, subject_id), (phase, subject_id))
)
SELECT
    s.phase,
    s.term,
    COUNT(*) AS subjects,
    CAST(SUM(s.events) AS BIGINT) AS events,
    COUNT(*) FILTER (WHERE s.worst_grade >= 3) AS grade_3_plus,
    COUNT(*) FILTER (WHERE s.any_related) AS related_subjects,
    COUNT(*) FILTER (WHERE s.worst_related_grade >= 3) AS related_grade_3_plus,
    r.n AS denominator,
    round(100.0 * COUNT(*) / NULLIF(r.n, 0), 1) AS percent
FROM per_subject AS s
JOIN at_risk AS r USING (phase)
GROUP BY s.phase, s.term, r.n
ORDER BY s.phase, s.term = '(any)' DESC, subjects DESC, s.term
