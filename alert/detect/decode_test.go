package detect

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
)

// TestDecodeEventAgreesWithThePlatform decodes events of every shape, and
// payloads on the edges of JSON, with the detector's decoder and with
// activity.DecodeEvent: both give the same event, or both refuse it.
func TestDecodeEventAgreesWithThePlatform(t *testing.T) {
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
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := activity.DecodeEvent([]byte(tc.payload))
			got, err := decodeEvent([]byte(tc.payload))
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("decodeEvent error %v, activity.DecodeEvent error %v", err, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decodeEvent gave\n%#v\nactivity.DecodeEvent gave\n%#v", got, want)
			}
		})
	}
}
