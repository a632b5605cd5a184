package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/servertiming"
	"github.com/fluxera/activity/searchapi"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// searchRun sizes the search figures.
type searchRun struct {
	events   int  // events in the corpus; 0 skips the search figures
	rebuild  bool // load the corpus again even when a complete one is there
	requests int  // timed requests of each query on each side
}

// searchWarmup is how many requests of each query each side sends before
// the timed ones: connections, caches and the JIT warm up, unmeasured.
const searchWarmup = 20

// historyMembers is how many members of the measured workspace the
// history pages go through, one after the other.
const historyMembers = 10

// searchFigures measures three reads of the search API over the kept
// corpus (see corpus.go), each beside the very same OpenSearch request
// sent straight to OpenSearch in the same run: a filtered full-text
// search, one page of a user's history and the heatmap.
//
// The API under test is bin/fluxera api, the API role alone, in a process
// of its own that reads the corpus's index prefix, on a schema of its own
// whose workspace has the id of the corpus's measured workspace; the bench
// is signed in as its owner. The baseline's requests are built by the
// search API's own code (searchapi/opensearch's FirstPageRequest and
// HeatmapRequest), posted with a plain net/http client, and their answers
// decoded into the same Go types the API decodes them into. The two sides
// alternate request by request, the side going first alternating too, so
// that both share the machine's noise.
func searchFigures(e *env, run searchRun) []Figure {
	if run.events <= 0 {
		return nil
	}
	c := ensureCorpus(e, run.events, run.rebuild)
	// The bench decodes every answer of both sides; collecting its own
	// garbage less often, it takes a core from the process it times less
	// often (both sides' alike).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	api := startSearchAPI(e, c, "_search")
	settle(e.osURL)
	// Every run starts from the same state: what an earlier run left in
	// OpenSearch's query, request and field data caches is dropped (the
	// request cache would otherwise answer this run's heatmaps from the
	// last run's).
	mustDo(mustRequest(http.MethodPost, e.osURL+"/"+activity.IndexPattern(c.prefix)+"/_cache/clear", nil))

	finder := searchos.NewFinder(nil, c.prefix) // builds requests; sends none
	loc := mustZone(c.measured.TimeZone)
	// The filtered search reads the corpus's last 30 days, as range=30d
	// would on its last day: from and to are dates in the workspace's time
	// zone, the last one included.
	last := corpusEnd.AddDate(0, 0, -1)
	from30, to30 := last.AddDate(0, 0, -29).Format(time.DateOnly), last.Format(time.DateOnly)
	filtered := &searchQuery{
		name: "filtered", api: api, osURL: e.osURL,
		path: func(int, int) string {
			return "/api/v1/activity?q=macbook&category=asset&from=" + from30 + "&to=" + to30 + "&limit=50"
		},
		request: func(int, int) searchos.Request {
			return mustRequestOf(finder.FirstPageRequest(api.principal, searchapi.EventFilter{
				Query: "macbook", Categories: []string{"asset"}, From: from30, To: to30, Limit: 50,
			}))
		},
		decode: decodePage, decodeDirect: decodeHits,
	}
	// History pages go through the members, the same member on both sides
	// of a pair.
	history := &searchQuery{
		name: "history", api: api, osURL: e.osURL,
		path: func(i, _ int) string {
			return "/api/v1/users/" + c.measured.Members[1+i%historyMembers].ID + "/activity?limit=50"
		},
		request: func(i, _ int) searchos.Request {
			return mustRequestOf(finder.FirstPageRequest(api.principal, searchapi.EventFilter{
				Actor: c.measured.Members[1+i%historyMembers].ID, Limit: 50,
			}))
		},
		decode: decodePage, decodeDirect: decodeHits,
	}
	// The heatmap reads 90 days. OpenSearch's shard request cache answers a
	// repeated size-0 search from memory, so every request ends a minute
	// earlier than the one before (each side its own minutes) and is
	// computed over the data.
	window := func(i, side int) (string, string) {
		to := corpusEnd.Add(-time.Duration(2*i+side) * time.Minute).UTC()
		return to.AddDate(0, 0, -90).Format(time.RFC3339), to.Format(time.RFC3339)
	}
	heatmap := &searchQuery{
		name: "heatmap", api: api, osURL: e.osURL,
		path: func(i, side int) string {
			from, to := window(i, side)
			return "/api/v1/analytics/heatmap?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to)
		},
		request: func(i, side int) searchos.Request {
			from, to := window(i, side)
			period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{From: from, To: to}, time.Now(), loc)
			if err != nil {
				fatalf("heatmap period: %v", err)
			}
			return mustRequestOf(finder.HeatmapRequest(api.principal, searchapi.AnalyticsFilter{Period: period}))
		},
		decode: decodeHeatmap, decodeDirect: decodeHeatmapHits,
	}

	queries := []*searchQuery{filtered, history, heatmap}
	for _, q := range queries {
		q.check()
	}
	start := time.Now()
	for _, q := range queries {
		q.measure(run.requests)
	}
	timed := time.Since(start)

	corpusNote := fmt.Sprintf("Corpus: %d events of ingest/synthetic's workspace histories over the %d days before %s (members' working sessions on their own hours: logins, failed logins, asset edits and assignments, license seats, key views, exports, logouts), "+
		"%d%% of them in the measured workspace (%d members, %d assets, %d licenses, Europe/Berlin), the rest in %d other workspaces in the same indices; "+
		"indexed with the indexer's document code and force-merged to one segment per index (%d monthly indices, %.1f GB); built %s at %s (%.0f s of loading, %.0f s of merging) and kept between runs under the index prefix %s (%s this run); OpenSearch's caches of these indices are cleared before each run. ",
		c.events, corpusDays, corpusEnd.Format(time.DateOnly), corpusWorkspaces[0].share, corpusWorkspaces[0].members, corpusWorkspaces[0].assets, corpusWorkspaces[0].licenses,
		len(corpusWorkspaces)-1, c.meta.Indices, float64(c.meta.StoreBytes)/1e9, c.meta.Built, c.meta.Commit, c.meta.LoadSeconds, c.meta.MergeSecs, c.prefix, map[bool]string{true: "reused", false: "built"}[c.reused])
	sides := fmt.Sprintf("%d timed requests per side after %d unmeasured ones, platform and direct alternating request by request (the side going first alternating too), one at a time on keep-alive connections, the bench collecting its own garbage less often than Go's default (GOGC=400), as the API does; the three queries took %.0f s in all. "+
		"The figure is GET on bin/fluxera api (the API role alone, on the corpus's prefix, signed in as the measured workspace's owner with a session cookie), timed until its answer is read in full; "+
		"the baseline is the same OpenSearch request the API sends, built by searchapi/opensearch's own code (FirstPageRequest, HeatmapRequest), POSTed straight to OpenSearch with a plain net/http client and timed until its answer is decoded into the Go types the API decodes it into. ",
		run.requests, searchWarmup, timed.Seconds())
	var figures []Figure
	for _, q := range queries {
		figures = append(figures, q.figures(corpusNote+sides+q.notes(c.meta.Indices))...)
	}
	figures = append(figures, exchangeFigure(api, e.osURL, run.requests))
	// The console's Activity Log page, beside the API's filtered search in
	// the same run, and the console's scripts and stylesheets.
	figures = append(figures, consoleFigures(api, filtered, from30, to30, run.requests, corpusNote)...)
	return figures
}

