package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/internal/app"
)

// mustOneEvent fails unless exactly one event was written since seq, of
// the given action, and returns it with its raw JSON.
func mustOneEvent(t *testing.T, ob *outbox, seq int64, action string) (activity.Event, string) {
	t.Helper()
	events, raws := ob.since(seq)
	if len(events) != 1 || events[0].Action != action {
		var got []string
		for _, e := range events {
			got = append(got, e.Action)
		}
		t.Fatalf("wrote %v, want one %s", got, action)
	}
	return events[0], raws[0]
}

// wantNoEvents fails when anything was written since seq.
func wantNoEvents(t *testing.T, ob *outbox, seq int64) {
	t.Helper()
	if events, _ := ob.since(seq); len(events) != 0 {
		t.Errorf("wrote %d events, want none", len(events))
	}
}

// wantError fails unless a is an error of that status and field.
func wantError(t *testing.T, a answer, status int, field string) {
	t.Helper()
	var e errorAnswer
	a.decode(t, &e)
	if a.status != status || e.Error.Field != field || e.Error.Message == "" {
		t.Errorf("answered %d %s, want %d on field %q", a.status, a.body, status, field)
	}
}

const publicHook = "https://93.184.216.34/hooks/T000/B000/sekrit-token"

// TestAlertRulesOverHTTP creates rules from fields and from presets,
// reads, changes and deletes them, and checks each change wrote one event
// and each refusal none.
func TestAlertRulesOverHTTP(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Rules")

	// The presets are the guide's examples.
	var presets struct {
		Presets []struct {
			Name, Group string
			Rule        struct {
				Name          string   `json:"name"`
				ActivityTypes []string `json:"activity_types"`
				Threshold     int      `json:"threshold"`
				WindowMinutes int      `json:"window_minutes"`
				Severity      string   `json:"severity"`
			}
		}
	}
	a := owner.call("GET", "/api/v1/alert-rules/presets", nil, nil)
	a.decode(t, &presets)
	if a.status != 200 || len(presets.Presets) != len(alert.AlertPresets) {
		t.Fatalf("presets: %d %s", a.status, a.body)
	}
	for i, p := range presets.Presets {
		want := alert.AlertPresets[i]
		if p.Name != want.Name || p.Group != want.Group || p.Rule.Name != want.Rule.Name || len(p.Rule.ActivityTypes) == 0 || p.Rule.Threshold < 1 || p.Rule.Severity == "" {
			t.Errorf("preset %d: %+v", i, p)
		}
	}
	if fl := presets.Presets[0]; fl.Name != "failed_logins" || fl.Rule.Threshold != 3 || fl.Rule.WindowMinutes != 10 {
		t.Errorf("failed_logins preset: %+v", fl)
	}

	// From a preset, with an override; no channels: owners and admins by email.
	before := ob.last()
	var fromPreset alert.AlertRule
	a = owner.call("POST", "/api/v1/alert-rules", map[string]any{"preset": "failed_logins", "severity": "critical", "note": "as the guide says"}, nil)
	a.decode(t, &fromPreset)
	if a.status != 201 || fromPreset.Preset != "failed_logins" || fromPreset.Severity != "critical" || fromPreset.Threshold != 3 || fromPreset.WindowMinutes != 10 ||
		!fromPreset.Enabled || !slices.Equal(fromPreset.ActivityTypes, []string{"auth.login_failed"}) || len(fromPreset.Channels) != 1 ||
		!slices.Equal(fromPreset.Channels[0].Roles, []string{"owner", "admin"}) || fromPreset.UserIDs == nil {
		t.Fatalf("create from preset: %d %s", a.status, a.body)
	}
	e, _ := mustOneEvent(t, ob, before, "alert_rule.created")
	if e.Resource != (activity.Resource{Type: "alert_rule", ID: fromPreset.ID, Name: "Failed login attempts"}) || e.Category != activity.CategorySystem || e.Note != "as the guide says" || e.Actor.ID != owner.id {
		t.Errorf("alert_rule.created: %+v", e)
	}
	wantChange(t, e, "severity", "", "critical")
	wantChange(t, e, "threshold", "0", "3")
	wantChange(t, e, "channels", "", "email to roles owner, admin")
	wantChange(t, e, "preset", "", "failed_logins")

	// From its fields, with a webhook whose URL carries a token.
	before = ob.last()
	var custom alert.AlertRule
	a = owner.call("POST", "/api/v1/alert-rules", map[string]any{
		"name": "Key views", "activity_types": []string{"License.Key_Viewed", "user.*"}, "user_ids": []string{owner.id}, "outcome": "success",
		"threshold": 2, "window_minutes": 30, "group_by": "ip", "severity": "high",
		"channels": []map[string]any{{"type": "webhook", "url": publicHook}, {"type": "email", "to": []string{"SOC@example.com"}, "roles": []string{"admin"}}},
	}, nil)
	a.decode(t, &custom)
	if a.status != 201 || custom.Preset != "" || !slices.Equal(custom.ActivityTypes, []string{"license.key_viewed", "user.*"}) || custom.GroupBy != "ip" ||
		custom.Channels[1].To[0] != "soc@example.com" || !slices.Equal(custom.UserIDs, []string{owner.id}) {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	e, raw := mustOneEvent(t, ob, before, "alert_rule.created")
	if strings.Contains(raw, "sekrit") {
		t.Errorf("the event shows the webhook URL's token: %s", raw)
	}
	if c, _ := changeOf(e, "channels"); !strings.Contains(c.After, "webhook 93.184.216.34 #") || !strings.Contains(c.After, "email to soc@example.com and roles admin") {
		t.Errorf("channels recorded as %q", c.After)
	}

	// Read back.
	var list struct {
		AlertRules []alert.AlertRule `json:"alert_rules"`
	}
	owner.call("GET", "/api/v1/alert-rules", nil, nil).decode(t, &list)
	if len(list.AlertRules) != 2 || list.AlertRules[0].ID != fromPreset.ID || list.AlertRules[1].ID != custom.ID {
		t.Fatalf("list: %+v", list)
	}
	var got alert.AlertRule
	owner.call("GET", "/api/v1/alert-rules/"+custom.ID, nil, nil).decode(t, &got)
	if got.ID != custom.ID || got.Channels[0].URL != publicHook || got.Threshold != 2 {
		t.Errorf("get: %+v", got)
	}

	// A partial update records the fields it changed.
	before = ob.last()
	a = owner.call("PATCH", "/api/v1/alert-rules/"+custom.ID, map[string]any{"severity": "low", "enabled": false, "user_ids": []string{}, "note": "too noisy"}, nil)
	a.decode(t, &got)
	if a.status != 200 || got.Severity != "low" || got.Enabled || len(got.UserIDs) != 0 || got.Threshold != 2 || got.Name != "Key views" || !got.UpdatedAt.After(custom.UpdatedAt) {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	e, _ = mustOneEvent(t, ob, before, "alert_rule.updated")
	if len(e.Changes) != 3 || e.Note != "too noisy" {
		t.Errorf("alert_rule.updated changes %+v note %q", e.Changes, e.Note)
	}
	wantChange(t, e, "severity", "high", "low")
	wantChange(t, e, "enabled", "true", "false")
	wantChange(t, e, "user_ids", owner.id, "")

	// An update that changes nothing records nothing.
	before = ob.last()
	if a := owner.call("PATCH", "/api/v1/alert-rules/"+custom.ID, map[string]any{"severity": "low", "name": "Key views"}, nil); a.status != 200 {
		t.Fatalf("unchanging update: %d %s", a.status, a.body)
	}
	wantNoEvents(t, ob, before)

	// Bad input names its field and writes nothing.
	email := []map[string]any{{"type": "email", "to": []string{"a@example.com"}}}
	for _, tt := range []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"threshold without window", "POST", "", map[string]any{"name": "x", "activity_types": []string{"auth"}, "threshold": 5, "channels": email}, "window_minutes"},
		{"unknown activity type", "POST", "", map[string]any{"name": "x", "activity_types": []string{"licence deleted"}, "channels": email}, "activity_types"},
		{"bad channel type", "POST", "", map[string]any{"name": "x", "activity_types": []string{"auth"}, "channels": []map[string]any{{"type": "sms", "to": []string{"a@example.com"}}}}, "channels[0].type"},
		{"bad email", "POST", "", map[string]any{"name": "x", "activity_types": []string{"auth"}, "channels": []map[string]any{{"type": "email", "to": []string{"not-an-address"}}}}, "channels[0].to"},
		{"private webhook", "POST", "", map[string]any{"name": "x", "activity_types": []string{"auth"}, "channels": []map[string]any{{"type": "email", "to": []string{"a@example.com"}}, {"type": "webhook", "url": "http://10.1.2.3/hook"}}}, "channels[1].url"},
		{"loopback chat", "POST", "", map[string]any{"name": "x", "activity_types": []string{"auth"}, "channels": []map[string]any{{"type": "chat", "url": "http://127.0.0.1:8080/x"}}}, "channels[0].url"},
		{"metadata webhook", "POST", "", map[string]any{"preset": "role_changes", "channels": []map[string]any{{"type": "webhook", "url": "http://169.254.169.254/latest"}}}, "channels[0].url"},
		{"no channels", "POST", "", map[string]any{"name": "x", "activity_types": []string{"auth"}}, "channels"},
		{"unknown preset", "POST", "", map[string]any{"preset": "everything"}, "preset"},
		{"unknown field", "POST", "", map[string]any{"preset": "role_changes", "recipients": []string{"a@example.com"}}, "recipients"},
		{"nested unknown field", "POST", "", map[string]any{"preset": "role_changes", "channels": []map[string]any{{"type": "email", "to": []string{"a@example.com"}, "cc": "b"}}}, "cc"},
		{"user of no one", "POST", "", map[string]any{"preset": "role_changes", "user_ids": []string{randomUUID()}}, "user_ids"},
		{"not a user id", "POST", "", map[string]any{"preset": "role_changes", "user_ids": []string{"jane"}}, "user_ids"},
		{"bad severity", "POST", "", map[string]any{"preset": "role_changes", "severity": "urgent"}, "severity"},
		{"bad group", "POST", "", map[string]any{"preset": "role_changes", "group_by": "asset"}, "group_by"},
		{"threshold as text", "POST", "", map[string]any{"preset": "role_changes", "threshold": "3"}, "threshold"},
		{"update: threshold without window", "PATCH", custom.ID, map[string]any{"threshold": 5, "window_minutes": 0}, "window_minutes"},
		{"update: refused url", "PATCH", custom.ID, map[string]any{"channels": []map[string]any{{"type": "webhook", "url": "https://192.168.1.10/x"}}}, "channels[0].url"},
		{"update: empty name", "PATCH", custom.ID, map[string]any{"name": " "}, "name"},
		{"update: long note", "PATCH", custom.ID, map[string]any{"severity": "high", "note": strings.Repeat("n", 2001)}, "note"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := ob.last()
			path := "/api/v1/alert-rules"
			if tt.path != "" {
				path += "/" + tt.path
			}
			wantError(t, owner.call(tt.method, path, tt.body, nil), 400, tt.field)
			wantNoEvents(t, ob, before)
		})
	}
	owner.call("GET", "/api/v1/alert-rules/"+custom.ID, nil, nil).decode(t, &got)
	if got.Severity != "low" || got.Channels[0].URL != publicHook {
		t.Errorf("a refused update changed the rule: %+v", got)
	}

	// Another workspace's rules, and malformed ids, are not found.
	other := mustOwner(t, m, cfg, "Elsewhere")
	before = ob.last()
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/alert-rules/" + custom.ID},
		{"PATCH", "/api/v1/alert-rules/" + custom.ID},
		{"DELETE", "/api/v1/alert-rules/" + custom.ID},
		{"GET", "/api/v1/alert-rules/not-a-uuid"},
		{"PATCH", "/api/v1/alert-rules/presets"},
	} {
		a := other.call(c.method, c.path, map[string]any{"severity": "high"}, nil)
		if c.method == "GET" || c.method == "DELETE" {
			a = other.call(c.method, c.path, nil, nil)
		}
		wantError(t, a, 404, "")
	}
	wantNoEvents(t, ob, before)
	if a := other.call("GET", "/api/v1/alert-rules", nil, nil); strings.Contains(string(a.body), custom.ID) {
		t.Errorf("another workspace lists the rule: %s", a.body)
	}

	// Members and viewers may not; admins may. Each refusal is recorded once.
	for _, role := range []string{activity.RoleMember, activity.RoleViewer} {
		who := mustRoleMember(t, m, owner.client, role)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/alert-rules", nil},
			{"GET", "/api/v1/alert-rules/presets", nil},
			{"POST", "/api/v1/alert-rules", map[string]any{"preset": "role_changes"}},
			{"PATCH", "/api/v1/alert-rules/" + custom.ID, map[string]any{"severity": "high"}},
			{"DELETE", "/api/v1/alert-rules/" + custom.ID, nil},
		} {
			before := ob.last()
			wantError(t, who.call(c.method, c.path, c.body, nil), 403, "")
			if e, _ := mustOneEvent(t, ob, before, "auth.access_denied"); e.Actor.ID != who.id || e.Resource.Type != "alert_rule" {
				t.Errorf("refusal recorded as %+v", e)
			}
		}
	}
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	if a := admin.call("GET", "/api/v1/alert-rules/"+custom.ID, nil, nil); a.status != 200 {
		t.Errorf("admin reading a rule: %d %s", a.status, a.body)
	}

	// Deleting records every field as it was.
	before = ob.last()
	if a := admin.call("DELETE", "/api/v1/alert-rules/"+custom.ID, map[string]string{"note": "replaced"}, nil); a.status != 204 {
		t.Fatalf("delete: %d %s", a.status, a.body)
	}
	e, _ = mustOneEvent(t, ob, before, "alert_rule.deleted")
	if e.Note != "replaced" || e.Actor.ID != admin.id || e.Resource.ID != custom.ID {
		t.Errorf("alert_rule.deleted: %+v", e)
	}
	wantChange(t, e, "name", "Key views", "")
	wantChange(t, e, "window_minutes", "30", "0")
	wantError(t, owner.call("GET", "/api/v1/alert-rules/"+custom.ID, nil, nil), 404, "")
	before = ob.last()
	wantError(t, owner.call("DELETE", "/api/v1/alert-rules/"+custom.ID, nil, nil), 404, "")
	wantNoEvents(t, ob, before)
	if a := owner.call("GET", "/api/v1/alert-rules", nil, nil); a.status != http.StatusOK || strings.Contains(string(a.body), custom.ID) {
		t.Errorf("list after delete: %d %s", a.status, a.body)
	}
}
