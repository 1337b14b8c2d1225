-- grain: site_id. Enrolment and status by site at the cut: enrolled, treated (at least one dose), on treatment, ended treatment, died, first and last enrolment; the last row, site_id "(all sites)", totals every site.
-- A subject without a site is counted under "(missing)"; a site the trial config does not name shows its id.
WITH sites AS (
    SELECT
        site_id,
        site_name,
        COUNT(*) AS enrolled,
        COUNT(*) FILTER (WHERE treated) AS treated,
        COUNT(*) FILTER (WHERE on_treatment) AS on_treatment,
        COUNT(*) FILTER (WHERE ended_treatment) AS ended_treatment,
        COUNT(*) FILTER (WHERE died) AS died,
        MIN(enrolment_date) AS first_enrolment,
        MAX(enrolment_date) AS last_enrolment
    FROM int_subject_status
    GROUP BY site_id, site_name
),
total AS (
    SELECT
        '(all sites)' AS site_id,
        'All sites' AS site_name,
        COUNT(*) AS enrolled,
        COUNT(*) FILTER (WHERE treated) AS treated,
        COUNT(*) FILTER (WHERE on_treatment) AS on_treatment,
        COUNT(*) FILTER (WHERE ended_treatment) AS ended_treatment,
        COUNT(*) FILTER (WHERE died) AS died,
        MIN(enrolment_date) AS first_enrolment,
        MAX(enrolment_date) AS last_enrolment
    FROM int_subject_status
)
SELECT row_number() OVER (ORDER BY site_id = '(missing)', site_id) AS ord, * FROM sites
UNION ALL
SELECT (SELECT COUNT(*) FROM sites) + 1, * FROM total
ORDER BY ord