// exchangeFigure times the API's smallest signed-in request, GET
// /api/v1/me, beside OpenSearch's smallest, GET /, alternating as the
// search figures do: what one more HTTP exchange on the loopback costs
// through each server, with no search in it. The search figures' platform
// side holds one exchange more than their direct side. The figure sends
// the requests back to back; its notes also time them each after 3 ms
// idle, about what a search leaves between a process's request and its
// answer, for the processes' threads are then asleep and must be woken.
func exchangeFigure(api *searchAPI, osURL string, n int) Figure {
	call := func(client *http.Client, req *http.Request, idle time.Duration) time.Duration {
		time.Sleep(idle)
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			fatalf("exchange: %v", err)
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			fatalf("exchange: GET %s: status %d (%v)", req.URL, res.StatusCode, err)
		}
		return time.Since(start)
	}
	measure := func(idle time.Duration) (platform, direct []time.Duration) {
		for i := range searchWarmup + n {
			me := mustRequest(http.MethodGet, api.base+"/api/v1/me", nil)
			me.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: api.token})
			root := mustRequest(http.MethodGet, osURL+"/", nil)
			var p, d time.Duration
			if i%2 == 0 {
				p, d = call(api.client, me, idle), call(api.directClient, root, idle)
			} else {
				d, p = call(api.directClient, root, idle), call(api.client, me, idle)
			}
			if i >= searchWarmup {
				platform, direct = append(platform, p), append(direct, d)
			}
		}
		return platform, direct
	}
	platform, direct := measure(0)
	idlePlatform, idleDirect := measure(3 * time.Millisecond)
	p99, d99 := msFine(percentile(platform, 99)), msFine(percentile(direct, 99))
	return Figure{
		Name: "search.exchange_p99_ms", Value: p99, Unit: "ms",
		Baseline: &Baseline{Name: "direct.exchange_p99_ms", Value: d99}, Ratio: round2(p99 / d99),
		Notes: fmt.Sprintf("GET /api/v1/me on the search figures' bin/fluxera api (signed in with the session cookie: the same middleware as a search, no search) beside GET / on OpenSearch, %d timed requests per side after %d unmeasured ones, alternating, on keep-alive connections, each timed until its answer is read; p50 %.2f ms against %.2f ms. "+
			"Every search figure's platform side makes this exchange and then the direct side's request, so this is about what the API adds to a search when it adds no work of its own. "+
			"Sent each after 3 ms idle, as a search leaves the processes between a request and its answer (their threads asleep, to be woken): p50 %.2f ms against %.2f ms, p99 %.2f ms against %.2f ms. No goal: it says how much of the searches' 1.1 the exchange takes",
			n, searchWarmup, msFine(percentile(platform, 50)), msFine(percentile(direct, 50)),
			msFine(percentile(idlePlatform, 50)), msFine(percentile(idleDirect, 50)), msFine(percentile(idlePlatform, 99)), msFine(percentile(idleDirect, 99))),
	}
}

