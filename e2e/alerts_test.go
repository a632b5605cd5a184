package e2e

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/app"
)

// alertAnswer is an alert as the API answers it.
type alertAnswer struct {
	alert.Alert
	Deliveries []alert.AlertDelivery `json:"deliveries"`
}

// TestAlertStatesOverHTTP acknowledges and resolves alerts and checks the
// states they may move through, each move's event and the refusals.
func TestAlertStatesOverHTTP(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "States")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)
	rule := mustID(t, owner.call("POST", "/api/v1/alert-rules", map[string]string{"preset": "license_deletions"}, nil), "rule")
	first := postgrestest.MustRaise(t, m.DB, mustAlert(t, m.DB, owner.id, rule))
	second := postgrestest.MustRaise(t, m.DB, postgrestest.Alert(first.WorkspaceID, alert.DetectFailedLogins, time.Now().UTC(), "high"))

	var a alertAnswer
	res := owner.call("GET", "/api/v1/alerts/"+first.ID, nil, nil)
	res.decode(t, &a)
	if res.status != 200 || a.State != alert.AlertOpen || a.RuleID != rule || !slices.Equal(a.EventIDs, first.EventIDs) || a.Summary != first.Summary ||
		a.Subject != first.Subject || a.Count != 3 || a.Window != "10m0s" || a.AcknowledgedBy != nil {
		t.Fatalf("open alert: %d %s", res.status, res.body)
	}

	// open → acknowledged, with a note.
	before := ob.last()
	res = admin.call("POST", "/api/v1/alerts/"+first.ID+"/acknowledge", map[string]string{"note": "looking into it"}, nil)
	res.decode(t, &a)
	if res.status != 200 || a.State != alert.AlertAcknowledged || a.AcknowledgedAt == nil || a.AcknowledgedBy == nil ||
		a.AcknowledgedBy.ID != admin.id || a.AcknowledgedBy.Email != admin.email || a.ResolvedAt != nil {
		t.Fatalf("acknowledge: %d %s", res.status, res.body)
	}
	e, _ := mustOneEvent(t, ob, before, "alert.acknowledged")
	if e.Resource != (activity.Resource{Type: "alert", ID: first.ID, Name: first.Summary}) || e.Note != "looking into it" || e.Actor.ID != admin.id ||
		e.Category != activity.CategorySystem || e.Details["rule_id"] != rule || e.Details["severity"] != "medium" {
		t.Errorf("alert.acknowledged: %+v", e)
	}
	wantChange(t, e, "state", "open", "acknowledged")

	// Acknowledging twice is a conflict, and writes nothing.
	before = ob.last()
	wantError(t, owner.call("POST", "/api/v1/alerts/"+first.ID+"/acknowledge", nil, nil), 409, "state")
	wantNoEvents(t, ob, before)

	// acknowledged → resolved, without a body.
	res = owner.call("POST", "/api/v1/alerts/"+first.ID+"/resolve", nil, nil)
	res.decode(t, &a)
	if res.status != 200 || a.State != alert.AlertResolved || a.ResolvedBy == nil || a.ResolvedBy.ID != owner.id || a.AcknowledgedBy.ID != admin.id {
		t.Fatalf("resolve: %d %s", res.status, res.body)
	}
	e, _ = mustOneEvent(t, ob, before, "alert.resolved")
	wantChange(t, e, "state", "acknowledged", "resolved")

	// Resolving twice, or acknowledging a resolved alert, is a conflict.
	before = ob.last()
	wantError(t, owner.call("POST", "/api/v1/alerts/"+first.ID+"/resolve", map[string]string{"note": "again"}, nil), 409, "state")
	wantError(t, owner.call("POST", "/api/v1/alerts/"+first.ID+"/acknowledge", nil, nil), 409, "state")
	wantNoEvents(t, ob, before)

	// open → resolved directly.
	res = owner.call("POST", "/api/v1/alerts/"+second.ID+"/resolve", map[string]string{"note": "false alarm"}, nil)
	a = alertAnswer{}
	res.decode(t, &a)
	if res.status != 200 || a.State != alert.AlertResolved || a.AcknowledgedAt != nil {
		t.Fatalf("resolve an open alert: %d %s", res.status, res.body)
	}
	e, _ = mustOneEvent(t, ob, before, "alert.resolved")
	if e.Note != "false alarm" || e.Details["detector"] != alert.DetectFailedLogins {
		t.Errorf("alert.resolved: %+v", e)
	}
	wantChange(t, e, "state", "open", "resolved")

	// Bad bodies, other workspaces and other roles change nothing.
	third := postgrestest.MustRaise(t, m.DB, postgrestest.Alert(first.WorkspaceID, alert.DetectBulkExports, time.Now().UTC(), "low"))
	other := mustOwner(t, m, cfg, "Other")
	member := mustRoleMember(t, m, owner.client, activity.RoleMember)
	before = ob.last()
	wantError(t, owner.call("POST", "/api/v1/alerts/"+third.ID+"/acknowledge", map[string]any{"note": 5}, nil), 400, "note")
	wantError(t, owner.call("POST", "/api/v1/alerts/"+third.ID+"/acknowledge", map[string]any{"state": "resolved"}, nil), 400, "state")
	wantError(t, owner.call("POST", "/api/v1/alerts/"+third.ID+"/resolve", map[string]any{"note": strings.Repeat("x", 2001)}, nil), 400, "note")
	for _, path := range []string{"/api/v1/alerts/" + third.ID, "/api/v1/alerts/" + third.ID + "/acknowledge", "/api/v1/alerts/" + third.ID + "/resolve", "/api/v1/alerts/nope/resolve", "/api/v1/alerts/" + randomUUID()} {
		method := "POST"
		if !strings.HasSuffix(path, "acknowledge") && !strings.HasSuffix(path, "resolve") {
			method = "GET"
		}
		wantError(t, other.call(method, path, nil, nil), 404, "")
	}
	wantNoEvents(t, ob, before)
	wantError(t, member.call("POST", "/api/v1/alerts/"+third.ID+"/resolve", nil, nil), 403, "")
	if e, _ := mustOneEvent(t, ob, before, "auth.access_denied"); e.Resource != (activity.Resource{Type: "alert", ID: third.ID}) {
		t.Errorf("refusal recorded about %+v", e.Resource)
	}
	a = alertAnswer{}
	owner.call("GET", "/api/v1/alerts/"+third.ID, nil, nil).decode(t, &a)
	if a.State != alert.AlertOpen {
		t.Errorf("refused requests moved the alert to %s", a.State)
	}
}

