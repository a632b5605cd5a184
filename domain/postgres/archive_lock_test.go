package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestArchiveLocksSerialiseAWorkspacesRewrites takes one workspace's
// archive lock through one set of locks and checks that another set, as
// another process would hold, cannot take it until it is released, while
// another workspace's lock is free all along.
func TestArchiveLocksSerialiseAWorkspacesRewrites(t *testing.T) {
	db := postgrestest.MustDB(t)
	a, b := postgres.NewArchiveLocks(db), postgres.NewArchiveLocks(db)
	ctx := context.Background()
	ws, other := stacktest.RandomID(), stacktest.RandomID()

	release, err := a.LockArchive(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	waiting, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if unlock, err := b.LockArchive(waiting, ws); !errors.Is(err, context.DeadlineExceeded) {
		if unlock != nil {
			unlock()
		}
		t.Fatalf("a second holder took the held lock: %v; want it to wait until its context ended", err)
	}
	unlockOther, err := b.LockArchive(ctx, other)
	if err != nil {
		t.Fatalf("another workspace's lock: %v", err)
	}
	unlockOther()

	got := make(chan error, 1)
	go func() {
		unlock, err := b.LockArchive(ctx, ws)
		if err == nil {
			unlock()
		}
		got <- err
	}()
	release()
	if err := <-got; err != nil {
		t.Fatalf("the lock once released: %v", err)
	}
}
