-- grain: (characteristic, category). Baseline characteristics of the safety population (treated subjects): n (%) by sex, age group ([demographics] age_group_bounds), recurrence type and prior re-irradiation, each value as given; age as median and range. A value missing in the source is a "Missing" row, never a dropped subject.
WITH safety AS (
    SELECT s.*
    FROM int_subject_dosing AS s
    WHERE s.treated
),
population AS (
    SELECT COUNT(*) AS n FROM safety
),
counted AS (
    SELECT 1 AS characteristic_order, 'Sex' AS characteristic, COALESCE(sex, 'Missing') AS category, COUNT(*) AS subjects
    FROM safety GROUP BY ALL
    UNION ALL
    SELECT 3, 'Age group', COALESCE(g.age_group, 'Missing'), COUNT(*)
    FROM safety AS s
    LEFT JOIN age_groups AS g
        ON s.age IS NOT NULL AND (g.lower_age IS NULL OR s.age >= g.lower_age) AND (g.upper_age IS NULL OR s.age < g.upper_age)
    GROUP BY ALL
    UNION ALL
    SELECT 4, 'Recurrence type', COALESCE(recurrence_type, 'Missing'), COUNT(*)
    FROM safety GROUP BY ALL
    UNION ALL
    SELECT 5, 'Prior re-irradiation', COALESCE(prior_reirradiation, 'Missing'), COUNT(*)
    FROM safety GROUP BY ALL
),
age AS (
    SELECT
        2 AS characteristic_order, 'Age (years)' AS characteristic, 'Median (range)' AS category,
        COUNT(age) AS subjects, median(age) AS median, MIN(age) AS minimum, MAX(age) AS maximum
    FROM safety
    UNION ALL
    SELECT 2, 'Age (years)', 'Missing', COUNT(*) FILTER (WHERE age IS NULL), NULL, NULL, NULL
    FROM safety
    HAVING COUNT(*) FILTER (WHERE age IS NULL) > 0
),
rows AS (
    SELECT
        c.characteristic_order, c.characteristic, c.category, c.subjects,
        CAST(NULL AS DOUBLE) AS median, CAST(NULL AS INTEGER) AS minimum, CAST(NULL AS INTEGER) AS maximum,
        -- values in their natural order: age groups by age, others by name; Missing last
        CASE
            WHEN c.category = 'Missing' THEN 1000
            WHEN c.characteristic = 'Age group' THEN (SELECT g.ord FROM age_groups AS g WHERE g.age_group = c.category)
            ELSE 0
        END AS category_order
    FROM counted AS c
    UNION ALL
    SELECT characteristic_order, characteristic, category, subjects, median, minimum, maximum,
        CASE WHEN category = 'Missing' THEN 1000 ELSE 0 END
    FROM age
)
SELECT
    row_number() OVER (ORDER BY r.characteristic_order, r.category_order, r.category) AS ord,
    r.characteristic,
    r.category,
    r.subjects,
    p.n AS denominator,
    round(100.0 * r.subjects / NULLIF(p.n, 0), 1) AS percent,
    r.median,
    r.minimum,
    r.maximum
FROM rows AS r, population AS p
ORDER BY ord
