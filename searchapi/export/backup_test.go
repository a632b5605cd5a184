package export_test

import (
	"testing"
	"time"

	"github.com/fluxera/activity/searchapi/export"
)

func TestLastMonthIsTheCalendarMonthBeforeInTheTimeZone(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for name, tc := range map[string]struct {
		now             string
		month, from, to string
	}{
		"spring, summer time began in March":  {"2026-04-10T08:00:00+02:00", "2026-03-01", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"},
		"January backs December up":           {"2026-01-01T00:30:00+01:00", "2025-12-01", "2025-12-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00"},
		"still the last day in Berlin":        {"2026-04-30T21:59:00Z", "2026-03-01", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"},
		"already May in Berlin, April in UTC": {"2026-04-30T22:30:00Z", "2026-04-01", "2026-04-01T00:00:00+02:00", "2026-05-01T00:00:00+02:00"},
	} {
		t.Run(name, func(t *testing.T) {
			now, _ := time.Parse(time.RFC3339, tc.now)
			month, from, to := export.LastMonth(now, berlin)
			wantFrom, _ := time.Parse(time.RFC3339, tc.from)
			wantTo, _ := time.Parse(time.RFC3339, tc.to)
			if month.Format(time.DateOnly) != tc.month || !from.Equal(wantFrom) || !to.Equal(wantTo) {
				t.Errorf("LastMonth(%s) = %s, %s, %s; want %s, %s, %s", tc.now, month.Format(time.DateOnly), from, to, tc.month, wantFrom, wantTo)
			}
		})
	}
}
