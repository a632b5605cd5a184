package notify

import (
	"context"
	"errors"
	"time"

	"github.com/fluxera/activity/alert"
)

// Sender sends deliveries of one type.
type Sender interface {
	// Send sends d once. It returns the HTTP status or SMTP reply code when
	// the target answered, and an error when the target did not accept
	// the alert; an error marked with Permanent is not retried.
	Send(ctx context.Context, d alert.Delivery) (status int, err error)
}

// permanentError marks a failure that trying again cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that trying again cannot fix: the
// worker gives the delivery up at once. It returns nil for nil.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Settle writes into a what err, the outcome of the n-th attempt (from 1)
// at a delivery, means for it: delivered when err is nil; otherwise its
// error and, unless err is permanent or n is the last of maxAttempts,
// when to try again: the backoff's delay after the n-th failure, from now.
func Settle(a *alert.Attempt, err error, n, maxAttempts int, backoff Backoff, now time.Time) {
	if err == nil {
		a.Delivered = true
		return
	}
	a.Error = err.Error()
	if errors.Is(err, ErrNoSMTP) {
		a.NotConfigured = true
		return
	}
	if !IsPermanent(err) && n < maxAttempts {
		a.RetryAt = now.Add(backoff.Delay(n))
	}
}
