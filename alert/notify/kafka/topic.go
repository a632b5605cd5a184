// Package kafka publishes alerts to the alert topic, where SIEMs and other
// systems read them. It is the notifier's sender for topic deliveries.
package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/internal/topic"
)

// TopicSender writes each alert to the alert topic as JSON, keyed by its
// workspace, so one workspace's alerts stay in order on one partition.
type TopicSender struct {
	w *kafka.Writer
}

// NewTopicSender returns a sender to the topic name on brokers. Writes wait
// for every in-sync replica, as the relay's do.
func NewTopicSender(brokers []string, name string) *TopicSender {
	w := topic.NewWriter(brokers, name)
	w.BatchTimeout = time.Millisecond
	return &TopicSender{w: w}
}

// Send publishes the delivery's alert. A write that fails is retried by
// the notifier; an alert that cannot be encoded never will be.
func (s *TopicSender) Send(ctx context.Context, d alert.Delivery) (int, error) {
	b, err := json.Marshal(d.Alert)
	if err != nil {
		return 0, notify.Permanent(fmt.Errorf("encode alert %s: %w", d.AlertID, err))
	}
	msg := kafka.Message{Key: []byte(d.WorkspaceID), Value: b, Headers: []kafka.Header{
		{Key: "alert_id", Value: []byte(d.AlertID)},
		{Key: "delivery_id", Value: []byte(d.ID)},
	}}
	if err := s.w.WriteMessages(ctx, msg); err != nil {
		var we kafka.WriteErrors
		if errors.As(err, &we) && len(we) == 1 && we[0] != nil {
			err = we[0]
		}
		return 0, fmt.Errorf("publish alert %s: %w", d.AlertID, err)
	}
	return 0, nil
}

// Close flushes and closes the writer.
func (s *TopicSender) Close() error { return s.w.Close() }
