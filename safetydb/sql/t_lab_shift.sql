-- grain: (test_code, ctcae_term, baseline_grade). LBT14-style shift: CTCAE grade at baseline (graded against the normal range) against the worst on-treatment grade (graded against baseline where CTCAE says so), per test and direction (term); baseline_grade NULL = no gradable baseline.
WITH graded AS (
    -- On treatment: after the first dose, no later than the TEAE window after the last dose.
    SELECT
        l.subject_id, l.test_code, l.toxicity_term, l.toxicity_grade, l.is_baseline,
        COALESCE(
            l.collection_date > d.first_dose_date
            AND ($teae_end_days IS NULL OR l.collection_date <= d.last_dose_date + CAST($teae_end_days AS INTEGER)),
            FALSE
        ) AS on_treatment
    FROM stg_labs AS l
    JOIN int_subject_dosing AS d USING (subject_id)
    WHERE d.treated AND l.gradable
),
on_treatment AS (
    SELECT
        g.subject_id, g.test_code, t.ctcae_term,
        MAX(CASE WHEN g.toxicity_term = t.ctcae_term THEN g.toxicity_grade ELSE 0 END) AS worst_grade
    FROM graded AS g
    JOIN lab_terms AS t USING (test_code)
    WHERE g.on_treatment
    GROUP BY g.subject_id, g.test_code, t.ctcae_term
),
baseline AS (
    SELECT
        g.subject_id, g.test_code, t.ctcae_term,
        CASE WHEN g.toxicity_term = t.ctcae_term THEN g.toxicity_grade ELSE 0 END AS baseline_grade
    FROM graded AS g
    JOIN lab_terms AS t USING (test_code)
    WHERE g.is_baseline
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
