-- grain: site_id. Enrolment and status by site at the cut: enrolled, treated (at least one dose), on treatment, ended treatment, died, first and last enrolment; the last row, site_id "(all sites)", totals every site.
-- A subject without a site is counted under "(missing)"; a site the trial config does not name shows its id.
-- One aggregation for the sites and the total: GROUPING SETS, the empty set being the total (site_id is never NULL in int_subject_status).
WITH counted AS (
    SELECT
        GROUPING(site_id) = 1 AS is_total,
        COALESCE(site_id, '(all sites)') AS site_id,
        CASE WHEN GROUPING(site_id) = 1 THEN 'All sites' ELSE site_name END AS site_name,
        COUNT(*) AS enrolled,
        COUNT(*) FILTER (WHERE treated) AS treated,
        COUNT(*) FILTER (WHERE on_treatment) AS on_treatment,
        COUNT(*) FILTER (WHERE ended_treatment) AS ended_treatment,
        COUNT(*) FILTER (WHERE died) AS died,
        MIN(enrolment_date) AS first_enrolment,
        MAX(enrolment_date) AS last_enrolment
    FROM int_subject_status
    GROUP BY GROUPING SETS ((site_id, site_name), ())
)
SELECT
    row_number() OVER (ORDER BY is_total, site_id = '(missing)', site_id) AS ord,
    * EXCLUDE (is_total)
FROM counted
ORDER BY ord
