package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"

	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/relay"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestRelayLeadIsHandedOver checks that a relay giving up the lead frees
// it for another at once, and that a relay whose lock session died learns
// that it lost the lead.
func TestRelayLeadIsHandedOver(t *testing.T) {
	cfg := MustStack(t)
	db, err := postgres.Open(cfg.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
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
		  AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(? || '.outbox_relay', 0)`, cfg.Postgres.Schema)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("found %d sessions holding the test's relay lock, want 1", n)
	}
	stacktest.Eventually(t, "the relay notices that its lead is gone", func() bool {
		_, err := second.Pending(ctx, 1)
		return errors.Is(err, relay.ErrLeadLost)
	})
}

// TestConcurrentEditsReachTheStreamInOrder edits one asset from many
// clients at once and checks that the stream tells a consistent story:
// every edit's before is the previous edit's after.
func TestConcurrentEditsReachTheStreamInOrder(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay)
	owner := mustOwner(t, m, cfg, "Order")
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Shared laptop", "location": "start"}, nil), "asset")
	const clients, edits = 8, 15
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < edits; i++ {
				a := owner.call("PATCH", "/api/v1/assets/"+asset, map[string]string{"location": fmt.Sprintf("desk %d-%d", c, i)}, nil)
				if a.status != 200 {
					t.Errorf("edit: %d %s", a.status, a.body)
				}
			}
		}()
	}
	wg.Wait()

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: cfg.Publisher.Topic, GroupID: "test-order-" + stacktest.RandomID(), StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seen := map[string]bool{}
	last := "start"
	for n := 0; n < clients*edits; {
		msg, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d of %d edits: %v", n, clients*edits, err)
		}
		e, err := activity.DecodeEvent(msg.Value)
		if err != nil || e.Action != "asset.updated" || e.Resource.ID != asset || seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		n++
		c, _ := changeOf(e, "location")
		if c.Before != last {
			t.Fatalf("edit %d changed location from %q, but the previous edit left %q", n, c.Before, last)
		}
		last = c.After
	}
}
