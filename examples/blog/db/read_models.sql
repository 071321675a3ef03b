-- FraiseQL blog example: the read models (tv_* tables) and their sync functions.
--
-- Every tv_<entity> table has the same four columns:
--   id         UUID, the entity's public id (primary key);
--   identifier TEXT, its slug: unique per tenant, UNIQUE (identifier, tenant_id), as in tb_*;
--   tenant_id  UUID, the id of the organisation the row belongs to (its own id for organisations);
--   data       JSONB, the document the GraphQL API serves (snake_case keys).
--
-- A lookup by identifier finds at most one row per tenant: under the tenant policies, the
-- caller's. A caller that sees every tenant (the superuser, the single-tenant app) may find
-- several rows with one identifier, and should look entities up by id.
--
-- v_tv_<entity> views compute what tv_<entity> must contain; they are an implementation detail of
-- the sync functions. They render timestamps in the session TimeZone: read tv_<entity> instead.
--
-- fn_sync_tv_<entity>(ids UUID[] DEFAULT NULL) recomputes the rows of the given ids (NULL: every
-- row) from the tb_* tables: it inserts or updates the rows whose source exists and deletes the
-- tv rows of the given ids whose source is gone. Rows whose document did not change are not
-- rewritten. It returns the number of rows inserted, updated or deleted. Each function runs with
-- TimeZone = 'UTC' so timestamps in documents always read like "2024-03-01T10:00:00+00:00".
--
-- Nothing syncs implicitly (no triggers). A write must sync every read model it affects, e.g.
-- renaming a user affects tv_user, and the tv_post and tv_comment rows that embed that user.
--
-- Re-running this file drops and recreates these objects (the tv_* tables start empty).

DROP FUNCTION IF EXISTS fn_sync_tv_organisation(UUID[]);
DROP FUNCTION IF EXISTS fn_sync_tv_user(UUID[]);
DROP FUNCTION IF EXISTS fn_sync_tv_post(UUID[]);
DROP FUNCTION IF EXISTS fn_sync_tv_comment(UUID[]);
DROP VIEW IF EXISTS v_tv_organisation, v_tv_user, v_tv_post, v_tv_comment;
DROP TABLE IF EXISTS tv_organisation, tv_user, tv_post, tv_comment;

-- ---------------------------------------------------------------------------------------------
-- Tables and indexes
-- ---------------------------------------------------------------------------------------------
-- An expression index serves a query only when the query uses the same expression. Those below
-- are the typed accessors a filter writes, e.g. ((data->'author'->>'id')::uuid) = $1,
-- ((data->>'view_count')::numeric) > $1, ((data->>'category_path')::ltree) <@ $1; the GIN
-- indexes serve containment (data @> $1). The text to timestamptz cast is not immutable and
-- cannot be indexed, so DateTime fields are read through fraiseql_timestamptz(text), the
-- IMMUTABLE helper of CONTRACT_SQL, in filters and orderings alike: newest first is the common
-- order, so the indexes below hold that direction (ORDER BY ... DESC NULLS LAST, id).

CREATE TABLE tv_organisation (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL
);
CREATE INDEX tv_organisation_tenant_id_idx ON tv_organisation (tenant_id);
CREATE INDEX tv_organisation_data_idx ON tv_organisation USING gin (data jsonb_path_ops);

CREATE TABLE tv_user (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (identifier, tenant_id)
);
CREATE INDEX tv_user_tenant_id_idx ON tv_user (tenant_id);
CREATE INDEX tv_user_data_idx ON tv_user USING gin (data jsonb_path_ops);
CREATE INDEX tv_user_created_at_idx
    ON tv_user (fraiseql_timestamptz(data ->> 'created_at') DESC NULLS LAST, id);
CREATE INDEX tv_user_email_idx ON tv_user ((data ->> 'email'));
CREATE INDEX tv_user_name_idx ON tv_user ((data ->> 'name'));

CREATE TABLE tv_post (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (identifier, tenant_id)
);
CREATE INDEX tv_post_tenant_id_idx ON tv_post (tenant_id);
CREATE INDEX tv_post_data_idx ON tv_post USING gin (data jsonb_path_ops);
CREATE INDEX tv_post_created_at_idx
    ON tv_post (fraiseql_timestamptz(data ->> 'created_at') DESC NULLS LAST, id);
CREATE INDEX tv_post_published_at_idx
    ON tv_post (fraiseql_timestamptz(data ->> 'published_at') DESC NULLS LAST, id);
CREATE INDEX tv_post_author_id_idx ON tv_post (((data -> 'author' ->> 'id')::uuid));
CREATE INDEX tv_post_view_count_idx ON tv_post (((data ->> 'view_count')::numeric), id);
CREATE INDEX tv_post_category_path_idx ON tv_post USING gist (((data ->> 'category_path')::ltree));

CREATE TABLE tv_comment (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (identifier, tenant_id)
);
CREATE INDEX tv_comment_tenant_id_idx ON tv_comment (tenant_id);
CREATE INDEX tv_comment_data_idx ON tv_comment USING gin (data jsonb_path_ops);
CREATE INDEX tv_comment_created_at_idx
    ON tv_comment (fraiseql_timestamptz(data ->> 'created_at') DESC NULLS LAST, id);
