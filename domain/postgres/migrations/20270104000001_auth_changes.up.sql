-- Every change that alters what a session or API token resolves to (its
-- end, revocation or expiry, its user's role, state, name, email or
-- password, its workspace's time zone, the deletion of any of them) is
-- announced on the channel fluxera_auth_<schema> in the same transaction,
-- as "<kind>:<id>", so that each API process drops the callers it cached
-- for it the moment the change commits. Writes that change nothing a
-- caller resolves to (an API token's last use, say) stay silent.
CREATE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- A channel is a name: at most 63 bytes, as the listener cuts it too.
	PERFORM pg_notify(left('fluxera_auth_' || TG_TABLE_SCHEMA, 63), TG_ARGV[0] || ':' || OLD.id::text);
	RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER sessions_auth_change AFTER UPDATE ON sessions FOR EACH ROW
	WHEN (OLD.ended_at IS DISTINCT FROM NEW.ended_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
		OR OLD.token_hash IS DISTINCT FROM NEW.token_hash OR OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION notify_auth_change('session');

--bun:split

CREATE TRIGGER sessions_auth_delete AFTER DELETE ON sessions FOR EACH ROW
	EXECUTE FUNCTION notify_auth_change('session');

--bun:split

CREATE TRIGGER api_tokens_auth_change AFTER UPDATE ON api_tokens FOR EACH ROW
	WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
		OR OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
		OR OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION notify_auth_change('token');

--bun:split

CREATE TRIGGER api_tokens_auth_delete AFTER DELETE ON api_tokens FOR EACH ROW
	EXECUTE FUNCTION notify_auth_change('token');

--bun:split

CREATE TRIGGER users_auth_change AFTER UPDATE ON users FOR EACH ROW
	WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.active IS DISTINCT FROM NEW.active
		OR OLD.email IS DISTINCT FROM NEW.email OR OLD.name IS DISTINCT FROM NEW.name
		OR OLD.password_hash IS DISTINCT FROM NEW.password_hash OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id
		OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
	EXECUTE FUNCTION notify_auth_change('user');

--bun:split

CREATE TRIGGER users_auth_delete AFTER DELETE ON users FOR EACH ROW
	EXECUTE FUNCTION notify_auth_change('user');

--bun:split

CREATE TRIGGER workspaces_auth_change AFTER UPDATE ON workspaces FOR EACH ROW
	WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone)
	EXECUTE FUNCTION notify_auth_change('workspace');

--bun:split

CREATE TRIGGER workspaces_auth_delete AFTER DELETE ON workspaces FOR EACH ROW
	EXECUTE FUNCTION notify_auth_change('workspace');
