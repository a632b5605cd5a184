package http

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/searchapi"
)

// TestEncodePageIsWhatEncodingJSONWrites holds the listing's encoder to
// encoding/json, byte for byte, over generated entries and the awkward
// ones: HTML, separators, control characters, invalid UTF-8, numbers at
// the edges of float64, chain links, restored entries and facets.
func TestEncodePageIsWhatEncodingJSONWrites(t *testing.T) {
	raw, err := synthetic.Encodings(7, 2000)
	if err != nil {
		t.Fatal(err)
	}
	odd := []string{"", "\"quoted\"", `back\slash`, "tab\tnew\nline\r\x01\x1f", "<b>&amp;</b>", "\u2028\u2029", "Zoë 日本 \U0001F600", "del\x7f", "bad\xffutf8", "=HYPERLINK(\"x\")"}
	var entries []searchapi.Entry
	for i, b := range raw {
		var e activity.Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		entry := searchapi.Entry{Event: e, Summary: odd[i%len(odd)]}
		if i%7 == 0 {
			entry.Restored = &activity.Restored{ID: odd[i%len(odd)], ExpiresAt: time.Date(2026, 12, 1, 10, 0, 0, 123000000, time.FixedZone("x", 3600))}
		}
		entries = append(entries, entry)
	}
	pages := []searchapi.EventPage{
		{Entries: []searchapi.Entry{}},
		{Entries: entries[:1], Total: 1},
		{
			Entries: entries, Total: 1 << 40, NextCursor: "a.b-c_d",
			Facets: &searchapi.Facets{
				Users:         []searchapi.UserFacet{{ID: odd[4], Name: odd[8], Email: odd[5], Count: 3}},
				Actions:       []searchapi.Facet{{Value: odd[1], Count: 2}},
				ResourceTypes: []searchapi.Facet{},
			},
		},
	}
	for _, e := range entries {
		pages = append(pages, searchapi.EventPage{Entries: []searchapi.Entry{e}, Total: 1})
	}
	for i, p := range pages {
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodePage(p)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("page %d:\n%s\nwant\n%s", i, got, want)
		}
	}
}
