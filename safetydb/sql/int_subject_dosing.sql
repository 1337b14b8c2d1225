-- grain: subject_id. Treatment dates and observation time; treated = received at least one dose.
-- Follow-up ends at death, else at the last contact; with no last contact recorded (queried), at
-- the last date the subject's own records show them observed (a dose record's recorded end, or its
-- start when the end was filled in; AE onset, lab sample, tumour assessment), never at the cut: an unknown follow-up is not counted as follow-up, so a
-- subject is not made evaluable, or at risk, by a missing date. last_dose_start_date is the start
-- of the last dose record: always recorded, unlike an end date, which is filled in when missing
-- (up to the cut when nothing recorded ends it); OS censoring takes it as a date the subject was
-- seen alive (safetydb/efficacy.py).
WITH dosed AS (
    SELECT subject_id, MIN(start_date) AS first_dose_date, MAX(CASE WHEN end_date > $cut_date THEN $cut_date ELSE end_date END) AS last_dose_date,
        MAX(start_date) AS last_dose_start_date
    FROM stg_exposure
    WHERE administered
    GROUP BY subject_id
),
seen AS (
    SELECT subject_id, MAX(seen_date) AS last_seen_date
    FROM (
        -- an exposure record shows the subject seen to its end only when the end was recorded; else at its start
        SELECT subject_id, CASE WHEN NOT end_date_recorded THEN start_date WHEN end_date > $cut_date THEN $cut_date ELSE end_date END AS seen_date FROM stg_exposure
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
    date_diff('day', d.first_dose_date, ends.follow_up_end) + 1 AS days_observed,
    d.last_dose_start_date
FROM stg_subjects AS s
LEFT JOIN dosed AS d USING (subject_id)
LEFT JOIN ends USING (subject_id)
