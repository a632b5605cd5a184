-- A delivery through a channel the platform is not set up for (email
-- without an SMTP server) is marked not configured rather than failed.
ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_state_check;
ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_state_check
	CHECK (state IN ('pending', 'delivered', 'failed', 'not_configured'));
ALTER TABLE report_deliveries DROP CONSTRAINT report_deliveries_state_check;
ALTER TABLE report_deliveries ADD CONSTRAINT report_deliveries_state_check
	CHECK (state IN ('pending', 'delivered', 'failed', 'not_configured'));
