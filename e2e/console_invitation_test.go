package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestConsoleAnswersInvitationLinks opens invitation links as the invited
// people do: the page asks for a password, refuses two that differ or one
// too short with the field named and nothing accepted, joins and signs the
// new member in, refuses the link a second time, and declines another
// invitation, each answer recorded by the API's own service.
func TestConsoleAnswersInvitationLinks(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Console Invitations")
	ob := mustOutbox(t, cfg)
	invite := func(email string) string {
		t.Helper()
		a := owner.call("POST", "/api/v1/invitations", map[string]string{"email": email, "role": "member", "name": "Ines Invited"}, nil)
		if a.status != http.StatusCreated {
			t.Fatalf("invite: %d %s", a.status, a.body)
		}
		var inv struct{ Token string }
		a.decode(t, &inv)
		return inv.Token
	}
	email := "ines-" + stacktest.RandomID() + "@example.com"
	token := invite(email)

	b := newBrowser(t, m)
	if p := b.get("/invitations/accept"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "carries no invitation") {
		t.Errorf("a link without a token: %d", p.status)
	}
	form := b.get("/invitations/accept?token=" + url.QueryEscape(token))
	if form.status != http.StatusOK || !strings.Contains(form.body, `action="/invitations/accept"`) || !strings.Contains(form.body, `action="/invitations/decline"`) {
		t.Fatalf("the invitation page: %d\n%s", form.status, form.body)
	}
	csrf := form.csrf(t)
	before := ob.last()
	answer := func(password, confirm string) page {
		return b.post("/invitations/accept", url.Values{"csrf": {csrf}, "token": {token}, "name": {""}, "password": {password}, "confirm": {confirm}})
	}
	if p := answer("a-long-password", "another-password"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "the two passwords differ") {
		t.Errorf("passwords that differ: %d", p.status)
	}
	if p := answer("short", "short"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "at least 8 characters") {
		t.Errorf("a short password: %d", p.status)
	}
	if p := b.post("/invitations/accept", url.Values{"token": {token}, "password": {"a-long-password"}, "confirm": {"a-long-password"}}); p.status != http.StatusForbidden {
		t.Errorf("a form without its token: %d", p.status)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("refused answers wrote %d events", len(events))
	}

	p := answer("a-long-password", "a-long-password")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/" {
		t.Fatalf("accept: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if mine := b.get("/me/activity"); mine.status != http.StatusOK || !strings.Contains(mine.body, "Ines Invited") {
		t.Errorf("the new member is not signed in: %d", mine.status)
	}
	var actions []string
	events, _ := ob.since(before)
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "invitation.accepted,auth.login" {
		t.Errorf("accepting recorded %v", actions)
	}
	if again := answer("a-long-password", "a-long-password"); again.status != http.StatusBadRequest {
		t.Errorf("the link worked twice: %d", again.status)
	}

	declined := invite("dora-" + stacktest.RandomID() + "@example.com")
	other := newBrowser(t, m)
	page := other.get("/invitations/accept?token=" + url.QueryEscape(declined))
	if d := other.post("/invitations/decline", url.Values{"csrf": {page.csrf(t)}, "token": {declined}}); d.status != http.StatusOK || !strings.Contains(d.body, "Invitation declined") {
		t.Errorf("decline: %d\n%s", d.status, d.body)
	}
	if d := other.post("/invitations/decline", url.Values{"csrf": {page.csrf(t)}, "token": {declined}}); d.status != http.StatusBadRequest {
		t.Errorf("declined twice: %d", d.status)
	}
}
