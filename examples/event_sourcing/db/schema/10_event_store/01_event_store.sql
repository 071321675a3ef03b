-- FraiseQL event-sourcing example: the event store.
--
-- tb_stream   one row per stream (here: per bank account), its Trinity ids. A stream has no
--             mutable state: what an account is, is the fold of its events.
-- tb_event    the events, append-only. `version` numbers the events of one stream from 1;
--             UNIQUE (fk_stream, version) is the optimistic-concurrency guard: two writers that
--             read the same version both try to append version + 1, and only one insert can
--             succeed (the other waits for the first to commit, then gets unique_violation).
--             `pk_event` is the global position; `transaction_id` the writing transaction,
--             which tells the catch-up projector which events can no longer be preceded by an
--             event still being written (see 50_projections/).
-- tb_snapshot the folded state of a stream at some versions (every fn_snapshot_interval()
--             events), so that loading a stream folds at most that many events. Derived data:
--             a replay rebuilds it.
-- tb_projection_checkpoint  how far each catch-up projection has read tb_event.
--
-- tb_stream and tb_event refuse UPDATE, DELETE and TRUNCATE with a trigger, whoever asks (the
-- owner and superusers included); the application role is not granted them either. The store
-- is emptied only by dropping it (examples/event_sourcing/database.py load_schema).

CREATE TABLE tb_stream (
    pk_stream   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          UUID NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    identifier  TEXT NOT NULL,
    stream_type TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT tb_stream_identifier_key UNIQUE (stream_type, identifier)
);

CREATE TABLE tb_event (
    pk_event       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             UUID NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    fk_stream      BIGINT NOT NULL REFERENCES tb_stream (pk_stream),
    version        INTEGER NOT NULL CHECK (version > 0),
    event_type     TEXT NOT NULL,
    payload        JSONB NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    actor          TEXT NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    transaction_id XID8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT tb_event_stream_version_key UNIQUE (fk_stream, version)
);
CREATE INDEX tb_event_transaction_idx ON tb_event (transaction_id, pk_event);

CREATE OR REPLACE FUNCTION fn_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'EV001',
              HINT = 'Record a new event instead (a correction is an event too).';
END $$;

CREATE TRIGGER tb_stream_append_only BEFORE UPDATE OR DELETE ON tb_stream
    FOR EACH ROW EXECUTE FUNCTION fn_refuse_change();
CREATE TRIGGER tb_stream_no_truncate BEFORE TRUNCATE ON tb_stream
    FOR EACH STATEMENT EXECUTE FUNCTION fn_refuse_change();
CREATE TRIGGER tb_event_append_only BEFORE UPDATE OR DELETE ON tb_event
    FOR EACH ROW EXECUTE FUNCTION fn_refuse_change();
CREATE TRIGGER tb_event_no_truncate BEFORE TRUNCATE ON tb_event
    FOR EACH STATEMENT EXECUTE FUNCTION fn_refuse_change();

CREATE TABLE tb_snapshot (
    fk_stream BIGINT NOT NULL,
    version   INTEGER NOT NULL,
    state     JSONB NOT NULL,
    PRIMARY KEY (fk_stream, version),
    FOREIGN KEY (fk_stream, version) REFERENCES tb_event (fk_stream, version)
);

CREATE TABLE tb_projection_checkpoint (
    projection     TEXT PRIMARY KEY,
    transaction_id XID8 NOT NULL DEFAULT '0',
    position       BIGINT NOT NULL DEFAULT 0,
    events_applied BIGINT NOT NULL DEFAULT 0,
    updated_at     TIMESTAMPTZ
);
INSERT INTO tb_projection_checkpoint (projection) VALUES ('account'), ('daily_activity');
