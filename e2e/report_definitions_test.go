package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
)

// definitionBody is a valid custom report definition, with fields to
// change for a test.
func definitionBody(change map[string]any) map[string]any {
	b := map[string]any{
		"name":    "Weekly security digest",
		"metrics": []string{"heatmap", "actions_by_action", "distinct_users"},
		"filters": map[string]any{"activity_types": []string{"auth", "user.role_changed"}, "outcome": "failure", "q": "-ip:192.0.2.1"},
		"period":  "last_7_days",
		"formats": []string{"csv", "pdf"},
		"schedule": map[string]any{
			"frequency": "weekly", "weekday": "Monday", "hour": 8,
		},
		"recipients": []map[string]any{
			{"type": "email", "to": []string{"CFO@Example.com"}, "roles": []string{"owner", "admin"}},
			{"type": "webhook", "url": "http://127.0.0.1:9/hooks/reports?token=sekrit"},
		},
	}
	for k, v := range change {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// TestReportDefinitions defines a custom report over HTTP and reads,
// changes, runs and deletes it, as owners and admins may; checks that
// members and viewers are refused and recorded, that another workspace's
// definition is not found, that every change writes one event with its
// changes, and that bad input is refused naming its field with nothing
// kept. A run now is kept like any report, listed with its definition,
// and its files are in the archive.
func TestReportDefinitions(t *testing.T) {
	cfg := MustStack(t)
	cfg.Targets.AllowLoopback = true // the webhook of the valid body is on loopback; nothing is sent here
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Definitions")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	memberRole := mustRoleMember(t, m, owner.client, activity.RoleMember)
	viewer := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	berlin, _ := time.LoadLocation("Europe/Berlin")

	// Create, as the owner.
	before := ob.last()
	a := owner.call("POST", "/api/v1/report-definitions", definitionBody(map[string]any{"note": "for the audit committee"}), nil)
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	var d report.Definition
	a.decode(t, &d)
	if a.header.Get("Location") != "/api/v1/report-definitions/"+d.ID {
		t.Errorf("Location %q", a.header.Get("Location"))
	}
	if !slices.Equal(d.Metrics, []string{"distinct_users", "actions_by_action", "heatmap"}) || !slices.Equal(d.Formats, []string{"pdf", "csv"}) ||
		d.Schedule != (report.Schedule{Frequency: "weekly", Weekday: "monday", Hour: 8}) || !d.Enabled ||
		d.Recipients[0].To[0] != "cfo@example.com" || !slices.Equal(d.Filters.ActivityTypes, []string{"auth", "user.role_changed"}) {
		t.Errorf("the kept definition is not in its one form: %s", a.body)
	}
	if d.NextRunAt == nil || !d.NextRunAt.Equal(d.Schedule.Next(d.CreatedAt, berlin)) || d.NextRunAt.In(berlin).Weekday() != time.Monday || d.NextRunAt.In(berlin).Hour() != 8 {
		t.Errorf("next run at %v, want the next Monday 08:00 in Berlin after %s", d.NextRunAt, d.CreatedAt)
	}
	e, raw := mustOneEvent(t, ob, before, report.ActionDefinitionCreated)
	if e.Resource != (activity.Resource{Type: "report_definition", ID: d.ID, Name: "Weekly security digest"}) || e.Actor.ID != owner.id || e.Note != "for the audit committee" {
		t.Errorf("created event: %+v", e)
	}
	wantChange(t, e, "schedule", "", "every Monday at 08:00")
	wantChange(t, e, "metrics", "", "distinct_users, actions_by_action, heatmap")
	if strings.Contains(raw, "sekrit") {
		t.Error("the event spells out the webhook URL and its token")
	}

	// Read and change, as an admin.
	var list struct {
		Definitions []report.Definition `json:"report_definitions"`
	}
	admin.call("GET", "/api/v1/report-definitions", nil, nil).decode(t, &list)
	if len(list.Definitions) != 1 || list.Definitions[0].ID != d.ID {
		t.Fatalf("list: %+v", list)
	}
	if a := admin.call("GET", "/api/v1/report-definitions/"+d.ID, nil, nil); a.status != http.StatusOK {
		t.Fatalf("find: %d %s", a.status, a.body)
	}
	before = ob.last()
	a = admin.call("PATCH", "/api/v1/report-definitions/"+d.ID, map[string]any{"schedule": map[string]any{"frequency": "monthly", "day": 31, "hour": 6}, "note": "month end"}, nil)
	if a.status != http.StatusOK {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	var changed report.Definition
	a.decode(t, &changed)
	if changed.NextRunAt == nil || changed.NextRunAt.In(berlin).Hour() != 6 || changed.Name != d.Name {
		t.Errorf("updated: %s", a.body)
	}
	e, _ = mustOneEvent(t, ob, before, report.ActionDefinitionUpdated)
	if len(e.Changes) != 1 || e.Actor.ID != admin.id || e.Note != "month end" {
		t.Errorf("updated event changes %+v", e.Changes)
	}
	wantChange(t, e, "schedule", "every Monday at 08:00", "every month on day 31 at 06:00")
	before = ob.last()
	if a := admin.call("PATCH", "/api/v1/report-definitions/"+d.ID, map[string]any{"name": d.Name}, nil); a.status != http.StatusOK {
		t.Fatalf("an update that changes nothing: %d %s", a.status, a.body)
	}
	wantNoEvents(t, ob, before)

	// Members and viewers are refused, each refusal recorded.
	for _, who := range []member{memberRole, viewer} {
		for _, call := range []struct{ method, path string }{
			{"GET", "/api/v1/report-definitions"}, {"POST", "/api/v1/report-definitions"},
			{"GET", "/api/v1/report-definitions/" + d.ID}, {"PATCH", "/api/v1/report-definitions/" + d.ID},
			{"DELETE", "/api/v1/report-definitions/" + d.ID}, {"POST", "/api/v1/report-definitions/" + d.ID + "/run"},
		} {
			before := ob.last()
			var body any
			if call.method == "POST" || call.method == "PATCH" {
				body = definitionBody(nil)
			}
			a := who.call(call.method, call.path, body, nil)
			wantError(t, a, http.StatusForbidden, "")
			if events, _ := ob.since(before); len(events) != 1 || events[0].Action != domain.ActionAccessDenied || events[0].Actor.ID != who.id {
				t.Errorf("%s %s as %s: the refusal wrote %d events, want one auth.access_denied", call.method, call.path, who.role, len(events))
			}
		}
	}

	// Bad input is refused naming its field; nothing is kept or recorded.
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
		// createOnly marks a body whose fault an update, which keeps
		// what it leaves out, does not have.
		createOnly bool
	}{
		{"no name", definitionBody(map[string]any{"name": " "}), "name", false},
		{"no metric", definitionBody(map[string]any{"metrics": []string{}}), "metrics", false},
		{"an unknown metric", definitionBody(map[string]any{"metrics": []string{"distinct_users", "actions_by_moon"}}), "metrics", false},
		{"a metric twice", definitionBody(map[string]any{"metrics": []string{"heatmap", "Heatmap"}}), "metrics", false},
		{"an unknown frequency", definitionBody(map[string]any{"schedule": map[string]any{"frequency": "hourly", "hour": 1}}), "schedule.frequency", false},
		{"no schedule", definitionBody(map[string]any{"schedule": nil}), "schedule.frequency", true},
		{"a weekly schedule without its day", definitionBody(map[string]any{"schedule": map[string]any{"frequency": "weekly", "hour": 8}}), "schedule.weekday", false},
		{"a made-up weekday", definitionBody(map[string]any{"schedule": map[string]any{"frequency": "weekly", "weekday": "caturday", "hour": 8}}), "schedule.weekday", false},
		{"day 32", definitionBody(map[string]any{"schedule": map[string]any{"frequency": "monthly", "day": 32}}), "schedule.day", false},
		{"hour 24", definitionBody(map[string]any{"schedule": map[string]any{"frequency": "daily", "hour": 24}}), "schedule.hour", false},
		{"an hour that is no number", definitionBody(map[string]any{"schedule": map[string]any{"frequency": "daily", "hour": "8am"}}), "schedule.hour", false},
		{"a schedule that is text", definitionBody(map[string]any{"schedule": "every Monday"}), "schedule", false},
		{"an unknown period", definitionBody(map[string]any{"period": "last_year"}), "period", false},
		{"an unknown format", definitionBody(map[string]any{"formats": []string{"pdf", "docx"}}), "formats", false},
		{"a user that is no id", definitionBody(map[string]any{"filters": map[string]any{"users": []string{"olga"}}}), "filters.users", false},
		{"an action the platform does not record", definitionBody(map[string]any{"filters": map[string]any{"activity_types": []string{"asset.exploded"}}}), "filters.activity_types", false},
		{"an unknown outcome", definitionBody(map[string]any{"filters": map[string]any{"outcome": "maybe"}}), "filters.outcome", false},
		{"an unreadable search", definitionBody(map[string]any{"filters": map[string]any{"q": `"unclosed`}}), "filters.q", false},
		{"a bad email", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "email", "to": []string{"not an address"}}}}), "recipients[0].to", false},
		{"an unknown role", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "email", "roles": []string{"boss"}}}}), "recipients[0].roles", false},
		{"a role that may not see the whole workspace", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "email", "roles": []string{"admin", "viewer"}}}}), "recipients[0].roles", false},
		{"an email without anyone", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "email"}}}), "recipients[0].to", false},
		{"a chat", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "chat", "url": "http://127.0.0.1:9/chat"}}}), "recipients[0].type", false},
		{"a URL that is not http", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "webhook", "url": "ftp://127.0.0.1/hooks"}}}), "recipients[0].url", false},
		{"a URL with a password", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "webhook", "url": "http://user:pw@127.0.0.1/hooks"}}}), "recipients[0].url", false},
		{"a private address", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "email", "to": []string{"a@example.com"}}, {"type": "webhook", "url": "http://10.1.2.3/hooks"}}}), "recipients[1].url", false},
		{"a cloud metadata address", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "webhook", "url": "http://169.254.169.254/latest/meta-data"}}}), "recipients[0].url", false},
		{"two webhooks", definitionBody(map[string]any{"recipients": []map[string]any{{"type": "webhook", "url": "http://127.0.0.1:9/a"}, {"type": "webhook", "url": "http://127.0.0.1:9/b"}}}), "recipients[1].url", false},
		{"an unknown field", definitionBody(map[string]any{"colour": "blue"}), "colour", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := ob.last()
			wantError(t, owner.call("POST", "/api/v1/report-definitions", tt.body, nil), http.StatusBadRequest, tt.field)
			if !tt.createOnly {
				wantError(t, owner.call("PATCH", "/api/v1/report-definitions/"+d.ID, tt.body, nil), http.StatusBadRequest, tt.field)
			}
			wantNoEvents(t, ob, before)
		})
	}
	owner.call("GET", "/api/v1/report-definitions", nil, nil).decode(t, &list)
	if len(list.Definitions) != 1 || list.Definitions[0].Schedule.Frequency != "monthly" {
		t.Fatalf("a refused request kept something: %+v", list.Definitions)
	}

	// Another workspace finds nothing of it.
	stranger := mustOwner(t, m, cfg, "Elsewhere")
	for _, call := range []struct{ method, path string }{
		{"GET", "/api/v1/report-definitions/" + d.ID}, {"PATCH", "/api/v1/report-definitions/" + d.ID},
		{"DELETE", "/api/v1/report-definitions/" + d.ID}, {"POST", "/api/v1/report-definitions/" + d.ID + "/run"},
	} {
		var body any
		if call.method == "PATCH" {
			body = map[string]any{"name": "Mine now"}
		}
		wantError(t, stranger.call(call.method, call.path, body, nil), http.StatusNotFound, "")
	}
	if a := stranger.call("GET", "/api/v1/report-definitions", nil, nil); strings.Contains(string(a.body), d.ID) {
		t.Error("another workspace lists the definition")
	}

	// Run it now, as the admin: a report kept with its definition, its
	// files archived, recorded as generated.
	before = ob.last()
	a = admin.call("POST", "/api/v1/report-definitions/"+d.ID+"/run", nil, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("run: %d %s", a.status, a.body)
	}
	var r report.Report
	a.decode(t, &r)
	today := time.Now().In(berlin)
	wantFrom := time.Date(today.Year(), today.Month(), today.Day()-7, 0, 0, 0, 0, berlin)
	if r.Type != searchapi.ReportCustom || r.DefinitionID != d.ID || r.ScheduledFor != nil || r.GeneratedBy.ID != admin.id ||
		r.Result.Custom == nil || r.Result.Custom.DistinctUsers == nil || r.Result.Custom.Heatmap == nil || r.Result.Custom.ByAction == nil ||
		!r.Period.From.Equal(wantFrom) || r.Scope != report.ScopeWorkspace {
		t.Errorf("the run's report: %s", a.body)
	}
	if len(r.Files) != 2 || !strings.HasSuffix(r.Files[0].Name, ".pdf") || !strings.HasSuffix(r.Files[1].Name, ".csv") {
		t.Fatalf("files %+v, want the PDF and the CSV", r.Files)
	}
	e, _ = mustOneEvent(t, ob, before, domain.ActionReportGenerated)
	if e.Resource.ID != r.ID || e.Actor.ID != admin.id || e.Details["definition_id"] != d.ID {
		t.Errorf("generated event: %+v", e)
	}
	var page report.Page
	owner.call("GET", "/api/v1/reports?definition_id="+d.ID, nil, nil).decode(t, &page)
	if len(page.Reports) != 1 || page.Reports[0].ID != r.ID || page.Reports[0].DefinitionID != d.ID || page.Reports[0].Type != "custom" {
		t.Errorf("reports of the definition: %+v", page)
	}
	wantError(t, owner.call("GET", "/api/v1/reports?definition_id=nope", nil, nil), http.StatusBadRequest, "definition_id")
	var archive struct {
		Files []domain.ArchiveObject `json:"files"`
	}
	owner.call("GET", "/api/v1/archive?kind=report", nil, nil).decode(t, &archive)
	for _, f := range r.Files {
		if !slices.ContainsFunc(archive.Files, func(o domain.ArchiveObject) bool { return o.Name == f.Name && o.Size == f.Size }) {
			t.Errorf("the archive does not list %s", f.Name)
		}
		if a := owner.call("GET", "/api/v1/archive/"+f.Name, nil, nil); a.status != http.StatusOK || int64(len(a.body)) != f.Size {
			t.Errorf("download %s: %d, %d bytes", f.Name, a.status, len(a.body))
		}
	}

	// Delete, as the owner; its report stays.
	before = ob.last()
	if a := owner.call("DELETE", "/api/v1/report-definitions/"+d.ID, map[string]string{"note": "replaced"}, nil); a.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", a.status, a.body)
	}
	e, _ = mustOneEvent(t, ob, before, report.ActionDefinitionDeleted)
	wantChange(t, e, "name", "Weekly security digest", "")
	wantError(t, owner.call("GET", "/api/v1/report-definitions/"+d.ID, nil, nil), http.StatusNotFound, "")
	if a := owner.call("GET", "/api/v1/reports/"+r.ID, nil, nil); a.status != http.StatusOK {
		t.Errorf("the report of a deleted definition: %d", a.status)
	}
}
