package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type invitationRow struct {
	bun.BaseModel `bun:"table:invitations,alias:i"`
	ID            string     `bun:"id,pk,type:uuid"`
	WorkspaceID   string     `bun:"workspace_id,type:uuid"`
	Email         string     `bun:"email"`
	Name          string     `bun:"name"`
	Role          string     `bun:"role"`
	TokenHash     []byte     `bun:"token_hash"`
	InvitedBy     string     `bun:"invited_by,type:uuid,nullzero"` // empty for a first owner, invited by the platform
	CreatedAt     time.Time  `bun:"created_at"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	AcceptedAt    *time.Time `bun:"accepted_at"`
	DeclinedAt    *time.Time `bun:"declined_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	UserID        *string    `bun:"user_id,type:uuid"`
	InviterName   string     `bun:"inviter_name,scanonly"`
}

func (r invitationRow) status(now time.Time) string {
	switch {
	case r.AcceptedAt != nil:
		return "accepted"
	case r.DeclinedAt != nil:
		return "declined"
	case r.RevokedAt != nil && r.RevokedAt.Before(r.ExpiresAt):
		return "revoked"
	case r.RevokedAt != nil || !now.Before(r.ExpiresAt):
		// Closed when a new invitation replaced it after it expired.
		return "expired"
	}
	return "pending"
}

func (r invitationRow) invitation(now time.Time) domain.Invitation {
	if r.InvitedBy == "" {
		r.InviterName = "Fluxera" // the platform, as its events name it
	}
	return domain.Invitation{
		ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, InvitedBy: domain.UserRef{ID: r.InvitedBy, Name: r.InviterName},
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, Status: r.status(now),
	}
}

func (r invitationRow) resource() activity.Resource {
	return activity.Resource{Type: "invitation", ID: r.ID, Name: r.Email}
}

// invitationAudit is what an invitation's events record as changes.
type invitationAudit struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// InvitationService invites people into a workspace and records their answers.
type InvitationService struct {
	db     *DB
	hasher domain.PasswordHasher
	ttl    time.Duration
}

// NewInvitationService returns the invitation service of db; invitations
// expire after ttl (seven days when 0).
func NewInvitationService(db *DB, hasher domain.PasswordHasher, ttl time.Duration) *InvitationService {
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	return &InvitationService{db: db, hasher: hasher, ttl: ttl}
}

// Invite invites someone with a role and records user.invited. Only owners
// invite owners. It returns ECONFLICT when the email belongs to a member of
// this workspace or has a pending invitation to it; an email with an
// account in another workspace is invited like any other, so that inviting
// reveals nothing about other workspaces, and refused when the invitation
// is accepted.
func (s *InvitationService) Invite(ctx context.Context, p activity.Principal, in domain.InvitationCreate) (domain.NewInvitation, error) {
	if err := domain.Require(p, domain.ManageMembers); err != nil {
		return domain.NewInvitation{}, err
	}
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	in.Name, in.Role, in.Note = strings.TrimSpace(in.Name), strings.TrimSpace(in.Role), strings.TrimSpace(in.Note)
	switch {
	case !validEmail(in.Email):
		return domain.NewInvitation{}, activity.Errorf(activity.EINVALID, "email", "email is not a valid address")
	case !domain.ValidRole(in.Role):
		return domain.NewInvitation{}, activity.Errorf(activity.EINVALID, "role", "role must be one of owner, admin, member, viewer")
	}
	if err := activity.ValidateLine("name", in.Name, 200); err != nil {
		return domain.NewInvitation{}, err
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return domain.NewInvitation{}, err
	}
	if in.Role == activity.RoleOwner {
		if err := domain.Require(p, domain.ManageOwners); err != nil {
			return domain.NewInvitation{}, err
		}
	}
	token, hash, err := newToken("")
	if err != nil {
		return domain.NewInvitation{}, err
	}
	var row invitationRow
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		taken, err := tx.NewSelect().Model((*userRow)(nil)).Where("workspace_id = ? AND lower(email) = ?", p.WorkspaceID, in.Email).Exists(ctx)
		if err != nil {
			return fmt.Errorf("look up email: %w", err)
		}
		if taken {
			return activity.Errorf(activity.ECONFLICT, "email", "a member of this workspace has this email")
		}
		// An expired invitation no longer blocks a new one.
		if _, err := tx.NewUpdate().Model((*invitationRow)(nil)).Set("revoked_at = expires_at").
			Where("workspace_id = ? AND lower(email) = ? AND accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL AND expires_at <= ?", p.WorkspaceID, in.Email, now).
			Exec(ctx); err != nil {
			return fmt.Errorf("close expired invitations: %w", err)
		}
		row = invitationRow{ID: uuid.NewString(), WorkspaceID: p.WorkspaceID, Email: in.Email, Name: in.Name, Role: in.Role, TokenHash: hash, InvitedBy: p.UserID, CreatedAt: now, ExpiresAt: now.Add(s.ttl), InviterName: p.Name}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			if isUniqueViolation(err, "invitations_open_key") {
				return activity.Errorf(activity.ECONFLICT, "email", "%s already has a pending invitation", in.Email)
			}
			return fmt.Errorf("insert invitation: %w", err)
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.invited", now, row.resource())
		e.Changes = domain.Changes(invitationAudit{}, invitationAudit{Email: row.Email, Name: row.Name, Role: row.Role})
		e.Note = in.Note
		detail(&e, "expires_at", row.ExpiresAt.Format(time.RFC3339))
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.NewInvitation{}, err
	}
	return domain.NewInvitation{Invitation: row.invitation(row.CreatedAt), Token: token}, nil
}

