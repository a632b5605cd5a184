package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/domain"
	domainkafka "github.com/fluxera/activity/domain/relay/kafka"
	"github.com/fluxera/activity/ingest/synthetic"
)

// detectRun sizes the detector's figures.
type detectRun struct {
	events       int // events the detector checks for its throughput figure
	rounds       int // failed-login rounds for the alert latency figures
	ingestEvents int // events indexed alone and with the detector beside
}

// detectFigures measures the detector: how fast it checks a backlog with
// every built-in detector on, how long a failed login takes to reach a
// webhook, and what running it beside the indexer costs the indexer.
func detectFigures(e *env, run detectRun) []Figure {
	var figures []Figure
	if run.events > 0 {
		figures = append(figures, detectorThroughput(e, run.events)...)
	}
	if run.rounds > 0 {
		figures = append(figures, alertLatency(e, run.rounds)...)
	}
	if run.ingestEvents > 0 {
		figures = append(figures, ingestBesideDetector(e, run.ingestEvents)...)
	}
	return figures
}

// detectEnv is the environment of a detector on topic: the bench's
// database schema, and dead-letter and alert topics named after topic.
func detectEnv(e *env, topic, redisPrefix string) []string {
	return []string{"FLUXERA_DATABASE_SCHEMA=" + e.dbcfg.Schema, "FLUXERA_REDIS_PREFIX=" + redisPrefix,
		"FLUXERA_KAFKA_DLQ_TOPIC=" + topic + ".dlq", "FLUXERA_KAFKA_ALERT_TOPIC=" + topic + ".alerts"}
}

// detectTopic creates a fresh topic with the platform's partitions and
// returns a publisher to it; the topic, the dead-letter and alert topics
// named after it, and the groups go when the bench ends.
func detectTopic(e *env, name string, groups ...string) (*domainkafka.Publisher, domainkafka.Config) {
	cfg := domainkafka.Config{
		Brokers: e.brokers, Topic: name,
		Partitions:        envInt("FLUXERA_KAFKA_PARTITIONS", 0),
		ReplicationFactor: envInt("FLUXERA_KAFKA_REPLICATION", 0),
	}
	if err := cfg.Validate(); err != nil {
		fatalf("%v", err)
	}
	client := &kafka.Client{Addr: kafka.TCP(e.brokers...), Timeout: 30 * time.Second}
	createTopics(context.Background(), client, cfg.Partitions, cfg.ReplicationFactor, name)
	atExit(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		deleteTopics(ctx, client, name, name+".dlq", name+".alerts")
		for _, g := range groups {
			deleteGroup(ctx, client, g)
		}
	})
	pub := domainkafka.NewPublisher(cfg)
	atExit(func() { pub.Close() })
	return pub, cfg
}

// detectorThroughput publishes n synthetic events, then runs bin/fluxera
// detect over them from the start and measures events checked per second;
// the baseline is a plain consumer group reading and decoding the same
// events and committing as it goes, which is the floor of any consumer.
func detectorThroughput(e *env, n int) []Figure {
	ctx := context.Background()
	topic, group, plainGroup := "bench.detect."+e.id, "bench-detect-tp-"+e.id, "bench-detect-plain-"+e.id
	pub, cfg := detectTopic(e, topic, group, plainGroup)
	msgs, size := detectStream(7, n)
	produced := publishAll(ctx, pub, msgs)
	msgs = nil

	plainStart := time.Now()
	plainConsume(e, topic, plainGroup, n)
	plain := time.Since(plainStart)

	redisCPU0 := redisCPUSeconds()
	d := startRole(e, "detect", topic, group, cfg.Partitions, detectEnv(e, topic, "bench-"+e.id+"-tp:")...)
	atExit(d.stop)
	done, first, firstCount := d.waitCommitted(ctx, int64(n), 100*time.Millisecond, 30*time.Minute)
	m := d.metrics()
	cpu := cpuSeconds(d.cmd.Process.Pid)
	redisCPU := redisCPUSeconds() - redisCPU0
	d.stop()
	took := done.Sub(d.started)
	rate, plainRate := float64(n)/took.Seconds(), float64(n)/plain.Seconds()
	steady := float64(int64(n)-firstCount) / done.Sub(first).Seconds()
	return []Figure{{
		Name: "detect.events_per_s", Value: round(rate), Unit: "events/s",
		Baseline: &Baseline{Name: "plain_consumer.events_per_s", Value: round(plainRate)}, Ratio: round2(rate / plainRate),
		Notes: fmt.Sprintf("%d events (ingest/synthetic working histories of %d workspaces of 150 members over 60 days, in event order; mean payload %d bytes) published beforehand to a fresh topic of %d partitions (%.1f s). "+
			"The figure runs bin/fluxera detect with every built-in detector on (workspace defaults) from process start until its group's committed offsets, polled every 100 ms, cover every event (%.1f s; %.0f events/s after the first commit; %.0f alerts raised and stored with their deliveries; %.1f CPU-s in the process). "+
			"The baseline is a kafka-go consumer group in the bench process reading the same topic from the start, decoding every event with activity.DecodeEvent and committing each fetch, with no detection (%.1f s)",
			n, detectWorkspaces, size/n, cfg.Partitions, produced.Seconds(),
			took.Seconds(), steady, m["fluxera_detect_alerts_total"], cpu, plain.Seconds()),
	}, cpuFigure("detect.cpu_s_per_million", "redis.cpu_s_per_million", cpu, redisCPU, n,
		"The component is bin/fluxera detect over its throughput run; the engine is the Redis server that holds its windows (INFO cpu) over the same span.")}
}

