-- grain: subject_id. Living subjects whose last contact is more than [data_currency] max_days_since_contact days before the cut, or unknown (listed too: their follow-up cannot be shown current), the longest first.
SELECT
    subject_id,
    site_id,
    site_name,
    last_contact_date,
    days_since_contact AS days_before_cut,
    on_treatment,
    treated,
    last_dose_date,
    end_of_treatment_reason,
    CAST($max_days_since_contact AS INTEGER) AS max_days_since_contact
FROM int_subject_status
WHERE NOT died AND (days_since_contact > $max_days_since_contact OR last_contact_date IS NULL)
ORDER BY last_contact_date IS NOT NULL, days_since_contact DESC, subject_id
