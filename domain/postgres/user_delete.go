package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// DeletedName is the name a deleted member's account keeps, followed by
// the first characters of its id.
const DeletedName = "Deleted user"

// DeleteUser deletes a member: their name and email leave the users table
// (replaced by "Deleted user" and an address of their id that cannot
// receive mail), their password, pending email change and the addresses
// and user agents of their sessions are removed, their sessions end and
// their API tokens are revoked. Their entries stay attributed to them
// until the workspace's deleted_user_log_days have passed, when the
// erasure job anonymizes them. It records user.deleted. The rules of
// member changes hold: nobody deletes themselves, only owners delete
// owners, and the last active owner cannot be deleted.
func (s *UserService) DeleteUser(ctx context.Context, p activity.Principal, id string) (domain.UserDeletion, error) {
	defer s.db.forgetCallers("user:" + id)
	var out domain.UserDeletion
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		u, err := s.manageable(ctx, tx, p, id, func(u userRow) userRow { u.Active = false; return u })
		if err != nil {
			return err
		}
		ended, err := endAccess(ctx, tx, u.ID, "", false, now)
		if err != nil {
			return err
		}
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		due := now.AddDate(0, 0, ws.DeletedUserLogDays)
		_, err = tx.NewRaw(`UPDATE users SET name = ?, email = ?, password_hash = '', active = false,
			pending_email = NULL, pending_email_token_hash = NULL, pending_email_expires_at = NULL,
			deleted_at = ?, updated_at = ? WHERE id = ?`,
			DeletedName+" "+u.ID[:8], "deleted-"+u.ID+"@deleted.invalid", now, now, u.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if _, err := tx.NewRaw("UPDATE sessions SET ip = '', user_agent = '' WHERE user_id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("forget sessions' addresses: %w", err)
		}
		_, err = tx.NewRaw("INSERT INTO user_erasures (user_id, workspace_id, deleted_at, due_at) VALUES (?, ?, ?, ?)",
			u.ID, p.WorkspaceID, now, due).Exec(ctx)
		if err != nil {
			return fmt.Errorf("schedule erasure: %w", err)
		}
		e := newEvent(ctx, ws, p, "user.deleted", now, u.resource())
		ended.record(&e, "sessions_ended")
		detail(&e, "anonymize_after", due.UTC().Format(time.RFC3339))
		out = domain.UserDeletion{UserID: u.ID, DeletedAt: now.UTC(), AnonymizeAfter: due.UTC(), SessionsEnded: ended.sessions, APITokensRevoked: len(ended.tokens)}
		return s.db.recordEvents(ctx, tx, e)
	})
	return out, err
}
