package detect_test

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
)

func TestDetectSimultaneousSessions(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	ws := activity.NewEventID()
	d, sink := MustDetector(t, staticConfigs{ws: alwaysWorking()})
	ann, bob := person("Ann Lee"), person("Bob Berg")
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	in := func(a activity.Actor, session, action string, m int) activity.Event {
		return event(ws, action, a, at(m), inSession(a.ID+"/"+session), fromIP("198.51.100.9"))
	}
	// Ann logs out of her first session before opening a third: two at a
	// time, never three. Bob's sessions are his own.
	quiet := []activity.Event{
		in(ann, "a", "auth.login", 0),
		in(ann, "b", "auth.login", 1),
		in(ann, "a", "auth.logout", 2),
		in(ann, "c", "auth.login", 3),
		in(bob, "x", "auth.login", 3),
		in(ann, "c", "asset.updated", 4),
	}
	MustDetect(t, d, 2, quiet)
	if got := sink.alerts(); len(got) != 0 {
		t.Fatalf("alerts: %v", briefs(got))
	}
	// A fourth session makes three at once.
	fourth := in(ann, "d", "auth.login", 5)
	MustDetect(t, d, 2, []activity.Event{fourth, in(ann, "e", "auth.login", 6)})
	got := sink.alerts()
	if len(got) != 1 {
		t.Fatalf("alerts: %v", briefs(got))
	}
	a := got[0]
	sessions := a.Details["sessions"].([]map[string]any)
	if a.Count != 3 || len(sessions) != 3 || sessions[2]["session_id"] != ann.ID+"/d" || sessions[0]["session_id"] != ann.ID+"/b" ||
		a.EventIDs[len(a.EventIDs)-1] != fourth.ID || len(a.EventIDs) != 3 || a.Subject.ID != ann.ID || a.Window != "30m0s" {
		t.Errorf("alert: %+v", a)
	}
	// Once the session's events are replayed, the same alert, nothing new.
	MustDetect(t, d, 3, append(quiet, fourth))
	if n := len(sink.alerts()); n != 1 {
		t.Errorf("after the replay: %v", briefs(sink.alerts()))
	}
}
