package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestLoginIsThrottled checks that an account and an address are refused
// after too many failures, with one message whichever limit was reached and
// whether or not the account exists, and that the refusals are recorded.
func TestLoginIsThrottled(t *testing.T) {
	cfg := MustStack(t)
	cfg.Auth.MaxFailuresPerAccount = 3
	cfg.Auth.MaxFailuresPerIP = 6
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	email, password := MustWorkspace(t, cfg, "Throttle")
	login := func(email, password string) (int, errorAnswer) {
		var e errorAnswer
		a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
		if a.status != 200 {
			a.decode(t, &e)
		}
		return a.status, e
	}
	before := ob.last()
	for i := 0; i < 3; i++ {
		if st, _ := login(email, "wrong"); st != 401 {
			t.Fatalf("failure %d answered %d, want 401", i+1, st)
		}
	}
	st, accountLimit := login(email, password)
	if st != http.StatusTooManyRequests {
		t.Fatalf("the right password after 3 failures answered %d, want 429", st)
	}
	// Three more failures on other, unknown emails reach the address limit
	// (a refused attempt does not count).
	for i := 0; i < 3; i++ {
		if st, _ := login("nobody-"+stacktest.RandomID()+"@example.com", "guess"); st != 401 {
			t.Fatalf("unknown email answered %d, want 401", st)
		}
	}
	st, ipLimit := login("someone-"+stacktest.RandomID()+"@example.com", "guess")
	if st != http.StatusTooManyRequests {
		t.Fatalf("after 6 failures from one address a login answered %d, want 429", st)
	}
	if accountLimit.Error.Message != ipLimit.Error.Message || accountLimit.Error.Code != activity.ETOOMANY {
		t.Errorf("account and address limits answer differently: %+v / %+v", accountLimit.Error, ipLimit.Error)
	}
	events, _ := ob.since(before)
	reasons := map[string]int{}
	for _, e := range events {
		if e.Action != "auth.login_failed" {
			t.Errorf("unexpected %s", e.Action)
		}
		reasons[e.Details["reason"].(string)]++
	}
	if reasons["wrong_password"] != 3 || reasons["throttled"] != 2 || reasons["unknown_email"] != 3 {
		t.Errorf("recorded failures by reason: %v", reasons)
	}
}

