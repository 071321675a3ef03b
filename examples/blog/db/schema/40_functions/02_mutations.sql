-- The example's write side: one function per mutation, each returning the FraiseQL result
-- contract (fraiseql_mutation_result) and syncing the read models it changes explicitly.
-- Related entities are Trinity references: a UUID id or a human-readable identifier.
-- The result type fraiseql_mutation_result comes from fraiseql.db.commands.CONTRACT_SQL
-- (00_common/02_fraiseql_contract.sql, built first). It also creates fraiseql_call_items(function,
-- items, partial), through which the batch mutations createPosts and updatePosts call fn_create_post
-- and fn_update_post once per item, in one statement: a batch needs no SQL of its own.
-- After syncing, each function tells subscriptions and response caches which rows changed with
-- fraiseql_notify (ids only; delivered at COMMIT, so a rolled-back write tells nobody).

-- Lookups by reference resolve within the caller's tenant only. The functions run as the
-- caller, so the tenant policies already hide every other organisation's rows from the app role;
-- fn_in_caller_tenant states the same rule explicitly, so that a role the policies do not apply
-- to (the table owner, a BYPASSRLS worker) is held to it as well whenever it sets the claim.
-- Identifiers are unique per organisation only: a caller without a tenant claim (the
-- single-tenant app, which sees every organisation) may find several rows for one identifier,
-- and then the reference names no one (NULL) rather than an arbitrary one of them: it must use
-- the id. Another tenant's entity and one that does not exist are therefore the same answer.

