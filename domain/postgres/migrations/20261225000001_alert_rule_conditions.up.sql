-- Conditions on a field of the event that narrow an alert rule, such as
-- asset.value above 2000 EUR: a JSON list of {field, operator, value,
-- currency}, all of which must hold.
ALTER TABLE alert_rules ADD COLUMN conditions jsonb NOT NULL DEFAULT '[]';