// TestInvitationLifecycle covers expiry, revocation, reuse of a token and
// who may invite an owner.
func TestInvitationLifecycle(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Invites")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	invite := func(c *client, email, role string) (answer, domain.NewInvitation) {
		a := c.call("POST", "/api/v1/invitations", map[string]string{"email": email, "role": role}, nil)
		var inv domain.NewInvitation
		if a.status == 201 {
			a.decode(t, &inv)
		}
		return a, inv
	}
	anon := newClient(t, m)
	errOf := func(a answer) errorAnswer {
		var e errorAnswer
		a.decode(t, &e)
		return e
	}

	if a, _ := invite(admin.client, "boss-"+stacktest.RandomID()+"@example.com", "owner"); a.status != 403 {
		t.Errorf("an admin invited an owner: %d", a.status)
	}
	email := "late-" + stacktest.RandomID() + "@example.com"
	_, inv := invite(owner.client, email, "member")
	if a, _ := invite(owner.client, email, "viewer"); a.status != 409 || errOf(a).Error.Field != "email" {
		t.Errorf("a second pending invitation: %d %s", a.status, a.body)
	}
	if a, _ := invite(owner.client, admin.email, "viewer"); a.status != 409 {
		t.Errorf("inviting an existing user: %d %s", a.status, a.body)
	}
	if _, err := ob.db.ExecContext(context.Background(), "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = ?", inv.ID); err != nil {
		t.Fatal(err)
	}
	before := ob.last()
	a := anon.call("POST", "/api/v1/invitations/accept", map[string]string{"token": inv.Token, "password": "long-enough-1"}, nil)
	if e := errOf(a); a.status != 400 || e.Error.Field != "token" || !strings.Contains(e.Error.Message, "expired") {
		t.Errorf("accepting an expired invitation: %d %s", a.status, a.body)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("a refused acceptance wrote %d events", len(events))
	}
	// An expired invitation no longer blocks a new one.
	_, inv = invite(owner.client, email, "member")
	if inv.Token == "" {
		t.Fatal("a new invitation after expiry was refused")
	}
	if a := owner.call("DELETE", "/api/v1/invitations/"+inv.ID, nil, nil); a.status != 204 {
		t.Fatalf("revoke: %d %s", a.status, a.body)
	}
	if a := owner.call("DELETE", "/api/v1/invitations/"+inv.ID, nil, nil); a.status != 409 {
		t.Errorf("revoking twice: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/api/v1/invitations/accept", "/api/v1/invitations/decline"} {
		body := map[string]string{"token": inv.Token}
		if strings.HasSuffix(path, "accept") {
			body["password"] = "long-enough-1"
		}
		if a := anon.call("POST", path, body, nil); a.status != 400 || errOf(a).Error.Field != "token" {
			t.Errorf("%s with a revoked invitation: %d %s", path, a.status, a.body)
		}
	}
	_, inv = invite(owner.client, "short-"+stacktest.RandomID()+"@example.com", "viewer")
	if a := anon.call("POST", "/api/v1/invitations/accept", map[string]string{"token": inv.Token, "password": "short"}, nil); a.status != 400 || errOf(a).Error.Field != "password" {
		t.Errorf("a short password: %d %s", a.status, a.body)
	}
	if a := anon.call("POST", "/api/v1/invitations/accept", map[string]string{"token": inv.Token, "password": "long-enough-1", "name": "Vera Viewer"}, nil); a.status != 201 {
		t.Errorf("accept: %d %s", a.status, a.body)
	}
	if a := anon.call("POST", "/api/v1/invitations/accept", map[string]string{"token": inv.Token, "password": "long-enough-1"}, nil); a.status != 400 {
		t.Errorf("accepting twice: %d %s", a.status, a.body)
	}
	var list struct{ Invitations []domain.Invitation }
	owner.call("GET", "/api/v1/invitations", nil, nil).decode(t, &list)
	statuses := map[string]int{}
	for _, i := range list.Invitations {
		statuses[i.Status]++
	}
	if statuses["expired"] != 1 || statuses["revoked"] != 1 || statuses["accepted"] != 2 || statuses["pending"] != 0 {
		t.Errorf("invitation statuses: %v", statuses)
	}
}

