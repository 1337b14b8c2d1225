-- grain: (ae_id, aesi). Which AE records belong to which AESI set: by CTCAE term or MedDRA preferred term, or by the "Other, specify" text.
SELECT DISTINCT a.ae_id, s.aesi, s.label
FROM int_adverse_events AS a
JOIN aesi_terms AS s
    ON (s.match_on = 'term' AND (lower(a.ctcae_term) = lower(s.value) OR lower(a.meddra_pt) = lower(s.value)))
    OR (s.match_on = 'other_specify' AND lower(regexp_replace(trim(a.other_specify), '\s+', ' ', 'g')) = lower(s.value))
