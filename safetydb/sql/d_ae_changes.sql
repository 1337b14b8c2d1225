-- grain: (ae_id, field). What changed in the adverse events between two cuts ($from_* and $to_*, each a load and a cut date): one row per new or removed AE (field NULL), one per field that changed (grade, term, outcome, seriousness, dates, attribution per agent); a resolution date after a cut is not yet known at it.
WITH before AS (
    SELECT
        ae_id, subject_id, ctcae_term, grade, serious, onset_date,
        CASE WHEN resolution_date <= $from_date THEN resolution_date END AS resolution_date,
        outcome
    FROM adverse_events
    WHERE load_id = $from_load AND onset_date <= $from_date
),
after AS (
    SELECT
        ae_id, subject_id, ctcae_term, grade, serious, onset_date,
        CASE WHEN resolution_date <= $to_date THEN resolution_date END AS resolution_date,
        outcome
    FROM adverse_events
    WHERE load_id = $to_load AND onset_date <= $to_date
),
both_cuts AS (
    SELECT ae_id FROM before INTERSECT SELECT ae_id FROM after
),
before_fields AS (
    SELECT ae_id, field, value FROM (
        SELECT
            ae_id, ctcae_term, CAST(grade AS VARCHAR) AS grade, serious, CAST(onset_date AS VARCHAR) AS onset_date,
            CAST(resolution_date AS VARCHAR) AS resolution_date, outcome
        FROM before
    ) UNPIVOT INCLUDE NULLS (value FOR field IN (ctcae_term, grade, serious, onset_date, resolution_date, outcome))
    UNION ALL
    SELECT t.ae_id, 'attribution_' || t.agent, t.attribution
    FROM ae_attribution AS t JOIN before USING (ae_id)
    WHERE t.load_id = $from_load
),
after_fields AS (
    SELECT ae_id, field, value FROM (
        SELECT
            ae_id, ctcae_term, CAST(grade AS VARCHAR) AS grade, serious, CAST(onset_date AS VARCHAR) AS onset_date,
            CAST(resolution_date AS VARCHAR) AS resolution_date, outcome
        FROM after
    ) UNPIVOT INCLUDE NULLS (value FOR field IN (ctcae_term, grade, serious, onset_date, resolution_date, outcome))
    UNION ALL
    SELECT t.ae_id, 'attribution_' || t.agent, t.attribution
    FROM ae_attribution AS t JOIN after USING (ae_id)
    WHERE t.load_id = $to_load
),
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
    FROM before_fields AS b
    FULL JOIN after_fields AS a USING (ae_id, field)
    WHERE ae_id IN (SELECT ae_id FROM both_cuts) AND b.value IS DISTINCT FROM a.value
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
