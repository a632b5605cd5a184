// Package searchapi answers questions about recorded activity — the
// workspace's activity log, searches and histories — from the search index.
// Every query is confined to the caller's workspace, and callers who may not
// see the whole workspace see only their own actions.
package searchapi

import (
	"context"
	"errors"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi/query"
)

// MaxLimit is the largest page a caller may ask for.
const MaxLimit = 200

// EventFilter selects activity entries.
type EventFilter struct {
	// Query is the search text in the syntax of package query: words and
	// phrases matched against names, emails, notes, summaries and changed
	// values, and qualifiers such as actor:, action: and ip:.
	Query string
	// Limit is the page size; zero means the default.
	Limit int
	// Search is Query parsed; Validate fills it in.
	Search query.Query
}

// Validate parses the search text and fills in defaults. It returns
// EINVALID naming the bad field: q with the parser's message saying what
// is wrong and where, or limit.
func (f *EventFilter) Validate() error {
	search, err := query.Parse(f.Query)
	if err != nil {
		var e *query.Error
		if errors.As(err, &e) {
			return activity.Errorf(activity.EINVALID, "q", "%s", e.Message)
		}
		return err
	}
	f.Search = search
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
