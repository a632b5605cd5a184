package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
)

type alertRuleRow struct {
	bun.BaseModel `bun:"table:alert_rules"`
	ID            string            `bun:"id,pk,type:uuid"`
	WorkspaceID   string            `bun:"workspace_id,type:uuid"`
	Name          string            `bun:"name"`
	Description   string            `bun:"description"`
	Enabled       bool              `bun:"enabled"`
	ActivityTypes []string          `bun:"activity_types,array"`
	UserIDs       []string          `bun:"user_ids,array,type:uuid[]"`
	Outcome       string            `bun:"outcome"`
	Threshold     int               `bun:"threshold"`
	WindowMinutes int               `bun:"window_minutes"`
	GroupBy       string            `bun:"group_by"`
	Severity      string            `bun:"severity"`
	Channels      []alert.Channel   `bun:"channels,type:jsonb"`
	Conditions    []alert.Condition `bun:"conditions,type:jsonb"`
	Preset        string            `bun:"preset"`
	CreatedAt     time.Time         `bun:"created_at"`
	UpdatedAt     time.Time         `bun:"updated_at"`
}

func newAlertRuleRow(r alert.AlertRule) alertRuleRow {
	if r.Conditions == nil {
		r.Conditions = []alert.Condition{} // stored as [], never null
	}
	return alertRuleRow{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Description: r.Description, Enabled: r.Enabled,
		ActivityTypes: r.ActivityTypes, UserIDs: r.UserIDs, Outcome: r.Outcome, Threshold: r.Threshold,
		WindowMinutes: r.WindowMinutes, GroupBy: r.GroupBy, Severity: r.Severity, Channels: r.Channels,
		Conditions: r.Conditions, Preset: r.Preset, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// rule returns the row as a rule that shares no list with the row.
func (r alertRuleRow) rule() alert.AlertRule {
	out := alert.AlertRule{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Description: r.Description, Enabled: r.Enabled,
		ActivityTypes: append([]string{}, r.ActivityTypes...), UserIDs: append([]string{}, r.UserIDs...),
		Outcome: r.Outcome, Threshold: r.Threshold, WindowMinutes: r.WindowMinutes, GroupBy: r.GroupBy,
		Severity: r.Severity, Channels: make([]alert.Channel, len(r.Channels)),
		Conditions: append([]alert.Condition{}, r.Conditions...), Preset: r.Preset, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	for i, c := range r.Channels {
		c.To = append([]string(nil), c.To...)
		c.Roles = append([]string(nil), c.Roles...)
		out.Channels[i] = c
	}
	return out
}

func (r alertRuleRow) resource() activity.Resource {
	return activity.Resource{Type: "alert_rule", ID: r.ID, Name: r.Name}
}

// AlertRuleService stores a workspace's alert rules and records their
// events.
type AlertRuleService struct {
	db *DB
	// Checker vets every webhook and chat URL when a rule is saved; nil
	// allows any.
	Checker alert.TargetChecker
}

// NewAlertRuleService returns the alert rule service of db; checker vets
// the URLs of webhook and chat channels (nil allows any).
func NewAlertRuleService(db *DB, checker alert.TargetChecker) *AlertRuleService {
	return &AlertRuleService{db: db, Checker: checker}
}

// ListAlertRules returns the workspace's rules, oldest first.
func (s *AlertRuleService) ListAlertRules(ctx context.Context, p activity.Principal) ([]alert.AlertRule, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return nil, err
	}
	var rows []alertRuleRow
	if err := s.db.NewSelect().Model(&rows).Where("workspace_id = ?", p.WorkspaceID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select alert rules: %w", err)
	}
	out := make([]alert.AlertRule, len(rows))
	for i, r := range rows {
		out[i] = r.rule()
	}
	return out, nil
}

// FindAlertRule returns one rule of the workspace.
func (s *AlertRuleService) FindAlertRule(ctx context.Context, p activity.Principal, id string) (alert.AlertRule, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.AlertRule{}, err
	}
	row, err := loadAlertRule(ctx, s.db, p.WorkspaceID, id, false)
	return row.rule(), err
}

// ListAlertPresets returns the ready-made rules.
func (s *AlertRuleService) ListAlertPresets(ctx context.Context, p activity.Principal) ([]alert.AlertPreset, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return nil, err
	}
	out := make([]alert.AlertPreset, len(alert.AlertPresets))
	for i, preset := range alert.AlertPresets {
		out[i], _ = alert.FindAlertPreset(preset.Name)
	}
	return out, nil
}

