-- The live activity streams open on every API process, so that a
-- workspace's limit holds across processes. A stream renews its row while
-- it lasts; one whose process died lapses at expires_at.
CREATE TABLE activity_streams (
	id           uuid PRIMARY KEY,
	workspace_id uuid NOT NULL,
	expires_at   timestamptz NOT NULL
);

--bun:split

CREATE INDEX activity_streams_workspace_idx ON activity_streams (workspace_id, expires_at);
