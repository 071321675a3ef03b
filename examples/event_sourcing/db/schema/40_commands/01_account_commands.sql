-- FraiseQL event-sourcing example: the commands, one function per mutation.
--
-- Each command loads the account's state from the store (the latest snapshot and the events
-- after it), validates the input against that state, appends one event at the next version,
-- folds it in, and in the same transaction writes tv_account (the synchronous projection),
-- keeps a snapshot when one is due, and tells subscribers which account changed. It returns
-- the FraiseQL result contract (fraiseql_mutation_result):
--
--   success           the event is appended; `id` is the account, read back from tv_account
--   noop              nothing to record (closing a closed account)
--   not_found         no account has this id or identifier
--   conflict          expected_version is not the current version, or another command
--                     appended that version first; `errors` tell the current version
--   validation_error  the input or the account's state refuses the command (a closed account,
--                     an overdraft, a bad amount...); `errors` name the field and a code
--   forbidden         no actor (the app.actor claim): every event records who did it
--
-- Nothing is written unless the status is success: FraiseQL undoes the call's writes for any
-- other status, and the checks come before the append anyway.

-- The shared preamble of the commands on an existing account: the actor, the account, its
-- state and the expected version. `result` is set when the command must stop there.
CREATE OR REPLACE FUNCTION fn_account_preamble(
    input jsonb,
    OUT result fraiseql_mutation_result, OUT stream bigint, OUT account_id uuid,
    OUT state jsonb
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_expected jsonb := input -> 'expected_version';
    v_version integer;
BEGIN
    IF fn_actor() IS NULL THEN
        result := fn_mutation_result('forbidden', NULL,
            'Commands need an actor (the X-Actor header): every event records who did it.');
        RETURN;
    END IF;
    IF jsonb_typeof(input -> 'account') IS DISTINCT FROM 'string' THEN
        result := fn_mutation_result('validation_error', NULL, 'Which account?',
            fn_field_error('account', 'give the account''s id or identifier', 'required'));
        RETURN;
    END IF;
    IF v_expected IS NOT NULL AND jsonb_typeof(v_expected) <> 'null'
       AND (jsonb_typeof(v_expected) <> 'number' OR v_expected #>> '{}' !~ '^[0-9]{1,9}$') THEN
        result := fn_mutation_result('validation_error', NULL, 'Bad expected version.',
            fn_field_error('expected_version', 'a version is a non-negative integer',
                           'invalid'));
        RETURN;
    END IF;
    stream := fn_stream_pk('account', input ->> 'account');
    IF stream IS NULL THEN
        result := fn_mutation_result('not_found', NULL, 'No such account.',
            fn_field_error('account', 'no account has this id or identifier', 'not_found'));
        RETURN;
    END IF;
    account_id := (SELECT id FROM tb_stream WHERE pk_stream = stream);
    state := (fn_load_account(stream)).state;
    v_version := (state ->> 'version')::integer;
    IF (v_expected #>> '{}')::integer <> v_version THEN
        result := fn_mutation_result('conflict', account_id,
            format('The account is at version %s, not %s.', v_version, v_expected #>> '{}'),
            fn_field_error('expected_version',
                format('stale version; the current one is %s', v_version), 'stale_version'));
    END IF;
END $$;

-- Append an event to an account and project it: the end of every successful command.
CREATE OR REPLACE FUNCTION fn_record_account_event(
    stream bigint, account_id uuid, state jsonb, event_type text, payload jsonb, message text
) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_version integer := coalesce((state ->> 'version')::integer, 0);
    v_event tb_event;
    v_state jsonb;
BEGIN
    v_event := fn_append_event(stream, v_version, event_type, payload);
    IF v_event.id IS NULL THEN
        RETURN fn_mutation_result('conflict', account_id,
            'Another command changed the account meanwhile; load it and try again.',
            fn_field_error('expected_version',
                format('version %s was taken by a concurrent command', v_version + 1),
                'concurrent_write'));
    END IF;
    v_state := fn_apply_account_event(state, account_id, v_event);
    PERFORM fn_apply_tv_account(v_state);
    PERFORM fn_snapshot_account(stream, v_state);
    PERFORM fraiseql_notify('account', CASE WHEN v_version = 0 THEN 'insert' ELSE 'update' END,
                            ARRAY[account_id]);
    RETURN fn_mutation_result('success', account_id, message);
END $$;

-- openAccount(input: {identifier, owner, currency?, id?})
CREATE OR REPLACE FUNCTION fn_open_account(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v_identifier text := input ->> 'identifier';
    v_owner text := btrim(input ->> 'owner');
    v_currency text := coalesce(input ->> 'currency', 'EUR');
    v_requested_id text := input ->> 'id';
    v_existing uuid;
    v_stream bigint;
    v_id uuid;
BEGIN
    IF fn_actor() IS NULL THEN
        RETURN fn_mutation_result('forbidden', NULL,
            'Commands need an actor (the X-Actor header): every event records who did it.');
    END IF;
    IF v_identifier IS NULL OR v_identifier !~ '^[a-z0-9][a-z0-9-]{0,62}$'
       OR fn_is_uuid(v_identifier) THEN
        RETURN fn_mutation_result('validation_error', NULL, 'Bad identifier.',
            fn_field_error('identifier',
                'lower-case letters, digits and dashes, at most 63, not shaped like a UUID',
                'invalid'));
    END IF;
    IF v_owner IS NULL OR v_owner = '' THEN
        RETURN fn_mutation_result('validation_error', NULL, 'Whose account?',
            fn_field_error('owner', 'an account needs an owner', 'required'));
    END IF;
    IF length(v_owner) > 200 THEN
        RETURN fn_mutation_result('validation_error', NULL, 'Owner too long.',
            fn_field_error('owner', 'at most 200 characters', 'too_long'));
    END IF;
    IF v_currency !~ '^[A-Z]{3}$' THEN
        RETURN fn_mutation_result('validation_error', NULL, 'Bad currency.',
            fn_field_error('currency', 'a currency is three capital letters (ISO 4217)',
                           'invalid'));
    END IF;
    IF v_requested_id IS NOT NULL AND NOT fn_is_uuid(v_requested_id) THEN
        RETURN fn_mutation_result('validation_error', NULL, 'Bad id.',
            fn_field_error('id', 'an id is a UUID', 'invalid'));
    END IF;
    SELECT id INTO v_existing FROM tb_stream
    WHERE stream_type = 'account'
      AND (identifier = v_identifier OR id = v_requested_id::uuid);
    IF FOUND THEN
        RETURN fn_mutation_result('conflict', v_existing, 'This account exists already.',
            fn_field_error(
                CASE WHEN v_existing = v_requested_id::uuid THEN 'id' ELSE 'identifier' END,
                'taken by another account', 'taken'));
    END IF;
    BEGIN
        INSERT INTO tb_stream (id, identifier, stream_type, created_at)
        VALUES (coalesce(v_requested_id::uuid, gen_random_uuid()), v_identifier, 'account',
                fn_event_clock())
        RETURNING pk_stream, id INTO v_stream, v_id;
    EXCEPTION WHEN unique_violation THEN  -- opened by a concurrent command since the check
        RETURN fn_mutation_result('conflict', NULL, 'This account exists already.',
            fn_field_error('identifier', 'taken by another account', 'taken'));
    END;
    RETURN fn_record_account_event(v_stream, v_id, NULL, 'AccountOpened',
        jsonb_build_object('identifier', v_identifier, 'owner', v_owner,
                           'currency', v_currency),
        'Account opened.');
END $$;

-- deposit(input: {account, amount, expected_version?})
CREATE OR REPLACE FUNCTION fn_deposit(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v record;
    v_checked record;
BEGIN
    SELECT * INTO v FROM fn_account_preamble(input);
    IF (v.result).status IS NOT NULL THEN
        RETURN v.result;
    END IF;
    SELECT * INTO v_checked FROM fn_check_amount(input -> 'amount');
    IF v_checked.errors IS NOT NULL THEN
        RETURN fn_mutation_result('validation_error', v.account_id, 'Bad amount.',
                                  v_checked.errors);
    END IF;
    IF v.state ->> 'status' = 'closed' THEN
        RETURN fn_mutation_result('validation_error', v.account_id, 'The account is closed.',
            fn_field_error('account', 'a closed account takes no deposits', 'account_closed'));
    END IF;
    RETURN fn_record_account_event(v.stream, v.account_id, v.state, 'MoneyDeposited',
        jsonb_build_object('amount', v_checked.amount::text), 'Money deposited.');
END $$;

-- withdraw(input: {account, amount, expected_version?}): never below zero.
CREATE OR REPLACE FUNCTION fn_withdraw(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v record;
    v_checked record;
BEGIN
    SELECT * INTO v FROM fn_account_preamble(input);
    IF (v.result).status IS NOT NULL THEN
        RETURN v.result;
    END IF;
    SELECT * INTO v_checked FROM fn_check_amount(input -> 'amount');
    IF v_checked.errors IS NOT NULL THEN
        RETURN fn_mutation_result('validation_error', v.account_id, 'Bad amount.',
                                  v_checked.errors);
    END IF;
    IF v.state ->> 'status' = 'closed' THEN
        RETURN fn_mutation_result('validation_error', v.account_id, 'The account is closed.',
            fn_field_error('account', 'a closed account pays nothing out', 'account_closed'));
    END IF;
    IF v_checked.amount > (v.state ->> 'balance')::numeric THEN
        RETURN fn_mutation_result('validation_error', v.account_id, 'Insufficient funds.',
            fn_field_error('amount',
                format('the balance is %s; no overdraft', v.state ->> 'balance'),
                'insufficient_funds'));
    END IF;
    RETURN fn_record_account_event(v.stream, v.account_id, v.state, 'MoneyWithdrawn',
        jsonb_build_object('amount', v_checked.amount::text), 'Money withdrawn.');
END $$;

-- closeAccount(input: {account, expected_version?}): only with a zero balance.
CREATE OR REPLACE FUNCTION fn_close_account(input jsonb) RETURNS fraiseql_mutation_result
LANGUAGE plpgsql AS $$
DECLARE
    v record;
BEGIN
    SELECT * INTO v FROM fn_account_preamble(input);
    IF (v.result).status IS NOT NULL THEN
        RETURN v.result;
    END IF;
    IF v.state ->> 'status' = 'closed' THEN
        RETURN fn_mutation_result('noop', v.account_id, 'The account is already closed.');
    END IF;
    IF (v.state ->> 'balance')::numeric <> 0 THEN
        RETURN fn_mutation_result('validation_error', v.account_id,
            'Only an empty account can be closed.',
            fn_field_error('account',
                format('the balance is %s; withdraw it first', v.state ->> 'balance'),
                'balance_not_zero'));
    END IF;
    RETURN fn_record_account_event(v.stream, v.account_id, v.state, 'AccountClosed',
        '{}'::jsonb, 'Account closed.');
END $$;
