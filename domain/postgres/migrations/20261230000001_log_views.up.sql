-- The last time each session (or API token) was recorded reading the
-- activity log with one filter, so that a view is recorded once per
-- session and filter within the debounce period, whichever API process
-- serves it. Rows older than the period are removed as views come.
CREATE TABLE log_views (
	workspace_id uuid        NOT NULL,
	viewer       text        NOT NULL,
	fingerprint  text        NOT NULL,
	recorded_at  timestamptz NOT NULL,
	PRIMARY KEY (workspace_id, viewer, fingerprint)
);
CREATE INDEX log_views_recorded_at_idx ON log_views (workspace_id, recorded_at);
