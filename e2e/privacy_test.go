package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/privacy"
)

// TestAnonymizeOnRequest runs the API, the relay and the indexer: a member
// with a name and email of her own works, is given another role, and
// appears in a stored report; members and admins may not anonymize her,
// an unknown member is not found and a body with a field is refused; the
// owner anonymizes her, and afterwards no search, export or report
// returns her name or email, her own entries carry her pseudonymous
// address, the request is recorded without her data, and the workspace's
// log still verifies.
func TestAnonymizeOnRequest(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Privacy "+stacktest.RandomID())
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	ada := mustRoleMember(t, m, owner.client, activity.RoleMember)
	name := "Ada Lovelace " + stacktest.RandomID()
	if a := ada.call("PATCH", "/api/v1/me", map[string]string{"name": name}, nil); a.status != http.StatusOK {
		t.Fatalf("rename: %d %s", a.status, a.body)
	}
	mustID(t, ada.call("POST", "/api/v1/assets", map[string]string{"name": "Laptop of " + name}, nil), "asset")
	if a := owner.call("PUT", "/api/v1/users/"+ada.id+"/role", map[string]string{"role": activity.RoleViewer, "note": "asked by " + name}, nil); a.status != http.StatusOK {
		t.Fatalf("role: %d %s", a.status, a.body)
	}
	stacktest.Eventually(t, "her entries searchable", func() bool {
		a := owner.call("GET", "/api/v1/activity?limit=100&action=user.role_changed", nil, nil)
		return a.status == http.StatusOK && bytes.Contains(a.body, []byte(name))
	})
	report := mustID(t, owner.call("POST", "/api/v1/reports", map[string]string{"type": "user", "range": "7d"}, nil), "report")
	if a := owner.call("GET", "/api/v1/reports/"+report, nil, nil); !bytes.Contains(a.body, []byte(name)) {
		t.Fatalf("the report does not name her before: %d %s", a.status, a.body)
	}

	for _, tt := range []struct {
		name   string
		caller member
		id     string
		body   any
		status int
		field  string
	}{
		{"a member", ada, ada.id, nil, http.StatusForbidden, ""},
		{"an admin", admin, ada.id, nil, http.StatusForbidden, ""},
		{"an unknown member", owner, "0190f5a4-0000-7000-8000-00000000dead", nil, http.StatusNotFound, ""},
		{"a body with a field", owner, ada.id, map[string]any{"keep": true}, http.StatusBadRequest, "keep"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.caller.call("POST", "/api/v1/users/"+tt.id+"/anonymize", tt.body, nil)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.field != "" && !bytes.Contains(a.body, []byte(`"field":"`+tt.field+`"`)) {
				t.Errorf("the error does not name %s: %s", tt.field, a.body)
			}
		})
	}

	a := owner.call("POST", "/api/v1/users/"+ada.id+"/anonymize", nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("anonymize: %d %s", a.status, a.body)
	}
	var res privacy.Result
	a.decode(t, &res)
	if res.UserID != ada.id || !strings.HasPrefix(res.Pseudonym, "Former user ") || res.EntriesUpdated < 3 || res.ReportsUpdated != 1 {
		t.Fatalf("anonymized: %+v", res)
	}

	personal := []string{name, ada.email}
	mustNotName := func(what string, body []byte) {
		t.Helper()
		for _, p := range personal {
			if bytes.Contains(body, []byte(p)) {
				t.Errorf("%s still returns %q", what, p)
			}
		}
	}
	// The anonymization itself is recorded, by pseudonym.
	stacktest.Eventually(t, "user.anonymized searchable", func() bool {
		a := owner.call("GET", "/api/v1/activity?limit=10&action=user.anonymized", nil, nil)
		return a.status == http.StatusOK && bytes.Contains(a.body, []byte(res.Pseudonym))
	})
	for _, path := range []string{
		"/api/v1/activity?limit=100",
		"/api/v1/activity?limit=100&q=" + strings.ReplaceAll(name, " ", "+"),
		"/api/v1/users/" + ada.id + "/activity?limit=100",
		"/api/v1/activity/export?format=json",
		"/api/v1/activity/export?format=csv",
		"/api/v1/reports/" + report,
		"/api/v1/analytics/top-users",
	} {
		a := owner.call("GET", path, nil, nil)
		if a.status != http.StatusOK {
			t.Errorf("%s: %d %s", path, a.status, a.body)
			continue
		}
		mustNotName(path, a.body)
	}
	// Her own entries carry her pseudonymous address; nobody else's
	// entries lost theirs.
	var page struct{ Entries []activity.Event }
	owner.call("GET", "/api/v1/activity?limit=100", nil, nil).decode(t, &page)
	for _, e := range page.Entries {
		switch {
		case e.Actor.ID == ada.id && e.Context.IP != "" && !strings.HasPrefix(e.Context.IP, "2001:db8:"):
			t.Errorf("her %s keeps address %s", e.Action, e.Context.IP)
		case e.Actor.ID != ada.id && strings.HasPrefix(e.Context.IP, "2001:db8:"):
			t.Errorf("%s by %s was given her pseudonymous address", e.Action, e.Actor.Name)
		}
	}
	mustVerify(t, m, owner.workspace)
}

