-- FraiseQL chat example: the read models (tv_* tables) and their sync functions.
--
-- Every tv_<entity> table has the same four columns (as in examples/blog):
--   id         UUID, the entity's public id (primary key);
--   identifier TEXT, its human-readable identifier (unique within its organisation);
--   tenant_id  UUID, the id of the organisation the row belongs to (its own id for organisations);
--   data       JSONB, the document the GraphQL API serves (snake_case keys).
--
-- v_tv_<entity> views compute what tv_<entity> must contain; they are an implementation detail of
-- the sync functions (security_invoker, see security.py: a sync run by a request reads the tb_*
-- tables under the request's role and policies).
--
-- fn_sync_tv_<entity>(ids UUID[] DEFAULT NULL) recomputes the rows of the given ids (NULL: every
-- row) from the tb_* tables: it inserts or updates the rows whose source exists and deletes the
-- tv rows of the given ids whose source is gone. Rows whose document did not change are not
-- rewritten. It returns the number of rows inserted, updated or deleted. Timestamps in documents
-- always read like "2024-03-01T10:00:00+00:00" (the sync runs with TimeZone = 'UTC').
--
-- Nothing syncs implicitly (no triggers): each mutation function syncs what it changed.
--
-- Re-running this file drops and recreates these objects (the tv_* tables start empty).

DROP FUNCTION IF EXISTS fn_sync_tv_organisation(UUID[]), fn_sync_tv_user(UUID[]),
    fn_sync_tv_room(UUID[]), fn_sync_tv_message(UUID[]), fn_sync_tv_typing(UUID[]);
DROP FUNCTION IF EXISTS fn_sync_read_model(TEXT, UUID[]);
DROP VIEW IF EXISTS v_tv_organisation, v_tv_user, v_tv_room, v_tv_message, v_tv_typing;
DROP TABLE IF EXISTS tv_organisation, tv_user, tv_room, tv_message, tv_typing;

-- ---------------------------------------------------------------------------------------------
-- Tables and indexes
-- ---------------------------------------------------------------------------------------------
-- The expression indexes are the typed accessors the generated filters and orderings write:
-- where {roomId: {eq: $room}} is ((data ->> 'room_id')::uuid) = $1, orderBy [{number: ASC}] is
-- ((data ->> 'number')::numeric), DateTime fields go through fraiseql_timestamptz (CONTRACT_SQL).

CREATE TABLE tv_organisation (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL
);
CREATE INDEX tv_organisation_tenant_id_idx ON tv_organisation (tenant_id);

CREATE TABLE tv_user (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (tenant_id, identifier)
);

CREATE TABLE tv_room (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (tenant_id, identifier)
);
CREATE INDEX tv_room_identifier_idx ON tv_room (identifier);

CREATE TABLE tv_message (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (tenant_id, identifier)
);
CREATE INDEX tv_message_room_number_idx
    ON tv_message (((data ->> 'room_id')::uuid), ((data ->> 'number')::numeric));
CREATE INDEX tv_message_created_at_idx
    ON tv_message (fraiseql_timestamptz(data ->> 'created_at') DESC NULLS LAST, id);
CREATE INDEX tv_message_author_id_idx ON tv_message (((data -> 'author' ->> 'id')::uuid));

CREATE TABLE tv_typing (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (tenant_id, identifier)
);
CREATE INDEX tv_typing_room_id_idx ON tv_typing (((data ->> 'room_id')::uuid));

-- ---------------------------------------------------------------------------------------------
-- What each read model must contain
-- ---------------------------------------------------------------------------------------------

CREATE VIEW v_tv_organisation AS
SELECT o.id,
       o.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', o.id,
           'identifier', o.identifier,
           'name', o.name,
           'created_at', o.created_at
       ) AS data
FROM tb_organisation o;

CREATE VIEW v_tv_user AS
SELECT u.id,
       u.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', u.id,
           'identifier', u.identifier,
           'name', u.name,
           'created_at', u.created_at,
           'organisation', jsonb_build_object(
               'id', o.id,
               'identifier', o.identifier,
               'name', o.name
           )
       ) AS data
FROM tb_user u
JOIN tb_organisation o ON o.pk_organisation = u.fk_organisation;

