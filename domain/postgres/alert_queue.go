package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/keybox"
)

// AlertQueue is the notifier's queue of alert deliveries. It implements
// alert.Queue: deliveries are leased with FOR UPDATE SKIP LOCKED, so
// workers never claim the same one at once, and a lease that runs out
// makes a delivery due again.
type AlertQueue struct {
	db  *DB
	box *keybox.Box

	mu       sync.Mutex
	listener *pgdriver.Listener
	wake     chan struct{}
	closed   bool
}

// NewAlertQueue returns the delivery queue of db; box opens the
// workspaces' signing secrets and seals the ones it makes.
func NewAlertQueue(db *DB, box *keybox.Box) *AlertQueue {
	return &AlertQueue{db: db, box: box}
}

// Claim leases up to n pending deliveries due at now for lease, oldest
// first, each with its alert and, for webhooks and chat messages, the
// workspace's signing secret (made now if the workspace has none yet).
func (q *AlertQueue) Claim(ctx context.Context, n int, now time.Time, lease time.Duration) ([]alert.Delivery, error) {
	if n < 1 {
		return nil, nil
	}
	now = now.UTC()
	var out []alert.Delivery
	err := q.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out = out[:0]
		var rows []deliveryRow
		if err := claimDeliveries(ctx, tx, "alert_deliveries", n, now, lease, &rows); err != nil {
			return fmt.Errorf("claim alert deliveries: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		alerts, err := q.alerts(ctx, tx, rows)
		if err != nil {
			return err
		}
		secrets := newSigningSecrets(tx, q.box, now)
		for _, r := range rows {
			d := alert.Delivery{
				ID: r.ID, AlertID: r.AlertID, WorkspaceID: r.WorkspaceID, Type: r.Type, URL: r.URL,
				To: r.Recipients, Attempts: r.Attempts, Alert: alerts[r.AlertID],
			}
			if r.Type == alert.ChannelWebhook || r.Type == alert.ChannelChat {
				if d.Secret, err = secrets.of(ctx, r.WorkspaceID); err != nil {
					return err
				}
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// alerts loads the alerts of the claimed deliveries with their event ids.
func (q *AlertQueue) alerts(ctx context.Context, tx bun.Tx, rows []deliveryRow) (map[string]alert.Alert, error) {
	ids := make([]string, 0, len(rows))
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.AlertID] {
			seen[r.AlertID] = true
			ids = append(ids, r.AlertID)
		}
	}
	var alerts []alertRow
	if err := selectAlerts(tx, &alerts).Where("a.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("select alerts of deliveries: %w", err)
	}
	out := make(map[string]alert.Alert, len(alerts))
	for _, a := range alerts {
		out[a.ID] = a.alert()
	}
	return out, nil
}

// Record logs an attempt and moves its delivery on: delivered, pending
// again at RetryAt, or failed when RetryAt is zero. A delivery already
// delivered or failed (by a worker whose lease ran out first) keeps its
// state; the attempt is logged all the same.
func (q *AlertQueue) Record(ctx context.Context, a alert.Attempt) error {
	return recordDelivery(ctx, q.db, "alert_deliveries", "alert_delivery_attempts", a)
}

// Wait returns when alerts with deliveries were stored, after d, or when
// ctx ends. It listens on a connection of its own, opened at the first
// call; without it, it waits d.
func (q *AlertQueue) Wait(ctx context.Context, d time.Duration) {
	wake := q.listen(ctx)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake: // nil when listening failed: only the timer wakes
	case <-t.C:
	}
}

// listen starts listening for stored alerts once, and returns the channel
// that wakes Wait.
func (q *AlertQueue) listen(ctx context.Context) <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.listener != nil || q.closed {
		return q.wake
	}
	listener := pgdriver.NewListener(q.db.DB)
	if err := listener.Listen(ctx, q.db.cfg.AlertNotifyChannel); err != nil {
		listener.Close()
		return nil // tried again at the next Wait
	}
	// One wake-up covers many notifications; overflow is expected.
	notes := listener.Channel(pgdriver.WithChannelSize(64), pgdriver.WithChannelOverflowHandler(func(pgdriver.Notification) {}))
	wake := make(chan struct{}, 1)
	go func() {
		for range notes {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	q.listener, q.wake = listener, wake
	return wake
}

// Close stops listening.
func (q *AlertQueue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.listener == nil {
		return nil
	}
	err := q.listener.Close()
	q.listener = nil
	return err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

var _ alert.Queue = (*AlertQueue)(nil)
