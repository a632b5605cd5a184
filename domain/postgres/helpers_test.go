package postgres_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/stacktest"
)

// testArgon2 hashes passwords cheaply: the tests here check storage, not
// the hash's cost.
var testArgon2 = argon2.Params{MemoryKiB: 64, Time: 1, Threads: 1}

// mustDB opens a migrated schema of the test's own on the local stack's
// PostgreSQL, with NOTIFY channels of its own, and drops it when the test
// ends.
func mustDB(tb testing.TB) *postgres.DB {
	tb.Helper()
	cfg := postgres.Config{URL: stacktest.PostgresURL(), Schema: "test_" + stacktest.RandomID()}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	stacktest.MustReach(tb, "PostgreSQL", stacktest.HostPort(cfg.URL))
	db, err := postgres.Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db.DropSchema(ctx)
		db.Close()
	})
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// mustWorkspace creates a workspace named name and returns its owner's
// email.
func mustWorkspace(tb testing.TB, db *postgres.DB, name string) string {
	tb.Helper()
	email := "owner-" + stacktest.RandomID() + "@example.com"
	_, _, err := postgres.NewWorkspaceService(db, argon2.Hasher{Params: testArgon2}).CreateWorkspace(context.Background(), domain.WorkspaceSetup{
		Name: name, TimeZone: "Europe/Berlin", OwnerEmail: email, OwnerName: name + " Owner", OwnerPassword: "pass-" + stacktest.RandomID(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return email
}

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

// mustLicenseBox returns a box with a random key.
func mustLicenseBox(tb testing.TB) *keybox.Box {
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
