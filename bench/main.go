// Command bench measures the platform on the local stack and writes the
// figures to bench/results.json. Each figure is measured side by side with
// a direct baseline in the same run, since these machines are noisy.
//
// It runs the real binary (bin/fluxera serve) in an isolated schema, topic
// set, consumer groups and index prefix, and removes them afterwards, also
// when the run fails or is interrupted.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/segmentio/kafka-go"
)

// Figure is one measurement, with its baseline from the same run, and the
// section, commit and time of the run that produced it.
type Figure struct {
	Name     string    `json:"name"`
	Value    float64   `json:"value"`
	Unit     string    `json:"unit"`
	Baseline *Baseline `json:"baseline,omitempty"`
	Ratio    float64   `json:"ratio,omitempty"`
	Notes    string    `json:"notes,omitempty"`
	Section  string    `json:"section"`
	Commit   string    `json:"commit"`
	When     string    `json:"when"`
}

// Baseline is the direct measurement a figure is compared with.
type Baseline struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Results is the file format of bench/results.json. When and Commit are
// those of the run that last wrote it; a run of some sections only keeps
// the other sections' figures, each with its own commit and time.
type Results struct {
	When    string   `json:"when"`
	Commit  string   `json:"commit"`
	Cores   int      `json:"cores"`
	Figures []Figure `json:"figures"`
}

type env struct {
	bin, base, osURL, prefix string
	http                     *http.Client

	id      string          // suffix of every name this run creates
	dbcfg   postgres.Config // the schema the platform runs in
	brokers []string

	platformPID int // the bench's bin/fluxera serve, 0 when none runs
}

// section is one group of figures that -only can pick. Sections that
// measure the API's writes and the whole pipeline run against the bench's
// own bin/fluxera serve, started only when one of them runs.
type section struct {
	name     string
	platform bool
	// weakHashing says that the section's processes hash passwords with
	// weakArgon2; its figures' notes say so.
	weakHashing bool
	run         func(e *env) []Figure
}

// weakArgon2 is the cheap password hashing of the bench's platform
// processes, so that their figures are not mostly hashing.
var weakArgon2 = argon2.Params{MemoryKiB: 1024, Time: 1, Threads: 1}

// weakArgon2Env sets weakArgon2 in a platform process, which refuses
// parameters below OWASP's minimum unless told that this is a bench.
var weakArgon2Env = []string{"FLUXERA_ARGON2_MEMORY_KIB=1024", "FLUXERA_ARGON2_TIME=1", "FLUXERA_ARGON2_WEAK_OK=1"}

// weakHashingNote ends the notes of the figures measured with weakArgon2.
const weakHashingNote = "Passwords are hashed with argon2id m=1024 KiB, t=1 (FLUXERA_ARGON2_WEAK_OK=1, which only tests and the bench set; the platform refuses such parameters otherwise), so each password check, a login's included, costs far less than with the production defaults."

