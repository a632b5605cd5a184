// Package opensearch answers activity searches from OpenSearch through the
// read alias of the activity indices.
package opensearch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/internal/servertiming"
	"github.com/fluxera/activity/searchapi"
)

// errUnavailable answers a search OpenSearch could not serve for now.
var errUnavailable = activity.Errorf(activity.EUNAVAILABLE, "", "the activity log cannot be searched at this moment; try again shortly")

// DefaultCursorLifetime is how long a cursor stays usable after the page
// that gave it: the keep-alive of the point in time it reads.
const DefaultCursorLifetime = 5 * time.Minute

// Finder searches the activity alias of one index prefix.
type Finder struct {
	client *opensearchapi.Client
	// http, if set, sends the finder's searches instead of client (see
	// WithHTTP).
	http      *ingestos.HTTP
	alias     string
	cursorKey []byte
	lifetime  time.Duration
	now       func() time.Time
	cfg       Config
	pits      *pits
	// partition is the most actions of a partition of a partitioned
	// analysis and the size of its pages: partitionActions but in tests.
	partition int
}

// Option changes how a Finder works.
type Option func(*Finder)

// WithCursorKey derives the key that signs cursors from secret, so that
// every instance sharing the secret accepts the others' cursors. Without
// it, a random key is made and cursors hold only within this process.
func WithCursorKey(secret []byte) Option {
	return func(f *Finder) { f.cursorKey = deriveCursorKey(secret) }
}

// WithCursorLifetime sets how long a cursor stays usable after its page.
func WithCursorLifetime(d time.Duration) Option {
	return func(f *Finder) { f.lifetime = d }
}

// WithHTTP sends the finder's searches and point-in-time requests
// through h, which hands over each answer as it arrives, instead of the
// client's transport, which reads each whole into a buffer of its own
// first.
func WithHTTP(h *ingestos.HTTP) Option {
	return func(f *Finder) { f.http = h }
}

// WithClock sets the clock named ranges such as today are read from.
func WithClock(now func() time.Time) Option {
	return func(f *Finder) { f.now = now }
}

// NewFinder returns a finder over the indices of prefix.
func NewFinder(client *opensearchapi.Client, prefix string, opts ...Option) *Finder {
	f := &Finder{client: client, alias: activity.IndexAlias(prefix), lifetime: DefaultCursorLifetime, now: time.Now, pits: newPITs(), partition: partitionActions}
	for _, o := range opts {
		o(f)
	}
	f.cfg.Validate() // fills in the limits not set; WithConfig's are valid
	if f.cursorKey == nil {
		secret := make([]byte, 32)
		rand.Read(secret)
		f.cursorKey = deriveCursorKey(secret)
	}
	return f
}

// scope is the filter every query carries: the caller's workspace, and the
// caller's own actions unless they may see the whole workspace.
func scope(p activity.Principal) []any {
	filters := []any{term("workspace_id", p.WorkspaceID)}
	if !p.SeesWorkspace() {
		filters = append(filters, term("actor.id", p.UserID))
	}
	return filters
}

func term(field, value string) map[string]any {
	return map[string]any{"term": map[string]any{field: value}}
}

