-- grain: cycle. TEAE onset by treatment cycle (cycle 1 = days 1..cycle_days after first dose); denominator = subjects dosed in the cycle.
WITH cycles AS (
    SELECT CAST(c AS INTEGER) AS cycle
    FROM range(1, COALESCE((SELECT MAX(cycle) FROM int_adverse_events WHERE teae), 0) + 1) AS t(c)
),
started AS (
    SELECT c.cycle, COUNT(DISTINCT d.subject_id) AS n
    FROM cycles AS c
    JOIN int_subject_dosing AS d
        ON d.treated AND d.last_dose_date >= d.first_dose_date + CAST((c.cycle - 1) * $cycle_days AS INTEGER)
    GROUP BY c.cycle
),
first_onset AS (
    SELECT subject_id, MIN(cycle) AS first_cycle FROM int_adverse_events WHERE teae GROUP BY subject_id
),
per_subject AS (
    SELECT cycle, subject_id, MAX(grade) AS worst_grade, bool_or(related_any) AS any_related, COUNT(*) AS events
    FROM int_adverse_events
    WHERE teae
    GROUP BY cycle, subject_id
)
SELECT
    c.cycle,
    COALESCE(st.n, 0) AS denominator,
    COUNT(ps.subject_id) AS subjects,
    CAST(COALESCE(SUM(ps.events), 0) AS BIGINT) AS events,
    round(100.0 * COUNT(ps.subject_id) / NULLIF(st.n, 0), 1) AS percent,
    COUNT(*) FILTER (WHERE ps.worst_grade = 1) AS worst_grade_1,
    COUNT(*) FILTER (WHERE ps.worst_grade = 2) AS worst_grade_2,
    COUNT(*) FILTER (WHERE ps.worst_grade = 3) AS worst_grade_3,
    COUNT(*) FILTER (WHERE ps.worst_grade = 4) AS worst_grade_4,
    COUNT(*) FILTER (WHERE ps.worst_grade = 5) AS worst_grade_5,
    COUNT(*) FILTER (WHERE ps.worst_grade >= 3) AS grade_3_plus,
    COUNT(*) FILTER (WHERE ps.any_related) AS related_subjects,
    (SELECT COUNT(*) FROM first_onset AS f WHERE f.first_cycle = c.cycle) AS first_onset_subjects
FROM cycles AS c
LEFT JOIN started AS st USING (cycle)
LEFT JOIN per_subject AS ps USING (cycle)
GROUP BY c.cycle, st.n
ORDER BY c.cycle
