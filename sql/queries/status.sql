-- Status pages, status incidents and badges (api/status_pages/). Management statements are
-- scoped by account_id; the public reads start from a page found by slug, link or domain and
-- join monitors on that page's account, so a page never shows another account's monitor.

-- name: status_page_create
INSERT INTO status_pages (account_id, slug, title, description, visibility, link_token_hash, custom_domain)
VALUES (%(account_id)s, %(slug)s, %(title)s, %(description)s, %(visibility)s, %(link_token_hash)s,
        %(custom_domain)s)
RETURNING *;

-- name: status_page_list
SELECT * FROM status_pages WHERE account_id = %(account_id)s AND id > %(after)s ORDER BY id LIMIT %(limit)s;

-- name: status_page_get
SELECT * FROM status_pages WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: status_page_update
UPDATE status_pages SET slug = %(slug)s, title = %(title)s, description = %(description)s,
    visibility = %(visibility)s, link_token_hash = %(link_token_hash)s, custom_domain = %(custom_domain)s,
    updated_at = now()
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING *;

-- name: status_page_delete
DELETE FROM status_pages WHERE id = %(id)s AND account_id = %(account_id)s RETURNING id;

-- name: status_page_clear_sections
DELETE FROM status_page_sections WHERE page_id = %(page_id)s;

-- name: status_page_add_section
INSERT INTO status_page_sections (page_id, name, position) VALUES (%(page_id)s, %(name)s, %(position)s)
RETURNING id;

-- name: status_page_add_monitor
INSERT INTO status_page_monitors (section_id, page_id, monitor_id, position, display_name, key, show_target)
VALUES (%(section_id)s, %(page_id)s, %(monitor_id)s, %(position)s, %(display_name)s, %(key)s, %(show_target)s);

-- name: status_account_monitors
-- Which of these monitor ids belong to the account (the others are refused, never shown).
SELECT id FROM monitors WHERE account_id = %(account_id)s AND id = ANY (%(ids)s::integer[]);

-- name: status_page_layout
-- The page's sections and monitors in order, with what the public view needs of each monitor.
-- A section without monitors comes back once with NULL monitor columns.
SELECT s.id AS section_id, s.name AS section_name, s.position AS section_position,
       pm.monitor_id, pm.display_name, pm.key, pm.show_target, pm.position,
       m.target, m.interval_s, (b.monitor_id IS NOT NULL) AS badges
FROM status_page_sections s
JOIN status_pages p ON p.id = s.page_id
LEFT JOIN status_page_monitors pm ON pm.section_id = s.id
LEFT JOIN monitors m ON m.id = pm.monitor_id AND m.account_id = p.account_id
LEFT JOIN monitor_badges b ON b.monitor_id = m.id
WHERE s.page_id = %(page_id)s AND (pm.monitor_id IS NULL OR m.id IS NOT NULL)
ORDER BY s.position, pm.position;

-- name: status_page_by_slug
SELECT id, account_id, slug, title, description, visibility, custom_domain
FROM status_pages WHERE slug = %(slug)s AND visibility = 'public';

-- name: status_page_by_link
SELECT id, account_id, slug, title, description, visibility, custom_domain
FROM status_pages WHERE link_token_hash = %(token_hash)s;

-- name: status_page_by_domain
SELECT id, account_id, slug, title, description, visibility, custom_domain
FROM status_pages WHERE custom_domain = %(domain)s AND visibility = 'public';

-- name: status_current
-- Each monitor's newest slot in [from, to), judged by the slot rule (vigil_slots). The bounds
-- are constants (three of the longest interval back from now), so the planner reads only the
-- chunks they cover; the caller decides per monitor whether its newest slot is recent enough.
SELECT DISTINCT ON (s.monitor_id) s.monitor_id, s.slot, s.status
FROM vigil_slots(%(ids)s::integer[], %(from)s, %(to)s) s
ORDER BY s.monitor_id, s.slot DESC;

