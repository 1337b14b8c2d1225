-- grain: subject_id. Treatment dates and observation time; treated = received at least one dose.
-- Follow-up ends at death, else at the last contact; with no last contact recorded (queried), at
-- the last date the subject's own records show them observed (last dose, AE onset, lab sample,
-- tumour assessment), never at the cut: an unknown follow-up is not counted as follow-up, so a
-- subject is not made evaluable, or at risk, by a missing date.
WITH dosed AS (
    SELECT subject_id, MIN(start_date) AS first_dose_date, MAX(CASE WHEN end_date > $cut_date THEN $cut_date ELSE end_date END) AS last_dose_date
    FROM stg_exposure
    WHERE dose_mg > 0
    GROUP BY subject_id
),
seen AS (
    SELECT subject_id, MAX(seen_date) AS last_seen_date
    FROM (
        SELECT subject_id, CASE WHEN end_date > $cut_date THEN $cut_date ELSE end_date END AS seen_date FROM stg_exposure
        UNION ALL SELECT subject_id, onset_date FROM stg_adverse_events
        UNION ALL SELECT subject_id, collection_date FROM stg_labs
        UNION ALL SELECT subject_id, assessment_date FROM stg_tumour_assessments
    )
    GROUP BY subject_id
),
ends AS (
    SELECT s.subject_id, COALESCE(s.death_date, s.last_contact_date, seen.last_seen_date) AS follow_up_end
    FROM stg_subjects AS s
    LEFT JOIN seen USING (subject_id)
)
SELECT
    s.*,
    d.first_dose_date,
    d.last_dose_date,
    d.first_dose_date IS NOT NULL AS treated,
    ends.follow_up_end,
    date_diff('day', d.first_dose_date, ends.follow_up_end) + 1 AS days_observed
FROM stg_subjects AS s
LEFT JOIN dosed AS d USING (subject_id)
LEFT JOIN ends USING (subject_id)
