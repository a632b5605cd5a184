package opensearch

import (
	"context"
	"strings"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// errEntryNotFound answers every entry the caller may not read, whether it
// exists or not.
var errEntryNotFound = activity.Errorf(activity.ENOTFOUND, "", "activity entry not found")

// detailSource leaves out the fields only analytics read.
var detailSource = map[string]any{"excludes": []string{"hour_of_day", "day_of_week", "indexed_at", "session_key", "occurred_ms"}}

// detailHits is the part of a search answer FindEntry reads.
type detailHits struct {
	Hits struct {
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []struct {
			Source struct {
				searchapi.Entry
				Client searchapi.Client `json:"client"`
			} `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

// FindEntry returns the entry with id within p's scope, with its session
// and the session's newest other entries. It returns ENOTFOUND for a
// malformed id and for an entry of another workspace or outside p's scope,
// without saying which.
func (f *Finder) FindEntry(ctx context.Context, p activity.Principal, id string) (searchapi.EntryDetail, error) {
	if p.WorkspaceID == "" {
		return searchapi.EntryDetail{}, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	if !searchapi.IsID(id) {
		return searchapi.EntryDetail{}, errEntryNotFound
	}
	var res detailHits
	body := map[string]any{
		"query":   map[string]any{"bool": map[string]any{"filter": append(scope(p), term("id", strings.ToLower(id)))}},
		"size":    1,
		"_source": detailSource,
	}
	if err := f.search(ctx, body, &res); err != nil {
		return searchapi.EntryDetail{}, err
	}
	if len(res.Hits.Hits) == 0 {
		return searchapi.EntryDetail{}, errEntryNotFound
	}
	hit := res.Hits.Hits[0].Source
	d := searchapi.EntryDetail{Entry: hit.Entry, User: hit.Actor, SessionEvents: []searchapi.Entry{}}
	if d.Summary == "" {
		d.Summary = d.Event.Summary()
	}
	c := d.Context
	d.Session = searchapi.Session{ID: c.SessionID, IP: c.IP, Location: c.Location, UserAgent: c.UserAgent, Client: hit.Client, Method: c.Method}
	if c.SessionID == "" {
		return d, nil
	}
	others, total, err := f.sessionEntries(ctx, p, c.SessionID, d.ID)
	if err != nil {
		return searchapi.EntryDetail{}, err
	}
	d.SessionEvents, d.Session.OtherEvents = others, total
	return d, nil
}

// sessionEntries returns the newest entries of session within p's scope
// but the one with id, and how many there are.
func (f *Finder) sessionEntries(ctx context.Context, p activity.Principal, session, id string) ([]searchapi.Entry, int64, error) {
	var res eventHits
	body := map[string]any{
		"query": map[string]any{"bool": map[string]any{
			"filter":   append(scope(p), term("context.session_id", session)),
			"must_not": []any{term("id", id)},
		}},
		"size":             searchapi.MaxSessionEvents,
		"track_total_hits": true,
		"sort":             []any{map[string]any{"occurred_at": "desc"}, map[string]any{"id": "desc"}},
		"_source":          detailSource,
	}
	if err := f.search(ctx, body, &res); err != nil {
		return nil, 0, err
	}
	out := make([]searchapi.Entry, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		out = append(out, h.Source)
	}
	return out, res.Hits.Total.Value, nil
}
