package postgres

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// UserService manages workspace members and records their events.
type UserService struct {
	db       *DB
	hasher   domain.PasswordHasher
	throttle passwordThrottle
}

// NewUserService returns the member service of db; wrong current passwords
// of password changes are throttled as cfg throttles failed logins.
func NewUserService(db *DB, hasher domain.PasswordHasher, cfg AuthConfig) (*UserService, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &UserService{db: db, hasher: hasher, throttle: passwordThrottle{db: db, cfg: cfg}}, nil
}

// ListUsers returns the members of the caller's workspace by name;
// deleted members are not listed.
func (s *UserService) ListUsers(ctx context.Context, p activity.Principal) ([]domain.User, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return nil, err
	}
	var rows []userRow
	if err := s.db.NewSelect().Model(&rows).Where("workspace_id = ? AND deleted_at IS NULL", p.WorkspaceID).OrderExpr("lower(name), id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select users: %w", err)
	}
	users := make([]domain.User, len(rows))
	for i, r := range rows {
		users[i] = r.user()
	}
	return users, nil
}

// FindUser returns one member of the caller's workspace, or ENOTFOUND.
func (s *UserService) FindUser(ctx context.Context, p activity.Principal, id string) (domain.User, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return domain.User{}, err
	}
	u, err := s.db.member(ctx, s.db, p.WorkspaceID, id, "")
	return u.user(), err
}

// errLastOwner refuses a change that would leave a workspace without an
// active owner.
var errLastOwner = activity.Errorf(activity.ECONFLICT, "", "the workspace must keep an active owner; make someone else an owner first")

// manageable loads the target of a member change, locked for the change,
// and checks that the caller may make it: not on themselves, and on an
// owner, or to make one, only as an owner. change says what the target
// becomes.
//
// The workspace's owners are locked first, always in the same order, so
// that changes of members take turns and each sees the owners the one
// before left: the caller's role is checked against them, not against
// credentials that may predate a change, and a change after which no
// active owner would be left is ECONFLICT.
func (s *UserService) manageable(ctx context.Context, tx bun.Tx, p activity.Principal, id string, change func(userRow) userRow) (userRow, error) {
	if err := domain.Require(p, domain.ManageMembers); err != nil {
		return userRow{}, err
	}
	// NO KEY UPDATE, which rows that refer to a user (a new session, say)
	// do not wait for.
	var owners []userRow
	err := tx.NewSelect().Model(&owners).Column("id", "active").
		Where("workspace_id = ? AND role = ?", p.WorkspaceID, activity.RoleOwner).
		OrderExpr("id").For("NO KEY UPDATE").Scan(ctx)
	if err != nil {
		return userRow{}, fmt.Errorf("lock owners: %w", err)
	}
	u, err := s.db.member(ctx, tx, p.WorkspaceID, id, "")
	if err != nil {
		return u, err
	}
	if err := tx.NewSelect().Model(&u).WherePK().For("NO KEY UPDATE").Scan(ctx); err != nil {
		return u, fmt.Errorf("lock user: %w", err)
	}
	if u.ID == p.UserID {
		return u, activity.Errorf(activity.EFORBIDDEN, "", "you cannot change your own role or status; ask another owner or admin")
	}
	after := change(u)
	if u.Role != activity.RoleOwner && after.Role != activity.RoleOwner {
		return u, nil
	}
	if err := domain.Require(p, domain.ManageOwners); err != nil {
		return u, err
	}
	callerOwns, others := false, 0
	for _, o := range owners {
		callerOwns = callerOwns || (o.ID == p.UserID && o.Active)
		if o.Active && o.ID != u.ID {
			others++
		}
	}
	if !callerOwns {
		return u, activity.Errorf(activity.EFORBIDDEN, "", "you are no longer an active owner of this workspace")
	}
	if others == 0 && !(after.Role == activity.RoleOwner && after.Active) {
		return u, errLastOwner
	}
	return u, nil
}

