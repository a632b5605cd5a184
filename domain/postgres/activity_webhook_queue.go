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
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/integration"
)

type webhookDeliveryRow struct {
	bun.BaseModel `bun:"table:activity_webhook_deliveries,alias:d"`
	Seq           int64      `bun:"seq,pk,autoincrement"`
	ID            string     `bun:"id,type:uuid"`
	WebhookID     string     `bun:"webhook_id,type:uuid"`
	EventID       string     `bun:"event_id,type:uuid"`
	ReplayID      *string    `bun:"replay_id,type:uuid"`
	Event         []byte     `bun:"event"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	DeliveredAt   *time.Time `bun:"delivered_at"`
	CreatedAt     time.Time  `bun:"created_at"`
}

// WebhookQueue keeps the deliveries of activity webhooks, one queue per
// webhook sent in order (see integration.Queue).
type WebhookQueue struct {
	db  *DB
	box *keybox.Box
}

// NewWebhookQueue returns the webhook delivery queue of db; box opens the
// signing secrets.
func NewWebhookQueue(db *DB, box *keybox.Box) *WebhookQueue {
	return &WebhookQueue{db: db, box: box}
}

// Enqueue queues e for every matching webhook of its workspace that
// existed when e happened.
func (q *WebhookQueue) Enqueue(ctx context.Context, e activity.Event, raw []byte) (int, error) {
	if !validID(e.WorkspaceID) || !validID(e.ID) {
		return 0, nil
	}
	var hooks []webhookRow
	if err := q.db.NewSelect().Model(&hooks).Column("id", "categories", "actions", "outcome").
		Where("workspace_id = ? AND created_at <= ?", e.WorkspaceID, e.OccurredAt).Scan(ctx); err != nil {
		return 0, fmt.Errorf("select webhooks of workspace %s: %w", e.WorkspaceID, err)
	}
	now := q.db.Now().UTC()
	var rows []webhookDeliveryRow
	for _, h := range hooks {
		if h.filter().Matches(e) {
			rows = append(rows, webhookDeliveryRow{ID: activity.NewEventID(), WebhookID: h.ID, EventID: e.ID, Event: raw, NextAttemptAt: now, CreatedAt: now})
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	res, err := q.db.NewInsert().Model(&rows).ExcludeColumn("seq").On("CONFLICT (webhook_id, event_id) WHERE replay_id IS NULL DO NOTHING").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("insert webhook deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// claimedHead is a claimed webhook and its oldest waiting delivery.
type claimedHead struct {
	Seq int64 `bun:"seq"`
}

// Claim claims the due heads of up to limit webhook queues.
func (q *WebhookQueue) Claim(ctx context.Context, lease time.Duration, limit int) ([]integration.Delivery, error) {
	now := q.db.Now().UTC()
	var heads []claimedHead
	err := q.db.NewRaw(`
WITH heads AS (
	SELECT DISTINCT ON (d.webhook_id) d.webhook_id, d.seq, d.next_attempt_at
	FROM activity_webhook_deliveries d
	WHERE d.delivered_at IS NULL
	ORDER BY d.webhook_id, d.seq
), due AS (
	SELECT w.id, h.seq FROM activity_webhooks w JOIN heads h ON h.webhook_id = w.id
	WHERE NOT w.paused AND h.next_attempt_at <= ? AND (w.claimed_until IS NULL OR w.claimed_until < ?)
	ORDER BY h.next_attempt_at
	LIMIT ?
	FOR UPDATE OF w SKIP LOCKED
)
UPDATE activity_webhooks w SET claimed_until = ? FROM due WHERE w.id = due.id
RETURNING due.seq`, now, now, limit, now.Add(lease)).Scan(ctx, &heads)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	out := make([]integration.Delivery, 0, len(heads))
	for _, h := range heads {
		// A webhook deleted since it was claimed took its deliveries
		// with it.
		var d webhookDeliveryRow
		if err := q.db.NewSelect().Model(&d).Where("seq = ?", h.Seq).Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("select webhook delivery %d: %w", h.Seq, err)
		}
		var w webhookRow
		if err := q.db.NewSelect().Model(&w).Where("id = ?", d.WebhookID).Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("select webhook %s: %w", d.WebhookID, err)
		}
		secret, err := q.box.Open(w.Secret, w.SecretKeyID, webhookBinding(w.WorkspaceID, w.ID))
		if err != nil {
			return nil, fmt.Errorf("open secret of webhook %s (key id %q): %w", w.ID, w.SecretKeyID, err)
		}
		del := integration.Delivery{
			ID: d.ID, Seq: d.Seq, WebhookID: w.ID, WorkspaceID: w.WorkspaceID, URL: w.URL, Secret: secret,
			Event: d.Event, Attempts: d.Attempts,
		}
		if d.ReplayID != nil {
			del.ReplayID = *d.ReplayID
		}
		out = append(out, del)
	}
	return out, nil
}

// Finish records the attempt and releases the webhook; a pause is
// recorded as system.integration_configured by the platform, for the
// workspace's owners and admins to see in the log.
func (q *WebhookQueue) Finish(ctx context.Context, d integration.Delivery, o integration.Outcome) (bool, error) {
	var paused bool
	err := q.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		paused = false
		var w webhookRow
		if err := tx.NewSelect().Model(&w).Where("id = ?", d.WebhookID).For("UPDATE").Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil // deleted meanwhile
			}
			return fmt.Errorf("select webhook %s: %w", d.WebhookID, err)
		}
		w.LastAttemptAt, w.LastStatus, w.ClaimedUntil = &now, o.Status, nil
		if o.Err == nil {
			w.Failures, w.LastError, w.LastDeliveryAt = 0, "", &now
			if _, err := tx.NewUpdate().Table("activity_webhook_deliveries").Set("delivered_at = ?, attempts = attempts + 1", now).
				Where("seq = ?", d.Seq).Exec(ctx); err != nil {
				return fmt.Errorf("mark webhook delivery sent: %w", err)
			}
		} else {
			w.Failures++
			w.LastError = truncateText(o.Err.Error(), 500)
			if _, err := tx.NewUpdate().Table("activity_webhook_deliveries").Set("next_attempt_at = ?, attempts = attempts + 1", o.RetryAt).
				Where("seq = ?", d.Seq).Exec(ctx); err != nil {
				return fmt.Errorf("mark webhook delivery failed: %w", err)
			}
		}
		var events []activity.Event
		if o.Err != nil && o.PauseAfter > 0 && w.Failures >= o.PauseAfter && !w.Paused {
			before := w
			w.Paused, w.PausedAt = true, &now
			w.PausedReason = fmt.Sprintf("paused after %d failed attempts in a row; the last: %s", w.Failures, w.LastError)
			ws, err := q.db.workspace(ctx, tx, w.WorkspaceID)
			if err != nil {
				return err
			}
			e := newSystemEvent(ws.ID, domain.ActionIntegrationConfigured, now, w.resource())
			e.Context.TimeZone = ws.TimeZone
			e.Outcome = activity.OutcomeFailure
			e.Changes = domain.Changes(auditWebhook(before), auditWebhook(w))
			detail(&e, "integration", "activity_webhook")
			detail(&e, "change", integration.ChangePaused)
			detail(&e, "reason", w.PausedReason)
			detail(&e, "failures", w.Failures)
			events = append(events, e)
			paused = true
		}
		if _, err := tx.NewUpdate().Model(&w).Column("last_attempt_at", "last_status", "claimed_until", "failures", "last_error", "last_delivery_at", "paused", "paused_at", "paused_reason").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update webhook %s: %w", w.ID, err)
		}
		return q.db.recordEvents(ctx, tx, events...)
	})
	return paused && err == nil, err
}

// ClaimReplay claims the oldest replay that is not done.
func (q *WebhookQueue) ClaimReplay(ctx context.Context, lease time.Duration) (integration.ReplayJob, bool, error) {
	now := q.db.Now().UTC()
	var r webhookReplayRow
	err := q.db.NewRaw(`
UPDATE activity_webhook_replays r SET claimed_until = ?
WHERE r.id = (
	SELECT id FROM activity_webhook_replays
	WHERE done_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)
	ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
) RETURNING r.*`, now.Add(lease), now).Scan(ctx, &r)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.ID == "") {
		return integration.ReplayJob{}, false, nil
	}
	if err != nil {
		return integration.ReplayJob{}, false, fmt.Errorf("claim webhook replay: %w", err)
	}
	var w webhookRow
	if err := q.db.NewSelect().Model(&w).Where("id = ?", r.WebhookID).Scan(ctx); err != nil {
		return integration.ReplayJob{}, false, fmt.Errorf("select webhook %s: %w", r.WebhookID, err)
	}
	return integration.ReplayJob{Replay: r.replay(), WorkspaceID: w.WorkspaceID, Filter: w.filter()}, true, nil
}

// EnqueueReplay queues the events the replay's webhook passes, in order.
func (q *WebhookQueue) EnqueueReplay(ctx context.Context, r integration.ReplayJob, events []integration.RawEvent) (int, error) {
	now := q.db.Now().UTC()
	var rows []webhookDeliveryRow
	for _, e := range events {
		if e.Event.WorkspaceID != r.WorkspaceID || e.Event.OccurredAt.Before(r.From) || !validID(e.Event.ID) || !r.Filter.Matches(e.Event) {
			continue
		}
		id := r.ID
		rows = append(rows, webhookDeliveryRow{ID: activity.NewEventID(), WebhookID: r.WebhookID, EventID: e.Event.ID, ReplayID: &id, Event: e.Raw, NextAttemptAt: now, CreatedAt: now})
	}
	if len(rows) == 0 {
		return 0, nil
	}
	res, err := q.db.NewInsert().Model(&rows).ExcludeColumn("seq").On("CONFLICT (webhook_id, event_id, replay_id) WHERE replay_id IS NOT NULL DO NOTHING").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("insert replayed deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// FinishReplay marks the replay done.
func (q *WebhookQueue) FinishReplay(ctx context.Context, r integration.ReplayJob, queued int) error {
	if _, err := q.db.NewUpdate().Table("activity_webhook_replays").Set("done_at = ?, queued = queued + ?, claimed_until = NULL", q.db.Now().UTC(), queued).
		Where("id = ?", r.ID).Exec(ctx); err != nil {
		return fmt.Errorf("finish webhook replay %s: %w", r.ID, err)
	}
	return nil
}

// truncateText cuts s to at most n bytes on a rune boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
