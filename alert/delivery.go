package alert

import (
	"context"
	"time"
)

// Delivery targets beyond the user-facing channel types: the alert topic
// every alert is published to.
const TargetTopic = "topic"

// Delivery is one alert to be sent to one target.
type Delivery struct {
	ID          string
	AlertID     string
	WorkspaceID string
	// Type is a channel type (webhook, chat, email) or TargetTopic.
	Type string
	// URL is the webhook or chat URL; To the email addresses (roles are
	// resolved to addresses when the alert is raised).
	URL string
	To  []string
	// Attempts is how many attempts were made before this one.
	Attempts int
	Alert    Alert
	// Secret signs webhook and chat requests: the workspace's signing
	// secret.
	Secret []byte
}

// Attempt is the outcome of one try at a delivery.
type Attempt struct {
	DeliveryID string
	At         time.Time
	Duration   time.Duration
	// Status is the HTTP status or SMTP reply code, when there was one.
	Status int
	// Error says why the attempt failed; empty when it succeeded.
	Error string
	// Delivered is true when the target accepted it.
	Delivered bool
	// RetryAt is when to try again after a failure; zero gives up, which
	// marks the delivery failed.
	RetryAt time.Time
	// NotConfigured is true when the platform has no way to send the
	// delivery (email without an SMTP server): it is marked not
	// configured rather than failed, and never retried.
	NotConfigured bool
}

// Results of an attempt for its delivery, as Attempt.Result names them.
const (
	AttemptDelivered = "delivered"
	AttemptRetry     = "retry"
	AttemptFailed    = "failed"
	// AttemptNotConfigured is an attempt through a channel the platform
	// is not set up for.
	AttemptNotConfigured = "not_configured"
)

// Result names what the attempt means for its delivery: AttemptDelivered,
// AttemptRetry, AttemptFailed or AttemptNotConfigured.
func (a Attempt) Result() string {
	switch {
	case a.Delivered:
		return AttemptDelivered
	case a.NotConfigured:
		return AttemptNotConfigured
	case a.RetryAt.IsZero():
		return AttemptFailed
	}
	return AttemptRetry
}

// Queue is where deliveries wait. Claiming leases a delivery to one worker
// for a while, so that two workers never send it at once and a worker that
// dies leaves it to be claimed again.
type Queue interface {
	// Claim leases up to n deliveries due at now for lease, oldest first.
	Claim(ctx context.Context, n int, now time.Time, lease time.Duration) ([]Delivery, error)
	// Record logs an attempt and moves its delivery on: delivered, due
	// again at RetryAt, or failed.
	Record(ctx context.Context, a Attempt) error
	// Wait returns when new deliveries may be due, or after d, or when ctx
	// ends.
	Wait(ctx context.Context, d time.Duration)
}