// ChangeRole gives a member another role and records user.role_changed.
// Only owners grant or take the owner role, nobody changes their own role,
// and a change that would leave the workspace without an active owner is
// ECONFLICT, also when two owners demote each other at once. An unchanged
// role records nothing.
func (s *UserService) ChangeRole(ctx context.Context, p activity.Principal, id string, in domain.RoleChange) (domain.User, error) {
	defer s.db.forgetCallers("user:" + id)
	in.Role = strings.TrimSpace(in.Role)
	if !domain.ValidRole(in.Role) {
		return domain.User{}, activity.Errorf(activity.EINVALID, "role", "role must be one of owner, admin, member, viewer")
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return domain.User{}, err
	}
	var after userRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		u, err := s.manageable(ctx, tx, p, id, func(u userRow) userRow { u.Role = in.Role; return u })
		if err != nil {
			return err
		}
		after = u
		if u.Role == in.Role {
			return nil
		}
		after.Role, after.UpdatedAt = in.Role, now
		if _, err := tx.NewUpdate().Model(&after).Column("role", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update role: %w", err)
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.role_changed", now, u.resource())
		e.Changes = domain.Changes(u.user(), after.user())
		e.Note = strings.TrimSpace(in.Note)
		return s.db.recordEvents(ctx, tx, e)
	})
	return after.user(), err
}

// SetActive activates or deactivates a member and records user.activated
// or user.deactivated. Deactivation ends every session of the member and
// revokes their API tokens, unless asked to keep them: then they stop
// working while the member is inactive.
func (s *UserService) SetActive(ctx context.Context, p activity.Principal, id string, in domain.MemberStatus) (domain.User, error) {
	defer s.db.forgetCallers("user:" + id)
	active := in.Active
	var after userRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		u, err := s.manageable(ctx, tx, p, id, func(u userRow) userRow { u.Active = active; return u })
		if err != nil {
			return err
		}
		after = u
		if u.Active == active {
			return nil
		}
		after.Active, after.UpdatedAt = active, now
		if _, err := tx.NewUpdate().Model(&after).Column("active", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update user status: %w", err)
		}
		action := "user.activated"
		var ended access
		if !active {
			action = "user.deactivated"
			if ended, err = endAccess(ctx, tx, u.ID, "", in.KeepAPITokens, now); err != nil {
				return err
			}
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, action, now, u.resource())
		e.Changes = domain.Changes(u.user(), after.user())
		if !active {
			ended.record(&e, "sessions_ended")
		}
		return s.db.recordEvents(ctx, tx, e)
	})
	return after.user(), err
}

// emailChangeTTL is how long an email change can be confirmed.
const emailChangeTTL = 24 * time.Hour

// errEmailTaken refuses an email that has an account.
var errEmailTaken = activity.Errorf(activity.ECONFLICT, "email", "an account with this email exists already; one email can belong to one account only")

// UpdateProfile changes the caller's name, asks for a change of their
// email, and records user.profile_updated with the name's change and the
// email asked for. A new email becomes the caller's when they confirm it
// with the token in the answer; until then the answer is the same whether
// or not it has an account in another workspace, so that asking reveals
// nothing. An email another member of the caller's workspace has is
// ECONFLICT at once.
func (s *UserService) UpdateProfile(ctx context.Context, p activity.Principal, in domain.ProfileUpdate) (domain.Profile, error) {
	defer s.db.forgetCallers("user:" + p.UserID)
	if err := domain.Require(p, domain.EditOwnProfile); err != nil {
		return domain.Profile{}, err
	}
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		if err := domain.ValidateName("name", *in.Name); err != nil {
			return domain.Profile{}, err
		}
	}
	if in.Email != nil {
		*in.Email = strings.ToLower(strings.TrimSpace(*in.Email))
		if !validEmail(*in.Email) {
			return domain.Profile{}, activity.Errorf(activity.EINVALID, "email", "email is not a valid address")
		}
	}
	var out domain.Profile
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		// Locked, so that two edits at once each record the other's result
		// as their before.
		var u userRow
		if err := tx.NewSelect().Model(&u).Where("id = ? AND workspace_id = ?", p.UserID, p.WorkspaceID).For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("select own user: %w", err)
		}
		after := u
		if in.Name != nil {
			after.Name = *in.Name
		}
		changes := domain.Changes(u.user(), after.user())
		if in.Email != nil && *in.Email != strings.ToLower(u.Email) {
			taken, err := tx.NewSelect().Model((*userRow)(nil)).Where("workspace_id = ? AND lower(email) = ?", p.WorkspaceID, *in.Email).Exists(ctx)
			if err != nil {
				return fmt.Errorf("look up email: %w", err)
			}
			if taken {
				return activity.Errorf(activity.ECONFLICT, "email", "another member of this workspace has this email")
			}
			token, hash, err := newToken("")
			if err != nil {
				return err
			}
			expires := now.Add(emailChangeTTL)
			after.PendingEmail, after.PendingEmailTokenHash, after.PendingEmailExpiresAt = in.Email, hash, &expires
			out.EmailChange = &domain.EmailChange{Email: *in.Email, ExpiresAt: expires, Token: token}
		}
		out.User = after.user()
		if len(changes) == 0 && out.EmailChange == nil {
			return nil
		}
		after.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(&after).Column("name", "pending_email", "pending_email_token_hash", "pending_email_expires_at", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.profile_updated", now, after.resource())
		e.Changes = changes
		if out.EmailChange != nil {
			detail(&e, "email_change_requested", out.EmailChange.Email)
		}
		return s.db.recordEvents(ctx, tx, e)
	})
	return out, err
}

