-- name: window_parts
-- The unmerged pieces of a window (see vigil_window_parts in sql/0003_rollups.sql).
SELECT * FROM vigil_window_parts(%(ids)s::integer[], %(from_ts)s, %(to_ts)s, %(per_region)s);
