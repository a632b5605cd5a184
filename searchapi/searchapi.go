// Package searchapi answers questions about recorded activity — the
// workspace's activity log, searches and histories — from the search index.
// Every query is confined to the caller's workspace, and callers who may not
// see the whole workspace see only their own actions.
package searchapi

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi/query"
)

// MaxLimit is the largest page a caller may ask for.
const MaxLimit = 200

// DefaultLimit is the page size of a caller who names none.
const DefaultLimit = 50

// EventFilter selects activity entries. Filters of different kinds must
// all match; the values of one kind are alternatives.
type EventFilter struct {
	// Query is the search text in the syntax of package query: words and
	// phrases matched against names, emails, notes, summaries and changed
	// values, and qualifiers such as actor:, action: and ip:.
	Query string
	// Users are the ids of the users whose actions are wanted.
	Users []string
	// Categories are asset, license, user, auth or system.
	Categories []string
	// Actions are actions such as license.created, with * as a wildcard.
	Actions []string
	// Range is one of Ranges, read in the workspace's time zone; From and
	// To are each an RFC 3339 time or a YYYY-MM-DD date in that time zone,
	// To including that whole day. Either may be given alone.
	Range, From, To string
	// Resources are resource types such as asset, or a type and an id such
	// as asset:<id>; each matches the resource or a related resource.
	Resources []string
	// IPs are addresses or CIDR ranges the action came from.
	IPs []string
	// Outcome is success or failure.
	Outcome string

	// Actor confines the entries to one user's actions; a user's history
	// sets it.
	Actor string
	// Subject confines the entries to those whose resource or a related
	// resource it is; an asset's or a license's history sets it.
	Subject *activity.Resource
	// Involving confines the entries to those one user took part in: what
	// the user with this id did, and what was done to them as the
	// resource or a related resource (role changes, deactivation). A
	// user's page in the console sets it.
	Involving string

	// Cursor continues the listing where the previous page ended; it must
	// come with the same filters.
	Cursor string
	// Limit is the page size; zero means DefaultLimit.
	Limit int
	// Facets asks for the users, actions and resource types of the
	// matching entries, with their counts.
	Facets bool
	// FacetNames, when set, names the users of the user facet that it
	// knows, as the caller's own list of members names them; only the
	// users it does not know are named as in their latest matching entry,
	// which costs OpenSearch a second, smaller search.
	FacetNames UserNames

	// Search is Query parsed, and Since and Until (excluded) the period
	// read from Range, From and To, zero where open; Validate fills them in.
	Search       query.Query
	Since, Until time.Time
}

// UserNames names users by id from a list the caller already holds, such
// as the workspace's members.
type UserNames interface {
	// UserName returns the name and email of the user with id, and
	// whether it knows that user.
	UserName(id string) (name, email string, ok bool)
}

// Entry is one activity log entry: the event and its plain-words summary.
type Entry struct {
	activity.Event
	Summary string `json:"summary"`
	// Restored is set on an entry an owner restored from the archive for
	// a while: searchable until Restored.ExpiresAt.
	Restored *activity.Restored `json:"restored,omitempty"`
}

// EventPage is one page of entries, newest first, and how many match.
// NextCursor continues the listing; it is empty on the last page.
type EventPage struct {
	Entries    []Entry `json:"entries"`
	Total      int64   `json:"total"`
	NextCursor string  `json:"next_cursor,omitempty"`
	Facets     *Facets `json:"facets,omitempty"`
}

// Facets are the values the filter dropdowns offer under the current
// filter, most frequent first, each with the number of matching entries.
type Facets struct {
	Users         []UserFacet `json:"users"`
	Actions       []Facet     `json:"actions"`
	ResourceTypes []Facet     `json:"resource_types"`
}

// Facet is one value and how many matching entries have it.
type Facet struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// UserFacet is one user, named as in their latest matching entry, and how
// many matching entries are theirs.
type UserFacet struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Count int64  `json:"count"`
}

// Finder finds activity entries.
type Finder interface {
	// FindEvents returns the entries matching f that p may see, a page at
	// a time. It returns EINVALID naming the bad field of f, a cursor
	// included, and EUNAVAILABLE when the index cannot answer for now.
	FindEvents(ctx context.Context, p activity.Principal, f EventFilter) (EventPage, error)
}

// Scanner reads every entry a filter selects, for exports.
type Scanner interface {
	// CountEvents returns how many entries matching f p may see. It
	// returns EINVALID naming the bad field of f and EUNAVAILABLE when
	// the index cannot answer for now.
	CountEvents(ctx context.Context, p activity.Principal, f EventFilter) (int64, error)
	// ScanEvents hands fn, one by one, every entry matching f that p may
	// see, newest first as FindEvents lists them, all read from one
	// state of the index, and returns how many it handed on. It stops at
	// the first error of fn, which it returns, and when ctx ends. The
	// cursor, page size and facets of f play no part. It returns EINVALID
	// naming the bad field of f, ETOOMANY when p or its workspace reads
	// as much at once as allowed, and EUNAVAILABLE when the index cannot
	// answer for now.
	ScanEvents(ctx context.Context, p activity.Principal, f EventFilter, fn func(Entry) error) (int, error)
}
