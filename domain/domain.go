// Package domain holds Fluxera's asset and license management domain —
// workspaces, users, sessions, assets — and its rules. Every action that
// changes or reveals something is recorded as an activity event in the same
// transaction as the change (see Relay for how events leave the outbox).
//
// The package imports only the standard library and the activity contract;
// storage, messaging and HTTP live in the subpackages named after them.
package domain

import (
	"context"

	activity "github.com/fluxera/activity"
)

// Request describes where an action came from. The HTTP layer fills it in
// from the connection; system jobs use SystemRequest.
type Request struct {
	IP        string
	UserAgent string
	RequestID string
	Method    string
}

type requestKey struct{}

// WithRequest returns a context that carries r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request carried by ctx, or a system request when
// there is none.
func RequestFrom(ctx context.Context) Request {
	if r, ok := ctx.Value(requestKey{}).(Request); ok {
		return r
	}
	return Request{Method: activity.MethodSystem}
}

// EventContext builds the context block of an event from the request and
// the caller's session.
func EventContext(ctx context.Context, sessionID, timeZone string) activity.Context {
	r := RequestFrom(ctx)
	return activity.Context{
		IP:        r.IP,
		UserAgent: r.UserAgent,
		RequestID: r.RequestID,
		Method:    r.Method,
		SessionID: sessionID,
		TimeZone:  timeZone,
	}
}
