-- FraiseQL event-sourcing example: appending events and writing the account read model.

-- Append one event to a stream at version expected_version + 1, stamped with the actor and the
-- event clock. Returns the event, or NULL when that version is taken: another writer appended
-- it since the caller read the stream (the unique key; a concurrent writer's insert waits for
-- the first to commit, then lands here). The caller answers CONFLICT.
CREATE OR REPLACE FUNCTION fn_append_event(
    stream bigint, expected_version integer, event_type text, payload jsonb
) RETURNS tb_event
LANGUAGE plpgsql AS $$
DECLARE
    v_event tb_event;
    v_constraint text;
BEGIN
    INSERT INTO tb_event (fk_stream, version, event_type, payload, actor, occurred_at)
    VALUES (stream, expected_version + 1, event_type, payload, fn_actor(), fn_event_clock())
    RETURNING * INTO v_event;
    RETURN v_event;
EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
    IF v_constraint IS DISTINCT FROM 'tb_event_stream_version_key' THEN
        RAISE;
    END IF;
    RETURN NULL;
END $$;

-- Write a folded account state into tv_account (the synchronous projection's write). A row
-- is never replaced by an older version, nor rewritten when its document is unchanged; the
-- same version with another document replaces it (a repair, fn_sync_tv_account). Returns
-- whether the row was written.
CREATE OR REPLACE FUNCTION fn_apply_tv_account(state jsonb) RETURNS boolean
LANGUAGE sql AS $$
    WITH written AS (
        INSERT INTO tv_account (id, identifier, version, data)
        VALUES ((state ->> 'id')::uuid, state ->> 'identifier',
                (state ->> 'version')::integer, state)
        ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data
        WHERE tv_account.version <= EXCLUDED.version
          AND tv_account.data IS DISTINCT FROM EXCLUDED.data
        RETURNING 1
    )
    SELECT count(*) > 0 FROM written
$$;

-- Recompute tv_account rows from the store (with snapshots): the accounts of `ids`, every
-- account when NULL. Returns the number of rows written.
CREATE OR REPLACE FUNCTION fn_sync_tv_account(ids uuid[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_stream bigint;
    v_state jsonb;
    v_written integer := 0;
BEGIN
    FOR v_stream IN
        SELECT pk_stream FROM tb_stream
        WHERE stream_type = 'account' AND (ids IS NULL OR id = ANY (ids))
        ORDER BY pk_stream
    LOOP
        v_state := (fn_load_account(v_stream)).state;
        CONTINUE WHEN v_state IS NULL;
        IF fn_apply_tv_account(v_state) THEN
            v_written := v_written + 1;
        END IF;
    END LOOP;
    RETURN v_written;
END $$;
