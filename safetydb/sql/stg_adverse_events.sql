-- grain: ae_id. AE records with onset on or before the cut date; later resolutions and awareness are not yet known.
SELECT
    a.ae_id, a.subject_id, a.verbatim_term, a.ctcae_term, a.meddra_soc, a.other_specify_term, a.other_specify,
    a.grade, a.grade_reported,
    a.onset_date,
    CASE WHEN a.resolution_date <= $cut_date THEN a.resolution_date END AS resolution_date,
    a.serious, a.serious_criteria, a.outcome,
    CASE WHEN a.awareness_date <= $cut_date THEN a.awareness_date END AS awareness_date,
    CASE WHEN a.expedited_report_date <= $cut_date THEN a.expedited_report_date END AS expedited_report_date,
    a.treatment,
    a.meddra_pt, a.meddra_llt, a.meddra_hlt, a.severity,
    a.onset_date_given, a.onset_date_imputed,
    CASE WHEN a.resolution_date <= $cut_date THEN a.resolution_date_given END AS resolution_date_given,
    CASE WHEN a.resolution_date <= $cut_date THEN a.resolution_date_imputed END AS resolution_date_imputed
FROM adverse_events AS a
JOIN stg_subjects AS s USING (subject_id)
WHERE a.load_id = (SELECT load_id FROM cuts WHERE cut_id = $cut_id) AND a.onset_date <= $cut_date
