package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/detect"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/ingest/enrich"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/internal/cputime"
	"github.com/fluxera/activity/internal/stacktest"
)

// profileID is a stable id for the profile's workspaces and members.
func profileID(kind string, w, i int) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "detect-profile/%s/%d/%d", kind, w, i)).String()
}

// TestProfileDetector checks a backlog of synthetic working histories in
// batches of the default size (FLUXERA_DETECT_PROFILE_BATCH sets another),
// as the detector's Run does (decoding each message first), against the real Redis, and reports events per second and the
// CPU-seconds per million events of this process and of Redis. It writes a
// CPU profile to the file FLUXERA_DETECT_PROFILE_OUT names. It runs only
// when FLUXERA_DETECT_PROFILE gives the number of events: it measures, it
// asserts nothing.
func TestProfileDetector(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FLUXERA_DETECT_PROFILE"))
	if n <= 0 {
		t.Skip("set FLUXERA_DETECT_PROFILE to a number of events to profile the detector")
	}
	payloads, configs := profileStream(t, n)

	client, prefix := stacktest.MustRedis(t, "detect-profile")
	var commands commandCounter
	client.AddHook(&commands)
	store := &checkCounter{Store: ingestredis.NewStore(client)}
	d, sink := newDetector(t, store, prefix, configs)
	d.Locator = enrich.Bundled()

	stacktest.ProfileCPU(t, os.Getenv("FLUXERA_DETECT_PROFILE_OUT"))
	ctx := context.Background()
	redis0, cpu0, start := redisCPU(t, client), cputime.Self(), time.Now()
	size := detect.DefaultBatchSize
	if n, _ := strconv.Atoi(os.Getenv("FLUXERA_DETECT_PROFILE_BATCH")); n > 0 {
		size = n
	}
	batch := make([]activity.Event, 0, size)
	for i := 0; i < n; i += size {
		batch = batch[:0]
		for _, b := range payloads[i:min(i+size, n)] {
			e, err := activity.DecodeEvent(b)
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, e)
		}
		if err := d.Detect(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	took, cpu, redis := time.Since(start), cputime.Self()-cpu0, redisCPU(t, client)-redis0
	perMillion := func(s float64) float64 { return s / float64(n) * 1e6 }
	t.Logf("%d events in %.1f s: %.0f events/s; detector %.1f CPU-s per million, Redis %.1f CPU-s per million; %d pipelines, %d commands; %d alerts; checks %+v; commands %v",
		n, took.Seconds(), float64(n)/took.Seconds(), perMillion(cpu), perMillion(redis), commands.pipelines, commands.commands, len(sink.alerts()), store.checks, commands.kinds)
	writeProfileAlerts(t, sink.alerts())
}

// writeProfileAlerts writes the alerts raised, but for when, one JSON line
// each in the order of their ids, to the file FLUXERA_DETECT_PROFILE_ALERTS
// names, if it is set, so that two versions of the detector can be
// compared on the same stream (FLUXERA_DETECT_PROFILE_UNTIL fixes its end).
func writeProfileAlerts(tb testing.TB, alerts []alert.Alert) {
	out := os.Getenv("FLUXERA_DETECT_PROFILE_ALERTS")
	if out == "" {
		return
	}
	sort.Slice(alerts, func(i, j int) bool { return alerts[i].ID < alerts[j].ID })
	var b []byte
	for _, a := range alerts {
		a.RaisedAt = time.Time{}
		line, err := json.Marshal(a)
		if err != nil {
			tb.Fatal(err)
		}
		b = append(append(b, line...), '\n')
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// commandCounter counts the pipelines and commands a client sends.
type commandCounter struct {
	pipelines, commands int
	kinds               map[string]int
}

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.pipelines++
		c.count(cmd)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.pipelines++
		for _, cmd := range cmds {
			c.count(cmd)
		}
		return next(ctx, cmds)
	}
}

func (c *commandCounter) count(cmd goredis.Cmder) {
	c.commands++
	if c.kinds == nil {
		c.kinds = map[string]int{}
	}
	c.kinds[strings.ToLower(cmd.Name())]++
}

// redisCPU is the Redis server's user and system CPU time in seconds.
func redisCPU(tb testing.TB, client *goredis.Client) float64 {
	cpu, err := cputime.Redis(context.Background(), client)
	if err != nil {
		tb.Fatal(err)
	}
	return cpu
}

// checkCounter counts the checks of each kind a store is given.
type checkCounter struct {
	detect.Store
	checks struct{ Windows, Hours, Locations, Sessions, Claims int }
}

func (c *checkCounter) Check(ctx context.Context, checks detect.Checks) (detect.Results, error) {
	c.checks.Windows += len(checks.Windows)
	c.checks.Hours += len(checks.Hours)
	c.checks.Locations += len(checks.Locations)
	c.checks.Sessions += len(checks.Sessions)
	return c.Store.Check(ctx, checks)
}

func (c *checkCounter) Claim(ctx context.Context, claims []detect.Claim) ([]bool, error) {
	c.checks.Claims += len(claims)
	return c.Store.Claim(ctx, claims)
}

// profileStream returns n events, encoded as the relay publishes them:
// the working histories of 4 workspaces of 150 members over 60 days, in
// event order, as the bench's detector figures use; and the workspaces'
// configurations.
func profileStream(tb testing.TB, n int) ([][]byte, staticConfigs) {
	tb.Helper()
	t := tb
	var events []activity.Event
	until := time.Now().Add(-24 * time.Hour)
	if v := os.Getenv("FLUXERA_DETECT_PROFILE_UNTIL"); v != "" {
		var err error
		if until, err = time.Parse(time.RFC3339, v); err != nil {
			t.Fatal(err)
		}
	}
	const workspaces = 4
	for w := range workspaces {
		ws := synthetic.Workspace{ID: profileID("workspace", w, 0), TimeZone: "UTC"}
		for i := range 150 {
			ws.Members = append(ws.Members, activity.Actor{ID: profileID("user", w, i), Name: fmt.Sprintf("Member %d", i),
				Email: fmt.Sprintf("member%d@ws%d.example", i, w), Type: activity.ActorUser, Role: activity.RoleMember})
		}
		for i := range 1200 {
			ws.Assets = append(ws.Assets, activity.Resource{Type: "asset", ID: profileID("asset", w, i), Name: fmt.Sprintf("Laptop A-%05d", i)})
		}
		for i := range 12 {
			ws.Licenses = append(ws.Licenses, activity.Resource{Type: "license", ID: profileID("license", w, i), Name: fmt.Sprintf("Licence %d", i)})
		}
		h, err := synthetic.NewHistory(uint64(7<<8|w), ws, 60, until)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, h.Events(n/workspaces+1)...)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].OccurredAt.Before(events[j].OccurredAt) })
	events = events[:n]
	payloads := make([][]byte, n)
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		payloads[i] = b
	}
	events = nil
	// The workspaces get what PostgreSQL gives a workspace it does not
	// know; FLUXERA_DETECT_PROFILE_ONLY keeps one detector on.
	detection := alert.DefaultDetectionSettings()
	if only := os.Getenv("FLUXERA_DETECT_PROFILE_ONLY"); only != "" {
		for name, s := range detection.Detectors {
			s.Enabled = name == only
			detection.Detectors[name] = s
		}
	}
	configs := staticConfigs{}
	for w := range workspaces {
		configs[profileID("workspace", w, 0)] = alert.WorkspaceConfig{Location: time.UTC, WorkStart: 9 * 60, WorkEnd: 18 * 60,
			WorkingDays: weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), Detection: detection}
	}
	return payloads, configs
}

