-- Beside each stamped outbox row the relay keeps only the event's place in
-- its workspace's chain: its sequence number, the previous entry's hash
-- and its own. The link's digests are made again from the event and the
-- workspace's key if it is published again, and must give the same hash.
-- Rows stamped before this keep the whole link in chain.
ALTER TABLE outbox_chain ADD COLUMN prev_hash text;

--bun:split

ALTER TABLE outbox_chain ADD COLUMN hash text;

--bun:split

ALTER TABLE outbox_chain ALTER COLUMN chain DROP NOT NULL;
