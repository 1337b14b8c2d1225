-- grain: agent. Dose intensity per agent over each subject's treatment period with it (first to last dose; int_agent_exposure says how each frequency is read): subjects dosed, median and range of cumulative dose, dose intensity and relative dose intensity (RDI), and subjects with RDI below [exposure] low_rdi_percent.
WITH agents AS (
    SELECT agent, agent_name, ord, frequency, planned_dose_mg FROM agent_dosing
    UNION ALL
    -- an agent in the exposure records that the trial config does not list (queried) still shows
    SELECT DISTINCT agent, agent, NULL, NULL, NULL FROM int_agent_exposure
    WHERE agent NOT IN (SELECT agent FROM agent_dosing)
)
SELECT
    a.agent,
    a.agent_name,
    a.frequency,
    a.planned_dose_mg,
    COUNT(x.subject_id) AS subjects_dosed,
    COUNT(x.subject_id) FILTER (WHERE x.dose_missing) AS subjects_dose_missing,
    median(x.cumulative_dose_mg) AS cumulative_dose_median_mg,
    MIN(x.cumulative_dose_mg) AS cumulative_dose_min_mg,
    MAX(x.cumulative_dose_mg) AS cumulative_dose_max_mg,
    any_value(x.dose_intensity_unit) AS dose_intensity_unit,
    round(median(x.dose_intensity), 1) AS dose_intensity_median,
    round(MIN(x.dose_intensity), 1) AS dose_intensity_min,
    round(MAX(x.dose_intensity), 1) AS dose_intensity_max,
    round(median(x.rdi_percent), 1) AS rdi_median_percent,
    round(MIN(x.rdi_percent), 1) AS rdi_min_percent,
    round(MAX(x.rdi_percent), 1) AS rdi_max_percent,
    COUNT(x.rdi_percent) AS subjects_with_rdi,
    COUNT(*) FILTER (WHERE x.rdi_percent < $low_rdi_percent) AS subjects_low_rdi,
    CAST($low_rdi_percent AS DOUBLE) AS low_rdi_percent,
    round(100.0 * COUNT(*) FILTER (WHERE x.rdi_percent < $low_rdi_percent) / NULLIF(COUNT(x.rdi_percent), 0), 1) AS percent_low_rdi
FROM agents AS a
LEFT JOIN int_agent_exposure AS x USING (agent)
GROUP BY a.agent, a.agent_name, a.ord, a.frequency, a.planned_dose_mg
ORDER BY a.ord NULLS LAST, a.agent
