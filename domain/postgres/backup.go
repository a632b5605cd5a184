package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// BackupStore keeps the monthly backups' leases and records. It implements
// domain.BackupStore.
type BackupStore struct{ db *DB }

// NewBackupStore returns the backup store of db.
func NewBackupStore(db *DB) *BackupStore { return &BackupStore{db: db} }

// BackupWorkspaces returns the workspaces with monthly backups on.
func (s *BackupStore) BackupWorkspaces(ctx context.Context) ([]domain.BackupWorkspace, error) {
	var rows []workspaceRow
	if err := s.db.NewSelect().Model(&rows).Where("monthly_backup").OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select backup workspaces: %w", err)
	}
	out := make([]domain.BackupWorkspace, len(rows))
	for i, r := range rows {
		out[i] = domain.BackupWorkspace{ID: r.ID, Name: r.Name, TimeZone: r.TimeZone}
	}
	return out, nil
}

// ClaimBackup inserts the month's row as running, or takes over a running
// one whose lease has lapsed; a done month, or one leased by another
// process, is not claimed.
func (s *BackupStore) ClaimBackup(ctx context.Context, workspaceID string, month, now time.Time, lease time.Duration) (string, error) {
	id := activity.NewEventID()
	res, err := s.db.NewRaw(`INSERT INTO monthly_backups (workspace_id, month, state, lease_until, lease_id) VALUES (?, ?, 'running', ?, ?)
		ON CONFLICT (workspace_id, month) DO UPDATE SET lease_until = EXCLUDED.lease_until, lease_id = EXCLUDED.lease_id
		WHERE monthly_backups.state = 'running' AND monthly_backups.lease_until < ?`,
		workspaceID, month.Format(time.DateOnly), now.Add(lease), id, now).Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("claim backup of %s: %w", month.Format("2006-01"), err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return "", err
	}
	return id, nil
}

// FinishBackup marks the month done and records the export.
func (s *BackupStore) FinishBackup(ctx context.Context, b domain.MonthlyBackup, leaseID string, now time.Time) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, _ time.Time) error {
		res, err := tx.NewRaw(`UPDATE monthly_backups SET state = 'done', archive_name = ?, entries = ?, bytes = ?, finished_at = ?
			WHERE workspace_id = ? AND month = ? AND state = 'running' AND lease_id = ? AND lease_until > ?`,
			b.ArchiveName, b.Entries, b.Bytes, now, b.WorkspaceID, b.Month.Format(time.DateOnly), leaseID, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("finish backup: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("finish backup of %s: this process no longer holds its lease", b.Month.Format("2006-01"))
		}
		ws, err := s.db.workspace(ctx, tx, b.WorkspaceID)
		if err != nil {
			return err
		}
		e := newSystemEvent(ws.ID, domain.ActionDataExported, now, activity.Resource{Type: "backup", Name: b.ArchiveName})
		e.Details = map[string]any{
			"dataset": "activity", "format": "ndjson.gz", "month": b.Month.Format("2006-01"),
			"entries": b.Entries, "bytes": b.Bytes, "complete": true, "automatic": true,
		}
		return s.db.recordEvents(ctx, tx, e)
	})
}

var _ domain.BackupStore = (*BackupStore)(nil)