// mustVerify checks the workspace's log against its chain and checkpoints
// with the digest key, as fluxera verify does.
func mustVerify(t *testing.T, m *app.Main, workspace string) {
	t.Helper()
	svc, err := m.Audit()
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Verify(t.Context(), workspace, time.Time{}, time.Time{})
	if err != nil || !r.OK || r.Entries == 0 {
		t.Fatalf("the log does not verify: %+v %+v %v", r, r.Problem, err)
	}
}

// TestDeleteUser runs the API, the relay and the indexer: an admin deletes
// a member, whose account and sessions go while her entries stay
// attributed to her; members may not delete, admins may not delete an
// owner, nobody deletes themselves, and bad input is refused. The erasure
// job, on a clock moved past the workspace's 90 days, anonymizes her
// entries, and not a day before; the log still verifies.
func TestDeleteUser(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Deletion "+stacktest.RandomID())
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	other := mustRoleMember(t, m, owner.client, activity.RoleMember)
	ada := mustRoleMember(t, m, owner.client, activity.RoleMember)
	name := "Ada Byron " + stacktest.RandomID()
	if a := ada.call("PATCH", "/api/v1/me", map[string]string{"name": name}, nil); a.status != http.StatusOK {
		t.Fatalf("rename: %d %s", a.status, a.body)
	}
	mustID(t, ada.call("POST", "/api/v1/assets", map[string]string{"name": "Tablet"}, nil), "asset")

	for _, tt := range []struct {
		name   string
		caller member
		id     string
		body   any
		status int
		field  string
	}{
		{"a member", other, ada.id, nil, http.StatusForbidden, ""},
		{"an admin deleting an owner", admin, owner.id, nil, http.StatusForbidden, ""},
		{"oneself", owner, owner.id, nil, http.StatusForbidden, ""},
		{"an unknown member", admin, "0190f5a4-0000-7000-8000-00000000dead", nil, http.StatusNotFound, ""},
		{"a body with a field", admin, ada.id, map[string]any{"force": true}, http.StatusBadRequest, "force"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.caller.call("DELETE", "/api/v1/users/"+tt.id, tt.body, nil)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.field != "" && !bytes.Contains(a.body, []byte(`"field":"`+tt.field+`"`)) {
				t.Errorf("the error does not name %s: %s", tt.field, a.body)
			}
		})
	}

	a := admin.call("DELETE", "/api/v1/users/"+ada.id, nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("delete: %d %s", a.status, a.body)
	}
	var del struct {
		UserID         string    `json:"user_id"`
		DeletedAt      time.Time `json:"deleted_at"`
		AnonymizeAfter time.Time `json:"anonymize_after"`
		SessionsEnded  int64     `json:"sessions_ended"`
	}
	a.decode(t, &del)
	if del.UserID != ada.id || !del.AnonymizeAfter.Equal(del.DeletedAt.AddDate(0, 0, 90)) || del.SessionsEnded < 1 {
		t.Fatalf("deletion: %+v", del)
	}
	// Her account is gone: her session no longer works, she is not listed
	// and not found, and she cannot be deleted twice.
	if a := ada.call("GET", "/api/v1/me", nil, nil); a.status != http.StatusUnauthorized {
		t.Errorf("her session after deletion: %d %s", a.status, a.body)
	}
	if a := owner.call("GET", "/api/v1/users", nil, nil); bytes.Contains(a.body, []byte(ada.id)) || bytes.Contains(a.body, []byte(name)) {
		t.Errorf("she is still listed: %s", a.body)
	}
	for _, call := range [][2]string{{"GET", "/api/v1/users/" + ada.id}, {"DELETE", "/api/v1/users/" + ada.id}} {
		if a := owner.call(call[0], call[1], nil, nil); a.status != http.StatusNotFound {
			t.Errorf("%s after deletion: %d %s", call[1], a.status, a.body)
		}
	}
	if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": ada.email, "password": ada.password}, nil); a.status != http.StatusUnauthorized {
		t.Errorf("her login after deletion: %d %s", a.status, a.body)
	}
	// Her entries stay attributed to her until the 90 days have passed.
	stacktest.Eventually(t, "user.deleted searchable with her name", func() bool {
		a := owner.call("GET", "/api/v1/activity?limit=10&action=user.deleted", nil, nil)
		return a.status == http.StatusOK && bytes.Contains(a.body, []byte(name))
	})
	eraser, err := m.Eraser(func() time.Time { return del.AnonymizeAfter.Add(-24 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	if n, err := eraser.RunDue(t.Context()); err != nil || n != 0 {
		t.Fatalf("a day before: %d erased, %v", n, err)
	}
	if a := owner.call("GET", "/api/v1/users/"+ada.id+"/activity?limit=100", nil, nil); !bytes.Contains(a.body, []byte(name)) || !bytes.Contains(a.body, []byte(ada.email)) {
		t.Fatalf("her entries are no longer attributed to her before the 90 days: %s", a.body)
	}
	eraser.Now = func() time.Time { return del.AnonymizeAfter.Add(time.Minute) }
	if n, err := eraser.RunDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("after 90 days: %d erased, %v", n, err)
	}
	if n, err := eraser.RunDue(t.Context()); err != nil || n != 0 {
		t.Fatalf("again: %d erased, %v", n, err)
	}
	stacktest.Eventually(t, "user.anonymized by the system", func() bool {
		a := owner.call("GET", "/api/v1/activity?limit=10&action=user.anonymized", nil, nil)
		return a.status == http.StatusOK && bytes.Contains(a.body, []byte(`"Former user `))
	})
	for _, path := range []string{"/api/v1/activity?limit=100", "/api/v1/users/" + ada.id + "/activity?limit=100", "/api/v1/activity/export?format=ndjson"} {
		a := owner.call("GET", path, nil, nil)
		if a.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, a.status, a.body)
		}
		for _, p := range []string{name, ada.email} {
			if bytes.Contains(a.body, []byte(p)) {
				t.Errorf("%s still returns %q", path, p)
			}
		}
	}
	mustVerify(t, m, owner.workspace)
}

