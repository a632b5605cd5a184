// Package kafka is the indexer's side of Kafka: a consumer-group source of
// activity events and a writer of dead letters.
package kafka

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/internal/topic"
)

// Config says which topic and group the indexer consumes.
type Config struct {
	Brokers         []string
	Topic           string
	DeadLetterTopic string
	GroupID         string
}

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return fmt.Errorf("kafka: no brokers configured")
	}
	if c.Topic == "" {
		c.Topic = activity.Topic
	}
	if c.DeadLetterTopic == "" {
		c.DeadLetterTopic = activity.DeadLetterTopic
	}
	if c.GroupID == "" {
		c.GroupID = "fluxera-indexer"
	}
	return nil
}

// Source reads the activity topic as a member of a consumer group. Offsets
// are committed only through Commit. Connecting to a broker gives up after
// 5 s, a fetch after ReadBatchTimeout (5 s) of silence, a commit after
// topic.Timeout.
type Source struct {
	r *kafka.Reader
}

// NewSource joins the consumer group of cfg.
func NewSource(cfg Config) *Source {
	return &Source{r: kafka.NewReader(kafka.ReaderConfig{
		Brokers:           cfg.Brokers,
		GroupID:           cfg.GroupID,
		Topic:             cfg.Topic,
		MinBytes:          1,
		MaxBytes:          16 << 20,
		MaxWait:           250 * time.Millisecond,
		ReadBatchTimeout:  5 * time.Second,
		CommitInterval:    0, // synchronous commits, only when asked
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		QueueCapacity:     1000,
		Dialer:            &kafka.Dialer{Timeout: dialTimeout, DualStack: true},
	})}
}

// Fetch returns the next message of the partitions this member owns.
func (s *Source) Fetch(ctx context.Context) (ingest.Message, error) {
	m, err := s.r.FetchMessage(ctx)
	if err != nil {
		return ingest.Message{}, err
	}
	return ingest.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Raw: m}, nil
}

// dialTimeout bounds connecting to a broker.
const dialTimeout = 5 * time.Second

// Commit commits the offsets of msgs, giving up after topic.Timeout.
func (s *Source) Commit(ctx context.Context, msgs []ingest.Message) error {
	ctx, cancel := context.WithTimeout(ctx, topic.Timeout)
	defer cancel()
	raw := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		raw[i] = m.Raw.(kafka.Message)
	}
	return s.r.CommitMessages(ctx, raw...)
}

// Close leaves the group.
func (s *Source) Close() error { return s.r.Close() }

// DeadLetters writes unstorable messages to the dead-letter topic with
// their original bytes and the reason in headers.
type DeadLetters struct {
	w *kafka.Writer
}

// NewDeadLetters returns a writer for cfg's dead-letter topic.
func NewDeadLetters(cfg Config) *DeadLetters {
	return &DeadLetters{w: topic.NewWriter(cfg.Brokers, cfg.DeadLetterTopic)}
}

// Send writes letters and returns once all are acknowledged.
func (d *DeadLetters) Send(ctx context.Context, letters []ingest.DeadLetter) error {
	msgs := make([]kafka.Message, len(letters))
	for i, l := range letters {
		msgs[i] = kafka.Message{
			Key:   l.Message.Key,
			Value: l.Message.Value,
			Headers: []kafka.Header{
				{Key: "reason", Value: []byte(l.Reason)},
				{Key: "source_topic", Value: []byte(l.Message.Topic)},
				{Key: "source_partition", Value: []byte(strconv.Itoa(l.Message.Partition))},
				{Key: "source_offset", Value: []byte(strconv.FormatInt(l.Message.Offset, 10))},
			},
		}
	}
	if err := d.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write dead letters: %w", err)
	}
	return nil
}

// Close flushes and closes the writer.
func (d *DeadLetters) Close() error { return d.w.Close() }
