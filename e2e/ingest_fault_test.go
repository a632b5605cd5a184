package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/internal/topic"
)

// The indexer's delivery guarantees under faults: an OpenSearch outage in
// the middle of a stream holds the consumer group's offsets until the
// events behind them are stored, garbage goes to the dead-letter topic with
// its original bytes and the reason, and a member that leaves the group
// gracefully hands its partitions over without losing or doubling an event.

// mustStopOpenSearch stops OpenSearch until the test ends. OpenSearch is
// started again when the test ends, however it ends; the stack script's
// start returns once the cluster is at least yellow, because later tests
// need it.
func mustStopOpenSearch(tb testing.TB) (start func()) {
	tb.Helper()
	script := mustStackScript(tb)
	var once sync.Once
	start = func() {
		once.Do(func() {
			if err := runStack(tb, script, "start", "opensearch"); err != nil {
				tb.Errorf("start OpenSearch again: %v", err)
			}
		})
	}
	tb.Cleanup(start)
	if err := runStack(tb, script, "stop", "opensearch"); err != nil {
		tb.Fatal(err)
	}
	return start
}

// newActivityWriter writes straight to the test's activity topic, keyed
// by workspace like the relay.
func newActivityWriter(tb testing.TB, cfg app.Config) *kafka.Writer {
	tb.Helper()
	w := topic.NewWriter(cfg.Publisher.Brokers, cfg.Publisher.Topic)
	w.BatchSize, w.BatchTimeout = 1000, 5*time.Millisecond
	tb.Cleanup(func() { w.Close() })
	return w
}

// eventMessage is e as the relay publishes it.
func eventMessage(e activity.Event) kafka.Message {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return kafka.Message{Key: []byte(e.WorkspaceID), Value: b, Headers: []kafka.Header{{Key: "event_id", Value: []byte(e.ID)}}}
}

// indexedIDCounts refreshes the test's indices and returns how many
// documents each _id has, across every monthly index.
func indexedIDCounts(tb testing.TB, cfg app.Config) map[string]int {
	tb.Helper()
	base := cfg.OpenSearch.URLs[0]
	alias := activity.IndexAlias(cfg.OpenSearch.IndexPrefix)
	post := func(path, body string, out any) {
		tb.Helper()
		res, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			var msg bytes.Buffer
			msg.ReadFrom(res.Body)
			tb.Fatalf("POST %s: status %d: %s", path, res.StatusCode, msg.String())
		}
		if out != nil {
			if err := json.NewDecoder(res.Body).Decode(out); err != nil {
				tb.Fatalf("POST %s: %v", path, err)
			}
		}
	}
	post("/"+alias+"/_refresh", "", nil)
	type page struct {
		ScrollID string `json:"_scroll_id"`
		Hits     struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	var p page
	post("/"+alias+"/_search?scroll=1m", `{"size":10000,"sort":["_doc"],"_source":false}`, &p)
	counts := map[string]int{}
	for len(p.Hits.Hits) > 0 {
		for _, h := range p.Hits.Hits {
			counts[h.ID]++
		}
		scrollID := p.ScrollID
		p = page{}
		post("/_search/scroll", fmt.Sprintf(`{"scroll":"1m","scroll_id":%q}`, scrollID), &p)
	}
	if p.ScrollID != "" {
		req, _ := http.NewRequest(http.MethodDelete, base+"/_search/scroll/"+p.ScrollID, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	return counts
}

// checkIndexedOnce fails the test unless the index holds exactly one
// document for each id in want and nothing else.
func checkIndexedOnce(tb testing.TB, cfg app.Config, want map[string]bool) {
	tb.Helper()
	got := indexedIDCounts(tb, cfg)
	var missing, extra, doubled []string
	for id := range want {
		if got[id] == 0 {
			missing = append(missing, id)
		}
	}
	total := 0
	for id, k := range got {
		total += k
		switch {
		case !want[id]:
			extra = append(extra, id)
		case k > 1:
			doubled = append(doubled, id)
		}
	}
	if n := indexedCount(tb, cfg); n != len(want) {
		tb.Errorf("the index counts %d documents for %d events", n, len(want))
	}
	if len(missing)+len(extra)+len(doubled) > 0 || total != len(want) {
		tb.Errorf("the index holds %d documents with %d ids for %d events: %d missing %v, %d not produced %v, %d stored more than once %v",
			total, len(got), len(want), len(missing), firstFew(missing), len(extra), firstFew(extra), len(doubled), firstFew(doubled))
	}
}

func firstFew(ids []string) []string {
	slices.Sort(ids)
	return ids[:min(len(ids), 5)]
}

// groupOffsets returns, per partition of the test's activity topic, the
// offset the indexer's group has committed (-1 for none) and the offset
// the next message will get.
func groupOffsets(tb testing.TB, cfg app.Config) (committed, end map[int]int64) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kc := &kafka.Client{Addr: kafka.TCP(cfg.Publisher.Brokers...), Timeout: 10 * time.Second}
	partitions := make([]int, cfg.Publisher.Partitions)
	last := make([]kafka.OffsetRequest, cfg.Publisher.Partitions)
	for p := range partitions {
		partitions[p] = p
		last[p] = kafka.LastOffsetOf(p)
	}
	ends, err := kc.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{cfg.Consumer.Topic: last}})
	if err != nil {
		tb.Fatalf("list offsets: %v", err)
	}
	res, err := kc.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: cfg.Consumer.GroupID, Topics: map[string][]int{cfg.Consumer.Topic: partitions}})
	if err != nil || res.Error != nil {
		tb.Fatalf("fetch committed offsets: %v %v", err, res.Error)
	}
	committed, end = map[int]int64{}, map[int]int64{}
	for _, p := range ends.Topics[cfg.Consumer.Topic] {
		if p.Error != nil {
			tb.Fatalf("end offset of partition %d: %v", p.Partition, p.Error)
		}
		end[p.Partition] = p.LastOffset
	}
	for _, p := range res.Topics[cfg.Consumer.Topic] {
		if p.Error != nil {
			tb.Fatalf("committed offset of partition %d: %v", p.Partition, p.Error)
		}
		committed[p.Partition] = p.CommittedOffset
	}
	return committed, end
}

