-- grain: (subject_id, agent). Each subject's exposure to each agent they received (at least one administration: a dose above 0 mg, or a placebo): treatment period, cumulative and planned cumulative dose, dose intensity, relative dose intensity, and the first dose reduction or hold.
-- Period: the agent's first dose to its last dose (the last day of its last record with a dose
-- above 0), treatment_days days counting both. How rows are read comes from the agent's frequency
-- (agent_dosing: [[agents]] and data/dosing/frequencies.csv):
-- * interval records (QD, BID, ...): a row doses on every day from start_date to end_date (end
--   clipped at the cut); cumulative dose = sum of dose_mg x administrations a day x days of the
--   row; planned cumulative dose = planned dose x administrations a day x treatment_days;
--   dose intensity in mg per day = cumulative dose / treatment_days.
-- * administration records (QW, Q2W, ...): a row is one administration; cumulative dose = sum of
--   dose_mg; planned administrations = floor((last dose - first dose) in days / interval_days) + 1;
--   planned cumulative dose = planned dose x planned administrations; dose intensity in mg per
--   administration = cumulative dose / planned administrations.
-- The planned dose is the subject's: the highest planned_dose_mg of their records of the agent (the
-- agent's dose_mg in the trial config, or their arm's doses_mg), else the agent's dose_mg. Relative dose intensity (RDI, %) =
-- 100 x cumulative dose / planned cumulative dose. A row whose dose is missing counts as the
-- planned dose given (stg_exposure); dose_missing says so. A frequency not in
-- data/dosing/frequencies.csv leaves the doses and intensities empty.
-- First modification: the first row on or after the first dose that holds or reduces the agent
-- (adjustment held or reduced, or a dose below the planned dose other than a discontinuation),
-- on study day modification_day (day 1 = the agent's first dose). A subject without one is
-- censored at the last dose, on study day censor_day.
WITH per_subject AS (
    SELECT
        subject_id,
        agent,
        MIN(start_date) FILTER (WHERE administered) AS first_dose_date,
        MAX(end_date) FILTER (WHERE administered) AS last_dose_date,
        SUM(dose_mg * (date_diff('day', start_date, end_date) + 1)) FILTER (WHERE administered) AS dose_mg_days,
        SUM(dose_mg) FILTER (WHERE administered) AS dose_mg_records,
        COUNT(*) FILTER (WHERE administered) AS dosing_records,
        bool_or(NOT dose_recorded) AS dose_missing,
        MAX(planned_dose_mg) FILTER (WHERE administered) AS subject_planned_dose_mg
    FROM stg_exposure
    GROUP BY subject_id, agent
),
modifications AS (
    SELECT e.subject_id, e.agent, MIN(e.start_date) AS first_modification_date
    FROM stg_exposure AS e
    JOIN per_subject AS p USING (subject_id, agent)
    WHERE e.start_date >= p.first_dose_date
        AND (e.adjustment IN ('held', 'reduced') OR (e.dose_mg < e.planned_dose_mg AND e.adjustment IS DISTINCT FROM 'discontinued'))
    GROUP BY e.subject_id, e.agent
),
periods AS (
    SELECT
        p.*,
        a.frequency,
        a.records,
        COALESCE(p.subject_planned_dose_mg, a.planned_dose_mg) AS planned_dose_mg,
        date_diff('day', p.first_dose_date, p.last_dose_date) + 1 AS treatment_days,
        CASE a.records
            WHEN 'interval' THEN p.dose_mg_days * a.administrations_per_day
            WHEN 'administration' THEN p.dose_mg_records
        END AS cumulative_dose_mg,
        CASE WHEN a.records = 'administration'
            THEN date_diff('day', p.first_dose_date, p.last_dose_date) // a.interval_days + 1
        END AS planned_administrations,
        CASE a.records
            WHEN 'interval' THEN COALESCE(p.subject_planned_dose_mg, a.planned_dose_mg) * a.administrations_per_day * (date_diff('day', p.first_dose_date, p.last_dose_date) + 1)
            WHEN 'administration' THEN COALESCE(p.subject_planned_dose_mg, a.planned_dose_mg) * (date_diff('day', p.first_dose_date, p.last_dose_date) // a.interval_days + 1)
        END AS planned_cumulative_dose_mg
    FROM per_subject AS p
    LEFT JOIN agent_dosing AS a USING (agent)
    WHERE p.first_dose_date IS NOT NULL
)
SELECT
    p.subject_id,
    p.agent,
    p.frequency,
    p.records,
    p.planned_dose_mg,
    p.first_dose_date,
    p.last_dose_date,
    p.treatment_days,
    p.dosing_records,
    p.planned_administrations,
    p.dose_missing,
    p.cumulative_dose_mg,
    p.planned_cumulative_dose_mg,
    CASE p.records
        WHEN 'interval' THEN p.cumulative_dose_mg / p.treatment_days
        WHEN 'administration' THEN p.cumulative_dose_mg / p.planned_administrations
    END AS dose_intensity,
    CASE p.records WHEN 'interval' THEN 'mg/day' WHEN 'administration' THEN 'mg/administration' END AS dose_intensity_unit,
    100.0 * p.cumulative_dose_mg / NULLIF(p.planned_cumulative_dose_mg, 0) AS rdi_percent,
    m.first_modification_date,
    m.first_modification_date IS NOT NULL AS modified,
    date_diff('day', p.first_dose_date, m.first_modification_date) + 1 AS modification_day,
    p.treatment_days AS censor_day
FROM periods AS p
LEFT JOIN modifications AS m USING (subject_id, agent)
