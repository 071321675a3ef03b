-- FraiseQL SaaS example: who is calling, and lookups by Trinity reference within the caller's
-- tenant. Every request sets two claims from its verified JWT (examples/saas/app.py):
--   app.tenant_id  the organisation's id (the token's "org" claim),
--   app.user_id    the member's id (the token's "sub").
-- The role checks read the member's role from tb_member, not from the token: a member demoted
-- or removed after login loses the rights at once, whatever the token still says. (The GraphQL
-- layer checks the token's role claim with requires=, before any SQL runs.)
-- These functions run as the caller (no SECURITY DEFINER): the tenant policies apply inside
-- them too, and they state the tenant rule explicitly on top of that.

-- A claim holding a UUID, or NULL (absent, empty or malformed).
CREATE OR REPLACE FUNCTION fn_claim_uuid(setting text) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN current_setting(setting, true) ~*
                     '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN current_setting(setting, true)::uuid END
$$;

-- Whether a reference is a UUID, i.e. an id (anything else is an identifier).
CREATE OR REPLACE FUNCTION fn_is_uuid(reference text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT reference ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
$$;

-- The caller's organisation (its pk), NULL without a tenant claim.
CREATE OR REPLACE FUNCTION fn_caller_organisation() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_organisation FROM tb_organisation WHERE id = fn_claim_uuid('app.tenant_id')
$$;

-- The calling member (its pk): the member of the caller's organisation named by app.user_id.
CREATE OR REPLACE FUNCTION fn_caller_member() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_member FROM tb_member
    WHERE id = fn_claim_uuid('app.user_id') AND fk_organisation = fn_caller_organisation()
$$;

-- owner > admin > member; anything else (no member) ranks 0.
CREATE OR REPLACE FUNCTION fn_role_rank(role text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE role WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'member' THEN 1 ELSE 0 END
$$;

CREATE OR REPLACE FUNCTION fn_caller_role() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT role FROM tb_member WHERE pk_member = fn_caller_member()
$$;

-- Whether the caller is a member of its organisation with at least `role`.
CREATE OR REPLACE FUNCTION fn_caller_at_least(role text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT fn_role_rank(fn_caller_role()) >= fn_role_rank(role)
$$;

-- The pk of an entity of the caller's tenant given by id or identifier; NULL when there is none
-- (another tenant's entity and a missing one give the same answer). Each alternative is an
-- equality on an indexed column.
CREATE OR REPLACE FUNCTION fn_member_pk(reference text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_member FROM tb_member
    WHERE (id = CASE WHEN fn_is_uuid(reference) THEN reference::uuid END
           OR identifier = CASE WHEN fn_is_uuid(reference) THEN NULL ELSE reference END)
      AND fk_organisation = fn_caller_organisation()
$$;

CREATE OR REPLACE FUNCTION fn_project_pk(reference text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_project FROM tb_project
    WHERE (id = CASE WHEN fn_is_uuid(reference) THEN reference::uuid END
           OR identifier = CASE WHEN fn_is_uuid(reference) THEN NULL ELSE reference END)
      AND fk_organisation = fn_caller_organisation()
$$;

CREATE OR REPLACE FUNCTION fn_invoice_pk(reference text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_invoice FROM tb_invoice
    WHERE (id = CASE WHEN fn_is_uuid(reference) THEN reference::uuid END
           OR identifier = CASE WHEN fn_is_uuid(reference) THEN NULL ELSE reference END)
      AND fk_organisation = fn_caller_organisation()
$$;

CREATE OR REPLACE FUNCTION fn_invitation_pk(reference text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_invitation FROM tb_invitation
    WHERE (id = CASE WHEN fn_is_uuid(reference) THEN reference::uuid END
           OR identifier = CASE WHEN fn_is_uuid(reference) THEN NULL ELSE reference END)
      AND fk_organisation = fn_caller_organisation()
$$;

CREATE OR REPLACE FUNCTION fn_mutation_result(
    status text, id uuid, message text, errors jsonb DEFAULT '[]'
) RETURNS fraiseql_mutation_result
LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(status, id, message, errors)::fraiseql_mutation_result $$;

-- The answer to a caller whose role does not allow a write.
CREATE OR REPLACE FUNCTION fn_forbidden(what text) RETURNS fraiseql_mutation_result
LANGUAGE sql IMMUTABLE AS $$
    SELECT fn_mutation_result('forbidden', NULL, what,
        jsonb_build_array(jsonb_build_object('message', what, 'code', 'forbidden')))
$$;

-- A field error for a reference that names nothing in the caller's organisation.
CREATE OR REPLACE FUNCTION fn_unknown_reference(field text, what text)
RETURNS fraiseql_mutation_result
LANGUAGE sql IMMUTABLE AS $$
    SELECT fn_mutation_result('not_found', NULL, format('No such %s.', what),
        jsonb_build_array(jsonb_build_object(
            'field', field, 'message', format('no %s has this id or identifier', what),
            'code', 'not_found')))
$$;
