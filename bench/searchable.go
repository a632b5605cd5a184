package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
	"github.com/fluxera/activity/ingest/synthetic"
)

// searchPoll is how often each side searches for the sampled events it
// has written and not found yet.
const searchPoll = 10 * time.Millisecond

// steadySide is one writer of the searchable figures: the sampled events
// it wrote and not yet found, and how long the found ones took.
type steadySide struct {
	alias   string
	mu      sync.Mutex
	pending map[string]time.Time
	found   []time.Duration
}

// steadyWrite sends msgs at rate events per second for as long as the
// schedule lasts, each due event with the next send, and notes the time
// each sampled event was handed over.
func steadyWrite(side *steadySide, msgs []domain.OutboxMessage, rate, sampleEvery int, start time.Time, send func([]domain.OutboxMessage)) {
	tick := time.NewTicker(searchPoll)
	defer tick.Stop()
	time.Sleep(time.Until(start))
	next := 0
	for next < len(msgs) {
		due := min(len(msgs), int(time.Since(start).Seconds()*float64(rate))+1)
		if due > next {
			at := time.Now()
			side.mu.Lock()
			for i := next; i < due; i++ {
				if i%sampleEvery == 0 {
					side.pending[msgs[i].EventID] = at
				}
			}
			side.mu.Unlock()
			send(msgs[next:due])
			next = due
		}
		<-tick.C
	}
}

// poll searches the side's alias for its pending events every searchPoll
// until ctx ends, and moves each one found to the found latencies.
func (s *steadySide) poll(ctx context.Context, osURL string) {
	client := &http.Client{Timeout: 10 * time.Second}
	for ctx.Err() == nil {
		s.mu.Lock()
		ids := make([]string, 0, len(s.pending))
		for id := range s.pending {
			if len(ids) == 1000 {
				break
			}
			ids = append(ids, id)
		}
		s.mu.Unlock()
		if len(ids) > 0 {
			hits := searchIDs(ctx, client, osURL, s.alias, ids)
			now := time.Now()
			s.mu.Lock()
			for _, id := range hits {
				if at, ok := s.pending[id]; ok {
					s.found = append(s.found, now.Sub(at))
					delete(s.pending, id)
				}
			}
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(searchPoll):
		}
	}
}

// left is how many sampled events have not been found yet.
func (s *steadySide) left() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// searchIDs returns which of ids a search on alias finds now.
func searchIDs(ctx context.Context, client *http.Client, osURL, alias string, ids []string) []string {
	q, _ := json.Marshal(map[string]any{"size": len(ids), "_source": false, "query": map[string]any{"ids": map[string]any{"values": ids}}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, osURL+"/"+alias+"/_search", bytes.NewReader(q))
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var out struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil {
		return nil
	}
	found := make([]string, len(out.Hits.Hits))
	for i, h := range out.Hits.Hits {
		found[i] = h.ID
	}
	return found
}

// searchableFigures measures produce → searchable at run.rate synthetic
// events per second: first through the indexer for run.steady, the events
// handed to the topic it reads, then, once it is idle again, the first
// half of the same events handed straight to OpenSearch by the direct
// loader, one _bulk request per tick, into its own index with the same
// refresh interval. One side runs at a time so that each sees the load of
// one stream. For one event in every fifty per second of each it measures
// the time from the hand-over until a search on its side's alias finds it.
func searchableFigures(e *env, run indexerRun, pub *domainkafka.Publisher, loader *bulkLoader, ix *ingestProcess, ixPrefix, directPrefix string, before int64) []Figure {
	ctx := context.Background()
	n := max(1, int(float64(run.rate)*run.steady.Seconds()))
	gen := synthetic.New(3, indexerWorkspaces, indexerUsers, time.Now(), time.Second/time.Duration(run.rate))
	msgs := syntheticMessages(gen, n)
	sampleEvery := max(1, run.rate/50)

	platform, platformFor := steadyRun(e.osURL, activity.IndexAlias(ixPrefix), msgs, run.rate, sampleEvery, ix.alive, func(b []domain.OutboxMessage) {
		if err := pub.Publish(ctx, b); err != nil {
			fatalf("publish: %v", err)
		}
	})
	ix.waitCommitted(ctx, before+int64(n), 100*time.Millisecond, time.Minute)
	settle(e.osURL)
	direct, directFor := steadyRun(e.osURL, activity.IndexAlias(directPrefix), msgs[:max(1, n/2)], run.rate, sampleEvery, func() {}, loader.index)

	p50, p99 := percentile(platform, 50), percentile(platform, 99)
	d50, d99 := percentile(direct, 50), percentile(direct, 99)
	notes := fmt.Sprintf("%d synthetic events at %d/s (%.1f s), handed every 10 ms to the topic the bin/fluxera ingest of the figures above reads (the relay's publisher, acknowledged by every in-sync replica); the indexer batches for up to %s before a bulk request. "+
		"The baseline hands the first %d of the same events at the same rate (%.1f s), after the indexer went idle, straight to OpenSearch: every 10 ms one _bulk create of the due documents, built by the indexer's code, into the loader's index with the same refresh interval (%s). "+
		"Every %dth event (%d through the indexer, %d direct) is searched for by id on its side's alias every %s until found, and timed from its hand-over; max: indexer %.1f ms, direct %.1f ms",
		n, run.rate, platformFor.Seconds(), envDuration("FLUXERA_INGEST_FLUSH_INTERVAL", 200*time.Millisecond),
		max(1, n/2), directFor.Seconds(), getenv("FLUXERA_INDEX_REFRESH_INTERVAL", "1s"),
		sampleEvery, len(platform), len(direct), searchPoll, ms(percentile(platform, 100)), ms(percentile(direct, 100)))
	return []Figure{
		{Name: "ingest.searchable_p50_ms", Value: ms(p50), Unit: "ms", Baseline: &Baseline{Name: "direct_write.searchable_p50_ms", Value: ms(d50)}, Ratio: round2(ms(p50) / ms(d50)), Notes: notes},
		{Name: "ingest.searchable_p99_ms", Value: ms(p99), Unit: "ms", Baseline: &Baseline{Name: "direct_write.searchable_p99_ms", Value: ms(d99)}, Ratio: round2(ms(p99) / ms(d99)), Notes: notes},
	}
}

// steadyRun hands msgs over with send at rate per second while searching
// alias for the sampled ones, and returns how long each sampled event took
// to be found and how long the writing lasted. check runs while it waits
// for the last ones.
func steadyRun(osURL, alias string, msgs []domain.OutboxMessage, rate, sampleEvery int, check func(), send func([]domain.OutboxMessage)) ([]time.Duration, time.Duration) {
	side := &steadySide{alias: alias, pending: map[string]time.Time{}}
	ctx, stopPolling := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		side.poll(ctx, osURL)
	}()
	start := time.Now().Add(100 * time.Millisecond)
	steadyWrite(side, msgs, rate, sampleEvery, start, send)
	wrote := time.Since(start)
	deadline := time.Now().Add(30 * time.Second)
	for side.left() > 0 && time.Now().Before(deadline) {
		check()
		time.Sleep(50 * time.Millisecond)
	}
	stopPolling()
	<-polled
	if side.left() > 0 {
		fatalf("%d sampled events were still not found on %s 30 s after the last was written", side.left(), alias)
	}
	return side.found, wrote
}
