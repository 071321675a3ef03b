-- FraiseQL event-sourcing example: the audit history of an account, read from the store.
--
-- fn_account_history(reference, after_version, max_events) is the JSON array of the events of
-- the account given by id or identifier, in version order, after `after_version` (NULL: from
-- the first), at most `max_events`; NULL when there is no such account. The accountHistory
-- query (examples/event_sourcing/schema.py) serves it. It reads tb_event itself, through its
-- (fk_stream, version) key: the audit trail is the store, not a projection of it.

CREATE OR REPLACE FUNCTION fn_account_history(
    reference text, after_version integer, max_events integer
) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_stream bigint := fn_stream_pk('account', reference);
BEGIN
    IF v_stream IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'id', e.id,
                   'account_id', s.id,
                   'version', e.version,
                   'type', e.event_type,
                   'payload', e.payload,
                   'amount', e.payload -> 'amount',
                   'actor', e.actor,
                   'occurred_at', fn_utc_text(e.occurred_at))
               ORDER BY e.version)
        FROM (SELECT * FROM tb_event
              WHERE fk_stream = v_stream AND version > coalesce(after_version, 0)
              ORDER BY version
              LIMIT max_events) AS e
        JOIN tb_stream s ON s.pk_stream = e.fk_stream
    ), '[]'::jsonb);
END $$;
