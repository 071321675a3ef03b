-- FraiseQL chat example: the normalized write model (tb_* tables).
--
-- Conventions (the same as examples/blog)
--   * Trinity identifiers on every entity:
--       pk_<entity>  INTEGER identity primary key, internal, never exposed through the API;
--       id           UUID, the public identifier;
--       identifier   TEXT, human readable: a slug for organisations, users and rooms (unique in
--                    their organisation), '<room>-<number>' for messages, '<room>:<user>' for
--                    memberships and typing rows.
--   * Foreign keys are fk_<entity> INTEGER REFERENCES tb_<entity>(pk_<entity>).
--   * The tenant of a row is an organisation: users and rooms belong to one; memberships,
--     messages and typing rows to their room's.
--   * Read models (tv_*) are defined in read_models.sql and kept in sync by explicit calls to
--     fn_sync_tv_<entity>(ids); there are no triggers.
--
-- Re-running this file drops and recreates the example's tables (and, by CASCADE, the views in
-- read_models.sql that read them). Requires PostgreSQL 13+ (gen_random_uuid() is built in).

DROP TABLE IF EXISTS tb_typing, tb_message, tb_room_member, tb_room, tb_user, tb_organisation
    CASCADE;

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
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_user_identifier_key UNIQUE (fk_organisation, identifier)
);

CREATE TABLE tb_room (
    pk_room         INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL
                    CONSTRAINT tb_room_identifier_slug
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(identifier) <= 64),
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    fk_user         INTEGER REFERENCES tb_user (pk_user),  -- who created it (NULL: seeded)
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    topic           TEXT CHECK (length(topic) <= 500),
    -- The number of the room's last message: post_message takes the next one under the row
    -- lock of its UPDATE, so a room's messages are numbered 1, 2, 3... in commit order.
    last_number     INTEGER NOT NULL DEFAULT 0 CHECK (last_number >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_room_identifier_key UNIQUE (fk_organisation, identifier)
);

CREATE TABLE tb_room_member (
    pk_room_member  INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL,
    fk_room         INTEGER NOT NULL REFERENCES tb_room (pk_room) ON DELETE CASCADE,
    fk_user         INTEGER NOT NULL REFERENCES tb_user (pk_user),
    joined_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_room_member_key UNIQUE (fk_room, fk_user)
);
CREATE INDEX tb_room_member_fk_user_idx ON tb_room_member (fk_user);

CREATE TABLE tb_message (
    pk_message      INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL,
    fk_room         INTEGER NOT NULL REFERENCES tb_room (pk_room) ON DELETE CASCADE,
    fk_user         INTEGER NOT NULL REFERENCES tb_user (pk_user),  -- the author
    number          INTEGER NOT NULL CHECK (number >= 1),
    body            TEXT NOT NULL CHECK (body ~ '[^[:space:]]' AND length(body) <= 4000),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_message_number_key UNIQUE (fk_room, number)
);
CREATE INDEX tb_message_fk_user_idx ON tb_message (fk_user);

-- Who is typing where: one row per (room, user), upserted by set_typing. A user is typing while
-- expires_at is in the future; stopping sets it to now().
CREATE TABLE tb_typing (
    pk_typing       INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL,
    fk_room         INTEGER NOT NULL REFERENCES tb_room (pk_room) ON DELETE CASCADE,
    fk_user         INTEGER NOT NULL REFERENCES tb_user (pk_user),
    expires_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_typing_key UNIQUE (fk_room, fk_user)
);
CREATE INDEX tb_typing_fk_user_idx ON tb_typing (fk_user);
