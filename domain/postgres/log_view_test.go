package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// statementsRun is how many statements s kept since it was last taken,
// without the relay's wake-up, sent after a commit from a goroutine of its
// own.
func statementsRun(s *postgrestest.Statements) int {
	n := 0
	for _, q := range s.Take() {
		if !strings.Contains(q, "pg_notify") {
			n++
		}
	}
	return n
}

// TestLogViewsRepeatedWithinTheDebounce checks that a view of the log a
// process recorded is not written again while its debounce period lasts:
// repeated, it is answered without a statement; another filter, another
// process's first sight of it and the same view once the period is over
// go to the database, which records them or not as it did before.
func TestLogViewsRepeatedWithinTheDebounce(t *testing.T) {
	dbs := postgrestest.MustDBs(t, 2)
	count := &postgrestest.Statements{}
	dbs[0].AddQueryHook(count)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	for _, db := range dbs {
		db.Now = clock
	}
	email, _ := postgrestest.MustWorkspace(t, dbs[0], argon2.Hasher{Params: postgrestest.Argon2}, "Views")
	p := postgrestest.MustPrincipal(t, dbs[0], email)
	p.SessionID = "s-1"
	here := postgres.NewLogViewService(dbs[0], time.Minute)
	there := postgres.NewLogViewService(dbs[1], time.Minute)
	ctx := context.Background()
	view := func(fingerprint string) domain.LogView {
		return domain.LogView{Where: "GET /api/v1/activity", Fingerprint: fingerprint}
	}
	for _, step := range []struct {
		name       string
		svc        *postgres.LogViewService
		view       domain.LogView
		later      time.Duration
		recorded   bool
		statements bool
	}{
		{"first view", here, view("a"), 0, true, true},
		{"repeated", here, view("a"), 30 * time.Second, false, false},
		{"another filter", here, view("b"), 0, true, true},
		{"another process", there, view("a"), 0, false, false}, // its statements run on its own pool
		{"repeated at the end of the period", here, view("a"), 29*time.Second + 999*time.Millisecond, false, false},
		{"the period over", here, view("a"), time.Millisecond, true, true},
		{"repeated again", here, view("a"), 0, false, false},
	} {
		t.Run(step.name, func(t *testing.T) {
			mu.Lock()
			now = now.Add(step.later)
			mu.Unlock()
			statementsRun(count)
			recorded, err := step.svc.RecordLogView(ctx, p, step.view)
			if err != nil {
				t.Fatal(err)
			}
			if recorded != step.recorded {
				t.Errorf("recorded %t, want %t", recorded, step.recorded)
			}
			if n := statementsRun(count); (n > 0) != step.statements {
				t.Errorf("%d statements on this process's pool, want some: %t", n, step.statements)
			}
		})
	}
}
