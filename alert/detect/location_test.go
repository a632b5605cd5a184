package detect_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// table places addresses as the enrichment table would.
type table map[string]activity.Location

func (t table) Locate(ip netip.Addr) (activity.Location, bool) {
	l, ok := t[ip.String()]
	return l, ok
}

func TestDetectUnusualLocation(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	ws := activity.NewEventID()
	d, sink := MustDetector(t, staticConfigs{ws: alwaysWorking()})
	d.Locator = table{
		"203.0.113.24":   {Country: "GB", City: "London", Network: "Example Telecom"},
		"198.51.100.255": {Country: "US", City: "New York", Network: "Example Cloud"},
	}
	ann := person("Ann Lee")
	office := locatedAt("DE", "Berlin", "Example Office Network")
	baseline := event(ws, "auth.login", ann, t0, office, fromIP("2001:db8::42"))
	again := event(ws, "asset.updated", ann, t0.Add(time.Minute), office)
	unlocated := event(ws, "asset.updated", ann, t0.Add(2*time.Minute), fromIP("192.0.2.1"))
	tokyo := event(ws, "asset.updated", ann, t0.Add(3*time.Hour), locatedAt("JP", "Tokyo", "Example Mobile"), fromIP("2001:db8:1::1"))
	tokyoAgain := event(ws, "asset.updated", ann, t0.Add(4*time.Hour), locatedAt("JP", "Tokyo", "Example Mobile"))
	failedFromLondon := event(ws, "asset.updated", ann, t0.Add(5*time.Hour), fromIP("203.0.113.24"))
	failedFromLondon.Outcome = activity.OutcomeFailure
	// A new network in a known country, from the address alone.
	newYorkCloud := event(ws, "asset.updated", ann, t0.Add(6*time.Hour), fromIP("198.51.100.255"))
	// Another new network within the hour: learned, but cooling down.
	cafe := event(ws, "asset.updated", ann, t0.Add(6*time.Hour+time.Minute), locatedAt("US", "New York", "Example Cafe"))

	stream := []activity.Event{baseline, again, unlocated, tokyo, tokyoAgain, failedFromLondon, newYorkCloud, cafe}
	MustDetect(t, d, 3, stream)
	got := sink.alerts()
	if len(got) != 2 {
		t.Fatalf("alerts: %v", briefs(got))
	}
	if a := got[0]; a.EventIDs[0] != tokyo.ID || !slices.Equal(a.Details["new_places"].([]string), []string{"country:JP", "network:Example Mobile"}) || a.Subject.ID != ann.ID || a.Severity != "medium" {
		t.Errorf("Tokyo's alert: %+v", a)
	}
	if a := got[1]; a.EventIDs[0] != newYorkCloud.ID || a.Summary != "Ann Lee acted from a new country, US (New York), and a new network, Example Cloud, at address 198.51.100.255" {
		t.Errorf("New York's alert: %+v", a)
	}

	// Each event again, one by one and in another order: the baseline
	// stays the baseline, Tokyo is still what brought Japan in, and
	// nothing new is raised.
	replay, replaySink := newDetector(t, d.Store, d.Prefix, staticConfigs{ws: alwaysWorking()})
	replay.Locator = d.Locator
	slices.Reverse(stream)
	MustDetect(t, replay, 1, stream)
	if ids := briefs(replaySink.alerts()); !equal(ids, briefs(got)) {
		t.Errorf("the replay raised %v, want %v", ids, briefs(got))
	}
	for _, a := range replaySink.alerts() {
		if !slices.ContainsFunc(got, func(b alert.Alert) bool { return a.ID == b.ID }) {
			t.Errorf("the replay raised a new alert %s", a.Summary)
		}
	}
}
