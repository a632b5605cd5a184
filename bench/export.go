package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/searchapi"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// exportRun sizes the export figures.
type exportRun struct {
	entries int  // entries each export holds, at least; 0 skips the export figures
	corpus  int  // events of the kept search corpus the exports read
	rebuild bool // load the corpus again even when a complete one is there
	rounds  int  // exports of each kind, alternating with the others
}

// exportFigures measures exports of the measured workspace's newest days
// of the kept search corpus (see corpus.go), at least run.entries entries,
// through bin/fluxera api: NDJSON and CSV, each read in full by a plain
// net/http client, beside the same point-in-time scan sent straight to
// OpenSearch. The direct scan's requests are built by the search API's own
// code (searchapi/opensearch's ScanRequest: the same point in time, query,
// page size and search_after), posted with a plain net/http client, and
// each page decoded into the types the API decodes it into
// (DecodeScanPage). The three sides alternate, the one going first
// changing from round to round. The API process's peak resident memory
// over the exports is a figure of its own.
func exportFigures(e *env, run exportRun) []Figure {
	if run.entries <= 0 || run.corpus <= 0 {
		return nil
	}
	if most := run.corpus * corpusWorkspaces[0].share / 100; run.entries > most {
		fatalf("export: the corpus's measured workspace holds %d events, fewer than the %d asked for; ask for fewer (-export-entries) or a larger corpus (-search-events)", most, run.entries)
	}
	c := ensureCorpus(e, run.corpus, run.rebuild)
	api := startSearchAPI(e, c, "_export")
	settle(e.osURL)
	finder := searchos.NewFinder(nil, c.prefix) // builds requests; sends none
	days, from, to := exportPeriod(e, api, finder, run.entries)
	scan, err := finder.ScanRequest(api.principal, searchapi.EventFilter{From: from, To: to})
	if err != nil {
		fatalf("export: build the direct scan: %v", err)
	}
	x := &exportBench{e: e, api: api, scan: scan, query: "from=" + from + "&to=" + to,
		client: &http.Client{Timeout: 30 * time.Minute}}
	pid := api.pid
	idle := statusKB(pid, "VmRSS")

	sides := []string{"direct", "ndjson", "csv"}
	timings := map[string][]exportTiming{}
	rows := -1
	start := time.Now()
	for i := range max(1, run.rounds) {
		for k := range sides {
			side := sides[(i+k)%len(sides)]
			var t exportTiming
			if side == "direct" {
				t = x.direct()
			} else {
				t = x.platform(side)
			}
			if rows >= 0 && t.rows != rows {
				fatalf("export: %s gave %d entries, another side %d, for the same period", side, t.rows, rows)
			}
			rows = t.rows
			timings[side] = append(timings[side], t)
			fmt.Printf("bench: export %s of %d entries in %.1f s\n", side, t.rows, t.took.Seconds())
		}
	}
	took := time.Since(start)
	peak := statusKB(pid, "VmHWM")

	direct, ndjson, csvs := median(timings["direct"]), median(timings["ndjson"]), median(timings["csv"])
	notes := fmt.Sprintf("Corpus: the kept search corpus %s (%d events, %s this run; see the search figures). "+
		"Each export is GET /api/v1/activity/export?format=…&from=%s&to=%s, the measured workspace's last %d days before %s (%d entries), "+
		"on bin/fluxera api (the API role alone, on the corpus's prefix, signed in as the measured workspace's owner), read to its end by a plain net/http client that counts its lines. "+
		"The baseline is the same point-in-time scan straight from OpenSearch: the point in time opened, %d pages of %d entries with search_after, and closed, "+
		"the requests built by searchapi/opensearch's ScanRequest, posted with a plain net/http client and each page decoded with DecodeScanPage into the types the API decodes it into. "+
		"Rounds of the three: %d, the side going first changing from round to round (%.0f s in all); the medians are given. "+
		"Median wall time: direct %.1f s, NDJSON %.1f s (%.0f MB), CSV %.1f s (%.0f MB). "+
		"CPU time of the API process per export (utime+stime from /proc/<pid>/stat): NDJSON %.1f s, CSV %.1f s; the bench, on the same two cores, decodes only the direct side's pages.",
		c.prefix, c.events, map[bool]string{true: "reused", false: "built"}[c.reused], from, to, days, corpusEnd.Format(time.DateOnly), rows,
		direct.pages, searchos.ScanPageSize, max(1, run.rounds), took.Seconds(),
		direct.took.Seconds(), ndjson.took.Seconds(), float64(ndjson.bytes)/1e6, csvs.took.Seconds(), float64(csvs.bytes)/1e6,
		ndjson.cpu, csvs.cpu)
	baseline := &Baseline{Name: "direct.pit_scan_rows_per_s", Value: round(direct.rate())}
	return []Figure{
		{Name: "export.ndjson_rows_per_s", Value: round(ndjson.rate()), Unit: "rows/s", Baseline: baseline, Ratio: round2(ndjson.rate() / direct.rate()), Notes: notes},
		{Name: "export.csv_rows_per_s", Value: round(csvs.rate()), Unit: "rows/s", Baseline: baseline, Ratio: round2(csvs.rate() / direct.rate()), Notes: notes},
		{Name: "export.peak_rss_mb", Value: round(float64(peak) / 1024), Unit: "MB",
			Baseline: &Baseline{Name: "export.api_idle_rss_mb", Value: round(float64(idle) / 1024)}, Ratio: round2(float64(peak) / float64(idle)),
			Notes: notes + " The figure is the API process's VmHWM (/proc/<pid>/status) after every export of the run, the baseline its VmRSS when idle, signed in, before the first. Goal: under 100 MB, however many entries an export holds"},
	}
}

