// Package topic holds what every writer to the platform's Kafka topics
// shares: messages keyed by workspace id and hashed to partitions as
// Kafka's own clients hash them, so that one workspace's messages stay in
// order on one partition, and acknowledged by every in-sync replica.
package topic

import (
	"time"

	"github.com/segmentio/kafka-go"
)

// Timeout bounds one request to a broker, its answer included, for every
// writer and reader of the platform's topics. (Connecting to a broker is
// bounded by kafka-go's transport, 5 s.)
const Timeout = 10 * time.Second

// NewWriter returns a writer to topic on brokers that waits for every
// in-sync replica, sends small batches at once (2 ms), tries a write three
// times and gives up on a request to a broker after Timeout. Callers that batch
// harder (the relay, the demo history) raise the batch settings on the
// returned writer before its first write.
func NewWriter(brokers []string, topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond,
		MaxAttempts:  3,
		WriteTimeout: Timeout,
		ReadTimeout:  Timeout,
	}
}