func main() {
	out := flag.String("out", "bench/results.json", "where to write the figures")
	bin := flag.String("bin", "bin/fluxera", "the fluxera binary")
	only := flag.String("only", "", "comma-separated sections to run (throughput, freshness, api, chain, login, relay, indexer, detect, search, report, analytics, export, verify, retention); the figures of the others are kept from -out")
	creates := flag.Int("creates", 3000, "assets created for the throughput figure")
	fresh := flag.Int("freshness", 200, "assets created one by one for the freshness figures")
	writes := flag.Int("writes", 3000, "assets created by each side of the API write figures")
	floodLogins := flag.Int("flood-logins", 500, "wrong-password logins sent at once for the login flood figure (with -flood-accepts 0, 0 skips it)")
	floodAccounts := flag.Int("flood-accounts", 50, "accounts the login flood's logins are spread over")
	floodAccepts := flag.Int("flood-accepts", 500, "invitation acceptances with made-up tokens sent with the login flood")
	backlog := flag.Int("backlog", 100000, "outbox rows drained for the relay figure")
	ingestEvents := flag.Int("ingest-events", 1000000, "events indexed for the indexer throughput figure (0 skips every indexer figure)")
	burst := flag.Int("burst", 200000, "events of the burst for the indexer's lag drain figure (0 skips it)")
	steadyRate := flag.Int("steady-rate", 1000, "events per second for the produce-to-searchable figures (0 skips them)")
	steadyFor := flag.Duration("steady-for", time.Minute, "how long the steady rate is held")
	searchEvents := flag.Int("search-events", 5000000, "events of the kept search corpus (0 skips the search figures)")
	searchRebuild := flag.Bool("search-rebuild", false, "load the search corpus again even when a complete one is kept")
	searchRequests := flag.Int("search-requests", 1000, "timed requests of each search figure's query on each side")
	reportRequests := flag.Int("report-requests", 100, "timed 90-day security reports on each side of the report figure (0 skips it)")
	analyticsRequests := flag.Int("analytics-requests", 100, "timed 90-day time spent and engagement requests on each side of the analytics figures (0 skips them)")
	detectEvents := flag.Int("detect-events", 200000, "events the detector checks for its throughput figure (0 skips it)")
	detectRounds := flag.Int("detect-rounds", 100, "rounds of three failed logins for the failed-login-to-webhook figures (0 skips them)")
	detectIngest := flag.Int("detect-ingest-events", 200000, "events indexed alone and with the detector beside (0 skips that figure)")
	exportEntries := flag.Int("export-entries", 1000000, "entries each export of the export figures holds at least, read from the kept search corpus (0 skips the export figures)")
	exportRounds := flag.Int("export-rounds", 3, "exports of each kind, and direct scans, of the export figures")
	chainWritesN := flag.Int("chain-writes", 3000, "assets created by each side of the chain write figure, with the chain and without")
	verifyEvents := flag.Int("verify-events", 1000000, "entries of the chain the verify figure checks (0 skips it)")
	verifyRounds := flag.Int("verify-rounds", 3, "verifications, and plain reads, of the verify figure")
	summary := flag.Bool("summary", false, "only print the table of the figures in -out, with their goals, and write it beside -out as markdown")
	retentionRounds := flag.Int("retention-rounds", 3, "archivings of a month, and direct scans, of the retention figure (0 skips it)")
	flag.Parse()
	if *summary {
		if err := writeSummary(readResults(*out), *out, os.Stdout); err != nil {
			fatalf("%v", err)
		}
		return
	}
	log.SetFlags(0)
	var runsSearch bool // whether the search section runs

	sections := []section{
		{"throughput", true, true, func(e *env) []Figure { return throughput(e, *creates) }},
		{"freshness", true, true, func(e *env) []Figure { return freshness(e, *fresh) }},
		{"api", true, true, func(e *env) []Figure { return apiWrites(e, *writes) }},
		{"chain", false, true, func(e *env) []Figure { return chainWrites(e, *chainWritesN) }},
		{"login", false, false, func(e *env) []Figure {
			return loginFlood(e, floodRun{logins: *floodLogins, accounts: *floodAccounts, accepts: *floodAccepts})
		}},
		{"relay", false, false, func(e *env) []Figure { return relayDrain(e, *backlog) }},
		{"indexer", false, false, func(e *env) []Figure {
			return indexerFigures(e, indexerRun{events: *ingestEvents, burst: *burst, rate: *steadyRate, steady: *steadyFor})
		}},
		{"detect", true, true, func(e *env) []Figure {
			return detectFigures(e, detectRun{events: *detectEvents, rounds: *detectRounds, ingestEvents: *detectIngest})
		}},
		{"search", false, true, func(e *env) []Figure {
			return searchFigures(e, searchRun{events: *searchEvents, rebuild: *searchRebuild, requests: *searchRequests})
		}},
		{"report", false, true, func(e *env) []Figure {
			return reportFigures(e, reportRun{events: *searchEvents, requests: *reportRequests})
		}},
		{"analytics", false, true, func(e *env) []Figure {
			return analyticsFigures(e, analyticsRun{events: *searchEvents, requests: *analyticsRequests})
		}},
		{"export", false, true, func(e *env) []Figure {
			// The corpus is loaded again once per run: by the search
			// section when it runs too.
			return exportFigures(e, exportRun{entries: *exportEntries, corpus: *searchEvents, rebuild: *searchRebuild && !runsSearch, rounds: *exportRounds})
		}},
		{"verify", false, false, func(e *env) []Figure { return verifyFigures(e, *verifyEvents, *verifyRounds) }},
		{"retention", false, false, func(e *env) []Figure {
			if *retentionRounds <= 0 {
				return nil
			}
			return retentionFigures(e, retentionRun{corpus: *searchEvents, rebuild: *searchRebuild && !runsSearch, rounds: *retentionRounds})
		}},
	}
	selected, err := pickSections(sections, *only)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range selected {
		runsSearch = runsSearch || s.name == "search"
	}

	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-interrupts
		runCleanups()
		os.Exit(130)
	}()

	id := stacktest.RandomID()
	schema, prefix := "bench_"+id, "bench-"+id
	osURL := getenv("FLUXERA_OPENSEARCH_URL", "http://127.0.0.1:19200")
	dbcfg := postgres.Config{URL: getenv("FLUXERA_DATABASE_URL", "postgres://fluxera:fluxera@127.0.0.1:15432/fluxera?sslmode=disable"), Schema: schema}
	brokers := strings.Split(getenv("FLUXERA_KAFKA_BROKERS", "127.0.0.1:19092"), ",")
	e := &env{bin: *bin, osURL: osURL, prefix: prefix, id: id, dbcfg: dbcfg, brokers: brokers}
	defer runCleanups()
	for _, s := range selected {
		if s.platform {
			startPlatform(e)
			break
		}
	}

	run := Results{When: time.Now().UTC().Format(time.RFC3339), Commit: gitCommit(), Cores: runtime.NumCPU()}
	var ran []string
	for _, s := range selected {
		for _, f := range s.run(e) {
			f.Section, f.Commit, f.When = s.name, run.Commit, run.When
			if s.weakHashing {
				f.Notes = strings.TrimSuffix(f.Notes, ".") + ". " + weakHashingNote
			}
			run.Figures = append(run.Figures, f)
		}
		ran = append(ran, s.name)
	}
	res := run
	if *only != "" {
		res = merge(readResults(*out), run, ran, sections)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fatalf("%v", err)
	}
	if err := writeSummary(res, *out, os.Stdout); err != nil {
		fatalf("%v", err)
	}
}

