-- grain: (test_code, ctcae_term, baseline_grade). LBT14-style shift: CTCAE grade at baseline against the worst on-treatment grade, per test and direction (term); baseline_grade NULL = no gradable baseline.
WITH on_treatment AS (
    SELECT
        g.subject_id, g.test_code, t.ctcae_term,
        MAX(CASE WHEN g.ctcae_term = t.ctcae_term THEN g.grade ELSE 0 END) AS worst_grade
    FROM lab_grades AS g
    JOIN lab_terms AS t USING (test_code)
    WHERE g.on_treatment AND g.gradable
    GROUP BY g.subject_id, g.test_code, t.ctcae_term
),
baseline AS (
    SELECT
        g.subject_id, g.test_code, t.ctcae_term,
        CASE WHEN g.ctcae_term = t.ctcae_term THEN g.grade ELSE 0 END AS baseline_grade
    FROM lab_grades AS g
    JOIN lab_terms AS t USING (test_code)
    WHERE g.is_baseline AND g.gradable
),
paired AS (
    SELECT o.test_code, o.ctcae_term, b.baseline_grade, o.worst_grade
    FROM on_treatment AS o
    LEFT JOIN baseline AS b USING (subject_id, test_code, ctcae_term)
)
SELECT
    test_code,
    ctcae_term,
    baseline_grade,
    COUNT(*) AS subjects,
    COUNT(*) FILTER (WHERE worst_grade = 0) AS worst_grade_0,
    COUNT(*) FILTER (WHERE worst_grade = 1) AS worst_grade_1,
    COUNT(*) FILTER (WHERE worst_grade = 2) AS worst_grade_2,
    COUNT(*) FILTER (WHERE worst_grade = 3) AS worst_grade_3,
    COUNT(*) FILTER (WHERE worst_grade = 4) AS worst_grade_4,
    CAST(SUM(COUNT(*)) OVER (PARTITION BY test_code, ctcae_term) AS BIGINT) AS denominator
FROM paired
GROUP BY test_code, ctcae_term, baseline_grade
ORDER BY test_code, ctcae_term, baseline_grade NULLS FIRST
