-- FraiseQL event-sourcing example: the read models, one JSONB document per entity.
--
-- tv_account         one row per account: the fold of its events. Written in the command's own
--                    transaction (synchronous projection, 40_commands/) and by the catch-up
--                    projector of the 'account' projection (50_projections/), which rebuilds
--                    it after a reset. `version` is the version of the last event folded in:
--                    a write never replaces a row with an older version.
-- tv_daily_activity  one row per UTC day: what happened to all accounts that day. Written only
--                    by the catch-up projector ('daily_activity'), so it lags the commands by
--                    the projector's polling interval.
--
-- Documents have snake_case keys; amounts are strings with two decimals ("12.50"), so that
-- they stay exact on every path; timestamps read like "2024-05-01T09:00:00+00:00".

CREATE TABLE tv_account (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    version    INTEGER NOT NULL,
    data       JSONB NOT NULL
);
CREATE INDEX tv_account_owner_idx ON tv_account ((data ->> 'owner'));
CREATE INDEX tv_account_status_idx ON tv_account ((data ->> 'status'));

CREATE TABLE tv_daily_activity (
    id         UUID PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    data       JSONB NOT NULL
);
