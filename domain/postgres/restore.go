package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type restoreRow struct {
	bun.BaseModel `bun:"table:archive_restores"`
	ID            string     `bun:"id,pk,type:uuid"`
	WorkspaceID   string     `bun:"workspace_id,type:uuid"`
	FromAt        time.Time  `bun:"from_at"`
	ToAt          time.Time  `bun:"to_at"`
	Months        []string   `bun:"months,array"`
	Days          int        `bun:"days"`
	Status        string     `bun:"status"`
	Entries       int64      `bun:"entries"`
	Removed       int64      `bun:"removed"`
	Error         string     `bun:"error"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	CreatedBy     *string    `bun:"created_by,type:uuid"`
	CreatedAt     time.Time  `bun:"created_at"`
	RestoredAt    *time.Time `bun:"restored_at"`
	EndedAt       *time.Time `bun:"ended_at"`
	EndedBy       *string    `bun:"ended_by,type:uuid"`
}

func (r restoreRow) restore() domain.ArchiveRestore {
	out := domain.ArchiveRestore{
		ID: r.ID, WorkspaceID: r.WorkspaceID, From: r.FromAt.UTC(), To: r.ToAt.UTC(), Months: r.Months, Days: r.Days,
		Status: r.Status, Entries: r.Entries, Removed: r.Removed, Error: r.Error, ExpiresAt: r.ExpiresAt.UTC(),
		CreatedAt: r.CreatedAt.UTC(), RestoredAt: utc(r.RestoredAt), EndedAt: utc(r.EndedAt),
	}
	if out.Months == nil {
		out.Months = []string{}
	}
	if r.CreatedBy != nil {
		out.CreatedBy = *r.CreatedBy
	}
	if r.EndedBy != nil {
		out.EndedBy = *r.EndedBy
	}
	return out
}

// restoreDetails are the details a restore's events carry.
func restoreDetails(e *activity.Event, r domain.ArchiveRestore) {
	detail(e, "restore_id", r.ID)
	detail(e, "from", r.From.Format(time.RFC3339))
	detail(e, "to", r.To.Format(time.RFC3339))
	detail(e, "months", r.Months)
	detail(e, "days", r.Days)
	detail(e, "expires_at", r.ExpiresAt.Format(time.RFC3339))
}

// restoreResource names a restore as its events' resource.
func restoreResource(r domain.ArchiveRestore) activity.Resource {
	return activity.Resource{Type: "archive_restore", ID: r.ID, Name: r.From.Format("2006-01-02") + " to " + r.To.Format("2006-01-02")}
}

// RestoreStore keeps restores of archived periods. It implements
// domain.RestoreStore.
type RestoreStore struct{ db *DB }

// NewRestoreStore returns the restore store of db.
func NewRestoreStore(db *DB) *RestoreStore { return &RestoreStore{db: db} }

// CreateRestore stores a pending restore and records it in the same
// transaction.
func (s *RestoreStore) CreateRestore(ctx context.Context, p activity.Principal, in domain.NewRestore) (domain.ArchiveRestore, error) {
	if err := domain.Require(p, domain.ManageRetention); err != nil {
		return domain.ArchiveRestore{}, err
	}
	var row restoreRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		// One restore in force per moment: requests of one workspace take
		// their turn, so two at once cannot both find no overlap.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.archive_restores.' || ?, 0))", ws.ID); err != nil {
			return fmt.Errorf("lock the workspace's restores: %w", err)
		}
		var open []restoreRow
		if err := tx.NewSelect().Model(&open).Where("workspace_id = ? AND status IN (?, ?) AND from_at < ? AND to_at > ?",
			ws.ID, domain.RestorePending, domain.RestoreRestored, in.To.UTC(), in.From.UTC()).Limit(1).Scan(ctx); err != nil {
			return fmt.Errorf("select overlapping restores: %w", err)
		}
		if len(open) > 0 {
			c := open[0]
			return activity.Errorf(activity.ECONFLICT, "from",
				"the period overlaps restore %s (%s to %s), %s until %s: end it first, or restore a period beside it",
				c.ID, c.FromAt.Format(time.RFC3339), c.ToAt.Format(time.RFC3339), c.Status, c.ExpiresAt.Format(time.RFC3339))
		}
		row = restoreRow{ID: activity.NewEventID(), WorkspaceID: ws.ID, FromAt: in.From.UTC(), ToAt: in.To.UTC(), Months: in.Months,
			Days: in.Days, Status: domain.RestorePending, ExpiresAt: now.AddDate(0, 0, in.Days), CreatedBy: optional(p.UserID), CreatedAt: now}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert archive restore: %w", err)
		}
		r := row.restore()
		e := newEvent(ctx, ws, p, domain.ActionArchiveRestoreRequested, now, restoreResource(r))
		restoreDetails(&e, r)
		return s.db.recordEvents(ctx, tx, e)
	})
	return row.restore(), err
}

// ListRestores returns the workspace's restores, newest first.
func (s *RestoreStore) ListRestores(ctx context.Context, p activity.Principal) ([]domain.ArchiveRestore, error) {
	if err := domain.Require(p, domain.ManageRetention); err != nil {
		return nil, err
	}
	var rows []restoreRow
	if err := s.db.NewSelect().Model(&rows).Where("workspace_id = ?", p.WorkspaceID).OrderExpr("created_at DESC, id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select archive restores: %w", err)
	}
	out := make([]domain.ArchiveRestore, len(rows))
	for i, r := range rows {
		out[i] = r.restore()
	}
	return out, nil
}

// EndRestore ends a restore now and records it in the same transaction.
func (s *RestoreStore) EndRestore(ctx context.Context, p activity.Principal, id string) (domain.ArchiveRestore, error) {
	if err := domain.Require(p, domain.ManageRetention); err != nil {
		return domain.ArchiveRestore{}, err
	}
	var row restoreRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		if !validID(id) {
			return activity.Errorf(activity.ENOTFOUND, "", "restore not found")
		}
		err := tx.NewSelect().Model(&row).Where("id = ? AND workspace_id = ?", id, p.WorkspaceID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return activity.Errorf(activity.ENOTFOUND, "", "restore not found")
		}
		if err != nil {
			return fmt.Errorf("select archive restore: %w", err)
		}
		switch row.Status {
		case domain.RestorePending:
			row.Status = domain.RestoreExpired
		case domain.RestoreRestored:
			if !row.ExpiresAt.After(now) {
				return activity.Errorf(activity.ECONFLICT, "", "the restore expired on %s; its entries leave the log within moments, when the retention role next looks at restores", row.ExpiresAt.UTC().Format(time.RFC3339))
			}
		default:
			return activity.Errorf(activity.ECONFLICT, "", "the restore is %s already", row.Status)
		}
		row.ExpiresAt, row.EndedAt, row.EndedBy = now, &now, optional(p.UserID)
		if _, err := tx.NewUpdate().Model(&row).Column("status", "expires_at", "ended_at", "ended_by").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("end archive restore: %w", err)
		}
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		r := row.restore()
		e := newEvent(ctx, ws, p, domain.ActionArchiveRestoreEnded, now, restoreResource(r))
		restoreDetails(&e, r)
		return s.db.recordEvents(ctx, tx, e)
	})
	return row.restore(), err
}

// PendingRestores returns every workspace's pending restores, oldest
// first.
func (s *RestoreStore) PendingRestores(ctx context.Context) ([]domain.ArchiveRestore, error) {
	var rows []restoreRow
	if err := s.db.NewSelect().Model(&rows).Where("status = ?", domain.RestorePending).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select pending archive restores: %w", err)
	}
	out := make([]domain.ArchiveRestore, len(rows))
	for i, r := range rows {
		out[i] = r.restore()
	}
	return out, nil
}

// FinishRestore stores a pending restore's outcome and records it, unless
// it is no longer pending.
func (s *RestoreStore) FinishRestore(ctx context.Context, r domain.ArchiveRestore, now time.Time) (bool, error) {
	var done bool
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, _ time.Time) error {
		at := now.UTC()
		res, err := tx.NewUpdate().Model((*restoreRow)(nil)).
			Set("status = ?, entries = ?, error = ?, restored_at = ?", r.Status, r.Entries, r.Error, at).
			Where("id = ? AND status = ?", r.ID, domain.RestorePending).Exec(ctx)
		if err != nil {
			return fmt.Errorf("finish archive restore: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		done = true
		ws, err := s.db.workspace(ctx, tx, r.WorkspaceID)
		if err != nil {
			return err
		}
		e := newSystemEvent(ws.ID, domain.ActionArchiveRestored, at, restoreResource(r))
		restoreDetails(&e, r)
		detail(&e, "entries_restored", r.Entries)
		if r.Status == domain.RestoreFailed {
			e.Outcome = activity.OutcomeFailure
			detail(&e, "error", r.Error)
		}
		return s.db.recordEvents(ctx, tx, e)
	})
	return done, err
}

// DueRestores returns the restores, pending or restored, whose time has
// passed by now.
func (s *RestoreStore) DueRestores(ctx context.Context, now time.Time) ([]domain.ArchiveRestore, error) {
	var rows []restoreRow
	if err := s.db.NewSelect().Model(&rows).Where("status IN (?, ?) AND expires_at <= ?", domain.RestorePending, domain.RestoreRestored, now.UTC()).
		OrderExpr("expires_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select due archive restores: %w", err)
	}
	out := make([]domain.ArchiveRestore, len(rows))
	for i, r := range rows {
		out[i] = r.restore()
	}
	return out, nil
}

// ExpireRestore marks a restore expired and records it.
func (s *RestoreStore) ExpireRestore(ctx context.Context, r domain.ArchiveRestore, now time.Time) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, _ time.Time) error {
		at := now.UTC()
		res, err := tx.NewUpdate().Model((*restoreRow)(nil)).
			Set("status = ?, removed = ?, ended_at = COALESCE(ended_at, ?)", domain.RestoreExpired, r.Removed, at).
			Where("id = ? AND status IN (?, ?)", r.ID, domain.RestorePending, domain.RestoreRestored).Exec(ctx)
		if err != nil {
			return fmt.Errorf("expire archive restore: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		ws, err := s.db.workspace(ctx, tx, r.WorkspaceID)
		if err != nil {
			return err
		}
		e := newSystemEvent(ws.ID, domain.ActionArchiveRestoreExpired, at, restoreResource(r))
		restoreDetails(&e, r)
		detail(&e, "entries_removed", r.Removed)
		return s.db.recordEvents(ctx, tx, e)
	})
}

var _ domain.RestoreStore = (*RestoreStore)(nil)