// msFine is d in milliseconds to the hundredth, for figures well under
// one.
func msFine(d time.Duration) float64 { return round2(float64(d.Microseconds()) / 1000) }

// searchQuery is one read measured on both sides. For the i-th pair of
// requests, path is what the platform is asked and request what is posted
// straight to OpenSearch; side is 0 for the platform and 1 for the direct
// request, for queries whose requests must differ from side to side.
type searchQuery struct {
	name    string
	api     *searchAPI
	osURL   string
	path    func(i, side int) string
	request func(i, side int) searchos.Request
	// decode reads the API's answer, decodeDirect OpenSearch's; both
	// return the total they report, decode the next page's cursor and
	// decodeDirect OpenSearch's own time.
	decode       func([]byte) (total int64, cursor string, err error)
	decodeDirect func(io.Reader) (total int64, took int, err error)

	platform, direct []time.Duration
	took             []time.Duration // OpenSearch's own "took" of the direct requests
	clientDecode     []time.Duration // decoding the API's answers, after they were timed
	split            timingSplit     // the platform's requests, split by their Server-Timing
	total            int64
	pits             int // points in time the platform's first pages opened, closed by the bench
}

// check sends the same request through both sides and fails unless they
// count the same entries, and unless they find some.
func (q *searchQuery) check() {
	_, pt := q.callPlatform(0, 0)
	_, dt := q.callDirect(0, 0)
	if pt != dt || pt == 0 {
		fatalf("search %s: the platform counts %d entries, OpenSearch %d for the same request", q.name, pt, dt)
	}
	q.total = pt
	fmt.Printf("bench: search %s matches %d entries\n", q.name, pt)
}

// measure sends searchWarmup unmeasured pairs of requests, then n timed
// ones.
func (q *searchQuery) measure(n int) {
	for i := range searchWarmup + n {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, side := range order {
			if side == 0 {
				d, _ := q.callPlatform(i, side)
				if i >= searchWarmup {
					q.platform = append(q.platform, d)
				}
			} else {
				d, _ := q.callDirect(i, side)
				if i >= searchWarmup {
					q.direct = append(q.direct, d)
				}
			}
		}
	}
}

