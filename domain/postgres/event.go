package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// newEvent starts the event of an action that p performed on res at now.
// The caller adds changes, related resources, a note and details, and
// records it with recordEvents in the same transaction as the change.
func newEvent(ctx context.Context, ws workspaceRow, p activity.Principal, action string, now time.Time, res activity.Resource) activity.Event {
	e := activity.NewEvent(ws.ID, action, now)
	e.Actor = p.Actor()
	e.Resource = res
	e.Context = domain.EventContext(ctx, p.SessionID, ws.TimeZone)
	if p.TokenID != "" {
		e.Details = map[string]any{"api_token_id": p.TokenID}
	}
	return e
}

// newSystemEvent starts the event of an action the platform itself took
// on res at now, with no request behind it: the caller adds what newEvent's
// callers add, and the workspace's time zone where it records one.
func newSystemEvent(workspaceID, action string, now time.Time, res activity.Resource) activity.Event {
	e := activity.NewEvent(workspaceID, action, now)
	e.Actor = activity.Actor{Type: activity.ActorSystem, Name: "Fluxera"}
	e.Resource = res
	e.Context = activity.Context{Method: activity.MethodSystem}
	return e
}

// detail sets one entry of the event's details.
func detail(e *activity.Event, key string, value any) {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
}

// member loads a user of the workspace inside tx, for use as an assignee
// or the target of a change. A user of another workspace is reported as
// not found, so that ids of other workspaces reveal nothing, and so is a
// deleted user.
func (db *DB) member(ctx context.Context, tx bun.IDB, workspaceID, userID, field string) (userRow, error) {
	var u userRow
	if !validID(userID) {
		return u, activity.Errorf(activity.ENOTFOUND, field, "user %q not found", userID)
	}
	err := tx.NewSelect().Model(&u).Where("id = ? AND workspace_id = ? AND deleted_at IS NULL", userID, workspaceID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return u, activity.Errorf(activity.ENOTFOUND, field, "user %q not found", userID)
	}
	if err != nil {
		return u, fmt.Errorf("select user: %w", err)
	}
	return u, nil
}

// ref returns the user as a reference that events render by name and id.
func (r userRow) ref() *domain.UserRef {
	return &domain.UserRef{ID: r.ID, Name: r.Name}
}

// resource returns the user as the resource of an event.
func (r userRow) resource() activity.Resource {
	return activity.Resource{Type: "user", ID: r.ID, Name: r.Name}
}