// ListInvitations returns the workspace's invitations, newest first.
func (s *InvitationService) ListInvitations(ctx context.Context, p activity.Principal) ([]domain.Invitation, error) {
	if err := domain.Require(p, domain.ManageMembers); err != nil {
		return nil, err
	}
	var rows []invitationRow
	err := s.db.NewSelect().Model(&rows).ColumnExpr("i.*, coalesce(u.name, '') AS inviter_name").
		Join("LEFT JOIN users AS u ON u.id = i.invited_by").
		Where("i.workspace_id = ?", p.WorkspaceID).OrderExpr("i.created_at DESC, i.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select invitations: %w", err)
	}
	now := s.db.Now()
	out := make([]domain.Invitation, len(rows))
	for i, r := range rows {
		out[i] = r.invitation(now)
	}
	return out, nil
}

// RevokeInvitation withdraws a pending invitation and records
// invitation.revoked. It returns ECONFLICT when it is no longer pending.
func (s *InvitationService) RevokeInvitation(ctx context.Context, p activity.Principal, id string) error {
	if err := domain.Require(p, domain.ManageMembers); err != nil {
		return err
	}
	notFound := activity.Errorf(activity.ENOTFOUND, "", "invitation %q not found", id)
	if !validID(id) {
		return notFound
	}
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		var row invitationRow
		err := tx.NewSelect().Model(&row).Where("id = ? AND workspace_id = ?", id, p.WorkspaceID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return fmt.Errorf("select invitation: %w", err)
		}
		if st := row.status(now); st != "pending" {
			return activity.Errorf(activity.ECONFLICT, "", "the invitation is %s and can no longer be revoked", st)
		}
		if row.Role == activity.RoleOwner {
			if err := domain.Require(p, domain.ManageOwners); err != nil {
				return err
			}
		}
		if _, err := tx.NewUpdate().Model(&row).Set("revoked_at = ?", now).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("revoke invitation: %w", err)
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "invitation.revoked", now, row.resource())
		detail(&e, "role", row.Role)
		return s.db.recordEvents(ctx, tx, e)
	})
}

// errBadInvitation answers every token that cannot be used, so that a
// caller learns nothing about other people's invitations.
var errBadInvitation = activity.Errorf(activity.EINVALID, "token", "the invitation is unknown, already answered or withdrawn")

