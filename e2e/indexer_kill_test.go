package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// MustBinary builds the fluxera binary once per test run.
func MustBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fluxera-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fluxera")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/fluxera").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

// MustProduce writes n synthetic events to cfg's activity topic and returns
// their ids.
func MustProduce(tb testing.TB, cfg app.Config, n int) map[string]bool {
	tb.Helper()
	w := topic.NewWriter(cfg.Publisher.Brokers, cfg.Publisher.Topic)
	w.BatchSize, w.BatchTimeout = 1000, 5*time.Millisecond
	defer w.Close()
	gen := synthetic.New(1, 5, 8, time.Now().Add(-time.Hour), time.Millisecond)
	ids := make(map[string]bool, n)
	msgs := make([]kafka.Message, 0, 1000)
	for i := 0; i < n; i++ {
		e := gen.Next()
		ids[e.ID] = true
		b, _ := json.Marshal(e)
		msgs = append(msgs, kafka.Message{Key: []byte(e.WorkspaceID), Value: b})
		if len(msgs) == cap(msgs) || i == n-1 {
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				tb.Fatalf("produce: %v", err)
			}
			msgs = msgs[:0]
		}
	}
	return ids
}

// indexedCount refreshes the test's indices and counts their documents.
func indexedCount(tb testing.TB, cfg app.Config) int {
	tb.Helper()
	base := cfg.OpenSearch.URLs[0] + "/" + activity.IndexAlias(cfg.OpenSearch.IndexPrefix)
	if res, err := http.Post(base+"/_refresh?ignore_unavailable=true&allow_no_indices=true", "application/json", nil); err == nil {
		res.Body.Close()
	}
	res, err := http.Get(base + "/_count?ignore_unavailable=true&allow_no_indices=true")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Count int `json:"count"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	return out.Count
}

// environ is the process environment with the test's isolated settings.
func environ(cfg app.Config, extra ...string) []string {
	return append(os.Environ(), append([]string{
		"FLUXERA_DATABASE_SCHEMA=" + cfg.Postgres.Schema,
		"FLUXERA_KAFKA_TOPIC=" + cfg.Publisher.Topic,
		"FLUXERA_KAFKA_DLQ_TOPIC=" + cfg.Consumer.DeadLetterTopic,
		"FLUXERA_INGEST_GROUP=" + cfg.Consumer.GroupID,
		"FLUXERA_INDEX_PREFIX=" + cfg.OpenSearch.IndexPrefix,
		"FLUXERA_OPS_ADDR=127.0.0.1:0",
		"FLUXERA_LOG_LEVEL=warn",
	}, extra...)...)
}

func TestIndexerKilledMidStreamLosesAndDoublesNothing(t *testing.T) {
	stacktest.SkipUnlessDisruptive(t)
	cfg := MustStack(t)
	bin := MustBinary(t)
	m := app.NewMain(cfg)
	defer m.Close()
	if err := m.Prepare(t.Context(), app.RoleIngest); err != nil {
		t.Fatal(err)
	}
	const n = 30000
	MustProduce(t, cfg, n)

	// Small batches and one worker make the stream long enough to kill
	// the indexer in the middle of it.
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "ingest")
		cmd.Env = environ(cfg, "FLUXERA_INGEST_BATCH_SIZE=50", "FLUXERA_INGEST_WORKERS=1")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := start()
	var atKill int
	stacktest.Eventually(t, "the first indexer indexes part of the stream", func() bool {
		atKill = indexedCount(t, cfg)
		return atKill >= 3000
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	if atKill >= n {
		t.Fatalf("the indexer finished all %d events before it was killed; the test needs a longer stream", n)
	}
	t.Logf("killed the indexer with %d of %d events indexed", atKill, n)

	second := start()
	defer func() {
		second.Process.Signal(syscall.SIGTERM)
		second.Wait()
	}()
	var got int
	stacktest.Eventually(t, fmt.Sprintf("all %d events are indexed after the restart", n), func() bool {
		got = indexedCount(t, cfg)
		return got >= n
	})
	// Let the restarted indexer finish whatever it re-read, then count again:
	// a redelivered event must not become a second document.
	second.Process.Signal(syscall.SIGTERM)
	second.Wait()
	if got = indexedCount(t, cfg); got != n {
		t.Fatalf("indexed %d documents for %d events", got, n)
	}
}
