package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	domainhttp "github.com/fluxera/activity/domain/http"
)

// consolePages are the console's pages whose scripts and stylesheets the
// assets figure adds up: every page the console has loads the layout's,
// and a page with charts its own besides.
var consolePages = []string{"/settings/activity-log", "/settings/analytics"}

// assetRef finds the scripts and stylesheets a page loads from the
// console's own origin.
var assetRef = regexp.MustCompile(`<(?:script[^>]*\ssrc|link[^>]*\shref)="(/static/[^"]+\.(?:js|css))"`)

// moreCursor finds the cursor of a listing page's "Show older entries"
// link, which holds a point in time open in OpenSearch.
var moreCursor = regexp.MustCompile(`[?&](?:amp;)?cursor=([^"&]+)`)

// consoleFigures measures the console beside the search API, on the same
// API process and corpus, in the same run as the search figures: the
// Activity Log page with the filtered search's filter, timed until its last
// byte is read, alternating request by request with the API's own
// filtered search (search.filtered_p99_ms of this pairing); and the total
// size of the scripts and stylesheets the console's pages load, gzipped.
func consoleFigures(api *searchAPI, filtered *searchQuery, from, to string, n int, corpusNote string) []Figure {
	page := "/settings/activity-log?q=macbook&category=asset&date=custom&from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to)
	var console, search, facets, apiFacets []time.Duration
	pits := 0
	for i := range searchWarmup + n {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, side := range order {
			if side == 0 {
				d, closed := consolePage(api, filtered.osURL, page)
				pits += closed
				if i >= searchWarmup {
					console = append(console, d)
				}
			} else {
				d, _ := filtered.callPlatform(i, 0)
				if i >= searchWarmup {
					search = append(search, d)
				}
			}
		}
		// The facet counts the page loads after it has arrived, beside
		// the API's same search with its facets.
		for _, side := range order {
			if side == 0 {
				d := timedGet(api, page+"&facets=1", true)
				if i >= searchWarmup {
					facets = append(facets, d)
				}
			} else {
				d := timedGet(api, filtered.path(0, 0)+"&facets=true", false)
				if i >= searchWarmup {
					apiFacets = append(apiFacets, d)
				}
			}
		}
	}
	raw, gz, files := consoleAssets(api)
	c99, s99 := percentile(console, 99), percentile(search, 99)
	notes := corpusNote + fmt.Sprintf("GET %s on bin/fluxera api's console (same process, same session cookie as the API), the Activity Log page with the filtered search's filter (a word, the asset category, the corpus's last 30 days as a custom date range), "+
		"timed from the request until the last byte of the HTML is read; beside it, GET %s, the API's filtered search, alternating request by request with the page (the side going first alternating too), %d timed requests each after %d unmeasured ones. "+
		"The page's first page holds a point in time for its 'Show older entries' link when its next page needs one; the bench closes each once its request is timed (%d in all). "+
		"The page comes with its entries and filters; its facet counts (by user, action and resource) follow in a request of their own that htmx sends once the page has arrived, timed separately as console.activity_facets_p99_ms. Goal: p99 within 1.2× of the API's. p50: page %.1f ms, API %.1f ms",
		page, filtered.path(0, 0), n, searchWarmup, pits, ms(percentile(console, 50)), ms(percentile(search, 50)))
	f99, af99 := percentile(facets, 99), percentile(apiFacets, 99)
	facetNotes := corpusNote + fmt.Sprintf("GET %s&facets=1 with HX-Request: true, the facet counts the Activity Log page loads through htmx once it has arrived (the search with its aggregations by user, action and resource, the users named from the members), timed until the last byte; "+
		"beside it, GET %s&facets=true, the API's same search with its facets, alternating request by request, %d timed requests each after %d unmeasured ones, in the same loop as the page. p50: fragment %.1f ms, API %.1f ms",
		page, filtered.path(0, 0), n, searchWarmup, ms(percentile(facets, 50)), ms(percentile(apiFacets, 50)))
	assetNotes := fmt.Sprintf("Every script and stylesheet the console's pages (%s) load from /static, fetched from the running console and gzipped with Go's compress/gzip at the default level, one file at a time: %s; %.1f kB before gzip. Goal: under 250 kB.",
		strings.Join(consolePages, ", "), strings.Join(files, ", "), float64(raw)/1000)
	return []Figure{
		{Name: "console.activity_page_p99_ms", Value: ms(c99), Unit: "ms",
			Baseline: &Baseline{Name: "search.filtered_p99_ms", Value: ms(s99)}, Ratio: round2(ms(c99) / ms(s99)), Notes: notes},
		{Name: "console.activity_facets_p99_ms", Value: ms(f99), Unit: "ms",
			Baseline: &Baseline{Name: "api.activity_facets_p99_ms", Value: ms(af99)}, Ratio: round2(ms(f99) / ms(af99)), Notes: facetNotes},
		{Name: "console.assets_kb_gzip", Value: round(float64(gz) / 1000), Unit: "kB", Notes: assetNotes},
	}
}