// TestMemberRules covers the rules around roles, status and passwords that
// keep a workspace governable.
func TestMemberRules(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Rules")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)

	cases := []struct {
		name   string
		by     *client
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"owner changes own role", owner.client, "PUT", "/api/v1/users/" + owner.id + "/role", map[string]string{"role": "admin"}, 403, ""},
		{"owner deactivates self", owner.client, "POST", "/api/v1/users/" + owner.id + "/deactivate", nil, 403, ""},
		{"admin demotes the owner", admin.client, "PUT", "/api/v1/users/" + owner.id + "/role", map[string]string{"role": "member"}, 403, ""},
		{"admin makes an owner", admin.client, "PUT", "/api/v1/users/" + member.id + "/role", map[string]string{"role": "owner"}, 403, ""},
		{"admin deactivates the owner", admin.client, "POST", "/api/v1/users/" + owner.id + "/deactivate", nil, 403, ""},
		{"unknown role", owner.client, "PUT", "/api/v1/users/" + member.id + "/role", map[string]string{"role": "superuser"}, 400, "role"},
		{"role of an unknown user", owner.client, "PUT", "/api/v1/users/" + randomUUID() + "/role", map[string]string{"role": "viewer"}, 404, ""},
		{"malformed user id", owner.client, "PUT", "/api/v1/users/not-an-id/role", map[string]string{"role": "viewer"}, 404, ""},
		{"email taken", member.client, "PATCH", "/api/v1/me", map[string]string{"email": admin.email}, 409, "email"},
		{"bad email", member.client, "PATCH", "/api/v1/me", map[string]string{"email": "not an email"}, 400, "email"},
		{"empty name", member.client, "PATCH", "/api/v1/me", map[string]string{"name": "  "}, 400, "name"},
		{"wrong current password", member.client, "POST", "/api/v1/me/password", map[string]string{"current_password": "nope", "new_password": "a-new-password"}, 400, "current_password"},
		{"short new password", member.client, "POST", "/api/v1/me/password", map[string]string{"current_password": member.password, "new_password": "short"}, 400, "new_password"},
		{"token without name", member.client, "POST", "/api/v1/tokens", map[string]string{"name": ""}, 400, "name"},
		{"token for ten thousand days", member.client, "POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"activity:read"}, "expires_in_days": 10000}, 400, "expires_in_days"},
		{"revoke another member's token", member.client, "DELETE", "/api/v1/tokens/" + randomUUID(), nil, 404, ""},
		{"settings with a bad time zone", owner.client, "PATCH", "/api/v1/settings", map[string]string{"time_zone": "Mars/Olympus"}, 400, "time_zone"},
		{"settings with hours backwards", owner.client, "PATCH", "/api/v1/settings", map[string]string{"working_hours_start": "18:00", "working_hours_end": "09:00"}, 400, "working_hours_end"},
		{"settings with a bad day", owner.client, "PATCH", "/api/v1/settings", map[string]any{"working_days": []string{"mon", "funday"}}, 400, "working_days"},
		{"settings by a member", member.client, "PATCH", "/api/v1/settings", map[string]string{"name": "Mine"}, 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.by.call(c.method, c.path, c.body, nil)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			var e errorAnswer
			a.decode(t, &e)
			if e.Error.Field != c.field || e.Error.Message == "" {
				t.Errorf("error %+v, want field %q and a message", e.Error, c.field)
			}
		})
	}

	// A password change ends the member's other sessions, not this one.
	other := newClient(t, m)
	other.mustLogin(member.email, member.password)
	if a := member.call("POST", "/api/v1/me/password", map[string]string{"current_password": member.password, "new_password": "brand-new-password"}, nil); a.status != 204 {
		t.Fatalf("change password: %d %s", a.status, a.body)
	}
	if st := other.call("GET", "/api/v1/me", nil, nil).status; st != 401 {
		t.Errorf("the member's other session answers %d after a password change", st)
	}
	if st := member.call("GET", "/api/v1/me", nil, nil).status; st != 200 {
		t.Errorf("the session that changed the password answers %d", st)
	}
	newClient(t, m).mustLogin(member.email, "brand-new-password")

	// Deactivation that keeps the API tokens ends sessions and stops the
	// tokens; activation lets the member and the tokens in again.
	var tok domain.NewAPIToken
	member.call("POST", "/api/v1/tokens", map[string]any{"name": "script", "scopes": []string{"admin"}}, nil).decode(t, &tok)
	bearer := map[string]string{"Authorization": "Bearer " + tok.Token}
	if st := newClient(t, m).call("GET", "/api/v1/me", nil, bearer).status; st != 200 {
		t.Fatalf("a fresh token answers %d", st)
	}
	if a := admin.call("POST", "/api/v1/users/"+member.id+"/deactivate", map[string]bool{"keep_api_tokens": true}, nil); a.status != 200 {
		t.Fatalf("deactivate: %d %s", a.status, a.body)
	}
	if st := newClient(t, m).call("GET", "/api/v1/me", nil, bearer).status; st != 401 {
		t.Errorf("a deactivated member's token answers %d", st)
	}
	if st := member.call("GET", "/api/v1/me", nil, nil).status; st != 401 {
		t.Errorf("a deactivated member's session answers %d", st)
	}
	admin.call("POST", "/api/v1/users/"+member.id+"/activate", nil, nil)
	if st := newClient(t, m).call("GET", "/api/v1/me", nil, bearer).status; st != 200 {
		t.Errorf("a reactivated member's token answers %d", st)
	}
	// A member sees only their own tokens; an admin sees everyone's.
	var mine, all struct{ Tokens []domain.APIToken }
	member.mustLogin(member.email, "brand-new-password")
	member.call("GET", "/api/v1/tokens", nil, nil).decode(t, &mine)
	admin.call("GET", "/api/v1/tokens", nil, nil).decode(t, &all)
	if len(mine.Tokens) != 1 || len(all.Tokens) < 1 || strings.Contains(string(member.call("GET", "/api/v1/tokens", nil, nil).body), tok.Token) {
		t.Errorf("token lists: member %d, admin %d", len(mine.Tokens), len(all.Tokens))
	}
}

