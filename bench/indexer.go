package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
	"github.com/fluxera/activity/ingest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/internal/cputime"
)

// indexerRun sizes the indexer figures.
type indexerRun struct {
	events int           // indexed for the throughput figure; 0 skips the indexer figures
	burst  int           // produced at once for the lag drain figure
	rate   int           // events per second for the searchable figures
	steady time.Duration // how long that rate is held
}

// Synthetic events of the indexer figures come from this many workspaces
// with this many users each, keyed by workspace on the topic.
const (
	indexerWorkspaces = 120
	indexerUsers      = 10
)

// moreInFlight is how many times the indexer's requests in flight the
// direct loader's second point runs, to show whether the first is the
// engine's ceiling or the loader's.
const moreInFlight = 2

// loaderSharePercent is the share of the throughput events the direct
// loader indexes before the indexer runs, and again after it: half and
// half, so that it indexes as many documents into one index as the
// indexer does. OpenSearch indexes more slowly as an index grows (its
// merges grow with it), so a loader timed over a smaller index than the
// indexer's would measure an easier job than the indexer's.
const loaderSharePercent = 50

// indexerFigures measures the indexer (bin/fluxera ingest, the indexer
// role alone in a process of its own, on a fresh topic, consumer group and
// index prefix, the template installed by it) beside a direct _bulk loader
// in the bench process with the same documents, batch size and requests in
// flight, into an index prefix of its own with the same template settings,
// its bodies built before its clock starts; the same loader with
// moreInFlight times the requests in flight is a second point, which shows
// whether that ceiling is the engine's or the loader's:
//
//  1. throughput over run.events synthetic events produced to the topic
//     beforehand, from the process's start until the group has committed
//     all of them, beside the loader's rate over the same
//     events, indexed half before and half after the indexer's run;
//  2. the time the caught-up, idle indexer takes to bring its lag back to
//     0 after a burst of run.burst events, beside the loader indexing the
//     same burst, and the indexer's peak RSS over the whole run;
//  3. produce → searchable latency at run.rate events per second for
//     run.steady, beside the same events written straight to OpenSearch at
//     the same rate.
func indexerFigures(e *env, run indexerRun) []Figure {
	if run.events <= 0 {
		return nil
	}
	ctx := context.Background()
	cfg := ingest.Config{
		BatchSize:     envInt("FLUXERA_INGEST_BATCH_SIZE", 0),
		BatchBytes:    envInt("FLUXERA_INGEST_BATCH_BYTES", 0),
		FlushInterval: envDuration("FLUXERA_INGEST_FLUSH_INTERVAL", 0),
		Workers:       envInt("FLUXERA_INGEST_WORKERS", 0),
	}
	if err := cfg.Validate(); err != nil {
		fatalf("%v", err)
	}
	topic, dlq, alerts, group := "bench.ingest."+e.id, "bench.ingest-dlq."+e.id, "bench.ingest-alerts."+e.id, "bench-ingest-"+e.id
	pubCfg := domainkafka.Config{
		Brokers:           e.brokers,
		Topic:             topic,
		Partitions:        envInt("FLUXERA_KAFKA_PARTITIONS", 0),
		ReplicationFactor: envInt("FLUXERA_KAFKA_REPLICATION", 0),
	}
	if err := pubCfg.Validate(); err != nil {
		fatalf("%v", err)
	}
	ixPrefix, directPrefix, morePrefix := e.prefix+"-ingest", e.prefix+"-direct", e.prefix+"-direct-more"
	osCfg := ingestos.Config{
		URLs:            []string{e.osURL},
		IndexPrefix:     directPrefix,
		Shards:          envInt("FLUXERA_INDEX_SHARDS", 0),
		Replicas:        envInt("FLUXERA_INDEX_REPLICAS", 0),
		RefreshInterval: getenv("FLUXERA_INDEX_REFRESH_INTERVAL", ""),
	}
	if err := osCfg.Validate(); err != nil {
		fatalf("%v", err)
	}

	client := &kafka.Client{Addr: kafka.TCP(e.brokers...), Timeout: 30 * time.Second}
	var ix *ingestProcess
	atExit(func() {
		if ix != nil {
			ix.stop()
		}
		deleteIndices(e.osURL, ixPrefix, directPrefix, morePrefix)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		deleteTopics(ctx, client, topic, dlq, alerts)
		deleteGroup(ctx, client, group)
	})
	createTopics(ctx, client, pubCfg.Partitions, pubCfg.ReplicationFactor, topic)
	osc, err := ingestos.NewClient(osCfg)
	if err != nil {
		fatalf("%v", err)
	}
	if err := ingestos.EnsureTemplate(ctx, osc, osCfg); err != nil {
		fatalf("install the direct loader's template: %v", err)
	}
	moreCfg := osCfg
	moreCfg.IndexPrefix = morePrefix
	if err := ingestos.EnsureTemplate(ctx, osc, moreCfg); err != nil {
		fatalf("install the direct loader's template: %v", err)
	}
	loader := newBulkLoader(e.osURL, directPrefix, cfg)
	more := newBulkLoader(e.osURL, morePrefix, cfg)
	pub := domainkafka.NewPublisher(pubCfg)
	defer pub.Close()

	// 1. Throughput. The loader indexes a share of the same events before
	// the indexer runs and the same share after it, so that drift on a
	// shared machine weighs on both sides.
	gen := synthetic.New(1, indexerWorkspaces, indexerUsers, time.Now().Add(-time.Duration(run.events+run.burst)*time.Millisecond), time.Millisecond)
	share := max(1, run.events*loaderSharePercent/100)
	head, tail, payloadBytes, produced := produceSynthetic(ctx, pub, gen, run.events, share)

	settle(e.osURL)
	cpu0, directOS0 := cputime.Self(), openSearchCPUSeconds(e.osURL)
	directHead := loader.load(head)
	directCPU, directOS := cputime.Self()-cpu0, openSearchCPUSeconds(e.osURL)-directOS0
	directOS0 = openSearchCPUSeconds(e.osURL)
	settle(e.osURL)
	directTailOS := openSearchCPUSeconds(e.osURL) - directOS0
	moreHead := more.loadWith(head, moreInFlight*cfg.Workers)
	head = nil

	settle(e.osURL)
	osCPU0, kafkaCPU0 := openSearchCPUSeconds(e.osURL), kafkaCPUSeconds()
	ix = startIngest(e, topic, group, pubCfg.Partitions,
		"FLUXERA_INDEX_PREFIX="+ixPrefix, "FLUXERA_KAFKA_DLQ_TOPIC="+dlq, "FLUXERA_KAFKA_ALERT_TOPIC="+alerts)
	done, first, firstCount := ix.waitCommitted(ctx, int64(run.events), 100*time.Millisecond, 20*time.Minute)
	indexed := done.Sub(ix.started)
	indexerCPU := cpuSeconds(ix.cmd.Process.Pid)
	osCPU, kafkaCPU := openSearchCPUSeconds(e.osURL)-osCPU0, kafkaCPUSeconds()-kafkaCPU0
	rssAfterThroughput := statusKB(ix.cmd.Process.Pid, "VmHWM")
	m := ix.metrics()

	osCPU0 = openSearchCPUSeconds(e.osURL)
	settle(e.osURL)
	ixTailOS := openSearchCPUSeconds(e.osURL) - osCPU0
	cpu0, directOS0 = cputime.Self(), openSearchCPUSeconds(e.osURL)
	directTail := loader.load(tail)
	directCPU += cputime.Self() - cpu0
	directOS += openSearchCPUSeconds(e.osURL) - directOS0
	directOS0 = openSearchCPUSeconds(e.osURL)
	settle(e.osURL)
	directTailOS += openSearchCPUSeconds(e.osURL) - directOS0
	moreTail := more.loadWith(tail, moreInFlight*cfg.Workers)
	tail = nil
	expectCount(e.osURL, ixPrefix, run.events)
	expectCount(e.osURL, directPrefix, 2*share)
	expectCount(e.osURL, morePrefix, 2*share)
	moreRate := float64(2*share) / (moreHead + moreTail).Seconds()

	direct := directHead + directTail
	ixRate, directRate := float64(run.events)/indexed.Seconds(), float64(2*share)/direct.Seconds()
	steadyRate := float64(int64(run.events)-firstCount) / done.Sub(first).Seconds()
	figures := []Figure{{
		Name: "ingest.events_per_s", Value: round(ixRate), Unit: "events/s",
		Baseline: &Baseline{Name: "direct_bulk.events_per_s", Value: round(directRate)}, Ratio: round2(ixRate / directRate),
		Notes: fmt.Sprintf("%d synthetic events (ingest/synthetic: %d workspaces of %d users; logins, failed logins, asset edits, key views; mean payload %d bytes) published beforehand to a fresh topic of %d partitions, keyed by workspace, with the relay's publisher, 1000 per call (%.1f s with their generation). "+
			"The figure runs bin/fluxera ingest (own consumer group and index prefix, template installed by it, batch %d documents or %d bytes, flush %s, %d bulk requests in flight) from process start until the group's committed offsets, polled every 100 ms, cover every event (%.1f s; first commit after %.1f s, %.0f events/s from then on; %.0f indexed, %.0f retried, %.0f dead-lettered by its metrics; %.1f CPU-s in the process, %.0f µs per event). "+
			"The baseline is a minimal loader in the bench process that builds the same documents with the indexer's code (activity.DecodeEvent, ingest.NewDocument, enrich.Enricher, ingest.EncodeDocument) and every _bulk body before its clock starts, then times only the _bulk create requests (the indexer's path and filter_path), same batch size and requests in flight, into an index prefix of its own with the same template settings (shards %d, replicas %d, refresh %s), reading nothing from Kafka and committing nothing; "+
			"it indexes the first %d%% of the events before the indexer starts (%.1f s) and the last %d%% after it finished (%.1f s), each after OpenSearch's merges settled (%.1f CPU-s with the building of the bodies, %.0f µs per event, %d requests sent again). "+
			"The same loader with %d times the requests in flight, into a third index prefix, reaches %.0f events/s (direct_bulk.events_per_s_more_in_flight): the ceiling is the engine's when that is not much above the baseline. "+
			"CPU over the timed spans, per million events: the indexer's run %.1f CPU-s in OpenSearch, %.1f in the indexer, %.1f in the Kafka broker (%.2f cores busy); the baseline's %.1f in OpenSearch (%.2f cores busy; the loader's own %.1f include building the bodies before its clock); the merges that finished after the clocks stopped, until OpenSearch settled, took %.1f more after the indexer and %.1f after the baseline's two halves. "+
			"When both sides keep the two cores busy, the ratio cannot exceed OpenSearch's CPU per event in the baseline over all the CPU per event of the indexer's run: %.2f here. "+
			"Other work on the same two cores (OpenSearch, Kafka, PostgreSQL, other people's builds and tests) is not stopped",
			run.events, indexerWorkspaces, indexerUsers, payloadBytes/run.events, pubCfg.Partitions, produced.Seconds(),
			cfg.BatchSize, cfg.BatchBytes, cfg.FlushInterval, cfg.Workers,
			indexed.Seconds(), first.Sub(ix.started).Seconds(), steadyRate, m["fluxera_ingest_indexed_total"], m["fluxera_ingest_retried_total"], m["fluxera_ingest_dead_lettered_total"],
			indexerCPU, indexerCPU/float64(run.events)*1e6,
			osCfg.Shards, osCfg.Replicas, osCfg.RefreshInterval,
			loaderSharePercent, directHead.Seconds(), loaderSharePercent, directTail.Seconds(), directCPU, directCPU/float64(2*share)*1e6, loader.resent.Load(),
			moreInFlight, moreRate,
			perMillion(osCPU, run.events), perMillion(indexerCPU, run.events), perMillion(kafkaCPU, run.events), (osCPU+indexerCPU+kafkaCPU)/indexed.Seconds(),
			perMillion(directOS, 2*share), directOS/direct.Seconds(), perMillion(directCPU, 2*share),
			perMillion(ixTailOS, run.events), perMillion(directTailOS, 2*share),
			(directOS/float64(2*share))/((osCPU+indexerCPU+kafkaCPU)/float64(run.events))),
	}, {
		Name: "direct_bulk.events_per_s_more_in_flight", Value: round(moreRate), Unit: "events/s",
		Baseline: &Baseline{Name: "direct_bulk.events_per_s", Value: round(directRate)}, Ratio: round2(moreRate / directRate),
		Notes: fmt.Sprintf("The direct loader of ingest.events_per_s with %d requests in flight instead of %d, the bodies built before the clock as there, into an index prefix of its own: the first %d%% of the events after the baseline's first run (%.1f s), the last %d%% after its second (%.1f s), each after OpenSearch's merges settled (%d requests sent again). "+
			"A ratio near 1 says the baseline is the engine's ceiling on this machine, not the loader's",
			moreInFlight*cfg.Workers, cfg.Workers, loaderSharePercent, moreHead.Seconds(), loaderSharePercent, moreTail.Seconds(), more.resent.Load()),
	}}

	figures = append(figures, cpuFigure("ingest.cpu_s_per_million", "opensearch.cpu_s_per_million", indexerCPU, osCPU, run.events,
		fmt.Sprintf("The component is bin/fluxera ingest from its start until its commits covered every event of the throughput run; the engine is OpenSearch (its node stats' process CPU time) over the same span, merges included. "+
			"Over the same span the Kafka broker the indexer reads from used %.1f CPU-s (%.1f per million events). On two cores every CPU-second of the indexer and the broker is one OpenSearch cannot spend indexing. Goal: at most 12 s per million in the indexer.", kafkaCPU, kafkaCPU/float64(run.events)*1e6)))

	// 2. Lag drain after a burst, while the indexer is caught up and idle.
	total := int64(run.events)
	if run.burst > 0 {
		burst := syntheticMessages(gen, run.burst)
		settle(e.osURL)
		burstStart := time.Now()
		publishAll(ctx, pub, burst)
		burstEnd := time.Now()
		total += int64(run.burst)
		lagAtEnd := total - max(0, ix.committed(ctx))
		drained, _, _ := ix.waitCommitted(ctx, total, 20*time.Millisecond, 10*time.Minute)
		drain := drained.Sub(burstEnd)
		settle(e.osURL)
		directBurst := loader.load(burst)
		burst = nil
		figures = append(figures, Figure{
			Name: "ingest.lag_drain_s", Value: round2(drain.Seconds()), Unit: "s",
			Baseline: &Baseline{Name: "direct_bulk.burst_index_s", Value: round2(directBurst.Seconds())}, Ratio: round2(drain.Seconds() / directBurst.Seconds()),
			Notes: fmt.Sprintf("%d synthetic events published at once (the relay's publisher, %d per call, %.2f s) to the topic the same bin/fluxera ingest had caught up on and was idle on; "+
				"the figure is the time from the end of the burst until the group's committed offsets reach the end of the topic, polled every 20 ms (lag at the end of the burst %d; %.2f s from the burst's start). "+
				"The baseline is the direct loader indexing the same %d events, start to end, into its own index of %d documents, after the indexer's had settled",
				run.burst, 1000, burstEnd.Sub(burstStart).Seconds(), lagAtEnd, drained.Sub(burstStart).Seconds(), run.burst, 2*share),
		})
	}

	// 3. Produce → searchable at a steady rate.
	if run.rate > 0 && run.steady > 0 {
		settle(e.osURL)
		figures = append(figures, searchableFigures(e, run, pub, loader, ix, ixPrefix, directPrefix, total)...)
	}

	peak := statusKB(ix.cmd.Process.Pid, "VmHWM")
	parts := "the throughput run"
	if run.burst > 0 {
		parts += ", the burst"
	}
	if run.rate > 0 && run.steady > 0 {
		parts += " and the steady run"
	}
	figures = append(figures, Figure{
		Name: "ingest.peak_rss_mb", Value: round(float64(peak) / 1024), Unit: "MB",
		Notes: fmt.Sprintf("VmHWM of the bin/fluxera ingest process (/proc/<pid>/status) over %s, %d events in all; %.1f MB after the throughput run alone. "+
			"Goal: under 150 MB. No baseline: nothing else does the same job; for scale, the bench process, which held %d encoded events for the loader, peaked at %.0f MB",
			parts, total, float64(rssAfterThroughput)/1024, 2*share, float64(statusKB(os.Getpid(), "VmHWM"))/1024),
	})
	return figures
}

