package opensearch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// TestAnalysesKeepTheScope runs every analysis against a stand-in for
// OpenSearch and checks each request: the activity log's scope comes
// first among the filters, then the period, and nothing is asked for a
// filter without a period.
func TestAnalysesKeepTheScope(t *testing.T) {
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, b)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"hits":{"total":{"value":0},"hits":[]},"aggregations":{}}`)
	}))
	defer srv.Close()
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	var analyst searchapi.Analyst = NewFinder(client, "test")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{From: "2026-03-01", To: "2026-03-31"}, time.Now(), berlin)
	if err != nil {
		t.Fatal(err)
	}
	analyses := map[string]func(context.Context, activity.Principal, searchapi.AnalyticsFilter) error{
		"heatmap": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.Heatmap(ctx, p, f)
			return err
		},
		"timeline": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.Timeline(ctx, p, f)
			return err
		},
		"top users": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.TopUsers(ctx, p, f)
			return err
		},
		"top assets": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.TopAssets(ctx, p, f)
			return err
		},
		"usage": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.Usage(ctx, p, f)
			return err
		},
		"logins": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.Logins(ctx, p, f)
			return err
		},
		"peak times": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.PeakTimes(ctx, p, f)
			return err
		},
		"time spent": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.TimeSpent(ctx, p, f)
			return err
		},
		"engagement": func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter) error {
			_, err := analyst.Engagement(ctx, p, f)
			return err
		},
	}
	owner := activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner}
	member := activity.Principal{WorkspaceID: "ws-1", UserID: "u-2", Role: activity.RoleViewer}
	for name, run := range analyses {
		for _, p := range []activity.Principal{owner, member} {
			t.Run(name+" as "+p.Role, func(t *testing.T) {
				bodies = nil
				if err := run(t.Context(), p, searchapi.AnalyticsFilter{}); activity.ErrorCode(err) != activity.EINVALID || len(bodies) != 0 {
					t.Fatalf("without a period: %v after %d requests", err, len(bodies))
				}
				if err := run(t.Context(), p, searchapi.AnalyticsFilter{Period: period}); err != nil {
					t.Fatal(err)
				}
				if len(bodies) != 1 {
					t.Fatalf("%d requests", len(bodies))
				}
				var req struct {
					Query struct {
						Bool struct {
							Filter []json.RawMessage `json:"filter"`
						} `json:"bool"`
					} `json:"query"`
					Size *int `json:"size"`
				}
				if err := json.Unmarshal(bodies[0], &req); err != nil {
					t.Fatalf("request body is not JSON: %s", bodies[0])
				}
				want := []string{`{"term":{"workspace_id":"ws-1"}}`}
				if p.Role == activity.RoleViewer {
					want = append(want, `{"term":{"actor.id":"u-2"}}`)
				}
				want = append(want, `{"range":{"occurred_at":{"gte":1772319600000,"lt":1774994400000,"format":"epoch_millis"}}}`)
				if len(req.Query.Bool.Filter) < len(want) {
					t.Fatalf("filters %s, want them to begin with %v", bodies[0], want)
				}
				for i, w := range want {
					if !sameJSON(t, req.Query.Bool.Filter[i], w) {
						t.Errorf("filter %d = %s, want %s", i, req.Query.Bool.Filter[i], w)
					}
				}
				if req.Size == nil || *req.Size != 0 {
					t.Errorf("an analysis asks for documents: %s", bodies[0])
				}
			})
		}
	}
}

// TestUserDayReadsEveryFeature checks that a bucket of the engagement
// reads the count of every feature the engagement asks for.
func TestUserDayReadsEveryFeature(t *testing.T) {
	bucket := map[string]any{"key": map[string]any{"user": "u-1", "day": "2026-03-02"}, "doc_count": 100, "logins": map[string]any{"doc_count": 2}}
	want := map[string]int64{}
	for i, f := range searchapi.Features {
		if _, ok := userDayAggs()["feature_"+f.Name]; !ok {
			t.Fatalf("the engagement does not ask for %s", f.Name)
		}
		bucket["feature_"+f.Name] = map[string]any{"doc_count": i + 1}
		want[f.Name] = int64(i + 1)
	}
	raw, err := json.Marshal(map[string]any{"aggregations": map[string]any{"pages": map[string]any{"buckets": []any{bucket}}}})
	if err != nil {
		t.Fatal(err)
	}
	var page []userDayBucket
	if _, err := pageOf(raw, 10, &page); err != nil || len(page) != 1 {
		t.Fatalf("%d buckets, %v", len(page), err)
	}
	d := page[0].userDay()
	if d.User != "u-1" || d.Date != "2026-03-02" || d.Actions != 100 || d.Logins != 2 || !reflect.DeepEqual(d.Features, want) {
		t.Errorf("read %+v, want features %v", d, want)
	}
}
