-- grain: (aesi, agent). Per AESI set and group and per agent, grade >= 1 TEAEs: subjects with an event in it, and subjects whose event led to a reduction, an interruption or a withdrawal of that agent (adverse_events.action_<agent>).
WITH population AS (
    SELECT COUNT(*) AS n FROM int_subject_dosing WHERE treated
),
agents AS (
    SELECT DISTINCT agent FROM stg_ae_attribution
),
in_unit AS (
    SELECT u.aesi, a.ae_id, a.subject_id
    FROM int_ae_aesi_units AS u
    JOIN int_adverse_events AS a USING (ae_id)
    WHERE a.teae
),
subjects AS (
    SELECT aesi, COUNT(DISTINCT subject_id) AS subjects FROM in_unit GROUP BY aesi
),
actions AS (
    SELECT
        i.aesi,
        t.agent,
        COUNT(DISTINCT i.subject_id) FILTER (WHERE t.action = 'dose_reduced') AS subjects_reduced,
        COUNT(DISTINCT i.subject_id) FILTER (WHERE t.action = 'drug_interrupted') AS subjects_interrupted,
        COUNT(DISTINCT i.subject_id) FILTER (WHERE t.action = 'drug_withdrawn') AS subjects_withdrawn,
        COUNT(DISTINCT i.subject_id) FILTER (WHERE t.action IS NULL) AS subjects_action_unknown
    FROM in_unit AS i
    JOIN stg_ae_attribution AS t USING (ae_id)
    GROUP BY i.aesi, t.agent
)
SELECT
    u.aesi,
    u.label,
    u.kind,
    u.aesi_group,
    u.position,
    g.agent,
    COALESCE(s.subjects, 0) AS subjects,
    p.n AS denominator,
    COALESCE(x.subjects_reduced, 0) AS subjects_reduced,
    COALESCE(x.subjects_interrupted, 0) AS subjects_interrupted,
    COALESCE(x.subjects_withdrawn, 0) AS subjects_withdrawn,
    COALESCE(x.subjects_action_unknown, 0) AS subjects_action_unknown
FROM aesi_units AS u
CROSS JOIN agents AS g
CROSS JOIN population AS p
LEFT JOIN subjects AS s USING (aesi)
LEFT JOIN actions AS x ON x.aesi = u.aesi AND x.agent = g.agent
ORDER BY u.position, g.agent
