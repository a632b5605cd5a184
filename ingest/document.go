package ingest

import (
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
	local := e.OccurredAt.In(location(e.Context.TimeZone))
	dow := int(local.Weekday())
	if dow == 0 {
		dow = 7
	}
	return SearchDocument{
		Event:     e,
		Summary:   e.Summary(),
		HourOfDay: local.Hour(),
		DayOfWeek: dow,
		IndexedAt: now.UTC().Truncate(time.Millisecond),
	}
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