// TestAlertListingOverHTTP pages through a workspace's alerts newest
// first with every filter, and checks the refusals of bad parameters.
func TestAlertListingOverHTTP(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Listing")
	rule := mustID(t, owner.call("POST", "/api/v1/alert-rules", map[string]string{"preset": "data_exports"}, nil), "rule")
	ws := mustAlert(t, m.DB, owner.id, rule).WorkspaceID
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	var all []alert.Alert
	severities := []string{"low", "medium", "high", "critical"}
	for i := 0; i < 13; i++ {
		source := alert.Detectors[i%3]
		if i%4 == 0 {
			source = rule
		}
		// Two alerts share each second, so the id breaks ties.
		all = append(all, postgrestest.Alert(ws, source, base.Add(time.Duration(i/2)*time.Hour), severities[i%4]))
	}
	postgrestest.MustRaise(t, m.DB, all...)
	// Another workspace's alerts are never listed.
	other := mustOwner(t, m, cfg, "Neighbour")
	foreign := postgrestest.MustRaise(t, m.DB, postgrestest.Alert(postgrestest.MustPrincipal(t, m.DB, other.email).WorkspaceID, alert.DetectFailedLogins, base.Add(time.Hour), "high"))
	svc := postgres.NewAlertService(m.DB)
	p := postgrestest.MustPrincipal(t, m.DB, owner.email)
	if _, err := svc.AcknowledgeAlert(context.Background(), p, all[1].ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ResolveAlert(context.Background(), p, all[2].ID, ""); err != nil {
		t.Fatal(err)
	}
	newestFirst := slices.Clone(all)
	slices.SortFunc(newestFirst, func(a, b alert.Alert) int {
		if c := b.RaisedAt.Compare(a.RaisedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})

	type page struct {
		Alerts     []alert.Alert `json:"alerts"`
		NextCursor string        `json:"next_cursor"`
	}
	list := func(query string, limit int) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			q, _ := url.ParseQuery(query)
			q.Set("limit", strconv.Itoa(limit))
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var pg page
			a := owner.call("GET", "/api/v1/alerts?"+q.Encode(), nil, nil)
			a.decode(t, &pg)
			if a.status != 200 || len(pg.Alerts) > limit {
				t.Fatalf("%s: %d %s", query, a.status, a.body)
			}
			for _, al := range pg.Alerts {
				ids = append(ids, al.ID)
				if len(al.EventIDs) != 3 {
					t.Errorf("listed alert has event ids %v", al.EventIDs)
				}
			}
			if pg.NextCursor == "" {
				return ids
			}
			if pages > 20 {
				t.Fatal("the cursor never ends")
			}
			cursor = pg.NextCursor
		}
	}
	ids := func(match func(alert.Alert) bool) []string {
		var out []string
		for _, a := range newestFirst {
			if match(a) {
				out = append(out, a.ID)
			}
		}
		return out
	}
	for _, tt := range []struct {
		query string
		match func(alert.Alert) bool
	}{
		{"", func(alert.Alert) bool { return true }},
		{"state=open", func(a alert.Alert) bool { return a.ID != all[1].ID && a.ID != all[2].ID }},
		{"state=acknowledged", func(a alert.Alert) bool { return a.ID == all[1].ID }},
		{"state=resolved", func(a alert.Alert) bool { return a.ID == all[2].ID }},
		{"severity=critical", func(a alert.Alert) bool { return a.Severity == "critical" }},
		{"detector=" + alert.DetectUnusualTime, func(a alert.Alert) bool { return a.Detector == alert.DetectUnusualTime }},
		{"rule_id=" + rule, func(a alert.Alert) bool { return a.RuleID == rule }},
		{"from=2026-11-20T10:00:00Z&to=2026-11-20T12:00:00Z", func(a alert.Alert) bool {
			return !a.RaisedAt.Before(base.Add(2*time.Hour)) && !a.RaisedAt.After(base.Add(4*time.Hour))
		}},
		{"from=2026-11-20T11:00:00%2B02:00&severity=low", func(a alert.Alert) bool { return !a.RaisedAt.Before(base.Add(time.Hour)) && a.Severity == "low" }},
	} {
		t.Run(tt.query, func(t *testing.T) {
			want := ids(tt.match)
			for _, limit := range []int{1, 3, 200} {
				if got := list(tt.query, limit); !slices.Equal(got, want) {
					t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
				}
			}
		})
	}
	var pg page
	owner.call("GET", "/api/v1/alerts", nil, nil).decode(t, &pg)
	if len(pg.Alerts) != len(all) || pg.NextCursor != "" || slices.ContainsFunc(pg.Alerts, func(a alert.Alert) bool { return a.ID == foreign.ID }) {
		t.Errorf("default page: %d alerts, cursor %q", len(pg.Alerts), pg.NextCursor)
	}

	for _, tt := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=ten", "limit"},
		{"cursor=garbage", "cursor"}, {"cursor=eyJ0IjoiMjAyNiJ9", "cursor"},
		{"from=yesterday", "from"}, {"to=2026-11-20", "to"}, {"from=0000-01-01T00:00:00Z", "from"}, {"to=9999-12-31T23:59:59-23:59", "to"}, {"from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z", "from"},
		{"state=closed", "state"}, {"severity=urgent", "severity"}, {"detector=everything", "detector"}, {"rule_id=42", "rule_id"},
		{"sort=asc", "sort"}, {"state=open&state=resolved", "state"}, {"state=", "state"},
	} {
		wantError(t, owner.call("GET", "/api/v1/alerts?"+tt.query, nil, nil), 400, tt.field)
	}
}

