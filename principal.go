package activity

import "context"

// Roles a workspace member can hold, strongest first.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleViewer = "viewer"
)

// Principal is the authenticated caller of a request. Every read and write is
// scoped to its WorkspaceID, taken from the credentials and never from input.
type Principal struct {
	WorkspaceID string
	UserID      string
	Email       string
	Name        string
	Role        string
	// Type is ActorUser for a session, ActorAPIToken for a token.
	Type      string
	SessionID string
	// TokenID is the API token a request was authenticated with, if any.
	TokenID string
	// Scopes are the scopes of the API token, if any: what a token request
	// may do within the role (see domain.Require).
	Scopes []string
	// TimeZone is the workspace's IANA time zone, read with the credentials.
	TimeZone string
}

// SeesWorkspace reports whether the principal may read every member's activity.
func (p Principal) SeesWorkspace() bool {
	return p.Role == RoleOwner || p.Role == RoleAdmin
}

// Actor returns the principal as the actor of an event.
func (p Principal) Actor() Actor {
	return Actor{ID: p.UserID, Email: p.Email, Name: p.Name, Role: p.Role, Type: p.Type}
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal carried by ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
