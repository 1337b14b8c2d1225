-- grain: (agent, ctcae_term). TEAEs related to each agent by term ('(any)' = any term), with the attribution levels behind them.
WITH population AS (
    SELECT COUNT(*) AS n FROM int_subject_dosing WHERE treated
),
related AS (
    SELECT a.subject_id, a.ctcae_term, a.grade, t.agent, t.attribution
    FROM int_adverse_events AS a
    JOIN stg_ae_attribution AS t USING (ae_id)
    WHERE a.teae AND t.related
),
per_subject AS (
    SELECT
        agent,
        CASE WHEN grouping(ctcae_term) = 1 THEN '(any)' ELSE ctcae_term END AS ctcae_term,
        subject_id,
        MAX(grade) AS worst_grade,
        COUNT(*) AS events,
        COUNT(*) FILTER (WHERE attribution = 'possible') AS possible,
        COUNT(*) FILTER (WHERE attribution = 'probable') AS probable,
        COUNT(*) FILTER (WHERE attribution = 'definite') AS definite
    FROM related
    GROUP BY GROUPING SETS ((agent, ctcae_term, subject_id), (agent, subject_id))
)
SELECT
    s.agent,
    s.ctcae_term,
    COUNT(*) AS subjects,
    CAST(SUM(s.events) AS BIGINT) AS events,
    COUNT(*) FILTER (WHERE s.worst_grade >= 3) AS grade_3_plus,
    p.n AS denominator,
    round(100.0 * COUNT(*) / NULLIF(p.n, 0), 1) AS percent,
    CAST(SUM(s.possible) AS BIGINT) AS events_possible,
    CAST(SUM(s.probable) AS BIGINT) AS events_probable,
    CAST(SUM(s.definite) AS BIGINT) AS events_definite
FROM per_subject AS s, population AS p
GROUP BY s.agent, s.ctcae_term, p.n
ORDER BY s.agent, s.ctcae_term = '(any)' DESC, subjects DESC, s.ctcae_term
