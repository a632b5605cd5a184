package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestStatementsPastTheTimeoutAreCancelled runs a statement that would take
// five seconds on a connection whose statement timeout is 300 ms: PostgreSQL
// itself cancels it (query_canceled, 57014), and the connection still
// serves the next statement.
func TestStatementsPastTheTimeoutAreCancelled(t *testing.T) {
	cfg := postgres.Config{URL: stacktest.PostgresURL(), StatementTimeout: 300 * time.Millisecond}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	stacktest.MustReach(t, "PostgreSQL", stacktest.HostPort(cfg.URL))
	db, err := postgres.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background() // no deadline of the caller's: the setting alone bounds it
	_, err = db.ExecContext(ctx, "SELECT pg_sleep(5)")
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('C') != "57014" {
		t.Fatalf("a statement past the timeout answered %v, want PostgreSQL's query_canceled (57014)", err)
	}
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("the next statement: %d, %v", one, err)
	}
}
