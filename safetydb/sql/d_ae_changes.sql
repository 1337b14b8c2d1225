-- grain: (ae_id, field). What changed in the adverse events between two cuts ($from_* and $to_*, each a load and a cut date): one row per new or removed AE (field NULL), one per field that changed (grade, term, outcome, seriousness, dates, attribution per agent); a resolution date after a cut is not yet known at it.
WITH sides AS (
    SELECT 'before' AS side, CAST($from_load AS VARCHAR) AS load_id, CAST($from_date AS DATE) AS cut_date
    UNION ALL
    SELECT 'after', CAST($to_load AS VARCHAR), CAST($to_date AS DATE)
),
events AS (
    -- Each cut's AEs as known at it.
    SELECT
        s.side, a.load_id, a.ae_id, a.subject_id, COALESCE(a.meddra_pt, a.ctcae_term) AS ctcae_term, a.grade, a.serious, a.onset_date,
        CASE WHEN a.resolution_date <= s.cut_date THEN a.resolution_date END AS resolution_date,
        a.outcome
    FROM sides AS s
    JOIN adverse_events AS a ON a.load_id = s.load_id AND a.onset_date <= s.cut_date
),
fields AS (
    SELECT side, ae_id, field, value FROM (
        SELECT
            side, ae_id, ctcae_term, CAST(grade AS VARCHAR) AS grade, serious, CAST(onset_date AS VARCHAR) AS onset_date,
            CAST(resolution_date AS VARCHAR) AS resolution_date, outcome
        FROM events
    ) UNPIVOT INCLUDE NULLS (value FOR field IN (ctcae_term, grade, serious, onset_date, resolution_date, outcome))
    UNION ALL
    SELECT e.side, t.ae_id, 'attribution_' || t.agent, t.attribution
    FROM events AS e
    JOIN ae_attribution AS t ON t.load_id = e.load_id AND t.ae_id = e.ae_id
),
before AS (SELECT * FROM events WHERE side = 'before'),
after AS (SELECT * FROM events WHERE side = 'after'),
changed AS (
    SELECT
        CASE
            WHEN field = 'grade' AND CAST(b.value AS INTEGER) < CAST(a.value AS INTEGER) THEN 'grade upgraded'
            WHEN field = 'grade' THEN 'grade downgraded'
            WHEN field = 'resolution_date' AND b.value IS NULL THEN 'resolved'
            WHEN field = 'serious' AND a.value = 'Y' THEN 'became serious'
            ELSE 'changed'
        END AS change,
        ae_id, field, b.value AS before, a.value AS after
    FROM (SELECT * FROM fields WHERE side = 'before') AS b
    FULL JOIN (SELECT * FROM fields WHERE side = 'after') AS a USING (ae_id, field)
    WHERE ae_id IN (SELECT ae_id FROM before INTERSECT SELECT ae_id FROM after) AND b.value IS DISTINCT FROM a.value
)
SELECT 'new' AS change, ae_id, subject_id, ctcae_term, grade, serious, onset_date, NULL AS field, NULL AS before, NULL AS after
FROM after WHERE ae_id NOT IN (SELECT ae_id FROM before)
UNION ALL
SELECT 'removed', ae_id, subject_id, ctcae_term, grade, serious, onset_date, NULL, NULL, NULL
FROM before WHERE ae_id NOT IN (SELECT ae_id FROM after)
UNION ALL
SELECT c.change, c.ae_id, a.subject_id, a.ctcae_term, a.grade, a.serious, a.onset_date, c.field, c.before, c.after
FROM changed AS c JOIN after AS a USING (ae_id)
ORDER BY change, subject_id, ae_id, field
