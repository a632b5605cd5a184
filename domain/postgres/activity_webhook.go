package postgres

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/integration"
)

type webhookRow struct {
	bun.BaseModel  `bun:"table:activity_webhooks,alias:w"`
	ID             string     `bun:"id,pk,type:uuid"`
	WorkspaceID    string     `bun:"workspace_id,type:uuid"`
	Name           string     `bun:"name"`
	URL            string     `bun:"url"`
	Categories     []string   `bun:"categories,array"`
	Actions        []string   `bun:"actions,array"`
	Outcome        string     `bun:"outcome"`
	Secret         []byte     `bun:"secret"`
	SecretKeyID    string     `bun:"secret_key_id"`
	Paused         bool       `bun:"paused"`
	PausedAt       *time.Time `bun:"paused_at"`
	PausedReason   string     `bun:"paused_reason"`
	Failures       int        `bun:"failures"`
	LastDeliveryAt *time.Time `bun:"last_delivery_at"`
	LastAttemptAt  *time.Time `bun:"last_attempt_at"`
	LastStatus     int        `bun:"last_status"`
	LastError      string     `bun:"last_error"`
	ClaimedUntil   *time.Time `bun:"claimed_until"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
	// Pending is counted by the listing, not stored.
	Pending int `bun:"pending,scanonly"`
}

func (r webhookRow) filter() integration.Filter {
	return integration.Filter{Categories: append([]string{}, r.Categories...), Actions: append([]string{}, r.Actions...), Outcome: r.Outcome}
}

func (r webhookRow) webhook() integration.Webhook {
	return integration.Webhook{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, URL: r.URL, Filter: r.filter(),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		State: integration.DeliveryState{
			Paused: r.Paused, PausedAt: r.PausedAt, PausedReason: r.PausedReason, Failures: r.Failures,
			LastDeliveryAt: r.LastDeliveryAt, LastAttemptAt: r.LastAttemptAt, LastStatus: r.LastStatus, LastError: r.LastError,
			Pending: r.Pending,
		},
	}
}

func (r webhookRow) resource() activity.Resource {
	return activity.Resource{Type: integration.ResourceWebhook, ID: r.ID, Name: r.Name}
}

// webhookAudit is what a webhook's events show of it: never its secret.
type webhookAudit struct {
	Name       string `audit:"name"`
	URL        string `audit:"url"`
	Categories string `audit:"categories"`
	Actions    string `audit:"actions"`
	Outcome    string `audit:"outcome"`
	Paused     string `audit:"paused"`
}

func auditWebhook(r webhookRow) webhookAudit {
	paused := "no"
	if r.Paused {
		paused = "yes"
	}
	return webhookAudit{Name: r.Name, URL: r.URL, Categories: strings.Join(r.Categories, ", "), Actions: strings.Join(r.Actions, ", "), Outcome: r.Outcome, Paused: paused}
}

func webhookBinding(workspaceID, id string) []byte {
	return keybox.Binding("activity_webhook_secret", workspaceID, id)
}

// WebhookService keeps a workspace's activity webhooks (see
// integration.WebhookService) and records each change as
// system.integration_configured.
type WebhookService struct {
	db  *DB
	box *keybox.Box
	// checker vets every URL when it is saved: public addresses only,
	// as the notifier connects; nil allows any.
	checker alert.TargetChecker
}

// NewWebhookService returns the webhook service of db; box seals the
// signing secrets and checker vets URLs (nil allows any).
func NewWebhookService(db *DB, box *keybox.Box, checker alert.TargetChecker) *WebhookService {
	return &WebhookService{db: db, box: box, checker: checker}
}

// ListWebhooks returns the workspace's webhooks, oldest first.
func (s *WebhookService) ListWebhooks(ctx context.Context, p activity.Principal) ([]integration.Webhook, error) {
	if err := domain.Require(p, domain.ManageIntegration); err != nil {
		return nil, err
	}
	var rows []webhookRow
	if err := s.db.NewSelect().Model(&rows).Column("w.*").ColumnExpr(pendingExpr).
		Where("workspace_id = ?", p.WorkspaceID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select activity webhooks: %w", err)
	}
	out := make([]integration.Webhook, len(rows))
	for i, r := range rows {
		out[i] = r.webhook()
	}
	return out, nil
}

// pendingExpr counts a webhook's waiting deliveries.
const pendingExpr = "(SELECT count(*) FROM activity_webhook_deliveries d WHERE d.webhook_id = w.id AND d.delivered_at IS NULL) AS pending"

// FindWebhook returns one webhook of the workspace with its delivery
// state.
func (s *WebhookService) FindWebhook(ctx context.Context, p activity.Principal, id string) (integration.Webhook, error) {
	if err := domain.Require(p, domain.ManageIntegration); err != nil {
		return integration.Webhook{}, err
	}
	row, err := loadWebhook(ctx, s.db, p.WorkspaceID, id, false)
	return row.webhook(), err
}

// CreateWebhook keeps a new webhook with a new secret, which only its
// answer shows, and records its creation.
func (s *WebhookService) CreateWebhook(ctx context.Context, p activity.Principal, in integration.WebhookCreate) (integration.Webhook, error) {
	if err := domain.Require(p, domain.ManageIntegration); err != nil {
		return integration.Webhook{}, err
	}
	if err := in.Validate(); err != nil {
		return integration.Webhook{}, err
	}
	if err := s.checkURL(ctx, in.URL); err != nil {
		return integration.Webhook{}, err
	}
	// The secret is made as the alert webhooks' signing secret is, and
	// signs the same way.
	secret, err := newSigningSecret()
	if err != nil {
		return integration.Webhook{}, err
	}
	var row webhookRow
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row = webhookRow{
			ID: activity.NewEventID(), WorkspaceID: ws.ID, Name: in.Name, URL: in.URL,
			Categories: in.Filter.Categories, Actions: in.Filter.Actions, Outcome: in.Filter.Outcome,
			CreatedAt: now, UpdatedAt: now,
		}
		if row.Secret, row.SecretKeyID, err = s.seal(row, secret); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert activity webhook: %w", err)
		}
		e := webhookEvent(ctx, ws, p, now, row, integration.ChangeCreated)
		e.Changes, e.Note = domain.Changes(webhookAudit{}, auditWebhook(row)), in.Note
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return integration.Webhook{}, err
	}
	w := row.webhook()
	w.Secret = secret
	w.StandardSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte(secret))
	return w, nil
}

func (s *WebhookService) checkURL(ctx context.Context, u string) error {
	if s.checker == nil {
		return nil
	}
	return s.checker.CheckURL(ctx, u)
}

func (s *WebhookService) seal(row webhookRow, secret string) ([]byte, string, error) {
	if s.box == nil {
		return nil, "", errors.New("seal webhook secret: no secret key is configured")
	}
	ct, keyID, err := s.box.Seal([]byte(secret), webhookBinding(row.WorkspaceID, row.ID))
	if err != nil {
		return nil, "", fmt.Errorf("seal webhook secret: %w", err)
	}
	return ct, keyID, nil
}

// UpdateWebhook changes the fields given and records what changed; a
// pause or a resume is recorded as such. Resuming starts the failure
// count again and sends the waiting events at once, the failed one first.
func (s *WebhookService) UpdateWebhook(ctx context.Context, p activity.Principal, id string, in integration.WebhookUpdate) (integration.Webhook, error) {
	if err := domain.Require(p, domain.ManageIntegration); err != nil {
		return integration.Webhook{}, err
	}
	if err := in.Validate(); err != nil {
		return integration.Webhook{}, err
	}
	if in.URL != nil {
		if err := s.checkURL(ctx, *in.URL); err != nil {
			return integration.Webhook{}, err
		}
	}
	var out webhookRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row, err := loadWebhook(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		before := row
		if in.Name != nil {
			row.Name = *in.Name
		}
		if in.URL != nil {
			row.URL = *in.URL
		}
		if in.Filter != nil {
			row.Categories, row.Actions, row.Outcome = in.Filter.Categories, in.Filter.Actions, in.Filter.Outcome
		}
		change := integration.ChangeUpdated
		if in.Paused != nil && *in.Paused != row.Paused {
			row.Paused = *in.Paused
			if row.Paused {
				change = integration.ChangePaused
				row.PausedAt, row.PausedReason = &now, "paused by "+p.Name
			} else {
				change = integration.ChangeResumed
				row.PausedAt, row.PausedReason, row.Failures = nil, "", 0
				if _, err := tx.NewUpdate().Table("activity_webhook_deliveries").Set("next_attempt_at = ?", now).
					Where("webhook_id = ? AND delivered_at IS NULL", row.ID).Exec(ctx); err != nil {
					return fmt.Errorf("wake waiting deliveries: %w", err)
				}
			}
		}
		changes := domain.Changes(auditWebhook(before), auditWebhook(row))
		if len(changes) == 0 {
			out = before
			return nil
		}
		row.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(&row).Column("name", "url", "categories", "actions", "outcome", "paused", "paused_at", "paused_reason", "failures", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update activity webhook: %w", err)
		}
		e := webhookEvent(ctx, ws, p, now, row, change)
		e.Changes, e.Note = changes, in.Note
		out = row
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return integration.Webhook{}, err
	}
	return s.FindWebhook(ctx, p, out.ID)
}

// DeleteWebhook removes the webhook with its waiting deliveries and
// records its deletion.
func (s *WebhookService) DeleteWebhook(ctx context.Context, p activity.Principal, id, note string) error {
	if err := domain.Require(p, domain.ManageIntegration); err != nil {
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
		row, err := loadWebhook(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(&row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete activity webhook: %w", err)
		}
		e := webhookEvent(ctx, ws, p, now, row, integration.ChangeDeleted)
		e.Changes, e.Note = domain.Changes(auditWebhook(row), webhookAudit{}), note
		return s.db.recordEvents(ctx, tx, e)
	})
}

type webhookReplayRow struct {
	bun.BaseModel `bun:"table:activity_webhook_replays"`
	ID            string     `bun:"id,pk,type:uuid"`
	WebhookID     string     `bun:"webhook_id,type:uuid"`
	From          time.Time  `bun:"from_time"`
	CreatedAt     time.Time  `bun:"created_at"`
	ClaimedUntil  *time.Time `bun:"claimed_until"`
	DoneAt        *time.Time `bun:"done_at"`
	Queued        int        `bun:"queued"`
}

func (r webhookReplayRow) replay() integration.Replay {
	return integration.Replay{ID: r.ID, WebhookID: r.WebhookID, From: r.From, CreatedAt: r.CreatedAt, DoneAt: r.DoneAt, Queued: r.Queued}
}

// ReplayWebhook queues a replay of the events from from on, which a
// deliverer reads from the activity topic, and records the request.
func (s *WebhookService) ReplayWebhook(ctx context.Context, p activity.Principal, id string, from time.Time) (integration.Replay, error) {
	if err := domain.Require(p, domain.ManageIntegration); err != nil {
		return integration.Replay{}, err
	}
	var out webhookReplayRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		if err := integration.CheckReplayFrom(from, now); err != nil {
			return err
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row, err := loadWebhook(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		out = webhookReplayRow{ID: activity.NewEventID(), WebhookID: row.ID, From: from.UTC(), CreatedAt: now}
		if _, err := tx.NewInsert().Model(&out).Exec(ctx); err != nil {
			return fmt.Errorf("insert webhook replay: %w", err)
		}
		e := webhookEvent(ctx, ws, p, now, row, integration.ChangeReplay)
		detail(&e, "replay_id", out.ID)
		detail(&e, "replay_from", out.From.Format(time.RFC3339Nano))
		return s.db.recordEvents(ctx, tx, e)
	})
	return out.replay(), err
}

// webhookEvent is the system.integration_configured event of one change
// of a webhook.
func webhookEvent(ctx context.Context, ws workspaceRow, p activity.Principal, now time.Time, row webhookRow, change string) activity.Event {
	e := newEvent(ctx, ws, p, domain.ActionIntegrationConfigured, now, row.resource())
	detail(&e, "integration", "activity_webhook")
	detail(&e, "change", change)
	return e
}

// loadWebhook reads a webhook of the workspace, locked until the
// transaction ends when forUpdate is set. Any other id is ENOTFOUND.
func loadWebhook(ctx context.Context, db bun.IDB, workspaceID, id string, forUpdate bool) (webhookRow, error) {
	var row webhookRow
	if !validID(id) {
		return row, activity.Errorf(activity.ENOTFOUND, "", "webhook not found")
	}
	q := db.NewSelect().Model(&row).Column("w.*").Where("w.id = ? AND w.workspace_id = ?", id, workspaceID)
	if forUpdate {
		q = q.For("UPDATE")
	} else {
		q = q.ColumnExpr(pendingExpr)
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return row, activity.Errorf(activity.ENOTFOUND, "", "webhook not found")
		}
		return row, fmt.Errorf("select activity webhook: %w", err)
	}
	return row, nil
}
