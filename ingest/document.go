package ingest

import (
	"strconv"
	"strings"
	"sync"
	"time"

	activity "github.com/fluxera/activity"
)

// SearchDocument is an event as it is stored for search: the event itself
// plus fields derived from it once, at index time.
type SearchDocument struct {
	activity.Event
	// Summary is the action in plain words, searchable as text.
	Summary string `json:"summary"`
	// HourOfDay (0–23) and DayOfWeek (1 = Monday … 7 = Sunday) are in the
	// workspace's time zone, for heatmaps and working-hours checks.
	HourOfDay int       `json:"hour_of_day"`
	DayOfWeek int       `json:"day_of_week"`
	IndexedAt time.Time `json:"indexed_at"`
	// Client is the software that made the request, read from its user agent.
	Client Client `json:"client"`
	// Restored is set on an entry indexed back from the archive for a
	// while (see activity.Restored); nil on an entry the indexer stored.
	Restored *activity.Restored `json:"restored,omitempty"`
	// SessionKey names the user's session an action was taken in, as one
	// value (see SessionKeyOf), so that the time spent groups actions by
	// one key instead of two; empty for an action outside a session.
	SessionKey string `json:"session_key,omitempty"`
	// OccurredMS is OccurredAt in milliseconds since the Unix epoch, a
	// number the time spent reads the first and last action of a stretch
	// from without formatting dates.
	OccurredMS int64 `json:"occurred_ms"`
}

// MaxSessionKeyPart is the longest actor id or session id a session key
// is made of: the longest keyword the mapping keeps (ignore_above), so
// that an action has a session key exactly when its actor id and session
// id are both searchable.
const MaxSessionKeyPart = 512

// SessionKeyOf is the session key of an action of user in session: the
// length of the user's id in decimal, a colon, the user's id and the
// session's id, which SplitSessionKey reads back whatever either holds.
// It is empty when either is empty or longer than MaxSessionKeyPart.
func SessionKeyOf(user, session string) string {
	if user == "" || session == "" || len(user) > MaxSessionKeyPart || len(session) > MaxSessionKeyPart {
		return ""
	}
	return strconv.Itoa(len(user)) + ":" + user + session
}

// SplitSessionKey returns the user's and the session's id of a session
// key; ok is false for a value SessionKeyOf does not write.
func SplitSessionKey(key string) (user, session string, ok bool) {
	n, rest, found := strings.Cut(key, ":")
	if !found {
		return "", "", false
	}
	size, err := strconv.Atoi(n)
	if err != nil || size <= 0 || size >= len(rest) || strconv.Itoa(size) != n {
		return "", "", false
	}
	return rest[:size], rest[size:], true
}

// Derive sets the fields of doc derived from its event alone: all that
// NewDocument sets but the time of indexing.
func (doc *SearchDocument) Derive() {
	e := &doc.Event
	local := e.OccurredAt.In(location(e.Context.TimeZone))
	dow := int(local.Weekday())
	if dow == 0 {
		dow = 7
	}
	doc.Summary = e.Summary()
	doc.HourOfDay, doc.DayOfWeek = local.Hour(), dow
	doc.DeriveKeys()
}

// DeriveKeys sets the session key and the time in milliseconds from the
// event. A document rewritten in place (an anonymization) gets them too,
// so that an entry indexed before they existed has them from then on.
func (doc *SearchDocument) DeriveKeys() {
	doc.SessionKey = SessionKeyOf(doc.Actor.ID, doc.Context.SessionID)
	doc.OccurredMS = doc.OccurredAt.UnixMilli()
}

// Client is what a user agent says about the software behind a request.
type Client struct {
	Browser        string `json:"browser,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
	OS             string `json:"os,omitempty"`
	// Device is desktop, mobile, tablet, bot or script.
	Device string `json:"device,omitempty"`
}

// Enricher adds to a document what can be derived from its event, such as
// where its address is.
type Enricher interface {
	Enrich(doc *SearchDocument)
}

// NewDocument derives the search document of e.
func NewDocument(e activity.Event, now time.Time) SearchDocument {
	doc := SearchDocument{Event: e, IndexedAt: now.UTC().Truncate(time.Millisecond)}
	doc.Derive()
	return doc
}

var locations sync.Map // time zone name → *time.Location

func location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	locations.Store(name, l)
	return l
}
