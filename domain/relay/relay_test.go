package relay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/relay"
	"github.com/fluxera/activity/internal/stacktest"
)

// memOutbox is an outbox in memory. Failures can be planned per method.
type memOutbox struct {
	mu        sync.Mutex
	msgs      []domain.OutboxMessage
	published map[int64]bool
	wake      chan struct{}

	failPending int // the next n Pending calls fail
	loseLead    int // the next n Pending calls report the lead lost
	failMark    int // the next n MarkPublished calls fail
	leadErr     error

	leads, releases int
	markCtxErrs     []error // ctx.Err() seen by every MarkPublished
}

func newMemOutbox() *memOutbox {
	return &memOutbox{published: map[int64]bool{}, wake: make(chan struct{}, 1)}
}

// add appends messages in commit order and wakes the relay.
func (o *memOutbox) add(workspace string, n int) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ids []string
	for i := 0; i < n; i++ {
		seq := int64(len(o.msgs) + 1)
		id := fmt.Sprintf("%s-%03d", workspace, seq)
		o.msgs = append(o.msgs, domain.OutboxMessage{Seq: seq, EventID: id, WorkspaceID: workspace, Payload: []byte(`{}`)})
		ids = append(ids, id)
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return ids
}

func (o *memOutbox) Pending(_ context.Context, n int) ([]domain.OutboxMessage, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failPending > 0 {
		o.failPending--
		return nil, errors.New("database unavailable")
	}
	if o.loseLead > 0 {
		o.loseLead--
		return nil, domain.ErrLeadLost
	}
	var out []domain.OutboxMessage
	for _, m := range o.msgs {
		if !o.published[m.Seq] && len(out) < n {
			out = append(out, m)
		}
	}
	return out, nil
}

func (o *memOutbox) MarkPublished(ctx context.Context, seqs []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.markCtxErrs = append(o.markCtxErrs, ctx.Err())
	if o.failMark > 0 {
		o.failMark--
		return errors.New("connection reset")
	}
	for _, s := range seqs {
		o.published[s] = true
	}
	return nil
}

func (o *memOutbox) Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-o.wake:
	case <-t.C:
	}
	return nil
}

func (o *memOutbox) Lead(context.Context) (func(), error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.leadErr != nil {
		return nil, o.leadErr
	}
	o.leads++
	return func() {
		o.mu.Lock()
		o.releases++
		o.mu.Unlock()
	}, nil
}

func (o *memOutbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs) - len(o.published)
}

// memStream records every published message. Publish can be made to fail.
type memStream struct {
	mu       sync.Mutex
	got      []domain.OutboxMessage
	batches  []int
	failNext int
	// onPublish, when set, runs after a successful publish.
	onPublish func()
}

func (s *memStream) Publish(_ context.Context, msgs []domain.OutboxMessage) error {
	s.mu.Lock()
	if s.failNext > 0 {
		s.failNext--
		s.mu.Unlock()
		return errors.New("broker unavailable")
	}
	s.got = append(s.got, msgs...)
	s.batches = append(s.batches, len(msgs))
	hook := s.onPublish
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return nil
}

func (s *memStream) snapshot() (got []domain.OutboxMessage, batches []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got), slices.Clone(s.batches)
}

// firstOccurrence returns the event ids in the order they first appeared,
// and how many times each appeared.
func firstOccurrence(msgs []domain.OutboxMessage) ([]string, map[string]int) {
	seen := map[string]int{}
	var order []string
	for _, m := range msgs {
		if seen[m.EventID] == 0 {
			order = append(order, m.EventID)
		}
		seen[m.EventID]++
	}
	return order, seen
}

// counts reads what the relay's metrics counted.
func counts(m *relay.Metrics) (published, failed int) {
	return int(testutil.ToFloat64(m.Published)), int(testutil.ToFloat64(m.Failures))
}

