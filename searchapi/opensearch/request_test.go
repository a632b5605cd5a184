package opensearch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
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
		w.Write(answerOf(b))
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
		// Sent at once, two partitions' searches may arrive in any order.
		sorted := func(rs []Request) []string {
			var out []string
			for _, r := range rs {
				out = append(out, r.Path+" "+string(r.Body))
			}
			sort.Strings(out)
			return out
		}
		direct := func(ctx context.Context, r Request) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, r)
			return answerOf(r.Body), nil
		}
		analyses := []struct {
			name string
			// want is the number of searches: the sizing search, two
			// pages of names, two partitions, and for the time spent a
			// page of logouts.
			want     int
			platform func() error
			searches func() (int64, error)
		}{
			{"time spent", 6, func() error {
				_, err := finder.TimeSpent(t.Context(), owner, filter)
				return err
			}, func() (int64, error) { return finder.TimeSpentSearches(t.Context(), owner, filter, direct) }},
			{"engagement", 5, func() error {
				_, err := finder.Engagement(t.Context(), member, filter)
				return err
			}, func() (int64, error) { return finder.EngagementSearches(t.Context(), member, filter, direct) }},
		}
		for _, a := range analyses {
			searches()
			if err := a.platform(); err != nil {
				t.Fatal(err)
			}
			got := sorted(searches())
			users, err := a.searches()
			if err != nil {
				t.Fatal(err)
			}
			want := sorted(searches())
			if len(want) != a.want || !reflect.DeepEqual(got, want) {
				t.Errorf("%s searched\n%q\n%sSearches sent\n%q", a.name, got, a.name, want)
			}
			if users != compositePage+1 {
				t.Errorf("%sSearches counted %d users, want %d", a.name, users, compositePage+1)
			}
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

// answerOf is the fake OpenSearch's answer to a search: for a sizing
// search, two stretches of time too large to share a partition; for the
// first page of names, a full page; for the next, a last page; otherwise
// nothing.
func answerOf(body []byte) []byte {
	switch {
	case bytes.Contains(body, []byte(`"sizes"`)):
		return fmt.Appendf(nil, `{"aggregations":{"sizes":{"buckets":[{"key":1000,"doc_count":%d},{"key":2000,"doc_count":%d}]}}}`,
			partitionActions-1, partitionActions-1)
	case bytes.Contains(body, []byte(`"actor.name.keyword"`)) && !bytes.Contains(body, []byte(`"after"`)):
		var page []string
		for i := range compositePage {
			page = append(page, fmt.Sprintf(`{"key":{"user":"u-%d","name":"A","email":"a@example.com"},"at":{"value":1}}`, i))
		}
		return fmt.Appendf(nil, `{"aggregations":{"pages":{"after_key":{"user":"u-%d"},"buckets":[%s]}}}`, compositePage-1, strings.Join(page, ","))
	case bytes.Contains(body, []byte(`"actor.name.keyword"`)):
		return []byte(`{"aggregations":{"pages":{"buckets":[{"key":{"user":"u-x","name":null,"email":null},"at":{"value":2}}]}}}`)
	}
	return []byte(`{"hits":{"total":{"value":0},"hits":[]},"aggregations":{}}`)
}

// TestPartitionedAnalysesFailWhole checks that a partition OpenSearch
// cannot answer fails the whole analysis, with no partial answer.
func TestPartitionedAnalysesFailWhole(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if bytes.Contains(b, []byte(`"sizes"`)) || bytes.Contains(b, []byte(`"actor.name.keyword"`)) || !bytes.Contains(b, []byte(`"gte":2000`)) {
			w.Write(answerOf(b))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable) // the second partition
		io.WriteString(w, `{"error":"shards starting"}`)
	}))
	defer srv.Close()
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	finder := NewFinder(client, "test")
	owner := activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner, TimeZone: "Europe/Berlin"}
	period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{Range: "90d"}, time.Now(), searchapi.Zone(owner.TimeZone))
	if err != nil {
		t.Fatal(err)
	}
	filter := searchapi.AnalyticsFilter{Period: period}
	if ts, err := finder.TimeSpent(t.Context(), owner, filter); activity.ErrorCode(err) != activity.EUNAVAILABLE {
		t.Errorf("time spent: %+v, %v; want EUNAVAILABLE", ts, err)
	}
	if en, err := finder.Engagement(t.Context(), owner, filter); activity.ErrorCode(err) != activity.EUNAVAILABLE {
		t.Errorf("engagement: %+v, %v; want EUNAVAILABLE", en, err)
	}
}
