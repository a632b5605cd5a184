// Package ostest stores activity events in a test's own indices exactly as
// the indexer would, for tests of what reads them.
package ostest

import (
	"encoding/json"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// MustIndex installs the index template of cfg and indexes events under
// cfg's prefix as the indexer's documents, in one bulk request, then
// refreshes them so that they are searchable. It fails the test when an
// event is not indexed.
func MustIndex(t testing.TB, client *opensearchapi.Client, cfg ingestos.Config, events []activity.Event) {
	t.Helper()
	ctx := t.Context()
	if err := ingestos.EnsureTemplate(ctx, client, cfg); err != nil {
		t.Fatal(err)
	}
	docs := make([]ingest.Document, len(events))
	for i, e := range events {
		b, err := json.Marshal(ingest.NewDocument(e, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = ingest.Document{Index: activity.IndexName(cfg.IndexPrefix, e.OccurredAt), ID: e.ID, Body: b}
	}
	res, err := ingestos.NewSink(client).Bulk(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Items {
		if r != ingest.Indexed {
			t.Fatalf("event %d not indexed: %s", i, res.Reasons[i])
		}
	}
	if err := ingestos.Refresh(ctx, client, cfg.IndexPrefix); err != nil {
		t.Fatal(err)
	}
}
