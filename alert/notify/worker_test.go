package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

// memQueue is a alert.Queue in memory, with the leasing rules of the real one.
type memQueue struct {
	mu       sync.Mutex
	items    []*memItem
	attempts []alert.Attempt
	claims   []int
	// claimErrs fails that many Claims; recordErr fails every Record.
	claimErrs int
	recordErr error
	// waits gets a value each time the worker waits; wake ends a wait.
	waits chan struct{}
	wake  chan struct{}
}

type memItem struct {
	d           alert.Delivery
	due         time.Time
	leasedUntil time.Time
	state       string // pending, delivered, failed
}

func newMemQueue(ds ...alert.Delivery) *memQueue {
	q := &memQueue{waits: make(chan struct{}, 1000), wake: make(chan struct{})}
	for _, d := range ds {
		q.items = append(q.items, &memItem{d: d, state: "pending"})
	}
	return q
}

func (q *memQueue) Claim(ctx context.Context, n int, now time.Time, lease time.Duration) ([]alert.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims = append(q.claims, n)
	if q.claimErrs > 0 {
		q.claimErrs--
		return nil, errors.New("connection refused")
	}
	var out []alert.Delivery
	for _, it := range q.items {
		if len(out) == n {
			break
		}
		if it.state == "pending" && !it.due.After(now) && !it.leasedUntil.After(now) {
			it.leasedUntil = now.Add(lease)
			out = append(out, it.d)
		}
	}
	return out, nil
}

func (q *memQueue) Record(_ context.Context, a alert.Attempt) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.recordErr != nil {
		return q.recordErr
	}
	q.attempts = append(q.attempts, a)
	for _, it := range q.items {
		if it.d.ID != a.DeliveryID {
			continue
		}
		it.leasedUntil = time.Time{}
		it.d.Attempts++
		switch {
		case a.Delivered:
			it.state = "delivered"
		case a.NotConfigured:
			it.state = alert.DeliveryNotConfigured
		case a.RetryAt.IsZero():
			it.state = "failed"
		default:
			it.due = a.RetryAt
		}
	}
	return nil
}

func (q *memQueue) Wait(ctx context.Context, _ time.Duration) {
	q.waits <- struct{}{}
	select {
	case <-ctx.Done():
	case <-q.wake:
	}
}

func (q *memQueue) state(id string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range q.items {
		if it.d.ID == id {
			return it.state
		}
	}
	return ""
}

// fakeClock is the worker's clock, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// senderFunc lets a function be a Sender.
type senderFunc func(ctx context.Context, d alert.Delivery) (int, error)

func (f senderFunc) Send(ctx context.Context, d alert.Delivery) (int, error) { return f(ctx, d) }

// recv returns the next value of ch; the deadline only keeps a broken
// worker from hanging the test.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("the worker is stuck")
		var zero T
		return zero
	}
}

