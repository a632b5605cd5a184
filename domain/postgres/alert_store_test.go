package postgres_test

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/stacktest"
)

// alertStore is a migrated schema of its own with one workspace, for the
// storage side of alerts.
type alertStore struct {
	db    *postgres.DB
	owner activity.Principal
}

func mustAlertStore(t *testing.T) *alertStore {
	t.Helper()
	db := postgrestest.MustDB(t)
	return &alertStore{db: db, owner: mustOwner(t, db, "Alerting")}
}

// mustMemberRow adds a member with role straight to the workspace.
func (s *alertStore) mustMemberRow(t *testing.T, role string, active bool) string {
	t.Helper()
	email := role + "-" + stacktest.RandomID() + "@Example.com"
	hash, err := argon2.Hasher{Params: postgrestest.Argon2}.Hash(t.Context(), "irrelevant")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.db.ExecContext(t.Context(),
		"INSERT INTO users (id, workspace_id, email, name, role, password_hash, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, now(), now())",
		activity.NewEventID(), s.owner.WorkspaceID, email, role+" person", role, hash, active)
	if err != nil {
		t.Fatal(err)
	}
	return email
}

// delivered summarizes the deliveries of an alert as "type url to…".
func deliveriesOf(t *testing.T, db *postgres.DB, alertID string) []string {
	t.Helper()
	var rows []struct {
		Type       string   `bun:"type"`
		URL        string   `bun:"url"`
		Recipients []string `bun:"recipients,array"`
		State      string   `bun:"state"`
	}
	err := db.NewSelect().Table("alert_deliveries").Column("type", "url", "recipients", "state").
		Where("alert_id = ?", alertID).OrderExpr("type, url").Scan(t.Context(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		if r.State != alert.DeliveryPending {
			t.Errorf("a new delivery is %s", r.State)
		}
		out = append(out, fmt.Sprintf("%s %s %v", r.Type, r.URL, r.Recipients))
	}
	return out
}

func count(t *testing.T, db *postgres.DB, table, where string, args ...any) int {
	t.Helper()
	n, err := db.NewSelect().Table(table).Where(where, args...).Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAlertSinkStoresEachAlertOnceWithItsDeliveries raises alerts of a
// rule, of a built-in detector and of the platform workspace, twice, and
// checks what was stored and where each alert goes.
func TestAlertSinkStoresEachAlertOnceWithItsDeliveries(t *testing.T) {
	s := mustAlertStore(t)
	ctx := t.Context()
	admin := s.mustMemberRow(t, activity.RoleAdmin, true)
	s.mustMemberRow(t, activity.RoleAdmin, false) // deactivated: not written to
	s.mustMemberRow(t, activity.RoleMember, true)
	rules := postgres.NewAlertRuleService(s.db, nil)
	rule, err := rules.CreateAlertRule(ctx, s.owner, alert.AlertRuleCreate{
		Name: ptr("Deletions"), ActivityTypes: &[]string{"license.deleted"},
		Channels: &[]alert.Channel{
			{Type: alert.ChannelWebhook, URL: "https://hooks.example.com/fluxera"},
			{Type: alert.ChannelChat, URL: "https://chat.example.com/T1/B2/x"},
			{Type: alert.ChannelEmail, To: []string{"Security@Example.com", "soc@example.com"}, Roles: []string{activity.RoleAdmin}},
			{Type: alert.ChannelEmail, Roles: []string{activity.RoleViewer}}, // nobody holds it
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	byRule := postgrestest.Alert(s.owner.WorkspaceID, rule.ID, now, "high")
	byDetector := postgrestest.Alert(s.owner.WorkspaceID, alert.DetectFailedLogins, now, "high")
	platform := postgrestest.Alert(activity.PlatformWorkspace, alert.DetectFailedLogins, now, "medium")
	stored, err := postgres.NewAlertSink(s.db).Raise(ctx, []alert.Alert{byRule, byDetector, platform, byRule})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 3 {
		t.Fatalf("stored %d alerts, want 3", len(stored))
	}
	// Raised again, as a replayed stream does, together with a new one.
	again := postgrestest.Alert(s.owner.WorkspaceID, alert.DetectBulkExports, now, "low")
	stored, err = postgres.NewAlertSink(s.db).Raise(ctx, []alert.Alert{byDetector, again, byRule, platform})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].ID != again.ID {
		t.Fatalf("raising stored alerts again stored %+v, want only the new one", stored)
	}
	if n := count(t, s.db, "alerts", "true"); n != 4 {
		t.Errorf("%d alerts stored, want 4", n)
	}
	if n := count(t, s.db, "alert_events", "alert_id = ?", byRule.ID); n != 3 {
		t.Errorf("%d events stored for the alert, want 3", n)
	}

	adminEmail := fmt.Sprint(sorted("security@example.com", "soc@example.com", lower(admin)))
	for _, tt := range []struct {
		name  string
		alert alert.Alert
		want  []string
	}{
		{"rule", byRule, []string{
			"chat https://chat.example.com/T1/B2/x []",
			"email  " + adminEmail,
			"topic  []",
			"webhook https://hooks.example.com/fluxera []",
		}},
		{"detector with default channels", byDetector, []string{
			"email  " + fmt.Sprint(sorted(lower(admin), s.owner.Email)),
			"topic  []",
		}},
		{"platform workspace", platform, []string{"topic  []"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := deliveriesOf(t, s.db, tt.alert.ID); !slices.Equal(got, tt.want) {
				t.Errorf("deliveries\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	// A workspace that cleared its detection channels, and a rule deleted
	// before its alert was stored, reach the alert topic only.
	if _, err := postgres.NewDetectionService(s.db, postgrestest.MustKeyBox(t), nil).UpdateDetection(ctx, s.owner, alert.DetectionUpdate{Channels: &[]alert.Channel{}}); err != nil {
		t.Fatal(err)
	}
	if err := rules.DeleteAlertRule(ctx, s.owner, rule.ID, ""); err != nil {
		t.Fatal(err)
	}
	late := []alert.Alert{postgrestest.Alert(s.owner.WorkspaceID, alert.DetectUnusualTime, now, "medium"), postgrestest.Alert(s.owner.WorkspaceID, rule.ID, now.Add(time.Second), "high")}
	postgrestest.MustRaise(t, s.db, late...)
	for _, a := range late {
		if got := deliveriesOf(t, s.db, a.ID); !slices.Equal(got, []string{"topic  []"}) {
			t.Errorf("deliveries of %s: %q, want the topic only", a.Summary, got)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func lower(s string) string { return strings.ToLower(s) }

func sorted(ss ...string) []string {
	sort.Strings(ss)
	return ss
}

// TestAlertQueueLeasesRecordsAndSigns claims deliveries as the notifier
// does: leased, never to two workers at once, moved on by each attempt,
// with the workspace's signing secret.
func TestAlertQueueLeasesRecordsAndSigns(t *testing.T) {
	s := mustAlertStore(t)
	ctx := t.Context()
	box := postgrestest.MustKeyBox(t)
	q := postgres.NewAlertQueue(s.db, box)
	t.Cleanup(func() { q.Close() })
	rule, err := postgres.NewAlertRuleService(s.db, nil).CreateAlertRule(ctx, s.owner, alert.AlertRuleCreate{
		Name: ptr("Keys"), ActivityTypes: &[]string{"license.key_viewed"},
		Channels: &[]alert.Channel{{Type: alert.ChannelWebhook, URL: "https://hooks.example.com/a"}, {Type: alert.ChannelEmail, To: []string{"a@example.com"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	raised := postgrestest.MustRaise(t, s.db, postgrestest.Alert(s.owner.WorkspaceID, rule.ID, now, "high"))

	claimAt := now.Add(time.Second)
	got, err := q.Claim(ctx, 10, claimAt, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("claimed %d deliveries, want webhook, email and topic", len(got))
	}
	byType := map[string]alert.Delivery{}
	for _, d := range got {
		byType[d.Type] = d
		if d.Alert.ID != raised.ID || !slices.Equal(d.Alert.EventIDs, raised.EventIDs) || d.Alert.State != alert.AlertOpen || d.WorkspaceID != s.owner.WorkspaceID || d.Attempts != 0 {
			t.Errorf("claimed %s delivery: %+v", d.Type, d)
		}
	}
	hook := byType[alert.ChannelWebhook]
	if hook.URL != "https://hooks.example.com/a" || len(hook.Secret) != 64 {
		t.Fatalf("webhook delivery has url %q and a %d-byte secret", hook.URL, len(hook.Secret))
	}
	if len(byType[alert.TargetTopic].Secret) != 0 || !slices.Equal(byType[alert.ChannelEmail].To, []string{"a@example.com"}) {
		t.Errorf("topic and email deliveries: %+v %+v", byType[alert.TargetTopic], byType[alert.ChannelEmail])
	}
	// The secret is kept sealed, and is the one a rotation replaces.
	var sealed []byte
	if err := s.db.NewSelect().Table("detection_settings").Column("signing_secret").Where("workspace_id = ?", s.owner.WorkspaceID).Scan(ctx, &sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(sealed, hook.Secret) {
		t.Errorf("the signing secret is not sealed at rest")
	}

	// Leased: nobody else gets them until the lease ends.
	if again, _ := q.Claim(ctx, 10, claimAt.Add(30*time.Second), time.Minute); len(again) != 0 {
		t.Errorf("claimed %d leased deliveries", len(again))
	}
	if again, _ := q.Claim(ctx, 10, claimAt.Add(2*time.Minute), time.Minute); len(again) != 3 {
		t.Errorf("after the lease ended, claimed %d deliveries, want 3", len(again))
	}

	// Attempts move deliveries on.
	at := claimAt.Add(3 * time.Minute)
	retry := at.Add(10 * time.Minute)
	for _, a := range []alert.Attempt{
		{DeliveryID: byType[alert.TargetTopic].ID, At: at, Duration: 12 * time.Millisecond, Delivered: true},
		{DeliveryID: hook.ID, At: at, Duration: 2 * time.Second, Status: 503, Error: "503 Service Unavailable", RetryAt: retry},
		{DeliveryID: byType[alert.ChannelEmail].ID, At: at, Duration: time.Second, Status: 550, Error: "mailbox unavailable"},
	} {
		if err := q.Record(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if due, _ := q.Claim(ctx, 10, retry.Add(-time.Second), time.Minute); len(due) != 0 {
		t.Errorf("claimed %d deliveries before their retry was due", len(due))
	}
	due, err := q.Claim(ctx, 10, retry, time.Minute)
	if err != nil || len(due) != 1 || due[0].ID != hook.ID || due[0].Attempts != 1 || !bytes.Equal(due[0].Secret, hook.Secret) {
		t.Fatalf("at the retry: %+v, %v; want the webhook once more, 1 attempt made, the same secret", due, err)
	}
	if err := q.Record(ctx, alert.Attempt{DeliveryID: hook.ID, At: retry, Duration: time.Second, Status: 200, Delivered: true}); err != nil {
		t.Fatal(err)
	}
	// A worker whose lease ran out reports late: logged, state kept.
	if err := q.Record(ctx, alert.Attempt{DeliveryID: hook.ID, At: retry.Add(time.Second), Error: "timeout", RetryAt: retry.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	detail, err := postgres.NewAlertService(s.db).FindAlert(ctx, s.owner, raised.ID)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	attempts := map[string][]alert.DeliveryAttempt{}
	for _, d := range detail.Deliveries {
		states[d.Type], attempts[d.Type] = d.State, d.Attempts
	}
	if states["topic"] != "delivered" || states["webhook"] != "delivered" || states["email"] != "failed" {
		t.Errorf("delivery states %v", states)
	}
	if w := attempts["webhook"]; len(w) != 3 || w[0].Status != 503 || w[0].Delivered || w[0].DurationMS != 2000 || w[1].Status != 200 || !w[1].Delivered || w[2].Error != "timeout" {
		t.Errorf("webhook attempts %+v", w)
	}
	if e := attempts["email"]; len(e) != 1 || e[0].Error != "mailbox unavailable" || e[0].Status != 550 {
		t.Errorf("email attempts %+v", e)
	}
	if err := q.Record(ctx, alert.Attempt{DeliveryID: activity.NewEventID(), At: at}); err == nil {
		t.Error("recorded an attempt of a delivery that does not exist")
	}

	// After a rotation, deliveries carry the new secret.
	secret, err := postgres.NewDetectionService(s.db, box, nil).RotateSigningSecret(ctx, s.owner)
	if err != nil {
		t.Fatal(err)
	}
	next := postgrestest.MustRaise(t, s.db, postgrestest.Alert(s.owner.WorkspaceID, rule.ID, now.Add(time.Minute), "high"))
	claimed, err := q.Claim(ctx, 10, now.Add(time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range claimed {
		if d.AlertID == next.ID && d.Type == alert.ChannelWebhook && string(d.Secret) != secret {
			t.Errorf("after rotation the webhook is signed with %q, want the new secret", d.Secret)
		}
	}
}

// TestAlertQueueNeverHandsADeliveryToTwoWorkers claims from several
// workers at once until the queue is empty.
func TestAlertQueueNeverHandsADeliveryToTwoWorkers(t *testing.T) {
	s := mustAlertStore(t)
	ctx := t.Context()
	q := postgres.NewAlertQueue(s.db, postgrestest.MustKeyBox(t))
	now := time.Now().UTC().Truncate(time.Millisecond)
	var alerts []alert.Alert
	for i := 0; i < 30; i++ {
		alerts = append(alerts, postgrestest.Alert(s.owner.WorkspaceID, alert.DetectFailedLogins, now.Add(time.Duration(i)*time.Millisecond), "high"))
	}
	postgrestest.MustRaise(t, s.db, alerts...)
	want := count(t, s.db, "alert_deliveries", "true") // email and topic for each
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := q.Claim(ctx, 3, now.Add(time.Second), time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != want {
		t.Errorf("claimed %d distinct deliveries, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s was claimed %d times", id, n)
		}
	}
}

// TestAlertQueueWaitWakesWhenAlertsAreStored checks that a waiting
// notifier is woken by stored alerts rather than by its timeout.
func TestAlertQueueWaitWakesWhenAlertsAreStored(t *testing.T) {
	s := mustAlertStore(t)
	q := postgres.NewAlertQueue(s.db, postgrestest.MustKeyBox(t))
	t.Cleanup(func() { q.Close() })
	q.Wait(t.Context(), time.Millisecond) // starts listening
	const long = 5 * time.Minute
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		q.Wait(t.Context(), long)
		done <- time.Since(start)
	}()
	// Keep raising until the waiter wakes: a notification sent before it
	// waits is not lost, only absorbed by the first Wait.
	for i := 0; ; i++ {
		postgrestest.MustRaise(t, s.db, postgrestest.Alert(s.owner.WorkspaceID, alert.DetectBulkExports, time.Now().UTC().Add(time.Duration(i)*time.Millisecond), "high"))
		select {
		case d := <-done:
			if d >= long {
				t.Fatalf("Wait returned after its timeout, not when alerts were stored")
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if i > 300 {
			t.Fatal("Wait was not woken by stored alerts")
		}
	}
}

// TestAlertConfigsReadAndCacheWorkspaceConfiguration checks what the
// detector is told about a workspace, that it is cached for the TTL, and
// the defaults for unknown workspaces.
func TestAlertConfigsReadAndCacheWorkspaceConfiguration(t *testing.T) {
	s := mustAlertStore(t)
	ctx := t.Context()
	_, err := postgres.NewSettingsService(s.db).UpdateSettings(ctx, s.owner, domain.SettingsUpdate{
		TimeZone: ptr("America/New_York"), WorkingHoursStart: ptr("08:30"), WorkingHoursEnd: ptr("17:15"), WorkingDays: []string{"sun", "mon", "tue"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = postgres.NewDetectionService(s.db, postgrestest.MustKeyBox(t), nil).UpdateDetection(ctx, s.owner, alert.DetectionUpdate{
		Detectors: map[string]alert.DetectorUpdate{alert.DetectFailedLogins: {Threshold: ptr(7)}, alert.DetectUnusualTime: {Enabled: ptr(false)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rules := postgres.NewAlertRuleService(s.db, nil)
	mk := func(name string, enabled bool) alert.AlertRule {
		r, err := rules.CreateAlertRule(ctx, s.owner, alert.AlertRuleCreate{Preset: "role_changes", Name: ptr(name), Enabled: ptr(enabled)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	on := mk("On", true)
	mk("Off", false)

	clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	configs := postgres.NewAlertConfigs(s.db, 0)
	configs.Now = func() time.Time { return clock }
	cfg, err := configs.Config(ctx, s.owner.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Location.String() != "America/New_York" || cfg.WorkStart != 8*60+30 || cfg.WorkEnd != 17*60+15 {
		t.Errorf("location %s, hours %d–%d", cfg.Location, cfg.WorkStart, cfg.WorkEnd)
	}
	if cfg.WorkingDays != [7]bool{time.Sunday: true, time.Monday: true, time.Tuesday: true} {
		t.Errorf("working days %v", cfg.WorkingDays)
	}
	if fl := cfg.Detection.Detector(alert.DetectFailedLogins); fl.Threshold != 7 || fl.WindowMinutes != 10 || !fl.Enabled {
		t.Errorf("failed_logins %+v, want threshold 7 over the default window", fl)
	}
	if cfg.Detection.Detector(alert.DetectUnusualTime).Enabled || len(cfg.Detection.Detectors) != len(alert.Detectors) {
		t.Errorf("detectors %+v", cfg.Detection.Detectors)
	}
	if !slices.Equal(cfg.Detection.Channels[0].Roles, []string{"owner", "admin"}) {
		t.Errorf("channels %+v, want the default", cfg.Detection.Channels)
	}
	if len(cfg.Rules) != 1 || cfg.Rules[0].ID != on.ID || !cfg.Rules[0].Enabled {
		t.Fatalf("rules %+v, want only the enabled one", cfg.Rules)
	}

	// Within the TTL the cached configuration is answered; after, the new one.
	mk("Later", true)
	clock = clock.Add(postgres.DefaultAlertConfigTTL - time.Millisecond)
	if cfg, _ := configs.Config(ctx, s.owner.WorkspaceID); len(cfg.Rules) != 1 {
		t.Errorf("within the TTL: %d rules, want the cached 1", len(cfg.Rules))
	}
	clock = clock.Add(time.Millisecond)
	if cfg, _ := configs.Config(ctx, s.owner.WorkspaceID); len(cfg.Rules) != 2 {
		t.Errorf("after the TTL: %d rules, want 2", len(cfg.Rules))
	}

	for _, ws := range []string{activity.PlatformWorkspace, activity.NewEventID(), "not-a-uuid"} {
		cfg, err := configs.Config(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		def := postgres.DefaultWorkspaceConfig()
		if cfg.Location != time.UTC || cfg.WorkStart != 9*60 || cfg.WorkEnd != 18*60 || cfg.WorkingDays != def.WorkingDays || len(cfg.Rules) != 0 ||
			cfg.Detection.Detector(alert.DetectFailedLogins).Threshold != 3 || len(cfg.Detection.Channels) != 1 {
			t.Errorf("workspace %s: %+v, want the defaults", ws, cfg)
		}
	}
}

// mustOwner creates a workspace named name and signs in its owner.
func mustOwner(t *testing.T, db *postgres.DB, name string) activity.Principal {
	t.Helper()
	email, _ := postgrestest.MustWorkspace(t, db, argon2.Hasher{Params: postgrestest.Argon2}, name)
	return postgrestest.MustPrincipal(t, db, email)
}

// TestAlertSinkRefusesMalformedAlertsForGood raises alerts the store can
// never take, malformed or with content PostgreSQL refuses, and checks
// that each is refused with EINVALID, so that the detector sets its event
// aside instead of retrying it forever, and that nothing is stored.
func TestAlertSinkRefusesMalformedAlertsForGood(t *testing.T) {
	s := mustAlertStore(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	valid := func() alert.Alert {
		return postgrestest.Alert(s.owner.WorkspaceID, alert.DetectFailedLogins, now, "high")
	}
	tests := []struct {
		name string
		edit func(a *alert.Alert)
	}{
		{"workspace not a UUID", func(a *alert.Alert) { a.WorkspaceID = "ws-1" }},
		{"unknown severity", func(a *alert.Alert) { a.Severity = "dire" }},
		{"event id not a UUID", func(a *alert.Alert) { a.EventIDs = append(a.EventIDs, "e-1") }},
		{"detector and rule", func(a *alert.Alert) { a.RuleID = activity.NewEventID() }},
		{"a state the table's check refuses", func(a *alert.Alert) { a.State = "snoozed" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			tt.edit(&a)
			_, err := postgres.NewAlertSink(s.db).Raise(t.Context(), []alert.Alert{valid(), a})
			if activity.ErrorCode(err) != activity.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
		})
	}
	if n := count(t, s.db, "alerts", "true"); n != 0 {
		t.Errorf("%d alerts stored, want none", n)
	}
}
