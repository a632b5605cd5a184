CREATE TABLE workspaces (
	id         uuid PRIMARY KEY,
	name       text NOT NULL,
	time_zone  text NOT NULL DEFAULT 'UTC',
	created_at timestamptz NOT NULL
);

--bun:split

CREATE TABLE users (
	id            uuid PRIMARY KEY,
	workspace_id  uuid NOT NULL REFERENCES workspaces (id),
	email         text NOT NULL,
	name          text NOT NULL,
	role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
	password_hash text NOT NULL DEFAULT '',
	active        boolean NOT NULL DEFAULT true,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL
);

--bun:split

CREATE UNIQUE INDEX users_email_key ON users (lower(email));

--bun:split

CREATE INDEX users_workspace_idx ON users (workspace_id);

--bun:split

CREATE TABLE sessions (
	id           uuid PRIMARY KEY,
	token_hash   bytea NOT NULL UNIQUE,
	user_id      uuid NOT NULL REFERENCES users (id),
	workspace_id uuid NOT NULL REFERENCES workspaces (id),
	ip           text NOT NULL DEFAULT '',
	user_agent   text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	ended_at     timestamptz
);

--bun:split

CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE ended_at IS NULL;

--bun:split

CREATE TABLE assets (
	id            uuid PRIMARY KEY,
	workspace_id  uuid NOT NULL REFERENCES workspaces (id),
	name          text NOT NULL,
	asset_tag     text NOT NULL DEFAULT '',
	serial        text NOT NULL DEFAULT '',
	category      text NOT NULL DEFAULT '',
	status        text NOT NULL,
	value         numeric(14, 2),
	currency      text NOT NULL DEFAULT '',
	location      text NOT NULL DEFAULT '',
	purchase_date date,
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL,
	deleted_at    timestamptz
);

--bun:split

CREATE UNIQUE INDEX assets_tag_key ON assets (workspace_id, asset_tag) WHERE deleted_at IS NULL AND asset_tag <> '';

--bun:split

CREATE INDEX assets_workspace_idx ON assets (workspace_id) WHERE deleted_at IS NULL;

--bun:split

-- Events wait here until the relay has published them, in seq order. A
-- transaction writes its events last, after locking what it changes, so
-- the events of one resource have seq in the order they happened.
CREATE TABLE outbox (
	seq          bigserial PRIMARY KEY,
	event_id     uuid NOT NULL UNIQUE,
	workspace_id uuid NOT NULL,
	payload      json NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	published_at timestamptz
);

--bun:split

CREATE INDEX outbox_pending_idx ON outbox (seq) WHERE published_at IS NULL;
