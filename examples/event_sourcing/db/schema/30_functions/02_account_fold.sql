-- FraiseQL event-sourcing example: what an account is, as a fold of its events.
--
-- fn_apply_account_event(state, stream id, event) is the one place that knows what each event
-- does to an account. Commands, the synchronous projection, the catch-up projector, snapshots
-- and replays all fold with it, so they cannot disagree. The state is the tv_account document.
--
-- Events (payload keys):
--   AccountOpened  {identifier, owner, currency}
--   MoneyDeposited {amount}   amount: a string with two decimals
--   MoneyWithdrawn {amount}
--   AccountClosed  {}

CREATE OR REPLACE FUNCTION fn_snapshot_interval() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 5 $$;

CREATE OR REPLACE FUNCTION fn_apply_account_event(state jsonb, stream_id uuid, event tb_event)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_at text := fn_utc_text(event.occurred_at);
BEGIN
    IF event.version <> coalesce((state ->> 'version')::integer, 0) + 1 THEN
        RAISE EXCEPTION 'event % of stream % is version %, the state is at version %',
            event.id, stream_id, event.version, coalesce(state ->> 'version', '0')
            USING ERRCODE = 'EV002';
    END IF;
    CASE event.event_type
    WHEN 'AccountOpened' THEN
        RETURN jsonb_build_object(
            'id', stream_id,
            'identifier', event.payload ->> 'identifier',
            'owner', event.payload ->> 'owner',
            'currency', event.payload ->> 'currency',
            'status', 'open',
            'balance', '0.00',
            'version', event.version,
            'opened_at', v_at,
            'closed_at', NULL,
            'updated_at', v_at,
            'deposit_count', 0,
            'withdrawal_count', 0);
    WHEN 'MoneyDeposited' THEN
        RETURN state || jsonb_build_object(
            'balance', ((state ->> 'balance')::numeric
                        + (event.payload ->> 'amount')::numeric)::text,
            'deposit_count', (state ->> 'deposit_count')::integer + 1,
            'version', event.version,
            'updated_at', v_at);
    WHEN 'MoneyWithdrawn' THEN
        RETURN state || jsonb_build_object(
            'balance', ((state ->> 'balance')::numeric
                        - (event.payload ->> 'amount')::numeric)::text,
            'withdrawal_count', (state ->> 'withdrawal_count')::integer + 1,
            'version', event.version,
            'updated_at', v_at);
    WHEN 'AccountClosed' THEN
        RETURN state || jsonb_build_object(
            'status', 'closed',
            'closed_at', v_at,
            'version', event.version,
            'updated_at', v_at);
    ELSE
        RAISE EXCEPTION 'unknown account event type %', event.event_type
            USING ERRCODE = 'EV003';
    END CASE;
END $$;

-- The current state of an account stream: the latest snapshot (unless use_snapshots is false)
-- and the events after it. snapshot_version is the version the fold started from (0: from
-- nothing), events_folded how many events were applied; state is NULL for an empty stream.
CREATE OR REPLACE FUNCTION fn_load_account(
    stream bigint, use_snapshots boolean DEFAULT true,
    OUT state jsonb, OUT snapshot_version integer, OUT events_folded integer
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_id uuid := (SELECT id FROM tb_stream WHERE pk_stream = stream);
    v_event tb_event;
BEGIN
    snapshot_version := 0;
    events_folded := 0;
    IF use_snapshots THEN
        SELECT s.version, s.state INTO snapshot_version, state
        FROM tb_snapshot s WHERE s.fk_stream = stream
        ORDER BY s.version DESC LIMIT 1;
        snapshot_version := coalesce(snapshot_version, 0);
    END IF;
    FOR v_event IN
        SELECT * FROM tb_event e
        WHERE e.fk_stream = stream AND e.version > snapshot_version
        ORDER BY e.version
    LOOP
        state := fn_apply_account_event(state, v_id, v_event);
        events_folded := events_folded + 1;
    END LOOP;
END $$;

-- Keep a snapshot of a state whose version is a multiple of the interval.
CREATE OR REPLACE FUNCTION fn_snapshot_account(stream bigint, state jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF (state ->> 'version')::integer % fn_snapshot_interval() = 0 THEN
        INSERT INTO tb_snapshot (fk_stream, version, state)
        VALUES (stream, (state ->> 'version')::integer, state)
        ON CONFLICT DO NOTHING;
    END IF;
END $$;