// detectWorkspaces are the workspaces of the detector's stream: working
// histories of 150 members each, in UTC, the time zone the detector
// assumes for workspaces the database does not know.
const detectWorkspaces = 4

// detectStream returns n events of whole working sessions of the detect
// workspaces over the last 60 days (ingest/synthetic's histories: members
// with their own hours, office addresses and browsers, logins, failed
// logins, asset and license work), oldest first across workspaces, as a
// live topic receives them, encoded as the relay publishes them, with the
// size of all their payloads.
func detectStream(seed uint64, n int) ([]domain.OutboxMessage, int) {
	var events []activity.Event
	until := time.Now().Add(-24 * time.Hour)
	for w := 0; w < detectWorkspaces; w++ {
		ws := corpusWorkspace{name: fmt.Sprintf("Detect %d", w), timeZone: "UTC", members: 150, assets: 1200, licenses: 12}.workspace(100 + w)
		h, err := synthetic.NewHistory(seed<<8|uint64(w), ws, 60, until)
		if err != nil {
			fatalf("detect history: %v", err)
		}
		events = append(events, h.Events(n/detectWorkspaces+1)...)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].OccurredAt.Before(events[j].OccurredAt) })
	events = events[:n]
	msgs := make([]domain.OutboxMessage, n)
	size := 0
	for i, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			fatalf("encode event: %v", err)
		}
		msgs[i] = domain.OutboxMessage{Seq: int64(i + 1), EventID: ev.ID, WorkspaceID: ev.WorkspaceID, Payload: b}
		size += len(b)
	}
	return msgs, size
}

// plainConsume reads n messages of topic in group, decoding each and
// committing every fetched batch, as a consumer that does nothing else.
func plainConsume(e *env, topic, group string, n int) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers, Topic: topic, GroupID: group, StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	batch := make([]kafka.Message, 0, 500)
	for seen := 0; seen < n; {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			fatalf("plain consumer: %v", err)
		}
		if _, err := activity.DecodeEvent(m.Value); err != nil {
			fatalf("plain consumer: %v", err)
		}
		batch = append(batch, m)
		seen++
		if len(batch) == cap(batch) || seen == n {
			if err := r.CommitMessages(ctx, batch...); err != nil {
				fatalf("plain consumer commit: %v", err)
			}
			batch = batch[:0]
		}
	}
}

