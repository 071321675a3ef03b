-- FraiseQL blog example: the normalized write model (tb_* tables).
--
-- Conventions
--   * Trinity identifiers on every entity:
--       pk_<entity>  INTEGER identity primary key, internal, never exposed through the API;
--       id           UUID, the public identifier;
--       identifier   TEXT, a human readable slug (e.g. 'acme', 'alice', 'hello-world-42').
--   * Foreign keys are fk_<entity> INTEGER REFERENCES tb_<entity>(pk_<entity>).
--     tb_post.fk_user is the post's author; tb_comment.fk_user the comment's author.
--   * The tenant of a row is an organisation: a user belongs to one, a post to its author's,
--     a comment to its post's. tb_post and tb_comment repeat it in fk_organisation (a
--     denormalized tenant key, set by the write functions and the seed from the author, resp. the
--     post); composite foreign keys make it equal to the author's and the post's organisation.
--   * In a multi-tenant schema a slug is unique per tenant, not globally: UNIQUE (identifier,
--     fk_organisation) on every tenant-owned table (tb_user's email too). A global UNIQUE would
--     make a write with another tenant's slug answer CONFLICT, confirming that the slug exists
--     there. identifier comes first so that the conflict names it (FraiseQL reports the first
--     column of the violated key) and so that a lookup by identifier alone can use the index;
--     fk_organisation has its own index. tb_organisation.identifier stays globally unique: it
--     names the tenant itself. The id UUIDs stay globally unique.
--   * Read models (tv_*) are defined in 20_read_models/ and kept in sync by explicit calls to
--     fn_sync_tv_<entity>(ids); there are no triggers.
--
-- Confiture builds db/schema/ from scratch (fraiseql.migrations.build, called by
-- examples.blog.database.load_schema), in path order: 00_common (extensions, CONTRACT_SQL), 10_tables, 20_read_models, 30_views,
-- 40_functions, 50_security. Requires PostgreSQL 13+ (gen_random_uuid() is built in).

CREATE TABLE tb_organisation (
    pk_organisation INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL UNIQUE
                    CONSTRAINT tb_organisation_identifier_slug
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE tb_user (
    pk_user         INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL
                    CONSTRAINT tb_user_identifier_slug
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email           TEXT NOT NULL
                    CONSTRAINT tb_user_email_plausible
                    CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                           AND length(email) <= 254),
    role            TEXT NOT NULL DEFAULT 'reader'
                    CHECK (role IN ('admin', 'author', 'reader')),
    bio             TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_user_identifier_key UNIQUE (identifier, fk_organisation),
    CONSTRAINT tb_user_email_key UNIQUE (email, fk_organisation),
    -- The target of the composite foreign keys that tie a post or comment to its tenant.
    CONSTRAINT tb_user_organisation_key UNIQUE (pk_user, fk_organisation)
);
CREATE INDEX tb_user_fk_organisation_idx ON tb_user (fk_organisation);

CREATE TABLE tb_post (
    pk_post         INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL
                    CONSTRAINT tb_post_identifier_slug
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    fk_user         INTEGER NOT NULL,
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'published', 'archived')),
    tags            TEXT[] NOT NULL DEFAULT '{}'
                    CHECK (array_position(tags, NULL) IS NULL),
    rating          NUMERIC(3, 2) CHECK (rating BETWEEN 0 AND 5),
    view_count      INTEGER NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    published_at    TIMESTAMPTZ,
    category_path   LTREE NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    version         INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),  -- optimistic locking
    CONSTRAINT tb_post_published_has_date
        CHECK (status <> 'published' OR published_at IS NOT NULL),
    CONSTRAINT tb_post_identifier_key UNIQUE (identifier, fk_organisation),
    -- The author, who belongs to the post's organisation.
    CONSTRAINT tb_post_fk_user_fkey FOREIGN KEY (fk_user, fk_organisation)
        REFERENCES tb_user (pk_user, fk_organisation),
    CONSTRAINT tb_post_organisation_key UNIQUE (pk_post, fk_organisation)
);
CREATE INDEX tb_post_fk_user_idx ON tb_post (fk_user);
CREATE INDEX tb_post_fk_organisation_idx ON tb_post (fk_organisation);

CREATE TABLE tb_comment (
    pk_comment      INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL
                    CONSTRAINT tb_comment_identifier_slug
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    fk_post         INTEGER NOT NULL,
    fk_user         INTEGER NOT NULL,
    body            TEXT NOT NULL CHECK (length(body) >= 1),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_comment_identifier_key UNIQUE (identifier, fk_organisation),
    -- The post and the comment's author, both of the comment's organisation.
    CONSTRAINT tb_comment_fk_post_fkey FOREIGN KEY (fk_post, fk_organisation)
        REFERENCES tb_post (pk_post, fk_organisation) ON DELETE CASCADE,
    CONSTRAINT tb_comment_fk_user_fkey FOREIGN KEY (fk_user, fk_organisation)
        REFERENCES tb_user (pk_user, fk_organisation)
);
CREATE INDEX tb_comment_fk_post_idx ON tb_comment (fk_post);
CREATE INDEX tb_comment_fk_user_idx ON tb_comment (fk_user);
CREATE INDEX tb_comment_fk_organisation_idx ON tb_comment (fk_organisation);
