-- grain: ae_id. Serious AE records known at the cut, with what the expedited-report clock needs; the term matched against the reference safety information is the CTCAE term, or the MedDRA preferred term of a record coded without one.
SELECT
    ae_id, subject_id, COALESCE(ctcae_term, meddra_pt) AS ctcae_term, other_specify, grade, serious_criteria, awareness_date,
    expedited_report_date
FROM stg_adverse_events
WHERE serious = 'Y'
