package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/fluxera/activity/internal/stacktest"
)

// notifies counts the NOTIFY statements a database sends.
type notifies struct {
	mu sync.Mutex
	n  int
}

func (c *notifies) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *notifies) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, "pg_notify") {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
}

func (c *notifies) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestWakerSendsOneNotificationPerGap checks that the commits that ask
// for a wake-up while a notification is on its way or within the gap
// after it share one more notification, however many they are.
func TestWakerSendsOneNotificationPerGap(t *testing.T) {
	cfg := Config{URL: stacktest.PostgresURL(), Schema: "test_" + stacktest.RandomID()}
	stacktest.MustReach(t, "PostgreSQL", stacktest.HostPort(cfg.URL))
	db, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sent := &notifies{}
	db.AddQueryHook(sent)
	w := newWaker(db.DB, "test_wake_"+stacktest.RandomID())
	paused, resume := make(chan struct{}), make(chan struct{})
	w.pause = func(done <-chan struct{}) { // the gap lasts until the test says
		select {
		case paused <- struct{}{}:
		case <-done:
			return
		}
		select {
		case <-resume:
		case <-done:
		}
	}
	defer w.close()

	for round, want := range []int{1, 2, 3} {
		for range 50 {
			w.wake()
		}
		<-paused // a notification went, and the gap began
		if got := sent.count(); got != want {
			t.Fatalf("round %d: %d notifications for %d commits, want %d", round+1, got, 50*(round+1), want)
		}
		if round < 2 {
			resume <- struct{}{}
		}
	}
}