// perMillion is cpu seconds spent on events events, per million events.
func perMillion(cpu float64, events int) float64 {
	return cpu / float64(events) * 1e6
}

// syntheticMessages encodes the generator's next n events as the relay
// publishes them.
func syntheticMessages(gen *synthetic.Generator, n int) []domain.OutboxMessage {
	msgs := make([]domain.OutboxMessage, n)
	for i := range msgs {
		ev := gen.Next()
		b, err := json.Marshal(ev)
		if err != nil {
			fatalf("encode synthetic event: %v", err)
		}
		msgs[i] = domain.OutboxMessage{Seq: int64(i + 1), EventID: ev.ID, WorkspaceID: ev.WorkspaceID, Payload: b}
	}
	return msgs
}

// produceSynthetic publishes the generator's next n events to the topic
// as the relay does, 1000 per call, generating the next thousand while the
// last are being published. It keeps the first and the last keep events
// for the direct loader, and returns them with the size of all the events
// and how long generating and publishing took.
func produceSynthetic(ctx context.Context, pub *domainkafka.Publisher, gen *synthetic.Generator, n, keep int) (head, tail []domain.OutboxMessage, size int, took time.Duration) {
	start := time.Now()
	chunks := make(chan []domain.OutboxMessage, 4)
	published := make(chan struct{})
	go func() {
		defer close(published)
		for c := range chunks {
			if err := pub.Publish(ctx, c); err != nil {
				fatalf("publish: %v", err)
			}
		}
	}()
	for i := 0; i < n; i += 1000 {
		chunk := syntheticMessages(gen, min(1000, n-i))
		for j, m := range chunk {
			size += len(m.Payload)
			switch k := i + j; {
			case k < keep:
				head = append(head, m)
			case k >= n-keep:
				tail = append(tail, m)
			}
		}
		chunks <- chunk
	}
	close(chunks)
	<-published
	return head, tail, size, time.Since(start)
}