// TestAssetRulesAndImages covers the asset lifecycle's refusals and the
// image policy; none of the refusals writes anything.
func TestAssetRulesAndImages(t *testing.T) {
	cfg := MustStack(t)
	cfg.ImageMaxBytes = 4096
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Assets")
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "ThinkPad", "asset_tag": "T-1"}, nil), "asset")
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "ThinkPad 2", "asset_tag": "T-2"}, nil), "asset")
	owner.call("POST", "/api/v1/users/"+member.id+"/deactivate", nil, nil)
	lost := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Phone", "status": "lost"}, nil), "asset")
	active := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	path := "/api/v1/assets/" + asset

	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"duplicate tag on edit", "PATCH", path, map[string]string{"asset_tag": "T-2"}, 409, "asset_tag"},
		{"status in an edit", "PATCH", path, map[string]string{"status": "lost"}, 400, "status"},
		{"bad value", "PATCH", path, map[string]string{"value": "12,50"}, 400, "value"},
		{"bad purchase date", "PATCH", path, map[string]string{"purchase_date": "2026-02-30"}, 400, "purchase_date"},
		{"created as assigned", "POST", "/api/v1/assets", map[string]string{"name": "X", "status": "assigned"}, 400, "status"},
		{"status set to assigned", "PUT", path + "/status", map[string]string{"status": "assigned"}, 400, "status"},
		{"unknown status", "PUT", path + "/status", map[string]string{"status": "broken"}, 400, "status"},
		{"assign to nobody", "POST", path + "/assign", map[string]string{"user_id": ""}, 400, "user_id"},
		{"assign to an unknown user", "POST", path + "/assign", map[string]string{"user_id": randomUUID()}, 404, "user_id"},
		{"assign to a deactivated user", "POST", path + "/assign", map[string]string{"user_id": member.id}, 409, "user_id"},
		{"assign a lost asset", "POST", "/api/v1/assets/" + lost + "/assign", map[string]string{"user_id": active.id}, 409, "status"},
		{"unassign an unassigned asset", "POST", path + "/unassign", nil, 409, ""},
		{"maintenance without a date", "POST", path + "/maintenance", map[string]string{"description": "x"}, 400, "scheduled_for"},
		{"maintenance without a description", "POST", path + "/maintenance", map[string]string{"scheduled_for": "2027-01-01"}, 400, "description"},
		{"complete unknown maintenance", "POST", path + "/maintenance/" + randomUUID() + "/complete", nil, 404, ""},
		{"note too long", "DELETE", path, map[string]string{"note": strings.Repeat("n", 2001)}, 400, "note"},
		{"export as something else", "GET", "/api/v1/assets/export?format=xlsx", nil, 400, "format"},
		{"export with an unknown parameter", "GET", "/api/v1/assets/export?since=1", nil, 400, "since"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := ob.last()
			a := owner.call(c.method, c.path, c.body, nil)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			var e errorAnswer
			a.decode(t, &e)
			if e.Error.Field != c.field || e.Error.Message == "" {
				t.Errorf("error %+v, want field %q", e.Error, c.field)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a refused request wrote %d events", len(events))
			}
		})
	}

	uploads := []struct {
		name, file string
		data       []byte
		status     int
	}{
		{"not an image", "notes.png", []byte("just some text, not a picture"), 400},
		{"too large", "big.png", append(append([]byte{}, png...), bytes.Repeat([]byte{0}, 5000)...), 400},
		{"empty", "empty.png", nil, 400},
	}
	for _, u := range uploads {
		t.Run("upload "+u.name, func(t *testing.T) {
			before := ob.last()
			a := owner.upload(path+"/images", u.file, u.data, nil)
			if a.status != u.status {
				t.Fatalf("status %d, want %d: %s", a.status, u.status, a.body)
			}
			var e errorAnswer
			a.decode(t, &e)
			if e.Error.Message == "" {
				t.Errorf("no message: %s", a.body)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a refused upload wrote %d events", len(events))
			}
		})
	}
	if a := owner.call("POST", path+"/images", map[string]string{"file": "x"}, nil); a.status != 415 {
		t.Errorf("an image sent as JSON: %d %s", a.status, a.body)
	}
	img := mustID(t, owner.upload(path+"/images", "front.png", png, nil), "image")
	a := active.call("GET", path+"/images/"+img, nil, nil)
	if a.status != 200 || !bytes.Equal(a.body, png) || a.header.Get("Content-Type") != "image/png" {
		t.Errorf("download: %d %q %q", a.status, a.header.Get("Content-Type"), a.body)
	}
}

