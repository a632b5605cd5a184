package postgres

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// AccessRecorder records refused requests as activity events.
type AccessRecorder struct{ db *DB }

// NewAccessRecorder returns the access recorder of db.
func NewAccessRecorder(db *DB) *AccessRecorder { return &AccessRecorder{db: db} }

// RecordAccessDenied records auth.access_denied by p, failed, on what the
// request asked for, with its method, path and the reason in the details.
func (r *AccessRecorder) RecordAccessDenied(ctx context.Context, p activity.Principal, d domain.AccessDenial) error {
	return r.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := r.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		res := d.Resource
		if res.Type == "" {
			res = activity.Resource{Type: "endpoint", Name: d.Method + " " + d.Path}
		}
		e := newEvent(ctx, ws, p, domain.ActionAccessDenied, now, res)
		e.Outcome = activity.OutcomeFailure
		detail(&e, "method", d.Method)
		detail(&e, "path", d.Path)
		if d.Route != "" {
			detail(&e, "route", d.Route)
		}
		detail(&e, "reason", d.Reason)
		return r.db.recordEvents(ctx, tx, e)
	})
}