// startPlatform starts bin/fluxera serve in the run's own schema, topics,
// consumer groups, Redis keys and index prefix, creates a workspace there
// and signs in as its owner.
func startPlatform(e *env) {
	topics := []string{"bench.activity." + e.id, "bench.dlq." + e.id, "bench.alerts." + e.id}
	groups := []string{"bench-" + e.id, "bench-detect-" + e.id}
	addr := freeAddr()
	cmd := exec.Command(e.bin, "serve")
	cmd.Env = append(append(os.Environ(), weakArgon2Env...),
		"FLUXERA_DATABASE_SCHEMA="+e.dbcfg.Schema, "FLUXERA_INDEX_PREFIX="+e.prefix,
		"FLUXERA_KAFKA_TOPIC="+topics[0], "FLUXERA_KAFKA_DLQ_TOPIC="+topics[1], "FLUXERA_KAFKA_ALERT_TOPIC="+topics[2],
		"FLUXERA_INGEST_GROUP="+groups[0], "FLUXERA_DETECT_GROUP="+groups[1], "FLUXERA_REDIS_PREFIX=bench-"+e.id+":",
		"FLUXERA_HTTP_ADDR="+addr, "FLUXERA_OPS_ADDR="+freeAddr(), "FLUXERA_LOG_LEVEL=warn", "FLUXERA_COOKIE_SECURE=false", // plain HTTP on loopback
		// The detect figures fail logins from many addresses through a
		// loopback proxy and receive webhooks on loopback.
		"FLUXERA_TRUSTED_PROXIES=127.0.0.1", "FLUXERA_NOTIFY_ALLOW_LOOPBACK=true",
		"FLUXERA_LOGIN_MAX_FAILURES_PER_ACCOUNT=1000000", "FLUXERA_LOGIN_MAX_FAILURES_PER_IP=1000000",
	)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fatalf("start %s: %v", e.bin, err)
	}
	e.platformPID = cmd.Process.Pid
	atExit(func() { cleanup(cmd, e.dbcfg, e.osURL, e.prefix, e.brokers, topics, groups) })
	jar, _ := cookiejar.New(nil)
	e.base, e.http = "http://"+addr, &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: sameOriginTransport{}}
	waitReady(e)

	db, err := postgres.Open(e.dbcfg)
	if err != nil {
		fatalf("%v", err)
	}
	email, password := "bench-"+e.id+"@example.com", "bench-password"
	_, _, err = postgres.NewWorkspaceService(db, argon2.Hasher{Params: weakArgon2}).CreateWorkspace(context.Background(), domain.WorkspaceSetup{
		Name: "Bench", OwnerEmail: email, OwnerName: "Bench Owner", OwnerPassword: password,
	})
	db.Close()
	if err != nil {
		fatalf("%v", err)
	}
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	if res, err := e.http.Post(e.base+"/api/v1/auth/login", "application/json", bytes.NewReader(body)); err != nil || res.StatusCode != 200 {
		fatalf("login failed: %v", err)
	}
}

