package report

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestScheduleNext checks the next due time of schedules in their
// workspace's time zone, across clock changes in both directions.
func TestScheduleNext(t *testing.T) {
	daily := func(hour int) Schedule { return Schedule{Frequency: EveryDay, Hour: hour} }
	tests := []struct {
		name     string
		schedule Schedule
		zone     string
		after    string
		want     string
	}{
		{"later the same day", daily(8), "Europe/Berlin", "2026-03-10T06:00:00Z", "2026-03-10T07:00:00Z"},
		{"on the hour is not after it", daily(8), "Europe/Berlin", "2026-03-10T07:00:00Z", "2026-03-11T07:00:00Z"},
		{"the day clocks go forward keeps 08:00 local", daily(8), "Europe/Berlin", "2026-03-28T07:00:00Z", "2026-03-29T06:00:00Z"},
		{"the day clocks go back keeps 08:00 local", daily(8), "Europe/Berlin", "2026-10-24T06:00:00Z", "2026-10-25T07:00:00Z"},
		{"an hour clocks skip runs when they jump past it", daily(2), "Europe/Berlin", "2026-03-28T01:00:00Z", "2026-03-29T01:00:00Z"},
		{"after the skipped hour, the next day's", daily(2), "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"},
		{"an hour clocks repeat runs the first time", daily(2), "Europe/Berlin", "2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z"},
		{"and not the second time", daily(2), "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z"},
		{"New York the day before its change", daily(2), "America/New_York", "2026-03-06T12:00:00Z", "2026-03-07T07:00:00Z"},
		{"New York's skipped hour on its day", daily(2), "America/New_York", "2026-03-08T05:00:00Z", "2026-03-08T07:00:00Z"},
		{"New York's repeated hour", daily(1), "America/New_York", "2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z"},
		{"midnight a clock change skips", daily(0), "America/Sao_Paulo", "2018-11-03T12:00:00Z", "2018-11-04T03:00:00Z"},
		{"weekly on Monday from a Wednesday", Schedule{Frequency: EveryWeek, Weekday: "monday", Hour: 9}, "Europe/Berlin", "2026-03-11T12:00:00Z", "2026-03-16T08:00:00Z"},
		{"weekly across the spring change", Schedule{Frequency: EveryWeek, Weekday: "monday", Hour: 9}, "Europe/Berlin", "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"},
		{"monthly on the 31st in February is the 28th", Schedule{Frequency: EveryMonth, Day: 31, Hour: 6}, "UTC", "2026-02-01T00:00:00Z", "2026-02-28T06:00:00Z"},
		{"monthly on the 31st in a leap February is the 29th", Schedule{Frequency: EveryMonth, Day: 31, Hour: 6}, "UTC", "2028-02-01T00:00:00Z", "2028-02-29T06:00:00Z"},
		{"monthly on the 31st in March", Schedule{Frequency: EveryMonth, Day: 31, Hour: 6}, "UTC", "2026-02-28T06:00:00Z", "2026-03-31T06:00:00Z"},
		{"monthly on the 1st in Tokyo", Schedule{Frequency: EveryMonth, Day: 1, Hour: 0}, "Asia/Tokyo", "2026-12-15T00:00:00Z", "2026-12-31T15:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.schedule.Next(utc(t, tt.after), zone(t, tt.zone))
			if want := utc(t, tt.want); !got.Equal(want) {
				t.Errorf("Next(%s) = %s, want %s", tt.after, got.UTC().Format(time.RFC3339), tt.want)
			}
		})
	}
}

// TestScheduleLatest checks the due time a catch-up run is for: the last
// one at or before a moment.
func TestScheduleLatest(t *testing.T) {
	tests := []struct {
		name     string
		schedule Schedule
		zone     string
		at       string
		want     string
	}{
		{"on the due time", Schedule{Frequency: EveryDay, Hour: 8}, "Europe/Berlin", "2026-03-10T07:00:00Z", "2026-03-10T07:00:00Z"},
		{"three days late", Schedule{Frequency: EveryDay, Hour: 8}, "Europe/Berlin", "2026-03-13T09:00:00Z", "2026-03-13T07:00:00Z"},
		{"before today's", Schedule{Frequency: EveryDay, Hour: 8}, "Europe/Berlin", "2026-03-13T06:59:00Z", "2026-03-12T07:00:00Z"},
		{"across the spring change", Schedule{Frequency: EveryDay, Hour: 8}, "Europe/Berlin", "2026-03-29T06:30:00Z", "2026-03-29T06:00:00Z"},
		{"weekly, a week late", Schedule{Frequency: EveryWeek, Weekday: "friday", Hour: 17}, "Europe/Berlin", "2026-03-19T12:00:00Z", "2026-03-13T16:00:00Z"},
		{"monthly, in the next month", Schedule{Frequency: EveryMonth, Day: 30, Hour: 0}, "UTC", "2026-03-05T00:00:00Z", "2026-02-28T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.schedule.Latest(utc(t, tt.at), zone(t, tt.zone))
			if want := utc(t, tt.want); !got.Equal(want) {
				t.Errorf("Latest(%s) = %s, want %s", tt.at, got.UTC().Format(time.RFC3339), tt.want)
			}
		})
	}
}