// timedGet reads one answer of the API process whole, signed in as the
// bench's owner, as htmx asks for it when htmx is set, and returns how
// long it took.
func timedGet(api *searchAPI, path string, htmx bool) time.Duration {
	req := mustRequest(http.MethodGet, api.base+path, nil)
	req.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: api.token})
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	start := time.Now()
	res, err := api.client.Do(req)
	if err != nil {
		fatalf("GET %s: %v", path, err)
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	took := time.Since(start)
	if err != nil || res.StatusCode != http.StatusOK {
		fatalf("GET %s: status %d: %v", path, res.StatusCode, err)
	}
	return took
}

// consolePage reads one console page whole, signed in as the bench's
// owner, and returns how long it took and how many points in time it
// closed afterwards (the one its next page's cursor holds, if any).
func consolePage(api *searchAPI, osURL, path string) (time.Duration, int) {
	req := mustRequest(http.MethodGet, api.base+path, nil)
	req.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: api.token})
	start := time.Now()
	res, err := api.client.Do(req)
	if err != nil {
		fatalf("console %s: %v", path, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	if err != nil || res.StatusCode != http.StatusOK {
		fatalf("console %s: status %d: %v", path, res.StatusCode, err)
	}
	m := moreCursor.FindSubmatch(body)
	if m == nil {
		return took, 0
	}
	cursor, err := url.QueryUnescape(string(m[1]))
	if err != nil {
		return took, 0
	}
	pit := cursorPIT(cursor)
	if pit == "" {
		return took, 0
	}
	b, _ := json.Marshal(map[string]any{"pit_id": []string{pit}})
	del := mustRequest(http.MethodDelete, osURL+"/_search/point_in_time", bytes.NewReader(b))
	del.Header.Set("Content-Type", "application/json")
	mustDo(del)
	return took, 1
}

// consoleAssets fetches every script and stylesheet the console's pages
// load, each once, and returns their sizes before and after gzip and
// their paths.
func consoleAssets(api *searchAPI) (raw, gz int, files []string) {
	seen := map[string]bool{}
	for _, page := range consolePages {
		req := mustRequest(http.MethodGet, api.base+page, nil)
		req.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: api.token})
		res, err := api.client.Do(req)
		if err != nil {
			fatalf("console %s: %v", page, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			fatalf("console %s: status %d", page, res.StatusCode)
		}
		for _, m := range assetRef.FindAllSubmatch(body, -1) {
			seen[string(m[1])] = true
		}
	}
	for f := range seen {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		res, err := api.client.Get(api.base + f)
		if err != nil {
			fatalf("console asset %s: %v", f, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			fatalf("console asset %s: status %d", f, res.StatusCode)
		}
		raw += len(b)
		gz += gzipSize(b)
	}
	if len(files) == 0 {
		fatalf("console: no script or stylesheet found on %v", consolePages)
	}
	return raw, gz, files
}

// gzipSize returns the size of b gzipped at the default level.
func gzipSize(b []byte) int {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Len()
}
