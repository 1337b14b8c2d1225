-- grain: (agent, term). TEAEs related to each agent by term ('(any)' = any term; an "Other, specify" event under its specified text), with the attribution levels behind them (not assessed = missing or invalid in the source, counted as related); denominator = the treated subjects who received the agent (and any with an event related to it).
WITH related AS (
    SELECT a.subject_id, a.ae_term, a.grade, t.agent, t.attribution
    FROM int_adverse_events AS a
    JOIN stg_ae_attribution AS t USING (ae_id)
    WHERE a.teae AND t.related
),
population AS (
    -- a subject with an event related to an agent they have no dose record of is counted in its
    -- denominator too, so that no numerator exceeds its denominator
    SELECT agent, COUNT(DISTINCT subject_id) AS n
    FROM (SELECT subject_id, agent FROM int_agent_exposure UNION SELECT subject_id, agent FROM related)
    GROUP BY agent
),
per_subject AS (
    SELECT
        agent,
        CASE WHEN grouping(ae_term) = 1 THEN '(any)' ELSE ae_term END AS term,
        subject_id,
        MAX(grade) AS worst_grade,
        COUNT(*) AS events,
        COUNT(*) FILTER (WHERE attribution = 'possible') AS possible,
        COUNT(*) FILTER (WHERE attribution = 'probable') AS probable,
        COUNT(*) FILTER (WHERE attribution = 'definite') AS definite,
        COUNT(*) FILTER (WHERE attribution = 'not_assessed') AS not_assessed
    FROM related
    GROUP BY GROUPING SETS ((agent, ae_term, subject_id), (agent, subject_id))
)
SELECT
    s.agent,
    s.term,
    COUNT(*) AS subjects,
    CAST(SUM(s.events) AS BIGINT) AS events,
    COUNT(*) FILTER (WHERE s.worst_grade >= 3) AS grade_3_plus,
    p.n AS denominator,
    round(100.0 * COUNT(*) / NULLIF(p.n, 0), 1) AS percent,
    CAST(SUM(s.possible) AS BIGINT) AS events_possible,
    CAST(SUM(s.probable) AS BIGINT) AS events_probable,
    CAST(SUM(s.definite) AS BIGINT) AS events_definite,
    CAST(SUM(s.not_assessed) AS BIGINT) AS events_not_assessed
FROM per_subject AS s
LEFT JOIN population AS p USING (agent)
GROUP BY s.agent, s.term, p.n
ORDER BY s.agent, s.term = '(any)' DESC, subjects DESC, s.term
