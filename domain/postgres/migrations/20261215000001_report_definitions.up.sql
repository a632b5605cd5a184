-- Custom report definitions: the metrics, filters, period and formats of a
-- report, when it is generated and to whom it is sent. A scheduler leases
-- a due definition (lease_id, leased_until) so that one process runs it;
-- next_run_at is kept, so a restarted scheduler knows what it missed.
CREATE TABLE report_definitions (
	id           uuid PRIMARY KEY,
	workspace_id uuid NOT NULL REFERENCES workspaces (id),
	name         text NOT NULL,
	enabled      boolean NOT NULL,
	metrics      text[] NOT NULL,
	filters      jsonb NOT NULL,
	period       text NOT NULL,
	formats      text[] NOT NULL,
	schedule     jsonb NOT NULL,
	recipients   jsonb NOT NULL,
	next_run_at  timestamptz NOT NULL,
	last_run_at  timestamptz,
	lease_id     uuid,
	leased_until timestamptz,
	created_at   timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL
);

--bun:split

CREATE INDEX report_definitions_workspace_idx ON report_definitions (workspace_id, created_at, id);

--bun:split

CREATE INDEX report_definitions_due_idx ON report_definitions (next_run_at) WHERE enabled;

--bun:split

-- A custom report keeps the definition it was made from, the due time of
-- the scheduled run that made it, and its files in the archive store. A
-- scheduled report is the system's: it has no generating user. One due
-- time of one definition makes one report at most.
ALTER TABLE reports DROP CONSTRAINT reports_type_check;

--bun:split

ALTER TABLE reports ADD CONSTRAINT reports_type_check CHECK (type IN ('user', 'asset', 'license', 'security', 'custom'));

--bun:split

ALTER TABLE reports
	ADD COLUMN definition_id uuid,
	ADD COLUMN scheduled_for timestamptz,
	ADD COLUMN files jsonb NOT NULL DEFAULT '[]',
	ALTER COLUMN generated_by_id DROP NOT NULL;

--bun:split

CREATE UNIQUE INDEX reports_definition_due_idx ON reports (definition_id, scheduled_for) WHERE scheduled_for IS NOT NULL;

--bun:split

CREATE INDEX reports_definition_generated_idx ON reports (workspace_id, definition_id, generated_at DESC, id DESC) WHERE definition_id IS NOT NULL;

--bun:split

-- One generated report to be sent to one recipient; the scheduler claims
-- due pending rows for a lease (locked_until) and records every attempt.
-- An email's roles are read when it is sent.
CREATE TABLE report_deliveries (
	id              uuid PRIMARY KEY,
	report_id       uuid NOT NULL REFERENCES reports (id),
	workspace_id    uuid NOT NULL,
	type            text NOT NULL CHECK (type IN ('webhook', 'email')),
	url             text NOT NULL DEFAULT '',
	recipients      text[] NOT NULL DEFAULT '{}',
	roles           text[] NOT NULL DEFAULT '{}',
	state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL,
	locked_until    timestamptz,
	last_status     integer NOT NULL DEFAULT 0,
	last_error      text NOT NULL DEFAULT '',
	delivered_at    timestamptz,
	created_at      timestamptz NOT NULL
);

--bun:split

CREATE INDEX report_deliveries_due_idx ON report_deliveries (next_attempt_at, created_at) WHERE state = 'pending';

--bun:split

CREATE INDEX report_deliveries_report_idx ON report_deliveries (report_id);

--bun:split

CREATE TABLE report_delivery_attempts (
	id          bigserial PRIMARY KEY,
	delivery_id uuid NOT NULL REFERENCES report_deliveries (id),
	at          timestamptz NOT NULL,
	duration_ms bigint NOT NULL,
	status      integer NOT NULL DEFAULT 0,
	error       text NOT NULL DEFAULT '',
	delivered   boolean NOT NULL
);

--bun:split

CREATE INDEX report_delivery_attempts_delivery_idx ON report_delivery_attempts (delivery_id, at);
