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
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
)

type alertRow struct {
	bun.BaseModel  `bun:"table:alerts,alias:a"`
	ID             string             `bun:"id,pk,type:uuid"`
	WorkspaceID    string             `bun:"workspace_id,type:uuid"`
	Detector       string             `bun:"detector"`
	RuleID         string             `bun:"rule_id,type:uuid,nullzero"`
	RuleName       string             `bun:"rule_name"`
	Severity       string             `bun:"severity"`
	State          string             `bun:"state"`
	Summary        string             `bun:"summary"`
	Subject        alert.AlertSubject `bun:"subject,type:jsonb"`
	Count          int64              `bun:"count"`
	Window         string             `bun:"window"`
	OccurredAt     time.Time          `bun:"occurred_at"`
	RaisedAt       time.Time          `bun:"raised_at"`
	Details        map[string]any     `bun:"details,type:jsonb"`
	AcknowledgedAt *time.Time         `bun:"acknowledged_at"`
	AcknowledgedBy *alert.ActorRef    `bun:"acknowledged_by,type:jsonb"`
	ResolvedAt     *time.Time         `bun:"resolved_at"`
	ResolvedBy     *alert.ActorRef    `bun:"resolved_by,type:jsonb"`
	// EventIDs are read with the alert from alert_events; never written.
	EventIDs []string `bun:"event_ids,array,scanonly"`
}

func newAlertRow(a alert.Alert) alertRow {
	return alertRow{
		ID: a.ID, WorkspaceID: a.WorkspaceID, Detector: a.Detector, RuleID: a.RuleID, RuleName: a.RuleName,
		Severity: a.Severity, State: a.State, Summary: a.Summary, Subject: a.Subject, Count: a.Count,
		Window: a.Window, OccurredAt: a.OccurredAt, RaisedAt: a.RaisedAt, Details: a.Details,
		AcknowledgedAt: a.AcknowledgedAt, AcknowledgedBy: a.AcknowledgedBy, ResolvedAt: a.ResolvedAt, ResolvedBy: a.ResolvedBy,
	}
}

func (r alertRow) alert() alert.Alert {
	ids := r.EventIDs
	if ids == nil {
		ids = []string{}
	}
	return alert.Alert{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Detector: r.Detector, RuleID: r.RuleID, RuleName: r.RuleName,
		Severity: r.Severity, State: r.State, Summary: r.Summary, Subject: r.Subject, Count: r.Count,
		Window: r.Window, OccurredAt: r.OccurredAt.UTC(), RaisedAt: r.RaisedAt.UTC(), EventIDs: ids, Details: r.Details,
		AcknowledgedAt: utc(r.AcknowledgedAt), AcknowledgedBy: r.AcknowledgedBy, ResolvedAt: utc(r.ResolvedAt), ResolvedBy: r.ResolvedBy,
	}
}

func (r alertRow) resource() activity.Resource {
	return activity.Resource{Type: "alert", ID: r.ID, Name: r.Summary}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type alertEventRow struct {
	bun.BaseModel `bun:"table:alert_events"`
	AlertID       string `bun:"alert_id,pk,type:uuid"`
	EventID       string `bun:"event_id,type:uuid"`
	Position      int    `bun:"position,pk"`
}

// selectAlerts starts a query of alerts with their event ids.
func selectAlerts(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).
		ColumnExpr("a.*").
		ColumnExpr("ARRAY(SELECT e.event_id::text FROM alert_events AS e WHERE e.alert_id = a.id ORDER BY e.position) AS event_ids")
}

// AlertService reads a workspace's alerts and records their
// acknowledgement and resolution.
type AlertService struct{ db *DB }

// NewAlertService returns the alert service of db.
func NewAlertService(db *DB) *AlertService { return &AlertService{db: db} }

// FindAlerts returns a page of the workspace's alerts, newest first by the
// time they were raised.
func (s *AlertService) FindAlerts(ctx context.Context, p activity.Principal, f alert.AlertFilter) (alert.AlertPage, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.AlertPage{}, err
	}
	if err := f.Validate(); err != nil {
		return alert.AlertPage{}, err
	}
	var rows []alertRow
	q := selectAlerts(s.db, &rows).Where("a.workspace_id = ?", p.WorkspaceID)
	if f.State != "" {
		q = q.Where("a.state = ?", f.State)
	}
	if f.Severity != "" {
		q = q.Where("a.severity = ?", f.Severity)
	}
	if f.Detector != "" {
		q = q.Where("a.detector = ?", f.Detector)
	}
	if f.RuleID != "" {
		q = q.Where("a.rule_id = ?", strings.ToLower(f.RuleID))
	}
	if f.From != nil {
		q = q.Where("a.raised_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("a.raised_at <= ?", f.To.UTC())
	}
	if f.Cursor != "" {
		c, err := alert.DecodeAlertCursor(f.Cursor)
		if err != nil {
			return alert.AlertPage{}, err
		}
		q = q.Where("(a.raised_at, a.id) < (?, ?)", c.RaisedAt.UTC(), c.ID)
	}
	if err := q.OrderExpr("a.raised_at DESC, a.id DESC").Limit(f.Limit + 1).Scan(ctx); err != nil {
		return alert.AlertPage{}, fmt.Errorf("select alerts: %w", err)
	}
	page := alert.AlertPage{Alerts: make([]alert.Alert, 0, len(rows))}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		page.NextCursor = alert.AlertCursor{RaisedAt: last.RaisedAt.UTC(), ID: last.ID}.Encode()
	}
	for _, r := range rows {
		page.Alerts = append(page.Alerts, r.alert())
	}
	return page, nil
}

