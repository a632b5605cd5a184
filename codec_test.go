package activity_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
)

// encodings are the generated events and JSON edges the decoders are
// held to encoding/json over, with broken and invalid events beside them.
func encodings(t *testing.T) [][]byte {
	t.Helper()
	inputs, err := synthetic.Encodings(7, 2000)
	if err != nil {
		t.Fatal(err)
	}
	good := inputs[len(inputs)-5]
	inputs = append(inputs,
		[]byte(``), []byte(`{`), []byte(`[]`), []byte(`null`), []byte(`{"id":5}`),
		append(append([]byte{}, good...), []byte(` {}`)...),
		append(append([]byte{}, good...), []byte(`x`)...),
		bytes.Replace(good, []byte(`"schema":`), []byte(`"schema":"1",`+`"x":`), 1),
		bytes.Replace(good, []byte(`"action":"`), []byte(`"action":"no.`), 1),
		bytes.Replace(good, []byte(`Zo`), []byte("Z\xff"), 1),
	)
	inputs = append(inputs, edges(t)...)
	return inputs
}

// edges are payloads on the edges of JSON and of the event: names in
// another case or twice, escapes, invalid UTF-8, nulls, unknown fields,
// wrong types, missing or malformed values, and cut short.
func edges(t *testing.T) [][]byte {
	t.Helper()
	full := activity.NewEvent(activity.NewEventID(), "asset.updated", time.Date(2026, 3, 9, 10, 0, 0, 123e6, time.UTC))
	full.Actor = activity.Actor{ID: activity.NewEventID(), Type: activity.ActorUser, Email: "ada@example.com", Name: "Ada Lovelace — ✓", Role: activity.RoleMember}
	full.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: "MacBook \"Pro\" <16>"}
	full.Related = []activity.Resource{{Type: "license", ID: activity.NewEventID(), Name: "Office"}}
	full.Changes = []activity.Change{{Field: "status", Before: "in_stock", After: "assigned"}, {Field: "note", Redacted: true}}
	full.Context = activity.Context{IP: "2001:db8::1", UserAgent: "Mozilla/5.0", SessionID: "s-1", RequestID: "r-1", Method: activity.MethodWeb,
		Location: &activity.Location{Country: "DE", City: "Berlin", Network: "Example Telecom"}}
	full.Note = "line one\nline two\u2028"
	full.Details = map[string]any{"value": "1299.50", "count": 3.0, "big": 1e300, "id": float64(1 << 60), "nested": map[string]any{"list": []any{"a", 1.5, true, nil}}, "empty": map[string]any{}}
	full.Chain = &activity.Chain{Seq: 42, PrevHash: "ab", Hash: "cd", Digests: map[string]string{"actor.email": "ef"}}
	bare := activity.NewEvent(activity.NewEventID(), "auth.login", time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC))
	bare.Actor = activity.Actor{ID: activity.NewEventID(), Type: activity.ActorUser}
	encode := func(e activity.Event) string {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name    string
		payload string
	}{
		{"every field", encode(full)},
		{"few fields", encode(bare)},
		{"names in another case", strings.Replace(strings.Replace(encode(bare), `"action"`, `"Action"`, 1), `"workspace_id"`, `"WORKSPACE_ID"`, 1)},
		{"a name twice", strings.Replace(encode(bare), `{`, `{"action":"auth.logout",`, 1)},
		{"escaped characters", strings.Replace(encode(bare), `"auth.login"`, `"auth.\u006cogin"`, 1)},
		{"invalid UTF-8", strings.Replace(encode(full), "Berlin", "Berl\xffin", 1)},
		{"null details and location", strings.Replace(encode(bare), `{`, `{"details":null,"note":null,`, 1)},
		{"an unknown field", strings.Replace(encode(bare), `{`, `{"extra":{"a":[1,2]},`, 1)},
		{"a number as a string field", strings.Replace(encode(bare), `"auth.login"`, `12`, 1)},
		{"no workspace", strings.Replace(encode(bare), bare.WorkspaceID, "", 1)},
		{"a time without zone", strings.Replace(encode(bare), "2026-03-09T10:00:00Z", "2026-03-09T10:00:00", 1)},
		{"cut short", encode(full)[:100]},
		{"not an object", `["a"]`},
		{"empty", ``},
	}
	out := make([][]byte, len(tests))
	for i, tc := range tests {
		out[i] = []byte(tc.payload)
	}
	return out
}

// TestUnmarshalEventReadsWhatEncodingJSONReads holds UnmarshalEvent to
// json.Unmarshal: the same event, or the same error.
func TestUnmarshalEventReadsWhatEncodingJSONReads(t *testing.T) {
	for i, b := range encodings(t) {
		var want, got activity.Event
		wantErr := json.Unmarshal(b, &want)
		err := activity.UnmarshalEvent(b, &got)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("input %d %q: error %v, want %v", i, b, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("input %d %q: decoded\n%+v\nwant\n%+v", i, b, got, want)
		}
	}
}

// TestDecodeEventReadsWhatEncodingJSONReads holds DecodeEvent to the
// event encoding/json reads and validates: the same event, or the same
// error, malformed or invalid.
func TestDecodeEventReadsWhatEncodingJSONReads(t *testing.T) {
	reference := func(b []byte) (activity.Event, error) {
		var e activity.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return activity.Event{}, activity.Errorf(activity.EINVALID, "", "malformed event JSON: %v", err)
		}
		if err := e.Validate(); err != nil {
			return activity.Event{}, err
		}
		return e, nil
	}
	for i, b := range encodings(t) {
		want, wantErr := reference(b)
		got, err := activity.DecodeEvent(b)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("input %d %q: error %v, want %v", i, b, err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("input %d %q: decoded\n%+v\nwant\n%+v", i, b, got, want)
		}
	}
}