// TestAlertDetailShowsDeliveriesAndAttempts reads one alert with where it
// went and every attempt made.
func TestAlertDetailShowsDeliveriesAndAttempts(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	owner := mustOwner(t, m, cfg, "Detail")
	rule := mustID(t, owner.call("POST", "/api/v1/alert-rules", map[string]any{
		"preset": "license_key_views", "channels": []map[string]any{{"type": "webhook", "url": publicHook}, {"type": "email", "roles": []string{"owner"}}},
	}, nil), "rule")
	raised := postgrestest.MustRaise(t, m.DB, mustAlert(t, m.DB, owner.id, rule))
	q := postgres.NewAlertQueue(m.DB, postgrestest.MustKeyBox(t))
	claimed, err := q.Claim(t.Context(), 10, time.Now().Add(time.Second), time.Minute)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d deliveries, %v", len(claimed), err)
	}
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, d := range claimed {
		a := alert.Attempt{DeliveryID: d.ID, At: at, Duration: 150 * time.Millisecond, Status: 200, Delivered: true}
		if d.Type == alert.ChannelWebhook {
			a = alert.Attempt{DeliveryID: d.ID, At: at, Duration: 10 * time.Second, Error: "timeout awaiting response headers", RetryAt: at.Add(time.Minute)}
		}
		if err := q.Record(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	var got alertAnswer
	res := owner.call("GET", "/api/v1/alerts/"+raised.ID, nil, nil)
	res.decode(t, &got)
	if res.status != 200 || !slices.Equal(got.EventIDs, raised.EventIDs) || len(got.Deliveries) != 3 {
		t.Fatalf("detail: %d %s", res.status, res.body)
	}
	byType := map[string]alert.AlertDelivery{}
	for _, d := range got.Deliveries {
		byType[d.Type] = d
	}
	hook, mail, topic := byType["webhook"], byType["email"], byType["topic"]
	if hook.URL != publicHook || hook.State != "pending" || hook.NextAttemptAt == nil || !hook.NextAttemptAt.Equal(at.Add(time.Minute)) ||
		len(hook.Attempts) != 1 || hook.Attempts[0].Error != "timeout awaiting response headers" || hook.Attempts[0].Delivered || !hook.Attempts[0].At.Equal(at) {
		t.Errorf("webhook delivery %+v", hook)
	}
	if !slices.Equal(mail.To, []string{owner.email}) || mail.State != "delivered" || mail.DeliveredAt == nil || len(mail.Attempts) != 1 || mail.Attempts[0].Status != 200 || !mail.Attempts[0].Delivered {
		t.Errorf("email delivery %+v", mail)
	}
	if topic.State != "delivered" || got.Deliveries[2].Type != "topic" {
		t.Errorf("topic delivery %+v, listed last: %v", topic, got.Deliveries[2].Type)
	}
}

// TestDetectionSettingsOverHTTP reads the defaults, changes detectors and
// channels, refuses bad settings by field, and rotates the signing secret.
func TestDetectionSettingsOverHTTP(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Detection")

	var d alert.Detection
	res := owner.call("GET", "/api/v1/detection", nil, nil)
	res.decode(t, &d)
	if res.status != 200 || len(d.Detectors) != len(alert.Detectors) || d.Detector(alert.DetectFailedLogins).Threshold != 3 ||
		len(d.Channels) != 1 || d.SigningSecretSet || d.UpdatedAt != nil {
		t.Fatalf("defaults: %d %s", res.status, res.body)
	}

	before := ob.last()
	res = owner.call("PATCH", "/api/v1/detection", map[string]any{
		"detectors": map[string]any{"failed_logins": map[string]any{"threshold": 5, "severity": "critical"}, "unusual_location": map[string]any{"enabled": false}},
		"channels":  []map[string]any{{"type": "chat", "url": publicHook}},
		"note":      "tighter",
	}, nil)
	res.decode(t, &d)
	if res.status != 200 || d.Detector(alert.DetectFailedLogins).Threshold != 5 || d.Detector(alert.DetectFailedLogins).WindowMinutes != 10 ||
		d.Detector(alert.DetectUnusualLocation).Enabled || len(d.Channels) != 1 || d.Channels[0].Type != "chat" || d.UpdatedAt == nil {
		t.Fatalf("update: %d %s", res.status, res.body)
	}
	e, raw := mustOneEvent(t, ob, before, "system.detection_changed")
	if e.Note != "tighter" || e.Resource.Type != "workspace" || e.Resource.ID == "" || e.Resource.Name != "Detection" || len(e.Changes) != 4 || strings.Contains(raw, "sekrit") {
		t.Errorf("system.detection_changed: %s", raw)
	}
	wantChange(t, e, "detectors.failed_logins.threshold", "3", "5")
	wantChange(t, e, "detectors.failed_logins.severity", "high", "critical")
	wantChange(t, e, "detectors.unusual_location.enabled", "true", "false")

	// Unchanged settings record nothing; bad ones name their field.
	before = ob.last()
	if res := owner.call("PATCH", "/api/v1/detection", map[string]any{"detectors": map[string]any{"failed_logins": map[string]any{"threshold": 5}}}, nil); res.status != 200 {
		t.Fatalf("unchanging update: %d %s", res.status, res.body)
	}
	for _, tt := range []struct {
		body  any
		field string
	}{
		{map[string]any{"detectors": map[string]any{"port_scans": map[string]any{"enabled": true}}}, "detectors"},
		{map[string]any{"detectors": map[string]any{"unusual_location": map[string]any{"threshold": 2}}}, "detectors.unusual_location.threshold"},
		{map[string]any{"detectors": map[string]any{"bulk_exports": map[string]any{"window_minutes": 0}}}, "detectors.bulk_exports.window_minutes"},
		{map[string]any{"detectors": map[string]any{"bulk_exports": map[string]any{"severity": "urgent"}}}, "detectors.bulk_exports.severity"},
		{map[string]any{"detectors": map[string]any{"bulk_exports": map[string]any{"limit": 3}}}, "limit"},
		{map[string]any{"channels": []map[string]any{{"type": "webhook", "url": "http://10.0.0.8/alerts"}}}, "channels[0].url"},
		{map[string]any{"channels": []map[string]any{{"type": "email"}}}, "channels[0].to"},
		{map[string]any{"note": strings.Repeat("n", 2001)}, "note"},
		{map[string]any{"signing_secret": "mine"}, "signing_secret"},
	} {
		wantError(t, owner.call("PATCH", "/api/v1/detection", tt.body, nil), 400, tt.field)
	}
	wantNoEvents(t, ob, before)

	// The signing secret is shown once, sealed at rest, never in an event.
	before = ob.last()
	var rotated struct {
		SigningSecret string `json:"signing_secret"`
	}
	res = owner.call("POST", "/api/v1/detection/signing-secret", nil, nil)
	res.decode(t, &rotated)
	if res.status != 200 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(rotated.SigningSecret) || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate: %d %s %v", res.status, res.body, res.header)
	}
	e, raw = mustOneEvent(t, ob, before, "system.signing_secret_rotated")
	if strings.Contains(raw, rotated.SigningSecret) || len(e.Changes) != 1 || !e.Changes[0].Redacted || e.Details["replaced"] != false {
		t.Errorf("system.signing_secret_rotated: %s", raw)
	}
	owner.call("GET", "/api/v1/detection", nil, nil).decode(t, &d)
	if !d.SigningSecretSet || d.Detector(alert.DetectFailedLogins).Threshold != 5 {
		t.Errorf("after rotation: %+v", d)
	}
	if strings.Contains(string(owner.call("GET", "/api/v1/detection", nil, nil).body), rotated.SigningSecret) {
		t.Error("the settings show the secret")
	}
	var again struct {
		SigningSecret string `json:"signing_secret"`
	}
	owner.call("POST", "/api/v1/detection/signing-secret", nil, nil).decode(t, &again)
	if again.SigningSecret == rotated.SigningSecret || again.SigningSecret == "" {
		t.Error("a second rotation kept the secret")
	}
	// The notifier signs with the secret the user was shown.
	raised := postgrestest.MustRaise(t, m.DB, postgrestest.Alert(postgrestest.MustPrincipal(t, m.DB, owner.email).WorkspaceID, alert.DetectFailedLogins, time.Now().UTC(), "high"))
	claimed, err := postgres.NewAlertQueue(m.DB, mustBox(t, m)).Claim(t.Context(), 10, time.Now().Add(time.Second), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var chats int
	for _, c := range claimed {
		if c.AlertID == raised.ID && c.Type == alert.ChannelChat {
			chats++
			if string(c.Secret) != again.SigningSecret {
				t.Errorf("the chat message is signed with another secret")
			}
		}
	}
	if chats != 1 {
		t.Errorf("%d chat deliveries, want 1", chats)
	}

	// Only owners and admins.
	viewer := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	before = ob.last()
	wantError(t, viewer.call("POST", "/api/v1/detection/signing-secret", nil, nil), 403, "")
	if e, raw := mustOneEvent(t, ob, before, "auth.access_denied"); e.Resource.Type != "workspace" || strings.Contains(raw, again.SigningSecret) {
		t.Errorf("refusal: %s", raw)
	}
}

// mustBox returns the box the platform seals secrets with.
func mustBox(t *testing.T, m *app.Main) *keybox.Box {
	t.Helper()
	box, err := m.KeyBox()
	if err != nil {
		t.Fatal(err)
	}
	return box
}
