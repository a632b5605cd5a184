package searchapi

import (
	"context"
	"time"
)

// Hold is a legal hold on a workspace's entries: those of the period from
// From (inclusive) to To (exclusive), a zero bound leaving that side
// open, and, when UserID is set, only that user's. Held entries are never
// removed from the searchable log.
type Hold struct {
	ID     string    `json:"id"`
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
	UserID string    `json:"user_id,omitempty"`
}

// Purger removes from the searchable log what the retention job has
// archived. It writes to the index: only the retention job uses it.
type Purger interface {
	// Months returns the first instant (UTC) of every calendar month, in
	// UTC, in which the workspace has entries older than before, oldest
	// first. Here and in CountPeriod and DeletePeriod, entries restored
	// from the archive for a while are not counted: they are archived
	// already, and leave when their restore expires.
	Months(ctx context.Context, workspaceID string, before time.Time) ([]time.Time, error)
	// CountPeriod returns how many of the workspace's entries from from
	// (inclusive) to to (exclusive) no hold keeps.
	CountPeriod(ctx context.Context, workspaceID string, from, to time.Time, holds []Hold) (int64, error)
	// DeletePeriod deletes the workspace's entries from from (inclusive)
	// to to (exclusive), never another workspace's and never an entry
	// under one of holds, and returns how many it deleted and how many it
	// kept for the holds. Once it returns, searches no longer see them.
	DeletePeriod(ctx context.Context, workspaceID string, from, to time.Time, holds []Hold) (deleted, held int64, err error)
	// CountMatching counts the workspace's entries from from to to that
	// match m: those of each action of kept, by action, and, of the
	// others, those under holds and those left to delete.
	CountMatching(ctx context.Context, workspaceID string, from, to time.Time, m Match, kept []string, holds []Hold) (byAction map[string]int64, held, deletable int64, err error)
	// DeleteMatching deletes the workspace's entries from from to to that
	// match m, but for those of an action of kept and those under holds,
	// and returns how many it deleted.
	DeleteMatching(ctx context.Context, workspaceID string, from, to time.Time, m Match, kept []string, holds []Hold) (int64, error)
	// Present returns which of ids the index holds as the workspace's
	// entries.
	Present(ctx context.Context, workspaceID string, ids []string) (map[string]bool, error)
	// DeleteRestored deletes the workspace's entries marked as restored by
	// the restore restoreID, and nothing else, and returns how many.
	DeleteRestored(ctx context.Context, workspaceID, restoreID string) (int64, error)
	// DropEmptyIndices deletes the monthly indices of months that ended by
	// before and hold no entry, and returns their names.
	DropEmptyIndices(ctx context.Context, before time.Time) ([]string, error)
}

// Match narrows a deletion to one user's entries, one action or one
// category; empty fields match every entry.
type Match struct {
	UserID   string `json:"user_id,omitempty"`
	Action   string `json:"action,omitempty"`
	Category string `json:"category,omitempty"`
}

// Matches reports whether e matches m.
func (m Match) Matches(userID, action, category string) bool {
	return (m.UserID == "" || m.UserID == userID) && (m.Action == "" || m.Action == action) && (m.Category == "" || m.Category == category)
}
