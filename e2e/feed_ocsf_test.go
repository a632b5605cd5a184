package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/ocsf"
	"github.com/fluxera/activity/ocsf/ocsftest"
)

// TestTheFeedGivesOCSFEvents reads the pull feed with format=ocsf beside
// the plain feed: the same entries in the same order and the same cursor,
// each entry as the OCSF event the OCSF mapping makes of it, valid against
// the OCSF schema; a format the feed does not have is refused naming it.
func TestTheFeedGivesOCSFEvents(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "OCSF feed "+stacktest.RandomID())
	if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": owner.email, "password": "wrong-" + owner.password}, nil); a.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", a.status, a.body)
	}
	for i := range 3 {
		mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": fmt.Sprintf("Feed laptop %d", i)}, nil), "asset")
	}

	// The plain feed, once it holds the three assets.
	var plain []struct {
		ID, WorkspaceID, Action string
	}
	var plainNext string
	stacktest.Eventually(t, "the feed gives the three assets", func() bool {
		entries, next := readFeed(t, owner, "", 2)
		plain, plainNext = plain[:0], next
		n := 0
		for _, e := range entries {
			plain = append(plain, struct{ ID, WorkspaceID, Action string }{e.ID, e.WorkspaceID, e.Action})
			if e.Action == "asset.created" {
				n++
			}
		}
		return n == 3
	})

	// The same feed as OCSF, two entries a page.
	var lines [][]byte
	after := ""
	for {
		a := owner.call("GET", "/api/v1/activity/feed?format=ocsf&limit=2&after="+url.QueryEscape(after), nil, nil)
		if a.status != http.StatusOK {
			t.Fatalf("feed format=ocsf: %d %s", a.status, a.body)
		}
		var page struct {
			Entries []json.RawMessage `json:"entries"`
			Next    string            `json:"next"`
			More    bool              `json:"more"`
		}
		a.decode(t, &page)
		for _, raw := range page.Entries {
			lines = append(lines, raw)
		}
		after = page.Next
		if !page.More {
			break
		}
	}
	if after != plainNext {
		t.Errorf("the OCSF feed ends at cursor %q, the plain one at %q", after, plainNext)
	}
	if len(lines) != len(plain) {
		t.Fatalf("the OCSF feed gave %d entries, the plain one %d", len(lines), len(plain))
	}
	for i, raw := range lines {
		var o ocsf.Event
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("entry %d: %v: %s", i, err, raw)
		}
		if o.Metadata.UID != plain[i].ID || o.Metadata.EventCode != plain[i].Action || o.Metadata.TenantUID != plain[i].WorkspaceID {
			t.Errorf("entry %d is %s %s of %s, the plain feed's %+v", i, o.Metadata.UID, o.Metadata.EventCode, o.Metadata.TenantUID, plain[i])
		}
		if o.ClassUID == 0 || o.TypeUID != o.ClassUID*100+o.ActivityID {
			t.Errorf("entry %d (%s) has class %d and type %d", i, o.Metadata.EventCode, o.ClassUID, o.TypeUID)
		}
	}
	t.Logf("%d OCSF entries valid:\n%s", len(lines), ocsftest.MustValidate(t, lines))

	for _, bad := range []string{"csv", "ocsv", ""} {
		a := owner.call("GET", "/api/v1/activity/feed?format="+bad, nil, nil)
		var e errorAnswer
		a.decode(t, &e)
		if a.status != http.StatusBadRequest || e.Error.Field != "format" {
			t.Errorf("feed format=%q: %d %s, want 400 naming format", bad, a.status, a.body)
		}
	}
}
