package ingest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/fluxera/activity/ingest/synthetic"
)

// TestDocumentAllocations bounds the allocations of turning one message
// into its document, which the indexer does for every event.
func TestDocumentAllocations(t *testing.T) {
	gen := synthetic.New(3, 2, 2, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), time.Second)
	var msgs []Message
	for range 64 {
		b, err := json.Marshal(gen.Next())
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, Message{Value: b})
	}
	ix := &Indexer{Config: Config{IndexPrefix: "fluxera"}, Now: time.Now}
	i := 0
	got := testing.AllocsPerRun(500, func() {
		if _, err := ix.document(msgs[i%len(msgs)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	t.Logf("%.1f allocations per document", got)
	if got > 32 {
		t.Errorf("a document takes %.0f allocations, want at most 32", got)
	}
}