// alertLatency fails the bench owner's login three times from a new
// address per round, through the platform's API, and measures from the
// third attempt to the signed webhook of the per-address alert arriving at
// a receiver on loopback. The baseline is the same third failed login seen
// by a plain reader on the activity topic: the pipeline up to Kafka, which
// detection and notification add to.
func alertLatency(e *env, rounds int) []Figure {
	secret := detectionWebhook(e)
	recv := newAlertReceiver(secret)
	defer recv.close()
	patch(e, "/api/v1/detection", map[string]any{"channels": []map[string]any{{"type": "webhook", "url": recv.url}}})

	seen := newEventWatch(e)
	defer seen.close()
	email := "bench-" + e.id + "@example.com"
	var platform, direct []time.Duration
	for r := 0; r < rounds; r++ {
		ip := fmt.Sprintf("198.51.%d.%d", 100+r/250, 1+r%250)
		wantWebhook := recv.expect(ip)
		wantEvent := seen.expect(ip, 3)
		var start time.Time
		for i := 0; i < 3; i++ {
			if i == 2 {
				start = time.Now()
			}
			failLogin(e, email, ip)
		}
		select {
		case at := <-wantWebhook:
			platform = append(platform, at.Sub(start))
		case <-time.After(30 * time.Second):
			fatalf("no webhook for the failed logins from %s within 30 s", ip)
		}
		select {
		case at := <-wantEvent:
			direct = append(direct, at.Sub(start))
		case <-time.After(30 * time.Second):
			fatalf("the third failed login from %s never reached the topic", ip)
		}
	}
	if bad := recv.badSignatures(); bad > 0 {
		fatalf("%d webhooks failed signature verification", bad)
	}
	p50, p99 := percentile(platform, 50), percentile(platform, 99)
	d50, d99 := percentile(direct, 50), percentile(direct, 99)
	notes := fmt.Sprintf("%d rounds of three failed logins for the bench owner through POST /api/v1/auth/login, each round from a new address (X-Forwarded-For from a trusted loopback proxy); the figure is from sending the third attempt to a webhook receiver on 127.0.0.1 getting the per-address failed_logins alert, its signature verified with notify.Verify "+
		"(API → outbox → relay → Kafka → detector → PostgreSQL alert and delivery → notifier → HTTP). The baseline is the same third attempt seen by a kafka-go reader on the activity topic (API → outbox → relay → Kafka); every figure of a round is from the same attempt", rounds)
	return []Figure{
		{Name: "detect.failed_login_to_webhook_p50_ms", Value: ms(p50), Unit: "ms", Baseline: &Baseline{Name: "failed_login_to_topic_p50_ms", Value: ms(d50)}, Ratio: round2(ms(p50) / ms(d50)), Notes: notes},
		{Name: "detect.failed_login_to_webhook_p99_ms", Value: ms(p99), Unit: "ms", Baseline: &Baseline{Name: "failed_login_to_topic_p99_ms", Value: ms(d99)}, Ratio: round2(ms(p99) / ms(d99)), Notes: notes},
	}
}

// detectionWebhook rotates the bench workspace's signing secret and
// returns it.
func detectionWebhook(e *env) []byte {
	res, err := e.http.Post(e.base+"/api/v1/detection/signing-secret", "application/json", nil)
	if err != nil {
		fatalf("rotate signing secret: %v", err)
	}
	defer res.Body.Close()
	var out struct {
		Secret string `json:"signing_secret"`
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		fatalf("rotate signing secret: status %d", res.StatusCode)
	}
	json.NewDecoder(res.Body).Decode(&out)
	return []byte(out.Secret)
}

func patch(e *env, path string, body any) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPatch, e.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	res, err := e.http.Do(req)
	if err != nil {
		fatalf("PATCH %s: %v", path, err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fatalf("PATCH %s: status %d: %s", path, res.StatusCode, msg)
	}
}

// failLogin sends one login with a wrong password from ip, through a
// client without the bench's session.
func failLogin(e *env, email, ip string) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": "not-the-password"})
	req, _ := http.NewRequest(http.MethodPost, e.base+"/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fatalf("failed login: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		fatalf("failed login: status %d, want 401", res.StatusCode)
	}
}

// alertReceiver is a webhook receiver on loopback that verifies each
// request's signature and tells who waits for an address's alert when it
// arrived.
type alertReceiver struct {
	srv    *http.Server
	url    string
	secret []byte

	mu      sync.Mutex
	waiting map[string]chan time.Time
	bad     int
}

func newAlertReceiver(secret []byte) *alertReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("%v", err)
	}
	r := &alertReceiver{url: "http://" + ln.Addr().String() + "/alerts", secret: secret, waiting: map[string]chan time.Time{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve)}
	go r.srv.Serve(ln)
	return r
}

func (r *alertReceiver) serve(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(req.Body)
	if err := notify.Verify(r.secret, req.Header, body, at, notify.DefaultTolerance); err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var p notify.WebhookPayload
	json.Unmarshal(body, &p)
	w.WriteHeader(http.StatusNoContent)
	if p.Alert.Detector != alert.DetectFailedLogins || p.Alert.Subject.Type != "ip" {
		return
	}
	r.mu.Lock()
	ch := r.waiting[p.Alert.Subject.ID]
	delete(r.waiting, p.Alert.Subject.ID)
	r.mu.Unlock()
	if ch != nil {
		ch <- at
	}
}