// startWorker runs w until the test ends and returns the attempts it
// observes.
func startWorker(t *testing.T, w *Worker) <-chan alert.Attempt {
	t.Helper()
	observed := make(chan alert.Attempt, 1000)
	w.Observe = func(_ alert.Delivery, a alert.Attempt) { observed <- a }
	if w.Log == nil {
		w.Log, _ = logtest.NewNullLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := recv(t, done); err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	return observed
}

func delivery(id, typ string) alert.Delivery {
	d := testDelivery(typ, "https://hooks.example.com/x")
	d.ID = id
	return d
}

func TestBackoffDelay(t *testing.T) {
	var c Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{
		time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 512 * time.Second,
		10 * time.Minute, 10 * time.Minute,
	}
	for i, w := range want {
		if got := c.Backoff.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %s, want %s", i+1, got, w)
		}
	}
	if got := c.Backoff.Delay(1000); got != 10*time.Minute {
		t.Errorf("Delay(1000) = %s", got)
	}
	jittered := Backoff{Initial: time.Second, Max: time.Minute, Jitter: 0.5}
	for range 100 {
		if d := jittered.Delay(3); d <= 2*time.Second || d > 4*time.Second {
			t.Fatalf("jittered Delay(3) = %s, want in (2s, 4s]", d)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	var c Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Backoff:      Backoff{Initial: time.Second, Max: 10 * time.Minute},
		MaxAttempts:  8,
		Concurrency:  8,
		BatchSize:    50,
		Lease:        time.Minute,
		PollInterval: time.Second,
		QueueBackoff: Backoff{Initial: 500 * time.Millisecond, Max: 30 * time.Second},
	}
	if c != want {
		t.Fatalf("defaults %+v, want %+v", c, want)
	}
	partial := Config{Backoff: Backoff{Jitter: 0.2}, QueueBackoff: Backoff{Max: time.Minute}}
	if err := partial.Validate(); err != nil {
		t.Fatal(err)
	}
	if partial.Backoff != (Backoff{Initial: time.Second, Max: 10 * time.Minute, Jitter: 0.2}) ||
		partial.QueueBackoff != (Backoff{Initial: 500 * time.Millisecond, Max: time.Minute}) {
		t.Errorf("partial backoffs filled in as %+v and %+v", partial.Backoff, partial.QueueBackoff)
	}
	for name, bad := range map[string]Config{
		"negative attempts": {MaxAttempts: -1},
		"negative workers":  {Concurrency: -1},
		"negative batch":    {BatchSize: -1},
		"short lease":       {Lease: time.Millisecond},
		"max below initial": {Backoff: Backoff{Initial: time.Minute, Max: time.Second}},
		"jitter above one":  {Backoff: Backoff{Initial: time.Second, Max: time.Minute, Jitter: 1.5}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, bad)
		}
	}
}

func TestWorkerBackoffAndGiveUp(t *testing.T) {
	clock := &fakeClock{t: testNow}
	q := newMemQueue(delivery("d-1", alert.ChannelWebhook))
	sends := 0
	w := &Worker{
		Config: Config{MaxAttempts: 5, Backoff: Backoff{Initial: time.Second, Max: 5 * time.Second}},
		Queue:  q,
		Senders: map[string]Sender{alert.ChannelWebhook: senderFunc(func(context.Context, alert.Delivery) (int, error) {
			sends++
			return 500, errors.New("the endpoint answered 500 Internal Server Error")
		})},
		Now: clock.Now,
	}
	observed := startWorker(t, w)

	wantDelays := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 0}
	for i, delay := range wantDelays {
		a := recv(t, observed)
		now := clock.Now()
		if a.At != now || a.Status != 500 || a.Delivered || !strings.Contains(a.Error, "500") {
			t.Fatalf("attempt %d: %+v", i+1, a)
		}
		if delay == 0 {
			if !a.RetryAt.IsZero() {
				t.Fatalf("attempt %d retries at %s after MaxAttempts", i+1, a.RetryAt)
			}
			break
		}
		if got := a.RetryAt.Sub(now); got != delay {
			t.Fatalf("attempt %d: retry in %s, want %s", i+1, got, delay)
		}
		recv(t, q.waits)
		// Not due yet: a wake-up before RetryAt sends nothing.
		clock.Set(a.RetryAt.Add(-time.Millisecond))
		q.wake <- struct{}{}
		recv(t, q.waits)
		clock.Set(a.RetryAt)
		q.wake <- struct{}{}
	}
	recv(t, q.waits)
	if got := q.state("d-1"); got != "failed" {
		t.Fatalf("state %s, want failed", got)
	}
	if sends != 5 {
		t.Fatalf("%d sends, want 5", sends)
	}
}

func TestWorkerOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		typ       string
		sender    Sender
		delivered bool
		retry     bool
		status    int
		errorHas  string
	}{
		{name: "delivered", typ: alert.ChannelWebhook, delivered: true, status: 204,
			sender: senderFunc(func(context.Context, alert.Delivery) (int, error) { return 204, nil })},
		{name: "retryable", typ: alert.ChannelWebhook, retry: true, status: 429, errorHas: "429",
			sender: senderFunc(func(context.Context, alert.Delivery) (int, error) {
				return 429, errors.New("the endpoint answered 429")
			})},
		{name: "permanent", typ: alert.ChannelWebhook, status: 400, errorHas: "400",
			sender: senderFunc(func(context.Context, alert.Delivery) (int, error) {
				return 400, Permanent(errors.New("the endpoint answered 400"))
			})},
		{name: "unknown type", typ: "pager", errorHas: `no sender for delivery type "pager"`},
		{name: "sender panics", typ: alert.ChannelWebhook, retry: true, errorHas: "sender failed",
			sender: senderFunc(func(context.Context, alert.Delivery) (int, error) { panic("nil map") })},
		{name: "no smtp", typ: alert.ChannelEmail, errorHas: "no SMTP server is configured", sender: &Email{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newMemQueue(delivery("d-1", tt.typ))
			senders := map[string]Sender{}
			if tt.sender != nil {
				senders[tt.typ] = tt.sender
			}
			observed := startWorker(t, &Worker{Queue: q, Senders: senders, Now: (&fakeClock{t: testNow}).Now})
			a := recv(t, observed)
			if a.DeliveryID != "d-1" || a.Delivered != tt.delivered || a.Status != tt.status || a.RetryAt.IsZero() == tt.retry {
				t.Fatalf("attempt %+v", a)
			}
			if tt.retry && a.RetryAt != testNow.Add(time.Second) {
				t.Errorf("retry at %s, want a second later", a.RetryAt)
			}
			if !strings.Contains(a.Error, tt.errorHas) || (tt.delivered && a.Error != "") {
				t.Errorf("error %q, want it to contain %q", a.Error, tt.errorHas)
			}
		})
	}
}