// TestProfileDetectorRun is TestProfileDetector through Kafka: it
// publishes the events to a topic of its own (6 partitions), keyed by
// workspace as the relay keys them, then runs the detector's consumer loop
// over them from the start until its commits cover every event, and, as the baseline, a plain consumer group reading,
// decoding and committing the same events. It runs only when
// FLUXERA_DETECT_PROFILE gives the number of events and
// FLUXERA_DETECT_PROFILE_KAFKA is set.
func TestProfileDetectorRun(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FLUXERA_DETECT_PROFILE"))
	if n <= 0 || os.Getenv("FLUXERA_DETECT_PROFILE_KAFKA") == "" {
		t.Skip("set FLUXERA_DETECT_PROFILE and FLUXERA_DETECT_PROFILE_KAFKA to profile the detector through Kafka")
	}
	payloads, configs := profileStream(t, n)
	topic := stacktest.MustTopic(t, "detect-profile", 6)
	brokers := stacktest.KafkaBrokers()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, BatchSize: 1000, BatchTimeout: 10 * time.Millisecond, BatchBytes: 16 << 20, RequiredAcks: kafka.RequireOne}
	ctx := context.Background()
	for i := 0; i < n; i += 1000 {
		var msgs []kafka.Message
		for _, b := range payloads[i:min(i+1000, n)] {
			e, err := activity.DecodeEvent(b)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Key: []byte(e.WorkspaceID), Value: b}) // as the relay keys them
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	payloads = nil

	plainStart := time.Now()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, GroupID: "plain-" + stacktest.RandomID(), StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 100 * time.Millisecond})
	batch := make([]kafka.Message, 0, 500)
	for seen := 0; seen < n; {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := activity.DecodeEvent(m.Value); err != nil {
			t.Fatal(err)
		}
		batch = append(batch, m)
		if seen++; len(batch) == cap(batch) || seen == n {
			if err := r.CommitMessages(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	plain := time.Since(plainStart)
	r.Close()

	client, prefix := stacktest.MustRedis(t, "detect-profile")
	d, sink := newDetector(t, ingestredis.NewStore(client), prefix, configs)
	d.Config.BatchSize, d.Config.FlushInterval = detect.DefaultBatchSize, 50*time.Millisecond
	if size, _ := strconv.Atoi(os.Getenv("FLUXERA_DETECT_PROFILE_BATCH")); size > 0 {
		d.Config.BatchSize = size
	}
	d.Locator = enrich.Bundled()
	src := &committedCount{Source: ingestkafka.NewSource(ingestkafka.Config{Brokers: brokers, Topic: topic, GroupID: "detect-" + stacktest.RandomID()}), want: n}
	defer src.Source.(*ingestkafka.Source).Close()
	stacktest.ProfileCPU(t, os.Getenv("FLUXERA_DETECT_PROFILE_OUT"))
	run, stop := context.WithCancel(ctx)
	src.done = stop
	d.Source = src
	redis0, cpu0, start := redisCPU(t, client), cputime.Self(), time.Now()
	if err := d.Run(run); err != nil {
		t.Fatal(err)
	}
	took, cpu, redis := time.Since(start), cputime.Self()-cpu0, redisCPU(t, client)-redis0
	perMillion := func(s float64) float64 { return s / float64(n) * 1e6 }
	t.Logf("%d events in %.1f s: %.0f events/s (plain consumer %.0f events/s, ratio %.2f); detector %.1f CPU-s per million, Redis %.1f CPU-s per million; %d commits; %d alerts",
		n, took.Seconds(), float64(n)/took.Seconds(), float64(n)/plain.Seconds(), plain.Seconds()/took.Seconds(), perMillion(cpu), perMillion(redis), src.commits, len(sink.alerts()))
}

// committedCount counts the messages a source commits and calls done once
// they reach want.
type committedCount struct {
	ingest.Source
	want, committed, commits int
	done                     func()
}

func (c *committedCount) Commit(ctx context.Context, msgs []ingest.Message) error {
	err := c.Source.Commit(ctx, msgs)
	if err == nil {
		c.commits++
		if c.committed += len(msgs); c.committed >= c.want {
			c.done()
		}
	}
	return err
}
