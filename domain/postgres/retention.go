package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type holdRow struct {
	bun.BaseModel `bun:"table:legal_holds"`
	ID            string     `bun:"id,pk,type:uuid"`
	WorkspaceID   string     `bun:"workspace_id,type:uuid"`
	FromAt        *time.Time `bun:"from_at"`
	ToAt          *time.Time `bun:"to_at"`
	UserID        *string    `bun:"user_id,type:uuid"`
	Reason        string     `bun:"reason"`
	CreatedBy     *string    `bun:"created_by,type:uuid"`
	CreatedAt     time.Time  `bun:"created_at"`
	ReleasedAt    *time.Time `bun:"released_at"`
	ReleasedBy    *string    `bun:"released_by,type:uuid"`
}

func (r holdRow) hold() domain.LegalHold {
	h := domain.LegalHold{ID: r.ID, WorkspaceID: r.WorkspaceID, From: utc(r.FromAt), To: utc(r.ToAt), Reason: r.Reason,
		CreatedAt: r.CreatedAt.UTC(), ReleasedAt: utc(r.ReleasedAt)}
	if r.UserID != nil {
		h.UserID = *r.UserID
	}
	if r.CreatedBy != nil {
		h.CreatedBy = *r.CreatedBy
	}
	if r.ReleasedBy != nil {
		h.ReleasedBy = *r.ReleasedBy
	}
	return h
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// holdDetails are the details a hold's events carry.
func holdDetails(e *activity.Event, h domain.LegalHold) {
	if h.From != nil {
		detail(e, "from", h.From.Format(time.RFC3339))
	}
	if h.To != nil {
		detail(e, "to", h.To.Format(time.RFC3339))
	}
	if h.UserID != "" {
		detail(e, "user_id", h.UserID)
	}
	detail(e, "reason", h.Reason)
}

// HoldService keeps legal holds. It implements domain.HoldService.
type HoldService struct{ db *DB }

// NewHoldService returns the hold service of db.
func NewHoldService(db *DB) *HoldService { return &HoldService{db: db} }

// CreateHold places a hold and records it in the same transaction.
func (s *HoldService) CreateHold(ctx context.Context, p activity.Principal, in domain.NewHold) (domain.LegalHold, error) {
	if err := domain.Require(p, domain.ManageRetention); err != nil {
		return domain.LegalHold{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := in.Validate(); err != nil {
		return domain.LegalHold{}, err
	}
	var row holdRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		if in.UserID != "" {
			if _, err := s.db.member(ctx, tx, ws.ID, in.UserID, "user_id"); err != nil {
				return err
			}
		}
		row = holdRow{ID: activity.NewEventID(), WorkspaceID: ws.ID, FromAt: utc(in.From), ToAt: utc(in.To), UserID: optional(in.UserID),
			Reason: in.Reason, CreatedBy: optional(p.UserID), CreatedAt: now}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert legal hold: %w", err)
		}
		e := newEvent(ctx, ws, p, domain.ActionHoldCreated, now, activity.Resource{Type: "legal_hold", ID: row.ID, Name: row.Reason})
		holdDetails(&e, row.hold())
		return s.db.recordEvents(ctx, tx, e)
	})
	return row.hold(), err
}

// ListHolds returns the workspace's holds, newest first.
func (s *HoldService) ListHolds(ctx context.Context, p activity.Principal) ([]domain.LegalHold, error) {
	if err := domain.Require(p, domain.ManageRetention); err != nil {
		return nil, err
	}
	var rows []holdRow
	if err := s.db.NewSelect().Model(&rows).Where("workspace_id = ?", p.WorkspaceID).OrderExpr("created_at DESC, id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select legal holds: %w", err)
	}
	out := make([]domain.LegalHold, len(rows))
	for i, r := range rows {
		out[i] = r.hold()
	}
	return out, nil
}

