package detect_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/detect"
)

// monday10 is Monday 2 March 2026, 10:00 in Berlin (UTC+1): working hours.
var monday10 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// TestDetectScriptedStreamRaisesExactlyTheExpectedAlerts sends a stream that
// trips every built-in detector and two rules once, in batches, then
// replays it whole: the replay raises no alert the first pass did not.
func TestDetectScriptedStreamRaisesExactlyTheExpectedAlerts(t *testing.T) {
	ws := activity.NewEventID()
	cfg := berlin()
	changes := alert.AlertRule{ID: activity.NewEventID(), Name: "License changes", Enabled: true, ActivityTypes: []string{"license.*"}, Threshold: 3, WindowMinutes: 10, GroupBy: alert.GroupByActor, Severity: "medium"}
	deletions := alert.AlertRule{ID: activity.NewEventID(), Name: "License deletions", Enabled: true, ActivityTypes: []string{"license.deleted"}, Threshold: 1, GroupBy: alert.GroupByActor, Severity: "low"}
	disabled := alert.AlertRule{ID: activity.NewEventID(), Name: "Everything", Enabled: false, ActivityTypes: []string{"*"}, Threshold: 1, Severity: "low"}
	cfg.Rules = []alert.AlertRule{changes, deletions, disabled}
	d, sink := MustDetector(t, staticConfigs{ws: cfg})

	ann, bob, carl, dana, eve, fay, gus := person("Ann Lee"), person("Bob Berg"), person("Carl Cole"), person("Dana Dorn"), person("Eve Ernst"), person("Fay Falk"), person("Gus Gold")
	minute := func(n int) time.Time { return monday10.Add(time.Duration(n) * time.Minute) }
	var stream []activity.Event
	add := func(es ...activity.Event) { stream = append(stream, es...) }
	// Ann's account: three failures from three addresses.
	for i := 0; i < 3; i++ {
		add(failedLogin(ws, ann, fmt.Sprintf("198.51.100.%d", i+1), minute(i)))
	}
	// One address tries three unknown emails.
	for i := 0; i < 3; i++ {
		add(failedLogin(ws, activity.Actor{Type: activity.ActorAnonymous, Email: fmt.Sprintf("x%d@example.com", i)}, "203.0.113.9", minute(3+i)))
	}
	// Bob works at 02:14 on Sunday.
	add(event(ws, "asset.updated", bob, time.Date(2026, 3, 1, 1, 14, 0, 0, time.UTC)))
	// Carl exports three times within the hour.
	for i := 0; i < 3; i++ {
		add(event(ws, "system.data_exported", carl, minute(10+10*i)))
	}
	// Dana changes five roles within ten minutes.
	for i := 0; i < 5; i++ {
		add(event(ws, "user.role_changed", dana, minute(1+i)))
	}
	// Eve works from Berlin, then from Tokyo.
	add(event(ws, "asset.updated", eve, minute(0), locatedAt("DE", "Berlin", "Example Office Network")))
	add(event(ws, "asset.updated", eve, minute(30), locatedAt("DE", "Berlin", "Example Office Network")))
	add(event(ws, "asset.updated", eve, minute(120), locatedAt("JP", "Tokyo", "Example Mobile"), fromIP("2001:db8:1::1")))
	// Fay has three sessions within half an hour.
	for i, s := range []string{"s1", "s2", "s3"} {
		add(event(ws, "asset.viewed", fay, minute(5*i), inSession(fay.ID+s)))
	}
	// Gus changes three licenses (the rule counts them), then deletes two
	// (each its own alert; the change rule is cooling down).
	for i := 0; i < 3; i++ {
		add(event(ws, "license.updated", gus, minute(1+i)))
	}
	add(event(ws, "license.deleted", gus, minute(4)), event(ws, "license.deleted", gus, minute(5)))
	// Quiet activity: nothing to say.
	add(event(ws, "asset.updated", person("Hal Hart"), minute(7)))

	MustDetect(t, d, 7, stream)

	got := sink.alerts()
	want := []string{
		"bulk_exports user:" + carl.ID + " 3",
		"failed_logins ip:203.0.113.9 3",
		"failed_logins user:" + ann.ID + " 3",
		"rapid_permission_changes user:" + dana.ID + " 5",
		"rule License changes user:" + gus.ID + " 3",
		"rule License deletions user:" + gus.ID + " 1",
		"rule License deletions user:" + gus.ID + " 1",
		"simultaneous_sessions user:" + fay.ID + " 3",
		"unusual_location user:" + eve.ID + " 1",
		"unusual_time user:" + bob.ID + " 1",
	}
	if !equal(briefs(got), want) {
		t.Fatalf("alerts:\n%v\nwant:\n%v", briefs(got), want)
	}
	byKind := map[string]alert.Alert{}
	for _, a := range got {
		if a.State != alert.AlertOpen || !a.RaisedAt.Equal(clock) || a.WorkspaceID != ws || len(a.EventIDs) == 0 {
			t.Errorf("alert %s: state %q, raised %v, workspace %s, events %v", brief(a), a.State, a.RaisedAt, a.WorkspaceID, a.EventIDs)
		}
		if (a.Detector == "") == (a.RuleID == "") {
			t.Errorf("alert %s names both or neither of a detector and a rule", brief(a))
		}
		if a.ID != alert.AlertID(ws, source(a), subjectKey(a), a.EventIDs[len(a.EventIDs)-1]) {
			t.Errorf("alert %s has id %s, not the one derived from its trigger", brief(a), a.ID)
		}
		byKind[a.Detector+a.Subject.Type] = a
	}
	if a := byKind["failed_loginsuser"]; a.Summary != "3 failed logins for ann.lee@example.com within 10 minutes" || a.Severity != "high" || a.Window != "10m0s" ||
		!slices.Equal(a.EventIDs, []string{stream[0].ID, stream[1].ID, stream[2].ID}) || !a.OccurredAt.Equal(stream[2].OccurredAt) {
		t.Errorf("Ann's alert: %+v", a)
	}
	if a := byKind["failed_loginsip"]; a.Summary != "3 failed logins from 203.0.113.9 within 10 minutes" || a.Details["ip"] != "203.0.113.9" {
		t.Errorf("the address's alert: %+v", a)
	}
	if a := byKind["unusual_timeuser"]; a.Summary != "Bob Berg acted at 02:14 on Sunday, outside working hours (Mon–Fri 09:00–17:00, Europe/Berlin)" || a.Severity != "medium" {
		t.Errorf("Bob's alert: %+v", a)
	}
	if a := byKind["unusual_locationuser"]; a.Summary != "Eve Ernst acted from a new country, JP (Tokyo), and a new network, Example Mobile, at address 2001:db8:1::1" || a.Details["country"] != "JP" {
		t.Errorf("Eve's alert: %+v", a)
	}
	if a := byKind["simultaneous_sessionsuser"]; a.Summary != "Fay Falk had 3 sessions active within 30 minutes" || len(a.Details["sessions"].([]map[string]any)) != 3 {
		t.Errorf("Fay's alert: %+v", a)
	}
	if a := byKind["bulk_exportsuser"]; a.Summary != "3 exports and reports by Carl Cole within 1 hour" {
		t.Errorf("Carl's alert: %+v", a)
	}
	for _, a := range got {
		if a.RuleID == changes.ID && (a.Summary != "License changes: 3 matching events by Gus Gold within 10 minutes" || a.Severity != "medium") {
			t.Errorf("the change rule's alert: %+v", a)
		}
		if a.RuleID == deletions.ID && (a.Summary != `License deletions: Gus Gold did license.deleted on "Thing"` || a.Severity != "low" || a.Count != 1) {
			t.Errorf("the deletion rule's alert: %+v", a)
		}
	}

	// The whole stream again, as one batch, from a fresh detector on the
	// same keys: nothing new.
	again, replaySink := newDetector(t, d.Store, d.Prefix, staticConfigs{ws: cfg})
	MustDetect(t, again, len(stream), stream)
	for _, a := range replaySink.alerts() {
		if !slices.ContainsFunc(got, func(b alert.Alert) bool { return b.ID == a.ID }) {
			t.Errorf("the replay raised a new alert: %s %s", brief(a), a.Summary)
		}
	}
	// And once more through the first sink: it stores nothing new.
	MustDetect(t, d, 3, stream)
	if n := len(sink.alerts()); n != len(want) {
		t.Errorf("after a replay the sink holds %d alerts, want %d", n, len(want))
	}
}

