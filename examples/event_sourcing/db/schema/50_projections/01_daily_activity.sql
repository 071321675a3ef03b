-- FraiseQL event-sourcing example: the daily activity projection (tv_daily_activity).
--
-- One document per UTC day, summing what the events of that day did to all accounts. Each
-- event is added exactly once, by the catch-up projector; sums do not depend on the order in
-- which events are added, so a replay gives the same documents.

CREATE OR REPLACE FUNCTION fn_apply_daily_activity(event tb_event) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (event.occurred_at AT TIME ZONE 'UTC')::date;
    v_id uuid := md5('daily_activity:' || v_day::text)::uuid;
    v_amount numeric := coalesce((event.payload ->> 'amount')::numeric, 0);
    v_empty jsonb := jsonb_build_object(
        'id', v_id, 'identifier', v_day::text, 'day', v_day::text,
        'event_count', 0, 'accounts_opened', 0, 'accounts_closed', 0,
        'deposit_count', 0, 'deposited', '0.00', 'withdrawal_count', 0, 'withdrawn', '0.00');
    v_data jsonb;
BEGIN
    SELECT data INTO v_data FROM tv_daily_activity WHERE id = v_id FOR UPDATE;
    v_data := coalesce(v_data, v_empty);
    v_data := v_data || jsonb_build_object('event_count', (v_data ->> 'event_count')::integer + 1);
    CASE event.event_type
    WHEN 'AccountOpened' THEN
        v_data := v_data || jsonb_build_object(
            'accounts_opened', (v_data ->> 'accounts_opened')::integer + 1);
    WHEN 'AccountClosed' THEN
        v_data := v_data || jsonb_build_object(
            'accounts_closed', (v_data ->> 'accounts_closed')::integer + 1);
    WHEN 'MoneyDeposited' THEN
        v_data := v_data || jsonb_build_object(
            'deposit_count', (v_data ->> 'deposit_count')::integer + 1,
            'deposited', ((v_data ->> 'deposited')::numeric + v_amount)::text);
    WHEN 'MoneyWithdrawn' THEN
        v_data := v_data || jsonb_build_object(
            'withdrawal_count', (v_data ->> 'withdrawal_count')::integer + 1,
            'withdrawn', ((v_data ->> 'withdrawn')::numeric + v_amount)::text);
    ELSE
        NULL;  -- an event type this projection does not count
    END CASE;
    INSERT INTO tv_daily_activity (id, identifier, data) VALUES (v_id, v_day::text, v_data)
    ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data;
END $$;
