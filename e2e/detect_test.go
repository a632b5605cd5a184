package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/topic"
)

func failedLogin(ws string, user activity.Actor, ip string, at time.Time) activity.Event {
	e := activity.NewEvent(ws, "auth.login_failed", at)
	e.Outcome = activity.OutcomeFailure
	e.Actor = user
	e.Resource = activity.Resource{Type: "user", ID: user.ID, Name: user.Name}
	e.Context = activity.Context{IP: ip, Method: activity.MethodWeb}
	return e
}

// alertRecorder is an alert sink that keeps alerts in memory, each once by
// id, and tells when one arrives.
type alertRecorder struct {
	mu     sync.Mutex
	alerts []alert.Alert
	seen   map[string]bool
	added  chan struct{}
}

func newAlertRecorder() *alertRecorder {
	return &alertRecorder{seen: map[string]bool{}, added: make(chan struct{}, 1000)}
}

func (r *alertRecorder) Raise(_ context.Context, alerts []alert.Alert) ([]alert.Alert, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var stored []alert.Alert
	for _, a := range alerts {
		if !r.seen[a.ID] {
			r.seen[a.ID] = true
			r.alerts = append(r.alerts, a)
			stored = append(stored, a)
			r.added <- struct{}{}
		}
	}
	return stored, nil
}

func (r *alertRecorder) all() []alert.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]alert.Alert(nil), r.alerts...)
}

// workspaceDefaults configures every workspace as working all day, every
// day, in UTC, with the default detection settings and no rules.
type workspaceDefaults struct{}

func (workspaceDefaults) Config(context.Context, string) (alert.WorkspaceConfig, error) {
	return alert.WorkspaceConfig{Location: time.UTC, WorkingDays: [7]bool{true, true, true, true, true, true, true}, Detection: alert.DefaultDetectionSettings()}, nil
}

// MustStartDetector runs the detect role in-process, with sink and
// configs, until the test ends.
func MustStartDetector(tb testing.TB, cfg app.Config, sink alert.Sink, configs alert.Configs) *app.Main {
	tb.Helper()
	m := app.NewMain(cfg)
	m.AlertSink, m.AlertConfigs = sink, configs
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, app.RoleDetect) }()
	select {
	case <-m.Started:
	case err := <-done:
		cancel()
		tb.Fatalf("detector did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		tb.Fatal("detector did not start within a minute")
	}
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("detector stopped with an error: %v", err)
		}
		m.Close()
	})
	return m
}

// TestDetectFailedLoginsThroughKafka sends failed logins through
// Kafka to the detect role and checks the alerts it stores.
func TestDetectFailedLoginsThroughKafka(t *testing.T) {
	cfg := MustStack(t)
	sink := newAlertRecorder()
	MustStartDetector(t, cfg, sink, workspaceDefaults{})

	ws := activity.NewEventID()
	users := map[string]activity.Actor{}
	for _, name := range []string{"ada", "bob", "cyd"} {
		users[name] = activity.Actor{ID: activity.NewEventID(), Email: name + "@example.com", Name: name, Type: activity.ActorUser, Role: activity.RoleMember}
	}
	now := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	var stream []activity.Event
	attempts := func(user string, n int, from time.Time) []activity.Event {
		var out []activity.Event
		for i := 0; i < n; i++ {
			// A new address each time, so only the per-account count speaks.
			ip := fmt.Sprintf("198.51.100.%d", len(stream)+len(out)+1)
			out = append(out, failedLogin(ws, users[user], ip, from.Add(time.Duration(i)*time.Minute)))
		}
		return out
	}
	ada := attempts("ada", 3, now)                      // 3 within 10 minutes: an alert
	stream = append(stream, ada...)                     //
	stream = append(stream, attempts("bob", 2, now)...) // 2: below the threshold
	stream = append(stream, ada...)                     // a replay: nothing new
	spread := attempts("bob", 1, now.Add(30*time.Minute))
	stream = append(stream, spread...) // bob's third is outside the window
	stream = append(stream, attempts("cyd", 3, now)...)

	w := topic.NewWriter(cfg.Publisher.Brokers, cfg.Publisher.Topic)
	w.BatchTimeout = time.Millisecond
	defer w.Close()
	for _, e := range stream {
		b, _ := json.Marshal(e)
		if err := w.WriteMessages(t.Context(), kafka.Message{Key: []byte(ws), Value: b}); err != nil {
			t.Fatal(err)
		}
	}

	deadline := time.After(60 * time.Second)
	for done := false; !done; {
		select {
		case <-sink.added:
		case <-deadline:
			t.Fatalf("alerts so far: %+v", sink.all())
		}
		for _, a := range sink.all() {
			done = done || a.Subject.ID == users["cyd"].ID // the last trigger of the stream; everything before it is in
		}
	}
	alerts := sink.all()
	if len(alerts) != 2 || alerts[0].Subject.ID != users["ada"].ID {
		t.Fatalf("alerts = %+v, want one for ada then one for cyd", alerts)
	}
	a := alerts[0]
	if a.Detector != alert.DetectFailedLogins || a.Count != 3 || a.WorkspaceID != ws || a.EventIDs[len(a.EventIDs)-1] != ada[2].ID ||
		a.ID != alert.AlertID(ws, alert.DetectFailedLogins, "account:user:"+users["ada"].ID, ada[2].ID) ||
		a.Summary != "3 failed logins for ada@example.com within 10 minutes" || !a.OccurredAt.Equal(ada[2].OccurredAt) {
		t.Errorf("ada's alert = %+v", a)
	}
}

