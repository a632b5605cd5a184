package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type maintenanceRow struct {
	bun.BaseModel `bun:"table:asset_maintenance,alias:m"`
	ID            string      `bun:"id,pk,type:uuid"`
	WorkspaceID   string      `bun:"workspace_id,type:uuid"`
	AssetID       string      `bun:"asset_id,type:uuid"`
	ScheduledFor  domain.Date `bun:"scheduled_for,type:date"`
	Description   string      `bun:"description"`
	CreatedBy     string      `bun:"created_by,type:uuid"`
	CreatedAt     time.Time   `bun:"created_at"`
	CompletedAt   *time.Time  `bun:"completed_at"`
	CompletedBy   *string     `bun:"completed_by,type:uuid"`
	Outcome       string      `bun:"outcome"`
	CreatorName   string      `bun:"creator_name,scanonly"`
}

func (r maintenanceRow) maintenance() domain.Maintenance {
	return domain.Maintenance{ID: r.ID, AssetID: r.AssetID, ScheduledFor: r.ScheduledFor, Description: r.Description,
		CreatedBy: domain.UserRef{ID: r.CreatedBy, Name: r.CreatorName}, CreatedAt: r.CreatedAt, CompletedAt: r.CompletedAt, Outcome: r.Outcome}
}

func (r maintenanceRow) related() activity.Resource {
	return activity.Resource{Type: "maintenance", ID: r.ID, Name: r.Description, Role: "maintenance"}
}

// ScheduleMaintenance plans maintenance of the asset and records
// asset.maintenance_scheduled.
func (s *AssetService) ScheduleMaintenance(ctx context.Context, p activity.Principal, id string, in domain.MaintenanceSchedule) (domain.Maintenance, error) {
	in.Description, in.Note = strings.TrimSpace(in.Description), strings.TrimSpace(in.Note)
	switch {
	case in.ScheduledFor == nil:
		return domain.Maintenance{}, activity.Errorf(activity.EINVALID, "scheduled_for", "scheduled_for is required")
	case in.Description == "":
		return domain.Maintenance{}, activity.Errorf(activity.EINVALID, "description", "description is required")
	}
	if err := activity.ValidateText("description", in.Description, 500); err != nil {
		return domain.Maintenance{}, err
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return domain.Maintenance{}, err
	}
	var m maintenanceRow
	_, err := s.change(ctx, p, domain.ManageAssets, id, func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error) {
		m = maintenanceRow{ID: uuid.NewString(), WorkspaceID: p.WorkspaceID, AssetID: row.ID, ScheduledFor: *in.ScheduledFor,
			Description: in.Description, CreatedBy: p.UserID, CreatedAt: now, CreatorName: p.Name}
		if _, err := tx.NewInsert().Model(&m).Exec(ctx); err != nil {
			return nil, fmt.Errorf("insert maintenance: %w", err)
		}
		e, err := s.assetEvent(ctx, tx, p, "asset.maintenance_scheduled", now, *row)
		if err != nil {
			return nil, err
		}
		e.Related = []activity.Resource{m.related()}
		e.Note = in.Note
		detail(e, "scheduled_for", m.ScheduledFor.String())
		detail(e, "description", m.Description)
		return e, nil
	})
	return m.maintenance(), err
}

// CompleteMaintenance closes planned maintenance and records
// asset.maintenance_completed. It returns ECONFLICT when it was completed
// already.
func (s *AssetService) CompleteMaintenance(ctx context.Context, p activity.Principal, id, maintenanceID string, in domain.MaintenanceCompletion) (domain.Maintenance, error) {
	in.Outcome, in.Note = strings.TrimSpace(in.Outcome), strings.TrimSpace(in.Note)
	if err := activity.ValidateText("outcome", in.Outcome, 2000); err != nil {
		return domain.Maintenance{}, err
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return domain.Maintenance{}, err
	}
	var m maintenanceRow
	_, err := s.change(ctx, p, domain.ManageAssets, id, func(ctx context.Context, tx bun.Tx, now time.Time, row *assetRow) (*activity.Event, error) {
		notFound := activity.Errorf(activity.ENOTFOUND, "", "maintenance %q not found", maintenanceID)
		if !validID(maintenanceID) {
			return nil, notFound
		}
		err := tx.NewSelect().Model(&m).ColumnExpr("m.*, u.name AS creator_name").Join("JOIN users AS u ON u.id = m.created_by").
			Where("m.id = ? AND m.asset_id = ?", maintenanceID, row.ID).For("UPDATE OF m").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound
		}
		if err != nil {
			return nil, fmt.Errorf("select maintenance: %w", err)
		}
		if m.CompletedAt != nil {
			return nil, activity.Errorf(activity.ECONFLICT, "", "the maintenance was completed on %s", m.CompletedAt.Format(time.DateOnly))
		}
		m.CompletedAt, m.CompletedBy, m.Outcome = &now, &p.UserID, in.Outcome
		if _, err := tx.NewUpdate().Model(&m).Column("completed_at", "completed_by", "outcome").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("complete maintenance: %w", err)
		}
		e, err := s.assetEvent(ctx, tx, p, "asset.maintenance_completed", now, *row)
		if err != nil {
			return nil, err
		}
		e.Related = []activity.Resource{m.related()}
		e.Note = in.Note
		detail(e, "scheduled_for", m.ScheduledFor.String())
		detail(e, "description", m.Description)
		if m.Outcome != "" {
			detail(e, "outcome", m.Outcome)
		}
		return e, nil
	})
	return m.maintenance(), err
}

// ListMaintenance returns the asset's maintenance, latest first.
func (s *AssetService) ListMaintenance(ctx context.Context, p activity.Principal, id string) ([]domain.Maintenance, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return nil, err
	}
	if _, err := s.asset(ctx, s.db, p.WorkspaceID, id, false); err != nil {
		return nil, err
	}
	var rows []maintenanceRow
	err := s.db.NewSelect().Model(&rows).ColumnExpr("m.*, u.name AS creator_name").Join("JOIN users AS u ON u.id = m.created_by").
		Where("m.asset_id = ?", id).OrderExpr("m.scheduled_for DESC, m.created_at DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select maintenance: %w", err)
	}
	out := make([]domain.Maintenance, len(rows))
	for i, r := range rows {
		out[i] = r.maintenance()
	}
	return out, nil
}
