package client

import (
	"context"
	"time"
)

// User is a member of a workspace.
type User struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
}

// UserRef names a member.
type UserRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Session is an open session, as Login answers it.
type Session struct {
	User      User      `json:"user"`
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Login opens a session as email; the client keeps its cookie and signs
// its later requests in with it. A failed login is an *Error with code
// unauthorized (too_many_requests past the limit).
func (c *Client) Login(ctx context.Context, email, password string) (*Session, error) {
	var s Session
	err := c.do(ctx, "POST", "/api/v1/auth/login", nil, map[string]string{"email": email, "password": password}, &s)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Logout ends the client's session.
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, "POST", "/api/v1/auth/logout", nil, nil, nil)
}

// Me is the caller, as GET /api/v1/me says.
type Me struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Email       string `json:"email"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	// ActorType is user for a session, api_token for a token.
	ActorType string `json:"actor_type"`
}

// Me returns who is calling.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var m Me
	if err := c.do(ctx, "GET", "/api/v1/me", nil, nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// APIToken is an API token, without its secret.
type APIToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	UserID     string     `json:"user_id"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// NewAPIToken is a token as it is made or rotated: with its secret, shown
// this once.
type NewAPIToken struct {
	APIToken
	Token string `json:"token"`
}

// TokenCreate asks for a token: its name, its scopes (activity:read,
// activity:export, assets:write, licenses:write, members:manage,
// alerts:manage, integrations:manage, admin) and, optionally, when it
// expires.
type TokenCreate struct {
	Name          string     `json:"name"`
	Scopes        []string   `json:"scopes"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	ExpiresInDays int        `json:"expires_in_days,omitempty"`
}

// Tokens lists the caller's tokens (everyone's for owners and admins).
func (c *Client) Tokens(ctx context.Context) ([]APIToken, error) {
	var out struct {
		Tokens []APIToken `json:"tokens"`
	}
	if err := c.do(ctx, "GET", "/api/v1/tokens", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Tokens, nil
}

// CreateToken issues a token. A scope that does not exist is an *Error
// with code invalid, one beyond the caller's role forbidden; either names
// it in Field.
func (c *Client) CreateToken(ctx context.Context, in TokenCreate) (*NewAPIToken, error) {
	var t NewAPIToken
	if err := c.do(ctx, "POST", "/api/v1/tokens", nil, in, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// RevokeToken revokes a token.
func (c *Client) RevokeToken(ctx context.Context, tokenID string) error {
	return c.do(ctx, "DELETE", "/api/v1/tokens/"+id(tokenID), nil, nil, nil)
}

// RotateToken gives one of the caller's own tokens a new secret; the old
// one stops working at once.
func (c *Client) RotateToken(ctx context.Context, tokenID string) (*NewAPIToken, error) {
	var t NewAPIToken
	if err := c.do(ctx, "POST", "/api/v1/tokens/"+id(tokenID)+"/rotate", nil, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
