-- A monthly backup's lease names its holder, so that only the process
-- that holds the lease may finish the backup.
ALTER TABLE monthly_backups ADD COLUMN lease_id uuid;
