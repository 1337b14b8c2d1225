-- grain: subject_id. AET07-style listing of the deaths of treated subjects, as int_subject_status counts them (a death in the subjects file, a death cause with no date being a death of unknown date; or, with no death recorded there, an AE counted at grade 5 or the end-of-treatment reason "death": date and cause empty), with the fatal AE (grade 5, as counted), if any, and its relatedness; "not assessed" when no AE carries the death.
WITH fatal AS (
    SELECT
        a.subject_id,
        string_agg(a.ae_term, '; ' ORDER BY a.onset_date, a.ae_term) AS fatal_events,
        bool_or(a.related_any) AS related
    FROM int_adverse_events AS a
    WHERE a.grade = 5
    GROUP BY a.subject_id
)
SELECT
    d.subject_id, d.death_date, d.death_cause,
    date_diff('day', d.first_dose_date, d.death_date) + 1 AS study_day,
    d.died_within_30_days_of_last_dose AS within_30_days_of_last_dose,
    f.fatal_events,
    CASE
        WHEN f.subject_id IS NULL THEN 'not assessed (no grade 5 AE)'
        WHEN f.related THEN 'related'
        ELSE 'not related'
    END AS treatment_related
FROM int_subject_status AS d
LEFT JOIN fatal AS f USING (subject_id)
WHERE d.treated AND d.died
ORDER BY d.death_date, d.subject_id
