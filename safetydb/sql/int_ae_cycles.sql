-- grain: ae_id. The treatment cycle containing each AE's onset (int_subject_cycles; NULL when no cycle contains it), and whether the onset is after the last dose.
-- An AE after the last dose is in no cycle (cycles end at the last dose); whether it is still
-- treatment-emergent (within the TEAE window) is decided in int_adverse_events.
SELECT
    a.ae_id,
    a.subject_id,
    a.onset_date,
    c.cycle,
    c.cycle_start,
    c.cycle_end,
    COALESCE(a.onset_date > d.last_dose_date, FALSE) AS after_treatment
FROM stg_adverse_events AS a
JOIN int_subject_dosing AS d USING (subject_id)
LEFT JOIN int_subject_cycles AS c
    ON c.subject_id = a.subject_id AND a.onset_date BETWEEN c.cycle_start AND c.cycle_end
