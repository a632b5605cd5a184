package e2e

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/app"
)

// TestConsoleActivityAlerts walks Settings › Activity Alerts over HTTP: a
// preset and an alert with a condition on the asset's value created from
// the page's forms, a condition the rule cannot read refused with 400 on
// its field and nothing written, the alerts raised with their deliveries
// (an email with no SMTP server reads "email not configured"),
// acknowledge and resolve, the detection settings, and members and
// viewers told they may not, each refusal recorded.
func TestConsoleActivityAlerts(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Console alerts")
	b := newBrowser(t, m)
	b.mustSignIn(owner.email, owner.password)

	p := b.get("/settings/activity-alerts")
	if p.status != http.StatusOK || !strings.Contains(p.body, `href="/settings/activity-alerts" aria-current="page"`) ||
		!strings.Contains(p.body, "High-value asset assignments") || !strings.Contains(p.body, "No alerts yet") {
		t.Fatalf("alerts page: %d\n%s", p.status, p.body)
	}
	token := p.csrf(t)

	// A preset, as it stands.
	before := ob.last()
	if p := b.post("/settings/activity-alerts/rules", url.Values{"csrf": {token}, "preset": {"failed_logins"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/settings/activity-alerts?created=1" {
		t.Fatalf("create from preset: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	mustOneEvent(t, ob, before, "alert_rule.created")

	// An alert of the form's own: asset assignments by one person above
	// 2000 EUR, emailed to two addresses.
	form := url.Values{
		"csrf": {token}, "name": {"Expensive hand-outs"}, "activity_type": {"asset.assigned"}, "users": {owner.id},
		"severity": {"high"}, "method": {"email"}, "recipients": {"it@example.com, cfo@example.com"},
		"cond_field": {"asset.value"}, "cond_operator": {"gt"}, "cond_value": {"2000"}, "cond_currency": {"eur"},
	}
	before = ob.last()
	if p := b.post("/settings/activity-alerts/rules", form); p.status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", p.status, p.body)
	}
	e, _ := mustOneEvent(t, ob, before, "alert_rule.created")
	wantChange(t, e, "conditions", "", "asset.value > 2000 EUR")
	wantChange(t, e, "channels", "", "email to it@example.com and cfo@example.com")
	wantChange(t, e, "user_ids", "", owner.id)
	p = b.get("/settings/activity-alerts?created=1")
	if !strings.Contains(p.body, "The alert was created") || !strings.Contains(p.body, "Expensive hand-outs") || !strings.Contains(html.UnescapeString(p.body), "asset.value > 2000 EUR") {
		t.Errorf("the new alert is not listed:\n%s", p.body)
	}

	// Bad input: 400, the page again with what was typed, the field named,
	// and nothing written.
	for _, tt := range []struct {
		name, key, value, field string
	}{
		{"amount not a number", "cond_value", "2,000", "Amount"},
		{"no currency", "cond_currency", "", "Currency"},
		{"unknown operator", "cond_operator", "above", "Comparison"},
		{"unknown field", "cond_field", "asset.price", "Condition field"},
		{"bad recipient", "recipients", "not-an-address", "Recipients"},
		{"count not a number", "threshold", "three", "How many"},
		{"no name", "name", " ", "Name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set(tt.key, tt.value)
			before := ob.last()
			p := b.post("/settings/activity-alerts/rules", bad)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "<strong>"+tt.field+":</strong>") || !strings.Contains(p.body, `aria-invalid="true"`) {
				t.Fatalf("%d, want 400 naming %s:\n%s", p.status, tt.field, p.body)
			}
			if tt.key != "name" && !strings.Contains(p.body, `value="Expensive hand-outs"`) {
				t.Errorf("the form lost what was typed")
			}
			wantNoEvents(t, ob, before)
		})
	}
	if p := b.post("/settings/activity-alerts/rules", url.Values{"preset": {"role_changes"}}); p.status != http.StatusForbidden {
		t.Errorf("a form without its token: %d", p.status)
	}
	// Addresses the pages cannot read: a 4xx page that says why.
	for _, tt := range []struct {
		path   string
		status int
		says   string
	}{
		{"/settings/activity-alerts?state=burning", http.StatusBadRequest, "state must be open, acknowledged or resolved"},
		{"/settings/activity-alerts?cursor=not-a-cursor", http.StatusBadRequest, "cursor is not one this API gave out"},
		{"/settings/activity-alerts/alerts/not-an-id", http.StatusNotFound, "Not found"},
		{"/settings/activity-alerts/alerts/" + randomUUID(), http.StatusNotFound, "Not found"},
	} {
		if p := b.get(tt.path); p.status != tt.status || !strings.Contains(p.body, tt.says) {
			t.Errorf("%s: %d, want %d saying %q\n%s", tt.path, p.status, tt.status, tt.says, p.body)
		}
	}
	if p := b.post("/settings/activity-alerts/rules", url.Values{"csrf": {token}, "preset": {"everything"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "is not a preset") {
		t.Errorf("an unknown preset: %d\n%s", p.status, p.body)
	}

	// Alerts raised, with their deliveries: the email, sent with no SMTP
	// server, is not configured.
	var rules struct {
		AlertRules []alert.AlertRule `json:"alert_rules"`
	}
	owner.call("GET", "/api/v1/alert-rules", nil, nil).decode(t, &rules)
	raised := postgrestest.MustRaise(t, m.DB, mustAlert(t, m.DB, owner.id, rules.AlertRules[1].ID))
	q := postgres.NewAlertQueue(m.DB, postgrestest.MustKeyBox(t))
	claimed, err := q.Claim(t.Context(), 10, time.Now().Add(time.Second), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range claimed {
		a := alert.Attempt{DeliveryID: d.ID, At: time.Now(), Delivered: true}
		if d.Type == alert.ChannelEmail {
			a = alert.Attempt{DeliveryID: d.ID, At: time.Now(), Error: "no SMTP server is configured", NotConfigured: true}
		}
		if err := q.Record(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	p = b.get("/settings/activity-alerts")
	if !strings.Contains(p.body, `href="/settings/activity-alerts/alerts/`+raised.ID+`"`) || !strings.Contains(p.body, "email to cfo@example.com, it@example.com: <span class=\"delivery-not_configured\">email not configured</span>") {
		t.Fatalf("the raised alert and its deliveries:\n%s", p.body)
	}
	detail := b.get("/settings/activity-alerts/alerts/" + raised.ID)
	if detail.status != http.StatusOK || !strings.Contains(detail.body, "email not configured") || !strings.Contains(detail.body, ">Acknowledge</button>") {
		t.Fatalf("the alert's page: %d\n%s", detail.status, detail.body)
	}
	before = ob.last()
	if p := b.post("/settings/activity-alerts/alerts/"+raised.ID+"/acknowledge", url.Values{"csrf": {token}, "next": {"/settings/activity-alerts"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/settings/activity-alerts" {
		t.Fatalf("acknowledge: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	mustOneEvent(t, ob, before, alert.ActionAlertAcknowledged)
	if p := b.get("/settings/activity-alerts?state=acknowledged"); !strings.Contains(p.body, raised.ID) {
		t.Errorf("the acknowledged alert is not listed as such:\n%s", p.body)
	}
	if p := b.post("/settings/activity-alerts/alerts/"+raised.ID+"/acknowledge", url.Values{"csrf": {token}}); p.status != http.StatusConflict {
		t.Errorf("acknowledging twice: %d", p.status)
	}
	before = ob.last()
	if p := b.post("/settings/activity-alerts/alerts/"+raised.ID+"/resolve", url.Values{"csrf": {token}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/settings/activity-alerts/alerts/"+raised.ID {
		t.Fatalf("resolve: %d %q", p.status, p.header.Get("Location"))
	}
	mustOneEvent(t, ob, before, alert.ActionAlertResolved)
	if p := b.get("/settings/activity-alerts/alerts/" + raised.ID); strings.Contains(p.body, ">Resolve</button>") || !strings.Contains(p.body, "resolved by") {
		t.Errorf("the resolved alert's page:\n%s", p.body)
	}

	// Detection settings.
	p = b.get("/settings/activity-alerts/detection")
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="failed_logins.threshold" inputmode="numeric" value="3"`) {
		t.Fatalf("detection page: %d\n%s", p.status, p.body)
	}
	det := url.Values{"csrf": {token}}
	for name, s := range alert.DefaultDetectorSettings {
		if s.Enabled {
			det.Set(name+".enabled", "on")
		}
		det.Set(name+".severity", s.Severity)
		if s.Threshold != 0 {
			det.Set(name+".threshold", "3")
		}
		if s.WindowMinutes != 0 {
			det.Set(name+".window_minutes", "10")
		}
	}
	det.Set("failed_logins.threshold", "5")
	det.Del("unusual_location.enabled")
	before = ob.last()
	if p := b.post("/settings/activity-alerts/detection", det); p.status != http.StatusSeeOther {
		t.Fatalf("save detection: %d\n%s", p.status, p.body)
	}
	e, _ = mustOneEvent(t, ob, before, alert.ActionDetectionChanged)
	wantChange(t, e, "detectors.failed_logins.threshold", "3", "5")
	wantChange(t, e, "detectors.unusual_location.enabled", "true", "false")
	det.Set("failed_logins.threshold", "0")
	before = ob.last()
	if p := b.post("/settings/activity-alerts/detection", det); p.status != http.StatusBadRequest || !strings.Contains(p.body, "detectors.failed_logins.threshold") {
		t.Errorf("a bad threshold: %d\n%s", p.status, p.body)
	}
	wantNoEvents(t, ob, before)

	// Members and viewers are told they may not, and each refusal is
	// recorded; they see no link to the page.
	for _, role := range []string{activity.RoleMember, activity.RoleViewer} {
		who := mustRoleMember(t, m, owner.client, role)
		wb := newBrowser(t, m)
		wb.mustSignIn(who.email, who.password)
		if p := wb.get("/me/activity"); strings.Contains(p.body, `href="/settings/activity-alerts"`) {
			t.Errorf("%s is shown a link to the alerts", role)
		}
		for _, path := range []string{"/settings/activity-alerts", "/settings/activity-alerts/detection", "/settings/activity-alerts/alerts/" + raised.ID} {
			before := ob.last()
			p := wb.get(path)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "may not manage activity alerts") {
				t.Errorf("%s at %s: %d\n%s", role, path, p.status, p.body)
			}
			mustOneEvent(t, ob, before, "auth.access_denied")
		}
		before := ob.last()
		if p := wb.post("/settings/activity-alerts/rules", url.Values{"csrf": {wb.get("/me/activity").csrf(t)}, "preset": {"role_changes"}}); p.status != http.StatusForbidden {
			t.Errorf("%s creating an alert: %d", role, p.status)
		}
		mustOneEvent(t, ob, before, "auth.access_denied")
	}
}

// TestConsoleWorkspaceSettings saves Settings › Workspace from its form:
// the new time zone shows on every page at once, working hours and days
// and retention are saved and recorded, bad input is refused with 400 on
// its field and nothing written, and only owners and admins may.
func TestConsoleWorkspaceSettings(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Console settings")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	b := newBrowser(t, m)
	b.mustSignIn(admin.email, admin.password)

	p := b.get("/settings/workspace")
	if p.status != http.StatusOK || !strings.Contains(p.body, `href="/settings/workspace" aria-current="page"`) || !strings.Contains(p.body, `name="time_zone"`) {
		t.Fatalf("settings page: %d\n%s", p.status, p.body)
	}
	token := p.csrf(t)
	form := url.Values{
		"csrf": {token}, "name": {"Console settings"}, "time_zone": {"America/New_York"},
		"working_hours_start": {"08:30"}, "working_hours_end": {"17:30"}, "working_days": {"mon", "tue", "wed", "thu"},
		"active_log_days": {"200"}, "log_retention_days": {"400"}, "deleted_user_log_days": {"90"}, "note": {"the team moved"},
	}
	before := ob.last()
	if p := b.post("/settings/workspace", form); p.status != http.StatusSeeOther || p.header.Get("Location") != "/settings/workspace?saved=1" {
		t.Fatalf("save: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	e, _ := mustOneEvent(t, ob, before, "system.settings_changed")
	wantChange(t, e, "time_zone", "Europe/Berlin", "America/New_York")
	wantChange(t, e, "working_hours_start", "09:00", "08:30")
	wantChange(t, e, "log_retention_days", "2555", "400")
	wantChange(t, e, "active_log_days", "0", "200")
	if e.Note != "the team moved" {
		t.Errorf("note %q", e.Note)
	}
	p = b.get("/settings/workspace?saved=1")
	if !strings.Contains(p.body, "Times are now shown in America/New_York") || !strings.Contains(p.body, "time zone (America/New_York)") ||
		!strings.Contains(p.body, `id="day-thu" name="working_days" value="thu" checked`) || strings.Contains(p.body, `value="fri" checked`) {
		t.Fatalf("after saving:\n%s", p.body)
	}
	if p := b.get("/me/activity"); !strings.Contains(p.body, "time zone (America/New_York)") {
		t.Errorf("another page still shows the old time zone")
	}

	for _, tt := range []struct{ name, key, value, field string }{
		{"unknown time zone", "time_zone", "Mars/Olympus", "Time zone"},
		{"end before start", "working_hours_end", "07:00", "Working hours end"},
		{"retention too short", "log_retention_days", "7", "Log retention days"},
		{"retention not a number", "log_retention_days", "a year", "Log retention days"},
		{"searchable longer than kept", "active_log_days", "500", "Active log days"},
		{"not a day", "working_days", "someday", "Working days"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set(tt.key, tt.value)
			before := ob.last()
			p := b.post("/settings/workspace", bad)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "<strong>"+tt.field+":</strong>") {
				t.Fatalf("%d, want 400 naming %s:\n%s", p.status, tt.field, p.body)
			}
			if !strings.Contains(p.body, `value="`+html.EscapeString(tt.value)+`"`) && tt.key != "working_days" {
				t.Errorf("the form lost what was typed")
			}
			wantNoEvents(t, ob, before)
		})
	}

	for _, role := range []string{activity.RoleMember, activity.RoleViewer} {
		who := mustRoleMember(t, m, owner.client, role)
		wb := newBrowser(t, m)
		wb.mustSignIn(who.email, who.password)
		before := ob.last()
		if p := wb.get("/settings/workspace"); p.status != http.StatusForbidden || !strings.Contains(p.body, "may not change the workspace&#39;s settings") {
			t.Errorf("%s: %d\n%s", role, p.status, p.body)
		}
		mustOneEvent(t, ob, before, "auth.access_denied")
		before = ob.last()
		if p := wb.post("/settings/workspace", url.Values{"csrf": {wb.get("/me/activity").csrf(t)}, "time_zone": {"UTC"}}); p.status != http.StatusForbidden {
			t.Errorf("%s saving: %d", role, p.status)
		}
		mustOneEvent(t, ob, before, "auth.access_denied")
	}
}
