-- Alert rules a workspace set up itself: what to watch, how much of it
-- within how long, and where the alert goes.
CREATE TABLE alert_rules (
	id             uuid PRIMARY KEY,
	workspace_id   uuid NOT NULL REFERENCES workspaces (id),
	name           text NOT NULL,
	description    text NOT NULL DEFAULT '',
	enabled        boolean NOT NULL DEFAULT true,
	activity_types text[] NOT NULL,
	user_ids       uuid[] NOT NULL DEFAULT '{}',
	outcome        text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'success', 'failure')),
	threshold      integer NOT NULL DEFAULT 1 CHECK (threshold >= 1),
	window_minutes integer NOT NULL DEFAULT 0 CHECK (window_minutes >= 0),
	group_by       text NOT NULL DEFAULT 'actor' CHECK (group_by IN ('actor', 'ip', 'workspace')),
	severity       text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
	channels       jsonb NOT NULL DEFAULT '[]',
	preset         text NOT NULL DEFAULT '',
	created_at     timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL
);

--bun:split

CREATE INDEX alert_rules_workspace_idx ON alert_rules (workspace_id, created_at);

--bun:split

-- Raised alerts. The id is derived from what raised the alert (see
-- activity.AlertID), so a replayed stream stores each alert once. Alerts
-- of the platform workspace (failed logins of unknown emails) have no
-- workspace row, and an alert outlives the rule that raised it, so
-- neither column references another table.
CREATE TABLE alerts (
	id              uuid PRIMARY KEY,
	workspace_id    uuid NOT NULL,
	detector        text NOT NULL DEFAULT '',
	rule_id         uuid,
	rule_name       text NOT NULL DEFAULT '',
	severity        text NOT NULL,
	state           text NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
	summary         text NOT NULL,
	subject         jsonb NOT NULL,
	count           bigint NOT NULL,
	"window"        text NOT NULL DEFAULT '',
	occurred_at     timestamptz NOT NULL,
	raised_at       timestamptz NOT NULL,
	details         jsonb,
	acknowledged_at timestamptz,
	acknowledged_by jsonb,
	resolved_at     timestamptz,
	resolved_by     jsonb
);

--bun:split

CREATE INDEX alerts_workspace_raised_idx ON alerts (workspace_id, raised_at DESC, id DESC);

--bun:split

CREATE INDEX alerts_workspace_state_raised_idx ON alerts (workspace_id, state, raised_at DESC, id DESC);

--bun:split

-- The events that triggered an alert, oldest first.
CREATE TABLE alert_events (
	alert_id uuid NOT NULL REFERENCES alerts (id),
	event_id uuid NOT NULL,
	position integer NOT NULL,
	PRIMARY KEY (alert_id, position)
);

--bun:split

-- One alert to be sent to one target; the notifier claims due pending
-- rows for a lease (locked_until) and records every attempt.
CREATE TABLE alert_deliveries (
	id              uuid PRIMARY KEY,
	alert_id        uuid NOT NULL REFERENCES alerts (id),
	workspace_id    uuid NOT NULL,
	type            text NOT NULL CHECK (type IN ('webhook', 'chat', 'email', 'topic')),
	url             text NOT NULL DEFAULT '',
	recipients      text[] NOT NULL DEFAULT '{}',
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

CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at, created_at) WHERE state = 'pending';

--bun:split

CREATE INDEX alert_deliveries_alert_idx ON alert_deliveries (alert_id);

--bun:split

-- The delivery log: one row per attempt.
CREATE TABLE alert_delivery_attempts (
	id          bigserial PRIMARY KEY,
	delivery_id uuid NOT NULL REFERENCES alert_deliveries (id),
	at          timestamptz NOT NULL,
	duration_ms bigint NOT NULL,
	status      integer NOT NULL DEFAULT 0,
	error       text NOT NULL DEFAULT '',
	delivered   boolean NOT NULL
);

--bun:split

CREATE INDEX alert_delivery_attempts_delivery_idx ON alert_delivery_attempts (delivery_id, at);

--bun:split

-- A workspace's built-in detectors and their channels (NULL settings: the
-- defaults), and the secret that signs its webhooks, kept only encrypted
-- (AES-256-GCM, key id beside it, as license keys are).
CREATE TABLE detection_settings (
	workspace_id      uuid PRIMARY KEY REFERENCES workspaces (id),
	settings          jsonb,
	signing_secret    bytea,
	signing_key_id    text NOT NULL DEFAULT '',
	updated_at        timestamptz NOT NULL
);
