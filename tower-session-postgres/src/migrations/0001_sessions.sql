-- Migration 1 of tower-session-postgres. `__SCHEMA__` is replaced by the configured schema
-- (a validated, quoted identifier). Runs inside the migration transaction.

-- One row per session; it holds no secrets, only SHA-256 hex of refresh tokens and of the
-- session's family secret, and its size does not grow with the number of rotations.
CREATE TABLE __SCHEMA__.tsr_sessions (
    handle      text    PRIMARY KEY,
    user_id     text    NOT NULL,
    tenant_id   text    NOT NULL,
    -- The access-token payload, JSON text kept byte for byte (NULL: none).
    payload     text,
    family_hash text    NOT NULL,
    head_hash   text    NOT NULL,
    generation  bigint  NOT NULL,
    -- Unused children of the head, oldest first, all of generation + 1 (bounded).
    children    text[]  NOT NULL,
    -- Expiry, ms since the Unix epoch (the auth process's clock).
    expires_at  bigint  NOT NULL
);
CREATE INDEX tsr_sessions_user_id ON __SCHEMA__.tsr_sessions (user_id);
CREATE INDEX tsr_sessions_expires_at ON __SCHEMA__.tsr_sessions (expires_at);

-- The managed signing-key set: one row, replaced whole with a compare-and-set on version.
CREATE TABLE __SCHEMA__.tsr_key_set (
    id      smallint PRIMARY KEY CHECK (id = 1),
    version bigint   NOT NULL,
    key_set text     NOT NULL
);

-- Rotation (see tower_session_refresh::store): one call, one transaction, the session row
-- locked with FOR UPDATE, so concurrent rotations of one session run one after the other.
-- o_code: 0 gone, 1 unknown token, 2 theft (row deleted), 3 rotated.
CREATE FUNCTION __SCHEMA__.tsr_rotate(
    p_handle text, p_hash text, p_generation bigint, p_family text, p_child text,
    p_expires bigint, p_now bigint, p_max_children integer,
    OUT o_code integer, OUT o_user text, OUT o_tenant text, OUT o_payload text)
LANGUAGE plpgsql AS $fn$
DECLARE
    s __SCHEMA__.tsr_sessions%ROWTYPE;
    kids text[];
BEGIN
    SELECT * INTO s FROM __SCHEMA__.tsr_sessions WHERE handle = p_handle FOR UPDATE;
    IF NOT FOUND THEN
        o_code := 0;
        RETURN;
    END IF;
    IF s.expires_at <= p_now THEN
        DELETE FROM __SCHEMA__.tsr_sessions WHERE handle = p_handle;
        o_code := 0;
        RETURN;
    END IF;
    -- Not a token of this session (one made up from the public handle): never revoke.
    IF s.family_hash <> p_family THEN
        o_code := 1;
        RETURN;
    END IF;
    IF s.head_hash = p_hash THEN
        kids := s.children;
        IF cardinality(kids) >= p_max_children THEN
            kids := kids[2:cardinality(kids)];
        END IF;
        UPDATE __SCHEMA__.tsr_sessions
           SET children = array_append(kids, p_child), expires_at = p_expires
         WHERE handle = p_handle;
    ELSIF p_hash = ANY (s.children) THEN
        -- Promotion: the old head and the other children become earlier tokens.
        UPDATE __SCHEMA__.tsr_sessions
           SET head_hash = p_hash, generation = s.generation + 1,
               children = ARRAY[p_child], expires_at = p_expires
         WHERE handle = p_handle;
    ELSIF p_generation <= s.generation THEN
        -- An earlier token of this family came back: theft.
        DELETE FROM __SCHEMA__.tsr_sessions WHERE handle = p_handle;
        o_code := 2;
        o_user := s.user_id;
        RETURN;
    ELSE
        o_code := 1;
        RETURN;
    END IF;
    o_code := 3;
    o_user := s.user_id;
    o_tenant := s.tenant_id;
    o_payload := s.payload;
END
$fn$;

-- Promotion by an API call; it never revokes.
-- 0 gone, 1 promoted, 2 already promoted, 3 deferred (one of several children), 4 stale.
CREATE FUNCTION __SCHEMA__.tsr_promote(p_handle text, p_parent text, p_child text, p_now bigint)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    s __SCHEMA__.tsr_sessions%ROWTYPE;
BEGIN
    SELECT * INTO s FROM __SCHEMA__.tsr_sessions WHERE handle = p_handle FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF s.expires_at <= p_now THEN
        DELETE FROM __SCHEMA__.tsr_sessions WHERE handle = p_handle;
        RETURN 0;
    END IF;
    IF s.head_hash = p_child THEN
        RETURN 2;
    END IF;
    IF s.head_hash <> p_parent OR NOT (p_child = ANY (s.children)) THEN
        RETURN 4;
    END IF;
    IF cardinality(s.children) > 1 THEN
        RETURN 3;
    END IF;
    UPDATE __SCHEMA__.tsr_sessions
       SET head_hash = p_child, generation = s.generation + 1, children = '{}'
     WHERE handle = p_handle;
    RETURN 1;
END
$fn$;
