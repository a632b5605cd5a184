package opensearch

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// TestRequestsAreWhatTheFinderSends checks that the exported requests,
// which benchmarks send straight to OpenSearch, are byte for byte the
// searches FindEvents and Heatmap send.
func TestRequestsAreWhatTheFinderSends(t *testing.T) {
	var mu sync.Mutex
	var sent []Request
	searches := func() []Request {
		mu.Lock()
		defer mu.Unlock()
		s := sent
		sent = nil
		return s
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "point_in_time") {
			io.WriteString(w, `{"pit_id":"pit-1"}`)
			return
		}
		mu.Lock()
		sent = append(sent, Request{Path: r.URL.RequestURI(), Body: b})
		mu.Unlock()
		io.WriteString(w, `{"hits":{"total":{"value":0},"hits":[]},"aggregations":{}}`)
	}))
	defer srv.Close()
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 31, 10, 0, 0, 0, time.UTC)
	finder := NewFinder(client, "test", WithClock(func() time.Time { return now }))
	owner := activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner, TimeZone: "Europe/Berlin"}
	member := activity.Principal{WorkspaceID: "ws-1", UserID: "u-2", Role: activity.RoleMember, TimeZone: "Europe/Berlin"}

	listings := []struct {
		name   string
		p      activity.Principal
		filter searchapi.EventFilter
	}{
		{"filtered search", owner, searchapi.EventFilter{Query: "macbook", Categories: []string{"asset"}, Range: "30d", Limit: 50}},
		{"history page", owner, searchapi.EventFilter{Actor: "0b9f6a56-3d4e-4f4b-9a53-1f0e2c7d8e90", Limit: 50}},
		{"member with facets", member, searchapi.EventFilter{Query: "laptop -outcome:failure", From: "2026-03-01", To: "2026-03-31", Facets: true}},
	}
	for _, tt := range listings {
		t.Run(tt.name, func(t *testing.T) {
			searches()
			want, err := finder.FirstPageRequest(tt.p, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := finder.FindEvents(t.Context(), tt.p, tt.filter); err != nil {
				t.Fatal(err)
			}
			if sent := searches(); len(sent) != 1 || sent[0].Path != want.Path || !bytes.Equal(sent[0].Body, want.Body) {
				t.Errorf("FindEvents searched %q, FirstPageRequest returned %s %s", sent, want.Path, want.Body)
			}
		})
	}

	t.Run("heatmap", func(t *testing.T) {
		searches()
		period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{Range: "90d"}, now, searchapi.Zone(owner.TimeZone))
		if err != nil {
			t.Fatal(err)
		}
		filter := searchapi.AnalyticsFilter{Period: period}
		want, err := finder.HeatmapRequest(owner, filter)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := finder.Heatmap(t.Context(), owner, filter); err != nil {
			t.Fatal(err)
		}
		if sent := searches(); len(sent) != 1 || sent[0].Path != want.Path || !bytes.Equal(sent[0].Body, want.Body) {
			t.Errorf("Heatmap searched %q, HeatmapRequest returned %s %s", sent, want.Path, want.Body)
		}
	})

	t.Run("time spent and engagement", func(t *testing.T) {
		period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{Range: "90d"}, now, searchapi.Zone(owner.TimeZone))
		if err != nil {
			t.Fatal(err)
		}
		filter := searchapi.AnalyticsFilter{Period: period}
		searches()
		want, err := finder.TimeSpentRequest(owner, filter, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := finder.TimeSpent(t.Context(), owner, filter); err != nil {
			t.Fatal(err)
		}
		if sent := searches(); len(sent) != 1 || sent[0].Path != want.Path || !bytes.Equal(sent[0].Body, want.Body) {
			t.Errorf("TimeSpent searched %q, TimeSpentRequest returned %s %s", sent, want.Path, want.Body)
		}
		if want, err = finder.EngagementRequest(member, filter, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := finder.Engagement(t.Context(), member, filter); err != nil {
			t.Fatal(err)
		}
		if sent := searches(); len(sent) != 1 || sent[0].Path != want.Path || !bytes.Equal(sent[0].Body, want.Body) {
			t.Errorf("Engagement searched %q, EngagementRequest returned %s %s", sent, want.Path, want.Body)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		if _, err := finder.FirstPageRequest(owner, searchapi.EventFilter{Query: `ip:10.0.0.0/33`}); activity.ErrorCode(err) != activity.EINVALID {
			t.Errorf("bad search: %v, want EINVALID", err)
		}
		if _, err := finder.FirstPageRequest(activity.Principal{}, searchapi.EventFilter{}); activity.ErrorCode(err) != activity.EUNAUTHORIZED {
			t.Errorf("no principal: %v, want EUNAUTHORIZED", err)
		}
		if _, err := finder.HeatmapRequest(owner, searchapi.AnalyticsFilter{}); activity.ErrorCode(err) != activity.EINVALID {
			t.Errorf("no period: %v, want EINVALID", err)
		}
	})
}
