package opensearch

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/query"
)

// sameJSON reports whether got, once marshalled, is the JSON text want.
func sameJSON(t *testing.T, got any, want string) bool {
	t.Helper()
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("the expected JSON is malformed: %v\n%s", err, want)
	}
	a, _ := json.Marshal(g)
	b, _ := json.Marshal(w)
	return bytes.Equal(a, b)
}

const (
	fields    = `["resource.name","related.name","actor.name","actor.email","summary","note","changes.before","changes.after"]`
	wordsOf   = `{"multi_match":{"query":%q,"fields":` + fields + `,"type":"cross_fields","operator":"and"}}`
	phraseOf  = `{"multi_match":{"query":%q,"fields":` + fields + `,"type":"phrase"}}`
	scopeJSON = `[{"term":{"workspace_id":"ws"}}]`
)

func words(v string) string  { return strings.Replace(wordsOf, "%q", quoteJSON(v), 1) }
func phrase(v string) string { return strings.Replace(phraseOf, "%q", quoteJSON(v), 1) }

func quoteJSON(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// should is a bool query matching when any of the queries does.
func should(queries ...string) string {
	return `{"bool":{"should":[` + strings.Join(queries, ",") + `],"minimum_should_match":1}}`
}

func TestTermQuery(t *testing.T) {
	uuid := "0190F0C2-7A4E-7C4B-9A8E-3F1B2C3D4E5F"
	lower := strings.ToLower(uuid)
	tests := []struct {
		in   string
		want string
	}{
		{"MacBook", words("MacBook")},
		{"A-1029", words("A-1029")},
		{"https://example.com/x?a=1", words("https://example.com/x?a=1")},
		{"Müller", words("Müller")},
		{`"MacBook Pro"`, phrase("MacBook Pro")},
		{`"10.0.0.1"`, phrase("10.0.0.1")},
		{"License.Deleted", should(words("License.Deleted"), `{"term":{"action":"license.deleted"}}`)},
		{"10.0.0.1", should(words("10.0.0.1"), `{"term":{"context.ip":"10.0.0.1"}}`)},
		{"2001:DB8::1", should(words("2001:DB8::1"), `{"term":{"context.ip":"2001:db8::1"}}`)},
		{"actor:Admin@Example.com", `{"term":{"actor.email.keyword":"admin@example.com"}}`},
		{"actor:" + uuid, `{"term":{"actor.id":"` + lower + `"}}`},
		{`actor:"Jane Roe"`, `{"match_phrase":{"actor.name":"Jane Roe"}}`},
		{"actor:jane", `{"match_phrase":{"actor.name":"jane"}}`},
		{"action:license.created", `{"term":{"action":"license.created"}}`},
		{"action:license.*", `{"wildcard":{"action":{"value":"license.*"}}}`},
		{"action:*.deleted", `{"wildcard":{"action":{"value":"*.deleted"}}}`},
		{"category:auth", `{"term":{"category":"auth"}}`},
		{"resource:asset", `{"term":{"resource.type":"asset"}}`},
		{"resource:asset:" + uuid, `{"bool":{"filter":[{"term":{"resource.type":"asset"}},{"term":{"resource.id":"` + lower + `"}}]}}`},
		{"id:" + uuid, should(`{"term":{"resource.id":"`+lower+`"}}`, `{"term":{"related.id":"`+lower+`"}}`)},
		{"id:legacy-42", should(`{"term":{"resource.id":"legacy-42"}}`, `{"term":{"related.id":"legacy-42"}}`)},
		{"ip:10.0.0.0/8", `{"term":{"context.ip":"10.0.0.0/8"}}`},
		{"ip:192.0.2.*", `{"term":{"context.ip":"192.0.2.0/24"}}`},
		{"ip:2001:db8::/32", `{"term":{"context.ip":"2001:db8::/32"}}`},
		{"ip:203.0.113.7", `{"term":{"context.ip":"203.0.113.7"}}`},
		{"outcome:failure", `{"term":{"outcome":"failure"}}`},
		{"method:import", `{"term":{"context.method":"import"}}`},
		{"field:asset_tag", `{"term":{"changes.field":"asset_tag"}}`},
		{"country:de", `{"term":{"context.location.country":"DE"}}`},
		{"browser:safari", `{"term":{"client.browser":{"value":"safari","case_insensitive":true}}}`},
		{"os:macos", should(`{"term":{"client.os":{"value":"macos","case_insensitive":true}}}`, `{"prefix":{"client.os":{"value":"macos ","case_insensitive":true}}}`)},
		{"note:designer", `{"match":{"note":{"query":"designer","operator":"and"}}}`},
		{`note:"new designer"`, `{"match_phrase":{"note":"new designer"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := query.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := termQuery(q[0][0])
			if !sameJSON(t, got, tt.want) {
				raw, _ := json.Marshal(got)
				t.Errorf("query of %s\n got %s\nwant %s", tt.in, raw, tt.want)
			}
		})
	}
}

func TestWildcardEscapesAllButStar(t *testing.T) {
	// Parse admits only letters, digits, _, . and * in an action; the
	// escaping still holds for anything else the wildcard query reads.
	if got, want := wildcard(`a?b\c*`), `a\?b\\c*`; got != want {
		t.Errorf("wildcard = %s, want %s", got, want)
	}
}

func TestSearchQuery(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `{"bool":{"filter":` + scopeJSON + `}}`},
		{"words each must match", "MacBook Pro", `{"bool":{"filter":` + scopeJSON + `,"must":[` + words("MacBook") + `,` + words("Pro") + `]}}`},
		{"negations", `-outcome:success -"MacBook Pro"`, `{"bool":{"filter":` + scopeJSON + `,"must_not":[{"term":{"outcome":"success"}},` + phrase("MacBook Pro") + `]}}`},
		{"the example", `actor:admin@example.com action:license.* ip:10.0.0.0/8 -outcome:success "MacBook Pro"`, `{"bool":{"filter":` + scopeJSON + `,
			"must":[{"term":{"actor.email.keyword":"admin@example.com"}},{"wildcard":{"action":{"value":"license.*"}}},{"term":{"context.ip":"10.0.0.0/8"}},` + phrase("MacBook Pro") + `],
			"must_not":[{"term":{"outcome":"success"}}]}}`},
		{"OR", "outcome:failure OR -method:web laptop", `{"bool":{"filter":` + scopeJSON + `,"must":[` +
			should(`{"term":{"outcome":"failure"}}`, `{"bool":{"must_not":[{"term":{"context.method":"web"}}]}}`) + `,` + words("laptop") + `]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := query.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := searchQuery([]any{term("workspace_id", "ws")}, q)
			if !sameJSON(t, got, tt.want) {
				raw, _ := json.Marshal(got)
				t.Errorf("query of %s\n got %s\nwant %s", tt.in, raw, tt.want)
			}
		})
	}
}

// TestFindEventsKeepsTheScope sends searches to a stand-in for OpenSearch
// and checks the request: the caller's workspace, and for members their
// own actions, are a filter of every search, whatever the search text.
func TestFindEventsKeepsTheScope(t *testing.T) {
	var mu sync.Mutex
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "point_in_time") {
			io.WriteString(w, `{"pit_id":"pit-1"}`)
			return
		}
		mu.Lock()
		body = b
		mu.Unlock()
		io.WriteString(w, `{"hits":{"total":{"value":0},"hits":[]}}`)
	}))
	defer srv.Close()
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	finder := NewFinder(client, "test")
	owner := activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner}
	member := activity.Principal{WorkspaceID: "ws-1", UserID: "u-2", Role: activity.RoleMember}
	tests := []struct {
		name  string
		p     activity.Principal
		q     string
		scope string
	}{
		{"owner without text", owner, "", `[{"term":{"workspace_id":"ws-1"}}]`},
		{"owner with negations only", owner, "-actor:u-1 -outcome:success", `[{"term":{"workspace_id":"ws-1"}}]`},
		{"member", member, "laptop", `[{"term":{"workspace_id":"ws-1"}},{"term":{"actor.id":"u-2"}}]`},
		{"member asking for someone else", member, "actor:other@example.com OR -actor:x", `[{"term":{"workspace_id":"ws-1"}},{"term":{"actor.id":"u-2"}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := finder.FindEvents(t.Context(), tt.p, searchapi.EventFilter{Query: tt.q}); err != nil {
				t.Fatal(err)
			}
			var req struct {
				Query struct {
					Bool struct {
						Filter json.RawMessage `json:"filter"`
					} `json:"bool"`
				} `json:"query"`
				Size int `json:"size"`
			}
			mu.Lock()
			defer mu.Unlock()
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatalf("request body is not JSON: %s", body)
			}
			if !sameJSON(t, req.Query.Bool.Filter, tt.scope) {
				t.Errorf("filter = %s, want %s", req.Query.Bool.Filter, tt.scope)
			}
			if req.Size != 51 {
				t.Errorf("size = %d, want the default 50 and one more, which tells whether a next page follows", req.Size)
			}
		})
	}
}

func TestFindEventsRefusesBadSearches(t *testing.T) {
	finder := NewFinder(nil, "test")
	p := activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner}
	_, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Query: `ip:10.0.0.0/33`})
	if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != "q" || activity.ErrorMessage(err) != `ip: "10.0.0.0/33" is not an address or CIDR range` {
		t.Errorf("error = %v, want EINVALID on q naming the range", err)
	}
}
