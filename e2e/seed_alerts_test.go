package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/internal/topic"
)

// demoHours configures every workspace as the demo workspace is set up:
// Berlin, Monday to Friday, 08:00–18:00, the default detection settings.
type demoHours struct{}

func (demoHours) Config(context.Context, string) (alert.WorkspaceConfig, error) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	return alert.WorkspaceConfig{Location: berlin, WorkStart: 8 * 60, WorkEnd: 18 * 60,
		WorkingDays: [7]bool{false, true, true, true, true, true, false}, Detection: alert.DefaultDetectionSettings()}, nil
}

// TestSeededHistoryRaisesAHandfulOfAlerts runs the detector over two
// months of a seeded team of thirty in the demo workspace's working hours,
// in time order as a live stream brings it, and checks that it raises a
// handful of alerts, each about something worth a look — the odd weekend,
// late evening or trip to another office — rather than one for every
// member.
func TestSeededHistoryRaisesAHandfulOfAlerts(t *testing.T) {
	cfg := MustStack(t)
	sink := newAlertRecorder()
	MustStartDetector(t, cfg, sink, demoHours{})

	ws := synthetic.Workspace{ID: activity.NewEventID(), TimeZone: "Europe/Berlin"}
	for i := range 30 {
		role := activity.RoleMember
		if i%10 == 0 {
			role = activity.RoleAdmin
		}
		ws.Members = append(ws.Members, activity.Actor{ID: activity.NewEventID(), Name: fmt.Sprintf("Member %d", i), Email: fmt.Sprintf("m%d@example.com", i), Role: role, Type: activity.ActorUser})
	}
	for i := range 50 {
		ws.Assets = append(ws.Assets, activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: fmt.Sprintf("Laptop %d", i)})
	}
	ws.Licenses = []activity.Resource{{Type: "license", ID: activity.NewEventID(), Name: "Figma"}}
	h, err := synthetic.NewHistory(11, ws, 60, time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	events := h.Events(30 * 42 * 60)
	// The end of the stream: three failed logins of someone elsewhere.
	sentinel := activity.Actor{ID: activity.NewEventID(), Email: "end@example.com", Name: "End", Type: activity.ActorUser, Role: activity.RoleMember}
	end, elsewhere := time.Now().Add(-time.Hour), activity.NewEventID()
	for i := range 3 {
		events = append(events, failedLogin(elsewhere, sentinel, "198.51.100.9", end.Add(time.Duration(i)*time.Second)))
	}
	w := topic.NewWriter(cfg.Publisher.Brokers, cfg.Publisher.Topic)
	w.BatchSize, w.BatchTimeout = 1000, 10*time.Millisecond
	defer w.Close()
	msgs := make([]kafka.Message, 0, len(events))
	for _, e := range events {
		b, _ := json.Marshal(e)
		msgs = append(msgs, kafka.Message{Key: []byte("one-partition"), Value: b})
	}
	if err := w.WriteMessages(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Minute)
	for done := false; !done; {
		select {
		case <-sink.added:
		case <-deadline:
			t.Fatalf("the detector did not reach the end of the stream; alerts so far: %d", len(sink.all()))
		}
		for _, a := range sink.all() {
			done = done || a.Subject.ID == sentinel.ID
		}
	}
	var alerts []alert.Alert
	byDetector := map[string]int{}
	for _, a := range sink.all() {
		if a.WorkspaceID == ws.ID {
			alerts = append(alerts, a)
			byDetector[a.Detector]++
		}
	}
	for _, a := range alerts {
		t.Logf("%s: %s", a.Detector, a.Summary)
	}
	perMember := map[string]int{}
	for _, a := range alerts {
		perMember[a.Subject.ID]++
		if a.Detector != alert.DetectUnusualTime && a.Detector != alert.DetectUnusualLocation {
			t.Errorf("a %s alert: %s", a.Detector, a.Summary)
		}
	}
	if len(alerts) == 0 || len(alerts) > 8 || len(perMember) > len(ws.Members)/3 {
		t.Errorf("%d alerts about %d of %d members over two months (%v); want a handful", len(alerts), len(perMember), len(ws.Members), byDetector)
	}
}
