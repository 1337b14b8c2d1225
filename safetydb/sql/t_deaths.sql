-- grain: subject_id. AET07-style listing of deaths with the fatal AE, if any, and its relatedness.
WITH fatal AS (
    SELECT
        a.subject_id,
        string_agg(a.ctcae_term, '; ' ORDER BY a.onset_date) AS fatal_events,
        bool_or(a.related_any) AS related
    FROM int_adverse_events AS a
    WHERE a.grade = 5
    GROUP BY a.subject_id
)
SELECT
    d.subject_id, d.death_date, d.death_cause,
    date_diff('day', d.first_dose_date, d.death_date) + 1 AS study_day,
    d.death_date <= d.last_dose_date + 30 AS within_30_days_of_last_dose,
    f.fatal_events,
    COALESCE(f.related, FALSE) AS treatment_related
FROM int_subject_dosing AS d
LEFT JOIN fatal AS f USING (subject_id)
WHERE d.treated AND d.death_date IS NOT NULL
ORDER BY d.death_date, d.subject_id