// exportPeriod returns the fewest whole days before corpusEnd whose
// entries of the measured workspace reach entries, and those days as
// from and to dates in the workspace's time zone, the last one included.
// The days are counted by the search API's own first-page request, posted
// straight to OpenSearch.
func exportPeriod(e *env, api *searchAPI, finder *searchos.Finder, entries int) (days int, from, to string) {
	last := corpusEnd.AddDate(0, 0, -1)
	period := func(d int) (string, string) {
		return last.AddDate(0, 0, 1-d).Format(time.DateOnly), last.Format(time.DateOnly)
	}
	count := func(d int) int64 {
		from, to := period(d)
		r := mustRequestOf(finder.FirstPageRequest(api.principal, searchapi.EventFilter{From: from, To: to, Limit: 1}))
		req := mustRequest(http.MethodPost, e.osURL+r.Path, bytes.NewReader(r.Body))
		req.Header.Set("Content-Type", "application/json")
		total, _, err := decodeDirect(mustResponse(api.directClient, req), searchos.DecodePageAnswer)
		if err != nil {
			fatalf("export: count the entries of %d days: %v", d, err)
		}
		return total
	}
	lo, hi := 1, corpusDays
	if count(hi) < int64(entries) {
		fatalf("export: the corpus's measured workspace has fewer than %d entries in its %d days", entries, corpusDays)
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if count(mid) >= int64(entries) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	from, to = period(lo)
	return lo, from, to
}

// exportBench is what the export figures send requests with.
type exportBench struct {
	e      *env
	api    *searchAPI
	scan   *searchos.ScanRequest
	query  string
	client *http.Client
}

// exportTiming is one export or direct scan: the entries it held, its
// wall time, the API process's CPU time meanwhile, the bytes read and the
// pages of the direct scan.
type exportTiming struct {
	rows  int
	took  time.Duration
	cpu   float64
	bytes int64
	pages int
}

func (t exportTiming) rate() float64 { return float64(t.rows) / t.took.Seconds() }

// median returns the timing of median wall time.
func median(ts []exportTiming) exportTiming {
	sorted := slices.Clone(ts)
	slices.SortFunc(sorted, func(a, b exportTiming) int { return cmp.Compare(a.took, b.took) })
	return sorted[len(sorted)/2]
}

// platform exports through the API in format and reads the file to its
// end, counting its lines: an NDJSON line is an entry, and a CSV has its
// header besides (the corpus's cells hold no line breaks).
func (x *exportBench) platform(format string) exportTiming {
	pid := x.api.pid
	req := mustRequest(http.MethodGet, x.api.base+"/api/v1/activity/export?format="+format+"&"+x.query, nil)
	req.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: x.api.token})
	cpu := cpuSeconds(pid)
	start := time.Now()
	res, err := x.client.Do(req)
	if err != nil {
		fatalf("export %s: %v", format, err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		fatalf("export %s: status %d: %s", format, res.StatusCode, b)
	}
	var t exportTiming
	buf := make([]byte, 64<<10)
	for {
		n, err := res.Body.Read(buf)
		t.bytes += int64(n)
		t.rows += bytes.Count(buf[:n], []byte{'\n'})
		if err == io.EOF {
			break
		}
		if err != nil {
			fatalf("export %s: read after %d bytes: %v", format, t.bytes, err)
		}
	}
	res.Body.Close()
	t.took = time.Since(start)
	t.cpu = cpuSeconds(pid) - cpu
	if format == "csv" {
		t.rows--
	}
	return t
}

// direct runs the export's scan straight against OpenSearch: opens the
// point in time, reads every page and decodes it as the API does, and
// closes the point in time.
func (x *exportBench) direct() exportTiming {
	osURL := x.e.osURL
	start := time.Now()
	var opened struct {
		PIT string `json:"pit_id"`
	}
	if err := json.NewDecoder(mustResponse(x.api.directClient, mustRequest(http.MethodPost, osURL+x.scan.OpenPath, nil))).Decode(&opened); err != nil || opened.PIT == "" {
		fatalf("direct scan: open a point in time: %v", err)
	}
	var t exportTiming
	var after []any
	for {
		body, err := x.scan.Page(opened.PIT, after)
		if err != nil {
			fatalf("direct scan: %v", err)
		}
		req := mustRequest(http.MethodPost, osURL+"/_search", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		raw, err := io.ReadAll(mustResponse(x.api.directClient, req))
		if err != nil {
			fatalf("direct scan: read a page: %v", err)
		}
		t.bytes += int64(len(raw))
		hits, last, err := searchos.DecodeScanPage(raw)
		if err != nil {
			fatalf("direct scan: %v", err)
		}
		t.rows += hits
		t.pages++
		if hits < searchos.ScanPageSize {
			break
		}
		after = last
	}
	b, _ := json.Marshal(map[string]any{"pit_id": []string{opened.PIT}})
	del := mustRequest(http.MethodDelete, osURL+"/_search/point_in_time", bytes.NewReader(b))
	del.Header.Set("Content-Type", "application/json")
	io.Copy(io.Discard, mustResponse(x.api.directClient, del))
	t.took = time.Since(start)
	return t
}

// mustResponse sends req and returns the body of its 200 answer, which the
// caller reads; the connection is reused once it is read to its end.
func mustResponse(client *http.Client, req *http.Request) io.Reader {
	res, err := client.Do(req)
	if err != nil {
		fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fatalf("%s %s: status %d: %.300s", req.Method, req.URL.Path, res.StatusCode, b)
	}
	return &closingReader{res.Body}
}

// closingReader closes its body once it is read to its end.
type closingReader struct{ body io.ReadCloser }

func (r *closingReader) Read(b []byte) (int, error) {
	n, err := r.body.Read(b)
	if err != nil {
		r.body.Close()
	}
	return n, err
}
