-- FraiseQL event-sourcing example: the role requests run as (SET LOCAL ROLE, through
-- SessionSettings in examples/event_sourcing/app.py). It cannot log in, is not a superuser,
-- owns nothing, and may only do what the commands and queries do: read the store and the
-- read models, append streams, events and snapshots, and write tv_account. It has no UPDATE
-- or DELETE on the store (the append-only triggers refuse them to everyone anyway), and
-- cannot run the projector (fn_catch_up, fn_reset_projections: the loader's role does).
-- Roles belong to the server: it is created once and granted in each database.

DO $$
BEGIN
    CREATE ROLE events_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;  -- another database created it first
END $$;

GRANT USAGE ON SCHEMA public TO events_app;
GRANT SELECT ON tb_stream, tb_event, tb_snapshot, tv_account, tv_daily_activity TO events_app;
GRANT INSERT ON tb_stream, tb_event, tb_snapshot TO events_app;
GRANT INSERT, UPDATE ON tv_account TO events_app;
