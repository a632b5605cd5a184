package privacy

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// PersonalData is what the domain database holds about a person: their
// account, sessions and API tokens (never a secret or a hash).
type PersonalData struct {
	Account   Account    `json:"account"`
	Sessions  []Session  `json:"sessions"`
	APITokens []APIToken `json:"api_tokens"`
}

// Account is a person's account and membership of their workspace.
type Account struct {
	ID           string    `json:"id"`
	WorkspaceID  string    `json:"workspace_id"`
	Workspace    string    `json:"workspace"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	PendingEmail string    `json:"pending_email,omitempty"`
	Role         string    `json:"role"`
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Session is one sign-in of the person.
type Session struct {
	ID        string     `json:"id"`
	IP        string     `json:"ip"`
	UserAgent string     `json:"user_agent"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	EndedAt   *time.Time `json:"ended_at"`
}

// APIToken is one of the person's API tokens, without its secret.
type APIToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// Holders are the stores a subject access export reads.
type Holders interface {
	// PersonalData returns what the domain database holds about the
	// member, or ENOTFOUND.
	PersonalData(ctx context.Context, workspace, userID string) (PersonalData, error)
}

// Scanner reads the log's entries, as the exports do.
type Scanner interface {
	ScanEvents(ctx context.Context, p activity.Principal, f searchapi.EventFilter, fn func(searchapi.Entry) error) (int, error)
}

// Access answers subject access requests: everything recorded about a
// person, as JSON.
type Access struct {
	Holders Holders
	Entries Scanner
}

// Subject returns whose data p may export: their own for "" (ViewOwnActivity),
// any member's for an id (owners only, ManagePersonalData). It returns
// EFORBIDDEN when p may not.
func (a *Access) Subject(p activity.Principal, userID string) (string, error) {
	if userID == "" || userID == p.UserID {
		return p.UserID, domain.Require(p, domain.ViewOwnActivity)
	}
	return userID, domain.Require(p, domain.ManagePersonalData)
}

// PersonalData returns what the domain database holds about the member of
// p's workspace, or ENOTFOUND.
func (a *Access) PersonalData(ctx context.Context, p activity.Principal, userID string) (PersonalData, error) {
	return a.Holders.PersonalData(ctx, p.WorkspaceID, userID)
}

// ScanEntries hands fn every entry of p's workspace the member took part
// in — as the actor, or as the resource or a related resource of someone
// else's action — newest first, from one state of the index, and returns
// how many. Whoever asked, the entries about the member are read whole:
// a member's own export holds what others did to them too.
func (a *Access) ScanEntries(ctx context.Context, p activity.Principal, userID string, fn func(searchapi.Entry) error) (int, error) {
	reader := activity.Principal{WorkspaceID: p.WorkspaceID, UserID: p.UserID, Role: activity.RoleOwner, Type: activity.ActorUser,
		Name: p.Name, Email: p.Email, SessionID: p.SessionID, TimeZone: p.TimeZone}
	f := searchapi.EventFilter{Involving: userID}
	if err := f.Validate(time.Now(), searchapi.Zone(p.TimeZone)); err != nil {
		return 0, err
	}
	return a.Entries.ScanEvents(ctx, reader, f, fn)
}
