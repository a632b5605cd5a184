package report

import (
	"context"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
)

// A scheduler claims the definitions whose schedules are due and, once
// their reports are kept, the deliveries that send them.

// Delivery is one generated report to be sent to one recipient.
type Delivery struct {
	ID          string
	WorkspaceID string
	// Type is alert.ChannelEmail or alert.ChannelWebhook.
	Type string
	// URL is the webhook's; To the email addresses, the members holding
	// the recipient's roles read when the delivery was claimed.
	URL string
	To  []string
	// Attempts is how many attempts were made before this one.
	Attempts int
	// Secret signs a webhook request: the workspace's signing secret.
	Secret []byte
	// Report is the report sent, Workspace its workspace's name.
	Report    Summary
	Workspace string
	Files     []domain.ArchiveObject
}

// DeliveryQueue is where generated reports wait to be sent. A claimed
// delivery is leased to one sender for a while, so that two never send it
// at once and one that stops leaves it to be claimed again.
type DeliveryQueue interface {
	// Claim leases up to n pending deliveries due at now for lease,
	// oldest first.
	Claim(ctx context.Context, n int, now time.Time, lease time.Duration) ([]Delivery, error)
	// Record logs an attempt and moves its delivery on: delivered, due
	// again at RetryAt, or failed when RetryAt is zero.
	Record(ctx context.Context, a alert.Attempt) error
}

// Claim is a definition whose schedule is due, leased to one scheduler.
type Claim struct {
	Definition Definition
	LeaseID    string
	// Failures is how many scheduled runs of the definition failed in a
	// row before this claim.
	Failures int
}

// Schedules are the definitions' schedules as the scheduler sees them.
type Schedules interface {
	// ClaimDue leases up to n enabled definitions due at now for lease,
	// the most overdue first; a definition another scheduler holds is
	// skipped.
	ClaimDue(ctx context.Context, n int, now time.Time, lease time.Duration) ([]Claim, error)
	// Retry lets go of a claim whose run failed: the definition is due
	// again at at, its next due time unchanged.
	Retry(ctx context.Context, c Claim, at time.Time) error
}