-- name: status_figure_bounds
-- Where status_figures reads each part from, as constants for it (so the planner excludes
-- chunks at plan time): whole days from rollup_1d before day_from (the first day not rolled
-- up, usually today); clean rolled hours from rollup_1h in [lo, hi); raw slots from tail_from
-- on (the hours not rolled yet, from hi, and the hours that got late rows, from the first of
-- them); and the head of the last 24 hours, [head_from, head_to), from raw slots when its
-- hour is rolled, since the 24 hours start inside it. The same parts vigil_window_parts
-- reads (sql/functions/windows.sql), without the histograms a page does not show.
WITH wm AS (
    SELECT coalesce(max(s.rolled_until) FILTER (WHERE s.width = interval '1 hour'), '-infinity') AS hourly,
           max(s.rolled_until) FILTER (WHERE s.width = interval '1 day') AS daily,
           vigil_raw_kept_from() AS raw_from
    FROM rollup_state s
), b AS (
    -- Without any rolled day (an aggregator that never ran), yesterday and today are read
    -- from hours and raw slots.
    SELECT d.day_from, l.lo, wm.raw_from,
           greatest(l.lo, least(time_bucket(interval '1 hour', %(now)s::timestamptz), wm.hourly)) AS hi
    FROM wm,
         LATERAL (SELECT greatest(%(first)s::timestamptz, least(%(today)s::timestamptz,
                      coalesce(time_bucket(interval '1 day', wm.daily), %(today)s::timestamptz - interval '1 day')))
                  AS day_from) AS d,
         LATERAL (SELECT least(d.day_from, time_bucket(interval '1 hour', %(since)s::timestamptz)) AS lo) AS l
)
SELECT b.day_from, b.lo, b.hi,
       greatest(b.raw_from, least(b.hi, (SELECT min(r.bucket) FROM rollup_dirty r
                                         WHERE r.monitor_id = ANY (%(ids)s::integer[])
                                           AND r.bucket >= greatest(b.lo, b.raw_from) AND r.bucket < b.hi)))
           AS tail_from,
       greatest(%(since)s::timestamptz, b.raw_from) AS head_from,
       least(time_bucket(interval '1 hour', %(since)s::timestamptz + interval '1 hour' - interval '1 microsecond'),
             b.hi) AS head_to
FROM b;

-- name: status_figures
-- Per monitor, in one statement: slot counts of each day from first to today (day_index 0 =
-- first; days without slots left out) and of the last 24 hours [since, now), under the region
-- quorum (region_id 0 rollups; raw slots judged by vigil_slots). The bounds come from
-- status_figure_bounds; a dirty (monitor, hour) is read from raw, not from its rollup.
WITH dirty AS (
    SELECT r.monitor_id, r.bucket FROM rollup_dirty r
    WHERE r.monitor_id = ANY (%(ids)s::integer[]) AND r.bucket >= %(tail_from)s AND r.bucket < %(hi)s
), pieces AS (
    -- whole: counts toward its day; every piece from since on counts toward the 24 hours
    SELECT h.monitor_id, h.bucket AS t, h.up_slots AS up, h.down_slots AS down, h.slots, true AS whole
    FROM rollup_1h h
    WHERE h.monitor_id = ANY (%(ids)s::integer[]) AND h.region_id = 0
      AND h.bucket >= %(lo)s AND h.bucket < %(hi)s
      AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.monitor_id = h.monitor_id AND d.bucket = h.bucket)
    UNION ALL
    SELECT s.monitor_id, s.slot, (s.status = 'up')::int, (s.status = 'down')::int, 1, true
    FROM vigil_slots(%(ids)s::integer[], %(tail_from)s, %(now)s) s
    WHERE s.slot >= %(hi)s
       OR EXISTS (SELECT 1 FROM dirty d WHERE d.monitor_id = s.monitor_id
                  AND d.bucket = time_bucket(interval '1 hour', s.slot))
    UNION ALL
    SELECT s.monitor_id, s.slot, (s.status = 'up')::int, (s.status = 'down')::int, 1, false
    FROM vigil_slots(%(ids)s::integer[], %(head_from)s, %(head_to)s) s
    WHERE NOT EXISTS (SELECT 1 FROM dirty d WHERE d.monitor_id = s.monitor_id
                      AND d.bucket = time_bucket(interval '1 hour', s.slot))
), days AS (
    SELECT r.monitor_id, r.bucket AS day, r.up_slots AS up, r.down_slots AS down, r.slots
    FROM rollup_1d r
    WHERE r.monitor_id = ANY (%(ids)s::integer[]) AND r.region_id = 0
      AND r.bucket >= %(first)s AND r.bucket < %(day_from)s
    UNION ALL
    SELECT p.monitor_id, time_bucket(interval '1 day', p.t), sum(p.up), sum(p.down), sum(p.slots)
    FROM pieces p WHERE p.whole AND p.t >= %(day_from)s
    GROUP BY 1, 2
)
SELECT m.id AS monitor_id, d.day_index, d.up, d.down, d.slots,
       coalesce(w.up, 0)::integer AS up_24h, coalesce(w.down, 0)::integer AS down_24h