-- Whether rows of organisation `organisation` (a pk) belong to the caller: true for the
-- caller's organisation (the app.tenant_id claim), for every organisation without a claim.
-- The functions below are PL/pgSQL, whose statements' plans the session keeps: a SQL function
-- that cannot be inlined (a subquery, an aggregate) is parsed and planned anew by every
-- statement that calls it, and a write is many statements.
CREATE OR REPLACE FUNCTION fn_in_caller_tenant(organisation integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN CASE
        WHEN nullif(current_setting('app.tenant_id', true), '') IS NULL THEN true
        ELSE organisation = (
            SELECT pk_organisation FROM tb_organisation
            WHERE id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    END;
END $$;

-- Whether a reference is a UUID, i.e. an id (anything else is an identifier).
CREATE OR REPLACE FUNCTION fn_is_uuid(reference text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT reference ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
$$;

-- The primary key of a user (of a post) given by id or identifier: NULL when the caller has
-- none, or several (an identifier, without a claim). One index probe, on id or on identifier.
CREATE OR REPLACE FUNCTION fn_user_pk(reference text) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_pk integer;
BEGIN
    IF fn_is_uuid(reference) THEN
        SELECT CASE WHEN count(*) = 1 THEN min(pk_user) END INTO v_pk FROM tb_user
        WHERE id = reference::uuid AND fn_in_caller_tenant(fk_organisation);
    ELSE
        SELECT CASE WHEN count(*) = 1 THEN min(pk_user) END INTO v_pk FROM tb_user
        WHERE identifier = reference AND fn_in_caller_tenant(fk_organisation);
    END IF;
    RETURN v_pk;
END $$;

CREATE OR REPLACE FUNCTION fn_post_pk(reference text) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_pk integer;
BEGIN
    IF fn_is_uuid(reference) THEN
        SELECT CASE WHEN count(*) = 1 THEN min(pk_post) END INTO v_pk FROM tb_post
        WHERE id = reference::uuid AND fn_in_caller_tenant(fk_organisation);
    ELSE
        SELECT CASE WHEN count(*) = 1 THEN min(pk_post) END INTO v_pk FROM tb_post
        WHERE identifier = reference AND fn_in_caller_tenant(fk_organisation);
    END IF;
    RETURN v_pk;
END $$;

-- A JSON array of strings as text[]; null or a non-array is the empty array.
CREATE OR REPLACE FUNCTION fn_text_array(value jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(value) = 'array' THEN
        RETURN ARRAY(SELECT jsonb_array_elements_text(value));
    END IF;
    RETURN '{}'::text[];
END $$;

CREATE OR REPLACE FUNCTION fn_mutation_result(
    status text, id uuid, message text, errors jsonb DEFAULT '[]'
) RETURNS fraiseql_mutation_result
LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(status, id, message, errors)::fraiseql_mutation_result $$;

-- createPost(input: {identifier, title, body, author, status?, tags?, categoryPath})
CREATE OR REPLACE FUNCTION fn_create_post(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_author integer := fn_user_pk(input->>'author');
    v_status text := coalesce(input->>'status', 'draft');
    v_id uuid;
BEGIN
    IF v_author IS NULL THEN
        RETURN fn_mutation_result('validation_error', NULL, 'Unknown author.',
            jsonb_build_array(jsonb_build_object(
                'field', 'author', 'message', 'no user has this id or identifier',
                'code', 'not_found')));
    END IF;
    -- The post belongs to its author's organisation; its identifier is unique within it.
    INSERT INTO tb_post (identifier, fk_organisation, fk_user, title, body, status, tags,
                         category_path, published_at)
    VALUES (
        input->>'identifier',
        (SELECT fk_organisation FROM tb_user WHERE pk_user = v_author),
        v_author,
        input->>'title',
        coalesce(input->>'body', ''),
        v_status,
        fn_text_array(input->'tags'),
        (input->>'category_path')::ltree,
        CASE WHEN v_status = 'published' THEN now() END
    )
    RETURNING id INTO v_id;
    PERFORM fn_sync_tv_post(ARRAY[v_id]);
    PERFORM fraiseql_notify('post', 'insert', ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id, 'Post created.');
END $$;

-- updatePost(input: {post, title?, body?, status?, tags?}): only the given fields change.
CREATE OR REPLACE FUNCTION fn_update_post(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_pk integer := fn_post_pk(input->>'post');
    v_before tb_post;
    v_after tb_post;
    v_comments uuid[];
BEGIN
    IF v_pk IS NULL THEN
        RETURN fn_mutation_result('not_found', NULL, 'No such post.');
    END IF;
    SELECT * INTO v_before FROM tb_post WHERE pk_post = v_pk FOR UPDATE;
    IF input->>'expected_version' IS NOT NULL
       AND (input->>'expected_version')::integer <> v_before.version THEN
        RETURN fn_mutation_result('conflict', v_before.id,
            format('The post changed meanwhile: it is at version %s.', v_before.version),
            jsonb_build_array(jsonb_build_object(
                'field', 'expected_version',
                'message', format('stale version; the current one is %s', v_before.version),
                'code', 'stale_version')));
    END IF;
    IF input ? 'title' AND input->>'title' IS NULL THEN
        RAISE EXCEPTION 'A post needs a title.' USING DETAIL = 'title', HINT = 'required';
    END IF;
    UPDATE tb_post SET
        title = CASE WHEN input ? 'title' THEN input->>'title' ELSE title END,
        body = CASE WHEN input ? 'body' THEN coalesce(input->>'body', '') ELSE body END,
        status = CASE WHEN input ? 'status' THEN input->>'status' ELSE status END,
        tags = CASE WHEN input ? 'tags' THEN fn_text_array(input->'tags') ELSE tags END,
        published_at = CASE
            WHEN input->>'status' = 'published' AND published_at IS NULL THEN now()
            ELSE published_at END
    WHERE pk_post = v_pk
    RETURNING * INTO v_after;
    IF v_after IS NOT DISTINCT FROM v_before THEN
        RETURN fn_mutation_result('noop', v_after.id, 'Nothing changed.');
    END IF;
    UPDATE tb_post SET version = version + 1 WHERE pk_post = v_pk;
    PERFORM fn_sync_tv_post(ARRAY[v_after.id]);
    PERFORM fraiseql_notify('post', 'update', ARRAY[v_after.id]);
    IF v_after.title IS DISTINCT FROM v_before.title THEN
        -- The comments embed their post's title: their documents change too.
        SELECT array_agg(id) INTO v_comments FROM tb_comment WHERE fk_post = v_pk;
        IF v_comments IS NOT NULL THEN
            PERFORM fn_sync_tv_comment(v_comments);
            PERFORM fraiseql_notify('comment', 'update', v_comments);
        END IF;
    END IF;
    RETURN fn_mutation_result('success', v_after.id, 'Post updated.');
END $$;

-- deletePost(input: {post}): the post and its comments go; the read models follow.
CREATE OR REPLACE FUNCTION fn_delete_post(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_pk integer := fn_post_pk(input->>'post');
    v_id uuid;
    v_comments uuid[];
BEGIN
    IF v_pk IS NULL THEN
        RETURN fn_mutation_result('not_found', NULL, 'No such post.');
    END IF;
    SELECT array_agg(id) INTO v_comments FROM tb_comment WHERE fk_post = v_pk;
    DELETE FROM tb_post WHERE pk_post = v_pk RETURNING id INTO v_id;
    PERFORM fn_sync_tv_post(ARRAY[v_id]);
    PERFORM fraiseql_notify('post', 'delete', ARRAY[v_id]);
    IF v_comments IS NOT NULL THEN
        PERFORM fn_sync_tv_comment(v_comments);
        PERFORM fraiseql_notify('comment', 'delete', v_comments);
    END IF;
    RETURN fn_mutation_result('success', v_id, 'Post deleted.');
END $$;
