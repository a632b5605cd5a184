// Package deliver sends activity webhooks: it reads the activity topic in
// a consumer group of its own, queues each event for the webhooks whose
// filters pass it, and sends each webhook's queue in order, one delivery
// at a time, signed as alert webhooks are, retrying a failure with a
// growing delay and pausing the webhook after too many failures in a row.
// It also carries out replays, reading the topic from a time.
package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/integration"
	integrationkafka "github.com/fluxera/activity/integration/kafka"
	"github.com/fluxera/activity/internal/retry"
)

// Config tunes the deliverer.
type Config struct {
	// Group is the consumer group on the activity topic.
	Group string
	// PollInterval is how often due retries and replays are looked for.
	PollInterval time.Duration
	// Concurrency bounds the webhooks sent to at once.
	Concurrency int
	// MaxFailures pauses a webhook after that many failed attempts in a
	// row.
	MaxFailures int
	// Retry paces the attempts of one delivery.
	Retry retry.Backoff
	// Lease is how long a claim on a webhook or a replay lasts.
	Lease time.Duration
}

// Defaults of Config.
const (
	DefaultGroup        = "fluxera-deliverer"
	DefaultPollInterval = time.Second
	DefaultConcurrency  = 8
	DefaultMaxFailures  = 10
	DefaultRetryInitial = 10 * time.Second
	DefaultRetryMax     = time.Hour
	DefaultLease        = 2 * time.Minute
)

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	c.Retry = c.Retry.WithDefaults(DefaultRetryInitial, DefaultRetryMax)
	switch {
	case c.PollInterval < 10*time.Millisecond:
		return errors.New("deliver: FLUXERA_WEBHOOK_POLL_INTERVAL must be at least 10ms")
	case c.Concurrency < 1 || c.Concurrency > 256:
		return errors.New("deliver: FLUXERA_WEBHOOK_CONCURRENCY must be between 1 and 256")
	case c.MaxFailures < 1:
		return errors.New("deliver: FLUXERA_WEBHOOK_MAX_FAILURES must be at least 1")
	case c.Lease < time.Second:
		return errors.New("deliver: the lease must be at least a second")
	}
	if err := c.Retry.Validate(); err != nil {
		return fmt.Errorf("deliver: FLUXERA_WEBHOOK_RETRY_INITIAL and FLUXERA_WEBHOOK_RETRY_MAX: %w", err)
	}
	if c.Lease <= notify.DefaultHTTPTimeout {
		c.Lease = notify.DefaultHTTPTimeout + time.Minute
	}
	return nil
}

// Source is the consumer group's side of the activity topic.
type Source interface {
	Fetch(ctx context.Context) (integrationkafka.Message, error)
	Commit(ctx context.Context, m integrationkafka.Message) error
}

// Log reads the activity topic's partitions for replays.
type Log interface {
	Partitions(ctx context.Context) ([]int, error)
	Offsets(ctx context.Context, partition int, at time.Time) (integrationkafka.Offsets, int64, error)
	Read(partition int, offset int64) (*integrationkafka.Reader, error)
}

// Sender posts one signed request; notify.Webhook is one.
type Sender interface {
	SendJSON(ctx context.Context, t notify.Target, body []byte) (int, error)
}

// Deliverer queues and sends activity webhooks.
type Deliverer struct {
	Config Config
	Source Source
	Log    Log
	Queue  integration.Queue
	Sender Sender
	Logger logrus.FieldLogger
	// Metrics, when set, count queued deliveries, attempts, pauses and
	// replays.
	Metrics *Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	wake chan struct{}
}

// Run queues, sends and replays until ctx ends.
func (d *Deliverer) Run(ctx context.Context) error {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	d.wake = make(chan struct{}, 1)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, loop := range []func(context.Context) error{d.consume, d.send, d.replay} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loop(ctx); err != nil && ctx.Err() == nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// consume queues every event of the topic, committing its offset once it
// is queued; an event that cannot be read is skipped (the indexer sends
// it to the dead-letter topic).
func (d *Deliverer) consume(ctx context.Context) error {
	pace := d.Config.Retry.Attempts()
	for ctx.Err() == nil {
		m, err := d.Source.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.Logger.WithError(err).Warn("Reading the activity topic failed; trying again.")
			retry.Sleep(ctx, pace.Failed())
			continue
		}
		var e activity.Event
		if err := json.Unmarshal(m.Value, &e); err != nil || e.ID == "" || e.WorkspaceID == "" {
			d.Logger.WithFields(logrus.Fields{"partition": m.Partition, "offset": m.Offset}).Warn("An activity message is not an event; no webhook gets it.")
		} else {
			for {
				n, err := d.Queue.Enqueue(ctx, e, m.Value)
				if err == nil {
					if n > 0 {
						d.Metrics.Queued.Add(float64(n))
						d.poke()
					}
					break
				}
				if ctx.Err() != nil {
					return nil
				}
				d.Logger.WithError(err).WithField("event_id", e.ID).Warn("Queuing an event for webhooks failed; trying again.")
				retry.Sleep(ctx, pace.Failed())
			}
		}
		if err := d.Source.Commit(ctx, m); err != nil && ctx.Err() == nil {
			d.Logger.WithError(err).Warn("Committing the deliverer's offset failed; the event may be queued again, which queues nothing twice.")
		}
		pace.Succeeded()
	}
	return nil
}

