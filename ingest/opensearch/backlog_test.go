package opensearch_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/ingest/enrich"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/internal/cputime"
	"github.com/fluxera/activity/internal/stacktest"
)

// committedCounter counts the messages whose offsets the indexer committed.
type committedCounter struct {
	ingest.Source
	n atomic.Int64
}

func (c *committedCounter) Commit(ctx context.Context, msgs []ingest.Message) error {
	if err := c.Source.Commit(ctx, msgs); err != nil {
		return err
	}
	c.n.Add(int64(len(msgs)))
	return nil
}

// TestIndexerBacklogProfile indexes a backlog of synthetic events from the
// real Kafka into the real OpenSearch with the indexer's own code and logs
// the indexer's and OpenSearch's CPU time per million events. It is a
// profiling aid, not a check: it runs only when FLUXERA_PROFILE_INDEXER
// names the number of events, and writes a CPU profile of the indexing to
// FLUXERA_PROFILE_INDEXER_OUT when that is set.
func TestIndexerBacklogProfile(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FLUXERA_PROFILE_INDEXER"))
	if n <= 0 {
		t.Skip("set FLUXERA_PROFILE_INDEXER to a number of events to profile the indexer")
	}
	ctx := t.Context()
	osURL := stacktest.OpenSearchURL()
	stacktest.MustReach(t, "OpenSearch", stacktest.HostPort(osURL))
	topic := stacktest.MustTopic(t, "ingest-profile", 3)
	brokers := stacktest.KafkaBrokers()

	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, BatchSize: 1000, BatchTimeout: 10 * time.Millisecond, BatchBytes: 16 << 20, RequiredAcks: kafka.RequireAll}
	gen := synthetic.New(1, 120, 10, time.Now().Add(-time.Duration(n)*time.Millisecond), time.Millisecond)
	for i := 0; i < n; i += 1000 {
		msgs := make([]kafka.Message, 0, 1000)
		for j := i; j < min(n, i+1000); j++ {
			ev := gen.Next()
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Key: []byte(ev.WorkspaceID), Value: b})
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()

	prefix := "test-profile-" + stacktest.RandomID()
	osCfg := ingestos.Config{URLs: []string{osURL}, IndexPrefix: prefix}
	if err := osCfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := ingestos.NewClient(osCfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingestos.EnsureTemplate(ctx, client, osCfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteIndices(osURL, prefix) })

	if bin := os.Getenv("FLUXERA_PROFILE_INDEXER_BIN"); bin != "" {
		took, cpu, osCPU := runIndexerProcess(t, bin, osURL, topic, prefix, n)
		t.Logf("%s ingest: %d events in %.1f s: %.0f events/s; process %.1f CPU-s (%.1f per million), OpenSearch %.1f CPU-s (%.1f per million)",
			bin, n, took.Seconds(), float64(n)/took.Seconds(), cpu, cpu/float64(n)*1e6, osCPU, osCPU/float64(n)*1e6)
		return
	}

	kcfg := ingestkafka.Config{Brokers: brokers, Topic: topic, DeadLetterTopic: topic + ".dlq", GroupID: "test-profile-" + stacktest.RandomID()}
	if err := kcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	src := &committedCounter{Source: ingestkafka.NewSource(kcfg)}
	icfg := ingest.Config{IndexPrefix: prefix}
	if err := icfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	ix := &ingest.Indexer{
		Config: icfg, Source: src, Sink: ingestos.NewSink(client),
		DeadLetters: ingestkafka.NewDeadLetters(kcfg),
		Enricher:    enrich.Enricher{Locator: enrich.Bundled()},
		Log:         log.WithField("component", "ingest"),
	}

	stacktest.ProfileCPU(t, os.Getenv("FLUXERA_PROFILE_INDEXER_OUT"))
	cpu0, os0, start := cputime.Self(), openSearchCPU(t, osURL), time.Now()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ix.Run(runCtx) }()
	for src.n.Load() < int64(n) {
		select {
		case err := <-done:
			t.Fatalf("indexer stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	took := time.Since(start)
	cpu, osCPU := cputime.Self()-cpu0, openSearchCPU(t, osURL)-os0
	stop()
	<-done
	t.Logf("%d events in %.1f s: %.0f events/s; indexer %.1f CPU-s (%.1f per million), OpenSearch %.1f CPU-s (%.1f per million)",
		n, took.Seconds(), float64(n)/took.Seconds(), cpu, cpu/float64(n)*1e6, osCPU, osCPU/float64(n)*1e6)

	// The direct baseline: the same number of documents built beforehand,
	// only the _bulk requests timed, with the indexer's batch size and
	// requests in flight, then with twice the requests in flight.
	pprof.StopCPUProfile()
	for _, workers := range []int{icfg.Workers, 2 * icfg.Workers} {
		direct := prefix + "-direct" + strconv.Itoa(workers)
		dcfg := osCfg
		dcfg.IndexPrefix = direct
		if err := ingestos.EnsureTemplate(ctx, client, dcfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteIndices(osURL, direct) })
		gen := synthetic.New(uint64(workers), 120, 10, time.Now().Add(-time.Duration(n)*time.Millisecond), time.Millisecond)
		en := enrich.Enricher{Locator: enrich.Bundled()}
		batches := make(chan []ingest.Document, n/icfg.BatchSize+1)
		for i := 0; i < n; i += icfg.BatchSize {
			docs := make([]ingest.Document, 0, icfg.BatchSize)
			for range min(icfg.BatchSize, n-i) {
				e := gen.Next()
				doc := ingest.NewDocument(e, time.Now())
				en.Enrich(&doc)
				b, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, ingest.Document{Index: activity.IndexName(direct, e.OccurredAt), ID: e.ID, Body: b})
			}
			batches <- docs
		}
		close(batches)
		sink := ingestos.NewSink(client)
		start := time.Now()
		errs := make(chan error, workers)
		for range workers {
			go func() {
				for docs := range batches {
					if _, err := sink.Bulk(ctx, docs); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range workers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		took := time.Since(start)
		t.Logf("direct _bulk, %d in flight: %d events in %.1f s: %.0f events/s", workers, n, took.Seconds(), float64(n)/took.Seconds())
	}
}

// openSearchCPU is OpenSearch's process CPU time in seconds.
func openSearchCPU(t *testing.T, osURL string) float64 {
	cpu, err := cputime.OpenSearch(osURL)
	if err != nil {
		t.Fatal(err)
	}
	return cpu
}

// deleteIndices removes the indices and index template of prefix.
func deleteIndices(osURL, prefix string) {
	for _, path := range []string{"/" + activity.IndexPattern(prefix), "/_index_template/" + activity.IndexAlias(prefix)} {
		req, _ := http.NewRequest(http.MethodDelete, osURL+path, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
}

// runIndexerProcess runs bin ingest (FLUXERA_PROFILE_INDEXER_BIN) on
// topic into prefix until its group has committed n events, and returns
// how long that took, the process's CPU time (/proc/<pid>/stat) and
// OpenSearch's over the same span.
func runIndexerProcess(t *testing.T, bin, osURL, topic, prefix string, n int) (time.Duration, float64, float64) {
	group := "test-profile-" + stacktest.RandomID()
	cmd := exec.Command(bin, "ingest")
	cmd.Env = append(os.Environ(), "FLUXERA_KAFKA_TOPIC="+topic, "FLUXERA_INGEST_GROUP="+group, "FLUXERA_INDEX_PREFIX="+prefix,
		"FLUXERA_KAFKA_DLQ_TOPIC="+topic+".dlq", "FLUXERA_KAFKA_ALERT_TOPIC="+topic+".alerts", "FLUXERA_OPS_ADDR=127.0.0.1:0", "FLUXERA_LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	os0, start := openSearchCPU(t, osURL), time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	client := &kafka.Client{Addr: kafka.TCP(stacktest.KafkaBrokers()...), Timeout: 10 * time.Second}
	for {
		res, err := client.OffsetFetch(t.Context(), &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0, 1, 2}}})
		if err == nil {
			var done int64
			for _, p := range res.Topics[topic] {
				done += max(0, p.CommittedOffset)
			}
			if done >= int64(n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return took, (utime + stime) / 100, openSearchCPU(t, osURL) - os0
}