// callPlatform asks the API and returns how long it took and the total
// it answered. A first page that has a next one holds a point in time
// open in OpenSearch for the cursor's lifetime; the bench closes it once
// the request is timed, as nothing reads the next page.
func (q *searchQuery) callPlatform(i, side int) (time.Duration, int64) {
	req := mustRequest(http.MethodGet, q.api.base+q.path(i, side), nil)
	req.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: q.api.token})
	start := time.Now()
	res, err := q.api.client.Do(req)
	if err != nil {
		fatalf("search %s: %v", q.name, err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		fatalf("search %s: GET %s: status %d: %s", q.name, req.URL, res.StatusCode, b)
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	if err != nil {
		fatalf("search %s: read the API's answer: %v", q.name, err)
	}
	if i >= searchWarmup {
		q.split.add(took, res.Header.Get("Server-Timing"))
	}
	start = time.Now()
	total, cursor, err := q.decode(raw)
	if err != nil {
		fatalf("search %s: decode the API's answer: %v", q.name, err)
	}
	if i >= searchWarmup {
		q.clientDecode = append(q.clientDecode, time.Since(start))
	}
	if pit := cursorPIT(cursor); pit != "" {
		q.pits++
		b, _ := json.Marshal(map[string]any{"pit_id": []string{pit}})
		del := mustRequest(http.MethodDelete, q.osURL+"/_search/point_in_time", bytes.NewReader(b))
		del.Header.Set("Content-Type", "application/json")
		mustDo(del)
	}
	return took, total
}

// callDirect posts the request straight to OpenSearch and returns how
// long it took and the total it found.
func (q *searchQuery) callDirect(i, side int) (time.Duration, int64) {
	r := q.request(i, side)
	req := mustRequest(http.MethodPost, q.osURL+r.Path, bytes.NewReader(r.Body))
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := q.api.directClient.Do(req)
	if err != nil {
		fatalf("direct search %s: %v", q.name, err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		fatalf("direct search %s: status %d: %s", q.name, res.StatusCode, b)
	}
	total, tookMS, err := q.decodeDirect(res.Body)
	res.Body.Close()
	took := time.Since(start)
	if err != nil {
		fatalf("direct search %s: decode OpenSearch's answer: %v", q.name, err)
	}
	if i >= searchWarmup {
		q.took = append(q.took, time.Duration(tookMS)*time.Millisecond)
	}
	return took, total
}

// figures returns the p50 and p99 figures of the query.
func (q *searchQuery) figures(notes string) []Figure {
	p50, p99 := percentile(q.platform, 50), percentile(q.platform, 99)
	d50, d99 := percentile(q.direct, 50), percentile(q.direct, 99)
	notes += fmt.Sprintf("Goal: p99 within 1.1× of the direct query. Max: platform %.1f ms, direct %.1f ms. OpenSearch's own took of the direct requests: p50 %.0f ms, p99 %.0f ms. Decoding the API's answer took the bench another %.1f ms at p50, not counted",
		ms(percentile(q.platform, 100)), ms(percentile(q.direct, 100)), ms(percentile(q.took, 50)), ms(percentile(q.took, 99)), ms(percentile(q.clientDecode, 50)))
	notes += ". " + q.split.note()
	return []Figure{
		{Name: "search." + q.name + "_p50_ms", Value: ms(p50), Unit: "ms",
			Baseline: &Baseline{Name: "direct." + q.name + "_p50_ms", Value: ms(d50)}, Ratio: round2(ms(p50) / ms(d50)), Notes: notes},
		{Name: "search." + q.name + "_p99_ms", Value: ms(p99), Unit: "ms",
			Baseline: &Baseline{Name: "direct." + q.name + "_p99_ms", Value: ms(d99)}, Ratio: round2(ms(p99) / ms(d99)), Notes: notes},
	}
}

// pitNote says what the platform's first pages did with points in time.
const pitNote = "A first page opens no point in time: its cursor holds the last entry's sort values, and the point in time over every monthly index is opened when the next page is asked for; " +
	"the bench would close any a first page held once its request is timed (%d in all), since OpenSearch keeps at most 300 open point-in-time contexts per node, one per shard, " +
	"and those of a couple of dozen pages over these %d indices, left to their 5-minute cursor lifetime, would make the next ones fail. "

// notes describes the query.
func (q *searchQuery) notes(indices int) string {
	switch q.name {
	case "filtered":
		return fmt.Sprintf("Query: GET %s, a word of the asset names, in the asset category, over the corpus's last 30 days given as dates in the workspace's time zone (%d matching entries, 50 per page). "+pitNote,
			q.path(0, 0), q.total, q.pits, indices)
	case "history":
		return fmt.Sprintf("Query: GET /api/v1/users/{id}/activity?limit=50, the newest page of a member's history, going through %d members of the measured workspace in turn (%d entries for the first). "+pitNote,
			historyMembers, q.total, q.pits, indices)
	}
	return fmt.Sprintf("Query: GET /api/v1/analytics/heatmap?from=…&to=… over 90 days (%d entries for the first period): one size-0 _search with a terms aggregation by day of week and hour of day. "+
		"Each request's period ends a minute before the last one's, each side its own minutes, so that OpenSearch's shard request cache, which keeps the answers of size-0 searches, never answers and every heatmap is computed over the data. ", q.total)
}

// searchAPI is the platform under test and the bench's clients.
type searchAPI struct {
	base, token  string
	pid          int // the API process
	principal    activity.Principal
	client       *http.Client // to the API
	directClient *http.Client // straight to OpenSearch (see directTransport)
}

// directTransport is the transport of the requests sent straight to
// OpenSearch. It asks for answers uncompressed, as the search API does:
// Go's default transport would ask for gzip, and the baseline would pay
// OpenSearch's compression and its own inflating, which the platform does
// not.
func directTransport() *http.Transport {
	return &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 5 * time.Minute, DisableCompression: true}
}

// startSearchAPI starts bin/fluxera api on the corpus's index prefix and a
// schema of its own (the run's schema with suffix), gives that schema the
// corpus's measured workspace, and signs in as its owner.
func startSearchAPI(e *env, c corpus, suffix string) *searchAPI {
	cfg := e.dbcfg
	cfg.Schema += suffix
	cmd, base := startAPI(e, cfg, slices.Concat(weakArgon2Env, []string{"FLUXERA_INDEX_PREFIX=" + c.prefix, "FLUXERA_LOG_LEVEL=warn"})...)
	api := &searchAPI{
		base:         base,
		pid:          cmd.Process.Pid,
		client:       &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 5 * time.Minute}},
		directClient: &http.Client{Timeout: time.Minute, Transport: directTransport()},
	}

	db, err := postgres.Open(cfg)
	if err != nil {
		fatalf("%v", err)
	}
	defer db.Close()
	ctx := context.Background()
	email, password := "bench-search-"+e.id+"@example.com", "bench-password"
	hasher := argon2.Hasher{Params: weakArgon2}
	ws, owner, err := postgres.NewWorkspaceService(db, hasher).CreateWorkspace(ctx, domain.WorkspaceSetup{
		Name: corpusWorkspaces[0].name, TimeZone: c.measured.TimeZone, OwnerEmail: email, OwnerName: "Bench Owner", OwnerPassword: password,
	})
	if err != nil {
		fatalf("%v", err)
	}
	adoptCorpusWorkspace(ctx, db, ws.ID, owner.ID, c)

	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res, err := http.Post(api.base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil || res.StatusCode != http.StatusOK {
		fatalf("sign in to the search API: %v", err)
	}
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == domainhttp.SessionCookie {
			api.token = ck.Value
		}
	}
	if api.token == "" {
		fatalf("no session cookie from the search API")
	}
	api.principal = activity.Principal{WorkspaceID: c.measured.ID, UserID: owner.ID, Email: owner.Email, Name: owner.Name,
		Role: activity.RoleOwner, Type: activity.ActorUser, TimeZone: c.measured.TimeZone}
	return api
}