// readTopic returns every message of topic up to its current end, by
// partition and offset.
func readTopic(tb testing.TB, cfg app.Config, topic string) map[int]map[int64]kafka.Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc := &kafka.Client{Addr: kafka.TCP(cfg.Publisher.Brokers...), Timeout: 10 * time.Second}
	last := make([]kafka.OffsetRequest, cfg.Publisher.Partitions)
	for p := range last {
		last[p] = kafka.LastOffsetOf(p)
	}
	ends, err := kc.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: last}})
	if err != nil {
		tb.Fatalf("list offsets of %s: %v", topic, err)
	}
	out := map[int]map[int64]kafka.Message{}
	for _, po := range ends.Topics[topic] {
		if po.Error != nil {
			tb.Fatalf("end offset of %s partition %d: %v", topic, po.Partition, po.Error)
		}
		out[po.Partition] = map[int64]kafka.Message{}
		if po.LastOffset == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: topic, Partition: po.Partition, MaxWait: 100 * time.Millisecond})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				tb.Fatalf("read %s partition %d: %d of %d messages read: %v", topic, po.Partition, len(out[po.Partition]), po.LastOffset, err)
			}
			out[po.Partition][m.Offset] = m
			if m.Offset >= po.LastOffset-1 {
				break
			}
		}
		r.Close()
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func sum(offsets map[int]int64) int64 {
	var n int64
	for _, o := range offsets {
		n += max(o, 0)
	}
	return n
}

