package app

import (
	"context"
	"time"

	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/retry"
	"github.com/fluxera/activity/searchapi/export"
)

// Backups wires the monthly backups: the search index read through the
// search API's scanner, the archive store, and the leases in PostgreSQL.
func (m *Main) Backups() (*export.Backups, error) {
	db, err := m.Database()
	if err != nil {
		return nil, err
	}
	finder, err := m.finder()
	if err != nil {
		return nil, err
	}
	archive, err := m.Archive()
	if err != nil {
		return nil, err
	}
	return &export.Backups{
		Scanner: finder,
		Archive: archive,
		Store:   postgres.NewBackupStore(db),
		Log:     m.Log.WithField("component", "backup"),
	}, nil
}

// backupCheckInterval is how often the schedule role looks for monthly
// backups that are due; a month's backup is written within this much of
// the month's end.
const backupCheckInterval = 15 * time.Minute

// runBackups writes the due monthly backups at start and then every
// interval, until ctx ends.
func runBackups(ctx context.Context, b *export.Backups, interval time.Duration) error {
	for {
		if _, err := b.RunDue(ctx); err != nil && ctx.Err() == nil {
			b.Log.WithError(err).Warn("Looking for due monthly backups failed; trying again at the next run.")
		}
		if !retry.Sleep(ctx, interval) {
			return nil
		}
	}
}
