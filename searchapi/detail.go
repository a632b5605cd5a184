package searchapi

import (
	"context"

	activity "github.com/fluxera/activity"
)

// MaxSessionEvents is the most of a session's other entries a detail shows.
const MaxSessionEvents = 50

// EntryDetail is one activity entry in full: the event with every changed
// field and related resource, its summary, who acted, the session it was
// part of and that session's other entries, newest first.
type EntryDetail struct {
	Entry
	// User is the actor as they were when they acted.
	User activity.Actor `json:"user"`
	// Session is where the action came from.
	Session Session `json:"session"`
	// SessionEvents are the newest MaxSessionEvents other entries of the
	// same session the caller may see; empty when the entry has no session.
	SessionEvents []Entry `json:"session_events"`
}

// Session is the session an entry belongs to, as far as it is known.
type Session struct {
	ID        string             `json:"id,omitempty"`
	IP        string             `json:"ip,omitempty"`
	Location  *activity.Location `json:"location,omitempty"`
	UserAgent string             `json:"user_agent,omitempty"`
	Client    Client             `json:"client"`
	// Method is web, api, import or system.
	Method string `json:"method,omitempty"`
	// OtherEvents is how many other entries of the session the caller may
	// see, of which SessionEvents holds the newest.
	OtherEvents int64 `json:"other_events"`
}

// Client is the software that made the request, read from its user agent
// when the entry was indexed.
type Client struct {
	Browser        string `json:"browser,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
	OS             string `json:"os,omitempty"`
	// Device is desktop, mobile, tablet, bot or script.
	Device string `json:"device,omitempty"`
}

// EntryReader reads one activity entry in full.
type EntryReader interface {
	// FindEntry returns the entry with id. It returns ENOTFOUND for an id
	// that is malformed, unknown, of another workspace or outside p's
	// scope alike, and EUNAVAILABLE when the index cannot answer for now.
	FindEntry(ctx context.Context, p activity.Principal, id string) (EntryDetail, error)
}
