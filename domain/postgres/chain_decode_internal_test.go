package postgres

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
)

// TestDecodePayloadReadsWhatEncodingJSONReads holds the relay's decoding
// of outbox payloads to encoding/json's, so that the chain's canonical
// form, and so every hash, is what it was: synthetic events, an event
// with every awkward field, keys in another case, unknown keys, nulls,
// invalid UTF-8 and broken JSON.
func TestDecodePayloadReadsWhatEncodingJSONReads(t *testing.T) {
	gen := synthetic.New(11, 5, 4, time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC), 1500*time.Millisecond)
	var inputs [][]byte
	for range 2000 {
		b, err := json.Marshal(gen.Next())
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	e := gen.Next()
	e.Actor.Name = "Zoë <script>&amp; \u2028\u2029 \"quoted\" \\ \t\x01 日本"
	e.Note = "a note with </html> and \U0001F600"
	e.Changes = []activity.Change{{Field: "status", Before: "available", After: "lost"}}
	e.Details = map[string]any{
		"count": 3.0, "big": 12345678901234567890.0, "small": 1e-7, "exp": 1e21, "neg": -0.5,
		"nested": map[string]any{"z": []any{1.0, "two", nil, true}, "a": map[string]any{}},
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, b,
		bytes.Replace(b, []byte(`"action"`), []byte(`"ACTION"`), 1),
		bytes.Replace(b, []byte(`"note"`), []byte(`"unknown":{"x":[1,2]},"note"`), 1),
		bytes.Replace(b, []byte(`"details"`), []byte(`"related":null,"details"`), 1),
		bytes.Replace(b, []byte(`Zo`), []byte("Z\xff"), 1),
		[]byte(`{`), []byte(`[]`), []byte(`{"id":5}`),
	)
	for i, in := range inputs {
		var want, got activity.Event
		wantErr := json.Unmarshal(in, &want)
		err := decodePayload(in, &got)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("input %d %q: error %v, want %v", i, in, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("input %d %q: decoded\n%+v\nwant\n%+v", i, in, got, want)
		}
	}
}
