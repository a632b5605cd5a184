package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

type errorAnswer struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func TestCreatedAssetBecomesSearchable(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	email, password := MustWorkspace(t, cfg, "Acme")
	c := newClient(t, m)
	c.mustLogin(email, password)

	name := "MacBook Pro " + stacktest.RandomID()
	body := fmt.Sprintf(`{"name":%q,"asset_tag":"A-1029","status":"available","value":"2399.00","currency":"eur","purchase_date":"2026-03-01","note":"for the new designer"}`, name)
	var asset struct{ ID, Name, Currency string }
	if status := c.do("POST", "/api/v1/assets", "application/json", body, &asset); status != http.StatusCreated {
		t.Fatalf("create asset: status %d", status)
	}
	if asset.Currency != "EUR" {
		t.Errorf("currency = %q, want it normalised to EUR", asset.Currency)
	}

	var page searchapi.EventPage
	stacktest.Eventually(t, "the asset.created event is searchable by the asset's name", func() bool {
		page = searchapi.EventPage{}
		c.do("GET", "/api/v1/activity?q="+strings.ReplaceAll(name, " ", "+"), "", "", &page)
		return page.Total > 0
	})
	if page.Total != 1 {
		t.Fatalf("found %d entries, want exactly 1", page.Total)
	}
	e := page.Entries[0]
	checks := []struct{ field, got, want string }{
		{"action", e.Action, "asset.created"},
		{"category", e.Category, "asset"},
		{"outcome", e.Outcome, "success"},
		{"actor.email", e.Actor.Email, email},
		{"actor.type", e.Actor.Type, "user"},
		{"actor.role", e.Actor.Role, "owner"},
		{"resource.type", e.Resource.Type, "asset"},
		{"resource.id", e.Resource.ID, asset.ID},
		{"resource.name", e.Resource.Name, name},
		{"context.ip", e.Context.IP, "127.0.0.1"},
		{"context.user_agent", e.Context.UserAgent, "fluxera-test/1.0"},
		{"context.method", e.Context.Method, "web"},
		{"context.time_zone", e.Context.TimeZone, "Europe/Berlin"},
		{"note", e.Note, "for the new designer"},
		{"summary", e.Summary, "Acme Owner created asset " + name},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.field, ch.got, ch.want)
		}
	}
	if e.Context.SessionID == "" || e.Context.RequestID == "" {
		t.Errorf("context lacks session or request id: %+v", e.Context)
	}
	changed := map[string]string{}
	for _, ch := range e.Changes {
		changed[ch.Field] = ch.After
	}
	for field, want := range map[string]string{"name": name, "asset_tag": "A-1029", "status": "available", "value": "2399.00", "currency": "EUR", "purchase_date": "2026-03-01"} {
		if changed[field] != want {
			t.Errorf("change %s = %q, want %q (changes %+v)", field, changed[field], want, e.Changes)
		}
	}
	// The changed values are searchable too.
	stacktest.Eventually(t, "the event is found by its asset tag", func() bool {
		var p searchapi.EventPage
		c.do("GET", "/api/v1/activity?q=A-1029", "", "", &p)
		return p.Total >= 1
	})
}

func TestWorkspacesNeverSeeEachOther(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	word := "Zebra" + stacktest.RandomID()
	clients := map[string]*client{}
	for _, ws := range []string{"North", "South"} {
		email, password := MustWorkspace(t, cfg, ws)
		c := newClient(t, m)
		c.mustLogin(email, password)
		body := fmt.Sprintf(`{"name":"%s %s laptop"}`, word, ws)
		if status := c.do("POST", "/api/v1/assets", "application/json", body, nil); status != http.StatusCreated {
			t.Fatalf("create asset in %s: status %d", ws, status)
		}
		clients[ws] = c
	}
	for ws, c := range clients {
		var page searchapi.EventPage
		stacktest.Eventually(t, ws+" sees its own asset", func() bool {
			page = searchapi.EventPage{}
			c.do("GET", "/api/v1/activity?q="+word, "", "", &page)
			return page.Total > 0
		})
		if page.Total != 1 || !strings.Contains(page.Entries[0].Resource.Name, ws) {
			t.Errorf("%s sees %d entries for %q: %+v", ws, page.Total, word, page.Entries)
		}
		// The unfiltered log holds only the workspace's own events.
		var all searchapi.EventPage
		c.do("GET", "/api/v1/activity?limit=200", "", "", &all)
		for _, e := range all.Entries {
			if e.WorkspaceID != page.Entries[0].WorkspaceID {
				t.Errorf("%s sees an event of workspace %s", ws, e.WorkspaceID)
			}
		}
	}
}