FROM unnest(%(ids)s::integer[]) AS m(id)
-- The arrays in any order, the same for all four (one aggregation's input order): day_index
-- places each value.
LEFT JOIN (SELECT days.monitor_id, array_agg(days.day::date - %(first)s::date) AS day_index,
                  array_agg(days.up::integer) AS up, array_agg(days.down::integer) AS down,
                  array_agg(days.slots::integer) AS slots
           FROM days GROUP BY days.monitor_id) AS d ON d.monitor_id = m.id
LEFT JOIN (SELECT p.monitor_id, sum(p.up) AS up, sum(p.down) AS down
           FROM pieces p WHERE p.t >= %(since)s GROUP BY p.monitor_id) AS w ON w.monitor_id = m.id;

-- name: status_hourly_latency
-- Median and p95 latency per rolled-up hour (quorum view) for the response-time charts.
SELECT monitor_id, bucket, p50_us, p95_us
FROM rollup_1h
WHERE monitor_id = ANY (%(ids)s::integer[]) AND region_id = 0 AND bucket >= %(from)s AND bucket < %(to)s
ORDER BY monitor_id, bucket;

-- name: status_page_incidents
-- The account's incidents a page shows: those affecting one of its monitors or naming none,
-- still open or resolved since %(since)s, newest first, with their updates newest first.
SELECT i.id, i.title, i.impact, i.status, i.monitor_ids, i.created_at, i.updated_at, i.resolved_at,
       coalesce((SELECT json_agg(json_build_object('id', u.id, 'status', u.status, 'message', u.message,
                                                   'created_at', u.created_at) ORDER BY u.id DESC)
                 FROM status_incident_updates u WHERE u.incident_id = i.id), '[]') AS updates
FROM status_incidents i
WHERE i.account_id = %(account_id)s
  AND (cardinality(i.monitor_ids) = 0 OR i.monitor_ids && %(ids)s::integer[])
  AND (i.resolved_at IS NULL OR i.resolved_at >= %(since)s)
ORDER BY i.id DESC
LIMIT %(limit)s;

-- name: status_page_maintenance
-- Occurrences of the account's maintenance windows covering a page monitor (or all of the
-- account's monitors) that overlap [from, to): ongoing and upcoming.
SELECT w.monitor_id, lower(r) AS starts_at, upper(r) AS ends_at
FROM maintenance_windows w
CROSS JOIN LATERAL vigil_maintenance_occurrences(w, %(from)s, %(to)s) r
WHERE w.account_id = %(account_id)s AND (w.monitor_id IS NULL OR w.monitor_id = ANY (%(ids)s::integer[]))
ORDER BY lower(r), w.id
LIMIT %(limit)s;

-- name: status_incident_create
INSERT INTO status_incidents (account_id, title, impact, status, monitor_ids, resolved_at)
VALUES (%(account_id)s, %(title)s, %(impact)s, %(status)s, %(monitor_ids)s,
        CASE WHEN %(status)s = 'resolved' THEN now() END)
RETURNING *;

-- name: status_incident_list
SELECT * FROM status_incidents
WHERE account_id = %(account_id)s AND (%(before)s::bigint IS NULL OR id < %(before)s)
ORDER BY id DESC LIMIT %(limit)s;

-- name: status_incident_get
SELECT * FROM status_incidents WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: status_incident_update
UPDATE status_incidents SET title = %(title)s, impact = %(impact)s, monitor_ids = %(monitor_ids)s,
    updated_at = now()
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING *;

-- name: status_incident_set_status
-- A new update moves the incident to its status; resolving stamps resolved_at, any other
-- status reopens it.
UPDATE status_incidents SET status = %(status)s, updated_at = now(),
    resolved_at = CASE WHEN %(status)s = 'resolved' THEN coalesce(resolved_at, now()) END
WHERE id = %(id)s AND account_id = %(account_id)s
RETURNING *;

-- name: status_incident_delete
DELETE FROM status_incidents WHERE id = %(id)s AND account_id = %(account_id)s RETURNING id;

-- name: status_incident_add_update
INSERT INTO status_incident_updates (incident_id, status, message) VALUES (%(incident_id)s, %(status)s, %(message)s)
RETURNING id, status, message, created_at;

-- name: status_incident_updates
SELECT id, incident_id, status, message, created_at FROM status_incident_updates
WHERE incident_id = ANY (%(ids)s::bigint[]) ORDER BY incident_id, id DESC;

-- name: badge_issue
INSERT INTO monitor_badges (monitor_id, token_hash) VALUES (%(monitor_id)s, %(token_hash)s)
ON CONFLICT (monitor_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = now()
RETURNING created_at;

-- name: badge_delete
DELETE FROM monitor_badges b USING monitors m
WHERE b.monitor_id = m.id AND m.id = %(monitor_id)s AND m.account_id = %(account_id)s
RETURNING b.monitor_id;

-- name: badge_by_token
SELECT m.id AS monitor_id, m.interval_s FROM monitor_badges b JOIN monitors m ON m.id = b.monitor_id
WHERE b.token_hash = %(token_hash)s;

-- name: badge_by_page
-- A monitor's badge through a public page: the monitor must be on the page and opted in.
SELECT m.id AS monitor_id, m.interval_s
FROM status_pages p
JOIN status_page_monitors pm ON pm.page_id = p.id AND pm.key = %(key)s
JOIN monitors m ON m.id = pm.monitor_id AND m.account_id = p.account_id
JOIN monitor_badges b ON b.monitor_id = m.id
WHERE p.slug = %(slug)s AND p.visibility = 'public';