func TestOpenSearchOutageMidStreamIndexesEveryEventOnce(t *testing.T) {
	stacktest.SkipUnlessDisruptive(t)
	cfg := MustStack(t)
	// Retry often, so the indexer notices OpenSearch's return quickly.
	cfg.Ingest.MaxBackoff = time.Second
	m := MustStart(t, cfg, app.RoleIngest)
	w := newActivityWriter(t, cfg)

	// The stream flows at about 500 events a second for some 40 seconds,
	// so it carries on through the outage on both sides. The pace only
	// shapes the scenario; nothing below depends on it.
	const n, chunk = 20000, 50
	gen := synthetic.New(2, 5, 8, time.Now().Add(-time.Hour), time.Millisecond)
	ids := make(map[string]bool, n)
	produced := make(chan error, 1)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		msgs := make([]kafka.Message, 0, chunk)
		for len(ids) < n {
			msgs = msgs[:0]
			for range chunk {
				e := gen.Next()
				ids[e.ID] = true
				msgs = append(msgs, eventMessage(e))
			}
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				produced <- fmt.Errorf("produce: %w", err)
				return
			}
			<-tick.C
		}
		produced <- nil
	}()

	stacktest.Eventually(t, "the indexer indexes the first events", func() bool {
		return counter(t, m.Registry, "fluxera_ingest_indexed_total") >= 1000
	})
	retriedBefore := counter(t, m.Registry, "fluxera_ingest_retried_total")
	startOpenSearch := mustStopOpenSearch(t)
	down := time.Now()
	stacktest.Eventually(t, "the indexer's bulk requests fail while OpenSearch is down", func() bool {
		return counter(t, m.Registry, "fluxera_ingest_retried_total") > retriedBefore
	})

	// While OpenSearch is down nothing can be indexed, so nothing new may
	// be committed, and the group stays behind the end of the stream.
	held, endAtStop := groupOffsets(t, cfg)
	if sum(held) >= sum(endAtStop) {
		t.Errorf("with OpenSearch down the group has committed %v, the stream ends at %v; want it behind", held, endAtStop)
	}
	end := endAtStop
	for time.Since(down) < 30*time.Second {
		time.Sleep(500 * time.Millisecond)
		var committed map[int]int64
		committed, end = groupOffsets(t, cfg)
		if !maps.Equal(committed, held) {
			t.Fatalf("the group committed %v while OpenSearch was down (it held %v; the stream ends at %v)", committed, held, end)
		}
	}
	t.Logf("OpenSearch down for %s: %d events committed, the stream grew from %d to %d events", time.Since(down).Round(time.Second), sum(held), sum(endAtStop), sum(end))
	if sum(end) == sum(endAtStop) {
		t.Fatal("no event was produced while OpenSearch was down; the test needs a longer stream")
	}
	startOpenSearch()
	if t.Failed() {
		t.FailNow()
	}

	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	stacktest.Eventually(t, "the indexer commits the whole stream", func() bool { return indexerCaughtUp(t, cfg) })
	checkIndexedOnce(t, cfg, ids)
	if dl := counter(t, m.Registry, "fluxera_ingest_dead_lettered_total"); dl != 0 {
		t.Errorf("the indexer dead-lettered %v events; an outage must only delay them", dl)
	}
}

// garbage is one kind of message the indexer must set aside: how it is
// made from a valid event, and what its dead letter's reason must say.
type garbage struct {
	name   string
	reason string
	make   func(e activity.Event) []byte
}

func garbageKinds() []garbage {
	marshal := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
	return []garbage{
		{"malformed JSON", "malformed event JSON", func(e activity.Event) []byte {
			b := marshal(e)
			return b[:len(b)/2]
		}},
		{"unknown schema version", "unknown schema version 2", func(e activity.Event) []byte {
			e.Schema = 2
			return marshal(e)
		}},
		{"no workspace_id", "workspace_id is missing", func(e activity.Event) []byte {
			var fields map[string]any
			json.Unmarshal(marshal(e), &fields)
			delete(fields, "workspace_id")
			return marshal(fields)
		}},
		{"workspace_id not a UUID", "workspace_id must be a UUID", func(e activity.Event) []byte {
			e.WorkspaceID = "acme"
			return marshal(e)
		}},
		// Every check before OpenSearch passes, but details is a
		// flat_object whose values are indexed as single terms, and Lucene
		// refuses a term over 32766 bytes.
		{"details value over the index's term limit", "immense term", func(e activity.Event) []byte {
			e.Details = map[string]any{"diff": strings.Repeat("x", 40000)}
			return marshal(e)
		}},
	}
}