func quietLog() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// start runs the relay until the test ends and returns a function that
// stops it and reports Run's result.
func start(t *testing.T, r *relay.Relay) (stop func() error) {
	t.Helper()
	if err := r.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.Log == nil {
		r.Log = quietLog()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func fastConfig(batch int) relay.Config {
	return relay.Config{BatchSize: batch, PollInterval: 5 * time.Millisecond, MaxBackoff: time.Millisecond}
}

func TestRelayPublishesInCommitOrderInBatches(t *testing.T) {
	ob, st := newMemOutbox(), &memStream{}
	var want []string
	want = append(want, ob.add("ws-a", 4)...)
	want = append(want, ob.add("ws-b", 3)...)
	want = append(want, ob.add("ws-a", 3)...)
	metrics := relay.NewMetrics(prometheus.NewRegistry())
	stop := start(t, &relay.Relay{Config: fastConfig(3), Outbox: ob, Publisher: st, Metrics: metrics})

	stacktest.Eventually(t, "the first events are published", func() bool { return ob.pending() == 0 })
	// Events committed while the relay runs follow the earlier ones.
	want = append(want, ob.add("ws-b", 5)...)
	stacktest.Eventually(t, "the later events are published", func() bool { return ob.pending() == 0 })
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v on a clean stop", err)
	}

	got, batches := st.snapshot()
	order, seen := firstOccurrence(got)
	if !slices.Equal(order, want) {
		t.Errorf("published order\n got %v\nwant %v", order, want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s published %d times without any failure", id, n)
		}
	}
	for _, b := range batches {
		if b > 3 {
			t.Errorf("a batch of %d exceeds the batch size 3 (batches %v)", b, batches)
		}
	}
	if published, failed := counts(metrics); published != len(want) || failed != 0 {
		t.Errorf("metrics: published %d, failed %d; want %d and 0", published, failed, len(want))
	}
	if ob.leads != 1 || ob.releases != 1 {
		t.Errorf("lead taken %d times and released %d times, want once each", ob.leads, ob.releases)
	}
}

func TestRelayRetriesWhileTheBrokerIsDown(t *testing.T) {
	ob, st := newMemOutbox(), &memStream{failNext: 5}
	want := ob.add("ws", 7)
	metrics := relay.NewMetrics(prometheus.NewRegistry())
	start(t, &relay.Relay{Config: fastConfig(100), Outbox: ob, Publisher: st, Metrics: metrics})

	stacktest.Eventually(t, "the events are published once the broker is back", func() bool { return ob.pending() == 0 })
	got, _ := st.snapshot()
	order, seen := firstOccurrence(got)
	if !slices.Equal(order, want) {
		t.Errorf("published order\n got %v\nwant %v", order, want)
	}
	if len(got) != len(want) {
		t.Errorf("%d messages reached the stream for %d events; a failed publish must not count as one (counts %v)", len(got), len(want), seen)
	}
	if _, failed := counts(metrics); failed != 5 {
		t.Errorf("metrics counted %d failures, want 5", failed)
	}
}

func TestRelayRetriesWhenTheOutboxCannotBeRead(t *testing.T) {
	ob, st := newMemOutbox(), &memStream{}
	ob.failPending = 3
	want := ob.add("ws", 4)
	start(t, &relay.Relay{Config: fastConfig(100), Outbox: ob, Publisher: st})

	stacktest.Eventually(t, "the events are published once the outbox answers", func() bool { return ob.pending() == 0 })
	got, _ := st.snapshot()
	if order, _ := firstOccurrence(got); !slices.Equal(order, want) || len(got) != len(want) {
		t.Errorf("published %v, want %v once each", order, want)
	}
}

func TestRelayRepublishesABatchItCouldNotMark(t *testing.T) {
	ob, st := newMemOutbox(), &memStream{}
	ob.failMark = 1
	want := ob.add("ws-a", 3)
	want = append(want, ob.add("ws-b", 2)...)
	want = append(want, ob.add("ws-a", 2)...)
	start(t, &relay.Relay{Config: fastConfig(4), Outbox: ob, Publisher: st})

	stacktest.Eventually(t, "every event is marked published", func() bool { return ob.pending() == 0 })
	got, _ := st.snapshot()
	order, seen := firstOccurrence(got)
	if !slices.Equal(order, want) {
		t.Errorf("first-occurrence order\n got %v\nwant %v", order, want)
	}
	// The first batch (4 events) was published, not marked, and published
	// again; everything after it went out once.
	for i, id := range want {
		wantN := 1
		if i < 4 {
			wantN = 2
		}
		if seen[id] != wantN {
			t.Errorf("%s published %d times, want %d", id, seen[id], wantN)
		}
	}
}

func TestRelayMarksWhatTheBrokerAcceptedEvenWhenStopping(t *testing.T) {
	ob, st := newMemOutbox(), &memStream{}
	want := ob.add("ws", 3)
	r := &relay.Relay{Config: fastConfig(100), Outbox: ob, Publisher: st, Log: quietLog()}
	if err := r.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The stop arrives right after the broker acknowledged the batch.
	st.onPublish = cancel
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run returned %v on a clean stop", err)
	}
	if ob.pending() != 0 {
		t.Fatalf("%d events left unmarked after the broker accepted them; the next relay republishes them", ob.pending())
	}
	if len(ob.markCtxErrs) != 1 || ob.markCtxErrs[0] != nil {
		t.Errorf("MarkPublished saw context errors %v, want one call with a live context", ob.markCtxErrs)
	}
	got, _ := st.snapshot()
	if order, _ := firstOccurrence(got); !slices.Equal(order, want) {
		t.Errorf("published %v, want %v", order, want)
	}
	if ob.releases != 1 {
		t.Errorf("lead released %d times, want 1", ob.releases)
	}
}

