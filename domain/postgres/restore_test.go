package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// TestOverlappingRestoresAskedAtOnceGetOne asks for the same archived
// period eight times at once: exactly one restore is created, the others
// are refused as conflicts naming from, and a period beside it is still
// accepted.
func TestOverlappingRestoresAskedAtOnceGetOne(t *testing.T) {
	db := postgrestest.MustDB(t)
	email, _ := postgrestest.MustWorkspace(t, db, argon2.Hasher{Params: postgrestest.Argon2}, "Restores at once")
	owner := postgrestest.MustPrincipal(t, db, email)
	store := postgres.NewRestoreStore(db)
	ctx := context.Background()
	jan := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	in := domain.NewRestore{From: jan, To: jan.AddDate(0, 1, 0), Days: 3, Months: []string{"2025-01"}}

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = store.CreateRestore(ctx, owner, in)
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case activity.ErrorCode(err) != activity.ECONFLICT || activity.ErrorField(err) != "from":
			t.Errorf("a refused restore: %v; want a conflict on from", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d restores of one period created at once; want 1", created)
	}
	beside := domain.NewRestore{From: jan.AddDate(0, 1, 0), To: jan.AddDate(0, 2, 0), Days: 3, Months: []string{"2025-02"}}
	if _, err := store.CreateRestore(ctx, owner, beside); err != nil {
		t.Fatalf("a restore of the month beside it: %v", err)
	}
	if list, err := store.ListRestores(ctx, owner); err != nil || len(list) != 2 {
		t.Fatalf("restores = %d, %v; want 2", len(list), err)
	}
}
