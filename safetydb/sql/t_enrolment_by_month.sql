-- grain: month. Subjects enrolled in each calendar month (month = its first day), from the month of the first enrolment to the month of the cut, and enrolled so far.
-- A subject whose enrolment date is unknown is in no month (t_disposition counts them).
WITH months AS (
    SELECT CAST(month AS DATE) AS month
    FROM range(
        CAST((SELECT date_trunc('month', MIN(enrolment_date)) FROM int_subject_status) AS TIMESTAMP),
        CAST(date_trunc('month', CAST($cut_date AS DATE)) AS TIMESTAMP) + INTERVAL 1 MONTH,
        INTERVAL 1 MONTH
    ) AS t(month)
),
enrolled AS (
    SELECT CAST(date_trunc('month', enrolment_date) AS DATE) AS month, COUNT(*) AS enrolled
    FROM int_subject_status
    WHERE enrolment_date IS NOT NULL
    GROUP BY 1
)
SELECT
    m.month,
    COALESCE(e.enrolled, 0) AS enrolled,
    CAST(SUM(COALESCE(e.enrolled, 0)) OVER (ORDER BY m.month) AS BIGINT) AS cumulative_enrolled
FROM months AS m
LEFT JOIN enrolled AS e USING (month)
ORDER BY m.month