CREATE INDEX tv_comment_post_id_idx ON tv_comment (((data -> 'post' ->> 'id')::uuid));
CREATE INDEX tv_comment_author_id_idx ON tv_comment (((data -> 'author' ->> 'id')::uuid));

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
           'email', u.email,
           'role', u.role,
           'bio', u.bio,
           'created_at', u.created_at,
           'organisation', jsonb_build_object(
               'id', o.id,
               'identifier', o.identifier,
               'name', o.name
           )
       ) AS data
FROM tb_user u
JOIN tb_organisation o ON o.pk_organisation = u.fk_organisation;

CREATE VIEW v_tv_post AS
SELECT p.id,
       p.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', p.id,
           'identifier', p.identifier,
           'title', p.title,
           'body', p.body,
           'status', p.status,
           'tags', to_jsonb(p.tags),
           'rating', p.rating,
           'view_count', p.view_count,
           'version', p.version,
           'published_at', p.published_at,
           'created_at', p.created_at,
           'category_path', p.category_path::text,
           'author', jsonb_build_object(
               'id', a.id,
               'identifier', a.identifier,
               'name', a.name,
               'email', a.email
           ),
           'comments', COALESCE(
               (SELECT jsonb_agg(
                           jsonb_build_object(
                               'id', c.id,
                               'identifier', c.identifier,
                               'body', c.body,
                               'created_at', c.created_at,
                               'author', jsonb_build_object(
                                   'id', ca.id,
                                   'identifier', ca.identifier,
                                   'name', ca.name
                               )
                           )
                           ORDER BY c.created_at, c.id
                       )
                FROM tb_comment c
                JOIN tb_user ca ON ca.pk_user = c.fk_user
                WHERE c.fk_post = p.pk_post),
               '[]'::jsonb
           )
       ) AS data
FROM tb_post p
JOIN tb_user a ON a.pk_user = p.fk_user
JOIN tb_organisation o ON o.pk_organisation = p.fk_organisation;

CREATE VIEW v_tv_comment AS
SELECT c.id,
       c.identifier,
       o.id AS tenant_id,
       jsonb_build_object(
           'id', c.id,
           'identifier', c.identifier,
           'body', c.body,
           'created_at', c.created_at,
           'post', jsonb_build_object(
               'id', p.id,
               'identifier', p.identifier,
               'title', p.title
           ),
           'author', jsonb_build_object(
               'id', ca.id,
               'identifier', ca.identifier,
               'name', ca.name
           )
       ) AS data
FROM tb_comment c
JOIN tb_post p ON p.pk_post = c.fk_post
JOIN tb_organisation o ON o.pk_organisation = c.fk_organisation
JOIN tb_user ca ON ca.pk_user = c.fk_user;

-- ---------------------------------------------------------------------------------------------
-- Sync functions
-- ---------------------------------------------------------------------------------------------
-- The two branches differ only by their filter: a single statement with "ids IS NULL OR
-- id = ANY(ids)" could be planned once, generically, with a full scan, and reused for every call.

CREATE FUNCTION fn_sync_tv_organisation(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN
        DELETE FROM tv_organisation t
        WHERE NOT EXISTS (SELECT 1 FROM tb_organisation s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_organisation AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_organisation v
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSE
        DELETE FROM tv_organisation t
        WHERE t.id = ANY (ids)
          AND NOT EXISTS (SELECT 1 FROM tb_organisation s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_organisation AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_organisation v
        WHERE v.id = ANY (ids)
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    RETURN removed + written;
END;
$$;

CREATE FUNCTION fn_sync_tv_user(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN
        DELETE FROM tv_user t
        WHERE NOT EXISTS (SELECT 1 FROM tb_user s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_user AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_user v
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSE
        DELETE FROM tv_user t
        WHERE t.id = ANY (ids)
          AND NOT EXISTS (SELECT 1 FROM tb_user s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_user AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_user v
        WHERE v.id = ANY (ids)
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    RETURN removed + written;
END;
$$;

CREATE FUNCTION fn_sync_tv_post(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN
        DELETE FROM tv_post t
        WHERE NOT EXISTS (SELECT 1 FROM tb_post s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_post AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_post v
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSE
        DELETE FROM tv_post t
        WHERE t.id = ANY (ids)
          AND NOT EXISTS (SELECT 1 FROM tb_post s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_post AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_post v
        WHERE v.id = ANY (ids)
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    RETURN removed + written;
END;
$$;

CREATE FUNCTION fn_sync_tv_comment(ids UUID[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET TimeZone = 'UTC'
AS $$
DECLARE
    removed integer;
    written integer;
BEGIN
    IF ids IS NULL THEN
        DELETE FROM tv_comment t
        WHERE NOT EXISTS (SELECT 1 FROM tb_comment s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_comment AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_comment v
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    ELSE
        DELETE FROM tv_comment t
        WHERE t.id = ANY (ids)
          AND NOT EXISTS (SELECT 1 FROM tb_comment s WHERE s.id = t.id);
        GET DIAGNOSTICS removed = ROW_COUNT;
        INSERT INTO tv_comment AS t (id, identifier, tenant_id, data)
        SELECT v.id, v.identifier, v.tenant_id, v.data FROM v_tv_comment v
        WHERE v.id = ANY (ids)
        ON CONFLICT (id) DO UPDATE
            SET identifier = excluded.identifier, tenant_id = excluded.tenant_id, data = excluded.data
            WHERE (t.identifier, t.tenant_id, t.data)
                  IS DISTINCT FROM (excluded.identifier, excluded.tenant_id, excluded.data);
        GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    RETURN removed + written;
END;
$$;