// adoptCorpusWorkspace gives the workspace just created, with its owner,
// the id of the corpus's measured workspace, and adds the corpus's members
// as its users, so that the kept corpus is this fresh schema's history.
// Rows are copied with only their ids and names changed, whatever other
// columns the tables have.
func adoptCorpusWorkspace(ctx context.Context, db *postgres.DB, created, ownerID string, c corpus) {
	var ids, emails, names, roles []string
	for _, m := range c.measured.Members {
		ids, emails, names, roles = append(ids, m.ID), append(emails, m.Email), append(names, m.Name), append(roles, m.Role)
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, stmt := range []struct {
			query string
			args  []any
		}{
			{`INSERT INTO workspaces SELECT (jsonb_populate_record(w, jsonb_build_object('id', ?::uuid))).* FROM workspaces w WHERE w.id = ?`, []any{c.measured.ID, created}},
			{`UPDATE users SET workspace_id = ? WHERE workspace_id = ?`, []any{c.measured.ID, created}},
			{`UPDATE sessions SET workspace_id = ? WHERE workspace_id = ?`, []any{c.measured.ID, created}},
			{`DELETE FROM workspaces WHERE id = ?`, []any{created}},
			{`INSERT INTO users SELECT (jsonb_populate_record(u, jsonb_build_object('id', m.id, 'email', m.email, 'name', m.name, 'role', m.role))).*
			  FROM users u, unnest(?::uuid[], ?::text[], ?::text[], ?::text[]) AS m(id, email, name, role) WHERE u.id = ?`,
				[]any{pgdialect.Array(ids), pgdialect.Array(emails), pgdialect.Array(names), pgdialect.Array(roles), ownerID}},
		} {
			if _, err := tx.ExecContext(ctx, stmt.query, stmt.args...); err != nil {
				return fmt.Errorf("%s: %w", strings.Fields(stmt.query)[0], err)
			}
		}
		return nil
	})
	if err != nil {
		fatalf("give the bench workspace the corpus's id: %v", err)
	}
}

