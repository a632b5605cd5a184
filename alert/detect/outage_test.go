package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/detect"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	ingestkafka "github.com/fluxera/activity/ingest/kafka"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/internal/topic"
)

// TestDetectPausesWhileRedisIsDown runs a detector on a Kafka topic of its
// own and a Redis of its own, stops that Redis, and sends failed logins:
// the detector must commit nothing and raise its degraded gauge while
// Redis is away, then catch up once it is back, raising the alert it owes
// and clearing the gauge, with no event skipped.
func TestDetectPausesWhileRedisIsDown(t *testing.T) {
	stacktest.SkipUnlessDisruptive(t)
	redis := startOwnRedis(t)
	consumer := ingestkafka.Config{Brokers: stacktest.KafkaBrokers(), Topic: stacktest.MustTopic(t, "detect", 3), GroupID: "test-detector-" + stacktest.RandomID()}
	if err := consumer.Validate(); err != nil {
		t.Fatal(err)
	}
	ws := activity.NewEventID()
	metrics := runDetector(t, consumer, redis.addr, staticConfigs{ws: alwaysWorking()})

	// One event first, so that the group has joined and committed.
	ada := activity.Actor{ID: activity.NewEventID(), Email: "ada@example.com", Name: "Ada", Type: activity.ActorUser}
	now := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	w := topic.NewWriter(consumer.Brokers, consumer.Topic)
	w.BatchTimeout = time.Millisecond
	defer w.Close()
	send := func(events ...activity.Event) {
		t.Helper()
		for _, e := range events {
			b, _ := json.Marshal(e)
			if err := w.WriteMessages(t.Context(), kafka.Message{Key: []byte(ws), Value: b}); err != nil {
				t.Fatal(err)
			}
		}
	}
	lag := func() int64 {
		l, err := ingestkafka.GroupLag(t.Context(), consumer)
		if err != nil {
			return -1
		}
		return l.Total
	}
	send(failedLogin(ws, ada, "198.51.100.1", now))
	stacktest.Eventually(t, "the first event committed", func() bool { return lag() == 0 })

	redis.stop(t)
	send(failedLogin(ws, ada, "198.51.100.2", now.Add(time.Minute)), failedLogin(ws, ada, "198.51.100.3", now.Add(2*time.Minute)))
	degraded := func() float64 { return testutil.ToFloat64(metrics.Degraded) }
	stacktest.Eventually(t, "the degraded gauge raised", func() bool { return degraded() == 1 })
	// While Redis is away the batch is retried, never committed.
	for i := 0; i < 5; i++ {
		if l := lag(); l != 2 {
			t.Fatalf("lag while Redis is down = %d, want the 2 unchecked events", l)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := len(metrics.sink.alerts()); n != 0 {
		t.Fatalf("%d alerts raised while Redis was down", n)
	}

	redis.start(t)
	stacktest.Eventually(t, "the alert raised after Redis came back", func() bool { return len(metrics.sink.alerts()) == 1 })
	stacktest.Eventually(t, "every event committed", func() bool { return lag() == 0 })
	stacktest.Eventually(t, "the degraded gauge cleared", func() bool { return degraded() == 0 })
	if a := metrics.sink.alerts()[0]; a.Detector != alert.DetectFailedLogins || a.Count != 3 {
		t.Errorf("alert = %+v, want ada's three failed logins", a)
	}
}

// runningDetector is a detector run by runDetector: its metrics and the
// sink its alerts went to.
type runningDetector struct {
	*detect.Metrics
	sink *recordingSink
}

// runDetector runs a detector on consumer's topic and group, with its
// windows in the Redis at redisAddr, until the test ends.
func runDetector(t *testing.T, consumer ingestkafka.Config, redisAddr string, configs staticConfigs) runningDetector {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
	d, sink := newDetector(t, ingestredis.NewStore(rdb), "test:detect:"+stacktest.RandomID()+":", configs)
	d.Now = nil
	d.Config.MaxBackoff = 500 * time.Millisecond
	if err := d.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	src := ingestkafka.NewSource(consumer)
	d.Source = src
	d.Metrics = detect.NewMetrics(prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("detector stopped with an error: %v", err)
		}
		src.Close()
		rdb.Close()
	})
	return runningDetector{Metrics: d.Metrics, sink: sink}
}

// ownRedis is a redis-server of the test's own on a loopback port, which
// the test may stop and start without touching the shared stack. Stopping
// it saves its data, as a Redis restarted for maintenance does.
type ownRedis struct {
	addr string
	port int
	dir  string
	cmd  *exec.Cmd
}

func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (make up installs it): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &ownRedis{addr: fmt.Sprintf("127.0.0.1:%d", port), port: port, dir: t.TempDir()}
	r.start(t)
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *ownRedis) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(r.port), "--dir", r.dir, "--save", "3600 1", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(&goredis.Options{Addr: r.addr})
	defer client.Close()
	stacktest.Eventually(t, "the test's own Redis answering", func() bool { return client.Ping(t.Context()).Err() == nil })
}

func (r *ownRedis) stop(t *testing.T) {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
	r.cmd = nil
}
