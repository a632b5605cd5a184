ALTER TABLE workspaces
	ADD COLUMN working_hours_start text NOT NULL DEFAULT '09:00',
	ADD COLUMN working_hours_end   text NOT NULL DEFAULT '18:00',
	ADD COLUMN working_days        text NOT NULL DEFAULT 'mon,tue,wed,thu,fri',
	ADD COLUMN log_retention_days  integer NOT NULL DEFAULT 2555,
	ADD COLUMN deleted_user_log_days integer NOT NULL DEFAULT 90,
	ADD COLUMN updated_at          timestamptz;

--bun:split

-- API tokens: only the SHA-256 of the token is kept; the token itself is
-- shown once, when it is created.
CREATE TABLE api_tokens (
	id           uuid PRIMARY KEY,
	workspace_id uuid NOT NULL REFERENCES workspaces (id),
	user_id      uuid NOT NULL REFERENCES users (id),
	name         text NOT NULL,
	token_hash   bytea NOT NULL UNIQUE,
	prefix       text NOT NULL,
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	expires_at   timestamptz,
	revoked_at   timestamptz
);

--bun:split

CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

--bun:split

CREATE TABLE invitations (
	id           uuid PRIMARY KEY,
	workspace_id uuid NOT NULL REFERENCES workspaces (id),
	email        text NOT NULL,
	name         text NOT NULL DEFAULT '',
	role         text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
	token_hash   bytea NOT NULL UNIQUE,
	invited_by   uuid NOT NULL REFERENCES users (id),
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	accepted_at  timestamptz,
	declined_at  timestamptz,
	revoked_at   timestamptz,
	user_id      uuid REFERENCES users (id)
);

--bun:split

CREATE UNIQUE INDEX invitations_open_key ON invitations (workspace_id, lower(email))
	WHERE accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL;

--bun:split

-- Failed logins counted for throttling, by account and by address.
CREATE TABLE login_failures (
	key       text NOT NULL,
	failed_at timestamptz NOT NULL
);

--bun:split

CREATE INDEX login_failures_key_idx ON login_failures (key, failed_at);

--bun:split

ALTER TABLE assets
	ADD COLUMN assigned_to uuid REFERENCES users (id),
	ADD COLUMN assigned_at timestamptz;

--bun:split

CREATE TABLE asset_maintenance (
	id            uuid PRIMARY KEY,
	workspace_id  uuid NOT NULL REFERENCES workspaces (id),
	asset_id      uuid NOT NULL REFERENCES assets (id),
	scheduled_for date NOT NULL,
	description   text NOT NULL,
	created_by    uuid NOT NULL REFERENCES users (id),
	created_at    timestamptz NOT NULL,
	completed_at  timestamptz,
	completed_by  uuid REFERENCES users (id),
	outcome       text NOT NULL DEFAULT ''
);

--bun:split

CREATE INDEX asset_maintenance_asset_idx ON asset_maintenance (asset_id);

--bun:split

CREATE TABLE asset_images (
	id           uuid PRIMARY KEY,
	workspace_id uuid NOT NULL REFERENCES workspaces (id),
	asset_id     uuid NOT NULL REFERENCES assets (id),
	file_name    text NOT NULL,
	content_type text NOT NULL,
	size         bigint NOT NULL,
	path         text NOT NULL,
	uploaded_by  uuid NOT NULL REFERENCES users (id),
	created_at   timestamptz NOT NULL
);

--bun:split

CREATE INDEX asset_images_asset_idx ON asset_images (asset_id);

--bun:split

-- A license's key is kept only encrypted (AES-256-GCM); key_id names the
-- encryption key so that keys can be rotated.
CREATE TABLE licenses (
	id             uuid PRIMARY KEY,
	workspace_id   uuid NOT NULL REFERENCES workspaces (id),
	name           text NOT NULL,
	vendor         text NOT NULL DEFAULT '',
	seats          integer NOT NULL CHECK (seats > 0),
	key_ciphertext bytea,
	key_id         text NOT NULL DEFAULT '',
	value          numeric(14, 2),
	currency       text NOT NULL DEFAULT '',
	expires_on     date,
	created_at     timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL,
	deleted_at     timestamptz
);

--bun:split

CREATE INDEX licenses_workspace_idx ON licenses (workspace_id) WHERE deleted_at IS NULL;

--bun:split

CREATE TABLE license_seats (
	id            uuid PRIMARY KEY,
	workspace_id  uuid NOT NULL REFERENCES workspaces (id),
	license_id    uuid NOT NULL REFERENCES licenses (id),
	user_id       uuid NOT NULL REFERENCES users (id),
	assigned_at   timestamptz NOT NULL,
	unassigned_at timestamptz
);

--bun:split

CREATE UNIQUE INDEX license_seats_active_key ON license_seats (license_id, user_id) WHERE unassigned_at IS NULL;
