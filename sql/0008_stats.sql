-- Grafana reads through the vigil_grafana role (grafana/initdb/10-grafana-reader.sh), which
-- default privileges let read every table; take back those holding key hashes, channel
-- secrets and notification payloads.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vigil_grafana') THEN
        REVOKE SELECT ON api_keys, channels, notifications, notification_attempts FROM vigil_grafana;
    END IF;
END
$$;
