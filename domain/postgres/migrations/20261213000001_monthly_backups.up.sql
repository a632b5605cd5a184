-- Monthly backups: a workspace setting turns them on; one row per
-- workspace and month records the backup, leased while it is written so
-- that one process writes it.
ALTER TABLE workspaces ADD COLUMN monthly_backup boolean NOT NULL DEFAULT false;

--bun:split

CREATE TABLE monthly_backups (
	workspace_id uuid NOT NULL REFERENCES workspaces (id),
	month        date NOT NULL,
	state        text NOT NULL CHECK (state IN ('running', 'done')),
	lease_until  timestamptz NOT NULL,
	archive_name text NOT NULL DEFAULT '',
	entries      bigint NOT NULL DEFAULT 0,
	bytes        bigint NOT NULL DEFAULT 0,
	finished_at  timestamptz,
	PRIMARY KEY (workspace_id, month)
);
