-- FraiseQL SaaS example: the read models (tv_* tables), one JSONB document per entity.
--
-- Every tv_<entity> has the same four columns: id (UUID, primary key), identifier (slug, unique
-- per tenant as in tb_*), tenant_id (the organisation's id; its own id for organisations) and
-- data (the document the API serves, snake_case keys). Their defining views v_tv_* are in
-- 30_views/, the sync functions fn_sync_tv_*(ids) in 40_functions/. Nothing syncs implicitly:
-- each write function syncs every read model whose documents it changes.

CREATE TABLE tv_organisation (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL
);

CREATE TABLE tv_member (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (identifier, tenant_id)
);
CREATE INDEX tv_member_tenant_id_idx ON tv_member (tenant_id);

CREATE TABLE tv_project (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (identifier, tenant_id)
);
CREATE INDEX tv_project_tenant_id_idx ON tv_project (tenant_id);

CREATE TABLE tv_invoice (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (identifier, tenant_id)
);
CREATE INDEX tv_invoice_tenant_id_idx ON tv_invoice (tenant_id);
CREATE INDEX tv_invoice_project_id_idx ON tv_invoice (((data -> 'project' ->> 'id')::uuid));

CREATE TABLE tv_invitation (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL,
    tenant_id  UUID NOT NULL,
    data       JSONB NOT NULL,
    UNIQUE (identifier, tenant_id)
);
CREATE INDEX tv_invitation_tenant_id_idx ON tv_invitation (tenant_id);
