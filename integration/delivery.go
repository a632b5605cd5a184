package integration

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
)

// Delivery is one event to send to one webhook: the head of the
// webhook's queue, claimed by one deliverer until it is finished.
type Delivery struct {
	// ID is the delivery id, signed and sent as the webhook-id header;
	// the same on every attempt.
	ID          string
	Seq         int64
	WebhookID   string
	WorkspaceID string
	URL         string
	Secret      []byte
	ReplayID    string
	// Event is the event as the activity topic carried it.
	Event []byte
	// Attempts counts the attempts made before this one.
	Attempts int
}

// Outcome is how one attempt of a delivery went.
type Outcome struct {
	// Status is the receiver's answer, 0 when none came.
	Status int
	// Err is nil when the delivery was accepted.
	Err error
	// RetryAt is when to try again after a failure.
	RetryAt time.Time
	// PauseAfter pauses the webhook once this failure makes that many in
	// a row; zero never pauses it.
	PauseAfter int
}

// Queue is where deliveries wait, one queue per webhook. A deliverer
// enqueues the events the activity topic carries, then claims the due
// heads of the queues, sends them and finishes them.
type Queue interface {
	// Enqueue queues event (raw as the topic carried it) for every
	// webhook of its workspace whose filter passes it and that existed
	// when it happened. Enqueuing an event again queues nothing more.
	Enqueue(ctx context.Context, e activity.Event, raw []byte) (int, error)
	// Claim claims up to limit webhooks that are not paused and whose
	// oldest waiting delivery is due, until lease has passed, and returns
	// those deliveries.
	Claim(ctx context.Context, lease time.Duration, limit int) ([]Delivery, error)
	// Finish records how an attempt of d went and releases the webhook:
	// an accepted delivery leaves the queue; a failed one waits until
	// o.RetryAt, and the o.PauseAfter-th failure in a row pauses the
	// webhook and records that in the workspace's log, and then paused
	// is true.
	Finish(ctx context.Context, d Delivery, o Outcome) (paused bool, err error)
	// ClaimReplay claims one replay that is not done, until lease has
	// passed; ok is false when there is none.
	ClaimReplay(ctx context.Context, lease time.Duration) (r ReplayJob, ok bool, err error)
	// EnqueueReplay queues, for the replay's webhook, each of events (in
	// order) its filter passes, as deliveries of the replay.
	EnqueueReplay(ctx context.Context, r ReplayJob, events []RawEvent) (int, error)
	// FinishReplay marks the replay done.
	FinishReplay(ctx context.Context, r ReplayJob, queued int) error
}

// ReplayJob is a claimed replay with what reading it needs.
type ReplayJob struct {
	Replay
	WorkspaceID string
	Filter      Filter
}

// RawEvent is an event as decoded from the topic, with its bytes.
type RawEvent struct {
	Event activity.Event
	Raw   []byte
}
