-- grain: subject_id. Subjects enrolled on or before the cut date (or with no usable enrolment date: never dropped), as known at the cut; a death cause with no date is kept (a death of unknown date).
-- An end-of-treatment reason is kept with its date on or before the cut, or with no date (the
-- subject ended treatment on an unknown date); with a date after the cut both are dropped.
-- death_after_cut: the subjects file dates the death after the cut, so the subject was alive at it.
-- $arm: the subjects of one arm (every model of the cut then describes that arm); NULL: all arms pooled.
SELECT
    subject_id, site_id, arm, sex, age, enrolment_date, recurrence_type, prior_reirradiation,
    CASE WHEN end_of_treatment_date <= $cut_date THEN end_of_treatment_date END AS end_of_treatment_date,
    CASE WHEN end_of_treatment_date <= $cut_date OR end_of_treatment_date IS NULL THEN end_of_treatment_reason END AS end_of_treatment_reason,
    CASE WHEN last_contact_date > $cut_date THEN $cut_date ELSE last_contact_date END AS last_contact_date,  -- not LEAST, which turns an empty date into the cut: an unknown follow-up stays unknown
    last_contact_date IS NOT NULL AS last_contact_recorded,
    CASE WHEN death_date <= $cut_date THEN death_date END AS death_date,
    CASE WHEN death_date <= $cut_date OR death_date IS NULL THEN death_cause END AS death_cause,
    COALESCE(death_date > $cut_date, FALSE) AS death_after_cut
FROM subjects
WHERE load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND (enrolment_date <= $cut_date OR enrolment_date IS NULL)
    AND (CAST($arm AS VARCHAR) IS NULL OR arm = CAST($arm AS VARCHAR))
