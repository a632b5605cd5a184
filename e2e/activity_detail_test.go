package e2e

import (
	"net/http"
	"net/netip"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// safari is the user agent of the browser the detail test acts from.
const safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"

// TestActivityDetail changes an asset's status through the API, from a
// known address and browser, and reads the indexed entry in full: its
// change, its sentence, its actor, its session and the session's other
// entries; and checks that an entry outside the caller's scope, of another
// workspace or with a malformed id is not found, alike.
func TestActivityDetail(t *testing.T) {
	cfg := MustStack(t)
	cfg.HTTP.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Dana")
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	stranger := mustOwner(t, m, cfg, "Elsewhere")

	from := map[string]string{"X-Forwarded-For": "203.0.113.77", "User-Agent": safari}
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "MacBook Pro A-1029"}, from), "asset")
	if a := owner.call("PUT", "/api/v1/assets/"+asset+"/status", map[string]string{"status": "lost"}, from); a.status != http.StatusOK {
		t.Fatalf("change status: %d %s", a.status, a.body)
	}
	memberAsset := mustID(t, member.call("POST", "/api/v1/assets", map[string]string{"name": "Member's monitor"}, nil), "asset")

	var changed, created, memberCreated string
	stacktest.Eventually(t, "the three asset events are indexed", func() bool {
		var page searchapi.EventPage
		if a := owner.call("GET", "/api/v1/activity?category=asset", nil, nil); a.status == http.StatusOK {
			a.decode(t, &page)
		}
		for _, e := range page.Entries {
			switch {
			case e.Action == "asset.status_changed" && e.Resource.ID == asset:
				changed = e.ID
			case e.Action == "asset.created" && e.Resource.ID == asset:
				created = e.ID
			case e.Action == "asset.created" && e.Resource.ID == memberAsset:
				memberCreated = e.ID
			}
		}
		return changed != "" && created != "" && memberCreated != ""
	})

	a := owner.call("GET", "/api/v1/activity/"+changed, nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET the entry: %d %s", a.status, a.body)
	}
	var d searchapi.EntryDetail
	a.decode(t, &d)
	if d.ID != changed || d.Action != "asset.status_changed" || d.Outcome != activity.OutcomeSuccess {
		t.Errorf("entry = %s %s %s", d.ID, d.Action, d.Outcome)
	}
	wantChange(t, d.Event, "status", "available", "lost")
	if want := "Dana Owner changed status from available to lost on asset MacBook Pro A-1029"; d.Summary != want {
		t.Errorf("summary = %q, want %q", d.Summary, want)
	}
	if want := (activity.Actor{ID: owner.id, Email: owner.email, Name: "Dana Owner", Role: activity.RoleOwner, Type: activity.ActorUser}); d.User != want {
		t.Errorf("user = %+v, want %+v", d.User, want)
	}
	s := d.Session
	if s.ID == "" || s.ID != d.Context.SessionID || s.IP != "203.0.113.77" || s.Method != activity.MethodWeb || s.UserAgent != safari {
		t.Errorf("session = %+v", s)
	}
	if s.Location == nil || s.Location.City != "London" || s.Client.Browser != "Safari" || s.Client.OS != "macOS 14.4" {
		t.Errorf("session location %+v, client %+v; want London, Safari on macOS 14.4", s.Location, s.Client)
	}
	seen := false
	for i, e := range d.SessionEvents {
		if e.ID == changed {
			t.Errorf("the entry is among its session's other events")
		}
		if e.Context.SessionID != s.ID {
			t.Errorf("session event %s is of session %q", e.ID, e.Context.SessionID)
		}
		if i > 0 && newestFirst(d.SessionEvents[i-1].Event, e.Event) > 0 {
			t.Errorf("session events are not newest first at %d", i)
		}
		seen = seen || e.ID == created
	}
	if !seen || s.OtherEvents != int64(len(d.SessionEvents)) {
		t.Errorf("session events %d (other_events %d) lack the asset's creation %s", len(d.SessionEvents), s.OtherEvents, created)
	}

	// A member reads their own entries, and no one else's.
	if a := member.call("GET", "/api/v1/activity/"+memberCreated, nil, nil); a.status != http.StatusOK {
		t.Errorf("member's own entry: %d %s", a.status, a.body)
	}
	notFound := map[string]answer{
		"someone else's entry, as a member": member.call("GET", "/api/v1/activity/"+changed, nil, nil),
		"another workspace's entry":         stranger.call("GET", "/api/v1/activity/"+changed, nil, nil),
		"an unknown id":                     owner.call("GET", "/api/v1/activity/"+randomUUID(), nil, nil),
		"a malformed id":                    owner.call("GET", "/api/v1/activity/not-an-id", nil, nil),
	}
	messages := map[string]bool{}
	for name, a := range notFound {
		var e errorAnswer
		a.decode(t, &e)
		if a.status != http.StatusNotFound || e.Error.Code != activity.ENOTFOUND {
			t.Errorf("%s: %d %s, want 404 not_found", name, a.status, a.body)
		}
		if name != "a malformed id" {
			messages[e.Error.Message] = true
		}
	}
	if len(messages) != 1 {
		t.Errorf("entries out of reach answer different messages: %v", messages)
	}
}

