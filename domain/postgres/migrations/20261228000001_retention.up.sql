-- Retention: how long entries stay in the searchable log (0 keeps them
-- there indefinitely, the default); log_retention_days stays how long the
-- log is kept at all, the archive included (7 years by default).
ALTER TABLE workspaces ADD COLUMN active_log_days integer NOT NULL DEFAULT 0;

--bun:split

-- Legal holds keep a period's and/or a user's entries in the searchable
-- log, never archived away or deleted, until released.
CREATE TABLE legal_holds (
	id           uuid PRIMARY KEY,
	workspace_id uuid NOT NULL REFERENCES workspaces (id),
	from_at      timestamptz,
	to_at        timestamptz,
	user_id      uuid,
	reason       text NOT NULL,
	created_by   uuid,
	created_at   timestamptz NOT NULL,
	released_at  timestamptz,
	released_by  uuid
);

--bun:split

CREATE INDEX legal_holds_workspace ON legal_holds (workspace_id) WHERE released_at IS NULL;

--bun:split

-- Leases of platform jobs that one process runs at a time (the retention
-- job), by name.
CREATE TABLE job_leases (
	name        text PRIMARY KEY,
	lease_id    uuid NOT NULL,
	lease_until timestamptz NOT NULL
);
