package opensearch

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/servertiming"
	"github.com/fluxera/activity/searchapi"
)

// TestFindEventsSaysWhereItsTimeWent has OpenSearch answer a page after
// 20 ms and checks that the request's Server-Timing holds one search of
// at least that long and its decoding.
func TestFindEventsSaysWhereItsTimeWent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(20 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"took":1,"hits":{"total":{"value":1},"hits":[{"_source":{"id":"e-1","action":"asset.created"},"sort":[1,"e-1"]}]}}`)
	}))
	defer srv.Close()
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	var timing servertiming.Timing
	ctx := servertiming.With(context.Background(), &timing)
	page, err := NewFinder(client, "test").FindEvents(ctx, activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner}, searchapi.EventFilter{})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("FindEvents: %v, %d entries", err, len(page.Entries))
	}
	got := timing.Header(time.Second)
	m := regexp.MustCompile(`^search;dur=(\d+\.\d{3}), decode;dur=\d+\.\d{3}, app;dur=1000\.000$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("Server-Timing %q", got)
	}
	if search, _ := strconv.ParseFloat(m[1], 64); search < 20 {
		t.Errorf("the search took %s ms, less than OpenSearch took to answer", m[1])
	}
}
