package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/ingest/synthetic"
)

// The search figures read a corpus of workspace histories that is kept in
// OpenSearch between runs on purpose: loading millions of events takes
// longer than the rest of the bench, and a corpus loaded once, merged and
// left alone makes one run comparable with the next. It lives under an
// index prefix of its own that names the corpus's version and size, so
// that a run reuses it only when it holds what this code would load.

// corpusVersion is the version of what the corpus holds. Bump it whenever
// the workspaces below, the history generator (ingest/synthetic) or the
// document code (ingest.NewDocument, enrichment, the mapping) change what
// would be indexed: the next run then builds a corpus of its own instead of
// reusing one that no longer matches.
const corpusVersion = 3

// corpusEnd is when the corpus's history ends, midnight in the measured
// workspace's time zone. It is fixed so that a corpus stays valid however
// old it gets; the queries give their periods relative to it, with from
// and to, rather than as ranges ending today.
var corpusEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, mustZone("Europe/Berlin"))

// corpusDays is how far back the corpus's history goes.
const corpusDays = 365

// corpusWorkspace is one workspace of the corpus: its share of the events,
// its time zone and how many members, assets and licenses it has.
type corpusWorkspace struct {
	name                      string
	timeZone                  string
	share                     int // percent of the corpus's events
	members, assets, licenses int
}

// corpusWorkspaces are the corpus's workspaces. The first is the measured
// one: the API's caller is its owner. The others share the same indices,
// so that every query has the workspace filter to apply.
var corpusWorkspaces = []corpusWorkspace{
	{"Measured Works", "Europe/Berlin", 70, 500, 4000, 24},
	{"Eastern Freight", "America/New_York", 10, 150, 1200, 12},
	{"Kansai Labs", "Asia/Tokyo", 10, 150, 1200, 12},
	{"Open Orbit", "UTC", 10, 150, 1200, 12},
}

// corpusNamespace makes the corpus's ids: the same workspace, member,
// asset and license ids in every run, so that a fresh schema can give its
// workspace and users the ids the kept corpus was made with.
var corpusNamespace = uuid.MustParse("5f0c8d1e-2b7a-4c39-9e46-b1d2a3c4e5f6")

func corpusID(kind string, ws, i int) string {
	return uuid.NewSHA1(corpusNamespace, fmt.Appendf(nil, "v%d/%s/%d/%d", corpusVersion, kind, ws, i)).String()
}

var (
	corpusFirstNames = []string{"Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia",
		"Anita", "John", "Katherine", "Edsger", "Hedy", "Donald", "Sophie", "Tim", "Joan", "Niklaus",
		"Mary", "Bjarne", "Adele", "Guido", "Evelyn", "James", "Jean", "Leslie", "Lynn", "Robert"}
	corpusLastNames = []string{"Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Turing", "Perlman",
		"Borg", "Backus", "Johnson", "Dijkstra", "Lamarr", "Knuth", "Wilson", "Berners-Lee", "Clarke", "Wirth",
		"Keller", "Stroustrup", "Goldberg", "Rossum", "Berezin", "Gosling", "Sammet", "Lamport", "Conway", "Tarjan"}
	corpusModels = []string{"MacBook Pro 14", "MacBook Air 13", "ThinkPad X1 Carbon", "Dell XPS 15", "Dell UltraSharp U2723QE",
		"LG 27UP850", "iPhone 15", "Pixel 8", "iPad Air", "Logitech MX Keys", "Jabra Evolve2 75", "Cisco Meraki MR46"}
	corpusLicenses = []string{"Microsoft 365 E3", "Adobe Creative Cloud", "Figma Organization", "JetBrains All Products", "Slack Business+",
		"Zoom Business", "Atlassian Jira", "Atlassian Confluence", "GitHub Enterprise", "1Password Business", "Miro Business", "Notion Plus",
		"Salesforce Sales Cloud", "DocuSign Business", "Tableau Creator", "AutoCAD", "SketchUp Pro", "Camtasia", "Snagit", "Postman Enterprise",
		"Datadog Pro", "PagerDuty Business", "Sentry Business", "Zendesk Suite"}
)