// anyURL lets every webhook URL through; the test's rule emails.
type anyURL struct{}

func (anyURL) CheckURL(context.Context, string) error { return nil }

// TestDetectStoresAlertsInPostgreSQL runs the detect role as wired, on a
// real workspace with a rule: failed logins and a watched action travel
// through Kafka, and their alerts land in PostgreSQL with their events and
// deliveries, once each although the stream is sent twice.
func TestDetectStoresAlertsInPostgreSQL(t *testing.T) {
	cfg := MustStack(t)
	cfg.Postgres.AlertNotifyChannel = ""
	MustStart(t, cfg, app.RoleDetect)
	db := mustDB(t, cfg)
	email, _ := MustWorkspace(t, cfg, "Detecting")
	owner := postgrestest.MustPrincipal(t, db, email)
	rule, err := postgres.NewAlertRuleService(db, anyURL{}).CreateAlertRule(t.Context(), owner, alert.AlertRuleCreate{
		Name: ptr("Key views"), ActivityTypes: &[]string{"license.key_viewed"}, Severity: ptr("low"),
		Channels: &[]alert.Channel{{Type: alert.ChannelEmail, Roles: []string{activity.RoleOwner}}},
	})
	if err != nil {
		t.Fatal(err)
	}

	ws := owner.WorkspaceID
	actor := activity.Actor{ID: owner.UserID, Email: email, Name: owner.Name, Role: owner.Role, Type: activity.ActorUser}
	monday10 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // 10:00 in Berlin: working hours
	var stream []activity.Event
	for i := 0; i < 3; i++ {
		stream = append(stream, failedLogin(ws, actor, fmt.Sprintf("192.0.2.%d", i+1), monday10.Add(time.Duration(i)*time.Minute)))
	}
	viewed := activity.NewEvent(ws, "license.key_viewed", monday10.Add(5*time.Minute))
	viewed.Actor, viewed.Resource = actor, activity.Resource{Type: "license", ID: activity.NewEventID(), Name: "Office"}
	stream = append(stream, viewed)
	stream = append(stream, stream...) // delivered twice
	// A last key view: once its alert is in, so is everything before it.
	last := activity.NewEvent(ws, "license.key_viewed", monday10.Add(20*time.Minute))
	last.Actor, last.Resource = actor, viewed.Resource
	stream = append(stream, last)

	w := topic.NewWriter(cfg.Publisher.Brokers, cfg.Publisher.Topic)
	w.BatchTimeout = time.Millisecond
	defer w.Close()
	for _, e := range stream {
		b, _ := json.Marshal(e)
		if err := w.WriteMessages(t.Context(), kafka.Message{Key: []byte(ws), Value: b}); err != nil {
			t.Fatal(err)
		}
	}

	type row struct {
		ID       string `bun:"id"`
		Detector string `bun:"detector"`
		RuleID   string `bun:"rule_id"`
		Count    int64  `bun:"count"`
		Summary  string `bun:"summary"`
	}
	var rows []row
	for deadline := time.Now().Add(60 * time.Second); ; {
		rows = rows[:0]
		err := db.NewSelect().Table("alerts").Column("id", "detector", "summary", "count").ColumnExpr("coalesce(rule_id::text, '') AS rule_id").
			Where("workspace_id = ?", ws).OrderExpr("occurred_at").Scan(t.Context(), &rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rows) != 3 || rows[0].Detector != alert.DetectFailedLogins || rows[0].Count != 3 || rows[1].RuleID != rule.ID || rows[2].RuleID != rule.ID {
		t.Fatalf("alerts: %+v", rows)
	}
	if rows[0].Summary != "3 failed logins for "+email+" within 10 minutes" || rows[1].Summary != fmt.Sprintf("Key views: %s did license.key_viewed on \"Office\"", owner.Name) {
		t.Errorf("summaries: %q, %q", rows[0].Summary, rows[1].Summary)
	}
	rowsOf := func(table, alertID string) int {
		n, err := db.NewSelect().Table(table).Where("alert_id = ?", alertID).Count(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rowsOf("alert_events", rows[0].ID); n != 3 {
		t.Errorf("the failed logins' alert lists %d events, want 3", n)
	}
	for _, r := range rows {
		if n := rowsOf("alert_deliveries", r.ID); n < 2 {
			t.Errorf("alert %s has %d deliveries, want the topic and an email", r.ID, n)
		}
	}
}
