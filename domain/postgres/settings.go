package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// SettingsService keeps workspace settings and records system actions.
type SettingsService struct{ db *DB }

// NewSettingsService returns the settings service of db.
func NewSettingsService(db *DB) *SettingsService { return &SettingsService{db: db} }

// GetSettings returns the caller's workspace settings.
func (s *SettingsService) GetSettings(ctx context.Context, p activity.Principal) (domain.Settings, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return domain.Settings{}, err
	}
	ws, err := s.db.workspace(ctx, s.db, p.WorkspaceID)
	return ws.settings(), err
}

// UpdateSettings changes settings and records system.settings_changed with
// the before and after of every changed setting. An update that changes
// nothing records nothing.
func (s *SettingsService) UpdateSettings(ctx context.Context, p activity.Principal, in domain.SettingsUpdate) (domain.Settings, error) {
	defer s.db.forgetCallers("workspace:" + p.WorkspaceID)
	if err := domain.Require(p, domain.ManageSettings); err != nil {
		return domain.Settings{}, err
	}
	var after domain.Settings
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		var ws workspaceRow
		if err := tx.NewSelect().Model(&ws).Where("id = ?", p.WorkspaceID).For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("select workspace: %w", err)
		}
		before := ws.settings()
		var err error
		if after, err = in.ApplyWithin(before, s.db.cfg.Retention); err != nil {
			return err
		}
		changes := domain.Changes(before, after)
		if len(changes) == 0 {
			return nil
		}
		ws.Name, ws.TimeZone, ws.WorkingHoursStart, ws.WorkingHoursEnd = after.Name, after.TimeZone, after.WorkingHoursStart, after.WorkingHoursEnd
		ws.WorkingDays, ws.LogRetentionDays, ws.DeletedUserLogDays, ws.UpdatedAt = after.WorkingDays.String(), after.LogRetentionDays, after.DeletedUserLogDays, &now
		ws.MonthlyBackup, ws.ActiveLogDays = after.MonthlyBackup, after.ActiveLogDays
		if _, err := tx.NewUpdate().Model(&ws).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update settings: %w", err)
		}
		e := newEvent(ctx, ws, p, "system.settings_changed", now, activity.Resource{Type: "workspace", ID: ws.ID, Name: ws.Name})
		e.Changes, e.Note = changes, strings.TrimSpace(in.Note)
		return s.db.recordEvents(ctx, tx, e)
	})
	return after, err
}

// systemActions says which permission each recordable system action needs.
var systemActions = map[string]domain.Permission{
	domain.ActionReportGenerated:       domain.ExportData,
	domain.ActionDataExported:          domain.ExportData,
	domain.ActionIntegrationConfigured: domain.ManageIntegration,
	domain.ActionActivityDeleted:       domain.ManageRetention,
}

// Record records a reporting, export or integration action by p in its own
// transaction.
func (s *SettingsService) Record(ctx context.Context, p activity.Principal, a domain.SystemAction) error {
	perm, ok := systemActions[a.Action]
	if !ok {
		return activity.Errorf(activity.EINVALID, "action", "%q is not a system action that can be recorded", a.Action)
	}
	if err := domain.Require(p, perm); err != nil {
		return err
	}
	if a.Resource.Type == "" {
		return activity.Errorf(activity.EINVALID, "resource", "the resource of a system action is required")
	}
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, a.Action, now, a.Resource)
		e.Changes, e.Note = a.Changes, a.Note
		for k, v := range a.Details {
			detail(&e, k, v)
		}
		return s.db.recordEvents(ctx, tx, e)
	})
}
