package main

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/sirupsen/logrus"
	"github.com/uptrace/bun/driver/pgdriver"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/relay"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
	"github.com/fluxera/activity/internal/cputime"
)

// backlogWorkspaces is how many workspaces the backlog's events belong to.
const backlogWorkspaces = 6

// relayDrain measures the relay draining a backlog: n valid asset.created
// events wait in the outbox of a schema of their own while no relay runs,
// then the platform's relay, with the platform's default settings,
// publishes them to a fresh topic until no row is pending. The baseline
// writes the same payloads with the same keys and headers to another fresh
// topic through a Kafka writer with the publisher's settings, one batch of
// the relay's size at a time, without the outbox around it.
func relayDrain(e *env, n int) []Figure {
	ctx := context.Background()
	relayCfg := relay.Config{
		BatchSize:    envInt("FLUXERA_RELAY_BATCH_SIZE", 0),
		BatchBytes:   envInt("FLUXERA_RELAY_BATCH_BYTES", 0),
		PollInterval: envDuration("FLUXERA_RELAY_POLL_INTERVAL", 0),
	}
	if err := relayCfg.Validate(); err != nil {
		fatalf("%v", err)
	}
	relayTopic, directTopic := "bench.relay."+e.id, "bench.direct."+e.id
	pubCfg := domainkafka.Config{
		Brokers:           e.brokers,
		Topic:             relayTopic,
		Partitions:        envInt("FLUXERA_KAFKA_PARTITIONS", 0),
		ReplicationFactor: envInt("FLUXERA_KAFKA_REPLICATION", 0),
	}
	if err := pubCfg.Validate(); err != nil {
		fatalf("%v", err)
	}

	client := &kafka.Client{Addr: kafka.TCP(e.brokers...), Timeout: 30 * time.Second}
	atExit(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		deleteTopics(ctx, client, relayTopic, directTopic)
	})
	createTopics(ctx, client, pubCfg.Partitions, pubCfg.ReplicationFactor, relayTopic, directTopic)

	db, err := postgres.Open(postgres.Config{URL: e.dbcfg.URL, Schema: "bench_" + e.id + "_relay"})
	if err != nil {
		fatalf("%v", err)
	}
	atExit(func() {
		db.DropSchema(context.Background())
		db.Close()
	})
	if err := db.Migrate(ctx); err != nil {
		fatalf("migrate the relay schema: %v", err)
	}

	msgs := backlogEvents(n)
	fillStart := time.Now()
	copyIntoOutbox(ctx, db, msgs)
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE outbox"); err != nil {
		fatalf("vacuum the outbox: %v", err)
	}
	fill := time.Since(fillStart)
	var bytesTotal int
	for _, m := range msgs {
		bytesTotal += len(m.Payload)
	}

	direct := produceDirect(ctx, e.brokers, directTopic, pubCfg, relayCfg.BatchSize, msgs)
	chainOn := envBool("FLUXERA_CHAIN_ENABLED", true)
	drain := drainWithRelay(ctx, db, relayCfg, domainkafka.NewPublisher(pubCfg), chainOn, n)

	onRelay, onDirect := topicMessages(ctx, client, relayTopic, pubCfg.Partitions), topicMessages(ctx, client, directTopic, pubCfg.Partitions)
	if onDirect != int64(n) || onRelay < int64(n) {
		fatalf("expected %d messages on each topic, found %d on the relay's and %d on the direct one", n, onRelay, onDirect)
	}

	// The floors: the same rows copied into the outbox again and drained by
	// the same relay and outbox code with a publisher that sends nothing,
	// with the chain as above and without it, so that what is left is the
	// relay's reads, stamping and deletes in PostgreSQL.
	floors := map[bool]drainRun{}
	for _, chain := range []bool{chainOn, false} {
		copyIntoOutbox(ctx, db, msgs)
		if _, err := db.ExecContext(ctx, "VACUUM ANALYZE outbox"); err != nil {
			fatalf("vacuum the outbox: %v", err)
		}
		floors[chain] = drainWithRelay(ctx, db, relayCfg, discard{}, chain, n)
	}

	relayRate, directRate := float64(n)/drain.took.Seconds(), float64(n)/direct.Seconds()
	notes := fmt.Sprintf("%d valid asset.created events (mean payload %d bytes, %d workspaces) copied into the outbox of a schema of their own in %.1f s while no relay ran; "+
		"the figure runs relay.Relay with postgres.NewOutbox, fixing each event's place in its workspace's hash chain as the platform does by default, and domainkafka.NewPublisher (batch %d, poll %s, acks from all in-sync replicas, batch timeout %s) (each batch read, published, then deleted from the outbox) from start until the outbox is empty (%.1f s, %d failed publishes, %d messages on the topic); "+
		"the baseline hands the same messages to domainkafka.NewPublisher alone, with no outbox around it (the same code the relay publishes through: keyed by workspace id, the same headers, murmur2 balancer, RequireAll, batch size 1000, batch bytes 16 MiB), %d messages per Publish call, one call at a time (%.1f s). "+
		"Both topics fresh, %d partitions, replication %d",
		n, bytesTotal/max(1, n), backlogWorkspaces, fill.Seconds(),
		relayCfg.BatchSize, relayCfg.PollInterval, pubCfg.BatchTimeout, drain.took.Seconds(), drain.failures, onRelay,
		relayCfg.BatchSize, direct.Seconds(), pubCfg.Partitions, pubCfg.ReplicationFactor)
	figures := []Figure{{
		Name: "relay.drain_events_per_s", Value: round(relayRate), Unit: "events/s",
		Baseline: &Baseline{Name: "kafka_direct.produce_events_per_s", Value: round(directRate)}, Ratio: round2(relayRate / directRate),
		Notes: notes,
	}, cpuFigure("relay.drain_cpu_s_per_million", "postgresql.drain_cpu_s_per_million", drain.relayCPU, drain.postgresCPU, n,
		fmt.Sprintf("The component is the bench process running the relay of relay.drain_events_per_s (its own CPU, getrusage), the engine the PostgreSQL server (its processes and ended sessions, /proc, other sessions on the machine included) over the same drain; the Kafka broker spent %.1f s.", drain.kafkaCPU))}
	for _, chain := range []bool{chainOn, false} {
		f := floors[chain]
		rate := float64(n) / f.took.Seconds()
		name, what := "relay.outbox_floor_events_per_s", "fixing each event's place in its workspace's hash chain as the figure relay.drain_events_per_s does"
		if !chain {
			name, what = "relay.outbox_floor_nochain_events_per_s", "without the hash chain"
		}
		figures = append(figures, Figure{
			Name: name, Value: round(rate), Unit: "events/s",
			Baseline: &Baseline{Name: "kafka_direct.produce_events_per_s", Value: round(directRate)}, Ratio: round2(rate / directRate),
			Notes: fmt.Sprintf("The same %d rows copied into the same outbox again after relay.drain_events_per_s, then drained by relay.Relay with postgres.NewOutbox, %s, batch %d, with a publisher that sends nothing: each batch read, stamped and deleted with the relay's own statements, nothing published (%.1f s). "+
				"The ratio to the direct produce is the most relay.drain_events_per_s could reach if publishing cost nothing and overlapped nothing. "+
				"CPU over the drain: %.1f s in the bench process (%.1f s per million events), %.1f s in PostgreSQL (%.1f s per million events, other sessions on the machine included).",
				n, what, relayCfg.BatchSize, f.took.Seconds(), f.relayCPU, f.relayCPU/float64(n)*1e6, f.postgresCPU, f.postgresCPU/float64(n)*1e6),
		})
	}
	return figures
}