// ConfirmEmail makes the caller's pending email change theirs and records
// user.profile_updated with the email's change. It returns EINVALID for a
// token that is not the one of the caller's pending change or has expired,
// and ECONFLICT, writing nothing, when the email has an account by now, in
// whichever workspace.
func (s *UserService) ConfirmEmail(ctx context.Context, p activity.Principal, in domain.EmailConfirmation) (domain.User, error) {
	defer s.db.forgetCallers("user:" + p.UserID)
	if err := domain.Require(p, domain.EditOwnProfile); err != nil {
		return domain.User{}, err
	}
	if in.Token == "" {
		return domain.User{}, activity.Errorf(activity.EINVALID, "token", "token is required")
	}
	sum := sha256.Sum256([]byte(in.Token))
	var after userRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		var u userRow
		if err := tx.NewSelect().Model(&u).Where("id = ? AND workspace_id = ?", p.UserID, p.WorkspaceID).For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("select own user: %w", err)
		}
		if u.PendingEmail == nil || subtle.ConstantTimeCompare(u.PendingEmailTokenHash, sum[:]) != 1 {
			return activity.Errorf(activity.EINVALID, "token", "this email change is unknown, confirmed already or replaced by a newer one")
		}
		if !now.Before(*u.PendingEmailExpiresAt) {
			return activity.Errorf(activity.EINVALID, "token", "this email change expired at %s; ask for it again", u.PendingEmailExpiresAt.Format(time.RFC3339))
		}
		after = u
		after.Email, after.PendingEmail, after.PendingEmailTokenHash, after.PendingEmailExpiresAt, after.UpdatedAt = *u.PendingEmail, nil, nil, nil, now
		if _, err := tx.NewUpdate().Model(&after).Column("email", "pending_email", "pending_email_token_hash", "pending_email_expires_at", "updated_at").WherePK().Exec(ctx); err != nil {
			if isUniqueViolation(err, "users_email_key") {
				return errEmailTaken
			}
			return fmt.Errorf("confirm email: %w", err)
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.profile_updated", now, after.resource())
		e.Changes = domain.Changes(u.user(), after.user())
		detail(&e, "email_change_confirmed", true)
		return s.db.recordEvents(ctx, tx, e)
	})
	return after.user(), err
}

// errPasswordThrottled answers a password change once the member or the
// address has too many wrong current passwords.
var errPasswordThrottled = activity.Errorf(activity.ETOOMANY, "current_password", "too many wrong passwords; wait a few minutes and try again")

