package alert

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
)

// ResponseTimes is how fast the alerts raised in a period were answered:
// from raised to acknowledged, from raised to resolved, and from
// acknowledged to resolved, in all and per severity. Answers given after
// the period count: an alert raised in it is followed to the moment asked.
type ResponseTimes struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Whole Responses `json:"all"`
	// Severities holds each severity with alerts in the period, in the
	// order of Severities.
	Severities []Responses `json:"severities"`
}

// Responses are the response times of one set of alerts. Open and
// Acknowledged count the alerts still in those states.
type Responses struct {
	Severity      string   `json:"severity,omitempty"`
	Raised        int64    `json:"raised"`
	Open          int64    `json:"open"`
	Acknowledged  int64    `json:"acknowledged"`
	Resolved      int64    `json:"resolved"`
	ToAcknowledge Duration `json:"to_acknowledge"`
	ToResolve     Duration `json:"to_resolve"`
	AckToResolve  Duration `json:"acknowledged_to_resolved"`
}

// Duration sums up the waits of Count alerts: the median and the 90th
// percentile by nearest rank (the smallest wait that at least that share
// of them did not exceed) and the longest, in milliseconds; 0 when Count
// is 0.
type Duration struct {
	Count    int64 `json:"count"`
	MedianMS int64 `json:"median_ms"`
	P90MS    int64 `json:"p90_ms"`
	MaxMS    int64 `json:"max_ms"`
}

// ResponseTimer measures how fast a workspace answers its alerts. It
// returns EFORBIDDEN for a role that may not manage alerts and EINVALID
// for a period that ends before it starts.
type ResponseTimer interface {
	AlertResponseTimes(ctx context.Context, p activity.Principal, from, to time.Time) (ResponseTimes, error)
}
