-- grain: ae_id. AE records meeting a stopping rule's event definition, onset on or after the first dose; every given criterion must hold.
SELECT
    a.ae_id, a.subject_id, a.ctcae_term, a.ae_term, a.other_specify, a.grade, a.grade_reported, a.onset_date, a.study_day,
    a.serious, a.first_dose_date
FROM int_adverse_events AS a
WHERE a.study_day >= 1
    AND a.grade >= $grade_min
    AND (len($related_to) = 0 OR EXISTS (
        SELECT 1 FROM stg_ae_attribution AS t
        WHERE t.ae_id = a.ae_id AND t.related AND list_contains($related_to, t.agent)))
    AND (len($terms) = 0 OR list_contains($terms, a.ctcae_term) OR list_contains($terms, a.ae_term))
    AND (len($socs) = 0 OR list_contains($socs, a.meddra_soc))
    AND (len($aesi) = 0 OR EXISTS (
        SELECT 1 FROM int_ae_aesi AS m WHERE m.ae_id = a.ae_id AND list_contains($aesi, m.aesi)))
    AND ($serious IS NULL OR (a.serious = 'Y') = $serious)
    AND ($window_days IS NULL OR a.study_day <= $window_days)
