-- A member's change of email waits here until they confirm it with its
-- token (only its hash is kept): an address that has an account in another
-- workspace is refused only then, so that asking reveals nothing.
ALTER TABLE users
	ADD COLUMN pending_email            text,
	ADD COLUMN pending_email_token_hash bytea,
	ADD COLUMN pending_email_expires_at timestamptz;