// workspace returns the corpus's workspace w with its members, assets and
// licenses, all with fixed ids and plausible names.
func (c corpusWorkspace) workspace(w int) synthetic.Workspace {
	rnd := rand.New(rand.NewPCG(uint64(corpusVersion), uint64(w)))
	ws := synthetic.Workspace{ID: corpusID("workspace", w, 0), TimeZone: c.timeZone}
	domain := strings.ToLower(strings.ReplaceAll(c.name, " ", "")) + ".example"
	for i := range c.members {
		first, last := corpusFirstNames[rnd.IntN(len(corpusFirstNames))], corpusLastNames[rnd.IntN(len(corpusLastNames))]
		role := activity.RoleMember
		if i < c.members/50 {
			role = activity.RoleAdmin
		}
		ws.Members = append(ws.Members, activity.Actor{
			ID: corpusID("user", w, i), Name: first + " " + last, Role: role, Type: activity.ActorUser,
			Email: strings.ToLower(fmt.Sprintf("%s.%s%d@%s", first, strings.ReplaceAll(last, "-", ""), i, domain)),
		})
	}
	for i := range c.assets {
		ws.Assets = append(ws.Assets, activity.Resource{Type: "asset", ID: corpusID("asset", w, i),
			Name: fmt.Sprintf("%s A-%05d", corpusModels[rnd.IntN(len(corpusModels))], 10000+i)})
	}
	for i := range c.licenses {
		ws.Licenses = append(ws.Licenses, activity.Resource{Type: "license", ID: corpusID("license", w, i),
			Name: corpusLicenses[i%len(corpusLicenses)]})
	}
	return ws
}

// corpus is a loaded corpus: where it is and what it holds.
type corpus struct {
	prefix   string
	events   int
	measured synthetic.Workspace
	meta     corpusMeta
	reused   bool
}

// corpusMeta is written beside the corpus once it is complete: a corpus
// without it was interrupted and is loaded again.
type corpusMeta struct {
	Version     int     `json:"version"`
	Events      int     `json:"events"`
	End         string  `json:"end"`
	Days        int     `json:"days"`
	Built       string  `json:"built"`
	Commit      string  `json:"commit"`
	LoadSeconds float64 `json:"load_seconds"`
	MergeSecs   float64 `json:"merge_seconds"`
	Indices     int     `json:"indices"`
	StoreBytes  int64   `json:"store_bytes"`
}

func corpusPrefix(events int) string {
	return fmt.Sprintf("benchcorpus-v%d-%d", corpusVersion, events)
}

// metaIndex holds the corpus's corpusMeta; its name is outside the
// corpus's index pattern, so no search of the corpus reads it.
func metaIndex(prefix string) string { return prefix + "-meta" }

