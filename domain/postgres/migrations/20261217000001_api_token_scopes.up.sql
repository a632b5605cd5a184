-- An API token allows only what its scopes name. Tokens issued before
-- scopes carried their user's whole role, which the admin scope keeps.
ALTER TABLE api_tokens ADD COLUMN scopes text[] NOT NULL DEFAULT '{admin}';
ALTER TABLE api_tokens ALTER COLUMN scopes DROP DEFAULT;
