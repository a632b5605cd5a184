// Package kafka is the integrations' side of Kafka: the deliverer's
// consumer group on the activity topic, and reads of one partition from
// an offset or a time, which replays and live streams make.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/fluxera/activity/internal/retry"
	"github.com/fluxera/activity/internal/topic"
)

// dialTimeout bounds connecting to a broker.
const dialTimeout = 5 * time.Second

// Message is one message of the activity topic and where it sits.
type Message struct {
	Partition int
	Offset    int64
	Value     []byte
	raw       kafka.Message
}

// Source reads the activity topic as a member of a consumer group;
// offsets are committed only through Commit.
type Source struct {
	r *kafka.Reader
}

// NewSource joins group on topic; a group without offsets starts at the
// topic's beginning.
func NewSource(brokers []string, topicName, group string) *Source {
	return &Source{r: kafka.NewReader(kafka.ReaderConfig{
		Brokers:           brokers,
		GroupID:           group,
		Topic:             topicName,
		MinBytes:          1,
		MaxBytes:          16 << 20,
		MaxWait:           250 * time.Millisecond,
		ReadBatchTimeout:  5 * time.Second,
		CommitInterval:    0,
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		Dialer:            &kafka.Dialer{Timeout: dialTimeout, DualStack: true},
	})}
}

// Fetch returns the next message of the partitions this member owns.
func (s *Source) Fetch(ctx context.Context) (Message, error) {
	m, err := s.r.FetchMessage(ctx)
	if err != nil {
		return Message{}, err
	}
	return Message{Partition: m.Partition, Offset: m.Offset, Value: m.Value, raw: m}, nil
}

// Commit commits m's offset, giving up after topic.Timeout.
func (s *Source) Commit(ctx context.Context, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, topic.Timeout)
	defer cancel()
	return s.r.CommitMessages(ctx, m.raw)
}

// Close leaves the group.
func (s *Source) Close() error { return s.r.Close() }

// Log reads partitions of one topic directly, without a group.
type Log struct {
	Brokers []string
	Topic   string
}

// Partitions returns the partition numbers of the topic, in order.
func (l Log) Partitions(ctx context.Context) ([]int, error) {
	d := &kafka.Dialer{Timeout: dialTimeout, DualStack: true}
	var last error
	for _, b := range l.Brokers {
		ps, err := d.LookupPartitions(ctx, "tcp", b, l.Topic)
		if err != nil {
			last = err
			continue
		}
		out := make([]int, 0, len(ps))
		for _, p := range ps {
			out = append(out, p.ID)
		}
		sortInts(out)
		return out, nil
	}
	return nil, fmt.Errorf("look up partitions of %s: %w", l.Topic, last)
}

func sortInts(s []int) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Offsets are a partition's first offset still kept, and the offset the
// next message will get.
type Offsets struct {
	First, End int64
}

// Offsets returns the partition's offsets and, when at is not zero, the
// offset of its first message written at or after at (End when none is).
// A passing failure of the broker's (a partition whose leader is being
// elected, as in a topic just made) is tried again a few times.
func (l Log) Offsets(ctx context.Context, partition int, at time.Time) (Offsets, int64, error) {
	pace := retry.Backoff{Initial: 50 * time.Millisecond, Max: time.Second, Jitter: retry.DefaultJitter}.Attempts()
	for {
		o, off, err := l.offsets(ctx, partition, at)
		var kerr kafka.Error
		if err == nil || !errors.As(err, &kerr) || !kerr.Temporary() || pace.Failures() >= 6 {
			return o, off, err
		}
		if !retry.Sleep(ctx, pace.Failed()) {
			return o, off, err
		}
	}
}

func (l Log) offsets(ctx context.Context, partition int, at time.Time) (Offsets, int64, error) {
	if len(l.Brokers) == 0 {
		return Offsets{}, 0, errors.New("kafka: no brokers configured")
	}
	d := &kafka.Dialer{Timeout: dialTimeout, DualStack: true}
	conn, err := d.DialLeader(ctx, "tcp", l.Brokers[0], l.Topic, partition)
	if err != nil {
		return Offsets{}, 0, fmt.Errorf("dial leader of %s/%d: %w", l.Topic, partition, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(topic.Timeout))
	first, end, err := conn.ReadOffsets()
	if err != nil {
		return Offsets{}, 0, fmt.Errorf("read offsets of %s/%d: %w", l.Topic, partition, err)
	}
	o := Offsets{First: first, End: end}
	if at.IsZero() {
		return o, end, nil
	}
	off, err := conn.ReadOffset(at)
	if err != nil {
		return o, 0, fmt.Errorf("read offset of %s/%d at %s: %w", l.Topic, partition, at, err)
	}
	if off < 0 || off > end {
		off = end
	}
	return o, max(off, first), nil
}

// Reader reads one partition from an offset on.
type Reader struct {
	r *kafka.Reader
}

// Read opens a reader of partition from offset on.
func (l Log) Read(partition int, offset int64) (*Reader, error) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   l.Brokers,
		Topic:     l.Topic,
		Partition: partition,
		MinBytes:  1,
		MaxBytes:  4 << 20,
		MaxWait:   250 * time.Millisecond,
		Dialer:    &kafka.Dialer{Timeout: dialTimeout, DualStack: true},
	})
	if err := r.SetOffset(offset); err != nil {
		r.Close()
		return nil, fmt.Errorf("set offset %d of %s/%d: %w", offset, l.Topic, partition, err)
	}
	return &Reader{r: r}, nil
}

// Next waits for the next message.
func (r *Reader) Next(ctx context.Context) (Message, error) {
	m, err := r.r.ReadMessage(ctx)
	if err != nil {
		return Message{}, err
	}
	return Message{Partition: m.Partition, Offset: m.Offset, Value: m.Value, raw: m}, nil
}

// Close closes the reader.
func (r *Reader) Close() error { return r.r.Close() }

// PartitionOf returns the partition of partitions that a message keyed
// key goes to, as the platform's writers place them (see
// internal/topic): one workspace's messages all go to one partition.
func PartitionOf(key string, partitions []int) int {
	return (&kafka.Murmur2Balancer{}).Balance(kafka.Message{Key: []byte(key)}, partitions...)
}
