-- The relay fixes each event's place in its workspace's hash chain before
-- it publishes it, in the transaction that moves the workspace's chain
-- head: the link waits here beside its outbox row, and both go when the
-- event is published, so an event published again keeps its place.
CREATE TABLE outbox_chain (
	outbox_seq bigint PRIMARY KEY,
	chain_seq  bigint NOT NULL,
	chain      text NOT NULL
);

--bun:split

CREATE INDEX outbox_chain_seq_idx ON outbox_chain (chain_seq);

--bun:split

-- The head of each workspace's chain: the last sequence number given and
-- its hash, the workspace's digest key for personal fields (sealed by the
-- key box, bound to the workspace), and the last checkpoint.
CREATE TABLE chain_heads (
	workspace_id   uuid PRIMARY KEY,
	seq            bigint NOT NULL,
	hash           text NOT NULL,
	digest_key     bytea NOT NULL,
	digest_key_box text NOT NULL,
	checkpoint_seq bigint NOT NULL DEFAULT 0,
	checkpoint_at  timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL
);

--bun:split

CREATE INDEX chain_heads_checkpoint_idx ON chain_heads (checkpoint_at) WHERE seq > checkpoint_seq;

--bun:split

-- Checkpoint signing keys: the private key sealed by the key box. The
-- newest key not retired signs; retired keys stay published.
CREATE TABLE audit_keys (
	id          text PRIMARY KEY,
	public_key  bytea NOT NULL,
	private_key bytea NOT NULL,
	key_box     text NOT NULL,
	created_at  timestamptz NOT NULL,
	retired_at  timestamptz
);

--bun:split

CREATE TABLE chain_checkpoints (
	workspace_id uuid NOT NULL,
	seq          bigint NOT NULL,
	hash         text NOT NULL,
	created_at   timestamptz NOT NULL,
	key_id       text NOT NULL REFERENCES audit_keys (id),
	signature    text NOT NULL,
	PRIMARY KEY (workspace_id, seq)
);