// discard is a publisher that sends nothing, for the floors of the relay
// figure.
type discard struct{}

func (discard) Publish(context.Context, []domain.OutboxMessage) error { return nil }

// backlogEvents returns n asset.created events as the platform writes them,
// spread round-robin over a few workspaces, each with its own owner.
func backlogEvents(n int) []domain.OutboxMessage {
	type owner struct {
		actor   activity.Actor
		session string
	}
	workspaces := make([]string, backlogWorkspaces)
	owners := make(map[string]owner, backlogWorkspaces)
	for i := range workspaces {
		workspaces[i] = uuid.NewString()
		owners[workspaces[i]] = owner{
			actor: activity.Actor{ID: uuid.NewString(), Email: fmt.Sprintf("owner%d@backlog.example.com", i), Name: fmt.Sprintf("Backlog Owner %d", i),
				Role: "owner", Type: activity.ActorUser},
			session: uuid.NewString(),
		}
	}
	start := time.Now().UTC().Add(-time.Duration(n) * time.Millisecond)
	msgs := make([]domain.OutboxMessage, n)
	for i := range msgs {
		ws := workspaces[i%len(workspaces)]
		at := start.Add(time.Duration(i) * time.Millisecond)
		a := domain.Asset{
			ID: uuid.NewString(), WorkspaceID: ws, Name: fmt.Sprintf("Backlog laptop %d", i), AssetTag: fmt.Sprintf("BL-%06d", i),
			Serial: fmt.Sprintf("C02X%08d", i), Category: "Laptop", Status: domain.AssetAvailable, Value: "1299.00", Currency: "EUR",
			Location: "Berlin HQ", CreatedAt: at, UpdatedAt: at,
		}
		ev := activity.NewEvent(ws, "asset.created", at)
		ev.Actor = owners[ws].actor
		ev.Resource = activity.Resource{Type: "asset", ID: a.ID, Name: a.Name}
		ev.Changes = domain.Changes(domain.Asset{}, a)
		ev.Context = activity.Context{
			IP: "192.0.2.10", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
			SessionID: owners[ws].session, RequestID: uuid.NewString(), Method: activity.MethodWeb, TimeZone: "Europe/Berlin",
		}
		if err := ev.Validate(); err != nil {
			fatalf("backlog event %d is not valid: %v", i, err)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			fatalf("encode backlog event: %v", err)
		}
		msgs[i] = domain.OutboxMessage{Seq: int64(i + 1), EventID: ev.ID, WorkspaceID: ws, Payload: b}
	}
	return msgs
}

