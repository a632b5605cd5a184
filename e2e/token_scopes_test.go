package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// bearer returns the header that signs a request in with token.
func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// mustToken creates a token with scopes as c and returns it.
func mustToken(t *testing.T, c *client, scopes ...string) domain.NewAPIToken {
	t.Helper()
	a := c.call("POST", "/api/v1/tokens", map[string]any{"name": "scoped", "scopes": scopes}, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("create token with %v: %d %s", scopes, a.status, a.body)
	}
	var tok domain.NewAPIToken
	a.decode(t, &tok)
	return tok
}

// wantRefusal checks that a answered status with a JSON error whose code,
// field and message are the expected ones.
func wantRefusal(t *testing.T, what string, a answer, status int, code, field, inMessage string) {
	t.Helper()
	var e errorAnswer
	a.decode(t, &e)
	if a.status != status || e.Error.Code != code || e.Error.Field != field || !strings.Contains(e.Error.Message, inMessage) {
		t.Errorf("%s: %d %s, want %d %s on field %q naming %q", what, a.status, a.body, status, code, field, inMessage)
	}
}

// TestTokenScopes checks that a token does only what its scopes allow,
// that a token's scopes are chosen within the creator's role, and that
// tokens expire and rotate.
func TestTokenScopes(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Scopes")
	mem := mustRoleMember(t, m, owner.client, activity.RoleMember)
	anon := newClient(t, m)

	t.Run("a read-only token reads but does not write", func(t *testing.T) {
		tok := mustToken(t, owner.client, "activity:read")
		if a := anon.call("GET", "/api/v1/activity", nil, bearer(tok.Token)); a.status != http.StatusOK {
			t.Errorf("list activity with a read token: %d %s", a.status, a.body)
		}
		if a := anon.call("GET", "/api/v1/assets", nil, bearer(tok.Token)); a.status != http.StatusOK {
			t.Errorf("list assets with a read token: %d %s", a.status, a.body)
		}
		before := ob.last()
		a := anon.call("POST", "/api/v1/assets", map[string]string{"name": "Refused laptop"}, bearer(tok.Token))
		wantRefusal(t, "create an asset with a read token", a, http.StatusForbidden, activity.EFORBIDDEN, "", "assets:write")
		events, _ := ob.since(before)
		if len(events) != 1 || events[0].Action != "auth.access_denied" || events[0].Actor.Type != activity.ActorAPIToken {
			t.Errorf("the refusal wrote %d events, want one auth.access_denied by the token", len(events))
		}
		// The owner's session is bound by the role alone.
		if a := owner.call("POST", "/api/v1/assets", map[string]string{"name": "Allowed laptop"}, nil); a.status != http.StatusCreated {
			t.Errorf("create an asset with the owner's session: %d %s", a.status, a.body)
		}
	})

	t.Run("a write token for assets does not read licenses' keys", func(t *testing.T) {
		tok := mustToken(t, owner.client, "assets:write")
		if a := anon.call("POST", "/api/v1/assets", map[string]string{"name": "Token laptop"}, bearer(tok.Token)); a.status != http.StatusCreated {
			t.Errorf("create an asset with assets:write: %d %s", a.status, a.body)
		}
		a := anon.call("GET", "/api/v1/activity", nil, bearer(tok.Token))
		wantRefusal(t, "list activity without activity:read", a, http.StatusForbidden, activity.EFORBIDDEN, "", "activity:read")
	})

	t.Run("creation checks the scopes", func(t *testing.T) {
		tests := []struct {
			name   string
			who    *client
			body   map[string]any
			status int
			code   string
			field  string
			naming string
		}{
			{"no scopes", mem.client, map[string]any{"name": "x"}, 400, activity.EINVALID, "scopes", "required"},
			{"empty scopes", mem.client, map[string]any{"name": "x", "scopes": []string{}}, 400, activity.EINVALID, "scopes", "required"},
			{"unknown scope", mem.client, map[string]any{"name": "x", "scopes": []string{"activity:read", "everything"}}, 400, activity.EINVALID, "scopes[1]", "everything"},
			{"repeated scope", mem.client, map[string]any{"name": "x", "scopes": []string{"activity:read", "activity:read"}}, 400, activity.EINVALID, "scopes[1]", "activity:read"},
			{"member gives members:manage", mem.client, map[string]any{"name": "x", "scopes": []string{"activity:read", "members:manage"}}, 403, activity.EFORBIDDEN, "scopes[1]", "members:manage"},
			{"member gives alerts:manage", mem.client, map[string]any{"name": "x", "scopes": []string{"alerts:manage"}}, 403, activity.EFORBIDDEN, "scopes[0]", "alerts:manage"},
			{"expiry in the past", owner.client, map[string]any{"name": "x", "scopes": []string{"activity:read"}, "expires_at": time.Now().Add(-time.Hour)}, 400, activity.EINVALID, "expires_at", "future"},
			{"expiry over a year away", owner.client, map[string]any{"name": "x", "scopes": []string{"activity:read"}, "expires_at": time.Now().AddDate(1, 0, 2)}, 400, activity.EINVALID, "expires_at", "year"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := ob.last()
				a := tt.who.call("POST", "/api/v1/tokens", tt.body, nil)
				wantRefusal(t, tt.name, a, tt.status, tt.code, tt.field, tt.naming)
				events, _ := ob.since(before)
				if tt.status == http.StatusForbidden && (len(events) != 1 || events[0].Action != "auth.access_denied") {
					t.Errorf("the refusal wrote %d events, want one auth.access_denied", len(events))
				}
				if tt.status != http.StatusForbidden && len(events) != 0 {
					t.Errorf("a refused creation wrote %d events", len(events))
				}
			})
		}
	})

	t.Run("the list shows the scopes", func(t *testing.T) {
		tok := mustToken(t, mem.client, "activity:read", "assets:write")
		var list struct{ Tokens []domain.APIToken }
		mem.call("GET", "/api/v1/tokens", nil, nil).decode(t, &list)
		for _, lt := range list.Tokens {
			if lt.ID == tok.ID && strings.Join(lt.Scopes, " ") == "activity:read assets:write" {
				return
			}
		}
		t.Errorf("the token list %+v does not show token %s with its scopes", list.Tokens, tok.ID)
	})

	t.Run("an expired token answers 401", func(t *testing.T) {
		a := owner.call("POST", "/api/v1/tokens", map[string]any{"name": "short", "scopes": []string{"activity:read"}, "expires_at": time.Now().Add(time.Hour)}, nil)
		if a.status != http.StatusCreated {
			t.Fatalf("create an expiring token: %d %s", a.status, a.body)
		}
		var tok domain.NewAPIToken
		a.decode(t, &tok)
		if tok.ExpiresAt == nil || time.Until(*tok.ExpiresAt) > time.Hour {
			t.Errorf("expires_at = %v", tok.ExpiresAt)
		}
		if a := anon.call("GET", "/api/v1/assets", nil, bearer(tok.Token)); a.status != http.StatusOK {
			t.Fatalf("use the token before it expires: %d %s", a.status, a.body)
		}
		// The hour passes. Changed behind the API's back, the token's new
		// expiry reaches the API's cache of callers through PostgreSQL's
		// notification, a moment after the change commits.
		if _, err := ob.db.NewUpdate().TableExpr("api_tokens").Set("expires_at = now() - interval '1 second'").Where("id = ?", tok.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		var refused answer
		stacktest.Eventually(t, "the expired token is refused", func() bool {
			refused = anon.call("GET", "/api/v1/assets", nil, bearer(tok.Token))
			return refused.status != http.StatusOK
		})
		wantRefusal(t, "use an expired token", refused, http.StatusUnauthorized, activity.EUNAUTHORIZED, "", "expired")
		wantRefusal(t, "rotate an expired token", owner.call("POST", "/api/v1/tokens/"+tok.ID+"/rotate", nil, nil), http.StatusConflict, activity.ECONFLICT, "", "expired")
	})

	t.Run("rotation replaces the secret", func(t *testing.T) {
		old := mustToken(t, mem.client, "activity:read")
		before := ob.last()
		a := mem.call("POST", "/api/v1/tokens/"+old.ID+"/rotate", nil, nil)
		if a.status != http.StatusOK {
			t.Fatalf("rotate: %d %s", a.status, a.body)
		}
		var tok domain.NewAPIToken
		a.decode(t, &tok)
		if tok.ID != old.ID || tok.Token == old.Token || !strings.HasPrefix(tok.Token, "flx_") || strings.Join(tok.Scopes, " ") != "activity:read" {
			t.Errorf("rotated token %+v", tok.APIToken)
		}
		wantRefusal(t, "use the old secret", anon.call("GET", "/api/v1/assets", nil, bearer(old.Token)), http.StatusUnauthorized, activity.EUNAUTHORIZED, "", "")
		if a := anon.call("GET", "/api/v1/assets", nil, bearer(tok.Token)); a.status != http.StatusOK {
			t.Errorf("use the new secret: %d %s", a.status, a.body)
		}
		events, _ := ob.since(before)
		if len(events) != 1 || events[0].Action != "user.api_token_rotated" || events[0].Resource.ID != old.ID || events[0].Actor.ID != mem.id {
			t.Errorf("rotation wrote %+v, want one user.api_token_rotated", events)
		}
		// Not even the owner rotates someone else's token: the secret
		// would be theirs.
		wantRefusal(t, "rotate another member's token", owner.call("POST", "/api/v1/tokens/"+old.ID+"/rotate", nil, nil), http.StatusNotFound, activity.ENOTFOUND, "", "")
		mem.call("DELETE", "/api/v1/tokens/"+old.ID, nil, nil)
		wantRefusal(t, "rotate a revoked token", mem.call("POST", "/api/v1/tokens/"+old.ID+"/rotate", nil, nil), http.StatusConflict, activity.ECONFLICT, "", "revoked")
	})
}

