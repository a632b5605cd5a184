package postgres

import (
	"context"
	"database/sql"
	"errors"
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

// logViewMemoSize bounds the views one process remembers as recorded.
const logViewMemoSize = 10000

// LogViewService records the views of the activity log, debounced per
// session and filter in PostgreSQL so that every API process shares it.
// Each process also remembers when the views it saw were recorded, so that
// a search repeated within the debounce period does not write to
// PostgreSQL at all.
type LogViewService struct {
	db       *DB
	debounce time.Duration

	mu sync.Mutex
	// recorded holds, per workspace, viewer and fingerprint, when their
	// view was recorded: PostgreSQL records none again before that time
	// plus the debounce, so neither does the process.
	recorded map[logViewKey]time.Time
}

type logViewKey struct{ workspace, viewer, fingerprint string }

// recent reports whether the view of k was recorded within the debounce
// period before now.
func (s *LogViewService) recent(k logViewKey, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.recorded[k]
	return ok && now.Before(at.Add(s.debounce)) && !now.Before(at)
}

// remember notes that the view of k was recorded at, forgetting the
// views whose debounce has passed when the memory is full, and every view
// when it is still full.
func (s *LogViewService) remember(k logViewKey, at, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recorded) >= logViewMemoSize {
		for key, t := range s.recorded {
			if !now.Before(t.Add(s.debounce)) {
				delete(s.recorded, key)
			}
		}
		if len(s.recorded) >= logViewMemoSize {
			clear(s.recorded)
		}
	}
	s.recorded[k] = at
}

// NewLogViewService returns the service recording views into db, once per
// session and filter within debounce (DefaultLogViewDebounce when zero).
func NewLogViewService(db *DB, debounce time.Duration) *LogViewService {
	if debounce <= 0 {
		debounce = DefaultLogViewDebounce
	}
	return &LogViewService{db: db, debounce: debounce, recorded: make(map[logViewKey]time.Time)}
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
	// The workspace is the caller's: the key needs no look-up of it.
	key := logViewKey{workspace: p.WorkspaceID, viewer: viewer, fingerprint: v.Fingerprint}
	if s.recent(key, s.db.Now().UTC().Truncate(time.Millisecond)) {
		return false, nil
	}
	recorded := false
	var recordedAt time.Time
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
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			// Recorded within the period, by this process or another:
			// remember when, so that the next views skip PostgreSQL.
			err := tx.NewRaw(`SELECT recorded_at FROM log_views WHERE workspace_id = ? AND viewer = ? AND fingerprint = ?`,
				ws.ID, viewer, v.Fingerprint).Scan(ctx, &recordedAt)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read a log view: %w", err)
			}
			return nil
		}
		recordedAt = now
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
	if err == nil && !recordedAt.IsZero() {
		s.remember(key, recordedAt, s.db.Now().UTC())
	}
	return recorded && err == nil, err
}
