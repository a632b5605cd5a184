package ingest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
)

// codecEvents are encoded events of every shape the generator makes, and
// some that test the edges of JSON.
func codecEvents(t *testing.T) [][]byte {
	t.Helper()
	gen := synthetic.New(7, 5, 4, time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC), 1500*time.Millisecond)
	var out [][]byte
	for range 2000 {
		b, err := json.Marshal(gen.Next())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	e := gen.Next()
	e.Actor.Name = "Zoë <script>&amp; \u2028\u2029 \"quoted\" \\ \t\x01 日本"
	e.Note = "a note with </html> and \U0001F600"
	e.Changes = []activity.Change{{Field: "status", Before: "available", After: "lost"}}
	e.Details = map[string]any{
		"count": 3.0, "big": 12345678901234567890.0, "small": 1e-7, "exp": 1e21, "neg": -0.5,
		"nested": map[string]any{"z": []any{1.0, "two", nil, true}, "a": map[string]any{}},
		"html":   "<b>&</b>", "empty": "",
	}
	e.Chain = &activity.Chain{Seq: 42, PrevHash: "ab", Hash: "cd", Digests: map[string]string{"note": "x", "actor.email": "y"}, Anonymized: []string{"note"}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, b)
	// Keys in another case, unknown keys, nulls and a raw invalid UTF-8
	// byte are read as encoding/json reads them.
	out = append(out, bytes.Replace(b, []byte(`"action"`), []byte(`"ACTION"`), 1))
	out = append(out, bytes.Replace(b, []byte(`"note"`), []byte(`"unknown":{"x":[1,2]},"note"`), 1))
	out = append(out, bytes.Replace(b, []byte(`"details"`), []byte(`"related":null,"details"`), 1))
	out = append(out, bytes.Replace(b, []byte("a note"), []byte("a \xff note"), 1))
	return out
}

// TestDecodeEventMatchesActivity holds the indexer's decoder to
// activity.DecodeEvent: the same event, or the same error.
func TestDecodeEventMatchesActivity(t *testing.T) {
	inputs := codecEvents(t)
	good := inputs[len(inputs)-5]
	inputs = append(inputs,
		[]byte(``), []byte(`{`), []byte(`[]`), []byte(`null`), []byte(`{"id":5}`),
		append(append([]byte{}, good...), []byte(` {}`)...),
		append(append([]byte{}, good...), []byte(`x`)...),
		bytes.Replace(good, []byte(`"schema":`), []byte(`"schema":"1",`+`"x":`), 1),
		bytes.Replace(good, []byte(`"action":"`), []byte(`"action":"no.`), 1),
	)
	for i, b := range inputs {
		want, wantErr := activity.DecodeEvent(b)
		got, err := DecodeEvent(b)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("input %d %q: error %v, want %v", i, b, err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("input %d %q: decoded\n%+v\nwant\n%+v", i, b, got, want)
		}
	}
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
