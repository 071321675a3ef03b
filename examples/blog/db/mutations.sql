-- The example's write side: one function per mutation, each returning the FraiseQL result
-- contract (fraiseql_mutation_result) and syncing the read models it changes explicitly.
-- Related entities are Trinity references: a UUID id or a human-readable identifier.
-- The result type fraiseql_mutation_result comes from fraiseql.db.commands.CONTRACT_SQL, which
-- load_schema() runs first. CONTRACT_SQL also creates fraiseql_call_items(function, items,
-- partial), through which the batch mutations createPosts and updatePosts call fn_create_post
-- and fn_update_post once per item, in one statement: a batch needs no SQL of its own.

-- The primary key of a user given by id or identifier (NULL when there is none).
CREATE OR REPLACE FUNCTION fn_user_pk(reference text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_user FROM tb_user
    WHERE CASE
        WHEN reference ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        THEN id = reference::uuid
        ELSE identifier = reference
    END
$$;

CREATE OR REPLACE FUNCTION fn_post_pk(reference text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_post FROM tb_post
    WHERE CASE
        WHEN reference ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        THEN id = reference::uuid
        ELSE identifier = reference
    END
$$;

-- A JSON array of strings as text[]; null or a non-array is the empty array.
CREATE OR REPLACE FUNCTION fn_text_array(value jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(value) = 'array'
                THEN ARRAY(SELECT jsonb_array_elements_text(value))
                ELSE '{}'::text[] END
$$;

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
    INSERT INTO tb_post (identifier, fk_user, title, body, status, tags, category_path, published_at)
    VALUES (
        input->>'identifier',
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
    RETURN fn_mutation_result('success', v_id, 'Post created.');
END $$;

-- updatePost(input: {post, title?, body?, status?, tags?}): only the given fields change.
CREATE OR REPLACE FUNCTION fn_update_post(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql SET TimeZone = 'UTC' AS $$
DECLARE
    v_pk integer := fn_post_pk(input->>'post');
    v_before tb_post;
    v_after tb_post;
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
    IF v_comments IS NOT NULL THEN
        PERFORM fn_sync_tv_comment(v_comments);
    END IF;
    RETURN fn_mutation_result('success', v_id, 'Post deleted.');
END $$;
