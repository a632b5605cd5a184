package domain

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
)

// Workspace is a tenant: every user, asset and event belongs to exactly one.
type Workspace struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TimeZone  string    `json:"time_zone"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a member of a workspace.
type User struct {
	ID          string    `json:"id" audit:"-"`
	WorkspaceID string    `json:"workspace_id" audit:"-"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at" audit:"-"`
}

// Credentials are what a person types to log in.
type Credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LoginResult is a new session: Token goes into the session cookie and is
// never stored in clear.
type LoginResult struct {
	Token     string
	SessionID string
	ExpiresAt time.Time
	User      User
}

// WorkspaceSetup creates a workspace together with its first owner.
type WorkspaceSetup struct {
	Name          string
	TimeZone      string
	OwnerEmail    string
	OwnerName     string
	OwnerPassword string
}

// AuthService logs people in and out and resolves credentials to a principal.
type AuthService interface {
	// Login checks the credentials and opens a session. It returns
	// EUNAUTHORIZED with one message for every kind of failure.
	Login(ctx context.Context, c Credentials) (LoginResult, error)
	// Logout ends the session that the token belongs to.
	Logout(ctx context.Context, token string) error
}

// WorkspaceService creates workspaces.
type WorkspaceService interface {
	// CreateWorkspace creates a workspace and its owner. It returns EINVALID
	// for bad input and ECONFLICT when the owner's email is taken.
	CreateWorkspace(ctx context.Context, s WorkspaceSetup) (Workspace, User, error)
}

// Signup is a workspace asked for by its future owner, who signs up
// without an account.
type Signup struct {
	WorkspaceName string `json:"workspace_name"`
	TimeZone      string `json:"time_zone"`
	OwnerEmail    string `json:"owner_email"`
	OwnerName     string `json:"owner_name"`
	Password      string `json:"password"`
}

// SignupService creates workspaces for people who sign up themselves.
type SignupService interface {
	// SignUp creates the workspace and its owner, unless the email has an
	// account already: then it creates nothing and answers the same, so
	// that signing up reveals no account. It returns EINVALID naming the
	// field for bad input, and ETOOMANY when the caller's address has
	// signed up too often.
	SignUp(ctx context.Context, s Signup) error
}

// Authenticator resolves a session or API token to the caller.
type Authenticator interface {
	// Authenticate returns the principal behind token, or EUNAUTHORIZED when
	// the token is unknown, expired, ended or its user deactivated.
	Authenticate(ctx context.Context, token string) (activity.Principal, error)
}

// PasswordHasher hashes and checks passwords. Each hash costs memory, so
// only so many run at once: both methods return EUNAVAILABLE when the
// caller's turn did not come in time or ctx ended while it waited.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches the encoded hash.
	Verify(ctx context.Context, password, encoded string) (bool, error)
}

// UserRef names a user in another record, such as an asset's assignee.
// Events render it as the user's name followed by the id.
type UserRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// String renders the reference as "Name (id)".
func (r UserRef) String() string {
	if r.ID == "" {
		return ""
	}
	return r.Name + " (" + r.ID + ")"
}