// ensureCorpus returns the corpus of events events, loading it unless a
// complete one of this version and size is there already, or when rebuild
// is set.
func ensureCorpus(e *env, events int, rebuild bool) corpus {
	c := corpus{prefix: corpusPrefix(events), events: events, measured: corpusWorkspaces[0].workspace(0)}
	if !rebuild {
		if meta, ok := readCorpusMeta(e.osURL, c.prefix); ok && meta.Version == corpusVersion && meta.Events == events &&
			meta.End == corpusEnd.Format(time.RFC3339) && countDocs(e.osURL, activity.IndexAlias(c.prefix)) == events {
			c.meta, c.reused = meta, true
			fmt.Printf("bench: reusing the search corpus %s (%d events, built %s at %s)\n", c.prefix, events, meta.Built, meta.Commit)
			return c
		}
	}
	if rebuild {
		deleteIndices(e.osURL, c.prefix)
		deletePath(e.osURL, "/"+metaIndex(c.prefix))
	}
	// A corpus of an earlier version is never read again: its indices
	// would only take the node's disk and heap.
	for v := 1; v < corpusVersion; v++ {
		old := fmt.Sprintf("benchcorpus-v%d-%d", v, events)
		deleteIndices(e.osURL, old)
		deletePath(e.osURL, "/"+metaIndex(old))
	}
	// Without its description, a corpus is loaded (again): its events and
	// their ids are the same from run to run, so the events an interrupted
	// load stored are refused as stored already and the load resumes.
	fmt.Printf("bench: loading the search corpus %s (%d events, %d there already); it is kept for later runs\n",
		c.prefix, events, countDocs(e.osURL, activity.IndexAlias(c.prefix)))
	c.meta = loadCorpus(e, c.prefix, events)
	putJSON(e.osURL, "/"+metaIndex(c.prefix), map[string]any{"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0}})
	putJSON(e.osURL, "/"+metaIndex(c.prefix)+"/_doc/corpus?refresh=true", c.meta)
	return c
}

// loadCorpus indexes the corpus's events with the direct bulk loader —
// the indexer's own document code, batch size and requests in flight —
// with refreshes off while it loads; then it turns refreshes back on as
// the platform's template has them, and merges every index down to one
// segment, so that every run reads the same layout.
func loadCorpus(e *env, prefix string, events int) corpusMeta {
	cfg := ingest.Config{
		BatchSize:  envInt("FLUXERA_INGEST_BATCH_SIZE", 0),
		BatchBytes: envInt("FLUXERA_INGEST_BATCH_BYTES", 0),
		Workers:    envInt("FLUXERA_INGEST_WORKERS", 0),
	}
	if err := cfg.Validate(); err != nil {
		fatalf("%v", err)
	}
	osCfg := ingestos.Config{
		URLs:            []string{e.osURL},
		IndexPrefix:     prefix,
		Shards:          envInt("FLUXERA_INDEX_SHARDS", 0),
		Replicas:        envInt("FLUXERA_INDEX_REPLICAS", 0),
		RefreshInterval: getenv("FLUXERA_INDEX_REFRESH_INTERVAL", ""),
	}
	if err := osCfg.Validate(); err != nil {
		fatalf("%v", err)
	}
	osc, err := ingestos.NewClient(osCfg)
	if err != nil {
		fatalf("%v", err)
	}
	loading := osCfg
	loading.RefreshInterval = "-1"
	if err := ingestos.EnsureTemplate(context.Background(), osc, loading); err != nil {
		fatalf("install the corpus's template: %v", err)
	}

	loader := newBulkLoader(e.osURL, prefix, cfg)
	loader.client.Timeout = 5 * time.Minute
	loader.patience = 10 * time.Minute // a restart of OpenSearch does not end the load
	batches := make(chan []domain.OutboxMessage, 2*cfg.Workers)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				loader.index(b)
			}
		}()
	}
	start, reported := time.Now(), time.Now()
	generateCorpus(events, cfg, func(b []domain.OutboxMessage, done int) {
		batches <- b
		if time.Since(reported) > 30*time.Second {
			fmt.Printf("bench: corpus %d of %d events (%.0f/s)\n", done, events, float64(done)/time.Since(start).Seconds())
			reported = time.Now()
		}
	})
	close(batches)
	wg.Wait()
	loaded := time.Since(start)

	if err := ingestos.EnsureTemplate(context.Background(), osc, osCfg); err != nil {
		fatalf("restore the corpus's template: %v", err)
	}
	putJSON(e.osURL, "/"+activity.IndexPattern(prefix)+"/_settings", map[string]any{"index": map[string]any{"refresh_interval": osCfg.RefreshInterval}})
	alias := activity.IndexAlias(prefix)
	mustDo(mustRequest(http.MethodPost, e.osURL+"/"+alias+"/_refresh", nil))
	mergeStart := time.Now()
	merge := mustRequest(http.MethodPost, e.osURL+"/"+activity.IndexPattern(prefix)+"/_forcemerge?max_num_segments=1", nil)
	res, err := (&http.Client{}).Do(merge) // no timeout: the merge answers when it is done
	if err != nil {
		fatalf("force merge the corpus: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fatalf("force merge the corpus: status %d", res.StatusCode)
	}
	mustDo(mustRequest(http.MethodPost, e.osURL+"/"+alias+"/_refresh", nil))
	merged := time.Since(mergeStart)
	expectCount(e.osURL, prefix, events)
	indices, size := indexStats(e.osURL, activity.IndexPattern(prefix))
	fmt.Printf("bench: corpus loaded in %.0f s (%.0f events/s, %d requests sent again), merged in %.0f s: %d indices, %.1f GB\n",
		loaded.Seconds(), float64(events)/loaded.Seconds(), loader.resent.Load(), merged.Seconds(), indices, float64(size)/1e9)
	return corpusMeta{
		Version: corpusVersion, Events: events, End: corpusEnd.Format(time.RFC3339), Days: corpusDays,
		Built: time.Now().UTC().Format(time.RFC3339), Commit: gitCommit(),
		LoadSeconds: round(loaded.Seconds()), MergeSecs: round(merged.Seconds()), Indices: indices, StoreBytes: size,
	}
}