// throughput creates n assets with 8 concurrent clients through the API and
// measures two rates in the same run: creates answered per second (the
// baseline: the API alone) and actions per second until the last one is
// searchable (the whole pipeline).
func throughput(e *env, n int) []Figure {
	word := "Throughput" + stacktest.RandomID()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				createAsset(e, fmt.Sprintf("%s laptop %d", word, i))
			}
		}()
	}
	wg.Wait()
	apiDone := time.Since(start)
	for searchTotal(e, word) < int64(n) {
		time.Sleep(20 * time.Millisecond)
	}
	allSearchable := time.Since(start)
	api := float64(n) / apiDone.Seconds()
	e2e := float64(n) / allSearchable.Seconds()
	return []Figure{{
		Name: "e2e.actions_per_s", Value: round(e2e), Unit: "actions/s",
		Baseline: &Baseline{Name: "api.creates_per_s", Value: round(api)}, Ratio: round2(e2e / api),
		Notes: fmt.Sprintf("%d POST /api/v1/assets from 8 clients; the figure counts until the last is found through GET /api/v1/activity, the baseline until the last 201", n),
	}}
}

// freshness creates assets one at a time and measures how long each takes
// from the create request to being found by the search API; the baseline
// is the same document written straight to OpenSearch and found there.
func freshness(e *env, n int) []Figure {
	var platform, direct []time.Duration
	for i := 0; i < n; i++ {
		name := "Fresh" + stacktest.RandomID()
		start := time.Now()
		createAsset(e, name)
		for searchTotal(e, name) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		platform = append(platform, time.Since(start))

		docName := "Direct" + stacktest.RandomID()
		index := activity.IndexName(e.prefix, time.Now())
		doc := fmt.Sprintf(`{"schema":1,"id":%q,"workspace_id":"bench","occurred_at":%q,"action":"asset.created","category":"asset","outcome":"success","actor":{"type":"user"},"resource":{"type":"asset","name":%q},"context":{}}`,
			activity.NewEventID(), time.Now().UTC().Format(time.RFC3339Nano), docName)
		start = time.Now()
		req, _ := http.NewRequest(http.MethodPost, e.osURL+"/"+index+"/_doc", strings.NewReader(doc))
		req.Header.Set("Content-Type", "application/json")
		mustDo(req)
		for directTotal(e, docName) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		direct = append(direct, time.Since(start))
	}
	p50, p99 := percentile(platform, 50), percentile(platform, 99)
	d50, d99 := percentile(direct, 50), percentile(direct, 99)
	notes := fmt.Sprintf("%d assets created one at a time; found by polling every 5 ms; index refresh interval 1s; baseline writes the document straight to OpenSearch", n)
	return []Figure{
		{Name: "e2e.freshness_p50_ms", Value: ms(p50), Unit: "ms", Baseline: &Baseline{Name: "direct_index.freshness_p50_ms", Value: ms(d50)}, Ratio: round2(ms(p50) / ms(d50)), Notes: notes},
		{Name: "e2e.freshness_p99_ms", Value: ms(p99), Unit: "ms", Baseline: &Baseline{Name: "direct_index.freshness_p99_ms", Value: ms(d99)}, Ratio: round2(ms(p99) / ms(d99)), Notes: notes},
	}
}

