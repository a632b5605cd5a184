package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
)

type streamRow struct {
	bun.BaseModel `bun:"table:activity_streams"`
	ID            string    `bun:"id,pk,type:uuid"`
	WorkspaceID   string    `bun:"workspace_id,type:uuid"`
	ExpiresAt     time.Time `bun:"expires_at"`
}

// StreamSlots counts the live activity streams open on every API process
// in PostgreSQL, so that a workspace's limit holds across processes.
type StreamSlots struct {
	db *DB
}

// NewStreamSlots returns the stream slots of db.
func NewStreamSlots(db *DB) *StreamSlots { return &StreamSlots{db: db} }

// Acquire takes one of the workspace's max slots until ttl has passed,
// and returns its id; it returns ETOOMANY on field streams when every
// slot is taken by a stream that has not lapsed.
func (s *StreamSlots) Acquire(ctx context.Context, workspaceID string, max int, ttl time.Duration) (string, error) {
	id := activity.NewEventID()
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now := s.db.Now().UTC()
		// One workspace's acquisitions take turns, so that two at once
		// cannot both take the last slot.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "activity_streams:"+workspaceID); err != nil {
			return fmt.Errorf("lock activity streams of workspace %s: %w", workspaceID, err)
		}
		if _, err := tx.NewDelete().Table("activity_streams").Where("workspace_id = ? AND expires_at < ?", workspaceID, now).Exec(ctx); err != nil {
			return fmt.Errorf("drop lapsed activity streams: %w", err)
		}
		open, err := tx.NewSelect().Table("activity_streams").Where("workspace_id = ?", workspaceID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count activity streams: %w", err)
		}
		if open >= max {
			return activity.Errorf(activity.ETOOMANY, "streams", "this workspace already has %d activity streams open, the limit (FLUXERA_STREAM_MAX_PER_WORKSPACE); close one first", max)
		}
		row := streamRow{ID: id, WorkspaceID: workspaceID, ExpiresAt: now.Add(ttl)}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert activity stream: %w", err)
		}
		return nil
	})
	return id, err
}

// Renew keeps the slot for ttl more.
func (s *StreamSlots) Renew(ctx context.Context, id string, ttl time.Duration) error {
	if _, err := s.db.NewUpdate().Table("activity_streams").Set("expires_at = ?", s.db.Now().UTC().Add(ttl)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("renew activity stream %s: %w", id, err)
	}
	return nil
}

// Release gives the slot back.
func (s *StreamSlots) Release(ctx context.Context, id string) error {
	if _, err := s.db.NewDelete().Table("activity_streams").Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("release activity stream %s: %w", id, err)
	}
	return nil
}
