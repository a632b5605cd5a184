package domain

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
)

// Actions of restores of archived periods.
const (
	// ActionArchiveRestoreRequested is an owner asking for a period of
	// the archive to be searchable again for a while.
	ActionArchiveRestoreRequested = "system.archive_restore_requested"
	// ActionArchiveRestored is the retention job having indexed a
	// restore's period back into the searchable log (or having failed
	// to: outcome failure, with the reason), with the counts.
	ActionArchiveRestored = "system.archive_restored"
	// ActionArchiveRestoreEnded is an owner ending a restore before its
	// time.
	ActionArchiveRestoreEnded = "system.archive_restore_ended"
	// ActionArchiveRestoreExpired is the retention job having removed a
	// restore's entries from the searchable log once it expired; the
	// archive still holds them.
	ActionArchiveRestoreExpired = "system.archive_restore_expired"
)

// Statuses of a restore.
const (
	// RestorePending waits for the retention job's next run.
	RestorePending = "pending"
	// RestoreRestored is searchable until its ExpiresAt.
	RestoreRestored = "restored"
	// RestoreExpired was removed from the searchable log again (or ended
	// before it was restored).
	RestoreExpired = "expired"
	// RestoreFailed could not be restored: Error says why.
	RestoreFailed = "failed"
)

// Bounds of how long a restore stays searchable, in days.
const (
	DefaultRestoreDays    = 7
	DefaultMaxRestoreDays = 30
)

// ArchiveRestore is a period of a workspace's archive made searchable
// again for a while: its entries from From (inclusive) to To (exclusive),
// read from the archived Months, searchable until ExpiresAt.
type ArchiveRestore struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"-"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	// Months are the archived months (2026-03) the period reads.
	Months []string `json:"months"`
	Days   int      `json:"days"`
	// Status is pending, restored, expired or failed.
	Status string `json:"status"`
	// Entries is how many entries the restore made searchable again,
	// Removed how many its expiry took out of the searchable log.
	Entries    int64      `json:"entries_restored"`
	Removed    int64      `json:"entries_removed"`
	Error      string     `json:"error,omitempty"`
	ExpiresAt  time.Time  `json:"expires_at"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	RestoredAt *time.Time `json:"restored_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	EndedBy    string     `json:"ended_by,omitempty"`
}

// NewRestore is a restore to ask for: the period, how many days it stays
// searchable, and the archived months it reads (which the caller found in
// the archive).
type NewRestore struct {
	From   time.Time
	To     time.Time
	Days   int
	Months []string
}

// Validate returns EINVALID naming the first bad field: a period that
// ends after it starts, and days from 1 to maxDays.
func (r NewRestore) Validate(maxDays int) error {
	switch {
	case r.From.IsZero():
		return activity.Errorf(activity.EINVALID, "from", "from is required")
	case r.To.IsZero():
		return activity.Errorf(activity.EINVALID, "to", "to is required")
	case !r.From.Before(r.To):
		return activity.Errorf(activity.EINVALID, "to", "to must be later than from")
	case r.Days < 1 || r.Days > maxDays:
		return activity.Errorf(activity.EINVALID, "days", "days must be from 1 to %d", maxDays)
	}
	return nil
}

// RestoreStore keeps restores of archived periods. The owners' methods
// return EFORBIDDEN for anyone else.
type RestoreStore interface {
	// CreateRestore stores a pending restore, expiring in.Days after now,
	// and records ActionArchiveRestoreRequested.
	CreateRestore(ctx context.Context, p activity.Principal, in NewRestore) (ArchiveRestore, error)
	// ListRestores returns the workspace's restores, newest first.
	ListRestores(ctx context.Context, p activity.Principal) ([]ArchiveRestore, error)
	// EndRestore ends a restore now and records ActionArchiveRestoreEnded:
	// a pending one expires at once; a restored one expires now, and the
	// retention job's next run removes its entries. It returns ENOTFOUND
	// for no restore of the workspace and ECONFLICT for one that has
	// expired or failed.
	EndRestore(ctx context.Context, p activity.Principal, id string) (ArchiveRestore, error)

	// PendingRestores returns every workspace's pending restores, oldest
	// first, for the retention job.
	PendingRestores(ctx context.Context) ([]ArchiveRestore, error)
	// FinishRestore stores the outcome of a pending restore (Status
	// restored with Entries, or failed with Error) and records
	// ActionArchiveRestored. It returns false when the restore was no
	// longer pending (an owner ended it meanwhile), and then stores
	// nothing.
	FinishRestore(ctx context.Context, r ArchiveRestore, now time.Time) (bool, error)
	// DueRestores returns every workspace's pending and restored restores
	// whose ExpiresAt is not after now.
	DueRestores(ctx context.Context, now time.Time) ([]ArchiveRestore, error)
	// ExpireRestore marks a restore expired with the Removed count and
	// records ActionArchiveRestoreExpired.
	ExpireRestore(ctx context.Context, r ArchiveRestore, now time.Time) error
}