func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	email, password := MustWorkspace(t, cfg, "Strict")
	db, err := postgres.Open(cfg.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(table string) int {
		n, err := db.NewSelect().Table(table).Count(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	anonymous := newClient(t, m)
	owner := newClient(t, m)
	owner.mustLogin(email, password)
	if status := owner.do("POST", "/api/v1/assets", "application/json", `{"name":"Taken","asset_tag":"T-1"}`, nil); status != http.StatusCreated {
		t.Fatalf("create first asset: status %d", status)
	}
	assetsBefore, outboxBefore := count("assets"), count("outbox")

	tests := []struct {
		name        string
		c           *client
		method      string
		path        string
		contentType string
		body        string
		status      int
		code        string
		field       string
	}{
		{"no session", anonymous, "POST", "/api/v1/assets", "application/json", `{"name":"x"}`, 401, "unauthorized", ""},
		{"no session on search", anonymous, "GET", "/api/v1/activity?q=x", "", "", 401, "unauthorized", ""},
		{"wrong password", anonymous, "POST", "/api/v1/auth/login", "application/json", fmt.Sprintf(`{"email":%q,"password":"nope"}`, email), 401, "unauthorized", ""},
		{"unknown email", anonymous, "POST", "/api/v1/auth/login", "application/json", `{"email":"nobody@example.com","password":"whatever"}`, 401, "unauthorized", ""},
		{"login without password", anonymous, "POST", "/api/v1/auth/login", "application/json", fmt.Sprintf(`{"email":%q}`, email), 400, "invalid", "password"},
		{"malformed JSON", owner, "POST", "/api/v1/assets", "application/json", `{"name":`, 400, "invalid", ""},
		{"not JSON", owner, "POST", "/api/v1/assets", "text/plain", `name=x`, 415, "unsupported_media_type", ""},
		{"empty body", owner, "POST", "/api/v1/assets", "application/json", ``, 400, "invalid", ""},
		{"two objects", owner, "POST", "/api/v1/assets", "application/json", `{"name":"a"}{"name":"b"}`, 400, "invalid", ""},
		{"unknown field", owner, "POST", "/api/v1/assets", "application/json", `{"name":"x","colour":"red"}`, 400, "invalid", "colour"},
		{"missing name", owner, "POST", "/api/v1/assets", "application/json", `{"serial":"S1"}`, 400, "invalid", "name"},
		{"wrong type", owner, "POST", "/api/v1/assets", "application/json", `{"name":"x","value":12}`, 400, "invalid", "value"},
		{"bad status", owner, "POST", "/api/v1/assets", "application/json", `{"name":"x","status":"stolen"}`, 400, "invalid", "status"},
		{"bad value", owner, "POST", "/api/v1/assets", "application/json", `{"name":"x","value":"12,50","currency":"EUR"}`, 400, "invalid", "value"},
		{"value without currency", owner, "POST", "/api/v1/assets", "application/json", `{"name":"x","value":"12.50"}`, 400, "invalid", "currency"},
		{"bad date", owner, "POST", "/api/v1/assets", "application/json", `{"name":"x","purchase_date":"01/03/2026"}`, 400, "invalid", "purchase_date"},
		{"duplicate tag", owner, "POST", "/api/v1/assets", "application/json", `{"name":"Again","asset_tag":"T-1"}`, 409, "conflict", "asset_tag"},
		{"unknown search filter", owner, "GET", "/api/v1/activity?colour=red", "", "", 400, "invalid", "colour"},
		{"page too large", owner, "GET", "/api/v1/activity?limit=100000", "", "", 400, "invalid", "limit"},
		{"unknown route", owner, "GET", "/api/v1/nothing-here", "", "", 404, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans errorAnswer
			status := tt.c.do(tt.method, tt.path, tt.contentType, tt.body, &ans)
			if status != tt.status {
				t.Fatalf("status = %d, want %d (%+v)", status, tt.status, ans)
			}
			if ans.Error.Code != tt.code || ans.Error.Field != tt.field || ans.Error.Message == "" {
				t.Errorf("error = %+v, want code %q field %q and a message", ans.Error, tt.code, tt.field)
			}
		})
	}
	if got := count("assets"); got != assetsBefore {
		t.Errorf("assets went from %d to %d after refused requests", assetsBefore, got)
	}
	// Only the two failed logins are recorded: the known user's in its
	// workspace, the unknown email's in the platform's stream.
	if got := count("outbox"); got != outboxBefore+2 {
		t.Errorf("outbox went from %d to %d, want two auth.login_failed more", outboxBefore, got)
	}
}
