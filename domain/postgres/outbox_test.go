package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestRelayLeadIsHandedOver checks that a relay giving up the lead frees
// it for another at once, and that a relay whose lock session died learns
// that it lost the lead.
func TestRelayLeadIsHandedOver(t *testing.T) {
	db := postgrestest.MustDB(t)
	ctx := context.Background()
	var schema string
	if err := db.NewRaw("SELECT current_schema()").Scan(ctx, &schema); err != nil {
		t.Fatal(err)
	}
	first, second := postgres.NewOutbox(db), postgres.NewOutbox(db)
	release, err := first.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	release()
	quick, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	release2, err := second.Lead(quick)
	if err != nil {
		t.Fatalf("a released lead was not free: %v", err)
	}
	defer release2()

	// End the lock's session from outside, as a database restart would.
	// Only this test's lock is touched: its key is made from the schema.
	res, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND pid <> pg_backend_pid()
		  AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(? || '.outbox_relay', 0)`, schema)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("found %d sessions holding the test's relay lock, want 1", n)
	}
	stacktest.Eventually(t, "the relay notices that its lead is gone", func() bool {
		_, err := second.Pending(ctx, 1)
		return errors.Is(err, domain.ErrLeadLost)
	})
}
