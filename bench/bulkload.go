package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/ingest/enrich"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
)

// bulkLoader is the baseline of the indexer figures: a minimal loader that
// turns encoded events into search documents with the indexer's own
// document code (decode, ingest.NewDocument, the same enrichment) and posts
// them to OpenSearch's _bulk API with the create operation. It reads
// nothing from Kafka, commits nothing and sends nothing to a dead-letter
// topic; it checks a response's "errors" flag and looks at the items only
// when it is set.
type bulkLoader struct {
	url, prefix string
	cfg         ingest.Config // batch size, batch bytes and workers
	enricher    ingest.Enricher
	client      *http.Client
	resent      atomic.Int64 // bulk requests sent again after an item failed
	// patience is how long a request that cannot reach OpenSearch is
	// tried again before the bench fails; none by default.
	patience time.Duration
}

// newBulkLoader returns a loader into the indices of prefix, batching and
// running requests in flight as cfg says, enriching as the indexer
// process does (FLUXERA_GEOIP_FILE, or the bundled table).
func newBulkLoader(osURL, prefix string, cfg ingest.Config) *bulkLoader {
	locator := enrich.Bundled()
	if path := os.Getenv("FLUXERA_GEOIP_FILE"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			fatalf("FLUXERA_GEOIP_FILE: %v", err)
		}
		locator, err = enrich.LoadCSV(f)
		f.Close()
		if err != nil {
			fatalf("FLUXERA_GEOIP_FILE %s: %v", path, err)
		}
	}
	return &bulkLoader{
		url: osURL, prefix: prefix, cfg: cfg, enricher: enrich.Enricher{Locator: locator},
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{
			MaxIdleConnsPerHost: 2*moreInFlight*cfg.Workers + 2, IdleConnTimeout: 90 * time.Second,
			DisableCompression: true, // as the indexer's client
		}},
	}
}

// load indexes msgs with as many requests in flight as the indexer has
// workers, and returns how long it took; see loadWith.
func (l *bulkLoader) load(msgs []domain.OutboxMessage) time.Duration {
	return l.loadWith(msgs, l.cfg.Workers)
}

// loadWith indexes msgs in batches cut as the indexer cuts them (by count
// and by bytes of the encoded events), with workers requests in flight,
// and returns how long the requests took. Every _bulk body is built before
// the clock starts, so that only OpenSearch's work and the requests are
// timed: the loader is a ceiling of the engine, not of a Go program.
func (l *bulkLoader) loadWith(msgs []domain.OutboxMessage, workers int) time.Duration {
	bodies := l.bodies(msgs)
	start := time.Now()
	l.send(bodies, workers)
	return time.Since(start)
}

// bodies are the _bulk bodies of msgs, cut as the indexer cuts batches:
// at most BatchSize events, and no more once BatchBytes of encoded events
// are in.
func (l *bulkLoader) bodies(msgs []domain.OutboxMessage) [][]byte {
	var bodies [][]byte
	for i := 0; i < len(msgs); {
		j, size := i, 0
		for j < len(msgs) && j-i < l.cfg.BatchSize && size < l.cfg.BatchBytes {
			size += len(msgs[j].Payload)
			j++
		}
		bodies = append(bodies, l.body(msgs[i:j]))
		i = j
	}
	return bodies
}

// send posts bodies with workers requests in flight.
func (l *bulkLoader) send(bodies [][]byte, workers int) {
	work := make(chan []byte, len(bodies))
	for _, b := range bodies {
		work <- b
	}
	close(work)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				l.post(b)
			}
		}()
	}
	wg.Wait()
}

// index builds the documents of msgs and stores them with one _bulk
// request.
func (l *bulkLoader) index(msgs []domain.OutboxMessage) {
	l.post(l.body(msgs))
}

// body is the _bulk body of msgs: the documents the indexer's own code
// builds (activity.DecodeEvent, ingest.NewDocument, the enricher,
// ingest.EncodeDocument), each after its create action.
func (l *bulkLoader) body(msgs []domain.OutboxMessage) []byte {
	var body bytes.Buffer
	for _, m := range msgs {
		e, err := activity.DecodeEvent(m.Payload)
		if err != nil {
			fatalf("decode event %s: %v", m.EventID, err)
		}
		doc := ingest.NewDocument(e, time.Now())
		l.enricher.Enrich(&doc)
		b, err := ingest.EncodeDocument(&doc)
		if err != nil {
			fatalf("encode document %s: %v", e.ID, err)
		}
		fmt.Fprintf(&body, `{"create":{"_index":%q,"_id":%q}}`+"\n", activity.IndexName(l.prefix, e.OccurredAt), e.ID)
		body.Write(b)
		body.WriteByte('\n')
	}
	return body.Bytes()
}

// post sends one _bulk body until every item is stored. An item that
// already exists (409) counts as stored, so a body is simply sent again
// when an item failed for a passing reason. It gives up after 10
// attempts, or, with patience, once OpenSearch has failed for that long.
func (l *bulkLoader) post(body []byte) {
	first := time.Time{} // of the failures in a row
	for attempt := 1; ; attempt++ {
		req, _ := http.NewRequest(http.MethodPost, l.url+ingestos.BulkPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := l.client.Do(req)
		var raw []byte
		if err == nil {
			raw, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		switch {
		case err != nil:
			err = fmt.Errorf("direct bulk request: %w", err)
		case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
			err = fmt.Errorf("direct bulk request: status %d: %s", res.StatusCode, truncated(raw))
		case res.StatusCode != http.StatusOK:
			fatalf("direct bulk request: status %d: %s", res.StatusCode, truncated(raw))
		default:
			failed, derr := bulkItemsFailed(raw)
			if derr != nil {
				fatalf("direct bulk response: %v", derr)
			}
			if !failed {
				return
			}
			err = fmt.Errorf("direct bulk request: items failed: %s", truncated(raw))
		}
		if first.IsZero() {
			first = time.Now()
		}
		if l.patience == 0 && attempt == 10 || l.patience > 0 && time.Since(first) > l.patience {
			fatalf("still failing after %d attempts in %.0f s: %v", attempt, time.Since(first).Seconds(), err)
		}
		l.resent.Add(1)
		time.Sleep(min(time.Duration(attempt)*100*time.Millisecond, 5*time.Second))
	}
}

// bulkItemsFailed reads a _bulk response's "errors" flag and, only when it
// is set, its items: it reports whether an item failed for a passing
// reason (429, 5xx), and fails on any other refusal except 409, which
// means the document is stored already.
func bulkItemsFailed(raw []byte) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false, fmt.Errorf("not a JSON object: %s", truncated(raw))
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false, err
		}
		if key != "errors" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return false, err
			}
			continue
		}
		var errs bool
		if err := dec.Decode(&errs); err != nil || !errs {
			return false, err
		}
		var all struct {
			Items []map[string]struct {
				Status int             `json:"status"`
				Error  json.RawMessage `json:"error"`
			} `json:"items"`
		}
		if err := json.Unmarshal(raw, &all); err != nil {
			return false, err
		}
		failed := false
		for _, item := range all.Items {
			for _, r := range item {
				switch {
				case r.Status < 300 || r.Status == http.StatusConflict:
				case r.Status == http.StatusTooManyRequests || r.Status >= 500:
					failed = true
				default:
					return false, fmt.Errorf("item refused with status %d: %s", r.Status, r.Error)
				}
			}
		}
		return failed, nil
	}
	return false, fmt.Errorf("no errors field: %s", truncated(raw))
}

func truncated(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
