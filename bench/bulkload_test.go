package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/ingest/synthetic"
)

// TestDirectLoaderSendsWhatTheIndexerSends checks the direct baseline:
// its bodies are built before any request, cut as the indexer's batches,
// and sent to the sink's path with at most the requests in flight asked
// for.
func TestDirectLoaderSendsWhatTheIndexerSends(t *testing.T) {
	var (
		mu                  sync.Mutex
		paths               []string
		lines               int
		inFlight, maxFlight int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxFlight = max(maxFlight, inFlight)
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		inFlight--
		paths = append(paths, r.URL.RequestURI())
		lines += bytes.Count(body, []byte("\n"))
		mu.Unlock()
		fmt.Fprint(w, `{"errors":false,"items":[]}`)
	}))
	defer srv.Close()

	gen := synthetic.New(5, 3, 3, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Second)
	msgs := syntheticMessages(gen, 250)
	cfg := ingest.Config{BatchSize: 40, BatchBytes: 1 << 20, Workers: 2}
	l := newBulkLoader(srv.URL, "x", cfg)

	bodies := l.bodies(msgs)
	if len(bodies) != 7 || len(paths) != 0 {
		t.Fatalf("%d bodies (want 7 of at most 40 events) with %d requests sent while building (want none)", len(bodies), len(paths))
	}
	for i, b := range bodies {
		if n, want := bytes.Count(b, []byte("\n")), 2*min(40, 250-40*i); n != want {
			t.Errorf("body %d has %d lines, want %d", i, n, want)
		}
	}
	l.send(bodies, 3)
	if len(paths) != 7 || lines != 500 || maxFlight > 3 {
		t.Errorf("%d requests of %d lines in all with up to %d in flight; want 7 requests, 500 lines, at most 3 in flight", len(paths), lines, maxFlight)
	}
	for _, p := range paths {
		if p != ingestos.BulkPath {
			t.Errorf("request to %s, want the sink's %s", p, ingestos.BulkPath)
		}
	}

	byBytes := newBulkLoader(srv.URL, "x", ingest.Config{BatchSize: 1000, BatchBytes: 1, Workers: 1})
	if n := len(byBytes.bodies(msgs[:5])); n != 5 {
		t.Errorf("%d bodies cut by bytes, want one per event", n)
	}
}
