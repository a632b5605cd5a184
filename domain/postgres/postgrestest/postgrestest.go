// Package postgrestest sets up what tests of the platform's storage need
// on the local stack's PostgreSQL: a migrated schema of the test's own, a
// workspace and its owner, a key box, and alerts as the detector raises
// them. The storage's own tests and the end-to-end tests both use it.
package postgrestest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/stacktest"
)

// Argon2 hashes passwords cheaply: these tests check storage, not the
// hash's cost.
var Argon2 = argon2.Params{MemoryKiB: 64, Time: 1, Threads: 1}

// MustDB opens a migrated schema of the test's own on the local stack's
// PostgreSQL, with NOTIFY channels of its own, and drops it when the test
// ends. Without the stack it skips the test, or fails it under make test.
func MustDB(tb testing.TB) *postgres.DB {
	tb.Helper()
	return MustDBs(tb, 1)[0]
}

// MustDBs opens n connections, each with a pool of its own as separate
// processes have, to one migrated schema of the test's own, and drops it
// when the test ends.
func MustDBs(tb testing.TB, n int) []*postgres.DB {
	tb.Helper()
	cfg := postgres.Config{URL: stacktest.PostgresURL(), Schema: "test_" + stacktest.RandomID()}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	stacktest.MustReach(tb, "PostgreSQL", stacktest.HostPort(cfg.URL))
	dbs := make([]*postgres.DB, n)
	for i := range dbs {
		db, err := postgres.Open(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		dbs[i] = db
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dbs[0].DropSchema(ctx)
		for _, db := range dbs {
			db.Close()
		}
	})
	if err := dbs[0].Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return dbs
}

// MustWorkspace creates a workspace named name in Europe/Berlin and
// returns its owner's email and password.
func MustWorkspace(tb testing.TB, db *postgres.DB, hasher domain.PasswordHasher, name string) (email, password string) {
	tb.Helper()
	email, password = "owner-"+stacktest.RandomID()+"@example.com", "pass-"+stacktest.RandomID()
	_, _, err := postgres.NewWorkspaceService(db, hasher).CreateWorkspace(context.Background(), domain.WorkspaceSetup{
		Name: name, TimeZone: "Europe/Berlin", OwnerEmail: email, OwnerName: name + " Owner", OwnerPassword: password,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return email, password
}

// MustPrincipal signs in the user with that email as the services see it.
func MustPrincipal(tb testing.TB, db *postgres.DB, email string) activity.Principal {
	tb.Helper()
	p := activity.Principal{Email: email, Type: activity.ActorUser}
	err := db.NewSelect().Table("users").Column("workspace_id", "id", "name", "role").Where("email = ?", email).
		Scan(context.Background(), &p.WorkspaceID, &p.UserID, &p.Name, &p.Role)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustKeyBox returns a box that encrypts license keys with a random key.
func MustKeyBox(tb testing.TB) *keybox.Box {
	tb.Helper()
	key := make([]byte, keybox.KeySize)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	box, err := keybox.New(key)
	if err != nil {
		tb.Fatal(err)
	}
	return box
}

// Alert is an alert as the detector raises it: by a rule when source is a
// rule id, else by the built-in detector source.
func Alert(workspaceID, source string, raisedAt time.Time, severity string) alert.Alert {
	events := []string{activity.NewEventID(), activity.NewEventID(), activity.NewEventID()}
	a := alert.Alert{
		ID: alert.AlertID(workspaceID, source, "user:42", events[2]), WorkspaceID: workspaceID,
		Severity: severity, State: alert.AlertOpen, Summary: "3 failed logins for jane@example.com within 10 minutes",
		Subject: alert.AlertSubject{Type: "user", ID: activity.NewEventID(), Label: "jane@example.com"},
		Count:   3, Window: "10m0s", OccurredAt: raisedAt.Add(-time.Second), RaisedAt: raisedAt, EventIDs: events,
		Details: map[string]any{"ips": []any{"192.0.2.1"}},
	}
	if isRuleID(source) {
		a.RuleID, a.RuleName = source, "Rule "+source[:8]
	} else {
		a.Detector = source
	}
	return a
}

func isRuleID(s string) bool { return len(s) == 36 && s[8] == '-' }

// MustRaise stores alerts through the sink, failing unless each is new,
// and returns the first.
func MustRaise(tb testing.TB, db *postgres.DB, alerts ...alert.Alert) alert.Alert {
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
