-- FraiseQL blog example: the read models (tv_* tables) (tables and indexes); the views that define
-- them are in 30_views/, their sync functions in 40_functions/.
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

-- ---------------------------------------------------------------------------------------------
-- Tables and indexes
-- ---------------------------------------------------------------------------------------------
-- An expression index serves a query only when the query uses the same expression. Those below
-- are the typed accessors a filter writes, e.g. ((data->'author'->>'id')::uuid) = $1,
-- ((data->>'view_count')::numeric) > $1, ((data->>'category_path')::ltree) <@ $1; the GIN
-- indexes serve containment (data @> $1). FraiseQL's filters never test a whole post for
-- containment, only its tags ((data->'tags') @> $1, from tags: {contains: [...]}): the GIN
-- index of tv_post holds just the tags, which every write of a post indexes, not every path
-- of the document. The text to timestamptz cast is not immutable and cannot be indexed, so
-- DateTime fields are read through fraiseql_timestamptz(text), the IMMUTABLE helper of
-- CONTRACT_SQL, in filters and orderings alike: newest first is the common order, so the
-- indexes below hold that direction (ORDER BY ... DESC NULLS LAST, id).

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
CREATE INDEX tv_post_tags_idx ON tv_post USING gin ((data -> 'tags') jsonb_path_ops);
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