func source(a alert.Alert) string {
	if a.RuleID != "" {
		return a.RuleID
	}
	return a.Detector
}

func subjectKey(a alert.Alert) string {
	switch {
	case a.Detector == alert.DetectFailedLogins && a.Subject.Type != "ip":
		return "account:" + a.Subject.Type + ":" + a.Subject.ID
	case a.Subject.Type == "workspace":
		return "workspace"
	}
	return a.Subject.Type + ":" + a.Subject.ID
}

// TestDetectDisabledDetectorsStayQuiet turns every detector off.
func TestDetectDisabledDetectorsStayQuiet(t *testing.T) {
	ws := activity.NewEventID()
	cfg := berlin()
	for name, s := range cfg.Detection.Detectors {
		s.Enabled = false
		cfg.Detection.Detectors[name] = s
	}
	d, sink := MustDetector(t, staticConfigs{ws: cfg})
	ann := person("Ann Lee")
	var stream []activity.Event
	for i := 0; i < 5; i++ {
		stream = append(stream, failedLogin(ws, ann, "198.51.100.1", monday10.Add(time.Duration(i)*time.Second)))
		stream = append(stream, event(ws, "system.data_exported", ann, time.Date(2026, 3, 1, 3, i, 0, 0, time.UTC), inSession(fmt.Sprint(i))))
	}
	MustDetect(t, d, 100, stream)
	if got := sink.alerts(); len(got) != 0 {
		t.Errorf("disabled detectors raised %v", briefs(got))
	}
}

// TestDetectConfigValidate fills in the defaults and refuses what makes no sense.
func TestDetectConfigValidate(t *testing.T) {
	var c detect.Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != detect.DefaultBatchSize || c.BatchBytes != detect.DefaultBatchBytes || c.History != 60*24*time.Hour || c.ReplayHorizon != 7*24*time.Hour || c.Cooldowns[alert.DetectUnusualTime] != 6*time.Hour || len(c.Cooldowns) != len(alert.Detectors) {
		t.Errorf("defaults: %+v", c)
	}
	for name, bad := range map[string]detect.Config{
		"unknown detector":  {Cooldowns: map[string]time.Duration{"nope": time.Minute}},
		"negative cooldown": {Cooldowns: map[string]time.Duration{alert.DetectFailedLogins: -time.Minute}},
		"short history":     {History: time.Hour},
		"negative batch":    {BatchSize: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if err := bad.Validate(); err == nil {
				t.Errorf("%+v passed", bad)
			}
		})
	}
}