func (r *alertReceiver) expect(ip string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	r.mu.Lock()
	r.waiting[ip] = ch
	r.mu.Unlock()
	return ch
}

func (r *alertReceiver) badSignatures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bad
}

func (r *alertReceiver) close() { r.srv.Close() }

// eventWatch reads the platform's activity topic from its end and tells
// who waits for the nth failed login from an address when it was read.
type eventWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	counts  map[string]int
	waiting map[string]watchWant
}

type watchWant struct {
	n  int
	ch chan time.Time
}

func newEventWatch(e *env) *eventWatch {
	w := &eventWatch{done: make(chan struct{}), counts: map[string]int{}, waiting: map[string]watchWant{}}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	client := &kafka.Client{Addr: kafka.TCP(e.brokers...), Timeout: 10 * time.Second}
	topic := "bench.activity." + e.id
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 {
		fatalf("topic metadata: %v", err)
	}
	// Each partition is read from its end as it is now, a number fixed
	// before any login is made: a reader told only "the last offset"
	// looks it up on its first fetch, and would miss what arrived before.
	var asks []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		asks = append(asks, kafka.LastOffsetOf(p.ID))
	}
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: asks}})
	if err != nil {
		fatalf("topic offsets: %v", err)
	}
	end := map[int]int64{}
	for _, p := range ends.Topics[topic] {
		if p.Error != nil {
			fatalf("offset of partition %d: %v", p.Partition, p.Error)
		}
		end[p.Partition] = p.LastOffset
	}
	var wg sync.WaitGroup
	ready := make(chan struct{}, len(md.Topics[0].Partitions))
	for _, p := range md.Topics[0].Partitions {
		wg.Add(1)
		go func(part int) {
			defer wg.Done()
			// Without a short read backoff, an empty fetch would make the
			// reader wait 100 ms before the next one.
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers, Topic: topic, Partition: part, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 10 * time.Millisecond,
				ReadBackoffMin: time.Millisecond, ReadBackoffMax: 5 * time.Millisecond})
			defer r.Close()
			if err := r.SetOffset(end[part]); err != nil {
				fatalf("watch partition %d: %v", part, err)
			}
			ready <- struct{}{}
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				w.read(m.Value, time.Now())
			}
		}(p.ID)
	}
	for range md.Topics[0].Partitions {
		<-ready
	}
	go func() { wg.Wait(); close(w.done) }()
	return w
}

func (w *eventWatch) read(b []byte, at time.Time) {
	ev, err := activity.DecodeEvent(b)
	if err != nil || ev.Action != "auth.login_failed" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[ev.Context.IP]++
	if want, ok := w.waiting[ev.Context.IP]; ok && w.counts[ev.Context.IP] >= want.n {
		delete(w.waiting, ev.Context.IP)
		want.ch <- at
	}
}

func (w *eventWatch) expect(ip string, n int) <-chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.waiting[ip] = watchWant{n: n, ch: ch}
	w.mu.Unlock()
	return ch
}

func (w *eventWatch) close() {
	w.cancel()
	<-w.done
}

// ingestBesideDetector runs bin/fluxera ingest over n events alone, then
// over another n events with bin/fluxera detect reading the same topic in
// its own group at the same time, and reports the indexer's throughput
// with the detector as a ratio to without.
func ingestBesideDetector(e *env, n int) []Figure {
	alone := ingestRun(e, "alone", n, false)
	settle(e.osURL)
	beside := ingestRun(e, "beside", n, true)
	with, without := float64(n)/beside.took.Seconds(), float64(n)/alone.took.Seconds()
	return []Figure{{
		Name: "ingest.events_per_s_with_detector", Value: round(with), Unit: "events/s",
		Baseline: &Baseline{Name: "ingest.events_per_s_without_detector", Value: round(without)}, Ratio: round2(with / without),
		Notes: fmt.Sprintf("bin/fluxera ingest indexing %d events of the detector's working histories published beforehand to a fresh topic, from process start until its group's committed offsets cover them (%.1f s); the baseline is the same on another fresh topic of %d events with no detector (%.1f s). "+
			"In the figure bin/fluxera detect starts at the same moment on the same topic in its own consumer group, with every built-in detector on, sharing the two cores. "+
			"CPU over the indexer's span, per million events: alone %s; beside the detector %s. "+
			"When both runs keep the two cores busy, the ratio cannot exceed all the CPU per event of the run alone over all that of the run beside the detector: %.2f here",
			n, beside.took.Seconds(), n, alone.took.Seconds(), alone.describe(n), beside.describe(n), alone.total()/beside.total()),
	}}
}