// TestAccessDenied checks that a request refused with 403 writes exactly
// one auth.access_denied event — the caller, what they asked for, why they
// were refused and where from — and that a 404 still writes nothing.
func TestAccessDenied(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Denied")
	viewer := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Locked laptop"}, nil), "asset")

	before := ob.last()
	a := viewer.call("DELETE", "/api/v1/assets/"+asset, nil, map[string]string{"User-Agent": safari})
	var refusal struct {
		Error struct {
			Code, Message string
			RequestID     string `json:"request_id"`
		} `json:"error"`
	}
	a.decode(t, &refusal)
	if a.status != http.StatusForbidden || refusal.Error.Code != activity.EFORBIDDEN {
		t.Fatalf("status %d %s, want 403 forbidden", a.status, a.body)
	}
	events, _ := ob.since(before)
	if len(events) != 1 {
		t.Fatalf("the refusal wrote %d events, want 1", len(events))
	}
	e := events[0]
	if e.Action != "auth.access_denied" || e.Category != activity.CategoryAuth || e.Outcome != activity.OutcomeFailure {
		t.Errorf("event %s %s %s", e.Action, e.Category, e.Outcome)
	}
	if e.Actor.ID != viewer.id || e.Actor.Role != activity.RoleViewer || e.Actor.Type != activity.ActorUser {
		t.Errorf("actor = %+v, want the viewer", e.Actor)
	}
	if e.Resource != (activity.Resource{Type: "asset", ID: asset}) {
		t.Errorf("resource = %+v, want the asset", e.Resource)
	}
	if e.Details["method"] != "DELETE" || e.Details["path"] != "/api/v1/assets/"+asset || e.Details["route"] != "/api/v1/assets/:id" || e.Details["reason"] != refusal.Error.Message {
		t.Errorf("details = %v, want the request and %q", e.Details, refusal.Error.Message)
	}
	if c := e.Context; c.SessionID == "" || c.IP == "" || c.UserAgent != safari || c.RequestID != refusal.Error.RequestID || c.Method != activity.MethodWeb {
		t.Errorf("context = %+v", c)
	}
	if want := "Viewer Person was refused access to asset"; e.Summary() != want {
		t.Errorf("summary = %q, want %q", e.Summary(), want)
	}

	before = ob.last()
	if a := viewer.call("GET", "/api/v1/assets/"+randomUUID(), nil, nil); a.status != http.StatusNotFound {
		t.Fatalf("unknown asset: %d %s", a.status, a.body)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("a 404 wrote %d events", len(events))
	}
}
