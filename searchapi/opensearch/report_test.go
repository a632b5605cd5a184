package opensearch

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// TestReportsKeepTheScope runs every type of report against a stand-in for
// OpenSearch and checks each search it sends: the activity log's scope
// first among the filters, then the period, the users and the activity
// types asked for; the first search is the one ReportRequest returns, byte
// for byte; and a bad request sends nothing.
func TestReportsKeepTheScope(t *testing.T) {
	var mu sync.Mutex
	var sent []Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		sent = append(sent, Request{Path: r.URL.RequestURI(), Body: b})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"hits":{"total":{"value":0},"hits":[]},"aggregations":{}}`)
	}))
	defer srv.Close()
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	var reporter searchapi.Reporter = NewFinder(client, "test")
	finder := reporter.(*Finder)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{From: "2026-03-01", To: "2026-03-31"}, time.Now(), berlin)
	if err != nil {
		t.Fatal(err)
	}
	owner := activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner}
	member := activity.Principal{WorkspaceID: "ws-1", UserID: "u-2", Role: activity.RoleMember}
	user := "0b9f6a56-3d4e-4f4b-9a53-1f0e2c7d8e90"
	for _, typ := range searchapi.ReportTypes {
		for _, p := range []activity.Principal{owner, member} {
			t.Run(typ+" as "+p.Role, func(t *testing.T) {
				sent = nil
				if _, err := reporter.Report(t.Context(), p, searchapi.ReportRequest{Type: typ}); activity.ErrorCode(err) != activity.EINVALID || len(sent) != 0 {
					t.Fatalf("without a period: %v after %d searches", err, len(sent))
				}
				if _, err := reporter.Report(t.Context(), p, searchapi.ReportRequest{Type: "weekly", Period: period}); activity.ErrorCode(err) != activity.EINVALID || len(sent) != 0 {
					t.Fatalf("an unknown type: %v after %d searches", err, len(sent))
				}
				r := searchapi.ReportRequest{Type: typ, Period: period, Users: []string{user}, ActivityTypes: []string{"auth", "license.*"}}
				res, err := reporter.Report(t.Context(), p, r)
				if err != nil {
					t.Fatal(err)
				}
				if res.Type != typ || res.Period != period {
					t.Errorf("result of %s over %v", res.Type, res.Period)
				}
				searches := 1
				if typ == searchapi.ReportAsset {
					searches = 2 // the status changes
				}
				if len(sent) != searches {
					t.Fatalf("%d searches, want %d", len(sent), searches)
				}
				want, err := finder.ReportRequest(p, r)
				if err != nil {
					t.Fatal(err)
				}
				if sent[0].Path != want.Path || !bytes.Equal(sent[0].Body, want.Body) {
					t.Errorf("Report searched %s %s, ReportRequest returned %s %s", sent[0].Path, sent[0].Body, want.Path, want.Body)
				}
				scopeFilters := []string{`{"term":{"workspace_id":"ws-1"}}`}
				if p.Role == activity.RoleMember {
					scopeFilters = append(scopeFilters, `{"term":{"actor.id":"u-2"}}`)
				}
				scopeFilters = append(scopeFilters,
					`{"range":{"occurred_at":{"gte":1772319600000,"lt":1774994400000,"format":"epoch_millis"}}}`,
					`{"terms":{"actor.id":["`+user+`"]}}`,
					`{"bool":{"minimum_should_match":1,"should":[{"terms":{"category":["auth"]}},{"terms":{"action":["license.assigned","license.created","license.deleted","license.expiration_updated","license.key_viewed","license.renewed","license.unassigned","license.updated"]}}]}}`,
				)
				for i, s := range sent {
					var req struct {
						Query struct {
							Bool struct {
								Filter []json.RawMessage `json:"filter"`
							} `json:"bool"`
						} `json:"query"`
					}
					if err := json.Unmarshal(s.Body, &req); err != nil {
						t.Fatalf("search %d is not JSON: %s", i, s.Body)
					}
					if len(req.Query.Bool.Filter) < len(scopeFilters) {
						t.Fatalf("search %d filters %s, want them to begin with %v", i, s.Body, scopeFilters)
					}
					for j, w := range scopeFilters {
						if !sameJSON(t, req.Query.Bool.Filter[j], w) {
							t.Errorf("search %d filter %d = %s, want %s", i, j, req.Query.Bool.Filter[j], w)
						}
					}
				}
			})
		}
	}
	if _, err := finder.ReportRequest(activity.Principal{}, searchapi.ReportRequest{Type: "user", Period: period}); activity.ErrorCode(err) != activity.EUNAUTHORIZED {
		t.Errorf("no principal: %v, want EUNAUTHORIZED", err)
	}
}

// TestDecodeReportAnswer reads the total and took of an answer of every
// type of report, and refuses an unknown type.
func TestDecodeReportAnswer(t *testing.T) {
	raw := []byte(`{"took":5,"hits":{"total":{"value":42},"hits":[]},"aggregations":{}}`)
	for _, typ := range searchapi.ReportTypes {
		if a, err := DecodeReportAnswer(typ, raw); err != nil || a != (Answer{Total: 42, Took: 5}) {
			t.Errorf("%s: %+v, %v", typ, a, err)
		}
	}
	if _, err := DecodeReportAnswer("weekly", raw); err == nil {
		t.Error("an unknown type is decoded")
	}
}
