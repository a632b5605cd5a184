-- Restores of archived periods: an owner asks for a period of the
-- workspace's archive to be searchable again for a while; the retention
-- job indexes it back (status restored) and removes it once expires_at
-- has passed (status expired).
CREATE TABLE archive_restores (
	id           uuid PRIMARY KEY,
	workspace_id uuid NOT NULL REFERENCES workspaces (id),
	from_at      timestamptz NOT NULL,
	to_at        timestamptz NOT NULL,
	months       text[] NOT NULL,
	days         integer NOT NULL,
	status       text NOT NULL,
	entries      bigint NOT NULL DEFAULT 0,
	removed      bigint NOT NULL DEFAULT 0,
	error        text NOT NULL DEFAULT '',
	expires_at   timestamptz NOT NULL,
	created_by   uuid,
	created_at   timestamptz NOT NULL,
	restored_at  timestamptz,
	ended_at     timestamptz,
	ended_by     uuid
);

--bun:split

CREATE INDEX archive_restores_workspace ON archive_restores (workspace_id, created_at DESC);

--bun:split

CREATE INDEX archive_restores_open ON archive_restores (status, expires_at) WHERE status IN ('pending', 'restored');
