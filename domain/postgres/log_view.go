package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// DefaultLogViewDebounce is how long a session's view of the activity log
// with one filter is recorded only once.
const DefaultLogViewDebounce = 10 * time.Minute

// LogViewService records the views of the activity log, debounced per
// session and filter in PostgreSQL so that every API process shares it.
type LogViewService struct {
	db       *DB
	debounce time.Duration
}

// NewLogViewService returns the service recording views into db, once per
// session and filter within debounce (DefaultLogViewDebounce when zero).
func NewLogViewService(db *DB, debounce time.Duration) *LogViewService {
	if debounce <= 0 {
		debounce = DefaultLogViewDebounce
	}
	return &LogViewService{db: db, debounce: debounce}
}

// RecordLogView records v by p as system.log_viewed unless the same viewer
// recorded a view with the same fingerprint within the debounce period;
// the debounce row and the event commit together. It reports whether it
// recorded one, and returns EFORBIDDEN when p may not read the log.
func (s *LogViewService) RecordLogView(ctx context.Context, p activity.Principal, v domain.LogView) (bool, error) {
	if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
		return false, err
	}
	viewer := "user:" + p.UserID
	switch {
	case p.TokenID != "":
		viewer = "token:" + p.TokenID
	case p.SessionID != "":
		viewer = "session:" + p.SessionID
	}
	recorded := false
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		since := now.Add(-s.debounce)
		if _, err := tx.NewRaw(`DELETE FROM log_views WHERE workspace_id = ? AND recorded_at <= ?`, ws.ID, since).Exec(ctx); err != nil {
			return fmt.Errorf("forget old log views: %w", err)
		}
		res, err := tx.NewRaw(`INSERT INTO log_views (workspace_id, viewer, fingerprint, recorded_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, viewer, fingerprint) DO UPDATE SET recorded_at = EXCLUDED.recorded_at
			WHERE log_views.recorded_at <= ?`, ws.ID, viewer, v.Fingerprint, now, since).Exec(ctx)
		if err != nil {
			return fmt.Errorf("note a log view: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		e := newEvent(ctx, ws, p, domain.ActionLogViewed, now, activity.Resource{Type: "activity_log", ID: ws.ID, Name: "Activity log"})
		detail(&e, "where", v.Where)
		detail(&e, "parameters", v.Parameters)
		scope := "own"
		if p.SeesWorkspace() {
			scope = "workspace"
		}
		detail(&e, "scope", scope)
		recorded = true
		return s.db.recordEvents(ctx, tx, e)
	})
	return recorded && err == nil, err
}
