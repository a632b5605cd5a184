package e2e

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

var entryInstants = regexp.MustCompile(`<time datetime="([^"]+)"`)

// actions are the actions a listing page shows, in its order.
func (p page) actions() []string {
	var out []string
	for _, m := range entryAction.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// newestFirst reports whether the page's entries run from newest to oldest.
func (p page) newestFirst() bool {
	var times []string
	for _, m := range entryInstants.FindAllStringSubmatch(p.body, -1) {
		times = append(times, m[1])
	}
	return slices.IsSortedFunc(times, func(a, b string) int { return strings.Compare(b, a) })
}

// TestConsoleHistories walks the histories of the console: an asset's and
// a license's History tabs, a user's Activity tab that answers "why can't
// this user log in?", and what a member sees: their own activity, their
// own actions on an asset with a word that says so, and a refusal, shown
// and recorded, of the workspace's log and of another user's activity.
func TestConsoleHistories(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Console History")
	locked := mustRoleMember(t, m, owner.client, activity.RoleMember)
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)

	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Laptop 7", "location": "Berlin"}, nil), "asset")
	if a := owner.call("POST", "/api/v1/assets/"+asset+"/assign", map[string]string{"user_id": locked.id}, nil); a.status != http.StatusOK {
		t.Fatalf("assign: %d %s", a.status, a.body)
	}
	license := mustID(t, owner.call("POST", "/api/v1/licenses", map[string]any{"name": "Figma", "seats": 2}, nil), "license")
	if a := owner.call("POST", "/api/v1/licenses/"+license+"/assign", map[string]string{"user_id": locked.id}, nil); a.status != http.StatusOK {
		t.Fatalf("assign seat: %d %s", a.status, a.body)
	}
	if a := member.call("PATCH", "/api/v1/assets/"+asset, map[string]string{"location": "Lyon"}, nil); a.status != http.StatusOK {
		t.Fatalf("member's update: %d %s", a.status, a.body)
	}
	mustID(t, member.call("POST", "/api/v1/assets", map[string]string{"name": "Member's monitor"}, nil), "asset")
	if a := owner.call("POST", "/api/v1/users/"+locked.id+"/deactivate", map[string]any{"keep_api_tokens": false}, nil); a.status != http.StatusOK {
		t.Fatalf("deactivate: %d %s", a.status, a.body)
	}
	if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": locked.email, "password": locked.password}, nil); a.status == http.StatusOK {
		t.Fatal("a deactivated member signed in")
	}
	stacktest.Eventually(t, "the workspace's activity is indexed", func() bool {
		var page searchapi.EventPage
		owner.call("GET", "/api/v1/activity?limit=200&action=auth.login_failed,user.deactivated,license.assigned", nil, nil).decode(t, &page)
		return page.Total == 3
	})

	b := newBrowser(t, m)
	b.mustSignIn(owner.email, owner.password)

	t.Run("asset history", func(t *testing.T) {
		if p := b.get("/assets"); !strings.Contains(p.body, `href="/assets/`+asset+`/history">Laptop 7</a>`) {
			t.Errorf("the asset list does not lead to the history:\n%s", p.body)
		}
		if p := b.get("/assets/" + asset); p.status != http.StatusSeeOther || p.header.Get("Location") != "/assets/"+asset+"/history" {
			t.Errorf("the asset opens on %d %q", p.status, p.header.Get("Location"))
		}
		p := b.get("/assets/" + asset + "/history")
		if got := p.actions(); !slices.Equal(got, []string{"asset.updated", "asset.assigned", "asset.created"}) {
			t.Errorf("history %v", got)
		}
		if !p.newestFirst() || !strings.Contains(p.body, `aria-current="page">History</a>`) {
			t.Error("the history is not the History tab, newest first")
		}
		d := b.get("/activity/"+p.ids()[0], "HX-Request", "true")
		if !strings.Contains(d.body, `<td class="before">Berlin</td><td class="after">Lyon</td>`) || !strings.Contains(d.body, member.email) {
			t.Errorf("who changed the asset, and what, is not shown:\n%s", d.body)
		}
	})

	t.Run("license history", func(t *testing.T) {
		p := b.get("/licenses/" + license + "/history")
		if got := p.actions(); !slices.Equal(got, []string{"license.assigned", "license.created"}) {
			t.Errorf("history %v", got)
		}
		if !p.newestFirst() {
			t.Error("not newest first")
		}
	})

	t.Run("why can't this user log in", func(t *testing.T) {
		if p := b.get("/users"); !strings.Contains(p.body, `href="/users/`+locked.id+`/activity"`) {
			t.Error("the user list does not lead to the Activity tab")
		}
		p := b.get("/users/" + locked.id + "/activity")
		got := p.actions()
		for _, want := range []string{"auth.login_failed", "user.deactivated", "asset.assigned", "license.assigned", "auth.login"} {
			if !slices.Contains(got, want) {
				t.Errorf("the user's activity lacks %s: %v", want, got)
			}
		}
		if got[0] != "auth.login_failed" || got[1] != "user.deactivated" || !p.newestFirst() {
			t.Errorf("not newest first: %v", got)
		}
		if !strings.Contains(p.body, `<strong class="badge bad">Deactivated</strong>`) {
			t.Error("the page does not say the user is deactivated")
		}
	})

	t.Run("member", func(t *testing.T) {
		mb := newBrowser(t, m)
		mb.mustSignIn(member.email, member.password)
		if p := mb.get("/"); p.header.Get("Location") != "/me/activity" {
			t.Errorf("a member's home is %q", p.header.Get("Location"))
		}
		mine := mb.get("/me/activity")
		if mine.status != http.StatusOK || strings.Contains(mine.body, `href="/settings/activity-log"`) {
			t.Fatalf("my activity: %d", mine.status)
		}
		var page searchapi.EventPage
		member.call("GET", "/api/v1/me/activity?limit=200", nil, nil).decode(t, &page)
		var want []string
		for _, e := range page.Entries {
			want = append(want, e.ID)
		}
		if got := mine.ids(); len(got) == 0 || !slices.Equal(got, want) {
			t.Errorf("my activity shows %v, the API %v", got, want)
		}
		if p := mb.get("/users/" + member.id + "/activity"); p.status != http.StatusOK || len(p.ids()) == 0 {
			t.Errorf("own Activity tab: %d, %d entries", p.status, len(p.ids()))
		}
		// On an asset's history, their own actions, and a word that says so.
		p := mb.get("/assets/" + asset + "/history")
		if got := p.actions(); !slices.Equal(got, []string{"asset.updated"}) || !strings.Contains(p.body, "sees only your own actions on this asset") {
			t.Errorf("a member's asset history: %v", got)
		}
		for _, path := range []string{"/settings/activity-log?date=7d", "/users/" + locked.id + "/activity"} {
			before := ob.last()
			p := mb.get(path)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "your role (member) may") || !strings.Contains(p.body, `role="alert"`) {
				t.Errorf("%s: %d\n%s", path, p.status, p.body)
			}
			events, _ := ob.since(before)
			if len(events) != 1 || events[0].Action != "auth.access_denied" || events[0].Actor.ID != member.id {
				t.Errorf("%s: the refusal wrote %d events, want one auth.access_denied by the member", path, len(events))
			}
		}
	})
}
