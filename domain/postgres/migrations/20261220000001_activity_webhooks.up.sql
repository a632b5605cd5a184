-- Activity webhooks (Settings › Integrations): a workspace's subscriptions
-- of its activity, their filters, their sealed signing secrets and how
-- their deliveries go. A deliverer claims a webhook (claimed_until) so that
-- one process at a time sends its deliveries, in order.
CREATE TABLE activity_webhooks (
	id               uuid PRIMARY KEY,
	workspace_id     uuid NOT NULL REFERENCES workspaces (id),
	name             text NOT NULL,
	url              text NOT NULL,
	categories       text[] NOT NULL,
	actions          text[] NOT NULL,
	outcome          text NOT NULL,
	secret           bytea NOT NULL,
	secret_key_id    text NOT NULL,
	paused           boolean NOT NULL DEFAULT false,
	paused_at        timestamptz,
	paused_reason    text NOT NULL DEFAULT '',
	failures         integer NOT NULL DEFAULT 0,
	last_delivery_at timestamptz,
	last_attempt_at  timestamptz,
	last_status      integer NOT NULL DEFAULT 0,
	last_error       text NOT NULL DEFAULT '',
	claimed_until    timestamptz,
	created_at       timestamptz NOT NULL,
	updated_at       timestamptz NOT NULL
);

--bun:split

CREATE INDEX activity_webhooks_workspace_idx ON activity_webhooks (workspace_id, created_at, id);

--bun:split

-- One row per event to send to one webhook, sent in seq order. A live
-- delivery is made once per event and webhook (however often the topic
-- hands the event over); a replay makes its own.
CREATE TABLE activity_webhook_deliveries (
	seq             bigserial PRIMARY KEY,
	id              uuid NOT NULL UNIQUE,
	webhook_id      uuid NOT NULL REFERENCES activity_webhooks (id) ON DELETE CASCADE,
	event_id        uuid NOT NULL,
	replay_id       uuid,
	event           bytea NOT NULL,
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL,
	delivered_at    timestamptz,
	created_at      timestamptz NOT NULL
);

--bun:split

CREATE UNIQUE INDEX activity_webhook_deliveries_live_idx ON activity_webhook_deliveries (webhook_id, event_id) WHERE replay_id IS NULL;

--bun:split

CREATE UNIQUE INDEX activity_webhook_deliveries_replay_idx ON activity_webhook_deliveries (webhook_id, event_id, replay_id) WHERE replay_id IS NOT NULL;

--bun:split

CREATE INDEX activity_webhook_deliveries_pending_idx ON activity_webhook_deliveries (webhook_id, seq) WHERE delivered_at IS NULL;

--bun:split

-- Requests to send a webhook again the events from a time on; a
-- deliverer claims one, reads the topic from that time and queues them.
CREATE TABLE activity_webhook_replays (
	id            uuid PRIMARY KEY,
	webhook_id    uuid NOT NULL REFERENCES activity_webhooks (id) ON DELETE CASCADE,
	from_time     timestamptz NOT NULL,
	created_at    timestamptz NOT NULL,
	claimed_until timestamptz,
	done_at       timestamptz,
	queued        integer NOT NULL DEFAULT 0
);

--bun:split

CREATE INDEX activity_webhook_replays_pending_idx ON activity_webhook_replays (created_at) WHERE done_at IS NULL;
