// Package feed is the OCSF feed: a consumer of the activity topic that
// writes each event, mapped to OCSF, to the OCSF topic under the same key
// (the workspace id), so that one workspace's events keep their order. It
// commits its place in the activity topic only once the OCSF topic has
// acknowledged every event before it: at least once, never lost.
package feed

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/internal/retry"
	"github.com/fluxera/activity/ocsf"
)

// Config tunes the feed.
type Config struct {
	// Topic is the OCSF topic written to.
	Topic string
	// GroupID is the feed's consumer group on the activity topic.
	GroupID string
	// Retention is how long the OCSF topic keeps events; it is set when
	// the topic is created.
	Retention time.Duration
	// BatchSize and FlushInterval bound one batch read from the activity topic.
	BatchSize     int
	FlushInterval time.Duration
	// MaxBackoff is the ceiling of the wait between retries of a write.
	MaxBackoff time.Duration
	// ProductVersion is written to each event's metadata.product.version;
	// the build's own version when empty (see ocsf.BuildVersion).
	ProductVersion string
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.Topic == "" {
		c.Topic = ocsf.Topic
	}
	if c.GroupID == "" {
		c.GroupID = "fluxera-ocsf"
	}
	if c.Retention == 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 100 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 10 * time.Second
	}
	if c.Retention < time.Hour {
		return fmt.Errorf("ocsf feed: retention must be at least an hour")
	}
	if c.BatchSize < 1 || c.FlushInterval <= 0 {
		return fmt.Errorf("ocsf feed: batch size and flush interval must be positive")
	}
	return nil
}

// Record is one OCSF event to publish, keyed by workspace id.
type Record struct {
	Key   []byte
	Value []byte
}

// Sink is the OCSF topic.
type Sink interface {
	// Publish writes records in order and returns once all are
	// acknowledged; an error means the batch should be written again.
	Publish(ctx context.Context, records []Record) error
}

// Feed moves events from the activity topic to the OCSF topic.
type Feed struct {
	Config Config
	Source ingest.Source
	Sink   Sink
	Log    logrus.FieldLogger
	// Metrics, if set, counts the events published and skipped.
	Metrics *Metrics
}

// Metrics are the feed's counters.
type Metrics struct {
	Published prometheus.Counter
	Skipped   prometheus.Counter
}

// NewMetrics registers the feed's counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Published: prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_ocsf_events_published_total", Help: "Activity events written to the OCSF topic."}),
		Skipped:   prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxera_ocsf_events_skipped_total", Help: "Malformed activity events the OCSF feed skipped (the indexer dead-letters them)."}),
	}
	reg.MustRegister(m.Published, m.Skipped)
	return m
}

// Map returns the records of msgs: each valid event mapped to OCSF, and
// how many messages were malformed and skipped.
func (f *Feed) Map(msgs []ingest.Message) ([]Record, int, error) {
	out := make([]Record, 0, len(msgs))
	skipped := 0
	for _, m := range msgs {
		e, err := activity.DecodeEvent(m.Value)
		if err != nil {
			skipped++ // the indexer sets it aside in the dead-letter topic
			continue
		}
		b, err := ocsf.Marshal(e, f.Config.ProductVersion)
		if err != nil {
			return nil, 0, fmt.Errorf("map event %s to OCSF: %w", e.ID, err)
		}
		out = append(out, Record{Key: []byte(e.WorkspaceID), Value: b[:len(b)-1]})
	}
	return out, skipped, nil
}

// Run publishes events until ctx ends. While the OCSF topic refuses
// writes it retries the batch with backoff and commits nothing. It returns
// an error only when the source fails.
func (f *Feed) Run(ctx context.Context) error {
	for {
		msgs, err := ingest.FetchBatch(ctx, f.Source, f.Config.BatchSize, 0, f.Config.FlushInterval)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch: %w", err)
		}
		records, skipped, err := f.Map(msgs)
		if err != nil {
			return err
		}
		if skipped > 0 {
			f.Log.WithField("skipped", skipped).Warn("Skipped malformed activity events.")
		}
		tries := retry.Backoff{Initial: 100 * time.Millisecond, Max: f.Config.MaxBackoff, Jitter: retry.DefaultJitter}.Attempts()
		for len(records) > 0 {
			err := f.Sink.Publish(ctx, records)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			pause := tries.Failed()
			f.Log.WithError(err).WithField("retry_in_ms", pause.Milliseconds()).Warn("The OCSF topic refused a batch; retrying it.")
			if !retry.Sleep(ctx, pause) {
				return nil
			}
		}
		if f.Metrics != nil {
			f.Metrics.Published.Add(float64(len(records)))
			f.Metrics.Skipped.Add(float64(skipped))
		}
		if err := f.Source.Commit(ctx, msgs); err != nil && ctx.Err() == nil {
			f.Log.WithError(err).Warn("Offset commit failed; the batch will be published again.")
		}
	}
}
