-- FraiseQL SaaS example: the normalized write model (tb_* tables).
--
-- Conventions (the same as examples/blog):
--   * Trinity identifiers: pk_<entity> INTEGER identity primary key (internal, never exposed),
--     id UUID (public), identifier TEXT (a human-readable slug).
--   * The tenant is the organisation. Every other table carries fk_organisation, and every
--     slug is unique per tenant only: UNIQUE (identifier, fk_organisation), identifier first
--     (so a conflict names it). A global UNIQUE would let a write with another tenant's slug
--     answer CONFLICT, confirming that the slug exists there. tb_organisation.identifier stays
--     globally unique: it names the tenant at login.
--   * Composite foreign keys (fk_x, fk_organisation) keep related rows in one tenant
--     (foreign-key checks ignore RLS, so they are what stops a cross-tenant reference).
--   * Money is NUMERIC, never float: the API exposes it as the exact Decimal scalar.
--   * Read models (tv_*) are in 20_read_models/, kept in sync by explicit fn_sync_tv_* calls.
--
-- Built by Confiture in path order (examples.saas.database.load_schema). PostgreSQL 13+.

CREATE TABLE tb_organisation (
    pk_organisation INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL UNIQUE
                    CONSTRAINT tb_organisation_identifier_check
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(identifier) <= 63),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    plan            TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'team', 'enterprise')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A member belongs to one organisation, with one role. password_hash is an scrypt hash
-- (examples/saas/passwords.py); the application role cannot read that column at all.
CREATE TABLE tb_member (
    pk_member       INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL
                    CONSTRAINT tb_member_identifier_check
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(identifier) <= 63),
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email           TEXT NOT NULL
                    CONSTRAINT tb_member_email_check
                    CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                           AND length(email) <= 254 AND email = lower(email)),
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    password_hash   TEXT NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_member_identifier_key UNIQUE (identifier, fk_organisation),
    CONSTRAINT tb_member_email_key UNIQUE (email, fk_organisation),
    CONSTRAINT tb_member_organisation_key UNIQUE (pk_member, fk_organisation)
);
CREATE INDEX tb_member_fk_organisation_idx ON tb_member (fk_organisation);

CREATE TABLE tb_project (
    pk_project      INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL
                    CONSTRAINT tb_project_identifier_check
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(identifier) <= 63),
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    archived        BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_project_identifier_key UNIQUE (identifier, fk_organisation),
    CONSTRAINT tb_project_organisation_key UNIQUE (pk_project, fk_organisation)
);
CREATE INDEX tb_project_fk_organisation_idx ON tb_project (fk_organisation);

CREATE TABLE tb_invoice (
    pk_invoice      INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL
                    CONSTRAINT tb_invoice_identifier_check
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(identifier) <= 63),
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    fk_project      INTEGER NOT NULL,
    customer        TEXT NOT NULL CHECK (length(customer) BETWEEN 1 AND 200),
    status          TEXT NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'sent', 'paid', 'void')),
    currency        TEXT NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    due_on          DATE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_invoice_identifier_key UNIQUE (identifier, fk_organisation),
    CONSTRAINT tb_invoice_organisation_key UNIQUE (pk_invoice, fk_organisation),
    -- The project, of the invoice's organisation; a project with invoices cannot be deleted.
    CONSTRAINT tb_invoice_fk_project_fkey FOREIGN KEY (fk_project, fk_organisation)
        REFERENCES tb_project (pk_project, fk_organisation)
);
CREATE INDEX tb_invoice_fk_organisation_idx ON tb_invoice (fk_organisation);
CREATE INDEX tb_invoice_fk_project_idx ON tb_invoice (fk_project);

-- The lines of an invoice: part of the invoice (no Trinity identifiers of their own).
CREATE TABLE tb_invoice_line (
    pk_invoice_line INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    fk_invoice      INTEGER NOT NULL,
    position        INTEGER NOT NULL CHECK (position >= 1),
    description     TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    quantity        NUMERIC(12, 3) NOT NULL CHECK (quantity > 0),
    unit_price      NUMERIC(14, 2) NOT NULL CHECK (unit_price >= 0),
    CONSTRAINT tb_invoice_line_position_key UNIQUE (fk_invoice, position),
    CONSTRAINT tb_invoice_line_fk_invoice_fkey FOREIGN KEY (fk_invoice, fk_organisation)
        REFERENCES tb_invoice (pk_invoice, fk_organisation) ON DELETE CASCADE
);
CREATE INDEX tb_invoice_line_fk_organisation_idx ON tb_invoice_line (fk_organisation);

-- An invitation: an admin invites an email with a role; the invitee accepts it with the
-- one-time token, of which only the SHA-256 (hex) is stored. Accepted invitations stay (used:
-- accepted_at set) so that a token works once. The identifier is derived from the token hash.
CREATE TABLE tb_invitation (
    pk_invitation   INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    identifier      TEXT NOT NULL
                    CONSTRAINT tb_invitation_identifier_check
                    CHECK (identifier ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    fk_organisation INTEGER NOT NULL REFERENCES tb_organisation (pk_organisation),
    email           TEXT NOT NULL
                    CONSTRAINT tb_invitation_email_check
                    CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                           AND length(email) <= 254 AND email = lower(email)),
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_hash      TEXT NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    fk_invited_by   INTEGER,
    expires_at      TIMESTAMPTZ NOT NULL,
    accepted_at     TIMESTAMPTZ,
    fk_member       INTEGER,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tb_invitation_identifier_key UNIQUE (identifier, fk_organisation),
    CONSTRAINT tb_invitation_fk_invited_by_fkey FOREIGN KEY (fk_invited_by, fk_organisation)
        REFERENCES tb_member (pk_member, fk_organisation),
    CONSTRAINT tb_invitation_fk_member_fkey FOREIGN KEY (fk_member, fk_organisation)
        REFERENCES tb_member (pk_member, fk_organisation)
);
CREATE INDEX tb_invitation_fk_organisation_idx ON tb_invitation (fk_organisation);
