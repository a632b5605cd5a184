package detect_test

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// TestDetectUnusualTimeWorkingHours checks single actions against working hours
// in the workspace's time zone, each by a user of their own (so no
// cooldown is in the way).
func TestDetectUnusualTimeWorkingHours(t *testing.T) {
	newYork, _ := time.LoadLocation("America/New_York")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	office := alert.WorkspaceConfig{
		Location: newYork, WorkStart: 9 * 60, WorkEnd: 17 * 60,
		WorkingDays: weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday),
		Detection:   alert.DefaultDetectionSettings(),
	}
	// A night shift: 22:00 to 06:00, starting Monday to Friday evenings.
	night := office
	night.Location, night.WorkStart, night.WorkEnd = tokyo, 22*60, 6*60
	tests := []struct {
		name    string
		ws      alert.WorkspaceConfig
		at      time.Time
		unusual bool
	}{
		// March 2026 in New York is UTC-4 from 8 March, UTC-5 before.
		{"Monday 10:00 in New York", office, time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC), false},
		{"Monday 10:00 UTC is 06:00 in New York", office, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC), true},
		{"Tuesday 01:00 UTC is Monday 21:00 in New York", office, time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC), true},
		{"Saturday 11:00 in New York", office, time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC), true},
		{"16:59:59.999, the last moment of work", office, time.Date(2026, 3, 9, 20, 59, 59, 999e6, time.UTC), false},
		{"17:00:00.000, the first moment after", office, time.Date(2026, 3, 9, 21, 0, 0, 0, time.UTC), true},
		{"09:00:00.000, the first moment of work", office, time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC), false},
		{"08:59:59.999, the last moment before", office, time.Date(2026, 3, 9, 12, 59, 59, 999e6, time.UTC), true},
		// Tokyo is UTC+9 all year.
		{"night shift, Monday 23:00", night, time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC), false},
		{"night shift, Tuesday 03:00 (Monday's shift)", night, time.Date(2026, 3, 9, 18, 0, 0, 0, time.UTC), false},
		{"night shift, Saturday 05:59 (Friday's shift)", night, time.Date(2026, 3, 13, 20, 59, 0, 0, time.UTC), false},
		{"night shift, Saturday 06:00", night, time.Date(2026, 3, 13, 21, 0, 0, 0, time.UTC), true},
		{"night shift, Sunday 03:00 (Saturday has no shift)", night, time.Date(2026, 3, 14, 18, 0, 0, 0, time.UTC), true},
		{"night shift, Monday 03:00 (Sunday has no shift)", night, time.Date(2026, 3, 8, 18, 0, 0, 0, time.UTC), true},
		{"night shift, Monday 12:00", night, time.Date(2026, 3, 9, 3, 0, 0, 0, time.UTC), true},
		{"night shift, Monday 22:00", night, time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := activity.NewEventID()
			d, sink := MustDetector(t, staticConfigs{ws: tt.ws})
			MustDetect(t, d, 1, []activity.Event{event(ws, "asset.updated", person("Ann Lee"), tt.at)})
			if got := len(sink.alerts()) == 1; got != tt.unusual {
				t.Errorf("unusual = %v, want %v: %v", got, tt.unusual, sink.alerts())
			}
		})
	}
	t.Run("the summary says the local time and hours", func(t *testing.T) {
		ws := activity.NewEventID()
		d, sink := MustDetector(t, staticConfigs{ws: night})
		MustDetect(t, d, 1, []activity.Event{event(ws, "asset.updated", person("Ann Lee"), time.Date(2026, 3, 9, 3, 0, 0, 0, time.UTC))})
		if a := sink.alerts(); len(a) != 1 || a[0].Summary != "Ann Lee acted at 12:00 on Monday, outside working hours (Mon–Fri 22:00–06:00, Asia/Tokyo)" {
			t.Errorf("alerts: %+v", a)
		}
	})
	t.Run("a failure, the system and other workspaces' hours are not counted", func(t *testing.T) {
		ws := activity.NewEventID()
		d, sink := MustDetector(t, staticConfigs{ws: office})
		sunday := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
		failed := event(ws, "license.key_viewed", person("Ann Lee"), sunday)
		failed.Outcome = activity.OutcomeFailure
		system := event(ws, "asset.updated", activity.Actor{Type: activity.ActorSystem}, sunday)
		MustDetect(t, d, 5, []activity.Event{failed, system})
		if a := sink.alerts(); len(a) != 0 {
			t.Errorf("alerts: %v", briefs(a))
		}
	})
	t.Run("one alert per user per cooldown", func(t *testing.T) {
		ws := activity.NewEventID()
		d, sink := MustDetector(t, staticConfigs{ws: office})
		ann := person("Ann Lee")
		sunday := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
		var stream []activity.Event
		for _, at := range []time.Duration{0, time.Hour, 6*time.Hour - time.Millisecond, 6 * time.Hour} {
			stream = append(stream, event(ws, "asset.updated", ann, sunday.Add(at)))
		}
		MustDetect(t, d, 2, stream)
		if a := sink.alerts(); len(a) != 2 || a[1].EventIDs[0] != stream[3].ID {
			t.Errorf("alerts: %v", briefs(a))
		}
	})
}