func TestGarbageIsDeadLetteredAndEveryEventIndexedOnce(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleIngest)
	w := newActivityWriter(t, cfg)

	// One message in a hundred is garbage, the kinds taking turns.
	const n = 10000
	kinds := garbageKinds()
	gen := synthetic.New(3, 5, 8, time.Now().Add(-time.Hour), time.Millisecond)
	valid := map[string]bool{}
	bad := map[string]garbage{} // value → kind
	var msgs []kafka.Message
	for i := range n {
		e := gen.Next()
		msg := eventMessage(e)
		if i%100 == 50 {
			k := kinds[(i/100)%len(kinds)]
			msg.Value = k.make(e)
			bad[string(msg.Value)] = k
		} else {
			valid[e.ID] = true
		}
		msgs = append(msgs, msg)
	}
	for c := range slices.Chunk(msgs, 1000) {
		if err := w.WriteMessages(t.Context(), c...); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	stacktest.Eventually(t, "the indexer commits the whole stream", func() bool { return indexerCaughtUp(t, cfg) })
	checkIndexedOnce(t, cfg, valid)

	// The dead-letter topic holds each garbage message once, as it was on
	// the activity topic, with the place it came from and the reason.
	source := readTopic(t, cfg, cfg.Consumer.Topic)
	dead := readTopic(t, cfg, cfg.Consumer.DeadLetterTopic)
	lettered := map[string]int{}
	total := 0
	for _, letters := range dead {
		for _, l := range letters {
			total++
			p, errP := strconv.Atoi(header(l, "source_partition"))
			o, errO := strconv.ParseInt(header(l, "source_offset"), 10, 64)
			orig, ok := source[p][o]
			if errP != nil || errO != nil || !ok || header(l, "source_topic") != cfg.Consumer.Topic {
				t.Errorf("dead letter with headers %v does not name a message of %s", l.Headers, cfg.Consumer.Topic)
				continue
			}
			if !bytes.Equal(l.Value, orig.Value) || !bytes.Equal(l.Key, orig.Key) {
				t.Errorf("dead letter of partition %d offset %d carries key %q and %d bytes, not the original key %q and %d bytes", p, o, l.Key, len(l.Value), orig.Key, len(orig.Value))
			}
			k, isGarbage := bad[string(orig.Value)]
			if !isGarbage {
				t.Errorf("a valid event was dead-lettered (partition %d offset %d) with reason %q", p, o, header(l, "reason"))
				continue
			}
			lettered[string(orig.Value)]++
			if reason := header(l, "reason"); !strings.Contains(reason, k.reason) {
				t.Errorf("dead letter of %s has reason %q, want one saying %q", k.name, reason, k.reason)
			}
		}
	}
	perKind := map[string]int{}
	for v, k := range bad {
		if lettered[v] != 1 {
			t.Errorf("a message of kind %s is on the dead-letter topic %d times, want once", k.name, lettered[v])
		}
		perKind[k.name]++
	}
	if total != len(bad) {
		t.Errorf("the dead-letter topic holds %d messages for %d garbage messages", total, len(bad))
	}
	if dl := counter(t, m.Registry, "fluxera_ingest_dead_lettered_total"); dl != float64(len(bad)) {
		t.Errorf("dead-lettered counter = %v, want %d", dl, len(bad))
	}
	t.Logf("%d messages: %d events indexed, garbage dead-lettered by kind %v", n, len(valid), perKind)
}

func TestIndexerLeavingTheGroupHandsOverWithoutLossOrDoubles(t *testing.T) {
	cfg := MustStack(t)
	bin := MustBinary(t)
	m := app.NewMain(cfg)
	defer m.Close()
	if err := m.Prepare(t.Context(), app.RoleIngest); err != nil {
		t.Fatal(err)
	}

	// Small batches and one worker each keep the stream long enough to
	// stop one member in the middle of it.
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "ingest")
		cmd.Env = environ(cfg, "FLUXERA_INGEST_BATCH_SIZE=100", "FLUXERA_INGEST_WORKERS=1")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
		return cmd
	}
	leaving, staying := start(), start()
	kc := &kafka.Client{Addr: kafka.TCP(cfg.Publisher.Brokers...), Timeout: 10 * time.Second}
	stacktest.Eventually(t, "both indexers own partitions of the topic", func() bool {
		res, err := kc.DescribeGroups(t.Context(), &kafka.DescribeGroupsRequest{GroupIDs: []string{cfg.Consumer.GroupID}})
		if err != nil || len(res.Groups) != 1 || res.Groups[0].GroupState != "Stable" || len(res.Groups[0].Members) != 2 {
			return false
		}
		for _, member := range res.Groups[0].Members {
			owned := 0
			for _, tp := range member.MemberAssignments.Topics {
				owned += len(tp.Partitions)
			}
			if owned == 0 {
				return false
			}
		}
		return true
	})

	const n = 12000
	ids := MustProduce(t, cfg, n)
	var atStop int
	stacktest.Eventually(t, "the indexers index part of the stream", func() bool {
		atStop = indexedCount(t, cfg)
		return atStop >= 2000
	})
	if err := leaving.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := leaving.Wait(); err != nil {
		t.Errorf("the stopped indexer exited with %v, want a clean exit", err)
	}
	if atStop >= n {
		t.Fatalf("the indexers finished all %d events before one was stopped; the test needs a longer stream", n)
	}
	t.Logf("stopped one indexer with %d of %d events indexed", atStop, n)

	stacktest.Eventually(t, "the remaining indexer commits the whole stream", func() bool { return indexerCaughtUp(t, cfg) })
	if err := staying.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := staying.Wait(); err != nil {
		t.Errorf("the remaining indexer exited with %v, want a clean exit", err)
	}
	checkIndexedOnce(t, cfg, ids)
	for p, letters := range readTopic(t, cfg, cfg.Consumer.DeadLetterTopic) {
		if len(letters) != 0 {
			t.Errorf("the hand-over dead-lettered %d events on partition %d", len(letters), p)
		}
	}
}
