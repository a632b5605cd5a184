package e2e

import (
	"net/http"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
)

// TestReadingTheLogIsRecordedOncePerSessionAndFilter searches the
// activity log through the API and the console and checks what is
// recorded as system.log_viewed: a search once per session and filter,
// however often it is repeated, paged or spelled; a different filter
// again; the same filter in another session again; and the console's
// Activity Log page as the API's route.
func TestReadingTheLogIsRecordedOncePerSessionAndFilter(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Watched log")
	views := func(since int64) []activity.Event {
		t.Helper()
		events, _ := ob.since(since)
		var out []activity.Event
		for _, e := range events {
			if e.Action == "system.log_viewed" {
				out = append(out, e)
			}
		}
		return out
	}
	search := func(c member, query string) {
		t.Helper()
		if a := c.call("GET", "/api/v1/activity"+query, nil, nil); a.status != http.StatusOK {
			t.Fatalf("GET /api/v1/activity%s: %d %s", query, a.status, a.body)
		}
	}

	before := ob.last()
	search(owner, "?category=asset&action=asset.*")
	got := views(before)
	if len(got) != 1 {
		t.Fatalf("one search recorded %d views", len(got))
	}
	e := got[0]
	params, _ := e.Details["parameters"].(map[string]any)
	if e.Category != activity.CategorySystem || e.Actor.ID != owner.id || e.Resource.Type != "activity_log" || e.Context.SessionID == "" ||
		e.Details["where"] != "GET /api/v1/activity" || e.Details["scope"] != "workspace" || params["category"] != "asset" || params["action"] != "asset.*" {
		t.Errorf("the view is recorded as %+v", e)
	}

	// The same search again, another page size, the same filter spelled
	// otherwise, and a listing that is no view of the log: nothing more.
	for _, q := range []string{"?category=asset&action=asset.*", "?action=asset.*&category=asset&limit=5", "?category=asset,asset&action=asset.*"} {
		search(owner, q)
	}
	if a := owner.call("GET", "/api/v1/me/activity?category=user", nil, nil); a.status != http.StatusOK {
		t.Fatalf("my activity: %d", a.status)
	}
	if got := views(before); len(got) != 1 {
		t.Errorf("repeated searches recorded %d views, want 1", len(got))
	}

	// Another filter is recorded again.
	mark := ob.last()
	search(owner, "?category=license")
	if got := views(mark); len(got) != 1 || got[0].Details["parameters"].(map[string]any)["category"] != "license" {
		t.Errorf("another filter recorded %+v", got)
	}

	// Another session of the same person is recorded again.
	mark = ob.last()
	other := newClient(t, m)
	other.mustLogin(owner.email, owner.password)
	again := member{client: other, id: owner.id}
	search(again, "?category=asset&action=asset.*")
	search(again, "?category=asset&action=asset.*")
	got = views(mark)
	if len(got) != 1 || got[0].Context.SessionID == e.Context.SessionID {
		t.Errorf("another session recorded %d views (%+v)", len(got), got)
	}

	// The console's Activity Log page counts as the same reading.
	b := newBrowser(t, m)
	b.mustSignIn(owner.email, owner.password)
	mark = ob.last()
	for i := 0; i < 2; i++ {
		if p := b.get("/settings/activity-log?category=user"); p.status != http.StatusOK {
			t.Fatalf("the console's log: %d", p.status)
		}
	}
	got = views(mark)
	if len(got) != 1 || got[0].Details["where"] != "console /settings/activity-log" || got[0].Details["parameters"].(map[string]any)["category"] != "user" {
		t.Errorf("the console's log page recorded %+v", got)
	}
}
