package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain/relay"
)

type outboxRow struct {
	bun.BaseModel `bun:"table:outbox"`
	Seq           int64           `bun:"seq,pk,autoincrement"`
	EventID       string          `bun:"event_id,type:uuid"`
	WorkspaceID   string          `bun:"workspace_id,type:uuid"`
	Payload       json.RawMessage `bun:"payload,type:json"`
	PublishedAt   *time.Time      `bun:"published_at"`
}

// recordEvents writes events to the outbox inside tx. It is the last write
// of a transaction: it takes the workspace's transaction lock, so that
// sequence numbers within a workspace follow commit order, and it wakes the
// relay when the transaction commits.
func (db *DB) recordEvents(ctx context.Context, tx bun.Tx, events ...activity.Event) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]outboxRow, len(events))
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return fmt.Errorf("event %s is not valid: %w", events[i].Action, err)
		}
		b, err := json.Marshal(events[i])
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		rows[i] = outboxRow{EventID: events[i].ID, WorkspaceID: events[i].WorkspaceID, Payload: b}
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", events[0].WorkspaceID); err != nil {
		return fmt.Errorf("lock workspace outbox: %w", err)
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert outbox rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, '')", db.cfg.NotifyChannel); err != nil {
		return fmt.Errorf("notify relay: %w", err)
	}
	return nil
}

// Outbox is the relay's view of the outbox table.
type Outbox struct {
	db *DB

	once     sync.Once
	wake     <-chan pgdriver.Notification
	listener *pgdriver.Listener
}

// NewOutbox returns the outbox of db.
func NewOutbox(db *DB) *Outbox { return &Outbox{db: db} }

// Pending returns up to n unpublished events in sequence order.
func (o *Outbox) Pending(ctx context.Context, n int) ([]relay.Message, error) {
	var rows []outboxRow
	err := o.db.NewSelect().Model(&rows).
		Column("seq", "event_id", "workspace_id", "payload").
		Where("published_at IS NULL").
		OrderExpr("seq").
		Limit(n).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select pending outbox rows: %w", err)
	}
	msgs := make([]relay.Message, len(rows))
	for i, r := range rows {
		msgs[i] = relay.Message{Seq: r.Seq, EventID: r.EventID, WorkspaceID: r.WorkspaceID, Payload: r.Payload}
	}
	return msgs, nil
}

// MarkPublished sets the publication time of the given rows.
func (o *Outbox) MarkPublished(ctx context.Context, seqs []int64) error {
	_, err := o.db.NewUpdate().Model((*outboxRow)(nil)).
		Set("published_at = ?", o.db.Now().UTC()).
		Where("seq IN (?)", bun.In(seqs)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark outbox rows published: %w", err)
	}
	return nil
}

// Wait returns when a transaction with events commits or d has passed.
func (o *Outbox) Wait(ctx context.Context, d time.Duration) error {
	o.once.Do(func() {
		o.listener = pgdriver.NewListener(o.db.DB)
		o.wake = o.listener.Channel(pgdriver.WithChannelSize(1))
		// Listen failures surface as missing wake-ups; the poll interval
		// still bounds the delay.
		_ = o.listener.Listen(ctx, o.db.cfg.NotifyChannel)
	})
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-o.wake:
	case <-t.C:
	}
	return nil
}

// Lead takes a session-level advisory lock so that only one relay per
// schema publishes, which keeps the stream in commit order. It polls until
// the lock is free or ctx ends.
func (o *Outbox) Lead(ctx context.Context) (func(), error) {
	conn, err := o.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open relay lock connection: %w", err)
	}
	const lockSQL = "SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '.outbox_relay', 0))"
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, lockSQL).Scan(&ok); err != nil {
			conn.Close()
			return nil, fmt.Errorf("take relay lock: %w", err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	return func() {
		if o.listener != nil {
			o.listener.Close()
		}
		conn.Close() // ending the session releases the lock
	}, nil
}
