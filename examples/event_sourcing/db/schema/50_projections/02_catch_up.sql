-- FraiseQL event-sourcing example: the catch-up projector.
--
-- fn_catch_up(projection, batch_size) reads the events after the projection's checkpoint in
-- tb_projection_checkpoint, applies them, and moves the checkpoint, in one transaction: a
-- crash leaves the checkpoint and the read model as they were together. Run it again and again
-- (examples/event_sourcing/projector.py polls it); it returns how many events it applied.
--
-- Which events are safe to pass? Positions (pk_event) are handed out when rows are inserted,
-- not when they commit, so an event with a smaller position may become visible after a larger
-- one; a checkpoint on positions alone would skip it for ever. So the projector reads events in
-- (transaction_id, pk_event) order, and only those of transactions older than the oldest one
-- still running (pg_snapshot_xmin of the current snapshot): those transactions are all over,
-- and every event written later belongs to a transaction with a larger id. The checkpoint is
-- that pair. A long-running writing transaction (anywhere on the server) holds the projector
-- back until it ends; nothing is skipped.
--
-- The 'account' projection folds, for each stream it sees, every event after the version
-- tv_account holds (so a stream whose events came out of transaction order is still folded
-- in version order, and events the command already projected are not applied twice), and
-- keeps the snapshots on the way. The 'daily_activity' projection adds each event once.

CREATE OR REPLACE FUNCTION fn_catch_up_account(stream bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (SELECT id FROM tb_stream WHERE pk_stream = stream);
    v_state jsonb := (SELECT data FROM tv_account WHERE id = v_id);
    v_event tb_event;
    v_folded boolean := false;
BEGIN
    FOR v_event IN
        SELECT * FROM tb_event
        WHERE fk_stream = stream AND version > coalesce((v_state ->> 'version')::integer, 0)
        ORDER BY version
    LOOP
        v_state := fn_apply_account_event(v_state, v_id, v_event);
        PERFORM fn_snapshot_account(stream, v_state);
        v_folded := true;
    END LOOP;
    IF v_folded THEN
        PERFORM fn_apply_tv_account(v_state);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION fn_catch_up(projection text, batch_size integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
    v_checkpoint tb_projection_checkpoint;
    v_event tb_event;
    v_streams bigint[] := '{}';
    v_stream bigint;
    v_count integer := 0;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'fn_catch_up: batch_size must be positive' USING ERRCODE = '22023';
    END IF;
    -- One projector at a time per projection: a second one waits here, then goes on from
    -- where the first stopped.
    SELECT * INTO v_checkpoint FROM tb_projection_checkpoint c
    WHERE c.projection = fn_catch_up.projection FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'fn_catch_up: there is no projection %', projection
            USING ERRCODE = '22023';
    END IF;
    FOR v_event IN
        SELECT * FROM tb_event e
        WHERE (e.transaction_id, e.pk_event) > (v_checkpoint.transaction_id, v_checkpoint.position)
          AND e.transaction_id < v_horizon
        ORDER BY e.transaction_id, e.pk_event
        LIMIT batch_size
    LOOP
        IF projection = 'daily_activity' THEN
            PERFORM fn_apply_daily_activity(v_event);
        ELSIF NOT v_event.fk_stream = ANY (v_streams) THEN
            v_streams := v_streams || v_event.fk_stream;
        END IF;
        v_checkpoint.transaction_id := v_event.transaction_id;
        v_checkpoint.position := v_event.pk_event;
        v_count := v_count + 1;
    END LOOP;
    IF projection = 'account' THEN
        FOREACH v_stream IN ARRAY v_streams LOOP
            PERFORM fn_catch_up_account(v_stream);
        END LOOP;
    END IF;
    IF v_count > 0 THEN
        UPDATE tb_projection_checkpoint c SET
            transaction_id = v_checkpoint.transaction_id,
            position = v_checkpoint.position,
            events_applied = c.events_applied + v_count,
            updated_at = clock_timestamp()
        WHERE c.projection = fn_catch_up.projection;
    END IF;
    RETURN v_count;
END $$;

-- How many events a projection has still to read (including those it may not read yet).
CREATE OR REPLACE FUNCTION fn_projection_lag(projection text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM tb_event e, tb_projection_checkpoint c
    WHERE c.projection = fn_projection_lag.projection
      AND (e.transaction_id, e.pk_event) > (c.transaction_id, c.position)
$$;

-- Forget every projection: empty the read models and the snapshots, and move every
-- checkpoint back to the start. Then the catch-up projector rebuilds them from the events
-- (examples/event_sourcing/projector.py replay). The commands keep working meanwhile: they
-- load state from the events, and the projector skips what they projected already.
CREATE OR REPLACE FUNCTION fn_reset_projections() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE tv_account, tv_daily_activity, tb_snapshot;
    UPDATE tb_projection_checkpoint SET
        transaction_id = '0', position = 0, events_applied = 0, updated_at = NULL;
END $$;

REVOKE EXECUTE ON FUNCTION fn_catch_up(text, integer), fn_reset_projections() FROM PUBLIC;