// FindAlert returns one alert of the workspace with its event ids, its
// deliveries and their attempts.
func (s *AlertService) FindAlert(ctx context.Context, p activity.Principal, id string) (alert.AlertDetail, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.AlertDetail{}, err
	}
	row, err := loadAlert(ctx, s.db, p.WorkspaceID, id, false)
	if err != nil {
		return alert.AlertDetail{}, err
	}
	deliveries, err := alertDeliveries(ctx, s.db, row.ID)
	if err != nil {
		return alert.AlertDetail{}, err
	}
	return alert.AlertDetail{Alert: row.alert(), Deliveries: deliveries}, nil
}

// AcknowledgeAlert marks an open alert acknowledged by p and records
// alert.acknowledged. It returns ECONFLICT for an alert that is not open.
func (s *AlertService) AcknowledgeAlert(ctx context.Context, p activity.Principal, id, note string) (alert.Alert, error) {
	return s.changeState(ctx, p, id, note, alert.AlertAcknowledged)
}

// ResolveAlert marks an open or acknowledged alert resolved by p and
// records alert.resolved. It returns ECONFLICT for a resolved alert.
func (s *AlertService) ResolveAlert(ctx context.Context, p activity.Principal, id, note string) (alert.Alert, error) {
	return s.changeState(ctx, p, id, note, alert.AlertResolved)
}

func (s *AlertService) changeState(ctx context.Context, p activity.Principal, id, note, state string) (alert.Alert, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.Alert{}, err
	}
	note = strings.TrimSpace(note)
	if err := activity.ValidateNote(note); err != nil {
		return alert.Alert{}, err
	}
	var out alert.Alert
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row, err := loadAlert(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		by := &alert.ActorRef{ID: p.UserID, Name: p.Name, Email: p.Email}
		action := alert.ActionAlertAcknowledged
		switch {
		case row.State == alert.AlertResolved:
			return activity.Errorf(activity.ECONFLICT, "state", "the alert is already resolved")
		case state == alert.AlertAcknowledged && row.State != alert.AlertOpen:
			return activity.Errorf(activity.ECONFLICT, "state", "the alert is already %s", row.State)
		case state == alert.AlertAcknowledged:
			row.AcknowledgedAt, row.AcknowledgedBy = &now, by
		default:
			row.ResolvedAt, row.ResolvedBy = &now, by
			action = alert.ActionAlertResolved
		}
		before := row.State
		row.State = state
		_, err = tx.NewUpdate().Model(&row).
			Column("state", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by").
			WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("update alert state: %w", err)
		}
		e := newEvent(ctx, ws, p, action, now, row.resource())
		e.Changes = []activity.Change{{Field: "state", Before: before, After: state}}
		e.Note = note
		detail(&e, "severity", row.Severity)
		if row.Detector != "" {
			detail(&e, "detector", row.Detector)
		}
		if row.RuleID != "" {
			detail(&e, "rule_id", row.RuleID)
			detail(&e, "rule_name", row.RuleName)
		}
		out = row.alert()
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return alert.Alert{}, err
	}
	return out, nil
}

// loadAlert reads an alert of the workspace with its event ids, locked
// until the transaction ends when forUpdate is set. Any other id is
// ENOTFOUND.
func loadAlert(ctx context.Context, db bun.IDB, workspaceID, id string, forUpdate bool) (alertRow, error) {
	var row alertRow
	if !validID(id) {
		return row, activity.Errorf(activity.ENOTFOUND, "", "alert not found")
	}
	q := selectAlerts(db, &row).Where("a.id = ? AND a.workspace_id = ?", id, workspaceID)
	if forUpdate {
		q = q.For("UPDATE OF a")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return row, activity.Errorf(activity.ENOTFOUND, "", "alert not found")
	}
	if err != nil {
		return row, fmt.Errorf("select alert: %w", err)
	}
	return row, nil
}

// alertDeliveries returns the deliveries of an alert, the topic last, each
// with its attempts, oldest first.
func alertDeliveries(ctx context.Context, db bun.IDB, alertID string) ([]alert.AlertDelivery, error) {
	var rows []deliveryRow
	err := db.NewSelect().Model(&rows).Where("alert_id = ?", alertID).
		OrderExpr("type = 'topic', created_at, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select alert deliveries: %w", err)
	}
	out := make([]alert.AlertDelivery, len(rows))
	index := map[string]int{}
	ids := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.delivery()
		index[r.ID], ids[i] = i, r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var attempts []attemptRow
	err = db.NewSelect().Model(&attempts).Where("delivery_id IN (?)", bun.In(ids)).OrderExpr("at, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select delivery attempts: %w", err)
	}
	for _, a := range attempts {
		d := &out[index[a.DeliveryID]]
		d.Attempts = append(d.Attempts, alert.DeliveryAttempt{
			At: a.At.UTC(), DurationMS: a.DurationMS, Status: a.Status, Error: a.Error, Delivered: a.Delivered,
		})
	}
	return out, nil
}
