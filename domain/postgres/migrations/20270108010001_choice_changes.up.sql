-- Every change to what the listings' filters offer by name (a member,
-- asset or license added, renamed or removed, a member's email changed)
-- is announced on the channel fluxera_choices_<schema> in the same
-- transaction, with the workspace's id as the payload, so that each API
-- process drops the choices it cached for that workspace the moment the
-- change commits. Other writes to these tables stay silent.
CREATE FUNCTION notify_choice_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- A channel is a name: at most 63 bytes, as the listener cuts it too.
	IF TG_OP <> 'INSERT' THEN
		PERFORM pg_notify(left('fluxera_choices_' || TG_TABLE_SCHEMA, 63), OLD.workspace_id::text);
	END IF;
	IF TG_OP <> 'DELETE' THEN
		PERFORM pg_notify(left('fluxera_choices_' || TG_TABLE_SCHEMA, 63), NEW.workspace_id::text);
	END IF;
	RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER users_choice_added AFTER INSERT OR DELETE ON users FOR EACH ROW
	EXECUTE FUNCTION notify_choice_change();

--bun:split

CREATE TRIGGER users_choice_change AFTER UPDATE ON users FOR EACH ROW
	WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
		OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id)
	EXECUTE FUNCTION notify_choice_change();

--bun:split

CREATE TRIGGER assets_choice_added AFTER INSERT OR DELETE ON assets FOR EACH ROW
	EXECUTE FUNCTION notify_choice_change();

--bun:split

CREATE TRIGGER assets_choice_change AFTER UPDATE ON assets FOR EACH ROW
	WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
		OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id)
	EXECUTE FUNCTION notify_choice_change();

--bun:split

CREATE TRIGGER licenses_choice_added AFTER INSERT OR DELETE ON licenses FOR EACH ROW
	EXECUTE FUNCTION notify_choice_change();

--bun:split

CREATE TRIGGER licenses_choice_change AFTER UPDATE ON licenses FOR EACH ROW
	WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
		OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id)
	EXECUTE FUNCTION notify_choice_change();
