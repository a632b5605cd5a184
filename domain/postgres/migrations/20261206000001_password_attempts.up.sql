-- Password checks are counted for throttling before they run, so that
-- attempts at once cannot all pass the count: one row per check and key
-- (an account, a password change or an address), kept while the check
-- runs and, when it failed, for the throttle window.
DROP TABLE login_failures;

--bun:split

CREATE TABLE password_attempts (
	attempt      uuid NOT NULL,
	key          text NOT NULL,
	attempted_at timestamptz NOT NULL,
	PRIMARY KEY (attempt, key)
);

--bun:split

CREATE INDEX password_attempts_key_idx ON password_attempts (key, attempted_at);