CREATE VIEW v_tv_room AS
SELECT r.id,
       r.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', r.id,
           'identifier', r.identifier,
           'name', r.name,
           'topic', r.topic,
           'created_at', r.created_at,
           'created_by', (SELECT jsonb_build_object(
                                     'id', c.id, 'identifier', c.identifier, 'name', c.name)
                          FROM tb_user c WHERE c.pk_user = r.fk_user),
           'member_count', (SELECT count(*) FROM tb_room_member m WHERE m.fk_room = r.pk_room),
           'members', COALESCE(
               (SELECT jsonb_agg(
                           jsonb_build_object('id', u.id, 'identifier', u.identifier,
                                              'name', u.name)
                           ORDER BY m.joined_at, m.pk_room_member
                       )
                FROM tb_room_member m
                JOIN tb_user u ON u.pk_user = m.fk_user
                WHERE m.fk_room = r.pk_room),
               '[]'::jsonb
           )
       ) AS data
FROM tb_room r
JOIN tb_organisation o ON o.pk_organisation = r.fk_organisation;

CREATE VIEW v_tv_message AS
SELECT m.id,
       m.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', m.id,
           'identifier', m.identifier,
           'number', m.number,
           'body', m.body,
           'created_at', m.created_at,
           'room_id', r.id,
           'room', jsonb_build_object('id', r.id, 'identifier', r.identifier, 'name', r.name),
           'author', jsonb_build_object('id', a.id, 'identifier', a.identifier, 'name', a.name)
       ) AS data
FROM tb_message m
JOIN tb_room r ON r.pk_room = m.fk_room
JOIN tb_organisation o ON o.pk_organisation = r.fk_organisation
JOIN tb_user a ON a.pk_user = m.fk_user;

CREATE VIEW v_tv_typing AS
SELECT t.id,
       t.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', t.id,
           'identifier', t.identifier,
           'room_id', r.id,
           'user', jsonb_build_object('id', u.id, 'identifier', u.identifier, 'name', u.name),
           'expires_at', t.expires_at,
           'updated_at', t.updated_at
       ) AS data
FROM tb_typing t
JOIN tb_room r ON r.pk_room = t.fk_room
JOIN tb_organisation o ON o.pk_organisation = r.fk_organisation
JOIN tb_user u ON u.pk_user = t.fk_user;

-- ---------------------------------------------------------------------------------------------
-- Sync functions
-- ---------------------------------------------------------------------------------------------
-- One body for every read model: tv_<entity> from v_tv_<entity>, the source being tb_<entity>.
-- The statements are dynamic (their names come from the fn_sync_tv_* wrappers below, never from
-- a request), so each call is planned for its own filter: all rows or the given ids.

CREATE FUNCTION fn_sync_read_model(entity TEXT, ids UUID[]) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    v_read_model text := quote_ident('tv_' || entity);
    v_view text := quote_ident('v_tv_' || entity);
    v_source text := quote_ident('tb_' || entity);
    removed integer;
    written integer;
BEGIN
    EXECUTE format(
        'DELETE FROM %s t WHERE NOT EXISTS (SELECT 1 FROM %s s WHERE s.id = t.id)%s',
        v_read_model, v_source, CASE WHEN ids IS NULL THEN '' ELSE ' AND t.id = ANY ($1)' END
    ) USING ids;
    GET DIAGNOSTICS removed = ROW_COUNT;
    EXECUTE format(
        'INSERT INTO %s AS t (id, identifier, tenant_id, data) '
        'SELECT v.id, v.identifier, v.tenant_id, v.data FROM %s v%s '
        'ON CONFLICT (id) DO UPDATE '
        'SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data '
        'WHERE (t.identifier, t.tenant_id, t.data) '
        'IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data)',
        v_read_model, v_view, CASE WHEN ids IS NULL THEN '' ELSE ' WHERE v.id = ANY ($1)' END
    ) USING ids;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN removed + written;
END;
$$;

CREATE FUNCTION fn_sync_tv_organisation(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$ SELECT fn_sync_read_model('organisation', ids) $$;

CREATE FUNCTION fn_sync_tv_user(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$ SELECT fn_sync_read_model('user', ids) $$;

CREATE FUNCTION fn_sync_tv_room(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$ SELECT fn_sync_read_model('room', ids) $$;

CREATE FUNCTION fn_sync_tv_message(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$ SELECT fn_sync_read_model('message', ids) $$;

CREATE FUNCTION fn_sync_tv_typing(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$ SELECT fn_sync_read_model('typing', ids) $$;
