-- FraiseQL event-sourcing example: small helpers of the commands and projections.

-- The result contract (fraiseql_mutation_result, 00_common/) with errors defaulting to none.
CREATE OR REPLACE FUNCTION fn_mutation_result(
    status text, id uuid, message text, errors jsonb DEFAULT '[]'
) RETURNS fraiseql_mutation_result
LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(status, id, message, errors)::fraiseql_mutation_result $$;

-- The `errors` of a result about one input field.
CREATE OR REPLACE FUNCTION fn_field_error(field text, message text, code text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_array(jsonb_build_object('field', field, 'message', message, 'code', code))
$$;

-- Who is acting: the app.actor claim (the X-Actor header in the example app), NULL when unset.
CREATE OR REPLACE FUNCTION fn_actor() RETURNS text
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.actor', true), '') $$;

-- The time events are stamped with: the transaction's start, unless the caller set
-- events.clock (the seed does, so that its events have fixed times; the app never sets it).
CREATE OR REPLACE FUNCTION fn_event_clock() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('events.clock', true), '')::timestamptz, now())
$$;

-- A timestamp as documents hold it, always in UTC: "2024-05-01T09:00:00+00:00".
CREATE OR REPLACE FUNCTION fn_utc_text(moment timestamptz) RETURNS text
LANGUAGE sql STABLE SET TimeZone = 'UTC' AS $$ SELECT to_jsonb(moment) #>> '{}' $$;

CREATE OR REPLACE FUNCTION fn_is_uuid(reference text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT reference ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
$$;

-- The stream of a type given by id or identifier (a Trinity reference), NULL when none.
CREATE OR REPLACE FUNCTION fn_stream_pk(kind text, reference text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT pk_stream FROM tb_stream
    WHERE stream_type = kind
      AND (id = CASE WHEN fn_is_uuid(reference) THEN reference::uuid END
           OR identifier = CASE WHEN fn_is_uuid(reference) THEN NULL ELSE reference END)
$$;

-- The largest amount one deposit or withdrawal may move.
CREATE OR REPLACE FUNCTION fn_max_amount() RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$ SELECT 1000000000.00::numeric $$;

-- An amount given in a command's input (a JSON number or a numeric string): the amount with
-- exactly two decimals, or the `errors` explaining why it is refused.
CREATE OR REPLACE FUNCTION fn_check_amount(value jsonb, OUT amount numeric, OUT errors jsonb)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        errors := fn_field_error('amount', 'an amount is required', 'required');
        RETURN;
    END IF;
    IF jsonb_typeof(value) NOT IN ('number', 'string') THEN
        errors := fn_field_error('amount', 'an amount is a decimal number', 'invalid');
        RETURN;
    END IF;
    BEGIN
        amount := (value #>> '{}')::numeric;
    EXCEPTION WHEN data_exception THEN  -- not a number, or beyond numeric's range
        errors := fn_field_error('amount', 'an amount is a decimal number', 'invalid');
        RETURN;
    END;
    IF amount = 'NaN'::numeric OR amount IN ('Infinity'::numeric, '-Infinity'::numeric) THEN
        errors := fn_field_error('amount', 'an amount is a finite decimal number', 'invalid');
    ELSIF amount <= 0 THEN
        errors := fn_field_error('amount', 'the amount must be positive', 'not_positive');
    ELSIF amount > fn_max_amount() THEN
        errors := fn_field_error('amount',
            format('the amount may not exceed %s', fn_max_amount()), 'too_large');
    ELSIF amount <> round(amount, 2) THEN
        errors := fn_field_error('amount', 'the amount has at most two decimals', 'scale');
    END IF;
    IF errors IS NOT NULL THEN
        amount := NULL;
    ELSE
        amount := round(amount, 2);
    END IF;
END $$;
