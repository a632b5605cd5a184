package synthetic_test

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
)

func TestHistory(t *testing.T) {
	ws := synthetic.Workspace{
		ID: activity.NewEventID(), TimeZone: "Europe/Berlin",
		Members:  []activity.Actor{{ID: "u1", Name: "Ann", Email: "ann@example.com", Type: activity.ActorUser}, {ID: "u2", Name: "Bo", Email: "bo@example.com", Type: activity.ActorUser}},
		Assets:   []activity.Resource{{Type: "asset", ID: "a1", Name: "Laptop"}},
		Licenses: []activity.Resource{{Type: "license", ID: "l1", Name: "Figma"}},
	}
	until := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	h, err := synthetic.NewHistory(1, ws, 30, until)
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	events := h.Events(5000)
	weekend, failed := 0, 0
	for i, e := range events {
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d is invalid: %v", i, err)
		}
		if e.WorkspaceID != ws.ID || e.OccurredAt.Before(until.AddDate(0, 0, -31)) || e.OccurredAt.After(until.AddDate(0, 0, 2)) {
			t.Fatalf("event %d outside the workspace or the period: %+v", i, e)
		}
		if i > 0 && e.OccurredAt.Before(events[i-1].OccurredAt) {
			t.Fatal("events are not in time order")
		}
		if wd := e.OccurredAt.In(berlin).Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekend++
		}
		if e.Action == "auth.login_failed" {
			failed++
		}
	}
	if weekend == 0 || weekend > len(events)/10 {
		t.Errorf("%d of %d events on weekends; want a few", weekend, len(events))
	}
	if failed == 0 || failed > len(events)/10 {
		t.Errorf("%d of %d events are failed logins; want some", failed, len(events))
	}
	if _, err := synthetic.NewHistory(1, synthetic.Workspace{ID: "x"}, 30, until); err == nil {
		t.Error("a history without members was made")
	}
}
