package domain

import (
	"context"

	activity "github.com/fluxera/activity"
)

// ActionAccessDenied is recorded when a caller's request is refused
// because their role, or a rule about their own account, does not allow it.
const ActionAccessDenied = "auth.access_denied"

// AccessDenial is one refused request: what was asked for and why it was
// refused.
type AccessDenial struct {
	// Method and Path are the request's, such as DELETE and
	// /api/v1/assets/<id>; Route is the path's route, such as
	// /api/v1/assets/:id.
	Method, Path, Route string
	// Resource is what the request was about, read from its path.
	Resource activity.Resource
	// Reason is the refusal's message, naming what the caller may not do.
	Reason string
}

// AccessRecorder records refused requests.
type AccessRecorder interface {
	// RecordAccessDenied records ActionAccessDenied by p, with the request
	// context carried by ctx, in a transaction that writes only the event.
	RecordAccessDenied(ctx context.Context, p activity.Principal, d AccessDenial) error
}
