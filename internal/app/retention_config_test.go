package app

import (
	"strings"
	"testing"
	"time"
)

// TestRetentionSettingsAreReadAndBounded checks the retention role's
// interval and lease: their defaults, values read, and values refused.
func TestRetentionSettingsAreReadAndBounded(t *testing.T) {
	for _, tt := range []struct {
		name            string
		env             map[string]string
		interval, lease time.Duration
		fault           string
	}{
		{"defaults", nil, time.Hour, time.Hour, ""},
		{"set", map[string]string{"FLUXERA_RETENTION_INTERVAL": "15m", "FLUXERA_RETENTION_LEASE": "2h"}, 15 * time.Minute, 2 * time.Hour, ""},
		{"interval too long", map[string]string{"FLUXERA_RETENTION_INTERVAL": "200h"}, 0, 0, "FLUXERA_RETENTION_INTERVAL"},
		{"negative interval", map[string]string{"FLUXERA_RETENTION_INTERVAL": "-1s"}, 0, 0, "FLUXERA_RETENTION_INTERVAL"},
		{"lease too short", map[string]string{"FLUXERA_RETENTION_LEASE": "10s"}, 0, 0, "FLUXERA_RETENTION_LEASE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(func(name string) string { return tt.env[name] })
			switch {
			case tt.fault == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.fault == "" && (c.Retention.Interval != tt.interval || c.Retention.Lease != tt.lease):
				t.Errorf("interval %s, lease %s; want %s, %s", c.Retention.Interval, c.Retention.Lease, tt.interval, tt.lease)
			case tt.fault != "" && (err == nil || !strings.Contains(err.Error(), tt.fault)):
				t.Errorf("error %v; want one about %s", err, tt.fault)
			}
		})
	}
}