func createAsset(e *env, name string) {
	body, _ := json.Marshal(map[string]string{"name": name})
	res, err := e.http.Post(e.base+"/api/v1/assets", "application/json", bytes.NewReader(body))
	if err != nil {
		fatalf("create asset: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		fatalf("create asset: status %d", res.StatusCode)
	}
}

func searchTotal(e *env, q string) int64 {
	res, err := e.http.Get(e.base + "/api/v1/activity?limit=1&q=" + q)
	if err != nil {
		fatalf("search: %v", err)
	}
	defer res.Body.Close()
	var page struct {
		Total int64 `json:"total"`
	}
	json.NewDecoder(res.Body).Decode(&page)
	return page.Total
}

func directTotal(e *env, name string) int64 {
	q := fmt.Sprintf(`{"size":0,"track_total_hits":true,"query":{"match":{"resource.name":%q}}}`, name)
	req, _ := http.NewRequest(http.MethodPost, e.osURL+"/"+activity.IndexAlias(e.prefix)+"/_search", strings.NewReader(q))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fatalf("direct search: %v", err)
	}
	defer res.Body.Close()
	var out struct {
		Hits struct {
			Total struct {
				Value int64 `json:"value"`
			} `json:"total"`
		} `json:"hits"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	return out.Hits.Total.Value
}

func mustDo(req *http.Request) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fatalf("%v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 300 {
		fatalf("%s %s: status %d", req.Method, req.URL, res.StatusCode)
	}
}

// sameOriginTransport sends requests as the console's own pages do, saying
// they come from the same origin: the API refuses changes signed in with
// the session cookie from other sites.
type sameOriginTransport struct{}

func (sameOriginTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return http.DefaultTransport.RoundTrip(req)
}

func waitReady(e *env) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if res, err := http.Get(e.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	fatalf("the platform did not become ready")
}

// cleanup stops the platform and removes its schema, indices, topics and
// consumer groups. The groups go last: they are empty only once it stopped.
func cleanup(cmd *exec.Cmd, dbcfg postgres.Config, osURL, prefix string, brokers, topics, groups []string) {
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if db, err := postgres.Open(dbcfg); err == nil {
		db.DropSchema(context.Background())
		db.Close()
	}
	for _, path := range []string{"/" + prefix + "-activity-*", "/_index_template/" + prefix + "-activity"} {
		req, _ := http.NewRequest(http.MethodDelete, osURL+path, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	deleteTopics(ctx, client, topics...)
	retry(ctx, "delete consumer groups", func() error {
		res, err := client.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: groups})
		if err != nil {
			return err
		}
		for g, err := range res.Errors {
			if err != nil && !errors.Is(err, kafka.GroupIdNotFound) {
				return fmt.Errorf("%s: %w", g, err)
			}
		}
		return nil
	})
}

var (
	cleanupMu sync.Mutex
	cleanups  []func()
	// cleaning is held while cleanups run, so that a second caller (an
	// interrupt during a failure, say) waits for them instead of exiting
	// halfway through.
	cleaning sync.Mutex
)

// atExit registers f to run when the bench ends, fails or is interrupted;
// the last registered runs first.
func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

// runCleanups runs every registered cleanup once, and returns when all
// have run, whoever started them.
func runCleanups() {
	cleaning.Lock()
	defer cleaning.Unlock()
	for {
		cleanupMu.Lock()
		if len(cleanups) == 0 {
			cleanupMu.Unlock()
			return
		}
		f := cleanups[len(cleanups)-1]
		cleanups = cleanups[:len(cleanups)-1]
		cleanupMu.Unlock()
		f()
	}
}

// fatalf cleans up, then exits with the message.
func fatalf(format string, args ...any) {
	runCleanups()
	log.Fatalf(format, args...)
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[max(0, min(i-1, len(s)-1))]
}

func ms(d time.Duration) float64 { return round(float64(d.Microseconds()) / 1000) }
func round(f float64) float64    { return float64(int64(f*10+0.5)) / 10 }
func round2(f float64) float64   { return float64(int64(f*100+0.5)) / 100 }

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
