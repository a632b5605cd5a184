-- Assets are written far more often than members and licenses, and a
-- NOTIFY makes every committing transaction that sends one take
-- PostgreSQL's notification lock in turn: announcing every asset write
-- made concurrent asset writes commit one at a time and woke every
-- listening session for each. Assets are no longer announced; each API
-- process reads a workspace's choices again once they are a few seconds
-- old (see domain/postgres/choice_cache.go), and at once after its own
-- callers' writes.
DROP TRIGGER IF EXISTS assets_choice_added ON assets;

--bun:split

DROP TRIGGER IF EXISTS assets_choice_change ON assets;
