package activity_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
)

func sampleEvent() activity.Event {
	e := activity.NewEvent("0196f3a4-2b1c-7d3e-8f40-5a6b7c8d9e0f", "asset.updated", time.Date(2026, 11, 18, 14, 30, 0, 123456789, time.FixedZone("CET", 3600)))
	e.Actor = activity.Actor{ID: "u-1", Email: "john@example.com", Name: "John Doe", Role: activity.RoleAdmin, Type: activity.ActorUser}
	e.Resource = activity.Resource{Type: "asset", ID: "a-1", Name: "MacBook Pro A-1029"}
	e.Related = []activity.Resource{{Type: "user", ID: "u-2", Name: "Jane Roe", Role: "assignee"}}
	e.Changes = []activity.Change{{Field: "status", Before: "available", After: "assigned"}, {Field: "key", Redacted: true}}
	e.Context = activity.Context{IP: "203.0.113.7", UserAgent: "Mozilla/5.0", SessionID: "s-1", RequestID: "r-1", Method: activity.MethodWeb, TimeZone: "Europe/Berlin"}
	e.Note = "handed over at the front desk"
	e.Details = map[string]any{"batch": "b-7"}
	return e
}

func TestEventJSONRoundTrip(t *testing.T) {
	e := sampleEvent()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := activity.DecodeEvent(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip changed the event:\n got %+v\nwant %+v", got, e)
	}
	for _, field := range []string{`"schema":1`, `"workspace_id":"0196f3a4-2b1c-7d3e-8f40-5a6b7c8d9e0f"`, `"occurred_at":"2026-11-18T13:30:00.123Z"`, `"category":"asset"`, `"redacted":true`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("encoded event lacks %s: %s", field, b)
		}
	}
}

func TestNewEvent(t *testing.T) {
	e := activity.NewEvent("ws", "license.key_viewed", time.Now())
	if e.OccurredAt.Location() != time.UTC || e.OccurredAt.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("occurred_at %v is not UTC milliseconds", e.OccurredAt)
	}
	if e.Category != activity.CategoryLicense {
		t.Errorf("category = %q", e.Category)
	}
	if a, b := activity.NewEventID(), activity.NewEventID(); a >= b {
		t.Errorf("event ids are not time ordered: %s then %s", a, b)
	}
}

func TestCategoryOf(t *testing.T) {
	for action, want := range map[string]string{
		"asset.created":          activity.CategoryAsset,
		"license.key_viewed":     activity.CategoryLicense,
		"user.role_changed":      activity.CategoryUser,
		"invitation.accepted":    activity.CategoryUser,
		"auth.login_failed":      activity.CategoryAuth,
		"settings.changed":       activity.CategorySystem,
		"report.generated":       activity.CategorySystem,
		"no-dot":                 activity.CategorySystem,
		"integration.configured": activity.CategorySystem,
	} {
		if got := activity.CategoryOf(action); got != want {
			t.Errorf("CategoryOf(%q) = %q, want %q", action, got, want)
		}
	}
}

func TestDecodeEventRejects(t *testing.T) {
	valid := sampleEvent()
	tests := []struct {
		name  string
		edit  func(e *activity.Event)
		raw   string
		field string
	}{
		{name: "malformed JSON", raw: `{"schema":1,`},
		{name: "unknown schema", edit: func(e *activity.Event) { e.Schema = 99 }, field: "schema"},
		{name: "bad id", edit: func(e *activity.Event) { e.ID = "nope" }, field: "id"},
		{name: "no workspace", edit: func(e *activity.Event) { e.WorkspaceID = "" }, field: "workspace_id"},
		{name: "workspace not a UUID", edit: func(e *activity.Event) { e.WorkspaceID = "ws-1" }, field: "workspace_id"},
		{name: "workspace with a suffix", edit: func(e *activity.Event) { e.WorkspaceID = activity.PlatformWorkspace + "x" }, field: "workspace_id"},
		{name: "no time", edit: func(e *activity.Event) { e.OccurredAt = time.Time{} }, field: "occurred_at"},
		{name: "bad action", edit: func(e *activity.Event) { e.Action = "Asset Updated" }, field: "action"},
		{name: "bad outcome", edit: func(e *activity.Event) { e.Outcome = "maybe" }, field: "outcome"},
		{name: "no actor type", edit: func(e *activity.Event) { e.Actor.Type = "" }, field: "actor.type"},
		{name: "no resource type", edit: func(e *activity.Event) { e.Resource.Type = "" }, field: "resource.type"},
		{name: "bad ip", edit: func(e *activity.Event) { e.Context.IP = "10.0.0.999" }, field: "context.ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if tt.edit != nil {
				e := valid
				tt.edit(&e)
				raw, _ = json.Marshal(e)
			}
			_, err := activity.DecodeEvent(raw)
			if activity.ErrorCode(err) != activity.EINVALID {
				t.Fatalf("err = %v, want an invalid error", err)
			}
			if got := activity.ErrorField(err); got != tt.field {
				t.Errorf("field = %q, want %q", got, tt.field)
			}
		})
	}
}