// TestTokenScopesHoldOnEveryRoute calls every authenticated route as the
// owner with a token that lacks the scope of the route's permission, and
// expects a 403 naming that scope and recorded as a refusal.
func TestTokenScopesHoldOnEveryRoute(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Scope Matrix")
	target := mustRoleMember(t, m, owner.client, activity.RoleMember)
	// Refused requests change nothing, so one fixture serves every route.
	f := mustFixture(t, m, owner, owner.client, target.id)
	tokens := map[domain.Scope]string{}
	eps := endpoints()
	for _, route := range apiRoutes(m) {
		ep, ok := eps[route]
		if !ok {
			t.Errorf("route %s is not in endpoints(); add it", route)
			continue
		}
		ep.method, _, _ = strings.Cut(route, " ")
		if route == "GET /api/v1/me" {
			// Who the token is needs no scope.
			continue
		}
		need := domain.ScopeOf(ep.perm)
		other := domain.ScopeActivityRead
		if need == other {
			other = domain.ScopeIntegrationsManage
		}
		if tokens[other] == "" {
			tokens[other] = mustToken(t, owner.client, string(other)).Token
		}
		t.Run(route, func(t *testing.T) {
			c := newClient(t, m)
			before := ob.last()
			a := ep.callWith(t, c, f, owner.password, bearer(tokens[other]))
			wantRefusal(t, route, a, http.StatusForbidden, activity.EFORBIDDEN, "", string(need))
			if events, _ := ob.since(before); len(events) != 1 || events[0].Action != "auth.access_denied" {
				t.Errorf("the refusal wrote %d events, want one auth.access_denied", len(events))
			}
		})
	}
	a := newClient(t, m).call("GET", "/api/v1/me", nil, bearer(tokens[domain.ScopeActivityRead]))
	if a.status != http.StatusOK {
		t.Errorf("GET /api/v1/me with a token: %d %s", a.status, a.body)
	}
}