// poke wakes the sender without waiting.
func (d *Deliverer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// send claims the due heads of the webhooks' queues and sends them, each
// webhook's one at a time, until ctx ends.
func (d *Deliverer) send(ctx context.Context) error {
	ticker := time.NewTicker(d.Config.PollInterval)
	defer ticker.Stop()
	for ctx.Err() == nil {
		claimed, err := d.Queue.Claim(ctx, d.Config.Lease, d.Config.Concurrency)
		if err != nil && ctx.Err() == nil {
			d.Logger.WithError(err).Warn("Claiming webhook deliveries failed; trying again.")
		}
		var wg sync.WaitGroup
		for _, del := range claimed {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.attempt(ctx, del)
			}()
		}
		wg.Wait()
		if len(claimed) > 0 {
			continue // more may be due at once
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
		case <-d.wake:
		}
	}
	return nil
}

// attempt sends one delivery and records how it went.
func (d *Deliverer) attempt(ctx context.Context, del integration.Delivery) {
	body, err := json.Marshal(integration.Payload{
		Type: integration.PayloadType, Delivery: del.ID, Webhook: del.WebhookID, Replay: del.ReplayID, Event: json.RawMessage(del.Event),
	})
	var status int
	if err == nil {
		status, err = d.Sender.SendJSON(ctx, notify.Target{URL: del.URL, ID: del.ID, Secret: del.Secret}, body)
	}
	if ctx.Err() != nil {
		return // the claim lapses; the delivery is sent again
	}
	o := integration.Outcome{Status: status, Err: err, PauseAfter: d.Config.MaxFailures}
	log := d.Logger.WithFields(logrus.Fields{"webhook_id": del.WebhookID, "delivery_id": del.ID, "status": status})
	result := "delivered"
	if err != nil {
		result = "retry"
		o.RetryAt = d.Now().Add(d.Config.Retry.Delay(del.Attempts + 1))
		log.WithError(err).Info("A webhook delivery failed; it will be tried again.")
	}
	d.Metrics.Attempts.WithLabelValues(result).Inc()
	paused, err := d.Queue.Finish(ctx, del, o)
	if err != nil && ctx.Err() == nil {
		log.WithError(err).Error("Recording a webhook attempt failed; the delivery will be sent again.")
	}
	if paused {
		d.Metrics.Paused.Inc()
		log.Warn("A webhook failed too often in a row and is paused; its workspace's log says so.")
	}
}

// replay carries out the replays that were asked for, one at a time.
func (d *Deliverer) replay(ctx context.Context) error {
	ticker := time.NewTicker(d.Config.PollInterval)
	defer ticker.Stop()
	for ctx.Err() == nil {
		job, ok, err := d.Queue.ClaimReplay(ctx, d.Config.Lease)
		if err != nil && ctx.Err() == nil {
			d.Logger.WithError(err).Warn("Claiming a webhook replay failed; trying again.")
		}
		if ok {
			if err := d.runReplay(ctx, job); err != nil && ctx.Err() == nil {
				d.Logger.WithError(err).WithField("replay_id", job.ID).Warn("A webhook replay failed; it will be tried again once its claim lapses.")
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
		}
	}
	return nil
}

// replayBatch is how many events a replay queues at a time.
const replayBatch = 500

// runReplay reads every partition from the replay's time to where it
// ended when the replay began, and queues the events the webhook passes.
func (d *Deliverer) runReplay(ctx context.Context, job integration.ReplayJob) error {
	ctx, cancel := context.WithTimeout(ctx, d.Config.Lease)
	defer cancel()
	parts, err := d.Log.Partitions(ctx)
	if err != nil {
		return err
	}
	queued := 0
	for _, p := range parts {
		offs, start, err := d.Log.Offsets(ctx, p, job.From)
		if err != nil {
			return err
		}
		if start >= offs.End {
			continue
		}
		r, err := d.Log.Read(p, start)
		if err != nil {
			return err
		}
		var batch []integration.RawEvent
		flush := func() error {
			n, err := d.Queue.EnqueueReplay(ctx, job, batch)
			queued += n
			batch = batch[:0]
			return err
		}
		for {
			m, err := r.Next(ctx)
			if err != nil {
				r.Close()
				return fmt.Errorf("read partition %d for replay: %w", p, err)
			}
			var e activity.Event
			if json.Unmarshal(m.Value, &e) == nil && e.WorkspaceID == job.WorkspaceID {
				batch = append(batch, integration.RawEvent{Event: e, Raw: m.Value})
			}
			if len(batch) >= replayBatch || m.Offset+1 >= offs.End {
				if err := flush(); err != nil {
					r.Close()
					return err
				}
			}
			if m.Offset+1 >= offs.End {
				break
			}
		}
		r.Close()
	}
	if err := d.Queue.FinishReplay(ctx, job, queued); err != nil {
		return err
	}
	d.Logger.WithFields(logrus.Fields{"replay_id": job.ID, "webhook_id": job.WebhookID, "queued": queued}).Info("A webhook replay is queued.")
	if queued > 0 {
		d.Metrics.Replayed.Add(float64(queued))
		d.poke()
	}
	return nil
}
