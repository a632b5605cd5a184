package e2e

import (
	"context"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/postgres"
)

// mustPrincipal signs in the user with that email as the services see it.
func mustPrincipal(tb testing.TB, db *postgres.DB, email string) activity.Principal {
	tb.Helper()
	p := activity.Principal{Email: email, Type: activity.ActorUser}
	err := db.NewSelect().Table("users").Column("workspace_id", "id", "name", "role").Where("email = ?", email).
		Scan(context.Background(), &p.WorkspaceID, &p.UserID, &p.Name, &p.Role)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// testAlert is an alert as the detector raises it: by a rule when source
// is a rule id, else by the built-in detector source.
func testAlert(workspaceID, source string, raisedAt time.Time, severity string) alert.Alert {
	events := []string{activity.NewEventID(), activity.NewEventID(), activity.NewEventID()}
	a := alert.Alert{
		ID: alert.AlertID(workspaceID, source, "user:42", events[2]), WorkspaceID: workspaceID,
		Severity: severity, State: alert.AlertOpen, Summary: "3 failed logins for jane@example.com within 10 minutes",
		Subject: alert.AlertSubject{Type: "user", ID: activity.NewEventID(), Label: "jane@example.com"},
		Count:   3, Window: "10m0s", OccurredAt: raisedAt.Add(-time.Second), RaisedAt: raisedAt, EventIDs: events,
		Details: map[string]any{"ips": []any{"192.0.2.1"}},
	}
	if validRuleID(source) {
		a.RuleID, a.RuleName = source, "Rule "+source[:8]
	} else {
		a.Detector = source
	}
	return a
}

func validRuleID(s string) bool { return len(s) == 36 && s[8] == '-' }

// mustAlert returns an open alert that rule raised in the workspace of
// the user.
func mustAlert(tb testing.TB, db *postgres.DB, userID, ruleID string) alert.Alert {
	tb.Helper()
	var ws string
	if err := db.NewSelect().Table("users").Column("workspace_id").Where("id = ?", userID).Scan(context.Background(), &ws); err != nil {
		tb.Fatal(err)
	}
	return testAlert(ws, ruleID, time.Now().UTC().Truncate(time.Millisecond), "medium")
}

// mustRaise stores alerts through the sink, failing unless each is new;
// it returns the first.
func mustRaise(tb testing.TB, db *postgres.DB, alerts ...alert.Alert) alert.Alert {
	tb.Helper()
	stored, err := postgres.NewAlertSink(db).Raise(context.Background(), alerts)
	if err != nil {
		tb.Fatal(err)
	}
	if len(stored) != len(alerts) {
		tb.Fatalf("stored %d of %d alerts", len(stored), len(alerts))
	}
	return stored[0]
}

func ptr[T any](v T) *T { return &v }