// ReleaseHold lifts a hold and records it in the same transaction.
func (s *HoldService) ReleaseHold(ctx context.Context, p activity.Principal, id string) (domain.LegalHold, error) {
	if err := domain.Require(p, domain.ManageRetention); err != nil {
		return domain.LegalHold{}, err
	}
	var row holdRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		if !validID(id) {
			return activity.Errorf(activity.ENOTFOUND, "", "legal hold not found")
		}
		err := tx.NewSelect().Model(&row).Where("id = ? AND workspace_id = ?", id, p.WorkspaceID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return activity.Errorf(activity.ENOTFOUND, "", "legal hold not found")
		}
		if err != nil {
			return fmt.Errorf("select legal hold: %w", err)
		}
		if row.ReleasedAt != nil {
			return activity.Errorf(activity.ECONFLICT, "", "the legal hold was released on %s", row.ReleasedAt.UTC().Format(time.RFC3339))
		}
		row.ReleasedAt, row.ReleasedBy = &now, optional(p.UserID)
		if _, err := tx.NewUpdate().Model(&row).Column("released_at", "released_by").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("release legal hold: %w", err)
		}
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, domain.ActionHoldReleased, now, activity.Resource{Type: "legal_hold", ID: row.ID, Name: row.Reason})
		holdDetails(&e, row.hold())
		return s.db.recordEvents(ctx, tx, e)
	})
	return row.hold(), err
}

var _ domain.HoldService = (*HoldService)(nil)

// RetentionStore keeps the retention job's lease and records its runs. It
// implements domain.RetentionStore.
type RetentionStore struct{ db *DB }

// NewRetentionStore returns the retention store of db.
func NewRetentionStore(db *DB) *RetentionStore { return &RetentionStore{db: db} }

// retentionLease names the retention job's row in job_leases.
const retentionLease = "retention"

// RetentionWorkspaces returns every workspace with its retention periods
// and its holds not released.
func (s *RetentionStore) RetentionWorkspaces(ctx context.Context) ([]domain.RetentionWorkspace, error) {
	var rows []workspaceRow
	if err := s.db.NewSelect().Model(&rows).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select retention workspaces: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var holds []holdRow
	if err := s.db.NewSelect().Model(&holds).Where("workspace_id IN (?) AND released_at IS NULL", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("select legal holds: %w", err)
	}
	byWorkspace := map[string][]domain.LegalHold{}
	for _, h := range holds {
		byWorkspace[h.WorkspaceID] = append(byWorkspace[h.WorkspaceID], h.hold())
	}
	out := make([]domain.RetentionWorkspace, len(rows))
	for i, r := range rows {
		out[i] = domain.RetentionWorkspace{ID: r.ID, ActiveDays: r.ActiveLogDays, KeepDays: r.LogRetentionDays, Holds: byWorkspace[r.ID]}
	}
	return out, nil
}

// ClaimRetention takes the job's lease when no one holds it or the last
// holder's lease has lapsed.
func (s *RetentionStore) ClaimRetention(ctx context.Context, now time.Time, lease time.Duration) (string, error) {
	id := activity.NewEventID()
	res, err := s.db.NewRaw(`INSERT INTO job_leases (name, lease_id, lease_until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET lease_id = EXCLUDED.lease_id, lease_until = EXCLUDED.lease_until
		WHERE job_leases.lease_until < ?`, retentionLease, id, now.Add(lease), now).Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("claim retention lease: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return "", err
	}
	return id, nil
}

// ReleaseRetention lets the lease lapse at once, if leaseID still holds it.
func (s *RetentionStore) ReleaseRetention(ctx context.Context, leaseID string) error {
	if _, err := s.db.NewRaw(`UPDATE job_leases SET lease_until = '-infinity' WHERE name = ? AND lease_id = ?`, retentionLease, leaseID).Exec(ctx); err != nil {
		return fmt.Errorf("release retention lease: %w", err)
	}
	return nil
}

// RecordRetention records system.retention_applied by the platform.
func (s *RetentionStore) RecordRetention(ctx context.Context, run domain.RetentionRun, now time.Time) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, _ time.Time) error {
		ws, err := s.db.workspace(ctx, tx, run.WorkspaceID)
		if err != nil {
			return err
		}
		e := newSystemEvent(ws.ID, domain.ActionRetentionApplied, now, activity.Resource{Type: "workspace", ID: ws.ID, Name: ws.Name})
		e.Details = map[string]any{
			"active_log_days": ws.ActiveLogDays, "months_archived": run.MonthsArchived,
			"entries_archived": run.Archived, "entries_deleted": run.Deleted, "entries_held": run.Held,
			"log_retention_days": ws.LogRetentionDays, "archived_months_deleted": run.MonthsExpired,
		}
		return s.db.recordEvents(ctx, tx, e)
	})
}

var _ domain.RetentionStore = (*RetentionStore)(nil)