// eventHits is the part of a search answer FindEvents reads.
type eventHits struct {
	Took int `json:"took"`
	Hits struct {
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []struct {
			Source searchapi.Entry `json:"_source"`
			Sort   []any           `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations *facetAggregations `json:"aggregations"`
}

// Answer is what a benchmark reads of an OpenSearch answer beyond its
// content: the hits OpenSearch counted, and its own time in milliseconds.
type Answer struct {
	Total int64
	Took  int
}

// DecodePageAnswer decodes OpenSearch's answer to a FirstPageRequest into
// the type FindEvents decodes it into, so that a benchmark's direct request
// does the same work, and returns its hit total and took.
func DecodePageAnswer(raw []byte) (Answer, error) {
	var res eventHits
	err := json.Unmarshal(raw, &res)
	return Answer{Total: res.Hits.Total.Value, Took: res.Took}, err
}

// FindEvents returns the newest entries matching f within p's scope, one
// page at a time: a page that is not the last carries a cursor that reads
// the next, the second and later pages from one point in time. It returns
// EINVALID for a bad filter and for a cursor that is forged, altered,
// expired, another caller's or issued for other filters, ETOOMANY when a
// second page would open more points in time than the caller or its
// workspace may hold, and EUNAVAILABLE when OpenSearch cannot answer for
// now.
func (f *Finder) FindEvents(ctx context.Context, p activity.Principal, filter searchapi.EventFilter) (searchapi.EventPage, error) {
	if p.WorkspaceID == "" {
		return searchapi.EventPage{}, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	now := f.now()
	if err := filter.Validate(now, searchapi.Zone(p.TimeZone)); err != nil {
		return searchapi.EventPage{}, err
	}
	var from *cursor
	if filter.Cursor != "" {
		c, err := decodeCursor(f.cursorKey, filter.Cursor, p, filter.Fingerprint(), now)
		if err != nil {
			return searchapi.EventPage{}, err
		}
		// Later pages read the period the first one read, even when a
		// named range such as today has moved on since.
		filter.Since, filter.Until = fromMillis(c.Since), fromMillis(c.Until)
		from = &c
	}
	body := pageBody(p, filter)
	var res eventHits
	var pit string // the point in time the next page reads
	if from != nil {
		var err error
		if pit, err = f.readAfter(ctx, p, filter.Cursor, *from, body, &res, now); err != nil {
			return searchapi.EventPage{}, err
		}
	} else if err := f.search(ctx, body, &res); err != nil {
		return searchapi.EventPage{}, err
	}

	hits := res.Hits.Hits
	more := len(hits) > filter.Limit
	if more {
		hits = hits[:filter.Limit]
	}
	page := searchapi.EventPage{Entries: make([]searchapi.Entry, 0, len(hits)), Total: res.Hits.Total.Value}
	for _, h := range hits {
		page.Entries = append(page.Entries, h.Source)
	}
	if filter.Facets {
		page.Facets = res.Aggregations.facets()
		if filter.FacetNames != nil {
			if err := f.nameFacetUsers(ctx, p, filter, page.Facets); err != nil {
				return searchapi.EventPage{}, err
			}
		}
	}
	if !more {
		if pit != "" {
			f.closePIT(ctx, pit)
			f.pits.release(pit)
		}
		return page, nil
	}
	next := cursor{
		Workspace: p.WorkspaceID, User: p.UserID, Filter: filter.Fingerprint(),
		Since: toMillis(filter.Since), Until: toMillis(filter.Until),
		Expires: now.Add(f.lifetime).Unix(),
	}
	last := hits[len(hits)-1]
	var ok bool
	if next.AfterTime, next.AfterID, ok = sortValues(last.Sort); !ok {
		return searchapi.EventPage{}, fmt.Errorf("search: unexpected sort values %v", last.Sort)
	}
	next.PIT = pit
	page.NextCursor = encodeCursor(f.cursorKey, next)
	return page, nil
}

// readAfter searches body for the page after the cursor text, which
// decoded to from, and decodes the answer into res. It returns the point in
// time it read, which the next page reads too.
//
// The first page reads the live index; the point in time that the later
// pages share is opened when the second is asked for. Most listings are
// never read past their first page, and OpenSearch holds only so many
// points in time open at once (one per shard of every index they cover).
// Sorted by time and id, the second page continues exactly where the
// first stopped. The first page's cursor sent again reads the point in
// time its first use opened, and a new one is refused with ETOOMANY when
// the caller or its workspace holds as many as allowed. A cursor whose
// point in time is gone is refused as expired.
func (f *Finder) readAfter(ctx context.Context, p activity.Principal, text string, from cursor, body map[string]any, res *eventHits, now time.Time) (string, error) {
	body["search_after"] = []any{from.AfterTime, from.AfterID}
	expires := now.Add(f.lifetime)
	if from.PIT != "" {
		status, err := f.readPIT(ctx, from.PIT, body, res)
		if status == http.StatusNotFound {
			f.pits.release(from.PIT)
			return "", errCursorExpired
		}
		if err != nil {
			return "", err
		}
		f.pits.touch(from.PIT, expires)
		return from.PIT, nil
	}
	_, origin, _ := strings.Cut(text, ".")
	// A shared point in time may have been closed by a copy of the listing
	// that reached its end, or have lapsed early: then one fresh one is
	// opened.
	for attempt := 0; ; attempt++ {
		e, fresh, err := f.pits.acquire(ctx, origin, p, now, f.cfg, f.lifetime)
		if err != nil {
			return "", err
		}
		if fresh {
			id, err := f.openPIT(ctx)
			if err != nil {
				f.pits.failed(e, err)
				return "", err
			}
			f.pits.opened(e, id, expires)
		}
		status, err := f.readPIT(ctx, e.id, body, res)
		switch {
		case status == http.StatusNotFound && !fresh && attempt == 0:
			f.pits.release(e.id)
			continue
		case status == http.StatusNotFound:
			f.pits.release(e.id)
			return "", errCursorExpired
		case err != nil:
			if fresh {
				f.closePIT(ctx, e.id)
				f.pits.release(e.id)
			}
			return "", err
		}
		f.pits.touch(e.id, expires)
		return e.id, nil
	}
}

// readPIT runs body as a search of the point in time id, keeping it alive
// for another cursor lifetime, and decodes the answer into res. It returns
// the status OpenSearch answered with, as post does.
func (f *Finder) readPIT(ctx context.Context, id string, body map[string]any, res *eventHits) (int, error) {
	body["pit"] = map[string]any{"id": id, "keep_alive": keepAlive(f.lifetime)}
	return f.post(ctx, "/_search", body, res)
}

// pageBody returns the search for one page of the validated filter within
// p's scope: one entry more than the page holds, which tells whether
// another page follows.
func pageBody(p activity.Principal, filter searchapi.EventFilter) map[string]any {
	body := map[string]any{
		"query":            searchQuery(append(scope(p), filterClauses(filter)...), filter.Search),
		"size":             filter.Limit + 1,
		"track_total_hits": true,
		"sort":             []any{map[string]any{"occurred_at": "desc"}, map[string]any{"id": "desc"}},
		"_source":          map[string]any{"excludes": []string{"hour_of_day", "day_of_week", "indexed_at", "session_key", "occurred_ms"}},
	}
	if filter.Facets {
		body["aggs"] = facetAggs(filter.FacetNames == nil)
	}
	return body
}

// Request is one search as a Finder sends it to OpenSearch: the path, with
// its query string, and the JSON body.
type Request struct {
	Path string
	Body []byte
}

// FirstPageRequest returns the search FindEvents sends for the first page
// of filter within p's scope, with the period read from the finder's
// clock, so that a benchmark can send the very same request straight to
// OpenSearch. The cursor of filter is ignored. It returns the errors
// FindEvents returns for a missing principal and a bad filter.
func (f *Finder) FirstPageRequest(p activity.Principal, filter searchapi.EventFilter) (Request, error) {
	if p.WorkspaceID == "" {
		return Request{}, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	if err := filter.Validate(f.now(), searchapi.Zone(p.TimeZone)); err != nil {
		return Request{}, err
	}
	return f.request(pageBody(p, filter))
}

// request returns body as a search of the alias.
func (f *Finder) request(body any) (Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Request{}, err
	}
	return Request{Path: f.searchPath(), Body: b}, nil
}

// sortValues reads the sort values of a hit: occurred_at in milliseconds
// and the id.
func sortValues(v []any) (int64, string, bool) {
	if len(v) != 2 {
		return 0, "", false
	}
	ms, ok1 := v[0].(float64)
	id, ok2 := v[1].(string)
	return int64(ms), id, ok1 && ok2
}

func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func keepAlive(d time.Duration) string {
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// openPIT opens a point in time over the alias, so that the pages of one
// listing read the same state of the index.
func (f *Finder) openPIT(ctx context.Context) (string, error) {
	path := "/" + f.alias + "/_search/point_in_time?keep_alive=" + url.QueryEscape(keepAlive(f.lifetime))
	var res struct {
		PIT string `json:"pit_id"`
	}
	if _, err := f.post(ctx, path, nil, &res); err != nil {
		return "", fmt.Errorf("open point in time: %w", err)
	}
	return res.PIT, nil
}

// closePIT frees a point in time a listing has read to its end. It is
// best effort: a point in time left open lapses by itself.
func (f *Finder) closePIT(ctx context.Context, pit string) {
	b, _ := json.Marshal(map[string]any{"pit_id": []string{pit}})
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, "/_search/point_in_time", bytes.NewReader(b))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "identity") // as sendRaw
	if res, err := f.perform(req); err == nil {
		res.Body.Close()
	}
}

// search runs one search request against the alias. A missing alias (no
// event indexed yet) is an empty result.
func (f *Finder) search(ctx context.Context, body any, out any) error {
	_, err := f.post(ctx, f.searchPath(), body, out)
	return err
}

// searchPath is where searches of the alias go. A missing alias is no
// error, only no hits.
func (f *Finder) searchPath() string {
	return "/" + f.alias + "/_search?ignore_unavailable=true&allow_no_indices=true"
}

// post sends body to path and decodes the answer into out. It returns the
// status OpenSearch answered with, if any, and an error for every status
// but 200: EUNAVAILABLE for one worth a retry.
//
// The answer is read into a buffer of decodedAnswers and given back once
// decoded: encoding/json copies what it keeps, and a page of entries
// would otherwise leave its whole answer to the collector.
func (f *Finder) post(ctx context.Context, path string, body any, out any) (int, error) {
	buf := decodedAnswers.get()
	status, raw, err := f.sendRawInto(ctx, http.MethodPost, path, body, buf)
	if raw != nil {
		buf = raw // it may have grown
	}
	defer decodedAnswers.put(buf)
	if err != nil {
		return status, err
	}
	start := time.Now()
	err = json.Unmarshal(raw, out)
	servertiming.Add(ctx, servertiming.Decode, time.Since(start))
	if err != nil {
		return status, fmt.Errorf("decode search response: %w", err)
	}
	return status, nil
}

// decodedAnswers holds the buffers post reads answers into.
var decodedAnswers = answerPool{keep: 1 << 20}

// answerPool keeps answer buffers between requests, up to keep bytes
// each: the rare larger answer's buffer is left to the collector rather
// than held for ever.
type answerPool struct {
	pool sync.Pool
	keep int
}

// get returns an empty buffer, nil when the pool has none.
func (p *answerPool) get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return nil
}

// put gives b back, unless it is nil or larger than the pool keeps.
func (p *answerPool) put(b []byte) {
	if b == nil || cap(b) > p.keep {
		return
	}
	b = b[:0]
	p.pool.Put(&b)
}

// postRaw sends body to path and returns the status OpenSearch answered
// with, if any, and its answer, as post does, undecoded.
func (f *Finder) postRaw(ctx context.Context, path string, body any) (int, []byte, error) {
	return f.sendRaw(ctx, http.MethodPost, path, body)
}

// sendRaw sends body to path with method, as postRaw does.
func (f *Finder) sendRaw(ctx context.Context, method, path string, body any) (int, []byte, error) {
	return f.sendRawInto(ctx, method, path, body, nil)
}

// sendRawInto is sendRaw reading the answer into into's spare capacity
// (a new buffer when nil).
func (f *Finder) sendRawInto(ctx context.Context, method, path string, body any, into []byte) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	// The answer is read whole and decoded at once: gzip would cost
	// OpenSearch the compression and the API the inflating, for bytes
	// that cross a local network.
	req.Header.Set("Accept-Encoding", "identity")
	start := time.Now()
	res, err := f.perform(req)
	if err != nil {
		servertiming.Add(ctx, servertiming.Search, time.Since(start))
		return 0, nil, errors.Join(errUnavailable, fmt.Errorf("search: %w", err))
	}
	defer res.Body.Close()
	raw, err := readAll(into, res.Body, res.ContentLength)
	servertiming.Add(ctx, servertiming.Search, time.Since(start))
	if err != nil {
		return res.StatusCode, nil, fmt.Errorf("read search response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		err := fmt.Errorf("search: status %d: %.500s", res.StatusCode, raw)
		if res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusTooManyRequests {
			// Shards starting or a node under pressure: worth a retry.
			return res.StatusCode, raw, errors.Join(errUnavailable, err)
		}
		return res.StatusCode, raw, err
	}
	return res.StatusCode, raw, nil
}

// perform sends req, whose URL is a path and query, through the finder's
// HTTP client if it has one, and its OpenSearch client otherwise.
func (f *Finder) perform(req *http.Request) (*http.Response, error) {
	if f.http != nil {
		return f.http.Do(req)
	}
	return f.client.Client.Perform(req)
}

// readAll appends what r holds to dst and returns it, as io.ReadAll does
// into a buffer of its own; size, when known (not -1), is how much r
// holds.
func readAll(dst []byte, r io.Reader, size int64) ([]byte, error) {
	if size > 0 && int64(cap(dst)-len(dst)) < size {
		dst = slices.Grow(dst, int(size))
	}
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, max(512, cap(dst)))
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