func waitReadyAt(base string, wait time.Duration) {
	deadline := time.Now().Add(wait)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			fatalf("%s did not become ready", base)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustRequestOf(r searchos.Request, err error) searchos.Request {
	if err != nil {
		fatalf("build the direct request: %v", err)
	}
	return r
}

// cursorPIT returns the point in time a cursor reads, "" without one. A
// cursor is its JSON, base64, a dot and its signature.
func cursorPIT(cursor string) string {
	body, _, ok := strings.Cut(cursor, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return ""
	}
	var c struct {
		PIT string `json:"p"`
	}
	json.Unmarshal(raw, &c)
	return c.PIT
}

// Answers are read whole, then decoded, as the finder reads OpenSearch's.
// The API's are decoded after they were timed: the API's work is done
// once its answer is read.

func decodePage(raw []byte) (int64, string, error) {
	var page searchapi.EventPage
	err := json.Unmarshal(raw, &page)
	return page.Total, page.NextCursor, err
}

func decodeHeatmap(raw []byte) (int64, string, error) {
	var h searchapi.Heatmap
	err := json.Unmarshal(raw, &h)
	return h.Total, "", err
}

// decodeHits reads a search answer as the finder reads one.
func decodeHits(r io.Reader) (int64, int, error) {
	return decodeDirect(r, searchos.DecodePageAnswer)
}

// decodeHeatmapHits reads a heatmap answer as the finder reads one.
func decodeHeatmapHits(r io.Reader) (int64, int, error) {
	return decodeDirect(r, searchos.DecodeHeatmapAnswer)
}

// decodeDirect reads an OpenSearch answer whole, as the finder does, and
// decodes it with the finder's own decoder.
func decodeDirect(r io.Reader, decode func([]byte) (searchos.Answer, error)) (int64, int, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return 0, 0, err
	}
	a, err := decode(raw)
	return a.Total, a.Took, err
}

// timingSplit splits the platform's requests by the API's Server-Timing
// header: the API's whole time (app), its exchanges with OpenSearch
// (search) and its decoding of their answers (decode), and what is left
// of the bench's own time outside the API.
type timingSplit struct {
	search, decode, own, outside []time.Duration
}

// add records one request the bench timed at took, whose answer had the
// Server-Timing header header.
func (s *timingSplit) add(took time.Duration, header string) {
	m := serverTimings(header)
	app, ok := m[servertiming.App]
	if !ok {
		fatalf("the search API's answer has no Server-Timing %s metric: %q", servertiming.App, header)
	}
	search, decode := m[servertiming.Search], m[servertiming.Decode]
	s.search = append(s.search, search)
	s.decode = append(s.decode, decode)
	s.own = append(s.own, app-search-decode)
	s.outside = append(s.outside, took-app)
}

// note says where the platform's time went, at p50 and p99 of each share.
func (s *timingSplit) note() string {
	at := func(ds []time.Duration) string {
		return fmt.Sprintf("%.2f/%.2f", msFine(percentile(ds, 50)), msFine(percentile(ds, 99)))
	}
	return fmt.Sprintf("The platform's requests split by the API's Server-Timing header, p50/p99 in ms of each share: OpenSearch (the search sent and its answer read) %s, decoding its answer %s, "+
		"the API's own work (middleware, checks, building the request, encoding the page) %s, and outside the API (the bench's request read and the answer written to the bench and read, processes woken) %s",
		at(s.search), at(s.decode), at(s.own), at(s.outside))
}

// serverTimings reads a Server-Timing header's metrics and durations.
func serverTimings(header string) map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, metric := range strings.Split(header, ",") {
		parts := strings.Split(strings.TrimSpace(metric), ";")
		for _, p := range parts[1:] {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "dur="); ok {
				if ms, err := strconv.ParseFloat(v, 64); err == nil {
					m[parts[0]] = time.Duration(ms * float64(time.Millisecond))
				}
			}
		}
	}
	return m
}
