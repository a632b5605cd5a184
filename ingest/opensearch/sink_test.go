package opensearch_test

import (
	"encoding/json"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestSinkBulkItems sends creates to the real OpenSearch and checks how
// each item is classified: stored, stored before (a redelivery), and
// refused for good.
func TestSinkBulkItems(t *testing.T) {
	if !stacktest.Required() {
		t.Skip("the local stack is not required (make up, then FLUXERA_REQUIRE_STACK=1)")
	}
	osURL := stacktest.OpenSearchURL()
	stacktest.MustReach(t, "OpenSearch", stacktest.HostPort(osURL))
	cfg := ingestos.Config{URLs: []string{osURL}, IndexPrefix: "test-sink-" + stacktest.RandomID()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := ingestos.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := ingestos.EnsureTemplate(ctx, client, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteIndices(osURL, cfg.IndexPrefix) })

	e := activity.Event{Schema: 1, ID: activity.NewEventID(), WorkspaceID: activity.NewEventID(), OccurredAt: time.Now().UTC().Truncate(time.Millisecond),
		Action: "auth.login", Category: "auth", Outcome: "success", Actor: activity.Actor{Type: activity.ActorUser, Name: "Jane"}, Resource: activity.Resource{Type: "user"}}
	body, err := json.Marshal(ingest.NewDocument(e, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	index := activity.IndexName(cfg.IndexPrefix, e.OccurredAt)
	docs := []ingest.Document{
		{Index: index, ID: e.ID, Body: body},
		{Index: index, ID: e.ID, Body: body},
		{Index: index, ID: activity.NewEventID(), Body: []byte(`{"occurred_at":"not a date"}`)},
	}
	sink := ingestos.NewSink(client)
	for round := range 2 { // the second round reuses the first's buffer
		res, err := sink.Bulk(ctx, docs)
		if err != nil {
			t.Fatal(err)
		}
		want := []ingest.ItemResult{ingest.Indexed, ingest.Indexed, ingest.Rejected}
		for i, r := range res.Items {
			if r != want[i] {
				t.Errorf("round %d item %d: %v (%s), want %v", round, i, r, res.Reasons[i], want[i])
			}
		}
		if res.Reasons[2] == "" {
			t.Errorf("round %d: the refused item has no reason", round)
		}
	}
}