// copyIntoOutbox writes msgs into the outbox with one COPY.
func copyIntoOutbox(ctx context.Context, db *postgres.DB, msgs []domain.OutboxMessage) {
	conn, err := db.Conn(ctx)
	if err != nil {
		fatalf("%v", err)
	}
	defer conn.Close()
	pr, pw := io.Pipe()
	go func() {
		w := csv.NewWriter(pw)
		for _, m := range msgs {
			if err := w.Write([]string{m.EventID, m.WorkspaceID, string(m.Payload)}); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		w.Flush()
		pw.CloseWithError(w.Error())
	}()
	res, err := pgdriver.CopyFrom(ctx, conn, pr, "COPY outbox (event_id, workspace_id, payload) FROM STDIN WITH (FORMAT csv)")
	if err != nil {
		pr.CloseWithError(err)
		fatalf("copy the backlog into the outbox: %v", err)
	}
	if rows, _ := res.RowsAffected(); rows != int64(len(msgs)) {
		fatalf("copied %d outbox rows, expected %d", rows, len(msgs))
	}
}

// produceDirect hands msgs to the relay's own publisher, batch by batch,
// with no outbox around it, and returns how long that took.
func produceDirect(ctx context.Context, brokers []string, topic string, cfg domainkafka.Config, batch int, msgs []domain.OutboxMessage) time.Duration {
	cfg.Brokers, cfg.Topic = brokers, topic
	pub := domainkafka.NewPublisher(cfg)
	defer pub.Close()
	start := time.Now()
	for i := 0; i < len(msgs); i += batch {
		if err := pub.Publish(ctx, msgs[i:min(i+batch, len(msgs))]); err != nil {
			fatalf("write to %s: %v", topic, err)
		}
	}
	return time.Since(start)
}

// drainRun is what one drain of the outbox took: its time, its failed
// publishes, and the CPU the bench process, PostgreSQL and Kafka spent.
type drainRun struct {
	took                            time.Duration
	failures                        int64
	relayCPU, postgresCPU, kafkaCPU float64
}

// drainWithRelay runs the platform's relay, publishing through pub, with
// the chain on or off, on db until its outbox has no pending row, and
// returns what that took. With FLUXERA_BENCH_RELAY_CPUPROFILE set, the
// first drain writes the bench process's CPU profile to that file.
func drainWithRelay(ctx context.Context, db *postgres.DB, cfg relay.Config, pub relay.Publisher, chainOn bool, n int) drainRun {
	logger := logrus.New()
	logger.SetFormatter(&logrus.JSONFormatter{})
	logger.SetOutput(os.Stderr)
	logger.SetLevel(logrus.WarnLevel)
	if c, ok := pub.(io.Closer); ok {
		defer c.Close()
	}
	m := relay.NewMetrics(prometheus.NewRegistry())
	// The relay fixes the hash chain as the platform's does by default
	// (FLUXERA_CHECKPOINT_*), under a key of the bench's own.
	chain, err := postgres.NewChain(db, relayBox(), postgres.ChainConfig{
		Disabled:           !chainOn,
		CheckpointEvery:    envInt("FLUXERA_CHECKPOINT_EVERY", 0),
		CheckpointInterval: envDuration("FLUXERA_CHECKPOINT_INTERVAL", 0),
	})
	if err != nil {
		fatalf("%v", err)
	}
	outbox := postgres.NewOutbox(db)
	outbox.Chain = chain
	r := &relay.Relay{Config: cfg, Outbox: outbox, Publisher: pub, Metrics: m, Log: logger.WithField("component", "relay")}
	// The relay counts a batch once it is marked published; polling that
	// count every millisecond times the drain to within a millisecond.
	done := make(chan time.Time, 1)
	go func() {
		for ctx.Err() == nil && testutil.ToFloat64(m.Published) < float64(n) {
			time.Sleep(time.Millisecond)
		}
		done <- time.Now()
	}()

	if path := os.Getenv("FLUXERA_BENCH_RELAY_CPUPROFILE"); path != "" && !profiled {
		profiled = true
		f, err := os.Create(path)
		if err != nil {
			fatalf("%v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fatalf("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	selfBefore, pgBefore, kafkaBefore := cputime.Self(), postgresCPUSeconds(), kafkaCPUSeconds()
	start := time.Now()
	go func() { errc <- r.Run(ctx) }()
	var end time.Time
	select {
	case end = <-done:
	case err := <-errc:
		fatalf("the relay stopped before draining the outbox: %v", err)
	case <-time.After(5 * time.Minute):
		fatalf("the relay published %.0f of %d events in 5 minutes", testutil.ToFloat64(m.Published), n)
	}
	// The relay marks a batch before it reports it, so the outbox should be
	// empty now; confirm it.
	for pendingRows(ctx, db) > 0 {
		time.Sleep(5 * time.Millisecond)
		end = time.Now()
	}
	run := drainRun{took: end.Sub(start), failures: int64(testutil.ToFloat64(m.Failures)),
		relayCPU: cputime.Self() - selfBefore, postgresCPU: postgresCPUSeconds() - pgBefore, kafkaCPU: kafkaCPUSeconds() - kafkaBefore}
	cancel()
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		fatalf("relay: %v", err)
	}
	return run
}

// relayBox returns the key box of the bench's relays, the same for every
// drain, since the chains they fix go on from one drain to the next.
var relayBox = sync.OnceValue(func() *keybox.Box {
	secret := make([]byte, keybox.KeySize)
	rand.Read(secret)
	box, err := keybox.New(secret)
	if err != nil {
		fatalf("%v", err)
	}
	return box
})

// profiled is whether a drain wrote the CPU profile already.
var profiled bool

func pendingRows(ctx context.Context, db *postgres.DB) int {
	var n int
	if err := db.NewRaw("SELECT count(*) FROM outbox").Scan(ctx, &n); err != nil {
		fatalf("count pending outbox rows: %v", err)
	}
	return n
}

// createTopics creates fresh topics and waits until every partition has a
// leader.
func createTopics(ctx context.Context, client *kafka.Client, partitions, replication int, topics ...string) {
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: replication})
	}
	res, err := client.CreateTopics(ctx, req)
	if err != nil {
		fatalf("create topics %v: %v", topics, err)
	}
	for t, err := range res.Errors {
		if err != nil {
			fatalf("create topic %s: %v", t, err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
		if err == nil && topicsReady(md, partitions, len(topics)) {
			return
		}
		if time.Now().After(deadline) {
			fatalf("topics %v have no leaders after a minute (%v)", topics, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func topicsReady(md *kafka.MetadataResponse, partitions, want int) bool {
	ready := 0
	for _, t := range md.Topics {
		if t.Error != nil || len(t.Partitions) != partitions {
			return false
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.Host == "" {
				return false
			}
		}
		ready++
	}
	return ready == want
}

// deleteTopics deletes topics, retrying while the broker is unreachable
// until ctx ends, and reports failures without stopping.
func deleteTopics(ctx context.Context, client *kafka.Client, topics ...string) {
	retry(ctx, "delete topics", func() error {
		res, err := client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics})
		if err != nil {
			return err
		}
		for t, err := range res.Errors {
			if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
		return nil
	})
}

// retry runs fn every two seconds until it succeeds or ctx ends, and then
// reports the last failure.
func retry(ctx context.Context, what string, fn func() error) {
	for {
		err := fn()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", what, err)
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// topicMessages is the number of messages on topic, the sum of its
// partitions' end offsets.
func topicMessages(ctx context.Context, client *kafka.Client, topic string, partitions int) int64 {
	var reqs []kafka.OffsetRequest
	for p := 0; p < partitions; p++ {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		fatalf("list offsets of %s: %v", topic, err)
	}
	var total int64
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			fatalf("list offsets of %s/%d: %v", topic, p.Partition, p.Error)
		}
		total += p.LastOffset
	}
	return total
}

func envInt(name string, def int) int {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fatalf("%s=%q is not a whole number", name, v)
	}
	return n
}

func envDuration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fatalf("%s=%q is not a duration", name, v)
	}
	return d
}

func envBool(name string, def bool) bool {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		fatalf("%s=%q is not true or false", name, v)
	}
	return b
}