// CreateAlertRule creates a rule, from its fields or from a preset, and
// records alert_rule.created with every field that was set.
func (s *AlertRuleService) CreateAlertRule(ctx context.Context, p activity.Principal, in alert.AlertRuleCreate) (alert.AlertRule, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.AlertRule{}, err
	}
	rule, err := in.Rule()
	if err != nil {
		return alert.AlertRule{}, err
	}
	if err := alert.CheckChannels(ctx, s.Checker, rule.Channels); err != nil {
		return alert.AlertRule{}, err
	}
	var row alertRuleRow
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		if err := checkWatchedUsers(ctx, tx, ws.ID, rule.UserIDs); err != nil {
			return err
		}
		rule.ID, rule.WorkspaceID, rule.CreatedAt, rule.UpdatedAt = activity.NewEventID(), ws.ID, now, now
		row = newAlertRuleRow(rule)
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert alert rule: %w", err)
		}
		e := newEvent(ctx, ws, p, alert.ActionAlertRuleCreated, now, row.resource())
		e.Changes = domain.Changes(alert.AlertRuleAudit{}, alert.AuditAlertRule(rule))
		e.Note = in.Note
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return alert.AlertRule{}, err
	}
	return row.rule(), nil
}

// UpdateAlertRule changes the given fields and records alert_rule.updated
// with each field that changed. An update that changes nothing writes
// nothing and records no event.
func (s *AlertRuleService) UpdateAlertRule(ctx context.Context, p activity.Principal, id string, in alert.AlertRuleUpdate) (alert.AlertRule, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.AlertRule{}, err
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return alert.AlertRule{}, err
	}
	// The URLs are checked before the rule is locked: a check may wait
	// on a name server.
	if in.Channels != nil {
		if err := alert.CheckChannels(ctx, s.Checker, *in.Channels); err != nil {
			return alert.AlertRule{}, err
		}
	}
	var out alert.AlertRule
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row, err := loadAlertRule(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		before := row.rule()
		after := in.Apply(row.rule())
		if err := after.Validate(); err != nil {
			return err
		}
		if in.UserIDs != nil {
			if err := checkWatchedUsers(ctx, tx, ws.ID, after.UserIDs); err != nil {
				return err
			}
		}
		changes := domain.Changes(alert.AuditAlertRule(before), alert.AuditAlertRule(after))
		if len(changes) == 0 {
			out = before
			return nil
		}
		after.UpdatedAt = now
		row = newAlertRuleRow(after)
		if _, err := tx.NewUpdate().Model(&row).ExcludeColumn("id", "workspace_id", "created_at", "preset").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update alert rule: %w", err)
		}
		e := newEvent(ctx, ws, p, alert.ActionAlertRuleUpdated, now, row.resource())
		e.Changes, e.Note = changes, in.Note
		out = row.rule()
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return alert.AlertRule{}, err
	}
	return out, nil
}

// DeleteAlertRule removes the rule and records alert_rule.deleted with
// every field as it was. Alerts it raised keep its id and name.
func (s *AlertRuleService) DeleteAlertRule(ctx context.Context, p activity.Principal, id, note string) error {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return err
	}
	if err := activity.ValidateNote(note); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row, err := loadAlertRule(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(&row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete alert rule: %w", err)
		}
		e := newEvent(ctx, ws, p, alert.ActionAlertRuleDeleted, now, row.resource())
		e.Changes, e.Note = domain.Changes(alert.AuditAlertRule(row.rule()), alert.AlertRuleAudit{}), note
		return s.db.recordEvents(ctx, tx, e)
	})
}

// loadAlertRule reads a rule of the workspace, locked until the
// transaction ends when forUpdate is set. Any other id is ENOTFOUND.
func loadAlertRule(ctx context.Context, db bun.IDB, workspaceID, id string, forUpdate bool) (alertRuleRow, error) {
	var row alertRuleRow
	if !validID(id) {
		return row, activity.Errorf(activity.ENOTFOUND, "", "alert rule not found")
	}
	q := db.NewSelect().Model(&row).Where("id = ? AND workspace_id = ?", id, workspaceID)
	if forUpdate {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return row, activity.Errorf(activity.ENOTFOUND, "", "alert rule not found")
	}
	if err != nil {
		return row, fmt.Errorf("select alert rule: %w", err)
	}
	return row, nil
}

// checkWatchedUsers returns EINVALID on user_ids unless every id is a
// member of the workspace; ids arrive validated as UUIDs.
func checkWatchedUsers(ctx context.Context, tx bun.IDB, workspaceID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var found []string
	err := tx.NewSelect().Model((*userRow)(nil)).Column("id").
		Where("workspace_id = ? AND id IN (?)", workspaceID, bun.In(ids)).Scan(ctx, &found)
	if err != nil {
		return fmt.Errorf("select watched users: %w", err)
	}
	members := make(map[string]bool, len(found))
	for _, id := range found {
		members[id] = true
	}
	for i, id := range ids {
		if !members[id] {
			return activity.Errorf(activity.EINVALID, "user_ids", "user_ids[%d] %q is not a member of this workspace", i, id)
		}
	}
	return nil
}