// pending loads the pending invitation of token, locked when tx is a
// transaction.
func (s *InvitationService) pending(ctx context.Context, tx bun.IDB, token string, now time.Time) (invitationRow, error) {
	var row invitationRow
	if token == "" {
		return row, activity.Errorf(activity.EINVALID, "token", "token is required")
	}
	sum := sha256.Sum256([]byte(token))
	err := tx.NewSelect().Model(&row).Where("token_hash = ?", sum[:]).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return row, errBadInvitation
	}
	if err != nil {
		return row, fmt.Errorf("select invitation: %w", err)
	}
	switch row.status(now) {
	case "pending":
		return row, nil
	case "expired":
		return row, activity.Errorf(activity.EINVALID, "token", "the invitation expired on %s; ask for a new one", row.ExpiresAt.Format(time.DateOnly))
	}
	return row, errBadInvitation
}

// Accept creates the invited member with the given name and password and
// records invitation.accepted, by the new member. It returns EINVALID for
// an unknown, answered, withdrawn or expired token, before the password is
// hashed, so that a made-up token costs no hash, and ECONFLICT, leaving
// the invitation pending, when the email has an account already.
func (s *InvitationService) Accept(ctx context.Context, in domain.InvitationAnswer) (domain.User, error) {
	in.Name = strings.TrimSpace(in.Name)
	if err := domain.ValidatePassword("password", in.Password); err != nil {
		return domain.User{}, err
	}
	inv, err := s.pending(ctx, s.db, in.Token, s.db.Now())
	if err != nil {
		return domain.User{}, err
	}
	if in.Name == "" {
		in.Name = inv.Name
	}
	if err := domain.ValidateName("name", in.Name); err != nil {
		return domain.User{}, err
	}
	taken, err := s.db.NewSelect().Model((*userRow)(nil)).Where("lower(email) = ?", inv.Email).Exists(ctx)
	if err != nil {
		return domain.User{}, fmt.Errorf("look up email: %w", err)
	}
	if taken {
		return domain.User{}, errEmailTaken
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return domain.User{}, fmt.Errorf("hash password: %w", err)
	}
	var u userRow
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		// Again, locked: it may have been answered or withdrawn meanwhile.
		inv, err := s.pending(ctx, tx, in.Token, now)
		if err != nil {
			return err
		}
		u = userRow{ID: uuid.NewString(), WorkspaceID: inv.WorkspaceID, Email: inv.Email, Name: in.Name, Role: inv.Role, PasswordHash: hash, Active: true, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&u).Exec(ctx); err != nil {
			if isUniqueViolation(err, "users_email_key") {
				return errEmailTaken
			}
			return fmt.Errorf("insert user: %w", err)
		}
		if _, err := tx.NewUpdate().Model(&inv).Set("accepted_at = ?, user_id = ?", now, u.ID).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("accept invitation: %w", err)
		}
		ws, err := s.db.workspace(ctx, tx, inv.WorkspaceID)
		if err != nil {
			return err
		}
		e := activity.NewEvent(ws.ID, "invitation.accepted", now)
		e.Actor = u.actor()
		e.Resource = inv.resource()
		e.Related = []activity.Resource{{Type: "user", ID: u.ID, Name: u.Name, Role: "member"}}
		e.Changes = domain.Changes(domain.User{}, u.user())
		e.Context = domain.EventContext(ctx, "", ws.TimeZone)
		return s.db.recordEvents(ctx, tx, e)
	})
	return u.user(), err
}

// Decline records invitation.declined, by the invited email, and closes
// the invitation.
func (s *InvitationService) Decline(ctx context.Context, in domain.InvitationAnswer) error {
	if in.Password != "" || in.Name != "" {
		return activity.Errorf(activity.EINVALID, "", "declining takes only the token")
	}
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		inv, err := s.pending(ctx, tx, in.Token, now)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(&inv).Set("declined_at = ?", now).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("decline invitation: %w", err)
		}
		ws, err := s.db.workspace(ctx, tx, inv.WorkspaceID)
		if err != nil {
			return err
		}
		e := activity.NewEvent(ws.ID, "invitation.declined", now)
		e.Actor = activity.Actor{Type: activity.ActorAnonymous, Email: inv.Email, Name: inv.Name}
		e.Resource = inv.resource()
		e.Context = domain.EventContext(ctx, "", ws.TimeZone)
		detail(&e, "role", inv.Role)
		return s.db.recordEvents(ctx, tx, e)
	})
}
