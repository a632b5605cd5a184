package detect_test

import (
	"fmt"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// TestDetectWindowEdges puts the last event a threshold needs exactly at the end
// of the window that starts with the first, where it counts, and 1 ms
// later, where it does not.
func TestDetectWindowEdges(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	rule := alert.AlertRule{ID: activity.NewEventID(), Name: "Bulk operations", Enabled: true, ActivityTypes: []string{"asset.*"}, Threshold: 3, WindowMinutes: 5, GroupBy: alert.GroupByActor, Severity: "medium"}
	tests := []struct {
		name   string
		window time.Duration
		n      int
		// make returns the i-th of n events, by actor at at.
		make func(ws string, actor activity.Actor, i int, at time.Time) activity.Event
	}{
		{"failed_logins", 10 * time.Minute, 3, func(ws string, a activity.Actor, i int, at time.Time) activity.Event {
			return failedLogin(ws, a, fmt.Sprintf("198.51.100.%d", i+1), at)
		}},
		{"failed_logins per address", 10 * time.Minute, 3, func(ws string, _ activity.Actor, i int, at time.Time) activity.Event {
			return failedLogin(ws, activity.Actor{Type: activity.ActorAnonymous, Email: fmt.Sprintf("n%d@example.com", i)}, "203.0.113.50", at)
		}},
		{"bulk_exports", time.Hour, 3, func(ws string, a activity.Actor, _ int, at time.Time) activity.Event {
			return event(ws, "system.report_generated", a, at)
		}},
		{"rapid_permission_changes", 10 * time.Minute, 5, func(ws string, a activity.Actor, _ int, at time.Time) activity.Event {
			return event(ws, "user.api_token_created", a, at)
		}},
		{"simultaneous_sessions", 30 * time.Minute, 3, func(ws string, a activity.Actor, i int, at time.Time) activity.Event {
			return event(ws, "asset.viewed", a, at, inSession(fmt.Sprintf("%s-%d", a.ID, i)))
		}},
		{"rule", 5 * time.Minute, 3, func(ws string, a activity.Actor, _ int, at time.Time) activity.Event {
			return event(ws, "asset.updated", a, at)
		}},
	}
	for _, tt := range tests {
		for _, late := range []time.Duration{0, time.Millisecond} {
			t.Run(fmt.Sprintf("%s/%v after the window's end", tt.name, late), func(t *testing.T) {
				ws := activity.NewEventID()
				cfg := alwaysWorking()
				cfg.Rules = []alert.AlertRule{rule}
				d, sink := MustDetector(t, staticConfigs{ws: cfg})
				actor := person("Ann Lee")
				var stream []activity.Event
				for i := 0; i < tt.n; i++ {
					at := t0.Add(tt.window * time.Duration(i) / time.Duration(tt.n-1))
					if i == tt.n-1 {
						at = t0.Add(tt.window + late)
					}
					stream = append(stream, tt.make(ws, actor, i, at))
				}
				MustDetect(t, d, 2, stream)
				var raised int
				for _, a := range sink.alerts() {
					if a.Detector == tt.name || (tt.name == "rule" && a.RuleID == rule.ID) || (tt.name == "failed_logins per address" && a.Subject.Type == "ip") {
						raised++
					}
				}
				if want := map[time.Duration]int{0: 1, time.Millisecond: 0}[late]; raised != want {
					t.Errorf("%d alerts, want %d: %v", raised, want, briefs(sink.alerts()))
				}
			})
		}
	}
}

// TestDetectCooldownEdges: after an alert, the next burst of the same account
// raises another exactly one cooldown (30 minutes) later, in event time,
// and not 1 ms sooner.
func TestDetectCooldownEdges(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	for _, early := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprintf("%v before the cooldown ends", early), func(t *testing.T) {
			ws := activity.NewEventID()
			d, sink := MustDetector(t, staticConfigs{ws: alwaysWorking()})
			ann := person("Ann Lee")
			burst := func(last time.Time) []activity.Event {
				var out []activity.Event
				for i := 2; i >= 0; i-- {
					out = append(out, failedLogin(ws, ann, fmt.Sprintf("198.51.100.%d", 10*len(out)+i), last.Add(-time.Duration(i)*time.Minute)))
				}
				return out
			}
			stream := append(burst(t0), burst(t0.Add(30*time.Minute-early))...)
			MustDetect(t, d, 4, stream)
			want := map[time.Duration]int{0: 2, time.Millisecond: 1}[early]
			if got := sink.alerts(); len(got) != want {
				t.Errorf("%d alerts, want %d: %v", len(got), want, briefs(got))
			}
		})
	}
}

// TestDetectSinkFailureKeepsTheClaim: a batch whose alerts the sink refused is
// sent again; its cooldown claims, already taken by the same alerts, let
// them through, and they are stored once.
func TestDetectSinkFailureKeepsTheClaim(t *testing.T) {
	ws := activity.NewEventID()
	d, sink := MustDetector(t, staticConfigs{ws: alwaysWorking()})
	ann := person("Ann Lee")
	t0 := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	var stream []activity.Event
	for i := 0; i < 3; i++ {
		stream = append(stream, failedLogin(ws, ann, "198.51.100.7", t0.Add(time.Duration(i)*time.Minute)))
	}
	sink.failNext(1)
	if err := d.Detect(t.Context(), stream); err == nil {
		t.Fatal("a failing sink did not fail the batch")
	}
	MustDetect(t, d, 3, stream)
	if got := briefs(sink.alerts()); !equal(got, []string{"failed_logins ip:198.51.100.7 3", "failed_logins user:" + ann.ID + " 3"}) {
		t.Errorf("after the retry: %v", got)
	}
}
