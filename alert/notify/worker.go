// Package notify delivers alerts: signed webhooks and chat messages,
// emails through an SMTP server, and the alert topic for SIEMs. Deliveries
// wait in a durable queue, are retried with backoff, and every attempt is
// logged.
package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/internal/retry"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
)

// Backoff spaces the tries of a delivery, and of the queue while it fails.
type Backoff = retry.Backoff

// Config tunes the delivery worker.
type Config struct {
	// Backoff spaces the attempts at one delivery: after the n-th failed
	// attempt the next is due Backoff.Delay(n) later. Default 1s doubling
	// to 10 minutes, no jitter.
	Backoff Backoff
	// MaxAttempts is how many attempts a delivery gets before it is
	// marked failed. Default 8.
	MaxAttempts int
	// Concurrency bounds the deliveries being sent at once. Default 8.
	Concurrency int
	// BatchSize bounds the deliveries claimed at once. Default 50.
	BatchSize int
	// Lease is how long a claimed delivery is this worker's. A send is
	// cut off at half the lease, so that its outcome is recorded while
	// the lease holds; keep it above twice the longest sender timeout.
	// Default 1 minute.
	Lease time.Duration
	// PollInterval is the longest wait for due deliveries when the queue
	// sends no word. Default 1s.
	PollInterval time.Duration
	// QueueBackoff spaces the tries while the queue itself fails.
	// Default 500ms doubling to 30s.
	QueueBackoff Backoff
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	c.Backoff = c.Backoff.WithDefaults(time.Second, 10*time.Minute)
	c.QueueBackoff = c.QueueBackoff.WithDefaults(500*time.Millisecond, 30*time.Second)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.Concurrency == 0 {
		c.Concurrency = 8
	}
	if c.BatchSize == 0 {
		c.BatchSize = 50
	}
	if c.Lease == 0 {
		c.Lease = time.Minute
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	for _, b := range []Backoff{c.Backoff, c.QueueBackoff} {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	if c.MaxAttempts < 1 || c.Concurrency < 1 || c.BatchSize < 1 {
		return fmt.Errorf("notify: max attempts, concurrency and batch size must be positive")
	}
	if c.Lease < time.Second || c.PollInterval <= 0 {
		return fmt.Errorf("notify: the lease must be at least a second and the poll interval positive")
	}
	return nil
}

// Worker sends the deliveries of a Queue: it claims those that are due,
// sends each with the Sender for its type, a few at once, and records
// every attempt with when to try again.
type Worker struct {
	Config Config
	Queue  alert.Queue
	// Senders sends deliveries by Type: webhook, chat, email and
	// alert.TargetTopic. A delivery of any other type fails permanently.
	Senders map[string]Sender
	// Now is the clock of attempts and retries; time.Now when nil.
	Now func() time.Time
	Log logrus.FieldLogger
	// Metrics, if set, counts every recorded attempt.
	Metrics *Metrics
	// Observe, if set, is told of every recorded attempt.
	Observe func(d alert.Delivery, a alert.Attempt)
}

// Run sends deliveries until ctx ends, then waits for the sends under way
// and returns nil. While the queue fails, it logs the failure and tries
// again with QueueBackoff. It returns an error only for a bad setup.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.Config.Validate(); err != nil {
		return err
	}
	if w.Queue == nil {
		return errors.New("notify: the worker needs a queue")
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Log == nil {
		w.Log = logrus.StandardLogger().WithField("component", "notify")
	}

	slots := make(chan struct{}, w.Config.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	failures := 0
	for {
		// Claim no more than there are free slots, so that nothing
		// claimed waits for a slot while its lease runs out.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1
	fill:
		for free < w.Config.BatchSize {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break fill
			}
		}
		ds, err := w.Queue.Claim(ctx, free, w.Now(), w.Config.Lease)
		for i := len(ds); i < free; i++ {
			<-slots
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			pause := w.Config.QueueBackoff.Delay(failures)
			w.Log.WithError(err).WithField("retry_in_ms", pause.Milliseconds()).Error("Claiming deliveries failed; alerts wait in the queue.")
			retry.Sleep(ctx, pause)
			continue
		}
		if failures > 0 {
			w.Log.WithField("failures", failures).Info("Claiming deliveries works again.")
			failures = 0
		}
		for i, d := range ds {
			if i >= free {
				// The queue gave more than asked for: wait for a slot.
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return nil
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				w.deliver(ctx, d)
			}()
		}
		if len(ds) < free {
			w.Queue.Wait(ctx, w.Config.PollInterval)
		}
	}
}

// deliver makes one attempt at d and records it.
func (w *Worker) deliver(ctx context.Context, d alert.Delivery) {
	at := w.Now()
	start := time.Now()
	status, err := w.send(ctx, d)
	if err != nil && ctx.Err() != nil {
		// Stopping cut the attempt short; the delivery is claimed again
		// when its lease ends, without losing an attempt.
		return
	}
	a := alert.Attempt{DeliveryID: d.ID, At: at, Duration: time.Since(start), Status: status}
	attempt := d.Attempts + 1
	Settle(&a, err, attempt, w.Config.MaxAttempts, w.Config.Backoff, w.Now())

	log := w.Log.WithFields(logrus.Fields{
		"delivery_id":  d.ID,
		"alert_id":     d.AlertID,
		"workspace_id": d.WorkspaceID,
		"type":         d.Type,
		"attempt":      attempt,
		"status":       status,
		"duration_ms":  a.Duration.Milliseconds(),
	})
	// The attempt is recorded even when ctx ends now: the target has
	// answered.
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.Queue.Record(recordCtx, a); err != nil {
		log.WithError(err).Error("Recording a delivery attempt failed; the delivery goes out again when its lease ends.")
	}
	switch {
	case a.Delivered:
		log.Debug("Alert delivered.")
	case a.NotConfigured:
		log.Debug("Alert email not sent: no SMTP server is configured; the delivery shows as not configured.")
	case !a.RetryAt.IsZero():
		log.WithError(err).WithField("retry_at", a.RetryAt).Info("Alert delivery failed; it will be retried.")
	default:
		log.WithError(err).Warn("Alert delivery failed for good.")
	}
	if w.Metrics != nil {
		w.Metrics.Attempts.WithLabelValues(d.Type, a.Result()).Inc()
	}
	if w.Observe != nil {
		w.Observe(d, a)
	}
}

// Metrics are the notifier's Prometheus metrics.
type Metrics struct {
	Attempts *prometheus.CounterVec
}

// NewMetrics registers the notifier's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fluxera_notify_attempts_total", Help: "Delivery attempts of alerts, by channel type and result (delivered, retry, failed)."}, []string{"type", "result"}),
	}
	reg.MustRegister(m.Attempts)
	return m
}

// send sends d with the sender for its type, within half the lease.
func (w *Worker) send(ctx context.Context, d alert.Delivery) (status int, err error) {
	sender, ok := w.Senders[d.Type]
	if !ok {
		return 0, Permanent(fmt.Errorf("no sender for delivery type %q", d.Type))
	}
	ctx, cancel := context.WithTimeout(ctx, w.Config.Lease/2)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			status, err = 0, fmt.Errorf("the %s sender failed: %v", d.Type, r)
		}
	}()
	return sender.Send(ctx, d)
}
