package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

type deliveryRow struct {
	bun.BaseModel `bun:"table:alert_deliveries"`
	ID            string     `bun:"id,pk,type:uuid"`
	AlertID       string     `bun:"alert_id,type:uuid"`
	WorkspaceID   string     `bun:"workspace_id,type:uuid"`
	Type          string     `bun:"type"`
	URL           string     `bun:"url"`
	Recipients    []string   `bun:"recipients,array"`
	State         string     `bun:"state"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	LockedUntil   *time.Time `bun:"locked_until"`
	LastStatus    int        `bun:"last_status"`
	LastError     string     `bun:"last_error"`
	DeliveredAt   *time.Time `bun:"delivered_at"`
	CreatedAt     time.Time  `bun:"created_at"`
}

func (r deliveryRow) delivery() alert.AlertDelivery {
	d := alert.AlertDelivery{
		ID: r.ID, Type: r.Type, URL: r.URL, To: r.Recipients, State: r.State, DeliveredAt: utc(r.DeliveredAt),
		LastStatus: r.LastStatus, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(), Attempts: []alert.DeliveryAttempt{},
	}
	if r.State == alert.DeliveryPending {
		next := r.NextAttemptAt.UTC()
		d.NextAttemptAt = &next
	}
	return d
}

type attemptRow struct {
	bun.BaseModel `bun:"table:alert_delivery_attempts"`
	ID            int64     `bun:"id,pk,autoincrement"`
	DeliveryID    string    `bun:"delivery_id,type:uuid"`
	At            time.Time `bun:"at"`
	DurationMS    int64     `bun:"duration_ms"`
	Status        int       `bun:"status"`
	Error         string    `bun:"error"`
	Delivered     bool      `bun:"delivered"`
}

// AlertSink stores the alerts the detector raises, each with its events
// and its deliveries, and wakes the notifier. It implements alert.Sink.
type AlertSink struct{ db *DB }

// NewAlertSink returns the alert sink of db.
func NewAlertSink(db *DB) *AlertSink { return &AlertSink{db: db} }

// Raise stores the alerts not stored before, in one transaction: each with
// its events and a delivery per channel — of its rule, or of its
// workspace's detection settings for a built-in detector — and one to the
// alert topic. Email channels' roles become the addresses of the
// workspace's active members who hold them. An alert of the platform
// workspace goes to the alert topic only, as does one whose rule was
// deleted in the meantime. It returns the alerts it stored, and EINVALID
// when an alert is malformed or PostgreSQL refuses its content: sending
// the same alerts again would fail the same way.
func (s *AlertSink) Raise(ctx context.Context, alerts []alert.Alert) ([]alert.Alert, error) {
	if len(alerts) == 0 {
		return nil, nil
	}
	now := s.db.Now().UTC().Truncate(time.Millisecond)
	rows := make([]alertRow, 0, len(alerts))
	seen := map[string]bool{}
	for _, a := range alerts {
		if err := checkRaised(a); err != nil {
			return nil, err
		}
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		rows = append(rows, newAlertRow(raised(a, now)))
	}
	var stored []alert.Alert
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		stored = stored[:0]
		var inserted []string
		err := tx.NewInsert().Model(&rows).On("CONFLICT (id) DO NOTHING").Returning("id").Scan(ctx, &inserted)
		if err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		isNew := make(map[string]bool, len(inserted))
		for _, id := range inserted {
			isNew[id] = true
		}
		targets := newTargets(tx)
		var events []alertEventRow
		var deliveries []deliveryRow
		for _, a := range alerts {
			if !isNew[a.ID] {
				continue
			}
			delete(isNew, a.ID) // an alert listed twice is stored once
			a = raised(a, now)
			for i, id := range a.EventIDs {
				events = append(events, alertEventRow{AlertID: a.ID, EventID: id, Position: i})
			}
			ds, err := targets.deliveries(ctx, a)
			if err != nil {
				return err
			}
			for _, d := range ds {
				d.ID, d.AlertID, d.WorkspaceID = activity.NewEventID(), a.ID, a.WorkspaceID
				d.State, d.NextAttemptAt, d.CreatedAt = alert.DeliveryPending, now, now
				deliveries = append(deliveries, d)
			}
			stored = append(stored, a)
		}
		if len(events) > 0 {
			if _, err := tx.NewInsert().Model(&events).Exec(ctx); err != nil {
				return fmt.Errorf("insert alert events: %w", err)
			}
		}
		if len(deliveries) > 0 {
			if _, err := tx.NewInsert().Model(&deliveries).Exec(ctx); err != nil {
				return fmt.Errorf("insert alert deliveries: %w", err)
			}
		}
		return nil
	})
	if refusedData(err) {
		return nil, errors.Join(activity.Errorf(activity.EINVALID, "", "the alert store refuses these alerts for their content"), err)
	}
	if err != nil {
		return nil, err
	}
	if len(stored) > 0 {
		s.db.alertWaker.wake()
	}
	return stored, nil
}

// raised fills in what a raised alert may leave out: it is open, raised
// now, and happened when it was raised.
func raised(a alert.Alert, now time.Time) alert.Alert {
	if a.State == "" {
		a.State = alert.AlertOpen
	}
	if a.RaisedAt.IsZero() {
		a.RaisedAt = now
	}
	if a.OccurredAt.IsZero() {
		a.OccurredAt = a.RaisedAt
	}
	return a
}

// checkRaised refuses an alert the detector should never raise. It returns
// EINVALID: the same alert would be refused however often it is sent.
func checkRaised(a alert.Alert) error {
	switch {
	case !validID(a.ID):
		return activity.Errorf(activity.EINVALID, "id", "alert id %q is not a UUID", a.ID)
	case !validID(a.WorkspaceID):
		return activity.Errorf(activity.EINVALID, "workspace_id", "alert %s: workspace id %q is not a UUID", a.ID, a.WorkspaceID)
	case (a.Detector == "") == (a.RuleID == ""):
		return activity.Errorf(activity.EINVALID, "detector", "alert %s: exactly one of detector and rule id must be set", a.ID)
	case a.RuleID != "" && !validID(a.RuleID):
		return activity.Errorf(activity.EINVALID, "rule_id", "alert %s: rule id %q is not a UUID", a.ID, a.RuleID)
	case !alert.ValidSeverity(a.Severity):
		return activity.Errorf(activity.EINVALID, "severity", "alert %s: severity %q is not one of %v", a.ID, a.Severity, alert.Severities)
	}
	for _, id := range a.EventIDs {
		if !validID(id) {
			return activity.Errorf(activity.EINVALID, "event_ids", "alert %s: event id %q is not a UUID", a.ID, id)
		}
	}
	return nil
}

// targets works out where alerts go, reading each rule, workspace's
// settings and role's members once per transaction.
type targets struct {
	tx        bun.Tx
	rules     map[string][]alert.Channel // by rule id; nil when deleted
	detection map[string][]alert.Channel // by workspace id
	members   map[string][]string        // by workspace id and role
}

func newTargets(tx bun.Tx) *targets {
	return &targets{tx: tx, rules: map[string][]alert.Channel{}, detection: map[string][]alert.Channel{}, members: map[string][]string{}}
}

// deliveries returns the deliveries of a, without ids and times.
func (t *targets) deliveries(ctx context.Context, a alert.Alert) ([]deliveryRow, error) {
	topic := deliveryRow{Type: alert.TargetTopic, Recipients: []string{}}
	if a.WorkspaceID == activity.PlatformWorkspace {
		return []deliveryRow{topic}, nil
	}
	channels, err := t.channels(ctx, a)
	if err != nil {
		return nil, err
	}
	var out []deliveryRow
	for _, c := range channels {
		switch c.Type {
		case alert.ChannelWebhook, alert.ChannelChat:
			out = append(out, deliveryRow{Type: c.Type, URL: c.URL, Recipients: []string{}})
		case alert.ChannelEmail:
			to, err := t.recipients(ctx, a.WorkspaceID, c)
			if err != nil {
				return nil, err
			}
			if len(to) > 0 { // nobody holds the roles: nothing to send
				out = append(out, deliveryRow{Type: c.Type, Recipients: to})
			}
		}
	}
	return append(out, topic), nil
}

// channels returns the channels of the alert's rule or, for a built-in
// detector, of its workspace's detection settings.
func (t *targets) channels(ctx context.Context, a alert.Alert) ([]alert.Channel, error) {
	if a.RuleID != "" {
		cs, ok := t.rules[a.RuleID]
		if !ok {
			var row alertRuleRow
			err := t.tx.NewSelect().Model(&row).Column("channels").
				Where("id = ? AND workspace_id = ?", a.RuleID, a.WorkspaceID).Scan(ctx)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("select channels of alert rule %s: %w", a.RuleID, err)
			}
			cs = row.Channels
			t.rules[a.RuleID] = cs
		}
		return cs, nil
	}
	cs, ok := t.detection[a.WorkspaceID]
	if !ok {
		d, err := loadDetection(ctx, t.tx, a.WorkspaceID, false)
		if err != nil {
			return nil, err
		}
		cs = d.settings().Channels
		t.detection[a.WorkspaceID] = cs
	}
	return cs, nil
}

// recipients returns the addresses of an email channel: its own and those
// of the workspace's active members holding its roles, sorted, each once.
func (t *targets) recipients(ctx context.Context, workspaceID string, c alert.Channel) ([]string, error) {
	set := map[string]bool{}
	for _, a := range c.To {
		set[a] = true
	}
	for _, role := range c.Roles {
		key := workspaceID + "/" + role
		emails, ok := t.members[key]
		if !ok {
			err := t.tx.NewSelect().Model((*userRow)(nil)).ColumnExpr("lower(email)").
				Where("workspace_id = ? AND role = ? AND active", workspaceID, role).Scan(ctx, &emails)
			if err != nil {
				return nil, fmt.Errorf("select members with role %s: %w", role, err)
			}
			t.members[key] = emails
		}
		for _, e := range emails {
			set[e] = true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

var _ alert.Sink = (*AlertSink)(nil)
