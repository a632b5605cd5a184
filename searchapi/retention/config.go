package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxera/activity/domain"
)

// Defaults of the retention role.
const (
	DefaultInterval = time.Hour
	DefaultLease    = time.Hour
	// DefaultRestoreInterval is how often the role looks for restores
	// asked for, ended or past their time, between its runs.
	DefaultRestoreInterval = 15 * time.Second
	// DefaultRestoreMaxDays is how long a restore of an archived period
	// may stay searchable at most, unless configured.
	DefaultRestoreMaxDays = domain.DefaultMaxRestoreDays
)

// Locker serialises, across processes, the work that rewrites one
// workspace's archive, so that two writers never replace the same month
// from two different readings of it.
type Locker interface {
	// LockArchive waits until it holds workspace's lock, or ctx ends, and
	// returns the function that releases it.
	LockArchive(ctx context.Context, workspace string) (func(), error)
}

// lockArchive takes workspace's lock from l, or nothing when l is nil.
func lockArchive(ctx context.Context, l Locker, workspace string) (func(), error) {
	if l == nil {
		return func() {}, nil
	}
	unlock, err := l.LockArchive(ctx, workspace)
	if err != nil {
		return nil, fmt.Errorf("wait for the archive of workspace %s: %w", workspace, err)
	}
	return unlock, nil
}

// Config tunes the retention role.
type Config struct {
	// Interval is how often the job looks for entries past their active
	// retention.
	Interval time.Duration
	// Lease is how long one run holds the job, so that one process runs
	// it at a time; a run longer than that stops and leaves the rest to
	// the next.
	Lease time.Duration
	// RestoreMaxDays bounds how long an owner's restore of an archived
	// period stays searchable, in days.
	RestoreMaxDays int
	// RestoreInterval is how often, between runs, the role indexes the
	// restores owners asked for and removes those ended or expired, so
	// that a restore does not wait for the next run.
	RestoreInterval time.Duration
}

// Validate fills in the defaults and checks the bounds.
func (c *Config) Validate() error {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.RestoreInterval == 0 {
		c.RestoreInterval = DefaultRestoreInterval
	}
	if c.RestoreMaxDays == 0 {
		c.RestoreMaxDays = DefaultRestoreMaxDays
	}
	switch {
	case c.Interval < time.Second || c.Interval > 7*24*time.Hour:
		return fmt.Errorf("FLUXERA_RETENTION_INTERVAL must be between 1s and 168h")
	case c.Lease < time.Minute || c.Lease > 24*time.Hour:
		return fmt.Errorf("FLUXERA_RETENTION_LEASE must be between 1m and 24h")
	case c.RestoreInterval < time.Second || c.RestoreInterval > time.Hour:
		return fmt.Errorf("FLUXERA_RESTORE_INTERVAL must be between 1s and 1h")
	case c.RestoreMaxDays < 1 || c.RestoreMaxDays > 365:
		return fmt.Errorf("FLUXERA_RESTORE_MAX_DAYS must be between 1 and 365")
	}
	return nil
}
