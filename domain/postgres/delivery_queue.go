package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/keybox"
)

// The notifier's alert deliveries and the scheduler's report deliveries
// wait in tables of one shape: a pending row is due at next_attempt_at,
// leased by locked_until, and every attempt is logged in a table of its
// own. These helpers claim and record for either pair of tables.

// claimDeliveries leases up to n pending rows of table due at now for
// lease, with FOR UPDATE SKIP LOCKED so that two senders never claim one
// row at once, and scans them into rows oldest first.
func claimDeliveries(ctx context.Context, tx bun.Tx, table string, n int, now time.Time, lease time.Duration, rows any) error {
	return tx.NewRaw(`
		WITH due AS (
			SELECT id FROM ?
			WHERE state = ? AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?)
			ORDER BY next_attempt_at, created_at, id
			LIMIT ?
			FOR UPDATE SKIP LOCKED
		), claimed AS (
			UPDATE ? AS d SET locked_until = ?
			FROM due WHERE d.id = due.id
			RETURNING d.*
		)
		SELECT * FROM claimed ORDER BY next_attempt_at, created_at, id`,
		bun.Ident(table), alert.DeliveryPending, now, now, n, bun.Ident(table), now.Add(lease)).Scan(ctx, rows)
}

// signingSecrets opens the signing secret of each workspace a claim sends
// webhooks for, once per claim, making one for a workspace that has none.
type signingSecrets struct {
	tx   bun.Tx
	box  *keybox.Box
	now  time.Time
	byWS map[string][]byte
}

func newSigningSecrets(tx bun.Tx, box *keybox.Box, now time.Time) *signingSecrets {
	return &signingSecrets{tx: tx, box: box, now: now, byWS: map[string][]byte{}}
}

// of returns the signing secret of the workspace.
func (s *signingSecrets) of(ctx context.Context, workspaceID string) ([]byte, error) {
	if secret, ok := s.byWS[workspaceID]; ok {
		return secret, nil
	}
	secret, err := signingSecret(ctx, s.tx, s.box, workspaceID, s.now)
	if err != nil {
		return nil, err
	}
	s.byWS[workspaceID] = secret
	return secret, nil
}

// deliveryState is the state a delivery of either table moves through.
type deliveryState struct {
	bun.BaseModel `bun:"table:alert_deliveries"`
	ID            string     `bun:"id,pk,type:uuid"`
	State         string     `bun:"state"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	LockedUntil   *time.Time `bun:"locked_until"`
	LastStatus    int        `bun:"last_status"`
	LastError     string     `bun:"last_error"`
	DeliveredAt   *time.Time `bun:"delivered_at"`
}

// recordDelivery logs an attempt at a delivery of deliveries in attempts
// and moves the delivery on: delivered, pending again at RetryAt, or failed
// when RetryAt is zero. A delivery already delivered or failed (by a
// sender whose lease ran out first) keeps its state; the attempt is logged
// all the same.
func recordDelivery(ctx context.Context, db *DB, deliveries, attempts string, a alert.Attempt) error {
	if !validID(a.DeliveryID) {
		return fmt.Errorf("record delivery attempt: delivery id %q is not a UUID", a.DeliveryID)
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var row deliveryState
		err := tx.NewSelect().Model(&row).ModelTableExpr("? AS delivery_state", bun.Ident(deliveries)).
			Where("id = ?", a.DeliveryID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("record delivery attempt: delivery %s does not exist", a.DeliveryID)
		}
		if err != nil {
			return fmt.Errorf("select delivery: %w", err)
		}
		at := a.At.UTC()
		attempt := attemptRow{
			DeliveryID: a.DeliveryID, At: at, DurationMS: a.Duration.Milliseconds(),
			Status: a.Status, Error: truncate(a.Error, 2000), Delivered: a.Delivered,
		}
		if _, err := tx.NewInsert().Model(&attempt).ModelTableExpr("?", bun.Ident(attempts)).Exec(ctx); err != nil {
			return fmt.Errorf("insert delivery attempt: %w", err)
		}
		if row.State != alert.DeliveryPending {
			return nil
		}
		row.Attempts++
		row.LastStatus, row.LastError, row.LockedUntil = a.Status, attempt.Error, nil
		switch {
		case a.Delivered:
			row.State, row.DeliveredAt = alert.DeliveryDelivered, &at
		case a.NotConfigured:
			row.State = alert.DeliveryNotConfigured
		case !a.RetryAt.IsZero():
			row.NextAttemptAt = a.RetryAt.UTC()
		default:
			row.State = alert.DeliveryFailed
		}
		_, err = tx.NewUpdate().Model(&row).ModelTableExpr("? AS delivery_state", bun.Ident(deliveries)).
			Column("state", "attempts", "next_attempt_at", "locked_until", "last_status", "last_error", "delivered_at").
			WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		return nil
	})
}
