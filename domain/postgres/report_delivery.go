package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/report"
)

type reportDeliveryRow struct {
	bun.BaseModel `bun:"table:report_deliveries"`
	ID            string     `bun:"id,pk,type:uuid"`
	ReportID      string     `bun:"report_id,type:uuid"`
	WorkspaceID   string     `bun:"workspace_id,type:uuid"`
	Type          string     `bun:"type"`
	URL           string     `bun:"url"`
	Recipients    []string   `bun:"recipients,array"`
	Roles         []string   `bun:"roles,array"`
	State         string     `bun:"state"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	LockedUntil   *time.Time `bun:"locked_until"`
	LastStatus    int        `bun:"last_status"`
	LastError     string     `bun:"last_error"`
	DeliveredAt   *time.Time `bun:"delivered_at"`
	CreatedAt     time.Time  `bun:"created_at"`
}

// insertReportDeliveries queues r for each recipient, due now: an email
// with its addresses and roles, whose members are read when it is sent,
// and a webhook with its URL.
func insertReportDeliveries(ctx context.Context, tx bun.Tx, r report.Report, recipients []alert.Channel, now time.Time) error {
	var rows []reportDeliveryRow
	for _, c := range recipients {
		row := reportDeliveryRow{
			ID: activity.NewEventID(), ReportID: r.ID, WorkspaceID: r.WorkspaceID, Type: c.Type,
			Recipients: nonNil(c.To), Roles: nonNil(c.Roles), State: alert.DeliveryPending, NextAttemptAt: now, CreatedAt: now,
		}
		if c.Type == alert.ChannelWebhook {
			row.URL = c.URL
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert report deliveries: %w", err)
	}
	return nil
}

// ReportDeliveryQueue is the scheduler's queue of generated reports to
// send. It implements report.DeliveryQueue: deliveries are leased with
// FOR UPDATE SKIP LOCKED, so that two schedulers never send one at once,
// and a lease that runs out makes a delivery due again.
type ReportDeliveryQueue struct {
	db  *DB
	box *keybox.Box
}

// NewReportDeliveryQueue returns the report delivery queue of db; box
// opens the workspaces' signing secrets and seals the ones it makes.
func NewReportDeliveryQueue(db *DB, box *keybox.Box) *ReportDeliveryQueue {
	return &ReportDeliveryQueue{db: db, box: box}
}

// Claim leases up to n pending deliveries due at now for lease, oldest
// first, each with its report and files, an email with the addresses of
// its roles' active members read now, and a webhook with the workspace's
// signing secret (made now if the workspace has none yet).
func (q *ReportDeliveryQueue) Claim(ctx context.Context, n int, now time.Time, lease time.Duration) ([]report.Delivery, error) {
	if n < 1 {
		return nil, nil
	}
	now = now.UTC()
	var out []report.Delivery
	err := q.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out = out[:0]
		var rows []reportDeliveryRow
		if err := claimDeliveries(ctx, tx, "report_deliveries", n, now, lease, &rows); err != nil {
			return fmt.Errorf("claim report deliveries: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ReportID
		}
		var reports []reportRow
		if err := tx.NewSelect().Model(&reports).ExcludeColumn("result", "parameters").Where("r.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return fmt.Errorf("select reports of deliveries: %w", err)
		}
		byID := make(map[string]reportRow, len(reports))
		for _, r := range reports {
			byID[r.ID] = r
		}
		to := newTargets(tx)
		secrets := newSigningSecrets(tx, q.box, now)
		for _, r := range rows {
			rep := byID[r.ReportID]
			d := report.Delivery{
				ID: r.ID, WorkspaceID: r.WorkspaceID, Type: r.Type, URL: r.URL, Attempts: r.Attempts,
				Report: rep.summary(), Workspace: rep.WorkspaceName, Files: rep.Files,
			}
			switch r.Type {
			case alert.ChannelEmail:
				addrs, err := to.recipients(ctx, r.WorkspaceID, alert.Channel{To: r.Recipients, Roles: r.Roles})
				if err != nil {
					return err
				}
				d.To = addrs
			case alert.ChannelWebhook:
				secret, err := secrets.of(ctx, r.WorkspaceID)
				if err != nil {
					return err
				}
				d.Secret = secret
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Record logs an attempt and moves its delivery on: delivered, pending
// again at RetryAt, or failed when RetryAt is zero.
func (q *ReportDeliveryQueue) Record(ctx context.Context, a alert.Attempt) error {
	return recordDelivery(ctx, q.db, "report_deliveries", "report_delivery_attempts", a)
}

var _ report.DeliveryQueue = (*ReportDeliveryQueue)(nil)
