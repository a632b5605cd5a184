-- How many scheduled runs of a definition failed in a row, so that the
-- scheduler waits longer after each.
ALTER TABLE report_definitions ADD COLUMN failures integer NOT NULL DEFAULT 0;
