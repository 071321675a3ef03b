-- FraiseQL SaaS example: one function per mutation, each returning fraiseql_mutation_result
-- (docs/architecture/MUTATION_CONTRACT.md) and syncing the read models it changes explicitly.
-- Input keys are snake_case; references are Trinity references (id or identifier) resolved
-- within the caller's organisation only (02_tenancy.sql), so another tenant's entity answers
-- exactly like a missing one. The role checks come first: a caller whose role does not allow
-- the write gets 'forbidden' whatever it names. Role-specific RLS policies (50_security/)
-- enforce the invoice and invitation rules a second time, for SQL that bypasses these functions.

-- updateOrganisation(input: {name?, plan?}): the caller's own organisation. Owner or admin for
-- the name; the plan (billing) is the owner's.
CREATE OR REPLACE FUNCTION fn_update_organisation(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_pk integer := fn_caller_organisation();
    v_before tb_organisation;
    v_after tb_organisation;
    v_members uuid[];
BEGIN
    IF NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may change the organisation.');
    END IF;
    IF input ? 'plan' AND NOT fn_caller_at_least('owner') THEN
        RETURN fn_forbidden('Only an owner may change the plan.');
    END IF;
    SELECT * INTO v_before FROM tb_organisation WHERE pk_organisation = v_pk FOR UPDATE;
    UPDATE tb_organisation SET
        name = CASE WHEN input ? 'name' THEN input->>'name' ELSE name END,
        plan = CASE WHEN input ? 'plan' THEN input->>'plan' ELSE plan END
    WHERE pk_organisation = v_pk
    RETURNING * INTO v_after;
    IF v_after IS NOT DISTINCT FROM v_before THEN
        RETURN fn_mutation_result('noop', v_after.id, 'Nothing changed.');
    END IF;
    PERFORM fn_sync_tv_organisation(ARRAY[v_after.id]);
    IF v_after.name IS DISTINCT FROM v_before.name THEN
        -- Members embed their organisation's name.
        SELECT coalesce(array_agg(id), '{}') INTO v_members FROM tb_member WHERE fk_organisation = v_pk;
        PERFORM fn_sync_tv_member(v_members);
    END IF;
    RETURN fn_mutation_result('success', v_after.id, 'Organisation updated.');
END $$;

-- deleteOrganisation(input: {organisation}): the owner deletes the caller's organisation and
-- everything in it. The reference must name the caller's own organisation (a confirmation).
CREATE OR REPLACE FUNCTION fn_delete_organisation(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_pk integer := fn_caller_organisation();
    v_id uuid;
    v_reference text := input->>'organisation';
BEGIN
    IF NOT fn_caller_at_least('owner') THEN
        RETURN fn_forbidden('Only an owner may delete the organisation.');
    END IF;
    SELECT id INTO v_id FROM tb_organisation
    WHERE pk_organisation = v_pk
      AND (id = CASE WHEN fn_is_uuid(v_reference) THEN v_reference::uuid END
           OR identifier = CASE WHEN fn_is_uuid(v_reference) THEN NULL ELSE v_reference END);
    IF v_id IS NULL THEN
        RETURN fn_unknown_reference('organisation', 'organisation');
    END IF;
    -- Invoices and invitations first, while the caller is still a member: their policies
    -- check the caller's role.
    DELETE FROM tb_invoice WHERE fk_organisation = v_pk;
    DELETE FROM tb_invitation WHERE fk_organisation = v_pk;
    DELETE FROM tb_project WHERE fk_organisation = v_pk;
    DELETE FROM tv_invoice WHERE tenant_id = v_id;
    DELETE FROM tv_invitation WHERE tenant_id = v_id;
    DELETE FROM tv_project WHERE tenant_id = v_id;
    DELETE FROM tb_member WHERE fk_organisation = v_pk;
    DELETE FROM tb_organisation WHERE pk_organisation = v_pk;
    DELETE FROM tv_member WHERE tenant_id = v_id;
    DELETE FROM tv_organisation WHERE id = v_id;
    RETURN fn_mutation_result('success', v_id, 'Organisation deleted.');
END $$;

-- The number of owners of an organisation.
CREATE OR REPLACE FUNCTION fn_owner_count(organisation integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer FROM tb_member WHERE fk_organisation = organisation AND role = 'owner'
$$;

-- updateMember(input: {member, name?, role?}): members rename themselves; owners and admins
-- rename anyone and change roles; only an owner grants or takes the owner role; the last owner
-- stays an owner.
CREATE OR REPLACE FUNCTION fn_update_member(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_caller integer := fn_caller_member();
    v_pk integer;
    v_id uuid;
    v_name text;
    v_role text;
    v_new_name text;
    v_new_role text;
    v_invitations uuid[];
BEGIN
    IF v_caller IS NULL THEN
        RETURN fn_forbidden('Only a member may change members.');
    END IF;
    v_pk := fn_member_pk(input->>'member');
    IF v_pk IS NULL THEN
        RETURN fn_unknown_reference('member', 'member');
    END IF;
    SELECT id, name, role INTO v_id, v_name, v_role FROM tb_member WHERE pk_member = v_pk
    FOR UPDATE;
    v_new_name := CASE WHEN input ? 'name' THEN input->>'name' ELSE v_name END;
    v_new_role := CASE WHEN input ? 'role' THEN input->>'role' ELSE v_role END;
    IF v_new_name IS DISTINCT FROM v_name AND v_pk <> v_caller
       AND NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may rename another member.');
    END IF;
    IF v_new_role IS DISTINCT FROM v_role THEN
        IF NOT fn_caller_at_least('admin') THEN
            RETURN fn_forbidden('Only an owner or an admin may change roles.');
        END IF;
        IF (v_role = 'owner' OR v_new_role = 'owner') AND NOT fn_caller_at_least('owner') THEN
            RETURN fn_forbidden('Only an owner may grant or take the owner role.');
        END IF;
        IF v_role = 'owner' AND fn_owner_count(fn_caller_organisation()) = 1 THEN
            RETURN fn_mutation_result('conflict', v_id, 'An organisation keeps at least one owner.',
                jsonb_build_array(jsonb_build_object('field', 'role',
                    'message', 'this is the last owner', 'code', 'last_owner')));
        END IF;
    END IF;
    IF v_new_name IS NOT DISTINCT FROM v_name AND v_new_role IS NOT DISTINCT FROM v_role THEN
        RETURN fn_mutation_result('noop', v_id, 'Nothing changed.');
    END IF;
    UPDATE tb_member SET name = v_new_name, role = v_new_role WHERE pk_member = v_pk;
    PERFORM fn_sync_tv_member(ARRAY[v_id]);
    IF v_new_name IS DISTINCT FROM v_name THEN
        -- Invitations embed their inviter's name.
        SELECT coalesce(array_agg(id), '{}') INTO v_invitations FROM tb_invitation WHERE fk_invited_by = v_pk;
        PERFORM fn_sync_tv_invitation(v_invitations);
    END IF;
    RETURN fn_mutation_result('success', v_id, 'Member updated.');
END $$;

-- removeMember(input: {member}): owners and admins remove members; only an owner removes an
-- owner; the last owner stays.
CREATE OR REPLACE FUNCTION fn_remove_member(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_pk integer;
    v_id uuid;
    v_role text;
    v_invitations uuid[];
BEGIN
    IF NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may remove members.');
    END IF;
    v_pk := fn_member_pk(input->>'member');
    IF v_pk IS NULL THEN
        RETURN fn_unknown_reference('member', 'member');
    END IF;
    SELECT id, role INTO v_id, v_role FROM tb_member WHERE pk_member = v_pk FOR UPDATE;
    IF v_role = 'owner' AND NOT fn_caller_at_least('owner') THEN
        RETURN fn_forbidden('Only an owner may remove an owner.');
    END IF;
    IF v_role = 'owner' AND fn_owner_count(fn_caller_organisation()) = 1 THEN
        RETURN fn_mutation_result('conflict', v_id, 'An organisation keeps at least one owner.',
            jsonb_build_array(jsonb_build_object('field', 'member',
                'message', 'this is the last owner', 'code', 'last_owner')));
    END IF;
    -- The invitations they sent or accepted lose the link, not their history.
    SELECT coalesce(array_agg(id), '{}') INTO v_invitations FROM tb_invitation
    WHERE fk_invited_by = v_pk OR fk_member = v_pk;
    UPDATE tb_invitation SET
        fk_invited_by = CASE WHEN fk_invited_by = v_pk THEN NULL ELSE fk_invited_by END,
        fk_member = CASE WHEN fk_member = v_pk THEN NULL ELSE fk_member END
    WHERE fk_invited_by = v_pk OR fk_member = v_pk;
    DELETE FROM tb_member WHERE pk_member = v_pk;
    PERFORM fn_sync_tv_member(ARRAY[v_id]);
    PERFORM fn_sync_tv_invitation(v_invitations);
    RETURN fn_mutation_result('success', v_id, 'Member removed.');
END $$;

-- createProject(input: {identifier, name, description?}): any member.
CREATE OR REPLACE FUNCTION fn_create_project(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_id uuid;
BEGIN
    IF NOT fn_caller_at_least('member') THEN
        RETURN fn_forbidden('Only a member may create projects.');
    END IF;
    INSERT INTO tb_project (identifier, fk_organisation, name, description)
    VALUES (input->>'identifier', fn_caller_organisation(), input->>'name',
            coalesce(input->>'description', ''))
    RETURNING id INTO v_id;
    PERFORM fn_sync_tv_project(ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id, 'Project created.');
END $$;

-- updateProject(input: {project, name?, description?, archived?}): any member.
CREATE OR REPLACE FUNCTION fn_update_project(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_pk integer;
    v_before tb_project;
    v_after tb_project;
    v_invoices uuid[];
BEGIN
    IF NOT fn_caller_at_least('member') THEN
        RETURN fn_forbidden('Only a member may change projects.');
    END IF;
    v_pk := fn_project_pk(input->>'project');
    IF v_pk IS NULL THEN
        RETURN fn_unknown_reference('project', 'project');
    END IF;
    SELECT * INTO v_before FROM tb_project WHERE pk_project = v_pk FOR UPDATE;
    UPDATE tb_project SET
        name = CASE WHEN input ? 'name' THEN input->>'name' ELSE name END,
        description = CASE WHEN input ? 'description'
                           THEN coalesce(input->>'description', '') ELSE description END,
        archived = CASE WHEN input ? 'archived'
                        THEN coalesce((input->>'archived')::boolean, false) ELSE archived END
    WHERE pk_project = v_pk
    RETURNING * INTO v_after;
    IF v_after IS NOT DISTINCT FROM v_before THEN
        RETURN fn_mutation_result('noop', v_after.id, 'Nothing changed.');
    END IF;
    PERFORM fn_sync_tv_project(ARRAY[v_after.id]);
    IF v_after.name IS DISTINCT FROM v_before.name THEN
        -- Invoices embed their project's name.
        SELECT coalesce(array_agg(id), '{}') INTO v_invoices FROM tb_invoice WHERE fk_project = v_pk;
        PERFORM fn_sync_tv_invoice(v_invoices);
    END IF;
    RETURN fn_mutation_result('success', v_after.id, 'Project updated.');
END $$;

-- deleteProject(input: {project}): owners and admins; a project with invoices stays.
CREATE OR REPLACE FUNCTION fn_delete_project(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_pk integer;
    v_id uuid;
BEGIN
    IF NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may delete projects.');
    END IF;
    v_pk := fn_project_pk(input->>'project');
    IF v_pk IS NULL THEN
        RETURN fn_unknown_reference('project', 'project');
    END IF;
    SELECT id INTO v_id FROM tb_project WHERE pk_project = v_pk;
    IF EXISTS (SELECT 1 FROM tb_invoice WHERE fk_project = v_pk) THEN
        RETURN fn_mutation_result('conflict', v_id, 'The project has invoices.',
            jsonb_build_array(jsonb_build_object('field', 'project',
                'message', 'delete or move its invoices first', 'code', 'has_invoices')));
    END IF;
    DELETE FROM tb_project WHERE pk_project = v_pk;
    PERFORM fn_sync_tv_project(ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id, 'Project deleted.');
END $$;

-- Replace the lines of an invoice with a JSON array of {description, quantity, unit_price}.
CREATE OR REPLACE FUNCTION fn_write_invoice_lines(invoice integer, lines jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_typeof(lines) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'An invoice needs a list of lines.' USING DETAIL = 'lines',
            HINT = 'required';
    END IF;
    DELETE FROM tb_invoice_line WHERE fk_invoice = invoice;
    INSERT INTO tb_invoice_line (fk_organisation, fk_invoice, position, description, quantity,
                                 unit_price)
    SELECT fn_caller_organisation(), invoice, line.position::integer,
           line.value->>'description', (line.value->>'quantity')::numeric,
           (line.value->>'unit_price')::numeric
    FROM jsonb_array_elements(lines) WITH ORDINALITY AS line(value, position);
END $$;

-- createInvoice(input: {identifier, project, customer, currency?, due_on?, lines}): owners and
-- admins only.
CREATE OR REPLACE FUNCTION fn_create_invoice(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_project integer;
    v_pk integer;
    v_id uuid;
BEGIN
    IF NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may create invoices.');
    END IF;
    v_project := fn_project_pk(input->>'project');
    IF v_project IS NULL THEN
        RETURN fn_unknown_reference('project', 'project');
    END IF;
    INSERT INTO tb_invoice (identifier, fk_organisation, fk_project, customer, currency, due_on)
    VALUES (input->>'identifier', fn_caller_organisation(), v_project, input->>'customer',
            coalesce(input->>'currency', 'EUR'), (input->>'due_on')::date)
    RETURNING pk_invoice, id INTO v_pk, v_id;
    PERFORM fn_write_invoice_lines(v_pk, input->'lines');
    PERFORM fn_sync_tv_invoice(ARRAY[v_id]);
    PERFORM fn_sync_tv_project(ARRAY[(SELECT id FROM tb_project WHERE pk_project = v_project)]);
    RETURN fn_mutation_result('success', v_id, 'Invoice created.');
END $$;

-- updateInvoice(input: {invoice, customer?, status?, due_on?, lines?}): owners and admins;
-- lines, when given, replace all the lines. A paid or void invoice only changes status.
CREATE OR REPLACE FUNCTION fn_update_invoice(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_pk integer;
    v_before jsonb;
    v_after jsonb;
    v_row tb_invoice;
BEGIN
    IF NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may change invoices.');
    END IF;
    v_pk := fn_invoice_pk(input->>'invoice');
    IF v_pk IS NULL THEN
        RETURN fn_unknown_reference('invoice', 'invoice');
    END IF;
    SELECT * INTO v_row FROM tb_invoice WHERE pk_invoice = v_pk FOR UPDATE;
    IF v_row.status IN ('paid', 'void') AND (input ? 'customer' OR input ? 'lines'
                                             OR input ? 'due_on') THEN
        RETURN fn_mutation_result('conflict', v_row.id,
            format('A %s invoice cannot change.', v_row.status),
            jsonb_build_array(jsonb_build_object('field', 'status',
                'message', 'only the status of a paid or void invoice changes',
                'code', 'closed')));
    END IF;
    SELECT data INTO v_before FROM v_tv_invoice WHERE id = v_row.id;
    UPDATE tb_invoice SET
        customer = CASE WHEN input ? 'customer' THEN input->>'customer' ELSE customer END,
        status = CASE WHEN input ? 'status' THEN input->>'status' ELSE status END,
        due_on = CASE WHEN input ? 'due_on' THEN (input->>'due_on')::date ELSE due_on END
    WHERE pk_invoice = v_pk;
    IF input ? 'lines' THEN
        PERFORM fn_write_invoice_lines(v_pk, input->'lines');
    END IF;
    SELECT data INTO v_after FROM v_tv_invoice WHERE id = v_row.id;
    IF v_after IS NOT DISTINCT FROM v_before THEN
        RETURN fn_mutation_result('noop', v_row.id, 'Nothing changed.');
    END IF;
    PERFORM fn_sync_tv_invoice(ARRAY[v_row.id]);
    PERFORM fn_sync_tv_project(
        ARRAY[(SELECT id FROM tb_project WHERE pk_project = v_row.fk_project)]);
    RETURN fn_mutation_result('success', v_row.id, 'Invoice updated.');
END $$;

-- deleteInvoice(input: {invoice}): owners and admins.
CREATE OR REPLACE FUNCTION fn_delete_invoice(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_pk integer;
    v_id uuid;
    v_project uuid;
BEGIN
    IF NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may delete invoices.');
    END IF;
    v_pk := fn_invoice_pk(input->>'invoice');
    IF v_pk IS NULL THEN
        RETURN fn_unknown_reference('invoice', 'invoice');
    END IF;
    SELECT i.id, p.id INTO v_id, v_project
    FROM tb_invoice i JOIN tb_project p ON p.pk_project = i.fk_project
    WHERE i.pk_invoice = v_pk;
    DELETE FROM tb_invoice WHERE pk_invoice = v_pk;
    PERFORM fn_sync_tv_invoice(ARRAY[v_id]);
    PERFORM fn_sync_tv_project(ARRAY[v_project]);
    RETURN fn_mutation_result('success', v_id, 'Invoice deleted.');
END $$;

-- inviteMember (a custom mutation, examples/saas/schema.py) calls this with
-- {email, role, token_hash, valid_hours?}: owners and admins invite; only an owner invites an
-- owner. The token itself is made and returned by Python; only its SHA-256 is stored.
CREATE OR REPLACE FUNCTION fn_invite_member(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_email text := lower(input->>'email');
    v_role text := coalesce(input->>'role', 'member');
    v_hours integer := coalesce((input->>'valid_hours')::integer, 72);
    v_id uuid;
BEGIN
    IF NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may invite.');
    END IF;
    IF v_role = 'owner' AND NOT fn_caller_at_least('owner') THEN
        RETURN fn_forbidden('Only an owner may invite an owner.');
    END IF;
    IF v_hours NOT BETWEEN 1 AND 720 THEN
        RAISE EXCEPTION 'An invitation is valid for 1 to 720 hours.' USING DETAIL = 'valid_hours',
            HINT = 'out_of_range';
    END IF;
    IF EXISTS (SELECT 1 FROM tb_member
               WHERE email = v_email AND fk_organisation = fn_caller_organisation()) THEN
        RETURN fn_mutation_result('conflict', NULL, 'This email is already a member.',
            jsonb_build_array(jsonb_build_object('field', 'email',
                'message', 'already a member', 'code', 'member')));
    END IF;
    INSERT INTO tb_invitation (identifier, fk_organisation, email, role, token_hash,
                               fk_invited_by, expires_at)
    VALUES ('invitation-' || left(input->>'token_hash', 12), fn_caller_organisation(), v_email,
            v_role, input->>'token_hash', fn_caller_member(),
            now() + make_interval(hours => v_hours))
    RETURNING id INTO v_id;
    PERFORM fn_sync_tv_invitation(ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id, 'Invitation created.');
END $$;

-- revokeInvitation(input: {invitation}): owners and admins delete an invitation (its token
-- stops working).
CREATE OR REPLACE FUNCTION fn_revoke_invitation(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_pk integer;
    v_id uuid;
BEGIN
    IF NOT fn_caller_at_least('admin') THEN
        RETURN fn_forbidden('Only an owner or an admin may revoke invitations.');
    END IF;
    v_pk := fn_invitation_pk(input->>'invitation');
    IF v_pk IS NULL THEN
        RETURN fn_unknown_reference('invitation', 'invitation');
    END IF;
    DELETE FROM tb_invitation WHERE pk_invitation = v_pk RETURNING id INTO v_id;
    PERFORM fn_sync_tv_invitation(ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id, 'Invitation revoked.');
END $$;
