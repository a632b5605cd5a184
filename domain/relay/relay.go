// Package relay moves activity events from the domain's transactional
// outbox to the event stream, in the outbox's order, at least once.
package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/retry"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
)

// Outbox is where events wait until the relay has published them.
type Outbox interface {
	// Pending returns up to n unpublished messages, oldest first.
	Pending(ctx context.Context, n int) ([]domain.OutboxMessage, error)
	// MarkPublished records that the messages with the given sequence
	// numbers were accepted by the broker; Pending does not return them
	// again.
	MarkPublished(ctx context.Context, seqs []int64) error
	// Wait blocks until new messages may have arrived or d has passed.
	Wait(ctx context.Context, d time.Duration) error
	// Lead blocks until this process is the one relay allowed to publish,
	// and returns a function that gives the role up.
	Lead(ctx context.Context) (release func(), err error)
}

// Publisher sends messages to the event stream, in order, and returns only
// when every message was acknowledged by all in-sync replicas.
type Publisher interface {
	Publish(ctx context.Context, msgs []domain.OutboxMessage) error
}

// Config tunes the outbox relay.
type Config struct {
	BatchSize int // messages per publish
	// BatchBytes bounds the payloads of one publish, so that a batch of
	// large events stays under the broker's largest message batch; the
	// rest wait for the next publish, in order.
	BatchBytes   int
	PollInterval time.Duration // fallback when no notification arrives
	MaxBackoff   time.Duration // ceiling of the retry delay while the broker is down
	// Linger is how long the relay lets events gather after a wake-up
	// before it reads them, so that a busy outbox goes out in fewer,
	// larger batches.
	Linger time.Duration
}

// DefaultBatchBytes is the default bound on one publish's payloads: half
// of Kafka's default largest message batch (message.max.bytes, 1 MiB), so
// that keys and headers fit too.
const DefaultBatchBytes = 512 << 10

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.Linger == 0 {
		c.Linger = 10 * time.Millisecond
	}
	if c.BatchSize < 1 || c.BatchBytes < 1 || c.PollInterval < time.Millisecond || c.MaxBackoff < time.Millisecond || c.Linger < 0 {
		return fmt.Errorf("relay: batch size and intervals must be positive")
	}
	// One publish must fit one producer batch per partition, or a failed
	// early chunk could let a later one overtake it.
	if c.BatchSize > 1000 {
		return fmt.Errorf("relay: batch size %d is above 1000, the most one publish keeps in order", c.BatchSize)
	}
	return nil
}

// Metrics are the relay's Prometheus metrics.
type Metrics struct {
	Published      prometheus.Counter
	Failures       prometheus.Counter
	PublishSeconds prometheus.Histogram
}

// NewMetrics registers the relay's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Published:      prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_relay_published_total", Help: "Events published from the outbox."}),
		Failures:       prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_relay_failures_total", Help: "Failed publish attempts."}),
		PublishSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fluxera_relay_publish_seconds", Help: "Time to publish one batch."}),
	}
	reg.MustRegister(m.Published, m.Failures, m.PublishSeconds)
	return m
}

// Relay moves events from the outbox to the event stream in the order the
// outbox gives them.
// Delivery is at least once: a crash between publish and mark republishes
// the batch, and consumers absorb the duplicate by event id.
type Relay struct {
	Config    Config
	Outbox    Outbox
	Publisher Publisher
	Metrics   *Metrics // optional
	Log       logrus.FieldLogger
}

// Run publishes until ctx ends. It returns nil on a clean stop.
func (r *Relay) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		release, err := r.Outbox.Lead(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("relay: take the lead: %w", err)
		}
		r.Log.Info("Relay is publishing.")
		err = r.lead(ctx)
		release()
		if err == nil {
			break
		}
		r.Log.WithError(err).Warn("Relay lost the lead; waiting to take it again.")
	}
	r.Log.Info("Relay stopped.")
	return nil
}

// lead publishes while this relay holds the lead. It returns nil when ctx
// ends and domain.ErrLeadLost when the lead is gone.
func (r *Relay) lead(ctx context.Context) error {
	tries := retry.Backoff{Initial: 100 * time.Millisecond, Max: r.Config.MaxBackoff, Jitter: retry.DefaultJitter}.Attempts()
	for ctx.Err() == nil {
		more, err := r.publishBatch(ctx)
		if errors.Is(err, domain.ErrLeadLost) {
			return err
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if r.Metrics != nil {
				r.Metrics.Failures.Inc()
			}
			pause := tries.Failed()
			r.Log.WithError(err).WithField("retry_in_ms", pause.Milliseconds()).Warn("Publishing failed; events wait in the outbox.")
			retry.Sleep(ctx, pause)
			continue
		}
		tries.Succeeded()
		if !more {
			if err := r.Outbox.Wait(ctx, r.Config.PollInterval); err != nil && !errors.Is(err, context.Canceled) {
				r.Log.WithError(err).Warn("Waiting for outbox notifications failed.")
				retry.Sleep(ctx, r.Config.PollInterval)
			}
			retry.Sleep(ctx, r.Config.Linger)
		}
	}
	return nil
}

// publishBatch publishes one batch read from the outbox, in parts within
// BatchBytes, each marked once the broker has it, and says whether more
// may be waiting. A part is marked while the next one is published; the
// batch is done when every part is marked, so the next read does not see
// it again. If a mark fails, the parts from it on are published again
// with the next batch, after the ones published already: consumers keep
// the first of each event.
func (r *Relay) publishBatch(ctx context.Context) (bool, error) {
	msgs, err := r.Outbox.Pending(ctx, r.Config.BatchSize)
	if err != nil {
		return false, fmt.Errorf("read outbox: %w", err)
	}
	more := len(msgs) == r.Config.BatchSize
	var marking chan error // the mark of the part before, if any
	waitMark := func() error {
		if marking == nil {
			return nil
		}
		err := <-marking
		marking = nil
		return err
	}
	for len(msgs) > 0 {
		part := msgs[:r.partLen(msgs)]
		start := time.Now()
		err := r.Publisher.Publish(ctx, part)
		if merr := waitMark(); merr != nil {
			return false, merr
		}
		if err != nil {
			return false, fmt.Errorf("publish %d events: %w", len(part), err)
		}
		marking = make(chan error, 1)
		go func() { marking <- r.mark(ctx, part, start) }()
		msgs = msgs[len(part):]
	}
	return more, waitMark()
}

// partLen is how many of msgs, one at least, fit in BatchBytes.
func (r *Relay) partLen(msgs []domain.OutboxMessage) int {
	size := len(msgs[0].Payload)
	for i := 1; i < len(msgs); i++ {
		if size += len(msgs[i].Payload); size > r.Config.BatchBytes {
			return i
		}
	}
	return len(msgs)
}

// mark marks msgs, which the broker has, published.
func (r *Relay) mark(ctx context.Context, msgs []domain.OutboxMessage, start time.Time) error {
	seqs := make([]int64, len(msgs))
	for i, m := range msgs {
		seqs[i] = m.Seq
	}
	// The broker has the events: finish marking them even if ctx ends now,
	// so that a clean stop does not republish them.
	markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.Outbox.MarkPublished(markCtx, seqs); err != nil {
		return fmt.Errorf("mark %d events published: %w", len(msgs), err)
	}
	if r.Metrics != nil {
		r.Metrics.Published.Add(float64(len(msgs)))
		r.Metrics.PublishSeconds.Observe(time.Since(start).Seconds())
	}
	return nil
}