// TestDetectUnusualTimeLearnedHours teaches users their hours over earlier days
// in a workspace that is always working, so only learned hours speak.
func TestDetectUnusualTimeLearnedHours(t *testing.T) {
	today := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	// history returns one action at 10:15 on each of days days before
	// today, and one at 03:10 on the first extra of them.
	history := func(ws string, a activity.Actor, days, atThree int) []activity.Event {
		var out []activity.Event
		for i := days; i >= 1; i-- {
			day := today.AddDate(0, 0, -i)
			out = append(out, event(ws, "asset.updated", a, day.Add(10*time.Hour+15*time.Minute)))
			if i <= atThree {
				out = append(out, event(ws, "asset.updated", a, day.Add(3*time.Hour+10*time.Minute)))
			}
		}
		return out
	}
	tests := []struct {
		name      string
		days      int
		atThree   int
		at        time.Duration // today
		unusual   bool
		threshold int
	}{
		{"the usual hour", 14, 0, 10*time.Hour + 40*time.Minute, false, 0},
		{"the usual hour, after 40 days", 40, 0, 10*time.Hour + 40*time.Minute, false, 0},
		{"an hour after the usual one", 14, 0, 11*time.Hour + 50*time.Minute, false, 0},
		{"two hours after the usual one", 14, 0, 12*time.Hour + 5*time.Minute, true, 0},
		{"an hour never seen", 14, 0, 3 * time.Hour, true, 0},
		{"not enough history yet", 13, 0, 3 * time.Hour, false, 0},
		{"a lower threshold", 13, 0, 3 * time.Hour, true, 10},
		{"an hour seen on one earlier day only", 14, 1, 3*time.Hour + 30*time.Minute, true, 0},
		{"an hour seen on two earlier days", 14, 2, 3*time.Hour + 30*time.Minute, false, 0},
		{"the hour before one seen on two days", 14, 2, 2*time.Hour + 5*time.Minute, false, 0},
		{"midnight, next to no hour seen", 14, 0, 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := activity.NewEventID()
			cfg := alwaysWorking()
			if tt.threshold > 0 {
				s := cfg.Detection.Detectors[alert.DetectUnusualTime]
				s.Threshold = tt.threshold
				cfg.Detection.Detectors[alert.DetectUnusualTime] = s
			}
			d, sink := MustDetector(t, staticConfigs{ws: cfg})
			ann := person("Ann Lee")
			stream := history(ws, ann, tt.days, tt.atThree)
			if !tt.unusual {
				// Activity earlier today is not history: it neither makes
				// the hour usual nor fills up the days.
				stream = append(stream, event(ws, "asset.updated", ann, today.Add(tt.at-time.Minute)), event(ws, "asset.updated", ann, today.Add(tt.at-2*time.Minute)))
			}
			MustDetect(t, d, 5, stream)
			if n := len(sink.alerts()); n != 0 {
				t.Fatalf("the history raised %v", briefs(sink.alerts()))
			}
			last := event(ws, "asset.updated", ann, today.Add(tt.at))
			MustDetect(t, d, 1, []activity.Event{last})
			got := sink.alerts()
			if (len(got) == 1) != tt.unusual {
				t.Fatalf("unusual = %v, want %v: %+v", len(got) == 1, tt.unusual, got)
			}
			if !tt.unusual {
				return
			}
			if r := got[0].Details["reasons"].([]string); len(r) != 1 || r[0] != "unusual_hour" {
				t.Errorf("reasons %v", r)
			}
			// The same event again, after more of today was recorded:
			// the same verdict, so the same alert and nothing new.
			later := event(ws, "asset.updated", ann, today.Add(tt.at+time.Minute))
			replay, replaySink := newDetector(t, d.Store, d.Prefix, staticConfigs{ws: cfg})
			MustDetect(t, replay, 5, []activity.Event{later, last})
			if a := replaySink.alerts(); len(a) != 1 || a[0].ID != got[0].ID {
				t.Errorf("the replay raised %v, want only %s", briefs(a), got[0].ID)
			}
		})
	}
}
