package e2e

import (
	"bytes"
	"net/http"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestSignupIsOffByDefault checks that a platform started with the
// default configuration takes no sign-ups: 404 with a JSON error, and
// nothing written.
func TestSignupIsOffByDefault(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	before := ob.last()
	a := newClient(t, m).call("POST", "/api/v1/signup", signupBody("Closed", "closed-"+stacktest.RandomID()+"@example.com", "long-enough-1"), nil)
	var e errorAnswer
	a.decode(t, &e)
	if a.status != http.StatusNotFound || e.Error.Code != activity.ENOTFOUND || e.Error.Message == "" {
		t.Errorf("a sign-up on a platform without them: %d %s, want 404 with a message", a.status, a.body)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("the refused sign-up wrote %d events", len(events))
	}
}

func signupBody(workspace, email, password string) map[string]string {
	return map[string]string{"workspace_name": workspace, "time_zone": "Europe/Madrid", "owner_email": email, "owner_name": "Sofia Signup", "password": password}
}

// TestSignup signs up with FLUXERA_SIGNUP_ENABLED on: bad input is refused
// naming the field and counts for nothing; a sign-up creates a workspace
// whose owner signs in, recorded in the workspace and the platform stream;
// a second sign-up with the same email is answered as the first, creates
// nothing and changes no password; and an address is refused once it has
// signed up as often as allowed.
func TestSignup(t *testing.T) {
	cfg := MustStack(t)
	cfg.SignupEnabled, cfg.Signup.MaxPerAddress = true, 3
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	anon := newClient(t, m)
	email := "signup-" + stacktest.RandomID() + "@example.com"

	for _, tc := range []struct {
		name, field string
		edit        func(b map[string]string)
	}{
		{"no workspace name", "workspace_name", func(b map[string]string) { delete(b, "workspace_name") }},
		{"workspace name with a control character", "workspace_name", func(b map[string]string) { b["workspace_name"] = "a\x1bb" }},
		{"no email", "owner_email", func(b map[string]string) { b["owner_email"] = "" }},
		{"not an email", "owner_email", func(b map[string]string) { b["owner_email"] = "someone" }},
		{"no owner name", "owner_name", func(b map[string]string) { b["owner_name"] = " " }},
		{"short password", "password", func(b map[string]string) { b["password"] = "short" }},
		{"huge password", "password", func(b map[string]string) { b["password"] = string(bytes.Repeat([]byte("x"), 10_000)) }},
		{"unknown time zone", "time_zone", func(b map[string]string) { b["time_zone"] = "Mars/Olympus" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := signupBody("Refused", email, "long-enough-1")
			tc.edit(body)
			before := ob.last()
			a := anon.call("POST", "/api/v1/signup", body, nil)
			var e errorAnswer
			a.decode(t, &e)
			if a.status != http.StatusBadRequest || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%d %s, want 400 about %s", a.status, a.body, tc.field)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a refused sign-up wrote %d events", len(events))
			}
		})
	}

	// The first sign-up of this address: it creates the workspace.
	before := ob.last()
	first := anon.call("POST", "/api/v1/signup", signupBody("Acme Robotics", email, "first-password"), nil)
	if first.status != http.StatusAccepted {
		t.Fatalf("sign-up: %d %s", first.status, first.body)
	}
	events, _ := ob.since(before)
	var wsID string
	for _, e := range events {
		if e.Action == "user.created" {
			wsID = e.WorkspaceID
		}
	}
	got := map[string]int{}
	for _, e := range events {
		switch {
		case e.Action == "auth.signup" && e.WorkspaceID == activity.PlatformWorkspace:
			got["platform auth.signup"]++
		case e.WorkspaceID != wsID:
			got["elsewhere "+e.Action]++
		default:
			got[e.Action]++
		}
		if e.Action == "auth.signup" && (e.Resource.ID != wsID || e.Resource.Name != "Acme Robotics" || e.Actor.Email != email || e.Context.IP == "") {
			t.Errorf("auth.signup records %+v %+v %+v", e.Resource, e.Actor, e.Context)
		}
	}
	if len(events) != 3 || got["user.created"] != 1 || got["auth.signup"] != 1 || got["platform auth.signup"] != 1 {
		t.Errorf("the sign-up recorded %v, want user.created and auth.signup in the new workspace and auth.signup in the platform's", got)
	}
	owner := newClient(t, m)
	owner.mustLogin(email, "first-password")
	var me struct {
		Role        string
		WorkspaceID string `json:"workspace_id"`
	}
	owner.call("GET", "/api/v1/me", nil, nil).decode(t, &me)
	if me.Role != activity.RoleOwner || me.WorkspaceID != wsID {
		t.Errorf("the new owner is %+v, want the owner of %s", me, wsID)
	}

	// The second, with the same email: the same answer, and nothing made.
	before = ob.last()
	second := anon.call("POST", "/api/v1/signup", signupBody("Acme Copy", email, "second-password"), nil)
	if second.status != first.status || !bytes.Equal(second.body, first.body) {
		t.Errorf("a sign-up with a taken email answered %d %s, a new one %d %s", second.status, second.body, first.status, first.body)
	}
	events, _ = ob.since(before)
	if len(events) != 1 || events[0].Action != "auth.signup_failed" || events[0].WorkspaceID != activity.PlatformWorkspace ||
		events[0].Outcome != activity.OutcomeFailure || events[0].Details["reason"] != "email_taken" {
		t.Errorf("the sign-up with a taken email recorded %+v, want one auth.signup_failed (email_taken) in the platform's stream", events)
	}
	if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "second-password"}, nil); a.status != http.StatusUnauthorized {
		t.Errorf("signing in with the second sign-up's password: %d", a.status)
	}
	newClient(t, m).mustLogin(email, "first-password")

	// The third is the last this address may make.
	if a := anon.call("POST", "/api/v1/signup", signupBody("Third", "third-"+stacktest.RandomID()+"@example.com", "long-enough-1"), nil); a.status != http.StatusAccepted {
		t.Fatalf("the third sign-up: %d %s", a.status, a.body)
	}
	before = ob.last()
	late := "late-" + stacktest.RandomID() + "@example.com"
	a := anon.call("POST", "/api/v1/signup", signupBody("Too Many", late, "long-enough-1"), nil)
	var e errorAnswer
	a.decode(t, &e)
	if a.status != http.StatusTooManyRequests || e.Error.Code != activity.ETOOMANY || e.Error.Message == "" {
		t.Errorf("the fourth sign-up from one address: %d %s, want 429", a.status, a.body)
	}
	events, _ = ob.since(before)
	if len(events) != 1 || events[0].Action != "auth.signup_failed" || events[0].Details["reason"] != "throttled" || events[0].Actor.Email != late {
		t.Errorf("the throttled sign-up recorded %+v, want one auth.signup_failed (throttled)", events)
	}
	if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": late, "password": "long-enough-1"}, nil); a.status != http.StatusUnauthorized {
		t.Errorf("the throttled sign-up's owner signs in: %d", a.status)
	}
}