func TestRelayReportsWhenItCannotLead(t *testing.T) {
	ob, st := newMemOutbox(), &memStream{}
	ob.leadErr = errors.New("connection refused")
	ob.add("ws", 1)
	r := &relay.Relay{Config: fastConfig(100), Outbox: ob, Publisher: st, Log: quietLog()}
	if err := r.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	err := r.Run(context.Background())
	if err == nil || !errors.Is(err, ob.leadErr) {
		t.Fatalf("Run = %v, want the lead error", err)
	}
	if got, _ := st.snapshot(); len(got) != 0 {
		t.Errorf("published %d messages without the lead", len(got))
	}

	// A stop while waiting for the lead is a clean stop.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ob.leadErr = context.Canceled
	if err := r.Run(ctx); err != nil {
		t.Errorf("Run = %v after a stop while waiting for the lead, want nil", err)
	}
}

func TestConfigDefaultsAndLimits(t *testing.T) {
	var c relay.Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != 1000 || c.PollInterval != time.Second || c.MaxBackoff != 5*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	for _, bad := range []relay.Config{
		{BatchSize: -1},
		{PollInterval: time.Microsecond},
		{MaxBackoff: -time.Second},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted it", bad)
		}
	}
}

func TestRelayTakesTheLeadAgainAfterLosingIt(t *testing.T) {
	ob, st := newMemOutbox(), &memStream{}
	ob.loseLead = 1
	want := ob.add("ws-a", 3)
	start(t, &relay.Relay{Config: fastConfig(10), Outbox: ob, Publisher: st})

	stacktest.Eventually(t, "every event is marked published", func() bool { return ob.pending() == 0 })
	got, _ := st.snapshot()
	if order, _ := firstOccurrence(got); !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.leads != 2 || ob.releases != 1 {
		t.Errorf("led %d times and released %d times, want 2 and 1", ob.leads, ob.releases)
	}
}

func TestRelayRefusesBatchesThatCannotKeepOrder(t *testing.T) {
	c := relay.Config{BatchSize: 5000}
	if err := c.Validate(); err == nil {
		t.Error("a batch of 5000 was accepted")
	}
}

