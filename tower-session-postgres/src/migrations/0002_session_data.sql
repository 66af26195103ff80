-- Migration 2 of tower-session-postgres: server-side session data and creation time.
-- `__SCHEMA__` is replaced by the configured schema. Runs inside the migration transaction.

-- When the session was created, ms since the Unix epoch (the auth process's clock); 0 for
-- sessions created before this migration.
ALTER TABLE __SCHEMA__.tsr_sessions ADD COLUMN time_created bigint NOT NULL DEFAULT 0;
-- Server-side session data (SuperTokens' sessionDataInDatabase), JSON object text; NULL: empty.
ALTER TABLE __SCHEMA__.tsr_sessions ADD COLUMN session_data text;

-- Rotation as tsr_rotate (which it calls, in the same transaction, the row still locked),
-- also answering the creation time and the session data of a rotated session. tsr_rotate
-- is kept unchanged for processes of the previous version during a rolling upgrade.
CREATE FUNCTION __SCHEMA__.tsr_rotate_with_data(
    p_handle text, p_hash text, p_generation bigint, p_family text, p_child text,
    p_expires bigint, p_now bigint, p_max_children integer,
    OUT o_code integer, OUT o_user text, OUT o_tenant text, OUT o_payload text,
    OUT o_created bigint, OUT o_data text)
LANGUAGE plpgsql AS $fn$
BEGIN
    SELECT r.o_code, r.o_user, r.o_tenant, r.o_payload
      INTO o_code, o_user, o_tenant, o_payload
      FROM __SCHEMA__.tsr_rotate(p_handle, p_hash, p_generation, p_family, p_child,
                                 p_expires, p_now, p_max_children) AS r;
    IF o_code = 3 THEN
        SELECT s.time_created, s.session_data INTO o_created, o_data
          FROM __SCHEMA__.tsr_sessions AS s WHERE s.handle = p_handle;
    END IF;
END
$fn$;