// publishAll publishes msgs as the relay does, one batch of 1000 after the
// other, and returns how long it took.
func publishAll(ctx context.Context, pub *domainkafka.Publisher, msgs []domain.OutboxMessage) time.Duration {
	start := time.Now()
	for i := 0; i < len(msgs); i += 1000 {
		if err := pub.Publish(ctx, msgs[i:min(i+1000, len(msgs))]); err != nil {
			fatalf("publish: %v", err)
		}
	}
	return time.Since(start)
}

// settle waits until OpenSearch runs no merge and no write, seen twice in
// a row, for at most 30 s, so that what one side left behind does not land
// in the other's measurement.
func settle(osURL string) {
	deadline := time.Now().Add(30 * time.Second)
	quiet := 0
	for quiet < 2 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		res, err := http.Get(osURL + "/_nodes/stats/indices,thread_pool?filter_path=nodes.*.indices.merges.current,nodes.*.thread_pool.write.active,nodes.*.thread_pool.write.queue")
		if err != nil {
			continue
		}
		var out struct {
			Nodes map[string]struct {
				Indices struct {
					Merges struct {
						Current int `json:"current"`
					} `json:"merges"`
				} `json:"indices"`
				ThreadPool struct {
					Write struct {
						Active int `json:"active"`
						Queue  int `json:"queue"`
					} `json:"write"`
				} `json:"thread_pool"`
			} `json:"nodes"`
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		busy := err != nil
		for _, n := range out.Nodes {
			busy = busy || n.Indices.Merges.Current > 0 || n.ThreadPool.Write.Active > 0 || n.ThreadPool.Write.Queue > 0
		}
		if busy {
			quiet = 0
		} else {
			quiet++
		}
	}
}

