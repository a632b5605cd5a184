-- The relay deletes what it has published; a row in the outbox is an event
-- the stream does not have yet.
DROP INDEX IF EXISTS outbox_pending_idx;

--bun:split

ALTER TABLE outbox DROP COLUMN published_at;
