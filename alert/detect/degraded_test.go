package detect_test

import (
	"context"
	"encoding/json"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert/detect"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/internal/stacktest"
)

// scriptedSource hands out its messages once, then waits; it reports
// every commit.
type scriptedSource struct {
	mu      sync.Mutex
	msgs    []ingest.Message
	next    int
	commits chan []ingest.Message
}

func newScriptedSource(tb testing.TB, events []activity.Event) *scriptedSource {
	s := &scriptedSource{commits: make(chan []ingest.Message, 100)}
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			tb.Fatal(err)
		}
		s.msgs = append(s.msgs, ingest.Message{Topic: "activity", Offset: int64(i), Value: b})
	}
	// A malformed message is skipped, and committed with the rest.
	s.msgs = append(s.msgs, ingest.Message{Topic: "activity", Offset: int64(len(events)), Value: []byte("{not json")})
	return s
}

func (s *scriptedSource) Fetch(ctx context.Context) (ingest.Message, error) {
	s.mu.Lock()
	if s.next < len(s.msgs) {
		m := s.msgs[s.next]
		s.next++
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	<-ctx.Done()
	return ingest.Message{}, ctx.Err()
}

func (s *scriptedSource) Commit(_ context.Context, msgs []ingest.Message) error {
	s.commits <- msgs
	return nil
}

// closedPort returns a loopback address nothing listens on.
func closedPort(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDetectUnreachableStoresDegradeAndRecover runs the detector while Redis,
// then the alert sink, cannot be reached: it commits nothing, says it is
// degraded, and once they are back checks the batch, stores its alert
// once, commits and says it recovered.
func TestDetectUnreachableStoresDegradeAndRecover(t *testing.T) {
	_, prefix := stacktest.MustRedis(t, "detect")
	var down atomic.Bool
	down.Store(true)
	nowhere := closedPort(t)
	client := goredis.NewClient(&goredis.Options{
		Addr:       stacktest.RedisAddr(),
		MaxRetries: -1,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if down.Load() {
				addr = nowhere
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	})
	defer client.Close()

	for _, broken := range []string{"redis", "sink"} {
		t.Run(broken, func(t *testing.T) {
			ws := activity.NewEventID()
			d, sink := newDetector(t, ingestredis.NewStore(client), prefix+broken+":", staticConfigs{ws: alwaysWorking()})
			ann := person("Ann Lee")
			t0 := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
			var events []activity.Event
			for i := 0; i < 3; i++ {
				events = append(events, failedLogin(ws, ann, "", t0.Add(time.Duration(i)*time.Minute)))
			}
			src := newScriptedSource(t, events)
			d.Source = src
			d.Metrics = detect.NewMetrics(prometheus.NewRegistry())
			degraded := func() float64 { return testutil.ToFloat64(d.Metrics.Degraded) }
			switch broken {
			case "redis":
				down.Store(true)
			case "sink":
				down.Store(false)
				sink.failNext(1 << 30)
			}

			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("run: %v", err)
				}
			}()

			stacktest.Eventually(t, "the degraded gauge raised", func() bool { return degraded() == 1 })
			select {
			case c := <-src.commits:
				t.Fatalf("committed %d messages while degraded", len(c))
			default:
			}
			if n := len(sink.alerts()); n != 0 {
				t.Fatalf("%d alerts stored while degraded", n)
			}
			down.Store(false)
			sink.failNext(0)
			stacktest.Eventually(t, "the degraded gauge cleared", func() bool { return degraded() == 0 })
			select {
			case c := <-src.commits:
				if len(c) != 4 {
					t.Errorf("committed %d messages, want 4", len(c))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("nothing was committed after recovering")
			}
			if got := briefs(sink.alerts()); !equal(got, []string{"failed_logins user:" + ann.ID + " 3"}) {
				t.Errorf("alerts: %v", got)
			}
		})
	}
}