// expectCount refreshes the alias of prefix and fails unless it holds
// want documents.
func expectCount(osURL, prefix string, want int) {
	alias := activity.IndexAlias(prefix)
	req, _ := http.NewRequest(http.MethodPost, osURL+"/"+alias+"/_refresh", nil)
	mustDo(req)
	res, err := http.Get(osURL + "/" + alias + "/_count")
	if err != nil {
		fatalf("count %s: %v", alias, err)
	}
	defer res.Body.Close()
	var out struct {
		Count int `json:"count"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		fatalf("count %s: %v", alias, err)
	}
	if out.Count != want {
		fatalf("%s holds %d documents, expected %d", alias, out.Count, want)
	}
}

// deleteIndices removes the indices and index templates of prefixes.
func deleteIndices(osURL string, prefixes ...string) {
	for _, p := range prefixes {
		for _, path := range []string{"/" + activity.IndexPattern(p), "/_index_template/" + activity.IndexAlias(p)} {
			req, _ := http.NewRequest(http.MethodDelete, osURL+path, nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}
	}
}

// deleteGroup removes a consumer group, retrying while it still has
// members or the broker cannot be reached, until ctx ends.
func deleteGroup(ctx context.Context, client *kafka.Client, group string) {
	retry(ctx, "delete consumer group "+group, func() error {
		res, err := client.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{group}})
		if err != nil {
			return err
		}
		if err := res.Errors[group]; err != nil && !errors.Is(err, kafka.GroupIdNotFound) {
			return err
		}
		return nil
	})
}