// ingestSpan is what one ingestRun took: its time, and the CPU-seconds
// each process spent over it.
type ingestSpan struct {
	took                                        time.Duration
	openSearch, indexer, detector, redis, kafka float64
	// postgres and platform are PostgreSQL and the bench's bin/fluxera
	// serve: the detector stores the alerts it raises in the platform's
	// schema, and the platform's notifier delivers them.
	postgres, platform float64
	machine            machineCPU // the whole machine over the span
}

func (s ingestSpan) total() float64 {
	return s.openSearch + s.indexer + s.detector + s.redis + s.kafka + s.postgres + s.platform
}

// describe gives the span's CPU per million of n events, and the cores
// it kept busy.
func (s ingestSpan) describe(n int) string {
	out := fmt.Sprintf("OpenSearch %.1f, the indexer %.1f, the Kafka broker %.1f", perMillion(s.openSearch, n), perMillion(s.indexer, n), perMillion(s.kafka, n))
	if s.detector > 0 {
		out += fmt.Sprintf(", the detector %.1f, Redis %.1f", perMillion(s.detector, n), perMillion(s.redis, n))
	}
	out += fmt.Sprintf(", PostgreSQL %.1f, the bench's bin/fluxera serve %.1f", perMillion(s.postgres, n), perMillion(s.platform, n))
	secs := s.took.Seconds()
	return out + fmt.Sprintf(" (%.2f cores busy; the whole machine %.2f cores busy, %.2f idle, %.2f stolen by the hypervisor)",
		s.total()/secs, s.machine.busy/secs, s.machine.idle/secs, s.machine.stolen/secs)
}

// ingestRun indexes n fresh events with bin/fluxera ingest, with the
// detector beside it if asked, and returns how long the indexer took.
func ingestRun(e *env, name string, n int, withDetector bool) ingestSpan {
	ctx := context.Background()
	topic := "bench.beside-" + name + "." + e.id
	group, detectGroup := "bench-beside-"+name+"-"+e.id, "bench-beside-detect-"+name+"-"+e.id
	prefix := e.prefix + "-beside-" + name
	pub, cfg := detectTopic(e, topic, group, detectGroup)
	atExit(func() { deleteIndices(e.osURL, prefix) })
	msgs, _ := detectStream(11, n)
	publishAll(ctx, pub, msgs)
	msgs = nil
	settle(e.osURL)
	os0, kafka0, redis0, machine0 := openSearchCPUSeconds(e.osURL), kafkaCPUSeconds(), redisCPUSeconds(), readMachineCPU()
	pg0, platform0 := postgresCPUSeconds(), platformCPUSeconds(e)
	var d *ingestProcess
	if withDetector {
		d = startRole(e, "detect", topic, detectGroup, cfg.Partitions, detectEnv(e, topic, "bench-"+e.id+"-"+name+":")...)
		atExit(d.stop)
	}
	ix := startIngest(e, topic, group, cfg.Partitions,
		"FLUXERA_INDEX_PREFIX="+prefix, "FLUXERA_KAFKA_DLQ_TOPIC="+topic+".dlq", "FLUXERA_KAFKA_ALERT_TOPIC="+topic+".alerts",
		"FLUXERA_DATABASE_SCHEMA="+e.dbcfg.Schema)
	atExit(ix.stop)
	done, _, _ := ix.waitCommitted(ctx, int64(n), 100*time.Millisecond, 30*time.Minute)
	span := ingestSpan{took: done.Sub(ix.started), indexer: cpuSeconds(ix.cmd.Process.Pid),
		openSearch: openSearchCPUSeconds(e.osURL) - os0, kafka: kafkaCPUSeconds() - kafka0, machine: readMachineCPU().since(machine0),
		postgres: postgresCPUSeconds() - pg0, platform: platformCPUSeconds(e) - platform0}
	if d != nil {
		span.detector, span.redis = cpuSeconds(d.cmd.Process.Pid), redisCPUSeconds()-redis0
	}
	ix.stop()
	if d != nil {
		d.waitCommitted(ctx, int64(n), 100*time.Millisecond, 30*time.Minute)
		d.stop()
	}
	return span
}

// platformCPUSeconds is the CPU time of the bench's bin/fluxera serve so
// far, 0 when none runs.
func platformCPUSeconds(e *env) float64 {
	if e.platformPID == 0 {
		return 0
	}
	return cpuSeconds(e.platformPID)
}
