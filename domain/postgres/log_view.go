package postgres

import (
	"context"
	"fmt"
	"sync"
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
// A view this process recorded is remembered until its debounce period
// ends, so that the same view repeated meanwhile, which PostgreSQL would
// not record again, costs no transaction.
type LogViewService struct {
	db       *DB
	debounce time.Duration

	mu sync.Mutex
	// recorded holds when this process recorded each view, until its
	// debounce period ends.
	recorded map[logViewKey]time.Time
}

// logViewKey is what a view is debounced on, as log_views' key.
type logViewKey struct{ workspace, viewer, fingerprint string }

// maxRememberedViews bounds the views a process remembers; past it, the
// lapsed ones are forgotten, and all of them if none has lapsed, the
// database's debounce then answering alone.
const maxRememberedViews = 100000

// NewLogViewService returns the service recording views into db, once per
// session and filter within debounce (DefaultLogViewDebounce when zero).
func NewLogViewService(db *DB, debounce time.Duration) *LogViewService {
	if debounce <= 0 {
		debounce = DefaultLogViewDebounce
	}
	return &LogViewService{db: db, debounce: debounce, recorded: map[logViewKey]time.Time{}}
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
	key := logViewKey{p.WorkspaceID, viewer, v.Fingerprint}
	if s.recentlyRecorded(key, s.db.Now()) {
		return false, nil
	}
	recorded := false
	var at time.Time
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		at = now
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
	if recorded && err == nil {
		s.remember(key, at)
	}
	return recorded && err == nil, err
}

// recentlyRecorded reports whether this process recorded the view key
// within the debounce period before now.
func (s *LogViewService) recentlyRecorded(key logViewKey, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.recorded[key]
	return ok && now.Before(at.Add(s.debounce))
}

// remember notes that this process recorded the view key at at.
func (s *LogViewService) remember(key logViewKey, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recorded) >= maxRememberedViews {
		lapsed := at.Add(-s.debounce)
		for k, t := range s.recorded {
			if !t.After(lapsed) {
				delete(s.recorded, k)
			}
		}
		if len(s.recorded) >= maxRememberedViews {
			clear(s.recorded)
		}
	}
	s.recorded[key] = at
}
