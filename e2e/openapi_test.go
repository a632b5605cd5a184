package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/openapi"
)

// operationalRoutes are the routes beside /api/v1 that the API's router
// answers with JSON, which the OpenAPI document describes too.
var operationalRoutes = []string{"GET /healthz", "GET /readyz"}

// documentedRoutes returns the operations of the OpenAPI document as
// "METHOD /path", with path parameters written as fiber writes them
// (:id).
func documentedRoutes(t *testing.T) []string {
	t.Helper()
	con := mustContract(t)
	param := regexp.MustCompile(`\{([a-z]+)\}`)
	var out []string
	for path, item := range con.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+param.ReplaceAllString(path, ":$1"))
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDescribesEveryRoute checks that the OpenAPI document lists
// exactly the routes the API's router has (under /api/v1, and the
// operational JSON routes), that each names the scope the route asks of an
// API token, and that GET /api/v1/openapi.json serves it to anyone.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	registered := map[string]bool{}
	for _, r := range m.API.App.GetRoutes(true) {
		route := r.Method + " " + r.Path
		if r.Method == "HEAD" || (!strings.HasPrefix(r.Path, "/api/v1/") && !slices.Contains(operationalRoutes, route)) {
			continue
		}
		registered[route] = true
	}
	documented := map[string]bool{}
	for _, route := range documentedRoutes(t) {
		documented[route] = true
		if !registered[route] {
			t.Errorf("the OpenAPI document lists %s, which the server does not have", route)
		}
	}
	for route := range registered {
		if !documented[route] {
			t.Errorf("the server has %s, which the OpenAPI document lacks (openapi/openapi.yaml)", route)
		}
	}

	// Each route asks a token for the scope of the permission it needs.
	con := mustContract(t)
	param := regexp.MustCompile(`:([a-z]+)`)
	for route, ep := range endpoints() {
		method, path, _ := strings.Cut(route, " ")
		item := con.doc.Paths.Value(param.ReplaceAllString(path, "{$1}"))
		if item == nil || item.GetOperation(method) == nil {
			continue // reported above
		}
		want := []string{string(domain.ScopeOf(ep.perm))}
		if route == "GET /api/v1/me" {
			want = []string{} // whom a token belongs to needs no scope
		}
		var got []string
		found := false
		for _, req := range *item.GetOperation(method).Security {
			if scopes, ok := req["apiToken"]; ok {
				got, found = scopes, true
			}
		}
		if !found || !slices.Equal(got, want) {
			t.Errorf("the OpenAPI document says %s asks a token for %v, the code for %v", route, got, want)
		}
	}
	for _, route := range publicRoutes {
		method, path, _ := strings.Cut(route, " ")
		item := con.doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			continue
		}
		if s := item.GetOperation(method).Security; s == nil || len(*s) != 0 {
			t.Errorf("the OpenAPI document does not say that %s needs no credentials", route)
		}
	}

	// Anyone may read the document, as JSON.
	a := newClient(t, m).call("GET", "/api/v1/openapi.json", nil, nil)
	want, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if a.status != http.StatusOK || json.Unmarshal(a.body, &doc) != nil || doc["openapi"] != "3.1.0" || string(a.body) != string(want) {
		t.Errorf("GET /api/v1/openapi.json without credentials: %d %.200s", a.status, a.body)
	}
}
