-- grain: category. Subject disposition at the cut, each row with its denominator: enrolled; treated (the safety population) and never dosed, of the enrolled; on treatment, ended treatment (one row per reason as given, none dropped; a reason with no end-of-treatment date in a row of its own, "<reason>, date unknown"), died (on treatment, after the end of treatment, date unknown; and, of the deaths with a date, within 30 days of the last dose or later, as t_deaths) and alive in follow-up after treatment, of the treated; deaths of subjects never dosed, and enrolment dates unknown, of the enrolled.
-- Died, and the statuses that depend on it, as int_subject_status reads them: a death in the subjects file, an AE counted at grade 5 or the end-of-treatment reason "death".
WITH enrolled AS (
    SELECT COUNT(*) AS n FROM int_subject_status
),
treated AS (
    SELECT COUNT(*) AS n FROM int_subject_status WHERE treated
),
reasons AS (
    SELECT
        end_of_treatment_reason || CASE WHEN end_of_treatment_date_unknown THEN ', date unknown' ELSE '' END AS reason,
        COUNT(*) AS subjects,
        -- reasons in the source's order of the contract, then the readings of missing values
        CASE end_of_treatment_reason
            WHEN 'completed' THEN 1 WHEN 'progression' THEN 2 WHEN 'toxicity' THEN 3 WHEN 'death' THEN 4
            WHEN 'withdrawal' THEN 5 WHEN 'reason missing' THEN 7 WHEN 'died, no end of treatment recorded' THEN 8
            ELSE 6
        END AS reason_order
    FROM int_subject_status
    WHERE ended_treatment
    GROUP BY end_of_treatment_reason, end_of_treatment_date_unknown
),
rows AS (
    SELECT 1.0 AS ord, 0 AS level, 'Enrolled' AS category, 'enrolled' AS population, (SELECT n FROM enrolled) AS subjects
    UNION ALL SELECT 2, 0, 'Treated (safety population: at least one dose)', 'enrolled', (SELECT n FROM treated)
    UNION ALL SELECT 3, 0, 'Never dosed', 'enrolled', COUNT(*) FILTER (WHERE NOT treated) FROM int_subject_status
    UNION ALL SELECT 4, 0, 'On treatment at the cut', 'treated', COUNT(*) FILTER (WHERE on_treatment) FROM int_subject_status
    UNION ALL SELECT 5, 0, 'Ended treatment', 'treated', COUNT(*) FILTER (WHERE ended_treatment) FROM int_subject_status
    UNION ALL SELECT 5 + reason_order / 10.0 + row_number() OVER (PARTITION BY reason_order ORDER BY reason) / 1000.0, 1,
        'Ended treatment: ' || reason, 'treated', subjects FROM reasons
    UNION ALL SELECT 6, 0, 'Died', 'treated', COUNT(*) FILTER (WHERE treated AND died) FROM int_subject_status
    UNION ALL SELECT 6.1, 1, 'Died on treatment', 'treated', COUNT(*) FILTER (WHERE death_timing = 'on treatment') FROM int_subject_status
    UNION ALL SELECT 6.2, 1, 'Died after the end of treatment', 'treated', COUNT(*) FILTER (WHERE death_timing = 'after the end of treatment') FROM int_subject_status
    UNION ALL SELECT 6.3, 1, 'Died, date unknown', 'treated', COUNT(*) FILTER (WHERE death_timing = 'date unknown') FROM int_subject_status
    UNION ALL SELECT 6.4, 1, 'Died within 30 days of the last dose', 'treated', COUNT(*) FILTER (WHERE treated AND died_within_30_days_of_last_dose) FROM int_subject_status
    UNION ALL SELECT 6.5, 1, 'Died more than 30 days after the last dose', 'treated', COUNT(*) FILTER (WHERE treated AND NOT died_within_30_days_of_last_dose) FROM int_subject_status
    UNION ALL SELECT 7, 0, 'Alive, in follow-up after treatment', 'treated', COUNT(*) FILTER (WHERE ended_treatment AND NOT died) FROM int_subject_status
    UNION ALL SELECT 8, 0, 'Died, never dosed', 'enrolled', COUNT(*) FILTER (WHERE death_timing = 'never dosed') FROM int_subject_status
    UNION ALL SELECT 9, 0, 'Enrolment date unknown (in no month of the enrolment table)', 'enrolled', COUNT(*) FILTER (WHERE enrolment_date IS NULL) FROM int_subject_status
)
SELECT
    row_number() OVER (ORDER BY r.ord) AS ord,
    r.level,
    r.category,
    r.subjects,
    r.population,
    CASE r.population WHEN 'enrolled' THEN e.n ELSE t.n END AS denominator,
    round(100.0 * r.subjects / NULLIF(CASE r.population WHEN 'enrolled' THEN e.n ELSE t.n END, 0), 1) AS percent
FROM rows AS r, enrolled AS e, treated AS t
ORDER BY r.ord
