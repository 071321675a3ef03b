-- The example's write side: one function per mutation, each returning the FraiseQL result
-- contract (fraiseql_mutation_result, from fraiseql.db.commands.CONTRACT_SQL, which
-- load_schema() runs first), syncing the read models it changes explicitly, then announcing the
-- change with fraiseql_notify(entity, op, ids) (also CONTRACT_SQL): the notification is sent at
-- COMMIT only, so a write that is rolled back (by the caller, or by FraiseQL because the status
-- is not success/noop) announces nothing. The payload names the entity and ids, never data:
-- each subscriber reads the rows again under its own claims.
--
-- Who acts is the claim app.user_id (the id of a user; the app sets it from the X-User-Id header
-- or the userId connection parameter); rooms are given by id or identifier and are looked up in
-- that user's organisation only, so a room of another tenant is "not_found", exactly like a
-- room that does not exist. Under the example's row-level security (security.py) the tenant
-- claim app.tenant_id confines every read and write as well.
--
-- Statuses and error codes, for the tests and the page:
--   forbidden         no user (claim missing or naming no user of this tenant): field null,
--                     code 'unauthenticated'; not a member of the room: field 'room', code
--                     'not_a_member' (post_message, set_typing).
--   validation_error  field 'body', code 'required' (missing, empty or only white space) or
--                     'too_long' (> 4000 characters); field 'identifier', 'name' or 'topic',
--                     code 'invalid' (create_room).
--   not_found         field 'room', code 'not_found'.
--   conflict          create_room with an identifier the organisation already uses: field
--                     'identifier', code 'duplicate' (the id is the existing room's).
--   noop              join_room by a member; set_typing(typing: false) when not typing.

-- A UUID given as text, or NULL when the text is not one.
CREATE OR REPLACE FUNCTION fn_chat_uuid(reference text) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN reference ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        THEN reference::uuid
    END
$$;

-- The user acting: the one named by the app.user_id claim (NULL when there is none).
CREATE OR REPLACE FUNCTION fn_current_user_pk() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT pk_user FROM tb_user
    WHERE id = fn_chat_uuid(current_setting('app.user_id', true))
$$;

-- A room of the given user's organisation, by id or identifier (NULL when there is none).
CREATE OR REPLACE FUNCTION fn_room_pk(reference text, user_pk integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT r.pk_room FROM tb_room r
    JOIN tb_user u ON u.fk_organisation = r.fk_organisation AND u.pk_user = user_pk
    WHERE CASE
        WHEN fn_chat_uuid(reference) IS NOT NULL THEN r.id = fn_chat_uuid(reference)
        ELSE r.identifier = reference
    END
$$;

CREATE OR REPLACE FUNCTION fn_is_member(room_pk integer, user_pk integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM tb_room_member WHERE fk_room = room_pk AND fk_user = user_pk)
$$;

CREATE OR REPLACE FUNCTION fn_mutation_result(
    status text, id uuid, message text, errors jsonb DEFAULT '[]'
) RETURNS fraiseql_mutation_result
LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(status, id, message, errors)::fraiseql_mutation_result $$;

-- A result with one field error.
CREATE OR REPLACE FUNCTION fn_refusal(
    status text, id uuid, message text, field text, code text
) RETURNS fraiseql_mutation_result
LANGUAGE sql IMMUTABLE AS $$
    SELECT fn_mutation_result(status, id, message, jsonb_build_array(
        jsonb_build_object('field', field, 'message', message, 'code', code)))
$$;

CREATE OR REPLACE FUNCTION fn_no_user() RETURNS fraiseql_mutation_result
LANGUAGE sql IMMUTABLE AS $$
    SELECT fn_refusal('forbidden', NULL, 'Choose a user of this organisation first.',
                      NULL, 'unauthenticated')
$$;

-- createRoom(input: {identifier, name, topic?}): the creator becomes its first member.
CREATE OR REPLACE FUNCTION fn_create_room(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_user integer := fn_current_user_pk();
    v_identifier text := input->>'identifier';
    v_name text := btrim(input->>'name');
    v_topic text := nullif(btrim(input->>'topic'), '');
    v_existing uuid;
    v_pk integer;
    v_id uuid;
BEGIN
    IF v_user IS NULL THEN
        RETURN fn_no_user();
    END IF;
    IF v_identifier IS NULL OR v_identifier !~ '^[a-z0-9]+(-[a-z0-9]+)*$'
       OR length(v_identifier) > 64 THEN
        RETURN fn_refusal('validation_error', NULL,
            'A room identifier is 1 to 64 lower case letters and digits, with single dashes.',
            'identifier', 'invalid');
    END IF;
    IF v_name IS NULL OR length(v_name) NOT BETWEEN 1 AND 100 THEN
        RETURN fn_refusal('validation_error', NULL, 'A room name has 1 to 100 characters.',
            'name', 'invalid');
    END IF;
    IF length(v_topic) > 500 THEN
        RETURN fn_refusal('validation_error', NULL, 'A topic has at most 500 characters.',
            'topic', 'invalid');
    END IF;
    v_existing := (SELECT id FROM tb_room WHERE pk_room = fn_room_pk(v_identifier, v_user));
    IF v_existing IS NOT NULL THEN
        RETURN fn_refusal('conflict', v_existing, 'There is a room with this identifier.',
            'identifier', 'duplicate');
    END IF;
    INSERT INTO tb_room (identifier, fk_organisation, fk_user, name, topic)
    SELECT v_identifier, u.fk_organisation, u.pk_user, v_name, v_topic
    FROM tb_user u WHERE u.pk_user = v_user
    RETURNING pk_room, id INTO v_pk, v_id;
    INSERT INTO tb_room_member (identifier, fk_room, fk_user)
    SELECT v_identifier || ':' || u.identifier, v_pk, u.pk_user
    FROM tb_user u WHERE u.pk_user = v_user;
    PERFORM fn_sync_tv_room(ARRAY[v_id]);
    PERFORM fraiseql_notify('room', 'insert', ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id, 'Room created.');
END $$;

-- joinRoom(input: {room}): the acting user becomes a member; a member already is (noop).
CREATE OR REPLACE FUNCTION fn_join_room(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_user integer := fn_current_user_pk();
    v_room integer;
    v_id uuid;
BEGIN
    IF v_user IS NULL THEN
        RETURN fn_no_user();
    END IF;
    v_room := fn_room_pk(input->>'room', v_user);
    IF v_room IS NULL THEN
        RETURN fn_refusal('not_found', NULL, 'No such room.', 'room', 'not_found');
    END IF;
    v_id := (SELECT id FROM tb_room WHERE pk_room = v_room);
    IF fn_is_member(v_room, v_user) THEN
        RETURN fn_mutation_result('noop', v_id, 'Already a member.');
    END IF;
    INSERT INTO tb_room_member (identifier, fk_room, fk_user)
    SELECT r.identifier || ':' || u.identifier, r.pk_room, u.pk_user
    FROM tb_room r, tb_user u WHERE r.pk_room = v_room AND u.pk_user = v_user;
    PERFORM fn_sync_tv_room(ARRAY[v_id]);
    PERFORM fraiseql_notify('room', 'update', ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id, 'Joined the room.');
END $$;

-- postMessage(input: {room, body}): a member posts; the message gets the room's next number.
CREATE OR REPLACE FUNCTION fn_post_message(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_user integer := fn_current_user_pk();
    v_body text := input->>'body';
    v_room integer;
    v_number integer;
    v_room_identifier text;
    v_id uuid;
BEGIN
    IF v_user IS NULL THEN
        RETURN fn_no_user();
    END IF;
    IF v_body IS NULL OR v_body !~ '[^[:space:]]' THEN
        RETURN fn_refusal('validation_error', NULL, 'A message needs a body.', 'body', 'required');
    END IF;
    IF length(v_body) > 4000 THEN
        RETURN fn_refusal('validation_error', NULL,
            'A message has at most 4000 characters.', 'body', 'too_long');
    END IF;
    v_room := fn_room_pk(input->>'room', v_user);
    IF v_room IS NULL THEN
        RETURN fn_refusal('not_found', NULL, 'No such room.', 'room', 'not_found');
    END IF;
    IF NOT fn_is_member(v_room, v_user) THEN
        RETURN fn_refusal('forbidden', NULL, 'Join the room first.', 'room', 'not_a_member');
    END IF;
    -- The row lock of this update orders the room's posts: numbers follow commit order.
    UPDATE tb_room SET last_number = last_number + 1 WHERE pk_room = v_room
    RETURNING last_number, identifier INTO v_number, v_room_identifier;
    INSERT INTO tb_message (identifier, fk_room, fk_user, number, body)
    VALUES (v_room_identifier || '-' || v_number, v_room, v_user, v_number, v_body)
    RETURNING id INTO v_id;
    PERFORM fn_sync_tv_message(ARRAY[v_id]);
    PERFORM fraiseql_notify('message', 'insert', ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id, 'Message posted.');
END $$;

-- setTyping(input: {room, typing = true}): typing for the next 5 seconds, or stop now.
-- One row per (room, user): the first call inserts it ('insert' event), the next ones update it.
CREATE OR REPLACE FUNCTION fn_set_typing(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_user integer := fn_current_user_pk();
    v_typing boolean := coalesce((input->>'typing')::boolean, true);
    v_room integer;
    v_id uuid;
    v_expires_at timestamptz;
    v_inserted boolean;
BEGIN
    IF v_user IS NULL THEN
        RETURN fn_no_user();
    END IF;
    v_room := fn_room_pk(input->>'room', v_user);
    IF v_room IS NULL THEN
        RETURN fn_refusal('not_found', NULL, 'No such room.', 'room', 'not_found');
    END IF;
    IF NOT fn_is_member(v_room, v_user) THEN
        RETURN fn_refusal('forbidden', NULL, 'Join the room first.', 'room', 'not_a_member');
    END IF;
    SELECT id, expires_at INTO v_id, v_expires_at
    FROM tb_typing WHERE fk_room = v_room AND fk_user = v_user;
    IF NOT v_typing AND (v_id IS NULL OR v_expires_at <= clock_timestamp()) THEN
        RETURN fn_mutation_result('noop', v_id, 'Not typing.');
    END IF;
    INSERT INTO tb_typing AS t (identifier, fk_room, fk_user, expires_at, updated_at)
    SELECT r.identifier || ':' || u.identifier, r.pk_room, u.pk_user,
           clock_timestamp() + CASE WHEN v_typing THEN interval '5 seconds' ELSE '0' END,
           clock_timestamp()
    FROM tb_room r, tb_user u WHERE r.pk_room = v_room AND u.pk_user = v_user
    ON CONFLICT (fk_room, fk_user) DO UPDATE
        SET expires_at = excluded.expires_at, updated_at = excluded.updated_at
    RETURNING t.id, (t.xmax = 0) INTO v_id, v_inserted;  -- xmax 0: the row is new
    PERFORM fn_sync_tv_typing(ARRAY[v_id]);
    PERFORM fraiseql_notify('typing', CASE WHEN v_inserted THEN 'insert' ELSE 'update' END,
                            ARRAY[v_id]);
    RETURN fn_mutation_result('success', v_id,
        CASE WHEN v_typing THEN 'Typing.' ELSE 'Stopped typing.' END);
END $$;