// TestSubjectAccessExport runs the API, the relay and the indexer: a
// member exports everything recorded about her — her account, sessions,
// tokens, what she did and what others did to her, but nothing of others'
// own work — and an owner runs the same for her on request; others may
// not, an unknown member is not found, an unknown parameter is refused,
// and each export is recorded.
func TestSubjectAccessExport(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Access "+stacktest.RandomID())
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	ada := mustRoleMember(t, m, owner.client, activity.RoleMember)
	tok := mustToken(t, ada.client, "activity:read")
	mustID(t, ada.call("POST", "/api/v1/assets", map[string]string{"name": "Ada's laptop"}, nil), "asset")
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Owner's own desk"}, nil), "asset")
	if a := owner.call("PUT", "/api/v1/users/"+ada.id+"/role", map[string]string{"role": activity.RoleViewer}, nil); a.status != http.StatusOK {
		t.Fatalf("role: %d %s", a.status, a.body)
	}
	stacktest.Eventually(t, "the role change indexed", func() bool {
		a := owner.call("GET", "/api/v1/activity?limit=10&action=user.role_changed", nil, nil)
		return a.status == http.StatusOK && bytes.Contains(a.body, []byte(ada.id))
	})

	type export struct {
		UserID       string `json:"user_id"`
		PersonalData struct {
			Account struct {
				ID, Email, Role string
			} `json:"account"`
			Sessions  []struct{ IP string }           `json:"sessions"`
			APITokens []struct{ Name, Prefix string } `json:"api_tokens"`
		} `json:"personal_data"`
		Entries      []activity.Event `json:"entries"`
		EntriesCount int              `json:"entries_count"`
		Complete     bool             `json:"complete"`
	}
	check := func(t *testing.T, a answer) {
		t.Helper()
		if a.status != http.StatusOK {
			t.Fatalf("export: %d %s", a.status, a.body)
		}
		if !strings.HasPrefix(a.header.Get("Content-Disposition"), "attachment") {
			t.Errorf("Content-Disposition %q", a.header.Get("Content-Disposition"))
		}
		var x export
		a.decode(t, &x)
		acct := x.PersonalData.Account
		if x.UserID != ada.id || acct.ID != ada.id || acct.Email != ada.email || acct.Role != activity.RoleViewer || !x.Complete {
			t.Fatalf("export head: %+v", x)
		}
		if len(x.PersonalData.Sessions) == 0 || x.PersonalData.Sessions[0].IP == "" || len(x.PersonalData.APITokens) != 1 {
			t.Errorf("sessions and tokens: %+v", x.PersonalData)
		}
		if bytes.Contains(a.body, []byte(tok.Token)) {
			t.Errorf("the export holds the token's secret")
		}
		actions := map[string]bool{}
		for _, e := range x.Entries {
			if e.Actor.ID != ada.id && e.Resource.ID != ada.id && !slicesContainsID(e.Related, ada.id) {
				t.Errorf("%s by %s is not about her", e.Action, e.Actor.Name)
			}
			actions[e.Action] = true
		}
		if !actions["asset.created"] || !actions["user.role_changed"] || x.EntriesCount != len(x.Entries) {
			t.Errorf("entries: %v, count %d of %d", actions, x.EntriesCount, len(x.Entries))
		}
		if bytes.Contains(a.body, []byte("Owner's own desk")) {
			t.Errorf("the export holds the owner's own work")
		}
	}
	t.Run("her own", func(t *testing.T) { check(t, ada.call("GET", "/api/v1/me/data-export", nil, nil)) })
	t.Run("with her token", func(t *testing.T) {
		check(t, newClient(t, m).call("GET", "/api/v1/me/data-export", nil, bearer(tok.Token)))
	})
	t.Run("by the owner", func(t *testing.T) { check(t, owner.call("GET", "/api/v1/users/"+ada.id+"/data-export", nil, nil)) })
	for _, tt := range []struct {
		name   string
		caller member
		path   string
		status int
		field  string
	}{
		{"an admin", admin, "/api/v1/users/" + ada.id + "/data-export", http.StatusForbidden, ""},
		{"a member for the owner", ada, "/api/v1/users/" + owner.id + "/data-export", http.StatusForbidden, ""},
		{"an unknown member", owner, "/api/v1/users/0190f5a4-0000-7000-8000-00000000dead/data-export", http.StatusNotFound, ""},
		{"an unknown parameter", ada, "/api/v1/me/data-export?format=csv", http.StatusBadRequest, "format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.caller.call("GET", tt.path, nil, nil)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.field != "" && !bytes.Contains(a.body, []byte(`"field":"`+tt.field+`"`)) {
				t.Errorf("the error does not name %s: %s", tt.field, a.body)
			}
		})
	}
	stacktest.Eventually(t, "the exports recorded", func() bool {
		a := owner.call("GET", "/api/v1/activity?limit=20&action=system.data_exported", nil, nil)
		return a.status == http.StatusOK && bytes.Count(a.body, []byte(`"personal_data"`)) >= 3
	})
}

