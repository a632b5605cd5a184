-- The first owner of a workspace made with fluxera workspace create
-- --invite is invited by the platform, not by a member.
ALTER TABLE invitations ALTER COLUMN invited_by DROP NOT NULL;
