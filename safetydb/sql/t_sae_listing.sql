-- grain: ae_id. Listing of serious adverse events with relatedness per agent; grade is the grade counted, grade_reported the grade in the source (they differ where a conservative reading applied); a partial onset or resolution date is listed as given beside the date completed for counting, with its imputation flag (D day, M month and day).
SELECT
    a.subject_id, a.ae_id, a.ctcae_term, a.ae_term, a.other_specify, a.grade, a.grade_reported, a.onset_date, a.study_day, a.cycle,
    a.resolution_date, a.outcome, a.serious_criteria, a.awareness_date, a.teae,
    a.onset_date_given, a.onset_date_imputed, a.resolution_date_given, a.resolution_date_imputed,
    string_agg(t.agent || ': ' || t.attribution, '; ' ORDER BY t.agent) AS attribution
FROM int_adverse_events AS a
LEFT JOIN stg_ae_attribution AS t USING (ae_id)
WHERE a.serious = 'Y'
GROUP BY ALL
ORDER BY a.onset_date, a.subject_id, a.ae_id
