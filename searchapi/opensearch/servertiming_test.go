package opensearch

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/servertiming"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// TestFindEventsSaysWhereItsTimeWent reads a page from the real OpenSearch
// and checks that the request's Server-Timing holds its one search and
// the decoding of its answer, each taking some time.
func TestFindEventsSaysWhereItsTimeWent(t *testing.T) {
	ws := activity.NewEventID()
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	var events []activity.Event
	for i := range 3 {
		e := activity.NewEvent(ws, "asset.updated", start.Add(time.Duration(i)*time.Minute))
		e.Actor = activity.Actor{ID: activity.NewEventID(), Name: "Ann Lee", Email: "ann@example.com", Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: "Laptop"}
		events = append(events, e)
	}
	ix := mustActivityIndex(t, events)
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{stacktest.OpenSearchURL()}}})
	if err != nil {
		t.Fatal(err)
	}
	var timing servertiming.Timing
	ctx := servertiming.With(context.Background(), &timing)
	page, err := NewFinder(client, ix.prefix).FindEvents(ctx, owner(ws), searchapi.EventFilter{})
	if err != nil || len(page.Entries) != len(events) {
		t.Fatalf("FindEvents: %v, %d entries", err, len(page.Entries))
	}
	got := timing.Header(time.Second)
	m := regexp.MustCompile(`^search;dur=(\d+\.\d{3}), decode;dur=(\d+\.\d{3}), app;dur=1000\.000$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("Server-Timing %q", got)
	}
	for i, name := range []string{"search", "decode"} {
		if d, _ := strconv.ParseFloat(m[1+i], 64); d <= 0 {
			t.Errorf("the %s took %s ms", name, m[1+i])
		}
	}
}
