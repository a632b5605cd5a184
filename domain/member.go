package domain

import (
	"context"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// ProfileUpdate changes the caller's own profile; nil fields stay as they
// are. A new email is only asked for: it becomes the caller's once they
// confirm it.
type ProfileUpdate struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

// Profile is the caller's profile after an update, with the email change
// it asked for, if any.
type Profile struct {
	User
	EmailChange *EmailChange `json:"email_change,omitempty"`
}

// EmailChange is a new email waiting for its owner to confirm it with
// Token, which is shown once, when the change is asked for.
type EmailChange struct {
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at"`
	Token     string    `json:"token"`
}

// EmailConfirmation confirms an email change with its token.
type EmailConfirmation struct {
	Token string `json:"token"`
}

// PasswordChange replaces the caller's password. It ends the caller's
// other sessions and revokes their API tokens, unless KeepAPITokens.
type PasswordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	KeepAPITokens   bool   `json:"keep_api_tokens"`
}

// MemberStatus activates or deactivates a member. Deactivation ends the
// member's sessions and revokes their API tokens, unless KeepAPITokens:
// then the tokens stop working while the member is inactive and work again
// once they are activated.
type MemberStatus struct {
	Active        bool `json:"-"`
	KeepAPITokens bool `json:"keep_api_tokens"`
}

// RoleChange gives a member another role.
type RoleChange struct {
	Role string `json:"role"`
	Note string `json:"note"`
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 8

// ValidatePassword returns EINVALID for a password that is too short or too long.
func ValidatePassword(field, password string) error {
	switch {
	case len(password) < MinPasswordLength:
		return activity.Errorf(activity.EINVALID, field, "password must have at least %d characters", MinPasswordLength)
	case len(password) > 256:
		return activity.Errorf(activity.EINVALID, field, "password must have at most 256 characters")
	}
	return nil
}

// ValidateName returns EINVALID for an empty or overlong person's name,
// or one that is not a line of printable text.
func ValidateName(field, name string) error {
	if strings.TrimSpace(name) == "" {
		return activity.Errorf(activity.EINVALID, field, "%s is required", field)
	}
	return activity.ValidateLine(field, name, 200)
}

// UserService manages the members of a workspace. Every method records its
// event in the same transaction as the change.
type UserService interface {
	// ListUsers returns the caller's workspace members.
	ListUsers(ctx context.Context, p activity.Principal) ([]User, error)
	// FindUser returns one member, or ENOTFOUND.
	FindUser(ctx context.Context, p activity.Principal, id string) (User, error)
	// ChangeRole records user.role_changed. It returns EFORBIDDEN when the
	// caller may not grant or take the role, and ECONFLICT when the change
	// would leave the workspace without an active owner.
	ChangeRole(ctx context.Context, p activity.Principal, id string, in RoleChange) (User, error)
	// SetActive activates or deactivates a member; deactivation ends the
	// member's sessions and, unless asked to keep them, revokes their API
	// tokens.
	SetActive(ctx context.Context, p activity.Principal, id string, in MemberStatus) (User, error)
	// UpdateProfile changes the caller's name and asks for a change of
	// their email. It answers the same whether or not the new email has an
	// account in another workspace; one of the caller's own workspace is
	// ECONFLICT.
	UpdateProfile(ctx context.Context, p activity.Principal, in ProfileUpdate) (Profile, error)
	// ConfirmEmail makes the caller's pending email change theirs. It
	// returns EINVALID for an unknown, replaced or expired token and
	// ECONFLICT when the email has an account by now.
	ConfirmEmail(ctx context.Context, p activity.Principal, in EmailConfirmation) (User, error)
	// ChangePassword checks the current password, sets the new one, ends
	// the caller's other sessions and, unless asked to keep them, revokes
	// their API tokens.
	ChangePassword(ctx context.Context, p activity.Principal, in PasswordChange) error
	// DeleteUser deletes a member's account and personal data, ends their
	// sessions, revokes their API tokens, schedules the anonymization of
	// their entries after the workspace's deleted_user_log_days and
	// records user.deleted. It returns EFORBIDDEN for a caller who may not
	// (an admin deleting an owner, anyone deleting themselves), ECONFLICT
	// for the last active owner, ENOTFOUND for an unknown member.
	DeleteUser(ctx context.Context, p activity.Principal, id string) (UserDeletion, error)
}

// UserDeletion says what deleting a member did.
type UserDeletion struct {
	UserID           string    `json:"user_id"`
	DeletedAt        time.Time `json:"deleted_at"`
	AnonymizeAfter   time.Time `json:"anonymize_after"`
	SessionsEnded    int64     `json:"sessions_ended"`
	APITokensRevoked int       `json:"api_tokens_revoked"`
}

// APIToken is a credential for programs. Its secret is shown once, when
// it is created, and only its hash is kept.
type APIToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	UserID     string     `json:"user_id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Scopes are what the token may do within its user's role.
	Scopes []string `json:"scopes"`
}

// APITokenCreate names a new token and its scopes (at least one). It
// expires at ExpiresAt, within a year, or ExpiresInDays days from now; with
// neither it does not expire.
type APITokenCreate struct {
	Name          string     `json:"name"`
	Scopes        []string   `json:"scopes"`
	ExpiresAt     *time.Time `json:"expires_at"`
	ExpiresInDays int        `json:"expires_in_days"`
}

// NewAPIToken is a created token together with its secret.
type NewAPIToken struct {
	APIToken
	Token string `json:"token"`
}

// TokenService issues and revokes API tokens.
type TokenService interface {
	CreateToken(ctx context.Context, p activity.Principal, in APITokenCreate) (NewAPIToken, error)
	// ListTokens returns the caller's tokens (every member's for those who
	// manage members).
	ListTokens(ctx context.Context, p activity.Principal) ([]APIToken, error)
	// RevokeToken revokes a token of the caller's, or any member's for those
	// who manage members. It returns ENOTFOUND for anyone else's.
	RevokeToken(ctx context.Context, p activity.Principal, id string) error
	// RotateToken gives one of the caller's own tokens a new secret, which
	// it returns; the old secret stops working. It returns ENOTFOUND for
	// anyone else's token and ECONFLICT for a revoked or expired one.
	RotateToken(ctx context.Context, p activity.Principal, id string) (NewAPIToken, error)
}

// Invitation asks someone to join the workspace with a role.
type Invitation struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	InvitedBy UserRef   `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Status is pending, accepted, declined, revoked or expired.
	Status string `json:"status"`
}

// InvitationCreate is the input of an invitation.
type InvitationCreate struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Note  string `json:"note"`
}

// NewInvitation is a created invitation with the token that goes into the
// invitation link. The token is not shown again.
type NewInvitation struct {
	Invitation
	Token string `json:"token"`
}

// InvitationAnswer accepts an invitation (with the new member's name and
// password) or declines it (token only).
type InvitationAnswer struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// InvitationService invites people and records their answers.
type InvitationService interface {
	Invite(ctx context.Context, p activity.Principal, in InvitationCreate) (NewInvitation, error)
	ListInvitations(ctx context.Context, p activity.Principal) ([]Invitation, error)
	RevokeInvitation(ctx context.Context, p activity.Principal, id string) error
	// Accept creates the member and returns it. It returns EINVALID for an
	// unknown, used or expired token.
	Accept(ctx context.Context, in InvitationAnswer) (User, error)
	Decline(ctx context.Context, in InvitationAnswer) error
}
