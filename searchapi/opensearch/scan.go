package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// ScanPageSize is how many entries a scan reads from OpenSearch at a time:
// what it holds in memory, whatever the number of entries it reads.
const ScanPageSize = 1000

// closeTimeout bounds closing a scan's point in time, which is done even
// when the scan's context has ended.
const closeTimeout = 10 * time.Second

// errNoIndex is a point in time asked of an alias that no index has yet:
// no event was ever indexed under the prefix.
var errNoIndex = errors.New("search: no activity index yet")

// CountEvents returns how many entries match filter within p's scope, as
// the total of FindEvents counts them. It returns EINVALID for a bad
// filter and EUNAVAILABLE when OpenSearch cannot answer for now.
func (f *Finder) CountEvents(ctx context.Context, p activity.Principal, filter searchapi.EventFilter) (int64, error) {
	if p.WorkspaceID == "" {
		return 0, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	filter = forScan(filter)
	if err := filter.Validate(f.now(), searchapi.Zone(p.TimeZone)); err != nil {
		return 0, err
	}
	body := map[string]any{"query": searchQuery(append(scope(p), filterClauses(filter)...), filter.Search)}
	var res struct {
		Count int64 `json:"count"`
	}
	if _, err := f.post(ctx, "/"+f.alias+"/_count?ignore_unavailable=true&allow_no_indices=true", body, &res); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return res.Count, nil
}

// ScanEvents hands fn every entry matching filter within p's scope, newest
// first, in the order of FindEvents, and returns how many it handed on.
// It reads one point in time, opened for the scan and held while it runs,
// ScanPageSize entries at a time with search_after, and hands each page's
// entries on as OpenSearch returns them, so that what it holds does not
// grow with the number of entries. It stops at the first error of fn, and
// when ctx ends; however it ends, it closes its point in time. A scan
// counts against the same limits as listings read past their first page:
// it returns ETOOMANY when p or its workspace holds as many as allowed,
// EINVALID for a bad filter and EUNAVAILABLE when OpenSearch cannot answer
// for now.
func (f *Finder) ScanEvents(ctx context.Context, p activity.Principal, filter searchapi.EventFilter, fn func(searchapi.Entry) error) (int, error) {
	req, err := f.ScanRequest(p, filter)
	if err != nil {
		return 0, err
	}
	now := f.now()
	e, err := f.pits.acquireScan(p, now, f.cfg, f.lifetime)
	if err != nil {
		return 0, err
	}
	pit, err := f.openScanPIT(ctx, req.OpenPath)
	if err != nil {
		f.pits.failed(e, err)
		if errors.Is(err, errNoIndex) {
			return 0, nil
		}
		return 0, err
	}
	f.pits.opened(e, pit, now.Add(f.lifetime))
	defer func() {
		// Closed even when ctx has ended: a client gone must not leave a
		// point in time behind for its keep-alive.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		f.closePIT(cctx, pit)
		cancel()
		f.pits.release(pit)
	}()
	n := 0
	var after []any
	for {
		body, err := req.Page(pit, after)
		if err != nil {
			return n, err
		}
		status, raw, err := f.postRaw(ctx, "/_search", body)
		switch {
		case ctx.Err() != nil:
			return n, fmt.Errorf("scan: %w", ctx.Err())
		case status == http.StatusNotFound:
			return n, errors.Join(errUnavailable, fmt.Errorf("scan: the point in time lapsed after %d entries", n))
		case err != nil:
			return n, fmt.Errorf("scan after %d entries: %w", n, err)
		}
		page, err := decodeScanPage(raw)
		if err != nil {
			return n, err
		}
		for _, h := range page.Hits.Hits {
			if err := fn(h.Source); err != nil {
				return n, err
			}
			n++
		}
		if len(page.Hits.Hits) < ScanPageSize {
			return n, nil
		}
		if after = page.Hits.Hits[len(page.Hits.Hits)-1].Sort; len(after) != 2 {
			return n, fmt.Errorf("scan: unexpected sort values %v", after)
		}
		f.pits.touch(pit, f.now().Add(f.lifetime))
	}
}

// forScan is filter without what only a page of a listing has.
func forScan(filter searchapi.EventFilter) searchapi.EventFilter {
	filter.Cursor, filter.Limit, filter.Facets = "", 0, false
	return filter
}

// openScanPIT opens a point in time over the alias with path. It returns
// errNoIndex when the alias has no index yet.
func (f *Finder) openScanPIT(ctx context.Context, path string) (string, error) {
	status, raw, err := f.postRaw(ctx, path, nil)
	if status == http.StatusNotFound {
		return "", errNoIndex
	}
	if err != nil {
		return "", fmt.Errorf("open point in time: %w", err)
	}
	var res struct {
		PIT string `json:"pit_id"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.PIT == "" {
		return "", fmt.Errorf("open point in time: unexpected answer %.200s", raw)
	}
	return res.PIT, nil
}

// ScanRequest is a scan as ScanEvents sends it to OpenSearch, so that a
// benchmark can send the very same requests straight to OpenSearch:
// OpenPath opens the point in time, and Page gives the body of each page.
type ScanRequest struct {
	// OpenPath is the path, with its query string, that opens the point
	// in time a scan reads, with the keep-alive of a cursor.
	OpenPath string
	query    map[string]any
	alive    string
}

// ScanRequest returns the requests ScanEvents sends for filter within p's
// scope, with the period read from the finder's clock. It returns the
// errors ScanEvents returns for a missing principal and a bad filter.
func (f *Finder) ScanRequest(p activity.Principal, filter searchapi.EventFilter) (*ScanRequest, error) {
	if p.WorkspaceID == "" {
		return nil, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	filter = forScan(filter)
	if err := filter.Validate(f.now(), searchapi.Zone(p.TimeZone)); err != nil {
		return nil, err
	}
	return &ScanRequest{
		OpenPath: "/" + f.alias + "/_search/point_in_time?keep_alive=" + url.QueryEscape(keepAlive(f.lifetime)),
		query:    searchQuery(append(scope(p), filterClauses(filter)...), filter.Search),
		alive:    keepAlive(f.lifetime),
	}, nil
}

// Page returns the body of the search for the page of point in time pit
// that follows the hit with sort values after, the first page when after
// is empty: ScanPageSize entries, newest first, without a count.
func (r *ScanRequest) Page(pit string, after []any) ([]byte, error) {
	body := map[string]any{
		"query":            r.query,
		"size":             ScanPageSize,
		"track_total_hits": false,
		"sort":             []any{map[string]any{"occurred_at": "desc"}, map[string]any{"id": "desc"}},
		"_source":          map[string]any{"excludes": []string{"hour_of_day", "day_of_week", "indexed_at", "session_key", "occurred_ms", "client"}},
		"pit":              map[string]any{"id": pit, "keep_alive": r.alive},
	}
	if len(after) > 0 {
		body["search_after"] = after
	}
	return json.Marshal(body)
}

// scanHits is the part of a scan's page ScanEvents reads.
type scanHits struct {
	Hits struct {
		Hits []struct {
			Source searchapi.Entry `json:"_source"`
			Sort   []any           `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
}

// decodeScanPage decodes a page of a scan. Numbers are kept as they were
// written (json.Number), so that an entry's details are handed on
// unchanged and the sort values go back to OpenSearch as they came.
func decodeScanPage(raw []byte) (scanHits, error) {
	var page scanHits
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&page); err != nil {
		return scanHits{}, fmt.Errorf("decode scan page: %w", err)
	}
	return page, nil
}

// DecodeScanPage decodes OpenSearch's answer to a page of a ScanRequest
// into the types ScanEvents decodes it into, so that a benchmark's direct
// scan does the same work, and returns how many hits it holds and the
// sort values of its last, which the next page starts after.
func DecodeScanPage(raw []byte) (hits int, after []any, err error) {
	page, err := decodeScanPage(raw)
	if err != nil {
		return 0, nil, err
	}
	hits = len(page.Hits.Hits)
	if hits > 0 {
		after = page.Hits.Hits[hits-1].Sort
	}
	return hits, after, nil
}
