-- FraiseQL SaaS example: the account functions behind the HTTP routes of examples/saas/routes.py
-- (sign-up, login, accepting an invitation). Passwords never reach SQL in clear: Python hashes
-- them with scrypt and only the hash is stored.

-- Sign-up: a new organisation and its first owner, from
-- {id, identifier, name, owner: {identifier, name, email, password_hash}}. The route sets the
-- tenant claim to the new organisation's id (made in Python) before calling it: the tenant
-- policy of tb_organisation accepts the insert because the row is the claimed tenant.
CREATE OR REPLACE FUNCTION fn_create_organisation(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_pk integer;
    v_id uuid;
    v_owner uuid;
BEGIN
    IF NOT coalesce(fn_is_uuid(input->>'id'), false)
       OR fn_claim_uuid('app.tenant_id') IS DISTINCT FROM (input->>'id')::uuid THEN
        RETURN fn_forbidden('The new organisation must be the claimed tenant.');
    END IF;
    INSERT INTO tb_organisation (id, identifier, name)
    VALUES ((input->>'id')::uuid, input->>'identifier', input->>'name')
    RETURNING pk_organisation, id INTO v_pk, v_id;
    INSERT INTO tb_member (identifier, fk_organisation, name, email, role, password_hash)
    VALUES (input->'owner'->>'identifier', v_pk, input->'owner'->>'name',
            lower(input->'owner'->>'email'), 'owner', input->'owner'->>'password_hash')
    RETURNING id INTO v_owner;
    PERFORM fn_sync_tv_organisation(ARRAY[v_id]);
    PERFORM fn_sync_tv_member(ARRAY[v_owner]);
    RETURN fn_mutation_result('success', v_owner, 'Organisation created.');
END $$;

-- Accepting an invitation: {token_hash, identifier, name, password_hash} creates the member
-- with the invitation's email and role, once. The route sets the tenant claim (from
-- fn_invitation_organisation) and app.invitation_token_hash: the invitation policy lets the
-- holder of the token see that one invitation, the invitee being no member yet.
CREATE OR REPLACE FUNCTION fn_accept_invitation(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_invitation tb_invitation;
    v_member integer;
    v_member_id uuid;
BEGIN
    SELECT * INTO v_invitation FROM tb_invitation
    WHERE token_hash = input->>'token_hash' AND fk_organisation = fn_caller_organisation()
    FOR UPDATE;
    IF v_invitation.pk_invitation IS NULL THEN
        RETURN fn_mutation_result('not_found', NULL, 'No such invitation.',
            jsonb_build_array(jsonb_build_object('field', 'token',
                'message', 'no invitation has this token', 'code', 'not_found')));
    END IF;
    IF v_invitation.accepted_at IS NOT NULL THEN
        RETURN fn_mutation_result('validation_error', NULL, 'This invitation was already used.',
            jsonb_build_array(jsonb_build_object('field', 'token',
                'message', 'the invitation was already used', 'code', 'used')));
    END IF;
    IF v_invitation.expires_at <= now() THEN
        RETURN fn_mutation_result('validation_error', NULL, 'This invitation has expired.',
            jsonb_build_array(jsonb_build_object('field', 'token',
                'message', 'the invitation has expired', 'code', 'expired')));
    END IF;
    INSERT INTO tb_member (identifier, fk_organisation, name, email, role, password_hash)
    VALUES (input->>'identifier', v_invitation.fk_organisation, input->>'name',
            v_invitation.email, v_invitation.role, input->>'password_hash')
    RETURNING pk_member, id INTO v_member, v_member_id;
    UPDATE tb_invitation SET accepted_at = now(), fk_member = v_member
    WHERE pk_invitation = v_invitation.pk_invitation;
    PERFORM fn_sync_tv_member(ARRAY[v_member_id]);
    PERFORM fn_sync_tv_invitation(ARRAY[v_invitation.id]);
    RETURN fn_mutation_result('success', v_member_id, 'Welcome aboard.');
END $$;

-- The two lookups that must work before there is a tenant claim. They are SECURITY DEFINER,
-- owned by saas_auth (50_security/): a role that owns nothing else, logs in nowhere and may
-- only SELECT through the policies written for it. Only the application role may execute them.

-- Login: the member of organisation `p_organisation` (identifier) with email `p_email`, with
-- the password hash to verify in Python. No row: unknown organisation or email.
CREATE OR REPLACE FUNCTION fn_login_lookup(p_organisation text, p_email text)
RETURNS TABLE (organisation_id uuid, member_id uuid, role text, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT o.id, m.id, m.role, m.password_hash
    FROM tb_organisation o
    JOIN tb_member m ON m.fk_organisation = o.pk_organisation
    WHERE o.identifier = p_organisation AND m.email = lower(p_email)
$$;

-- The organisation of the invitation whose token has SHA-256 `p_token_hash`, NULL if none.
CREATE OR REPLACE FUNCTION fn_invitation_organisation(p_token_hash text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT o.id
    FROM tb_invitation v
    JOIN tb_organisation o ON o.pk_organisation = v.fk_organisation
    WHERE v.token_hash = p_token_hash
$$;
