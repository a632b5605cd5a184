-- Generated reports: what was asked for, the period it resolved to, who
-- generated it and what came out. The result is kept as generated, so a
-- report reads the same later whatever happens to the index or the alerts.
CREATE TABLE reports (
	id                 uuid PRIMARY KEY,
	workspace_id       uuid NOT NULL REFERENCES workspaces (id),
	workspace_name     text NOT NULL,
	type               text NOT NULL CHECK (type IN ('user', 'asset', 'license', 'security')),
	name               text NOT NULL,
	parameters         jsonb NOT NULL,
	period_from        timestamptz NOT NULL,
	period_to          timestamptz NOT NULL,
	time_zone          text NOT NULL,
	scope              text NOT NULL CHECK (scope IN ('workspace', 'own')),
	generated_by_id    uuid NOT NULL,
	generated_by_name  text NOT NULL DEFAULT '',
	generated_by_email text NOT NULL DEFAULT '',
	generated_at       timestamptz NOT NULL,
	total              bigint NOT NULL,
	result             jsonb NOT NULL
);

--bun:split

CREATE INDEX reports_workspace_generated_idx ON reports (workspace_id, generated_at DESC, id DESC);

--bun:split

CREATE INDEX reports_generator_generated_idx ON reports (workspace_id, generated_by_id, generated_at DESC, id DESC);
