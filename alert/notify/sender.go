package notify

import (
	"context"
	"errors"

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