// TestRelayKeepsEachPublishWithinItsBytes checks that a batch whose
// payloads exceed BatchBytes is published in parts, each within the bound
// (or of one message), in order and each message once.
func TestRelayKeepsEachPublishWithinItsBytes(t *testing.T) {
	ob, st := newMemOutbox(), &memStream{}
	want := append(ob.add("ws-a", 5), ob.add("ws-b", 4)...)
	ob.mu.Lock()
	for i := range ob.msgs {
		ob.msgs[i].Payload = []byte(fmt.Sprintf(`{"pad":%q}`, strings.Repeat("x", 90))) // 100 bytes
	}
	ob.msgs[6].Payload = []byte(fmt.Sprintf(`{"pad":%q}`, strings.Repeat("x", 490))) // alone above the bound
	ob.mu.Unlock()
	cfg := fastConfig(100)
	cfg.BatchBytes = 250
	start(t, &relay.Relay{Config: cfg, Outbox: ob, Publisher: st})
	stacktest.Eventually(t, "every event is published", func() bool { return ob.pending() == 0 })

	got, batches := st.snapshot()
	order, seen := firstOccurrence(got)
	if !slices.Equal(order, want) || len(got) != len(want) {
		t.Fatalf("published %v\nwant each once in order %v", order, want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s published %d times", id, n)
		}
	}
	if !slices.Equal(batches, []int{2, 2, 2, 1, 2}) {
		t.Errorf("batches %v, want [2 2 2 1 2]", batches)
	}
}

// overlapOutbox holds the first MarkPublished call until the publish of
// the next part has begun, and can make that mark fail.
type overlapOutbox struct {
	*memOutbox
	nextPublished chan struct{}
	giveUp        chan struct{} // closed when the test ends
	failFirst     bool
	calls         int
}

func (o *overlapOutbox) MarkPublished(ctx context.Context, seqs []int64) error {
	o.mu.Lock()
	o.calls++
	first := o.calls == 1
	o.mu.Unlock()
	if first {
		select {
		case <-o.nextPublished:
		case <-o.giveUp:
			return errors.New("the next part was never published")
		}
		if o.failFirst {
			return errors.New("connection reset")
		}
	}
	return o.memOutbox.MarkPublished(ctx, seqs)
}

// TestRelayMarksAPartWhileItPublishesTheNext checks that the parts of a
// batch overlap, the mark of one with the publish of the next, and that a
// mark that fails meanwhile costs duplicates only, never order or events.
func TestRelayMarksAPartWhileItPublishesTheNext(t *testing.T) {
	for _, failFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("first mark fails %t", failFirst), func(t *testing.T) {
			ob := &overlapOutbox{memOutbox: newMemOutbox(), nextPublished: make(chan struct{}), giveUp: make(chan struct{}), failFirst: failFirst}
			st := &memStream{}
			var once sync.Once
			publishes := 0
			st.onPublish = func() {
				if publishes++; publishes == 2 {
					once.Do(func() { close(ob.nextPublished) })
				}
			}
			want := ob.add("ws-a", 6)
			for i := range ob.msgs {
				ob.msgs[i].Payload = []byte(fmt.Sprintf(`{"pad":%q}`, strings.Repeat("x", 90))) // 100 bytes
			}
			cfg := fastConfig(100)
			cfg.BatchBytes = 250 // parts of two
			start(t, &relay.Relay{Config: cfg, Outbox: ob, Publisher: st})
			t.Cleanup(func() { close(ob.giveUp) }) // before the relay stops
			stacktest.Eventually(t, "every event is marked published", func() bool { return ob.pending() == 0 })

			got, _ := st.snapshot()
			order, seen := firstOccurrence(got)
			if !slices.Equal(order, want) {
				t.Fatalf("first-occurrence order\n got %v\nwant %v", order, want)
			}
			for id, n := range seen {
				if !failFirst && n != 1 {
					t.Errorf("%s published %d times without any failure", id, n)
				}
			}
		})
	}
}
