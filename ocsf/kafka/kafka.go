// Package kafka writes the OCSF feed's events to its Kafka topic.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/fluxera/activity/internal/topic"
	"github.com/fluxera/activity/ocsf/feed"
)

// Sink publishes to the OCSF topic, keyed by workspace id and
// acknowledged by every in-sync replica.
type Sink struct {
	w *kafka.Writer
}

// NewSink returns a writer to name on brokers.
func NewSink(brokers []string, name string) *Sink {
	return &Sink{w: topic.NewWriter(brokers, name)}
}

// Publish writes records and returns once every one is acknowledged.
func (s *Sink) Publish(ctx context.Context, records []feed.Record) error {
	msgs := make([]kafka.Message, len(records))
	for i, r := range records {
		msgs[i] = kafka.Message{Key: r.Key, Value: r.Value}
	}
	if err := s.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write OCSF events: %w", err)
	}
	return nil
}

// Close flushes and closes the writer.
func (s *Sink) Close() error { return s.w.Close() }

// EnsureTopic creates the OCSF topic with the given partitions,
// replication and retention unless it exists. The retention is set
// explicitly, so that the broker's default does not decide how long a
// SIEM may fall behind.
func EnsureTopic(ctx context.Context, brokers []string, name string, partitions, replication int, retention time.Duration) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: topic.Timeout}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: name, NumPartitions: partitions, ReplicationFactor: replication,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: strconv.FormatInt(retention.Milliseconds(), 10)}},
	}}})
	if err != nil {
		return fmt.Errorf("create topic %s on %v: %w", name, brokers, err)
	}
	for t, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	return nil
}
