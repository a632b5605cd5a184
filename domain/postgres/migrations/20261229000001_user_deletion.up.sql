-- A deleted user keeps their row, without their data, so that what refers
-- to them (sessions, tokens, assignments) still holds.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;

--bun:split

-- A deleted user's entries stay attributed to them until due_at (the
-- workspace's deleted_user_log_days after the deletion); then the erasure
-- job, which leases one row at a time, replaces their values in the log
-- and the reports by their pseudonym. Only ids, times and counts are
-- kept here, never the person's data.
CREATE TABLE user_erasures (
	user_id         uuid PRIMARY KEY REFERENCES users (id),
	workspace_id    uuid NOT NULL REFERENCES workspaces (id),
	deleted_at      timestamptz NOT NULL,
	due_at          timestamptz NOT NULL,
	lease_until     timestamptz,
	anonymized_at   timestamptz,
	entries_updated bigint NOT NULL DEFAULT 0,
	reports_updated bigint NOT NULL DEFAULT 0
);

--bun:split

CREATE INDEX user_erasures_due_idx ON user_erasures (due_at) WHERE anonymized_at IS NULL;
