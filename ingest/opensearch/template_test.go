package opensearch_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/ingest/opensearch/ostest"
	"github.com/fluxera/activity/ingest/synthetic"
)

// TestTemplateAddsLaterFieldsToExistingIndices creates a monthly index
// with the mapping as it was before the session key and the time in
// milliseconds, then installs the template as the indexer does when it
// starts: a document with the later fields is then stored in that index,
// not refused by its strict mapping.
func TestTemplateAddsLaterFieldsToExistingIndices(t *testing.T) {
	client, cfg := ostest.MustIndices(t, "later-fields")
	e := synthetic.New(3, 1, 2, time.Now().Add(-time.Hour), time.Second).Next()
	e.Context.SessionID = "s-1"
	index := activity.IndexName(cfg.IndexPrefix, e.OccurredAt)

	mapping := ingestos.Mappings()
	props := mapping["properties"].(map[string]any)
	delete(props, "session_key")
	delete(props, "occurred_ms")
	send(t, client.Client, http.MethodPut, "/"+index, map[string]any{"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0}, "mappings": mapping})

	doc := ingest.NewDocument(e, time.Now())
	if doc.SessionKey == "" || doc.OccurredMS != e.OccurredAt.UnixMilli() {
		t.Fatalf("document without its keys: %q, %d", doc.SessionKey, doc.OccurredMS)
	}
	if status := send(t, client.Client, http.MethodPut, "/"+index+"/_doc/"+e.ID, doc); status != http.StatusBadRequest {
		t.Fatalf("a document with a field the old mapping lacks: status %d, want 400 (strict mapping)", status)
	}
	if err := ingestos.EnsureTemplate(t.Context(), client, cfg); err != nil {
		t.Fatal(err)
	}
	if status := send(t, client.Client, http.MethodPut, "/"+index+"/_doc/"+e.ID, doc); status != http.StatusCreated {
		t.Fatalf("after the template: status %d, want 201", status)
	}
}

func send(t *testing.T, client interface {
	Perform(*http.Request) (*http.Response, error)
}, method, path string, body any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Perform(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
