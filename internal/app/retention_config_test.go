package app

import (
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/domain"
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
		{"restores looked at too rarely", map[string]string{"FLUXERA_RESTORE_INTERVAL": "2h"}, 0, 0, "FLUXERA_RESTORE_INTERVAL"},
		{"restores looked at too often", map[string]string{"FLUXERA_RESTORE_INTERVAL": "100ms"}, 0, 0, "FLUXERA_RESTORE_INTERVAL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(func(name string) string { return tt.env[name] })
			switch {
			case tt.fault == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.fault == "" && c.Retention.RestoreInterval != 15*time.Second:
				t.Errorf("restore interval %s; want 15s", c.Retention.RestoreInterval)
			case tt.fault == "" && (c.Retention.Interval != tt.interval || c.Retention.Lease != tt.lease):
				t.Errorf("interval %s, lease %s; want %s, %s", c.Retention.Interval, c.Retention.Lease, tt.interval, tt.lease)
			case tt.fault != "" && (err == nil || !strings.Contains(err.Error(), tt.fault)):
				t.Errorf("error %v; want one about %s", err, tt.fault)
			}
		})
	}
}

// TestRetentionDefaultsAndLimitsAreReadAndChecked checks the platform's
// defaults and limits of the workspaces' retention settings: the built-in
// ones, values read, and configurations whose default falls outside its
// limits, refused at start-up naming the setting.
func TestRetentionDefaultsAndLimitsAreReadAndChecked(t *testing.T) {
	for _, tt := range []struct {
		name  string
		env   map[string]string
		want  domain.RetentionLimits
		fault string
	}{
		{"defaults", nil, domain.RetentionLimits{
			ActiveLog:      domain.RetentionBounds{Default: 0, Min: 30, Max: 36500},
			Log:            domain.RetentionBounds{Default: 2555, Min: 30, Max: 36500},
			DeletedUserLog: domain.RetentionBounds{Default: 90, Min: 1, Max: 36500},
		}, ""},
		{"set", map[string]string{
			"FLUXERA_RETENTION_DEFAULT_ACTIVE_LOG_DAYS": "365", "FLUXERA_RETENTION_MIN_ACTIVE_LOG_DAYS": "90", "FLUXERA_RETENTION_MAX_ACTIVE_LOG_DAYS": "730",
			"FLUXERA_RETENTION_DEFAULT_LOG_DAYS": "2557", "FLUXERA_RETENTION_MIN_LOG_DAYS": "365", "FLUXERA_RETENTION_MAX_LOG_DAYS": "3653",
			"FLUXERA_RETENTION_DEFAULT_DELETED_USER_LOG_DAYS": "30", "FLUXERA_RETENTION_MIN_DELETED_USER_LOG_DAYS": "7", "FLUXERA_RETENTION_MAX_DELETED_USER_LOG_DAYS": "180",
		}, domain.RetentionLimits{
			ActiveLog:      domain.RetentionBounds{Default: 365, Min: 90, Max: 730},
			Log:            domain.RetentionBounds{Default: 2557, Min: 365, Max: 3653},
			DeletedUserLog: domain.RetentionBounds{Default: 30, Min: 7, Max: 180},
		}, ""},
		{"default below its minimum", map[string]string{"FLUXERA_RETENTION_MIN_LOG_DAYS": "3000"}, domain.RetentionLimits{}, "FLUXERA_RETENTION_DEFAULT_LOG_DAYS (2555) must not be less than FLUXERA_RETENTION_MIN_LOG_DAYS (3000)"},
		{"default above its maximum", map[string]string{"FLUXERA_RETENTION_DEFAULT_DELETED_USER_LOG_DAYS": "400", "FLUXERA_RETENTION_MAX_DELETED_USER_LOG_DAYS": "365"}, domain.RetentionLimits{}, "FLUXERA_RETENTION_DEFAULT_DELETED_USER_LOG_DAYS (400) must not be more than FLUXERA_RETENTION_MAX_DELETED_USER_LOG_DAYS (365)"},
		{"minimum above maximum", map[string]string{"FLUXERA_RETENTION_MIN_ACTIVE_LOG_DAYS": "400", "FLUXERA_RETENTION_MAX_ACTIVE_LOG_DAYS": "300"}, domain.RetentionLimits{}, "FLUXERA_RETENTION_MIN_ACTIVE_LOG_DAYS (400) must not be more than FLUXERA_RETENTION_MAX_ACTIVE_LOG_DAYS (300)"},
		{"active default within its limits", map[string]string{"FLUXERA_RETENTION_DEFAULT_ACTIVE_LOG_DAYS": "10"}, domain.RetentionLimits{}, "FLUXERA_RETENTION_DEFAULT_ACTIVE_LOG_DAYS (10) must not be less than FLUXERA_RETENTION_MIN_ACTIVE_LOG_DAYS (30)"},
		{"active default longer than the log's", map[string]string{"FLUXERA_RETENTION_DEFAULT_ACTIVE_LOG_DAYS": "3000"}, domain.RetentionLimits{}, "FLUXERA_RETENTION_DEFAULT_ACTIVE_LOG_DAYS (3000) must not be more than FLUXERA_RETENTION_DEFAULT_LOG_DAYS (2555)"},
		{"minimum of no days", map[string]string{"FLUXERA_RETENTION_MIN_DELETED_USER_LOG_DAYS": "0"}, domain.RetentionLimits{}, "FLUXERA_RETENTION_MIN_DELETED_USER_LOG_DAYS (0) must be at least 1 day"},
		{"maximum beyond a century", map[string]string{"FLUXERA_RETENTION_MAX_LOG_DAYS": "40000"}, domain.RetentionLimits{}, "FLUXERA_RETENTION_MAX_LOG_DAYS (40000) must be at most 36500 days"},
		{"not a number", map[string]string{"FLUXERA_RETENTION_DEFAULT_LOG_DAYS": "7y"}, domain.RetentionLimits{}, "FLUXERA_RETENTION_DEFAULT_LOG_DAYS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(func(name string) string { return tt.env[name] })
			switch {
			case tt.fault == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.fault == "" && c.Postgres.Retention != tt.want:
				t.Errorf("limits %+v; want %+v", c.Postgres.Retention, tt.want)
			case tt.fault != "" && (err == nil || !strings.Contains(err.Error(), tt.fault)):
				t.Errorf("error %v; want one saying %q", err, tt.fault)
			}
		})
	}
}