func TestWorkerConcurrencyBound(t *testing.T) {
	const n, limit = 20, 3
	var ds []alert.Delivery
	for i := range n {
		ds = append(ds, delivery(fmt.Sprintf("d-%02d", i), alert.ChannelWebhook))
	}
	q := newMemQueue(ds...)
	var mu sync.Mutex
	inFlight, most := 0, 0
	started := make(chan struct{}, n)
	release := make(chan struct{})
	w := &Worker{
		Config: Config{Concurrency: limit},
		Queue:  q,
		Senders: map[string]Sender{alert.ChannelWebhook: senderFunc(func(ctx context.Context, d alert.Delivery) (int, error) {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			started <- struct{}{}
			<-release
			mu.Lock()
			inFlight--
			mu.Unlock()
			return 200, nil
		})},
		Now: (&fakeClock{t: testNow}).Now,
	}
	observed := startWorker(t, w)
	for range limit {
		recv(t, started)
	}
	close(release)
	for range n {
		if a := recv(t, observed); !a.Delivered {
			t.Fatalf("attempt %+v", a)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if most != limit {
		t.Fatalf("%d deliveries in flight at most, want %d", most, limit)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range q.claims {
		if c > limit {
			t.Fatalf("claimed %d at once with %d slots", c, limit)
		}
	}
}

func TestWorkerSurvivesQueueFailures(t *testing.T) {
	q := newMemQueue(delivery("d-1", alert.ChannelWebhook))
	q.claimErrs = 2
	log, hook := logtest.NewNullLogger()
	w := &Worker{
		Config:  Config{QueueBackoff: Backoff{Initial: time.Millisecond, Max: time.Millisecond}},
		Queue:   q,
		Senders: map[string]Sender{alert.ChannelWebhook: senderFunc(func(context.Context, alert.Delivery) (int, error) { return 200, nil })},
		Log:     log,
	}
	observed := startWorker(t, w)
	if a := recv(t, observed); !a.Delivered {
		t.Fatalf("attempt %+v", a)
	}
	failures := 0
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.ErrorLevel && strings.Contains(e.Message, "Claiming deliveries failed") {
			failures++
		}
	}
	if failures != 2 {
		t.Fatalf("%d claim failures logged, want 2", failures)
	}
}

func TestWorkerLogsRecordFailure(t *testing.T) {
	q := newMemQueue(delivery("d-1", alert.ChannelWebhook))
	q.recordErr = errors.New("database is down")
	log, hook := logtest.NewNullLogger()
	w := &Worker{
		Queue:   q,
		Senders: map[string]Sender{alert.ChannelWebhook: senderFunc(func(context.Context, alert.Delivery) (int, error) { return 200, nil })},
		Log:     log,
	}
	observed := startWorker(t, w)
	recv(t, observed)
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.ErrorLevel && strings.Contains(e.Message, "Recording a delivery attempt failed") && e.Data["delivery_id"] == "d-1" {
			return
		}
	}
	t.Fatal("the failed record was not logged")
}

func TestWorkerSendDeadline(t *testing.T) {
	q := newMemQueue(delivery("d-1", alert.ChannelWebhook))
	deadlines := make(chan time.Duration, 1)
	w := &Worker{
		Config: Config{Lease: 40 * time.Second},
		Queue:  q,
		Senders: map[string]Sender{alert.ChannelWebhook: senderFunc(func(ctx context.Context, _ alert.Delivery) (int, error) {
			dl, ok := ctx.Deadline()
			if !ok {
				deadlines <- 0
			} else {
				deadlines <- time.Until(dl)
			}
			return 200, nil
		})},
	}
	startWorker(t, w)
	if d := recv(t, deadlines); d <= 0 || d > 20*time.Second {
		t.Fatalf("send deadline in %s, want at most half the 40s lease", d)
	}
}

func TestWorkerStopLeavesAttemptUnrecorded(t *testing.T) {
	q := newMemQueue(delivery("d-1", alert.ChannelWebhook))
	started := make(chan struct{})
	w := &Worker{
		Queue: q,
		Senders: map[string]Sender{alert.ChannelWebhook: senderFunc(func(ctx context.Context, _ alert.Delivery) (int, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		})},
		Now: (&fakeClock{t: testNow}).Now,
	}
	w.Log, _ = logtest.NewNullLogger()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	recv(t, started)
	cancel()
	if err := recv(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.attempts) != 0 {
		t.Fatalf("a cut-short attempt was recorded: %+v", q.attempts)
	}
}

func TestWorkerNeedsQueue(t *testing.T) {
	if err := (&Worker{}).Run(context.Background()); err == nil {
		t.Fatal("Run without a queue succeeded")
	}
}

// TestWorkerMarksEmailWithoutSMTPNotConfigured sends an alert's email with
// no SMTP server configured: the delivery is marked not configured, never
// retried, and no failure is logged for it.
func TestWorkerMarksEmailWithoutSMTPNotConfigured(t *testing.T) {
	q := newMemQueue(delivery("d-1", alert.ChannelEmail))
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	observed := startWorker(t, &Worker{Queue: q, Senders: map[string]Sender{alert.ChannelEmail: &Email{}}, Now: (&fakeClock{t: testNow}).Now, Log: log})
	a := recv(t, observed)
	if !a.NotConfigured || a.Delivered || !a.RetryAt.IsZero() || a.Result() != alert.AttemptNotConfigured {
		t.Fatalf("attempt %+v", a)
	}
	if got := q.state("d-1"); got != alert.DeliveryNotConfigured {
		t.Errorf("state %q, want %q", got, alert.DeliveryNotConfigured)
	}
	for _, e := range hook.AllEntries() {
		if e.Level <= logrus.WarnLevel {
			t.Errorf("logged %s: %s", e.Level, e.Message)
		}
	}
}