// generateCorpus makes exactly events events of the corpus's workspaces,
// each workspace its share, as whole working sessions (the last one of
// each workspace cut short), and hands them to emit encoded as the relay
// publishes them, in batches cut as the indexer cuts them. Sessions of the
// workspaces are interleaved at random, as a shared index receives them.
// Each batch holds the events of one monthly index, as the live indexer's
// batches mostly do: a bulk request spread over every month would cost a
// translog sync per index and load at a third of the speed.
func generateCorpus(events int, cfg ingest.Config, emit func(batch []domain.OutboxMessage, done int)) {
	histories := make([]*synthetic.History, len(corpusWorkspaces))
	left := make([]int, len(corpusWorkspaces))
	total := 0
	for w, cw := range corpusWorkspaces {
		h, err := synthetic.NewHistory(uint64(corpusVersion)<<8|uint64(w), cw.workspace(w), corpusDays, corpusEnd)
		if err != nil {
			fatalf("corpus history: %v", err)
		}
		histories[w] = h
		left[w] = events * cw.share / 100
		total += left[w]
	}
	left[0] += events - total
	for w, h := range histories {
		h.Plan(left[w])
	}
	rnd := rand.New(rand.NewPCG(uint64(corpusVersion), 0x5eed))
	ids := rand.New(rand.NewPCG(uint64(corpusVersion), 0x1d5))
	type pending struct {
		batch []domain.OutboxMessage
		size  int
	}
	months := map[string]*pending{}
	done := 0
	for remaining := events; remaining > 0; {
		// Pick a workspace in proportion to the events it has left.
		k, w := rnd.IntN(remaining), 0
		for k >= left[w] {
			k -= left[w]
			w++
		}
		session := histories[w].Session()
		session = session[:min(len(session), left[w])]
		left[w] -= len(session)
		remaining -= len(session)
		// The history makes its ids at random; the corpus's are made
		// from a seeded source instead, so that they repeat run after run.
		sessionID := corpusEventID(ids, session[0].OccurredAt)
		for _, ev := range session {
			ev.ID = corpusEventID(ids, ev.OccurredAt)
			ev.Context.RequestID = corpusEventID(ids, ev.OccurredAt)
			if ev.Context.SessionID != "" {
				ev.Context.SessionID = sessionID
			}
			b, err := json.Marshal(ev)
			if err != nil {
				fatalf("encode corpus event: %v", err)
			}
			month := ev.OccurredAt.UTC().Format("2006.01")
			p := months[month]
			if p == nil {
				p = &pending{}
				months[month] = p
			}
			p.batch = append(p.batch, domain.OutboxMessage{Seq: int64(done + 1), EventID: ev.ID, WorkspaceID: ev.WorkspaceID, Payload: b})
			p.size += len(b)
			done++
			if len(p.batch) == cfg.BatchSize || p.size >= cfg.BatchBytes {
				emit(p.batch, done)
				p.batch, p.size = nil, 0
			}
		}
	}
	for _, month := range slices.Sorted(maps.Keys(months)) {
		if p := months[month]; len(p.batch) > 0 {
			emit(p.batch, done)
		}
	}
}

// corpusEventID returns a UUIDv7 made when the event happened, as the
// platform makes its ids, with random bits from rnd: the corpus's ids are
// the same in every run, and sort by time like the platform's.
func corpusEventID(rnd *rand.Rand, at time.Time) string {
	var id uuid.UUID
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (40 - 8*i))
	}
	for i := 6; i < 16; i++ {
		id[i] = byte(rnd.Uint32())
	}
	id[6] = 0x70 | id[6]&0x0f // version 7
	id[8] = 0x80 | id[8]&0x3f // RFC 9562 variant
	return id.String()
}

func readCorpusMeta(osURL, prefix string) (corpusMeta, bool) {
	res, err := http.Get(osURL + "/" + metaIndex(prefix) + "/_doc/corpus")
	if err != nil {
		fatalf("read the corpus's description: %v", err)
	}
	defer res.Body.Close()
	var out struct {
		Found  bool       `json:"found"`
		Source corpusMeta `json:"_source"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil || !out.Found {
		return corpusMeta{}, false
	}
	return out.Source, true
}

// countDocs is how many documents index holds, 0 when it does not exist.
func countDocs(osURL, index string) int {
	res, err := http.Get(osURL + "/" + index + "/_count")
	if err != nil {
		fatalf("count %s: %v", index, err)
	}
	defer res.Body.Close()
	var out struct {
		Count int `json:"count"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil {
		return 0
	}
	return out.Count
}

// indexStats returns how many indices pattern matches and their size on
// disk.
func indexStats(osURL, pattern string) (int, int64) {
	res, err := http.Get(osURL + "/" + pattern + "/_stats/store")
	if err != nil {
		fatalf("index stats: %v", err)
	}
	defer res.Body.Close()
	var out struct {
		All struct {
			Total struct {
				Store struct {
					Bytes int64 `json:"size_in_bytes"`
				} `json:"store"`
			} `json:"total"`
		} `json:"_all"`
		Indices map[string]any `json:"indices"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		fatalf("index stats: %v", err)
	}
	return len(out.Indices), out.All.Total.Store.Bytes
}

func putJSON(osURL, path string, body any) {
	b, _ := json.Marshal(body)
	req := mustRequest(http.MethodPut, osURL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	mustDo(req)
}

func deletePath(osURL, path string) {
	req := mustRequest(http.MethodDelete, osURL+path, nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
}

func mustRequest(method, url string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		fatalf("%s %s: %v", method, url, err)
	}
	return req
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}
