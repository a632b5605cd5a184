// Package ostest stores activity events in a test's own indices exactly as
// the indexer would, for tests of what reads them.
package ostest

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// MustIndices returns a client of the local stack's OpenSearch and the
// configuration of an index prefix of the test's own ("test-" + name + a
// random id, one shard), whose indices and index template are deleted
// when the test ends. Without the stack it skips the test, or fails it
// under make test.
func MustIndices(t testing.TB, name string) (*opensearchapi.Client, ingestos.Config) {
	t.Helper()
	url := stacktest.OpenSearchURL()
	stacktest.MustReach(t, "OpenSearch", stacktest.HostPort(url))
	cfg := ingestos.Config{URLs: []string{url}, IndexPrefix: "test-" + name + "-" + stacktest.RandomID(), Shards: 1}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := ingestos.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, path := range []string{"/" + activity.IndexPattern(cfg.IndexPrefix), "/_index_template/" + activity.IndexAlias(cfg.IndexPrefix)} {
			req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, url+path, nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}
	})
	return client, cfg
}

// MustIndex installs the index template of cfg and indexes events under
// cfg's prefix as the indexer's documents, in one bulk request, then
// refreshes them so that they are searchable. It fails the test when an
// event is not indexed.
func MustIndex(t testing.TB, client *opensearchapi.Client, cfg ingestos.Config, events []activity.Event) {
	t.Helper()
	MustIndexAs(t, client, cfg, events, func(_ int, doc ingest.SearchDocument) any { return doc })
}

// MustIndexAs is MustIndex with the stored body of the i-th event's
// document made by as: for entries stored as an earlier version of the
// indexer stored them, say.
func MustIndexAs(t testing.TB, client *opensearchapi.Client, cfg ingestos.Config, events []activity.Event, as func(i int, doc ingest.SearchDocument) any) {
	t.Helper()
	ctx := t.Context()
	if err := ingestos.EnsureTemplate(ctx, client, cfg); err != nil {
		t.Fatal(err)
	}
	docs := make([]ingest.Document, len(events))
	for i, e := range events {
		b, err := json.Marshal(as(i, ingest.NewDocument(e, time.Now())))
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
