package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// parallel sends n requests at once, each built by call(i), and returns
// their answers in order.
func parallel(n int, call func(i int) answer) []answer {
	out := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = call(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// statusCounts counts answers by status.
func statusCounts(as []answer) map[int]int {
	n := map[int]int{}
	for _, a := range as {
		n[a.status]++
	}
	return n
}

// wantUnavailable fails unless a is a 503 with Retry-After and a JSON
// error body.
func wantUnavailable(t *testing.T, what string, a answer) {
	t.Helper()
	var e errorAnswer
	a.decode(t, &e)
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || e.Error.Code != activity.EUNAVAILABLE || e.Error.Message == "" {
		t.Errorf("%s with every hashing turn taken: %d, Retry-After %q: %s", what, a.status, a.header.Get("Retry-After"), a.body)
	}
}

// TestPasswordChecksWaitTheirTurn checks that password hashing runs a
// bounded number at once: a login and an invitation acceptance that find
// every turn taken wait briefly, are answered 503 with Retry-After, write
// nothing and count no failure; once turns are free they pass. A flood of
// logins is answered only 401 or 503.
func TestPasswordChecksWaitTheirTurn(t *testing.T) {
	cfg := MustStack(t)
	cfg.Argon2.Concurrency, cfg.Argon2.QueueWait = 2, 50*time.Millisecond
	cfg.Auth.MaxFailuresPerAccount, cfg.Auth.MaxFailuresPerIP = 1, 1000
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Turns")
	var inv domain.NewInvitation
	owner.call("POST", "/api/v1/invitations", map[string]string{"email": "turns-" + stacktest.RandomID() + "@example.com", "name": "Tina Turns", "role": "member"}, nil).decode(t, &inv)
	anon := newClient(t, m)
	login := func(password string) answer {
		return anon.call("POST", "/api/v1/auth/login", map[string]string{"email": owner.email, "password": password}, nil)
	}
	accept := map[string]string{"token": inv.Token, "password": "long-enough-1"}

	turns := m.Hasher.Turns
	for i := 0; i < cfg.Argon2.Concurrency; i++ {
		if err := turns.Take(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	before := ob.last()
	wantUnavailable(t, "a login", login("wrong"))
	wantUnavailable(t, "an invitation acceptance", anon.call("POST", "/api/v1/invitations/accept", accept, nil))
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("refusals for want of a turn wrote %d events", len(events))
	}
	for i := 0; i < cfg.Argon2.Concurrency; i++ {
		turns.Give()
	}
	// The refused login was not a failure: the account's one failure is
	// still to come.
	if a := login("wrong"); a.status != http.StatusUnauthorized {
		t.Errorf("a wrong password once turns are free: %d %s", a.status, a.body)
	}
	if a := anon.call("POST", "/api/v1/invitations/accept", accept, nil); a.status != http.StatusCreated {
		t.Errorf("an acceptance once turns are free: %d %s", a.status, a.body)
	}

	// With real parameters and one turn, a flood of logins queues and is
	// answered 401 or 503, never anything else.
	cfg = MustStack(t)
	cfg.Argon2.Params, cfg.Argon2.WeakOK = argon2.DefaultParams, false
	cfg.Argon2.Concurrency, cfg.Argon2.QueueWait = 1, 20*time.Millisecond
	cfg.Auth.MaxFailuresPerIP = 1000
	m = MustStart(t, cfg, app.RoleAPI)
	flood := parallel(60, func(i int) answer {
		return newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": "flood-" + stacktest.RandomID() + "@example.com", "password": "guess"}, nil)
	})
	for _, a := range flood {
		if a.status == http.StatusServiceUnavailable {
			wantUnavailable(t, "a login in a flood", a)
		} else if a.status != http.StatusUnauthorized {
			t.Errorf("a login in a flood: %d %s", a.status, a.body)
		}
	}
	t.Logf("flood of 60 logins: %v", statusCounts(flood))
}

// TestLoginThrottleHoldsUnderConcurrency sends 50 wrong passwords for one
// account at once: only the account's limit of them are checked (401 and
// auth.login_failed with reason wrong_password), every other is refused
// with 429 without a check, and then so is the right password. The
// address's limit holds the same way for 50 unknown emails at once.
func TestLoginThrottleHoldsUnderConcurrency(t *testing.T) {
	cfg := MustStack(t)
	cfg.Auth.MaxFailuresPerAccount, cfg.Auth.MaxFailuresPerIP = 5, 30
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	email, password := MustWorkspace(t, cfg, "Flood")
	login := func(email, password string) answer {
		return newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
	}
	reasons := func(since int64) map[string]int {
		events, _ := ob.since(since)
		n := map[string]int{}
		for _, e := range events {
			n[e.Action+" "+e.Details["reason"].(string)]++
		}
		return n
	}

	before := ob.last()
	n := statusCounts(parallel(50, func(int) answer { return login(email, "wrong") }))
	if n[http.StatusUnauthorized] != 5 || n[http.StatusTooManyRequests] != 45 {
		t.Errorf("50 wrong passwords at once answered %v, want 5 × 401 and 45 × 429", n)
	}
	if r := reasons(before); r["auth.login_failed wrong_password"] != 5 || r["auth.login_failed throttled"] != 45 {
		t.Errorf("recorded %v, want 5 checked wrong passwords and 45 throttled attempts", r)
	}
	if a := login(email, password); a.status != http.StatusTooManyRequests {
		t.Errorf("the right password after the limit: %d %s", a.status, a.body)
	}

	// The address has 5 checked failures of its 30; 25 more are checked.
	before = ob.last()
	n = statusCounts(parallel(50, func(int) answer { return login("nobody-"+stacktest.RandomID()+"@example.com", "guess") }))
	if n[http.StatusUnauthorized] != 25 || n[http.StatusTooManyRequests] != 25 {
		t.Errorf("50 unknown emails from one address at once answered %v, want 25 × 401 and 25 × 429", n)
	}
	if r := reasons(before); r["auth.login_failed unknown_email"] != 25 || r["auth.login_failed throttled"] != 25 {
		t.Errorf("recorded %v, want 25 checked unknown emails and 25 throttled attempts", r)
	}
}

// TestPasswordChangeIsThrottled checks that wrong current passwords count
// as failed logins do: of 20 sent at once only the limit's worth are
// checked (400), the others are refused with 429, and then so is the right
// one. Logging in stays possible.
func TestPasswordChangeIsThrottled(t *testing.T) {
	cfg := MustStack(t)
	cfg.Auth.MaxFailuresPerAccount, cfg.Auth.MaxFailuresPerIP = 3, 1000
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Password")
	change := func(current string) answer {
		return owner.call("POST", "/api/v1/me/password", map[string]string{"current_password": current, "new_password": "a-brand-new-password"}, nil)
	}
	before := ob.last()
	as := parallel(20, func(i int) answer { return change("wrong-" + stacktest.RandomID()) })
	if n := statusCounts(as); n[http.StatusBadRequest] != 3 || n[http.StatusTooManyRequests] != 17 {
		t.Errorf("20 wrong current passwords at once answered %v, want 3 × 400 and 17 × 429", n)
	}
	for _, a := range as {
		var e errorAnswer
		a.decode(t, &e)
		if a.status == http.StatusTooManyRequests && e.Error.Code != activity.ETOOMANY {
			t.Errorf("429 body: %s", a.body)
		}
	}
	if a := change(owner.password); a.status != http.StatusTooManyRequests {
		t.Errorf("the right current password after the limit: %d %s", a.status, a.body)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("refused password changes wrote %d events", len(events))
	}
	newClient(t, m).mustLogin(owner.email, owner.password)
}

// TestPasswordChangeAndDeactivationEndSessionsAndTokens checks that a
// password change ends the member's other sessions and revokes their API
// tokens, unless they ask to keep the tokens, and that a deactivation ends
// every session and revokes the tokens the same way, so that activating
// the member again does not bring them back; each event says how many
// sessions and tokens ended and names the tokens.
func TestPasswordChangeAndDeactivationEndSessionsAndTokens(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Revoke")
	mem := mustRoleMember(t, m, owner.client, activity.RoleMember)
	token := func(name string) (string, string) {
		var tok domain.NewAPIToken
		mem.call("POST", "/api/v1/tokens", map[string]any{"name": name, "scopes": []string{"admin"}}, nil).decode(t, &tok)
		return tok.ID, tok.Token
	}
	works := func(token string) bool {
		return newClient(t, m).call("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer " + token}).status == http.StatusOK
	}
	wantEnded := func(e activity.Event, action string, sessions, tokens float64, ids ...string) {
		t.Helper()
		if e.Action != action || e.Details[map[string]string{"user.password_changed": "other_sessions_ended", "user.deactivated": "sessions_ended"}[action]] != sessions || e.Details["api_tokens_revoked"] != tokens {
			t.Errorf("%s details %v, want %v sessions and %v tokens ended", e.Action, e.Details, sessions, tokens)
		}
		var related []string
		for _, r := range e.Related {
			if r.Type == "api_token" {
				related = append(related, r.ID)
			}
		}
		if !slices.Equal(slices.Sorted(slices.Values(related)), slices.Sorted(slices.Values(ids))) {
			t.Errorf("%s relates the tokens %v, want %v", e.Action, related, ids)
		}
	}

	// A password change: other sessions end, tokens are revoked.
	other := newClient(t, m)
	other.mustLogin(mem.email, mem.password)
	id1, t1 := token("script")
	id2, t2 := token("backup")
	before := ob.last()
	if a := mem.call("POST", "/api/v1/me/password", map[string]string{"current_password": mem.password, "new_password": "second-password"}, nil); a.status != http.StatusNoContent {
		t.Fatalf("change password: %d %s", a.status, a.body)
	}
	events, _ := ob.since(before)
	if len(events) != 1 {
		t.Fatalf("a password change wrote %d events", len(events))
	}
	wantEnded(events[0], "user.password_changed", 1, 2, id1, id2)
	if works(t1) || works(t2) || other.call("GET", "/api/v1/me", nil, nil).status != http.StatusUnauthorized {
		t.Error("a token or the other session still works after a password change")
	}
	var list struct{ Tokens []domain.APIToken }
	mem.call("GET", "/api/v1/tokens", nil, nil).decode(t, &list)
	for _, tok := range list.Tokens {
		if tok.RevokedAt == nil {
			t.Errorf("token %s is not marked revoked", tok.ID)
		}
	}

	// Asked to, a password change keeps the tokens.
	id3, t3 := token("kept")
	before = ob.last()
	if a := mem.call("POST", "/api/v1/me/password", map[string]any{"current_password": "second-password", "new_password": "third-password", "keep_api_tokens": true}, nil); a.status != http.StatusNoContent {
		t.Fatalf("change password keeping tokens: %d %s", a.status, a.body)
	}
	events, _ = ob.since(before)
	wantEnded(events[0], "user.password_changed", 0, 0)
	if !works(t3) {
		t.Error("a kept token stopped working")
	}

	// A deactivation ends every session and revokes the tokens for good.
	before = ob.last()
	if a := owner.call("POST", "/api/v1/users/"+mem.id+"/deactivate", nil, nil); a.status != http.StatusOK {
		t.Fatalf("deactivate: %d %s", a.status, a.body)
	}
	events, _ = ob.since(before)
	wantEnded(events[0], "user.deactivated", 1, 1, id3)
	owner.call("POST", "/api/v1/users/"+mem.id+"/activate", nil, nil)
	if works(t3) {
		t.Error("a token revoked by deactivation works again after activation")
	}

	// Asked to, a deactivation keeps them: they work again after activation.
	mem.mustLogin(mem.email, "third-password")
	_, t4 := token("suspended")
	before = ob.last()
	if a := owner.call("POST", "/api/v1/users/"+mem.id+"/deactivate", map[string]bool{"keep_api_tokens": true}, nil); a.status != http.StatusOK {
		t.Fatalf("deactivate keeping tokens: %d %s", a.status, a.body)
	}
	events, _ = ob.since(before)
	wantEnded(events[0], "user.deactivated", 1, 0)
	if works(t4) {
		t.Error("a deactivated member's token works")
	}
	owner.call("POST", "/api/v1/users/"+mem.id+"/activate", nil, nil)
	if !works(t4) {
		t.Error("a token kept through deactivation does not work after activation")
	}
	if a := owner.call("POST", "/api/v1/users/"+mem.id+"/deactivate", map[string]any{"keep_api_tokens": "yes"}, nil); a.status != http.StatusBadRequest {
		t.Errorf("deactivate with a bad keep_api_tokens: %d %s", a.status, a.body)
	}
}

// TestTwoOwnersCannotRemoveEachOther has the two owners of a workspace
// demote or deactivate each other at the same moment, many times over:
// every time exactly one of the two succeeds and the workspace keeps an
// active owner.
func TestTwoOwnersCannotRemoveEachOther(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	moves := map[string]func(by member, target string) answer{
		"demote": func(by member, target string) answer {
			return by.call("PUT", "/api/v1/users/"+target+"/role", map[string]string{"role": activity.RoleAdmin}, nil)
		},
		"deactivate": func(by member, target string) answer {
			return by.call("POST", "/api/v1/users/"+target+"/deactivate", nil, nil)
		},
	}
	for _, pair := range [][2]string{{"demote", "demote"}, {"deactivate", "deactivate"}, {"demote", "deactivate"}} {
		t.Run(pair[0]+" and "+pair[1], func(t *testing.T) {
			for round := 0; round < 20; round++ {
				a := mustOwner(t, m, cfg, "Owners")
				b := mustRoleMember(t, m, a.client, activity.RoleOwner)
				as := parallel(2, func(i int) answer {
					if i == 0 {
						return moves[pair[0]](a, b.id)
					}
					return moves[pair[1]](b, a.id)
				})
				var owners int
				err := ob.db.NewSelect().TableExpr("users").ColumnExpr("count(*)").
					Where("workspace_id = (SELECT workspace_id FROM users WHERE id = ?) AND role = ? AND active", a.id, activity.RoleOwner).
					Scan(context.Background(), &owners)
				if err != nil {
					t.Fatal(err)
				}
				n := statusCounts(as)
				// The later one finds the caller no longer an owner (403),
				// the last owner (409), or, deactivated, signed out (401).
				if owners != 1 || n[http.StatusOK] != 1 || n[http.StatusConflict]+n[http.StatusForbidden]+n[http.StatusUnauthorized] != 1 {
					t.Fatalf("round %d: answered %d %s and %d %s; %d active owners left", round+1, as[0].status, as[0].body, as[1].status, as[1].body, owners)
				}
			}
		})
	}
}

// TestFailedLoginKeepsOnlyEmails checks what a failed login for an unknown
// account records: an attempted email as typed, but anything else (a
// password typed into the email box, say) only as a hash keyed with the
// platform's secret key, the same for the same text, so that it reaches
// neither the outbox, the topic and the index nor the throttle's table.
func TestFailedLoginKeepsOnlyEmails(t *testing.T) {
	typed := "correct horse battery staple " + stacktest.RandomID()
	hashes := map[string]bool{}
	for _, run := range []string{"one secret key", "another secret key"} {
		t.Run(run, func(t *testing.T) {
			cfg := MustStack(t)
			m := MustStart(t, cfg, app.RoleAPI)
			ob := mustOutbox(t, cfg)
			email := "nobody-" + stacktest.RandomID() + "@example.com"
			before := ob.last()
			for _, id := range []string{typed, email, "  " + typed + "  "} {
				if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": id, "password": "guess"}, nil); a.status != http.StatusUnauthorized {
					t.Fatalf("login as %q: %d %s", id, a.status, a.body)
				}
			}
			events, raws := ob.since(before)
			if len(events) != 3 {
				t.Fatalf("wrote %d events, want 3", len(events))
			}
			for i, e := range events {
				if e.Action != "auth.login_failed" || e.Details["reason"] != "unknown_email" {
					t.Errorf("event %d: %s %v", i, e.Action, e.Details)
				}
				if strings.Contains(strings.ToLower(raws[i]), "horse battery") {
					t.Errorf("event %d holds the typed text: %s", i, raws[i])
				}
			}
			if e := events[1]; e.Details["attempted_email"] != email || e.Actor.Email != email || e.Resource.Name != email {
				t.Errorf("an unknown email is not kept: actor %+v, resource %+v, details %v", e.Actor, e.Resource, e.Details)
			}
			hash, _ := events[0].Details["attempted_identifier_hmac"].(string)
			if !strings.HasPrefix(hash, "hmac-sha256:") || events[2].Details["attempted_identifier_hmac"] != hash || events[0].Resource.Name != hash {
				t.Errorf("the typed text is recorded as %q and %v, want one keyed hash", hash, events[2].Details["attempted_identifier_hmac"])
			}
			if _, ok := events[0].Details["attempted_email"]; ok || events[0].Actor.Email != "" {
				t.Errorf("the typed text is recorded as an email: actor %+v, details %v", events[0].Actor, events[0].Details)
			}
			hashes[hash] = true
			var kept int
			if err := ob.db.NewSelect().TableExpr("password_attempts").ColumnExpr("count(*)").Where("key LIKE ?", "%horse battery%").Scan(context.Background(), &kept); err != nil {
				t.Fatal(err)
			}
			if kept != 0 {
				t.Errorf("the throttle keeps the typed text in %d rows", kept)
			}
		})
	}
	if len(hashes) != 2 {
		t.Errorf("two secret keys gave the hashes %v, want two different ones", hashes)
	}
}

// keysOf returns the top-level keys of a JSON object answer.
func keysOf(t *testing.T, a answer) []string {
	t.Helper()
	var m map[string]json.RawMessage
	a.decode(t, &m)
	return slices.Sorted(maps.Keys(m))
}

// TestNoCrossWorkspaceEmailProbing checks that inviting someone and
// changing one's email answer the same whether or not the address has an
// account in another workspace; the conflict comes only when the
// invitation is accepted or the email change confirmed, and writes
// nothing. Within the caller's own workspace a taken address is still
// refused at once.
func TestNoCrossWorkspaceEmailProbing(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	ownerA := mustOwner(t, m, cfg, "Alpha")
	memberA := mustRoleMember(t, m, ownerA.client, activity.RoleMember)
	ownerB := mustOwner(t, m, cfg, "Beta")
	fresh := func() string { return "fresh-" + stacktest.RandomID() + "@example.com" }
	anon := newClient(t, m)
	wantRefused := func(what string, a answer, status int, field string) {
		t.Helper()
		var e errorAnswer
		a.decode(t, &e)
		if a.status != status || e.Error.Field != field || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d about %s", what, a.status, a.body, status, field)
		}
	}

	// Invitations.
	invite := func(email string) answer {
		return ownerA.call("POST", "/api/v1/invitations", map[string]string{"email": email, "name": "Someone", "role": "member"}, nil)
	}
	free, taken := invite(fresh()), invite(ownerB.email)
	if free.status != http.StatusCreated || taken.status != free.status || !slices.Equal(keysOf(t, taken), keysOf(t, free)) {
		t.Fatalf("inviting a free address answered %d %s, one with an account elsewhere %d %s", free.status, free.body, taken.status, taken.body)
	}
	var inv domain.NewInvitation
	taken.decode(t, &inv)
	before := ob.last()
	wantRefused("accepting an invitation for an address with an account", anon.call("POST", "/api/v1/invitations/accept", map[string]string{"token": inv.Token, "password": "long-enough-1"}, nil), http.StatusConflict, "email")
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("a refused acceptance wrote %d events", len(events))
	}
	var list struct{ Invitations []domain.Invitation }
	ownerA.call("GET", "/api/v1/invitations", nil, nil).decode(t, &list)
	for _, i := range list.Invitations {
		if i.ID == inv.ID && i.Status != "pending" {
			t.Errorf("the refused invitation is %s", i.Status)
		}
	}
	wantRefused("inviting a member of the workspace", invite(memberA.email), http.StatusConflict, "email")

	// Email changes.
	change := func(email string) answer {
		return memberA.call("PATCH", "/api/v1/me", map[string]string{"email": email}, nil)
	}
	confirm := func(token string) answer {
		return memberA.call("POST", "/api/v1/me/email/confirm", map[string]string{"token": token}, nil)
	}
	var asked struct {
		domain.User
		EmailChange struct {
			Email, Token string
			ExpiresAt    time.Time `json:"expires_at"`
		} `json:"email_change"`
	}
	free, taken = change(fresh()), change(ownerB.email)
	if free.status != http.StatusOK || taken.status != free.status || !slices.Equal(keysOf(t, taken), keysOf(t, free)) {
		t.Fatalf("changing to a free address answered %d %s, to one with an account elsewhere %d %s", free.status, free.body, taken.status, taken.body)
	}
	taken.decode(t, &asked)
	if asked.Email != memberA.email || asked.EmailChange.Email != ownerB.email || asked.EmailChange.Token == "" || asked.EmailChange.ExpiresAt.IsZero() {
		t.Errorf("an email change answered %s", taken.body)
	}
	before = ob.last()
	wantRefused("confirming an address with an account", confirm(asked.EmailChange.Token), http.StatusConflict, "email")
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("a refused confirmation wrote %d events", len(events))
	}
	wantRefused("changing to a member's address", change(ownerA.email), http.StatusConflict, "email")
	wantRefused("confirming a made-up token", confirm("made-up"), http.StatusBadRequest, "token")

	// A free address is the caller's once confirmed, with its event.
	email := fresh()
	change(email).decode(t, &asked)
	before = ob.last()
	if a := confirm(asked.EmailChange.Token); a.status != http.StatusOK {
		t.Fatalf("confirm: %d %s", a.status, a.body)
	}
	events, _ := ob.since(before)
	if len(events) != 1 || events[0].Action != "user.profile_updated" {
		t.Fatalf("a confirmation wrote %+v", events)
	}
	wantChange(t, events[0], "email", memberA.email, email)
	wantRefused("confirming twice", confirm(asked.EmailChange.Token), http.StatusBadRequest, "token")
	newClient(t, m).mustLogin(email, memberA.password)
}
