package domain_test

import (
	"errors"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// TestActiveLogDaysAreIndefiniteOrAPeriodWithinTheLogsRetention checks the
// searchable log's retention: 0 (indefinite) or 30 to 36500 days, never
// longer than the log is kept at all.
func TestActiveLogDaysAreIndefiniteOrAPeriodWithinTheLogsRetention(t *testing.T) {
	base := domain.Settings{Name: "Acme", TimeZone: "Europe/Berlin", WorkingHoursStart: "09:00", WorkingHoursEnd: "18:00",
		LogRetentionDays: 2555, DeletedUserLogDays: 90}
	for name, tc := range map[string]struct {
		active, kept int
		field        string
	}{
		"indefinite by default":             {0, 2555, ""},
		"a year":                            {365, 2555, ""},
		"as long as the log":                {2555, 2555, ""},
		"too short":                         {7, 2555, "active_log_days"},
		"negative":                          {-1, 2555, "active_log_days"},
		"longer than the log is kept":       {3000, 2555, "active_log_days"},
		"beyond the limit":                  {40000, 36500, "active_log_days"},
		"the log's retention still checked": {0, 10, "log_retention_days"},
	} {
		t.Run(name, func(t *testing.T) {
			active, kept := tc.active, tc.kept
			got, err := domain.SettingsUpdate{ActiveLogDays: &active, LogRetentionDays: &kept}.Apply(base)
			var e *activity.Error
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field == "" && got.ActiveLogDays != active:
				t.Fatalf("active_log_days = %d; want %d", got.ActiveLogDays, active)
			case tc.field != "" && (!errors.As(err, &e) || e.Code != activity.EINVALID || e.Field != tc.field):
				t.Fatalf("error = %v; want EINVALID on %s", err, tc.field)
			}
		})
	}
}