// TestScheduleValidate checks that every bad schedule is refused naming
// its field.
func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name     string
		schedule Schedule
		field    string
	}{
		{"daily", Schedule{Frequency: "Daily", Hour: 23}, ""},
		{"weekly", Schedule{Frequency: "weekly", Weekday: " Sunday", Hour: 0}, ""},
		{"monthly", Schedule{Frequency: "monthly", Day: 31}, ""},
		{"no frequency", Schedule{Hour: 8}, "schedule.frequency"},
		{"unknown frequency", Schedule{Frequency: "hourly"}, "schedule.frequency"},
		{"hour 24", Schedule{Frequency: EveryDay, Hour: 24}, "schedule.hour"},
		{"negative hour", Schedule{Frequency: EveryDay, Hour: -1}, "schedule.hour"},
		{"daily with a weekday", Schedule{Frequency: EveryDay, Weekday: "monday"}, "schedule.frequency"},
		{"weekly without a weekday", Schedule{Frequency: EveryWeek}, "schedule.weekday"},
		{"weekly on a made-up day", Schedule{Frequency: EveryWeek, Weekday: "funday"}, "schedule.weekday"},
		{"weekly with a day", Schedule{Frequency: EveryWeek, Weekday: "monday", Day: 3}, "schedule.day"},
		{"monthly without a day", Schedule{Frequency: EveryMonth}, "schedule.day"},
		{"monthly on day 32", Schedule{Frequency: EveryMonth, Day: 32}, "schedule.day"},
		{"monthly with a weekday", Schedule{Frequency: EveryMonth, Day: 1, Weekday: "monday"}, "schedule.weekday"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.schedule.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tt.field {
				t.Errorf("Validate() = %v (field %q), want invalid %s", err, activity.ErrorField(err), tt.field)
			}
		})
	}
}

// TestPeriodAt checks the periods a report generated at a moment covers:
// whole days of the workspace's time zone before that moment's day.
func TestPeriodAt(t *testing.T) {
	tests := []struct {
		name, period, zone, at string
		from, to               string
	}{
		{"the day before", PeriodLastDay, "Europe/Berlin", "2026-03-10T07:00:00Z", "2026-03-09T00:00:00+01:00", "2026-03-10T00:00:00+01:00"},
		{"seven days across the spring change", PeriodLast7Days, "Europe/Berlin", "2026-03-30T06:00:00Z", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"},
		{"thirty days", PeriodLast30Days, "UTC", "2026-03-31T23:59:00Z", "2026-03-01T00:00:00Z", "2026-03-31T00:00:00Z"},
		{"last month from its first day", PeriodLastMonth, "Europe/Berlin", "2026-04-01T06:00:00Z", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"},
		{"last month in January is December", PeriodLastMonth, "Asia/Tokyo", "2027-01-01T00:30:00Z", "2026-12-01T00:00:00+09:00", "2027-01-01T00:00:00+09:00"},
		{"a day whose midnight a clock change skips", PeriodLastDay, "America/Sao_Paulo", "2018-11-05T12:00:00Z", "2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PeriodAt(tt.period, utc(t, tt.at), zone(t, tt.zone))
			if err != nil {
				t.Fatal(err)
			}
			if !p.From.Equal(utc(t, tt.from)) || !p.To.Equal(utc(t, tt.to)) || p.TimeZone != tt.zone {
				t.Errorf("PeriodAt = %s to %s in %s, want %s to %s", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), p.TimeZone, tt.from, tt.to)
			}
		})
	}
	if _, err := PeriodAt("last_year", time.Now(), time.UTC); activity.ErrorField(err) != "period" {
		t.Errorf("an unknown period: %v, want invalid period", err)
	}
}
