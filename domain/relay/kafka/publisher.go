// Package kafka publishes the domain's activity events to the Kafka event
// stream, keyed by workspace so that each workspace's events stay in order.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/topic"
)

// Config says where and how events are published.
type Config struct {
	Brokers           []string
	Topic             string
	Partitions        int
	ReplicationFactor int
	// BatchTimeout bounds how long a partial batch waits before it is sent.
	BatchTimeout time.Duration
	// Retention is how long the activity topic keeps raw events, set as
	// its retention.ms when the platform creates it; the events carry
	// personal data, so the broker's default must not decide it.
	Retention time.Duration
}

// DefaultRetention is how long the activity topic keeps raw events unless
// configured otherwise: long enough for an indexer, a detector or a
// webhook deliverer to catch up after a week's outage.
const DefaultRetention = 7 * 24 * time.Hour

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return fmt.Errorf("kafka: no brokers configured")
	}
	if c.Topic == "" {
		c.Topic = activity.Topic
	}
	if c.Partitions == 0 {
		c.Partitions = 3
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 1
	}
	if c.BatchTimeout == 0 {
		c.BatchTimeout = 2 * time.Millisecond
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.Retention < time.Hour {
		return fmt.Errorf("kafka: the activity topic's retention must be at least an hour")
	}
	return nil
}

// Publisher writes outbox messages to the activity topic with acks from all
// in-sync replicas.
type Publisher struct {
	w *kafka.Writer
}

// NewPublisher returns a publisher for cfg. It does not connect until the
// first publish.
func NewPublisher(cfg Config) *Publisher {
	w := topic.NewWriter(cfg.Brokers, cfg.Topic)
	w.BatchSize, w.BatchBytes, w.BatchTimeout = 1000, 16<<20, cfg.BatchTimeout
	return &Publisher{w: w}
}

// Publish sends msgs and returns once the broker acknowledged all of them.
func (p *Publisher) Publish(ctx context.Context, msgs []domain.OutboxMessage) error {
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafka.Message{
			Key:   []byte(m.WorkspaceID),
			Value: m.Payload,
			Headers: []kafka.Header{
				{Key: "event_id", Value: []byte(m.EventID)},
				{Key: "schema", Value: []byte(strconv.Itoa(activity.SchemaVersion))},
			},
		}
	}
	if err := p.w.WriteMessages(ctx, out...); err != nil {
		// A batch fails message by message; one line says it all.
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) {
			for _, e := range werrs {
				if e != nil {
					return fmt.Errorf("write to %s: %d of %d messages failed, the first with: %w", p.w.Topic, werrs.Count(), len(out), e)
				}
			}
		}
		return fmt.Errorf("write to %s: %w", p.w.Topic, err)
	}
	return nil
}

// Close flushes and closes the writer.
func (p *Publisher) Close() error { return p.w.Close() }
