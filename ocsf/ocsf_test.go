package ocsf_test

import (
	"encoding/json"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ocsf"
	"github.com/fluxera/activity/ocsf/ocsftest"
	"github.com/fluxera/activity/searchapi"
)

func sample(action string, mod func(*activity.Event)) activity.Event {
	e := activity.NewEvent("0195c1a8-6b1e-7000-8000-000000000001", action, time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	e.Actor = activity.Actor{ID: "0195c1a8-6b1e-7000-8000-0000000000aa", Email: "ana@example.com", Name: "Ana", Role: activity.RoleAdmin, Type: activity.ActorUser}
	e.Resource = activity.Resource{Type: "asset", ID: "0195c1a8-6b1e-7000-8000-0000000000bb", Name: "Laptop 12"}
	e.Context = activity.Context{IP: "192.0.2.10", UserAgent: "Mozilla/5.0", SessionID: "s-1", RequestID: "r-1", Method: activity.MethodWeb,
		Location: &activity.Location{Country: "FR", City: "Paris", Network: "Example ISP"}}
	if mod != nil {
		mod(&e)
	}
	return e
}

func TestClass(t *testing.T) {
	token := func(e *activity.Event) { e.Actor.Type = activity.ActorAPIToken }
	tests := []struct {
		action   string
		mod      func(*activity.Event)
		class    int
		activity int
	}{
		{"auth.login", nil, ocsf.ClassAuthentication, 1},
		{"auth.login_failed", nil, ocsf.ClassAuthentication, 1},
		{"auth.logout", nil, ocsf.ClassAuthentication, 2},
		{"user.password_changed", nil, ocsf.ClassAccountChange, 3},
		{"user.profile_updated", nil, ocsf.ClassAccountChange, 99},
		{"user.created", nil, ocsf.ClassAccountChange, 1},
		{"user.deactivated", nil, ocsf.ClassAccountChange, 5},
		{"asset.created", nil, ocsf.ClassEntityManagement, 1},
		{"asset.updated", nil, ocsf.ClassEntityManagement, 3},
		{"asset.deleted", nil, ocsf.ClassEntityManagement, 4},
		{"asset.updated", token, ocsf.ClassEntityManagement, 3},
		{"license.assigned", nil, ocsf.ClassEntityManagement, 3},
		{"license.key_viewed", nil, ocsf.ClassEntityManagement, 2},
		{"user.role_changed", nil, ocsf.ClassUserAccessManagement, 1},
		{"user.api_token_created", nil, ocsf.ClassUserAccessManagement, 1},
		{"user.api_token_revoked", nil, ocsf.ClassUserAccessManagement, 2},
		{"system.data_exported", nil, ocsf.ClassEntityManagement, 2},
		{"system.data_exported", token, ocsf.ClassAPIActivity, 2},
		{"system.settings_changed", token, ocsf.ClassAPIActivity, 3},
		{"alert_rule.created", token, ocsf.ClassAPIActivity, 1},
		{"auth.access_denied", token, ocsf.ClassAPIActivity, 99},
		{"alert_rule.deleted", nil, ocsf.ClassEntityManagement, 4},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			class, act, name := ocsf.Class(sample(tt.action, tt.mod))
			if class != tt.class || act != tt.activity || name == "" {
				t.Errorf("Class(%s) = %d/%d %q, want %d/%d", tt.action, class, act, name, tt.class, tt.activity)
			}
		})
	}
}

// TestEveryActionHasAClass holds the mapping to the catalogue of actions:
// each becomes an event whose type is its class and activity.
func TestEveryActionHasAClass(t *testing.T) {
	for _, a := range searchapi.Actions {
		o := ocsf.Map(sample(a, nil), "")
		if o.ClassUID == 0 || o.TypeUID != o.ClassUID*100+o.ActivityID || o.CategoryUID != o.ClassUID/1000 {
			t.Errorf("%s: class %d activity %d type %d category %d", a, o.ClassUID, o.ActivityID, o.TypeUID, o.CategoryUID)
		}
	}
}

func TestMapKeepsUnmapped(t *testing.T) {
	e := sample("asset.updated", func(e *activity.Event) {
		e.Changes = []activity.Change{{Field: "status", Before: "in use", After: "retired"}}
		e.Note = "end of lease"
		e.Details = map[string]any{"batch": "b-7"}
	})
	o := ocsf.Map(e, "1.2.3")
	b, _ := json.Marshal(o)
	var got map[string]any
	json.Unmarshal(b, &got)
	un := got["unmapped"].(map[string]any)
	if un["note"] != "end of lease" || un["action"] != "asset.updated" || un["changes"] == nil || un["details"] == nil {
		t.Errorf("unmapped = %v", un)
	}
	md := got["metadata"].(map[string]any)
	if md["version"] != ocsf.SchemaVersion || md["uid"] != e.ID || md["product"].(map[string]any)["version"] != "1.2.3" {
		t.Errorf("metadata = %v", md)
	}
	if got["time"].(float64) != float64(e.OccurredAt.UnixMilli()) {
		t.Errorf("time = %v", got["time"])
	}
	if o.SrcEndpoint.IP != "192.0.2.10" || o.SrcEndpoint.Location.City != "Paris" {
		t.Errorf("src_endpoint = %+v", o.SrcEndpoint)
	}
}

// TestMappedEventsMatchTheSchema validates an event of every action, and
// of the unusual actors (anonymous, system, API token, no address),
// against the OCSF schema from PyPI.
func TestMappedEventsMatchTheSchema(t *testing.T) {
	var lines [][]byte
	add := func(e activity.Event) {
		b, err := ocsf.Marshal(e, "dev")
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}
	for _, a := range searchapi.Actions {
		add(sample(a, nil))
		add(sample(a, func(e *activity.Event) { e.Actor.Type = activity.ActorAPIToken; e.Outcome = activity.OutcomeFailure }))
	}
	add(sample("auth.login_failed", func(e *activity.Event) {
		e.Actor = activity.Actor{Email: "who@example.com", Type: activity.ActorAnonymous}
		e.Outcome = activity.OutcomeFailure
	}))
	add(sample("auth.login_failed", func(e *activity.Event) { e.Actor = activity.Actor{Type: activity.ActorAnonymous} }))
	add(sample("system.report_generated", func(e *activity.Event) {
		e.Actor = activity.Actor{Type: activity.ActorSystem}
		e.Context = activity.Context{Method: activity.MethodSystem}
		e.Resource = activity.Resource{Type: "report"}
	}))
	add(sample("auth.access_denied", func(e *activity.Event) { e.Actor.Type = activity.ActorAPIToken; e.Context = activity.Context{} }))
	add(sample("user.role_changed", func(e *activity.Event) {
		e.Resource = activity.Resource{Type: "user", ID: "0195c1a8-6b1e-7000-8000-0000000000cc", Name: "Bo"}
		e.Changes = []activity.Change{{Field: "role", Before: "viewer", After: "admin"}}
	}))
	add(sample("user.api_token_created", func(e *activity.Event) {
		e.Resource = activity.Resource{Type: "api_token", ID: "0195c1a8-6b1e-7000-8000-0000000000dd", Name: "SIEM"}
		e.Details = map[string]any{"scopes": []string{"activity:read"}}
	}))
	ocsftest.MustValidate(t, lines)
	t.Logf("%d events valid under OCSF %s", len(lines), ocsf.SchemaVersion)
}
