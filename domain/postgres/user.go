package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// UserService manages workspace members and records their events.
type UserService struct {
	db     *DB
	hasher domain.PasswordHasher
}

// NewUserService returns the member service of db.
func NewUserService(db *DB, hasher domain.PasswordHasher) *UserService {
	return &UserService{db: db, hasher: hasher}
}

// ListUsers returns the members of the caller's workspace by name.
func (s *UserService) ListUsers(ctx context.Context, p activity.Principal) ([]domain.User, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return nil, err
	}
	var rows []userRow
	if err := s.db.NewSelect().Model(&rows).Where("workspace_id = ?", p.WorkspaceID).OrderExpr("lower(name), id").Scan(ctx); err != nil {
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

// manageable loads the target of a member change, locked for the change,
// and checks that the caller may change it: not themselves, and an owner
// only if the caller may manage owners.
func (s *UserService) manageable(ctx context.Context, tx bun.Tx, p activity.Principal, id string) (userRow, error) {
	if err := domain.Require(p, domain.ManageMembers); err != nil {
		return userRow{}, err
	}
	u, err := s.db.member(ctx, tx, p.WorkspaceID, id, "")
	if err != nil {
		return u, err
	}
	if _, err := tx.NewSelect().Model((*userRow)(nil)).Column("id").Where("id = ?", u.ID).For("UPDATE").Exec(ctx); err != nil {
		return u, fmt.Errorf("lock user: %w", err)
	}
	if u.ID == p.UserID {
		return u, activity.Errorf(activity.EFORBIDDEN, "", "you cannot change your own role or status; ask another owner or admin")
	}
	if u.Role == activity.RoleOwner {
		if err := domain.Require(p, domain.ManageOwners); err != nil {
			return u, err
		}
	}
	return u, nil
}

// ChangeRole gives a member another role and records user.role_changed.
// Only owners grant or take the owner role, and nobody changes their own
// role, so a workspace always keeps an owner. An unchanged role records
// nothing.
func (s *UserService) ChangeRole(ctx context.Context, p activity.Principal, id string, in domain.RoleChange) (domain.User, error) {
	in.Role = strings.TrimSpace(in.Role)
	if !domain.ValidRole(in.Role) {
		return domain.User{}, activity.Errorf(activity.EINVALID, "role", "role must be one of owner, admin, member, viewer")
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return domain.User{}, err
	}
	var after userRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		u, err := s.manageable(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if in.Role == activity.RoleOwner {
			if err := domain.Require(p, domain.ManageOwners); err != nil {
				return err
			}
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
// or user.deactivated. Deactivation ends every session of the member; their
// API tokens stop working while they are inactive.
func (s *UserService) SetActive(ctx context.Context, p activity.Principal, id string, active bool) (domain.User, error) {
	var after userRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		u, err := s.manageable(ctx, tx, p, id)
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
		var ended int64
		if !active {
			action = "user.deactivated"
			res, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("ended_at = ?", now).
				Where("user_id = ? AND ended_at IS NULL", u.ID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
			ended, _ = res.RowsAffected()
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, action, now, u.resource())
		e.Changes = domain.Changes(u.user(), after.user())
		if !active {
			detail(&e, "sessions_ended", ended)
		}
		return s.db.recordEvents(ctx, tx, e)
	})
	return after.user(), err
}

// UpdateProfile changes the caller's name or email and records
// user.profile_updated with what changed. It returns ECONFLICT for an email
// another user has.
func (s *UserService) UpdateProfile(ctx context.Context, p activity.Principal, in domain.ProfileUpdate) (domain.User, error) {
	if err := domain.Require(p, domain.EditOwnProfile); err != nil {
		return domain.User{}, err
	}
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		if err := domain.ValidateName("name", *in.Name); err != nil {
			return domain.User{}, err
		}
	}
	if in.Email != nil {
		*in.Email = strings.ToLower(strings.TrimSpace(*in.Email))
		if !validEmail(*in.Email) {
			return domain.User{}, activity.Errorf(activity.EINVALID, "email", "email is not a valid address")
		}
	}
	var after userRow
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		// Locked, so that two edits at once each record the other's result
		// as their before.
		var u userRow
		if err := tx.NewSelect().Model(&u).Where("id = ? AND workspace_id = ?", p.UserID, p.WorkspaceID).For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("select own user: %w", err)
		}
		after = u
		if in.Name != nil {
			after.Name = *in.Name
		}
		if in.Email != nil {
			after.Email = *in.Email
		}
		changes := domain.Changes(u.user(), after.user())
		if len(changes) == 0 {
			return nil
		}
		after.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(&after).Column("name", "email", "updated_at").WherePK().Exec(ctx); err != nil {
			if isUniqueViolation(err, "users_email_key") {
				return activity.Errorf(activity.ECONFLICT, "email", "another user has this email")
			}
			return fmt.Errorf("update profile: %w", err)
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.profile_updated", now, after.resource())
		e.Changes = changes
		return s.db.recordEvents(ctx, tx, e)
	})
	return after.user(), err
}

// ChangePassword checks the caller's current password, sets the new one,
// ends the caller's other sessions and records user.password_changed with
// the password as a redacted change. A wrong current password is EINVALID.
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
	if !s.hasher.Verify(in.CurrentPassword, u.PasswordHash) {
		return activity.Errorf(activity.EINVALID, "current_password", "the current password is incorrect")
	}
	hash, err := s.hasher.Hash(in.NewPassword)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		res, err := tx.NewUpdate().Model((*userRow)(nil)).Set("password_hash = ?, updated_at = ?", hash, now).
			Where("id = ? AND password_hash = ?", u.ID, u.PasswordHash).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return activity.Errorf(activity.ECONFLICT, "current_password", "the password was changed meanwhile; try again")
		}
		q := tx.NewUpdate().Model((*sessionRow)(nil)).Set("ended_at = ?", now).Where("user_id = ? AND ended_at IS NULL", u.ID)
		if p.SessionID != "" {
			q = q.Where("id <> ?", p.SessionID)
		}
		r, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		ended, _ := r.RowsAffected()
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.password_changed", now, u.resource())
		e.Changes = []activity.Change{{Field: "password", Redacted: true}}
		detail(&e, "other_sessions_ended", ended)
		return s.db.recordEvents(ctx, tx, e)
	})
}
