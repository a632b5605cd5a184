package privacy

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/fluxera/activity/internal/retry"
)

// Erasure is a deleted member whose entries are due to be anonymized,
// leased to one process until Lease.
type Erasure struct {
	UserID      string
	WorkspaceID string
	Lease       time.Time
}

// Erasures are the deleted members waiting for their anonymization.
type Erasures interface {
	// ClaimDue leases the erasure due longest at now until now+lease, or
	// answers false when none is due or all due are leased.
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration) (Erasure, bool, error)
	// Finish marks the erasure done and records user.anonymized by the
	// system with res, in one transaction; it fails when the lease was
	// lost meanwhile.
	Finish(ctx context.Context, e Erasure, res Result, now time.Time) error
}

// Eraser anonymizes deleted members' entries once their workspace's
// deleted_user_log_days have passed. Several may run: each erasure is
// leased to one at a time.
type Eraser struct {
	Service  *Service
	Erasures Erasures
	// Now is the clock; tests move it.
	Now func() time.Time
	// Interval is how often due erasures are looked for; Lease how long
	// one is held.
	Interval time.Duration
	Lease    time.Duration
	Log      *logrus.Entry
}

// RunDue anonymizes every erasure due now and returns how many it did.
func (e *Eraser) RunDue(ctx context.Context) (int, error) {
	n := 0
	for {
		now := e.Now()
		er, ok, err := e.Erasures.ClaimDue(ctx, now, e.Lease)
		if err != nil || !ok {
			return n, err
		}
		res, err := e.Service.Replace(ctx, er.WorkspaceID, Subject{UserID: er.UserID})
		if err != nil {
			return n, err
		}
		if err := e.Erasures.Finish(ctx, er, res, e.Now()); err != nil {
			return n, err
		}
		e.Log.WithFields(logrus.Fields{"workspace_id": er.WorkspaceID, "user_id": er.UserID,
			"entries_updated": res.EntriesUpdated, "reports_updated": res.ReportsUpdated, "alerts_updated": res.AlertsUpdated}).Info("A deleted user's entries were anonymized.")
		n++
	}
}

// Run looks for due erasures every Interval until ctx ends. A failure is
// logged and tried again at the next look.
func (e *Eraser) Run(ctx context.Context) error {
	if e.Interval <= 0 || e.Lease <= 0 {
		return fmt.Errorf("eraser: interval and lease must be positive")
	}
	for {
		if _, err := e.RunDue(ctx); err != nil && ctx.Err() == nil {
			e.Log.WithError(err).Error("Anonymizing deleted users failed; it is tried again.")
		}
		if !retry.Sleep(ctx, e.Interval) {
			return nil
		}
	}
}