func slicesContainsID(rs []activity.Resource, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}

// TestAnonymizedExportsAndAnalytics runs the API, the relay and the
// indexer: with anonymize=true an export and the analytics name nobody —
// no name, email, user id or address — while keeping every entry and
// count, each person keeps one pseudonym within one answer and gets
// another in the next; a bad anonymize is refused naming it.
func TestAnonymizedExportsAndAnalytics(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Pseudonyms "+stacktest.RandomID())
	ada := mustRoleMember(t, m, owner.client, activity.RoleMember)
	name := "Ada King " + stacktest.RandomID()
	if a := ada.call("PATCH", "/api/v1/me", map[string]string{"name": name}, nil); a.status != http.StatusOK {
		t.Fatalf("rename: %d %s", a.status, a.body)
	}
	for i := 0; i < 2; i++ {
		mustID(t, ada.call("POST", "/api/v1/assets", map[string]string{"name": fmt.Sprintf("Scanner %d", i)}, nil), "asset")
	}
	if a := owner.call("PUT", "/api/v1/users/"+ada.id+"/role", map[string]string{"role": activity.RoleViewer, "note": "asked by " + name}, nil); a.status != http.StatusOK {
		t.Fatalf("role: %d %s", a.status, a.body)
	}
	var plain answer
	stacktest.Eventually(t, "the role change exported", func() bool {
		plain = owner.call("GET", "/api/v1/activity/export?format=ndjson", nil, nil)
		return plain.status == http.StatusOK && bytes.Contains(plain.body, []byte("user.role_changed"))
	})
	personal := []string{name, ada.email, ada.id, owner.email, owner.id, "127.0.0.1"}
	lines := func(b []byte) []activity.Event {
		var out []activity.Event
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var e activity.Event
			if err := json.Unmarshal(l, &e); err != nil {
				t.Fatalf("line %s: %v", l, err)
			}
			out = append(out, e)
		}
		return out
	}
	want := lines(plain.body)
	var first string
	for run := 0; run < 2; run++ {
		a := owner.call("GET", "/api/v1/activity/export?format=ndjson&anonymize=true", nil, nil)
		if a.status != http.StatusOK {
			t.Fatalf("anonymized export: %d %s", a.status, a.body)
		}
		for _, p := range personal {
			if bytes.Contains(a.body, []byte(p)) {
				t.Errorf("the anonymized export holds %q", p)
			}
		}
		got := lines(a.body)
		if len(got) < len(want) {
			t.Fatalf("%d entries anonymized, %d plain", len(got), len(want))
		}
		// Ada is one pseudonym throughout: as the actor of her assets and
		// as the resource and the note of the role change.
		var hers []string
		for _, e := range got {
			switch e.Action {
			case "asset.created":
				hers = append(hers, e.Actor.ID+"|"+e.Actor.Name)
			case "user.role_changed":
				hers = append(hers, e.Resource.ID+"|"+e.Resource.Name)
				if e.Note != "asked by "+e.Resource.Name {
					t.Errorf("the note %q does not name her pseudonym %q", e.Note, e.Resource.Name)
				}
			}
		}
		if len(hers) != 3 || hers[0] != hers[1] || hers[1] != hers[2] || !strings.HasPrefix(hers[0], "user-") {
			t.Errorf("her pseudonyms within one export: %v", hers)
		}
		if run == 0 {
			first = hers[0]
		} else if hers[0] == first {
			t.Errorf("two exports gave her the same pseudonym %q", first)
		}
	}

	var top struct {
		Total int64 `json:"total"`
		Users []struct {
			ID, Name, Email string
			Count           int64
		} `json:"users"`
	}
	a := owner.call("GET", "/api/v1/analytics/top-users?range=7d&anonymize=true", nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("anonymized top users: %d %s", a.status, a.body)
	}
	for _, p := range personal {
		if bytes.Contains(a.body, []byte(p)) {
			t.Errorf("anonymized top users hold %q: %s", p, a.body)
		}
	}
	a.decode(t, &top)
	var plainTop struct {
		Total int64 `json:"total"`
	}
	owner.call("GET", "/api/v1/analytics/top-users?range=7d", nil, nil).decode(t, &plainTop)
	if top.Total != plainTop.Total || len(top.Users) < 2 || !strings.HasPrefix(top.Users[0].Name, "Former user ") {
		t.Errorf("anonymized top users: %+v, plain total %d", top, plainTop.Total)
	}
	for _, path := range []string{"/api/v1/activity/export?anonymize=maybe", "/api/v1/analytics/top-users?anonymize=1"} {
		a := owner.call("GET", path, nil, nil)
		if a.status != http.StatusBadRequest || !bytes.Contains(a.body, []byte(`"field":"anonymize"`)) {
			t.Errorf("%s: %d %s", path, a.status, a.body)
		}
	}
}
