// Package searchapi answers questions about recorded activity — the
// workspace's activity log, searches and histories — from the search index.
// Every query is confined to the caller's workspace, and callers who may not
// see the whole workspace see only their own actions.
package searchapi

import (
	"context"
	"strings"
	"unicode/utf8"

	activity "github.com/fluxera/activity"
)

// MaxLimit is the largest page a caller may ask for.
const MaxLimit = 200

// EventFilter selects activity entries.
type EventFilter struct {
	// Query is free text matched against names, emails, notes, summaries
	// and changed values.
	Query string
	// Limit is the page size; zero means the default.
	Limit int
}

// Validate fills in defaults and returns EINVALID naming a bad field.
func (f *EventFilter) Validate() error {
	f.Query = strings.TrimSpace(f.Query)
	if utf8.RuneCountInString(f.Query) > 500 {
		return activity.Errorf(activity.EINVALID, "q", "the search text is longer than 500 characters")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > MaxLimit {
		return activity.Errorf(activity.EINVALID, "limit", "limit must be between 1 and %d", MaxLimit)
	}
	return nil
}

// Entry is one activity log entry: the event and its plain-words summary.
type Entry struct {
	activity.Event
	Summary string `json:"summary"`
}

// EventPage is one page of entries, newest first, and how many match.
type EventPage struct {
	Entries []Entry `json:"entries"`
	Total   int64   `json:"total"`
}

// Finder finds activity entries.
type Finder interface {
	// FindEvents returns the entries matching f that p may see.
	FindEvents(ctx context.Context, p activity.Principal, f EventFilter) (EventPage, error)
}
