package ingest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
)

// codecEvents are encoded events of every shape the generator makes, and
// some that test the edges of JSON.
func codecEvents(t *testing.T) [][]byte {
	t.Helper()
	out, err := synthetic.Encodings(7, 2000)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEncodeDocumentMatchesJSON holds the indexer's document encoder to
// encoding/json, byte for byte.
func TestEncodeDocumentMatchesJSON(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i, b := range codecEvents(t) {
		e, err := activity.DecodeEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		doc := NewDocument(e, now)
		doc.Client = Client{Browser: "Safari", BrowserVersion: "17", OS: "macOS 14.4", Device: "desktop"}
		if i%2 == 0 {
			doc.Context.Location = &activity.Location{Country: "GB", City: "London"}
			doc.Restored = &activity.Restored{}
		}
		want, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeDocument(&doc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("event %d: encoded\n%s\nwant\n%s", i, got, want)
		}
	}
}
