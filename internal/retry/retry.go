// Package retry paces the retries of a failing dependency (OpenSearch,
// Kafka, Redis, PostgreSQL, a webhook): a delay that doubles after each
// failure in a row, up to a ceiling, with jitter so that replicas that
// failed together do not all come back at the same moment.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// DefaultJitter is the jitter of the components' retry loops: each delay
// loses up to a fifth of its length at random.
const DefaultJitter = 0.2

// Backoff is a delay that doubles after each failure, up to a cap.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	// Jitter, from 0 to 1, takes up to that fraction off each delay at
	// random. 0 keeps delays exact.
	Jitter float64
}

// Delay returns the wait after the n-th failure in a row (n ≥ 1):
// Initial·2^(n-1), at most Max, less the jitter.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		d -= time.Duration(rand.Float64() * b.Jitter * float64(d))
	}
	return d
}

// WithDefaults fills in a zero Initial or Max.
func (b Backoff) WithDefaults(initial, ceiling time.Duration) Backoff {
	if b.Initial == 0 {
		b.Initial = initial
	}
	if b.Max == 0 {
		b.Max = ceiling
	}
	return b
}

// Validate returns an error unless 0 < Initial ≤ Max and the jitter is
// from 0 to 1.
func (b Backoff) Validate() error {
	if b.Initial <= 0 || b.Max < b.Initial || b.Jitter < 0 || b.Jitter > 1 {
		return errors.New("a backoff needs 0 < initial ≤ max and a jitter from 0 to 1")
	}
	return nil
}

// Attempts counts the failures in a row of one retry loop. The zero value
// is not usable; start one with Backoff.Attempts.
type Attempts struct {
	backoff  Backoff
	failures int
}

// Attempts starts counting failures paced by b.
func (b Backoff) Attempts() *Attempts { return &Attempts{backoff: b} }

// Failed counts one more failure and returns how long to wait before the
// next try.
func (a *Attempts) Failed() time.Duration {
	a.failures++
	return a.backoff.Delay(a.failures)
}

// Failures is the number of failures in a row so far.
func (a *Attempts) Failures() int { return a.failures }

// Succeeded starts the count again: the next failure waits Initial.
func (a *Attempts) Succeeded() { a.failures = 0 }

// Sleep waits for d or until ctx ends, and reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
