package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/relay"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// The relay's delivery guarantees under faults: events wait in the outbox
// while Kafka is down and arrive in order once it is back, a failed write
// leaves no event, and a relay that dies between publishing and marking
// republishes a batch that the indexer stores once.

// mustStackScript returns the path of deploy/local/stack.sh, found from the
// working directory upwards. Stopping and starting services needs root, as
// the stack itself does.
func mustStackScript(tb testing.TB) string {
	tb.Helper()
	stacktest.SkipUnlessDisruptive(tb)
	if os.Geteuid() != 0 {
		if stacktest.Required() {
			tb.Fatal("stopping and starting stack services needs root, like make up")
		}
		tb.Skip("stopping and starting stack services needs root, like make up")
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		script := filepath.Join(dir, "deploy", "local", "stack.sh")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(script); err != nil {
				tb.Fatalf("the repository at %s has no deploy/local/stack.sh: %v", dir, err)
			}
			return script
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory; cannot find deploy/local/stack.sh")
		}
		dir = parent
	}
}

// runStack runs stack.sh with args, e.g. "stop", "kafka".
func runStack(tb testing.TB, script string, args ...string) error {
	tb.Helper()
	out, err := exec.Command(script, args...).CombinedOutput()
	tb.Logf("stack.sh %s:\n%s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	if err != nil {
		return fmt.Errorf("stack.sh %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// mustStopKafka stops the broker until the test ends. Kafka is started
// again when the test ends, however it ends, and the cleanup returns only
// once the broker serves requests, because later tests need it.
func mustStopKafka(tb testing.TB, cfg app.Config) (start func()) {
	tb.Helper()
	script := mustStackScript(tb)
	var once sync.Once
	start = func() {
		once.Do(func() {
			if err := runStack(tb, script, "start", "kafka"); err != nil {
				tb.Errorf("start Kafka again: %v", err)
				return
			}
			kc := &kafka.Client{Addr: kafka.TCP(cfg.Publisher.Brokers...), Timeout: 5 * time.Second}
			deadline := time.Now().Add(60 * time.Second)
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := kc.Metadata(ctx, &kafka.MetadataRequest{})
				cancel()
				if err == nil {
					return
				}
				if time.Now().After(deadline) {
					tb.Errorf("Kafka does not answer after its restart: %v", err)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	tb.Cleanup(start)
	if err := runStack(tb, script, "stop", "kafka"); err != nil {
		tb.Fatal(err)
	}
	return start
}

// mustDB opens the test's schema.
func mustDB(tb testing.TB, cfg app.Config) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(cfg.Postgres)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// outboxEntry is one outbox row as the tests see it.
type outboxEntry struct {
	Seq        int64  `bun:"seq"`
	EventID    string `bun:"event_id"`
	Action     string `bun:"action"`
	ResourceID string `bun:"resource_id"`
}

// outboxOf returns the outbox rows of a workspace in sequence order.
func outboxOf(tb testing.TB, db *postgres.DB, workspaceID string) []outboxEntry {
	tb.Helper()
	var rows []outboxEntry
	err := db.NewSelect().TableExpr("outbox").
		ColumnExpr("seq, event_id::text AS event_id").
		ColumnExpr("payload->>'action' AS action, coalesce(payload->'resource'->>'id', '') AS resource_id").
		Where("workspace_id = ?", workspaceID).
		OrderExpr("seq").
		Scan(context.Background(), &rows)
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

// pendingCount counts the unpublished rows of the test's outbox; the relay
// deletes a row once Kafka has its event.
func pendingCount(tb testing.TB, db *postgres.DB) int {
	tb.Helper()
	n, err := db.NewSelect().TableExpr("outbox").Count(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func outboxCount(tb testing.TB, db *postgres.DB) int {
	tb.Helper()
	n, err := db.NewSelect().TableExpr("outbox").Count(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// streamed is one message of the activity topic.
type streamed struct {
	Event    activity.Event
	HeaderID string // the event_id header
	Key      string
}

// readTopicUntil reads the test's activity topic from its start, in a
// consumer group of its own, until done holds for what was read so far.
// A workspace's events share one partition, so their order is the order
// the relay published them in.
func readTopicUntil(tb testing.TB, cfg app.Config, what string, done func([]streamed) bool) []streamed {
	tb.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: cfg.Publisher.Brokers, Topic: cfg.Publisher.Topic, GroupID: "test-reader-" + stacktest.RandomID(),
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []streamed
	for !done(got) {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			tb.Fatalf("gave up reading %s: %d messages read: %v", what, len(got), err)
		}
		s := streamed{Key: string(m.Key)}
		for _, h := range m.Headers {
			if h.Key == "event_id" {
				s.HeaderID = string(h.Value)
			}
		}
		if err := json.Unmarshal(m.Value, &s.Event); err != nil {
			tb.Fatalf("message at offset %d of partition %d is not an event: %v", m.Offset, m.Partition, err)
		}
		got = append(got, s)
	}
	return got
}

// firstSeen returns a workspace's event ids in the order they first
// appeared on the stream, and how often each appeared.
func firstSeen(msgs []streamed, workspaceID string) (order []string, times map[string]int) {
	times = map[string]int{}
	for _, m := range msgs {
		if m.Event.WorkspaceID != workspaceID {
			continue
		}
		if times[m.Event.ID] == 0 {
			order = append(order, m.Event.ID)
		}
		times[m.Event.ID]++
	}
	return order, times
}

func eventIDs(rows []outboxEntry) []string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.EventID
	}
	return ids
}

// counter sums the values of a counter family in reg.
func counter(tb testing.TB, reg *prometheus.Registry, name string) float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

type createdAsset struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
}

func mustCreateAsset(tb testing.TB, c *client, name, tag string) createdAsset {
	tb.Helper()
	var a createdAsset
	body := fmt.Sprintf(`{"name":%q,"asset_tag":%q}`, name, tag)
	if status := c.do("POST", "/api/v1/assets", "application/json", body, &a); status != http.StatusCreated {
		tb.Fatalf("create asset %q: status %d", name, status)
	}
	return a
}

func TestEventsWaitInTheOutboxWhileKafkaIsDown(t *testing.T) {
	stacktest.SkipUnlessDisruptive(t)
	cfg := MustStack(t)
	// Retry often, so the relay notices the broker's return quickly.
	cfg.Relay.MaxBackoff = 250 * time.Millisecond
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay)
	db := mustDB(t, cfg)
	email, password := MustWorkspace(t, cfg, "Outage")
	c := newClient(t, m)
	c.mustLogin(email, password)
	stacktest.Eventually(t, "the login event is published", func() bool { return pendingCount(t, db) == 0 })

	startKafka := mustStopKafka(t, cfg)
	failuresBefore := counter(t, m.Registry, "fluxera_relay_failures_total")

	const n = 20
	var assets []createdAsset
	for i := 1; i <= n; i++ {
		assets = append(assets, mustCreateAsset(t, c, fmt.Sprintf("Laptop %d", i), fmt.Sprintf("T-%d", i)))
	}
	if status := c.do("GET", "/readyz", "", "", nil); status != http.StatusOK {
		t.Errorf("/readyz = %d while Kafka is down, want 200", status)
	}
	ws := assets[0].WorkspaceID
	var createdIDs []string
	for _, a := range assets {
		createdIDs = append(createdIDs, a.ID)
	}

	// Every event waits in the outbox, in the order of the writes.
	rows := outboxOf(t, db, ws)
	var waiting []string
	for _, r := range rows {
		if r.Action == "asset.created" {
			waiting = append(waiting, r.ResourceID)
		}
	}
	if !slices.Equal(waiting, createdIDs) {
		t.Fatalf("outbox holds asset events for\n%v\nwant, in creation order,\n%v", waiting, createdIDs)
	}
	if got := pendingCount(t, db); got != n {
		t.Errorf("%d outbox rows pending, want %d", got, n)
	}
	stacktest.Eventually(t, "the relay reports failed publishes while Kafka is down", func() bool {
		return counter(t, m.Registry, "fluxera_relay_failures_total") > failuresBefore
	})

	startKafka()
	if t.Failed() {
		t.FailNow()
	}
	stacktest.Eventually(t, "the relay empties the outbox once Kafka is back", func() bool { return pendingCount(t, db) == 0 })

	want := eventIDs(rows)
	msgs := readTopicUntil(t, cfg, "every event of the workspace", func(got []streamed) bool {
		_, times := firstSeen(got, ws)
		for _, id := range want {
			if times[id] == 0 {
				return false
			}
		}
		return true
	})
	order, times := firstSeen(msgs, ws)
	order = slices.DeleteFunc(order, func(id string) bool { return !slices.Contains(want, id) }) // the login went out before
	if !slices.Equal(order, want) {
		t.Errorf("events arrived in the order\n%v\nwant the order they were written\n%v", order, want)
	}
	var streamedAssets []string
	dup := 0
	for _, s := range msgs {
		if s.Event.WorkspaceID != ws {
			continue
		}
		if s.Key != ws || s.HeaderID != s.Event.ID {
			t.Errorf("message of event %s has key %q and event_id header %q", s.Event.ID, s.Key, s.HeaderID)
		}
		if times[s.Event.ID] > 1 {
			dup++
		}
		if s.Event.Action == "asset.created" && !slices.Contains(streamedAssets, s.Event.Resource.ID) {
			streamedAssets = append(streamedAssets, s.Event.Resource.ID)
		}
	}
	if !slices.Equal(streamedAssets, createdIDs) {
		t.Errorf("asset.created events arrived for\n%v\nwant, in creation order,\n%v", streamedAssets, createdIDs)
	}
	t.Logf("%d events, %d messages on the topic (%d of them copies of a republished event)", len(want), len(msgs), dup)
}

func TestFailedWritesLeaveNoEvent(t *testing.T) {
	cfg := MustStack(t)
	// No relay yet: the outbox keeps every committed event to be counted.
	m := MustStart(t, cfg, app.RoleAPI)
	db := mustDB(t, cfg)
	email, password := MustWorkspace(t, cfg, "Careful")
	c := newClient(t, m)
	c.mustLogin(email, password)
	taken := mustCreateAsset(t, c, "Taken laptop", "T-1")
	ws := taken.WorkspaceID
	committed := eventIDs(outboxOf(t, db, ws))

	// A commit that fails after the event was written: a deferred
	// constraint trigger on the test's outbox rejects, at commit, any event
	// about an asset named "Doomed ...". The asset insert, the outbox row
	// and the relay's notification all belong to that one transaction.
	schema := bun.Ident(cfg.Postgres.Schema)
	if _, err := db.ExecContext(t.Context(), `CREATE FUNCTION ?.reject_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'commit refused for a doomed asset'; END $$`, schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `CREATE CONSTRAINT TRIGGER reject_doomed AFTER INSERT ON ?.outbox
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
		WHEN (NEW.payload->'resource'->>'name' LIKE 'Doomed%') EXECUTE FUNCTION ?.reject_doomed()`, schema, schema); err != nil {
		t.Fatal(err)
	}

	countAssets := func() int {
		n, err := db.NewSelect().TableExpr("assets").Count(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"asset tag in use", `{"name":"Again laptop","asset_tag":"T-1"}`, http.StatusConflict, "conflict"},
		{"invalid status", `{"name":"Invalid laptop","status":"stolen"}`, http.StatusBadRequest, "invalid"},
		{"missing name", `{"asset_tag":"T-9"}`, http.StatusBadRequest, "invalid"},
		{"unknown field", `{"name":"Unknown laptop","colour":"red"}`, http.StatusBadRequest, "invalid"},
		{"commit fails after the event was written", `{"name":"Doomed laptop","asset_tag":"T-2"}`, http.StatusInternalServerError, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outboxBefore, assetsBefore := outboxCount(t, db), countAssets()
			var ans errorAnswer
			if status := c.do("POST", "/api/v1/assets", "application/json", tt.body, &ans); status != tt.status {
				t.Fatalf("status = %d, want %d (%+v)", status, tt.status, ans)
			}
			if ans.Error.Code != tt.code {
				t.Errorf("error code = %q, want %q", ans.Error.Code, tt.code)
			}
			if got := outboxCount(t, db); got != outboxBefore {
				t.Errorf("outbox went from %d to %d rows", outboxBefore, got)
			}
			if got := countAssets(); got != assetsBefore {
				t.Errorf("assets went from %d to %d rows", assetsBefore, got)
			}
		})
	}

	// The refused commit took its asset with it: the tag is free.
	survivor := mustCreateAsset(t, c, "Survivor laptop", "T-2")

	want := eventIDs(outboxOf(t, db, ws))
	if len(want) != len(committed)+1 || !slices.Equal(want[:len(committed)], committed) {
		t.Fatalf("the workspace's outbox holds\n%v\nwant the events from before the failed writes\n%v\nand the survivor's", want, committed)
	}
	MustStart(t, cfg, app.RoleRelay)
	msgs := readTopicUntil(t, cfg, "the survivor's event", func(got []streamed) bool {
		for _, s := range got {
			if s.Event.Resource.ID == survivor.ID {
				return true
			}
		}
		return false
	})
	order, _ := firstSeen(msgs, ws)
	if !slices.Equal(order, want) {
		t.Errorf("the topic carries events\n%v\nwant only the committed ones\n%v", order, want)
	}
	for _, s := range msgs {
		if name := s.Event.Resource.Name; s.Event.Action == "asset.created" && name != taken.Name && name != survivor.Name {
			t.Errorf("the topic carries an event for a write that failed: %s %q", s.Event.Action, name)
		}
	}
}

// markFailsOnce is the real outbox, except that marking the first batch
// fails, as if the relay died after Kafka acknowledged the batch and
// before the outbox recorded it.
type markFailsOnce struct {
	*postgres.Outbox
	mu       sync.Mutex
	unmarked []int64
}

func (o *markFailsOnce) MarkPublished(ctx context.Context, seqs []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.unmarked == nil {
		o.unmarked = slices.Clone(seqs)
		return errors.New("relay stopped before marking the batch")
	}
	return o.Outbox.MarkPublished(ctx, seqs)
}

func (o *markFailsOnce) failedBatch() []int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.unmarked)
}

// indexerCaughtUp reports whether the indexer's consumer group has
// committed every message of the test's topic.
func indexerCaughtUp(tb testing.TB, cfg app.Config) bool {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lag, err := ingestkafka.GroupLag(ctx, cfg.Consumer)
	return err == nil && lag.Total == 0
}

// indexedIDs returns the _id of every document in the test's indices.
func indexedIDs(tb testing.TB, cfg app.Config) []string {
	tb.Helper()
	url := cfg.OpenSearch.URLs[0] + "/" + activity.IndexAlias(cfg.OpenSearch.IndexPrefix) + "/_search?size=1000&_source=false"
	res, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, h := range out.Hits.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func TestRelayCrashBeforeMarkRepublishesAndIndexStoresOnce(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleIngest)
	db := mustDB(t, cfg)
	email, password := MustWorkspace(t, cfg, "Twice")
	c := newClient(t, m)
	c.mustLogin(email, password)
	// The events are written before the relay runs, so its first batch
	// holds all of them.
	const n = 10
	var ws string
	for i := 1; i <= n; i++ {
		ws = mustCreateAsset(t, c, fmt.Sprintf("Monitor %d", i), fmt.Sprintf("M-%d", i)).WorkspaceID
	}

	rows := outboxOf(t, db, ws)
	ob := &markFailsOnce{Outbox: postgres.NewOutbox(db)}
	pub := domainkafka.NewPublisher(cfg.Publisher)
	r := &relay.Relay{Config: cfg.Relay, Outbox: ob, Publisher: pub, Log: m.Log.WithField("component", "relay")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay stopped with %v", err)
		}
		pub.Close()
	})
	stacktest.Eventually(t, "the relay marks every event published", func() bool { return pendingCount(t, db) == 0 })

	want := eventIDs(rows)
	failed := ob.failedBatch()
	var twice []string
	for _, r := range rows {
		if slices.Contains(failed, r.Seq) {
			twice = append(twice, r.EventID)
		}
	}
	assets := 0
	for _, r := range rows {
		if r.Action == "asset.created" {
			assets++
		}
	}
	if assets != n || len(twice) != len(want) {
		t.Fatalf("outbox holds %d events (%d asset.created, want %d) of which %d were in the unmarked batch (want all)", len(want), assets, n, len(twice))
	}

	// Kafka carries every event of the unmarked batch twice.
	msgs := readTopicUntil(t, cfg, "both copies of the republished batch", func(got []streamed) bool {
		_, times := firstSeen(got, ws)
		for _, id := range twice {
			if times[id] < 2 {
				return false
			}
		}
		return true
	})
	order, times := firstSeen(msgs, ws)
	if !slices.Equal(order, want) {
		t.Errorf("first-occurrence order\n%v\nwant\n%v", order, want)
	}
	t.Logf("%d events, %d messages on the topic", len(want), len(msgs))

	// The index holds each event once, after the indexer has consumed and
	// committed every message, the copies included.
	stacktest.Eventually(t, "every event is indexed", func() bool { return indexedCount(t, cfg) >= len(want) })
	stacktest.Eventually(t, "the indexer commits past the copies", func() bool { return indexerCaughtUp(t, cfg) })
	if got := indexedCount(t, cfg); got != len(want) {
		t.Errorf("the index holds %d documents for %d events (%d messages)", got, len(want), len(msgs))
	}
	ids := indexedIDs(t, cfg)
	slices.Sort(ids)
	sorted := slices.Sorted(slices.Values(want))
	if !slices.Equal(ids, sorted) {
		t.Errorf("document ids\n%v\nwant the event ids\n%v", ids, sorted)
	}
	if dl := counter(t, m.Registry, "fluxera_ingest_dead_lettered_total"); dl != 0 {
		t.Errorf("the indexer dead-lettered %v messages; a copy must count as indexed", dl)
	}
	for id, k := range times {
		if k < 2 {
			t.Errorf("event %s reached Kafka %d time(s), want the republished copy too", id, k)
		}
	}
}
