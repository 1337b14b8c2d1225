-- grain: ae_id. Serious AE records known at the cut, with what the expedited-report clock needs.
SELECT
    ae_id, subject_id, ctcae_term, other_specify, grade, serious_criteria, awareness_date,
    expedited_report_date
FROM stg_adverse_events
WHERE serious = 'Y'
