package domain

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
)

// Actions of retention and legal holds.
const (
	// ActionRetentionApplied is a run of the retention job in a workspace,
	// by the platform, with its counts.
	ActionRetentionApplied = "system.retention_applied"
	// ActionHoldCreated and ActionHoldReleased are legal holds placed and
	// lifted by an owner.
	ActionHoldCreated  = "system.legal_hold_created"
	ActionHoldReleased = "system.legal_hold_released"
	// ActionActivityDeleted is an owner's deletion of entries past the
	// workspace's retention; it is itself kept, never deleted.
	ActionActivityDeleted = "system.activity_deleted"
)

// KeptActions are the classes of entries that can never be deleted, by
// action, each with the reason given to whoever asks to delete them.
var KeptActions = map[string]string{
	"auth.login":             "successful logins are kept",
	"auth.login_failed":      "failed logins are kept",
	"auth.access_denied":     "refused requests are kept",
	"license.key_viewed":     "license key views are kept",
	ActionDataExported:       "exports are kept",
	ActionReportGenerated:    "exports are kept",
	"user.role_changed":      "permission and role changes are kept",
	"user.activated":         "permission and role changes are kept",
	"user.deactivated":       "permission and role changes are kept",
	"user.api_token_created": "permission and role changes are kept",
	"user.api_token_revoked": "permission and role changes are kept",
	"user.api_token_rotated": "permission and role changes are kept",
	ActionActivityDeleted:    "deletions of logs are kept",
	ActionRetentionApplied:   "deletions of logs are kept",
	ActionHoldCreated:        "legal holds are kept",
	ActionHoldReleased:       "legal holds are kept",
}

// LegalHold keeps a workspace's entries of a period, of a user, or of a
// user in a period, in the searchable log: never archived away or deleted
// until it is released. A zero From or To leaves that side open.
type LegalHold struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"-"`
	From        *time.Time `json:"from,omitempty"`
	To          *time.Time `json:"to,omitempty"`
	UserID      string     `json:"user_id,omitempty"`
	Reason      string     `json:"reason"`
	CreatedBy   string     `json:"created_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ReleasedAt  *time.Time `json:"released_at,omitempty"`
	ReleasedBy  string     `json:"released_by,omitempty"`
}

// NewHold is a legal hold to place: a period, a user, or both.
type NewHold struct {
	From   *time.Time `json:"from"`
	To     *time.Time `json:"to"`
	UserID string     `json:"user_id"`
	Reason string     `json:"reason"`
}

// Validate returns EINVALID naming the first bad field: a hold needs a
// period or a user, a period that ends after it starts, and a reason.
func (h NewHold) Validate() error {
	switch {
	case h.From == nil && h.To == nil && h.UserID == "":
		return activity.Errorf(activity.EINVALID, "from", "a hold needs a period (from, to), a user_id, or both")
	case h.From != nil && h.To != nil && !h.From.Before(*h.To):
		return activity.Errorf(activity.EINVALID, "to", "to must be later than from")
	}
	if err := activity.ValidateLine("reason", h.Reason, 500); err != nil {
		return err
	}
	if h.Reason == "" {
		return activity.Errorf(activity.EINVALID, "reason", "reason is required")
	}
	return nil
}

// HoldService places, lists and releases legal holds. Only owners may: it
// returns EFORBIDDEN for anyone else.
type HoldService interface {
	// CreateHold places a hold and records ActionHoldCreated. It returns
	// EINVALID naming a bad field, ENOTFOUND for a user of no member.
	CreateHold(ctx context.Context, p activity.Principal, in NewHold) (LegalHold, error)
	// ListHolds returns the workspace's holds, newest first, released
	// ones included.
	ListHolds(ctx context.Context, p activity.Principal) ([]LegalHold, error)
	// ReleaseHold lifts a hold and records ActionHoldReleased. It returns
	// ENOTFOUND for no hold of the workspace and ECONFLICT for one
	// already released.
	ReleaseHold(ctx context.Context, p activity.Principal, id string) (LegalHold, error)
}

// RetentionWorkspace is a workspace as the retention job sees it: its
// entries leave the searchable log after ActiveDays (never when zero),
// and the archive after KeepDays; its holds in force keep them.
type RetentionWorkspace struct {
	ID         string
	ActiveDays int
	KeepDays   int
	Holds      []LegalHold
}

// RetentionRun is what a run of the retention job did in one workspace.
type RetentionRun struct {
	WorkspaceID    string
	MonthsArchived int
	Archived       int64
	Deleted        int64
	Held           int64
	// MonthsExpired are archived months deleted from the archive, past
	// the workspace's log_retention_days.
	MonthsExpired int
}

// RetentionStore tells the retention job which workspaces to act on,
// leases its runs so that one process runs it at a time, and records
// what it did.
type RetentionStore interface {
	// RetentionWorkspaces returns every workspace with its retention
	// periods and its holds in force.
	RetentionWorkspaces(ctx context.Context) ([]RetentionWorkspace, error)
	// ClaimRetention leases the retention job until now plus lease unless
	// another process holds it, and returns the lease's id; an empty id
	// means another process holds it.
	ClaimRetention(ctx context.Context, now time.Time, lease time.Duration) (string, error)
	// ReleaseRetention ends the lease leaseID holds, if it still does.
	ReleaseRetention(ctx context.Context, leaseID string) error
	// RecordRetention records ActionRetentionApplied by the platform in
	// the run's workspace, through the outbox.
	RecordRetention(ctx context.Context, run RetentionRun, now time.Time) error
}
