package domain_test

import (
	"errors"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// TestRetentionSettingsAreHeldToThePlatformsLimits checks a change of a
// workspace's retention settings against limits an operator set: one
// outside them is refused naming the field and the bound it crosses, one
// within them passes, and a setting the change leaves alone is not held
// to limits tightened since it was set.
func TestRetentionSettingsAreHeldToThePlatformsLimits(t *testing.T) {
	limits := domain.RetentionLimits{
		ActiveLog:      domain.RetentionBounds{Default: 0, Min: 60, Max: 730},
		Log:            domain.RetentionBounds{Default: 2557, Min: 365, Max: 3653},
		DeletedUserLog: domain.RetentionBounds{Default: 90, Min: 30, Max: 180},
	}
	if err := limits.Validate(); err != nil {
		t.Fatal(err)
	}
	// Kept 20 years and its deleted members' entries a year, set before
	// the operator's limits.
	base := domain.Settings{Name: "Acme", TimeZone: "Europe/Berlin", WorkingHoursStart: "09:00", WorkingHoursEnd: "18:00",
		LogRetentionDays: 7300, DeletedUserLogDays: 365}
	n := func(v int) *int { return &v }
	for _, tt := range []struct {
		name   string
		update domain.SettingsUpdate
		field  string
		says   string
	}{
		{"within the limits", domain.SettingsUpdate{LogRetentionDays: n(3653), ActiveLogDays: n(365), DeletedUserLogDays: n(30)}, "", ""},
		{"indefinitely searchable", domain.SettingsUpdate{LogRetentionDays: n(3000), ActiveLogDays: n(0)}, "", ""},
		{"another setting only", domain.SettingsUpdate{Name: new("Acme Ltd")}, "", ""},
		{"log kept too long", domain.SettingsUpdate{LogRetentionDays: n(3654)}, "log_retention_days", "at most 3653 days"},
		{"log kept too briefly", domain.SettingsUpdate{LogRetentionDays: n(364)}, "log_retention_days", "at least 365 days"},
		{"searchable too briefly", domain.SettingsUpdate{LogRetentionDays: n(3000), ActiveLogDays: n(59)}, "active_log_days", "at least 60 days"},
		{"searchable too long", domain.SettingsUpdate{LogRetentionDays: n(3000), ActiveLogDays: n(731)}, "active_log_days", "at most 730 days"},
		{"deleted members kept too long", domain.SettingsUpdate{DeletedUserLogDays: n(181)}, "deleted_user_log_days", "at most 180 days"},
		{"deleted members kept too briefly", domain.SettingsUpdate{DeletedUserLogDays: n(29)}, "deleted_user_log_days", "at least 30 days"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.update.ApplyWithin(base, limits)
			var e *activity.Error
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.field != "" && (!errors.As(err, &e) || e.Code != activity.EINVALID || e.Field != tt.field || !strings.Contains(e.Message, tt.says)):
				t.Fatalf("error = %v; want EINVALID on %s saying %q", err, tt.field, tt.says)
			}
		})
	}
}
