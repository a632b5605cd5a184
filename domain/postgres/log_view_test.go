package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// countingHook counts the statements a DB sends.
type countingHook struct{ n atomic.Int64 }

func (h *countingHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	h.n.Add(1)
	return ctx
}

func (h *countingHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestLogViewsRepeatedWithinTheDebounceSkipPostgres records one session's
// views of the log with one filter in two processes: each records or
// checks the view in PostgreSQL once, sends nothing for the repeats
// within the debounce period, and a view past it is recorded again.
func TestLogViewsRepeatedWithinTheDebounceSkipPostgres(t *testing.T) {
	dbs := postgrestest.MustDBs(t, 2)
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	hooks := make([]*countingHook, len(dbs))
	views := make([]*postgres.LogViewService, len(dbs))
	for i, db := range dbs {
		db.Now = clock
		hooks[i] = &countingHook{}
		db.AddQueryHook(hooks[i])
		views[i] = postgres.NewLogViewService(db, 10*time.Minute)
	}
	email, _ := postgrestest.MustWorkspace(t, dbs[0], argon2.Hasher{Params: postgrestest.Argon2}, "Views")
	p := postgrestest.MustPrincipal(t, dbs[0], email)
	p.SessionID = "11111111-1111-4111-8111-111111111111"
	view := domain.LogView{Where: "GET /api/v1/activity", Parameters: map[string]string{"q": "macbook"}, Fingerprint: "fingerprint-1"}

	steps := []struct {
		name         string
		process      int
		advance      time.Duration
		recorded     bool
		asksPostgres bool // whether PostgreSQL is asked at all
	}{
		{name: "first view", process: 0, recorded: true, asksPostgres: true},
		{name: "repeat in the same process", process: 0, advance: time.Minute},
		{name: "first view in another process", process: 1, advance: time.Minute, asksPostgres: true},
		{name: "repeat in the other process", process: 1, advance: time.Minute},
		{name: "past the debounce", process: 1, advance: 8 * time.Minute, recorded: true, asksPostgres: true},
		{name: "repeat after the new record", process: 1, advance: time.Minute},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		before := hooks[st.process].n.Load()
		recorded, err := views[st.process].RecordLogView(t.Context(), p, view)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if recorded != st.recorded {
			t.Errorf("%s: recorded = %v, want %v", st.name, recorded, st.recorded)
		}
		if asked := hooks[st.process].n.Load() > before; asked != st.asksPostgres {
			t.Errorf("%s: PostgreSQL asked = %v, want %v", st.name, asked, st.asksPostgres)
		}
	}
}