// ChangePassword checks the caller's current password, sets the new one,
// ends the caller's other sessions and records user.password_changed with
// the password as a redacted change. A wrong current password is EINVALID;
// wrong ones count as failed logins do, and once the member or the address
// has too many the current password is not checked and the answer is
// ETOOMANY.
func (s *UserService) ChangePassword(ctx context.Context, p activity.Principal, in domain.PasswordChange) error {
	if err := domain.Require(p, domain.EditOwnProfile); err != nil {
		return err
	}
	if in.CurrentPassword == "" {
		return activity.Errorf(activity.EINVALID, "current_password", "current_password is required")
	}
	if err := domain.ValidatePassword("new_password", in.NewPassword); err != nil {
		return err
	}
	if in.NewPassword == in.CurrentPassword {
		return activity.Errorf(activity.EINVALID, "new_password", "the new password must differ from the current one")
	}
	u, err := s.db.member(ctx, s.db, p.WorkspaceID, p.UserID, "")
	if err != nil {
		return err
	}
	member := "password:" + u.ID
	attempt, err := s.throttle.claim(ctx, throttleKeys(domain.RequestFrom(ctx), member), errPasswordThrottled)
	if err != nil {
		return err
	}
	// A check that did not run, or passed, does not count.
	forget := func(err error) error {
		return errors.Join(err, s.throttle.forget(context.WithoutCancel(ctx), s.db, attempt))
	}
	ok, err := s.hasher.Verify(ctx, in.CurrentPassword, u.PasswordHash)
	if err != nil {
		return forget(err)
	}
	if !ok {
		return activity.Errorf(activity.EINVALID, "current_password", "the current password is incorrect")
	}
	hash, err := s.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return forget(fmt.Errorf("hash password: %w", err))
	}
	if err := s.setPassword(ctx, p, u, hash, in.KeepAPITokens, attempt, member); err != nil {
		return forget(err)
	}
	return nil
}

// setPassword stores the checked change of the caller's password, forgets
// the member's failed checks, ends the caller's other sessions and, unless
// keepTokens, revokes their API tokens, and records user.password_changed.
func (s *UserService) setPassword(ctx context.Context, p activity.Principal, u userRow, hash string, keepTokens bool, attempt, member string) error {
	defer s.db.forgetCallers("user:" + u.ID)
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		res, err := tx.NewUpdate().Model((*userRow)(nil)).Set("password_hash = ?, updated_at = ?", hash, now).
			Where("id = ? AND password_hash = ?", u.ID, u.PasswordHash).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return activity.Errorf(activity.ECONFLICT, "current_password", "the password was changed meanwhile; try again")
		}
		if err := s.throttle.forget(ctx, tx, attempt, member); err != nil {
			return err
		}
		ended, err := endAccess(ctx, tx, u.ID, p.SessionID, keepTokens, now)
		if err != nil {
			return err
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.password_changed", now, u.resource())
		e.Changes = []activity.Change{{Field: "password", Redacted: true}}
		ended.record(&e, "other_sessions_ended")
		return s.db.recordEvents(ctx, tx, e)
	})
}

// access is what endAccess ended: a number of sessions and the revoked
// API tokens.
type access struct {
	sessions int64
	tokens   []apiTokenRow
}

// endAccess ends the user's sessions but keepSession and, unless
// keepTokens, revokes their API tokens.
func endAccess(ctx context.Context, tx bun.Tx, userID, keepSession string, keepTokens bool, now time.Time) (access, error) {
	var a access
	q := tx.NewUpdate().Model((*sessionRow)(nil)).Set("ended_at = ?", now).Where("user_id = ? AND ended_at IS NULL", userID)
	if keepSession != "" {
		q = q.Where("id <> ?", keepSession)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return a, fmt.Errorf("end sessions: %w", err)
	}
	a.sessions, _ = res.RowsAffected()
	if keepTokens {
		return a, nil
	}
	err = tx.NewRaw("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING id, name", now, userID).Scan(ctx, &a.tokens)
	if err != nil {
		return a, fmt.Errorf("revoke api tokens: %w", err)
	}
	return a, nil
}

// record says in e how many sessions ended, under sessionsKey, and how
// many API tokens were revoked, and relates the tokens.
func (a access) record(e *activity.Event, sessionsKey string) {
	detail(e, sessionsKey, a.sessions)
	detail(e, "api_tokens_revoked", len(a.tokens))
	for _, t := range a.tokens {
		e.Related = append(e.Related, t.resource())
	}
}
