-- grain: (endpoint, subject_id). Time from first dose (day 1) to the first qualifying AE per treated subject: status 1 event, 2 death first (competing), 0 censored; all censored at day $follow_up_days.
-- Endpoints: any AE of grade >= 3 ('grade_3_plus'), and each AESI set of aesi_terms at any grade
-- (a set with no events still has its rows). Qualifying AEs start on day 1 to $follow_up_days;
-- they are not limited to the TEAE window: late toxicity up to the horizon is the endpoint.
-- An AE starting on the day of death is the event (a fatal AE is the toxicity itself); one
-- reported after the last contact still counts, its record shows the subject was observed.
-- time is a study day (first dose = day 1), the same count as int_adverse_events.study_day.
-- In a trial graded by severity ($grading) the grade >= 3 label reads "severe or fatal".
WITH endpoints AS (
    SELECT 'grade_3_plus' AS endpoint, CASE WHEN $grading = 'severity' THEN 'Any severe or fatal AE' ELSE 'Any grade >= 3 AE' END AS label
    UNION ALL
    SELECT DISTINCT aesi, label FROM aesi_terms
),
treated AS (
    SELECT
        subject_id,
        date_diff('day', first_dose_date, death_date) + 1 AS death_day,
        date_diff('day', first_dose_date, follow_up_end) + 1 AS follow_up_day
    FROM int_subject_dosing
    WHERE treated
),
qualifying AS (
    SELECT 'grade_3_plus' AS endpoint, subject_id, study_day
    FROM int_adverse_events
    WHERE grade >= 3
    UNION ALL
    SELECT m.aesi, a.subject_id, a.study_day
    FROM int_ae_aesi AS m
    JOIN int_adverse_events AS a USING (ae_id)
),
first_onset AS (
    SELECT endpoint, subject_id, MIN(study_day) AS onset_day
    FROM qualifying
    WHERE study_day BETWEEN 1 AND $follow_up_days
    GROUP BY endpoint, subject_id
),
classified AS (
    SELECT
        e.endpoint,
        e.label,
        t.subject_id,
        f.onset_day,
        t.death_day,
        t.follow_up_day,
        CASE
            WHEN f.onset_day IS NOT NULL AND (t.death_day IS NULL OR f.onset_day <= t.death_day) THEN 1
            WHEN t.death_day <= $follow_up_days THEN 2
            ELSE 0
        END AS status
    FROM endpoints AS e
    CROSS JOIN treated AS t
    LEFT JOIN first_onset AS f ON f.endpoint = e.endpoint AND f.subject_id = t.subject_id
)
SELECT
    endpoint,
    label,
    subject_id,
    CASE status
        WHEN 1 THEN onset_day
        WHEN 2 THEN death_day
        ELSE LEAST(follow_up_day, $follow_up_days)
    END AS time,
    status,
    CAST($follow_up_days AS BIGINT) AS horizon_day
FROM classified