func randomUUID() string { return activity.NewEventID() }

// TestForwardedForComesOnlyFromTrustedProxies checks the address an event
// records: the peer's, unless the peer is a configured proxy.
func TestForwardedForComesOnlyFromTrustedProxies(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted bool
		want    string
	}{{"untrusted peer", false, "127.0.0.1"}, {"trusted proxy", true, "203.0.113.9"}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := MustStack(t)
			if tt.trusted {
				cfg.HTTP.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}
			m := MustStart(t, cfg, app.RoleAPI)
			ob := mustOutbox(t, cfg)
			owner := mustOwner(t, m, cfg, "Proxy")
			before := ob.last()
			owner.call("POST", "/api/v1/assets", map[string]string{"name": "Router"}, map[string]string{"X-Forwarded-For": "203.0.113.9"})
			events, _ := ob.since(before)
			if len(events) != 1 || events[0].Context.IP != tt.want {
				t.Fatalf("recorded %+v, want one event from %s", events, tt.want)
			}
		})
	}
}

// postCSV sends a CSV body.
func (c *client) postCSV(path, body string) answer {
	c.tb.Helper()
	return c.postCSVWith(path, body, nil)
}

// postCSVWith sends a CSV body with the given headers.
func (c *client) postCSVWith(path, body string, header map[string]string) answer {
	c.tb.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("User-Agent", "fluxera-test/1.0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.send(req)
}

// TestAssetImport checks that an import lands whole, each asset recorded
// with the import method, or not at all, with the faulty row named.
func TestAssetImport(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Import")
	mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Old", "asset_tag": "T-9"}, nil), "asset")

	refused := []struct {
		name, body string
		status     int
		field      string
	}{
		{"bad value in row 2", "name,value,currency\nA,10.00,EUR\nB,ten,EUR\n", 400, "rows[1].value"},
		{"bad date in row 1", "name,purchase_date\nA,2026-13-01\n", 400, "rows[0].purchase_date"},
		{"tag already in use", "name,asset_tag\nA,T-1\nB,T-9\n", 409, "rows[1].asset_tag"},
		{"tag twice in the file", "name,asset_tag\nA,T-1\nB,T-1\n", 409, "rows[1].asset_tag"},
		{"unknown column", "name,colour\nA,red\n", 400, "colour"},
		{"no name column", "asset_tag\nT-5\n", 400, "name"},
		{"ragged row", "name,serial\nA\n", 400, ""},
		{"no rows", "name\n", 400, "rows"},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			before := ob.last()
			a := owner.postCSV("/api/v1/assets/import", r.body)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != r.status || e.Error.Field != r.field {
				t.Fatalf("%d %s, want %d with field %q", a.status, a.body, r.status, r.field)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a refused import wrote %d events", len(events))
			}
		})
	}
	var list struct{ Assets []domain.Asset }
	owner.call("GET", "/api/v1/assets", nil, nil).decode(t, &list)
	if len(list.Assets) != 1 {
		t.Fatalf("refused imports left %d assets, want the 1 made before", len(list.Assets))
	}

	before := ob.last()
	a := owner.postCSV("/api/v1/assets/import", "name,asset_tag,value,currency,purchase_date,note\nMonitor A,M-1,199.00,eur,2026-01-02,batch\nMonitor B,M-2,,,,\n")
	if a.status != 201 {
		t.Fatalf("import: %d %s", a.status, a.body)
	}
	events, _ := ob.since(before)
	if len(events) != 2 {
		t.Fatalf("import wrote %d events, want 2", len(events))
	}
	for i, e := range events {
		if e.Action != "asset.created" || e.Context.Method != activity.MethodImport || e.Details["import_id"] != events[0].Details["import_id"] || e.Details["import_row"] != float64(i+1) {
			t.Errorf("imported event %d: %s method %s details %v", i, e.Action, e.Context.Method, e.Details)
		}
	}
	wantChange(t, events[0], "currency", "", "EUR")
	if st := owner.call("POST", "/api/v1/assets/import", map[string]string{"name": "x"}, nil).status; st != 415 {
		t.Errorf("a JSON import answered %d, want 415", st)
	}
}
