package client

import (
	"context"
	"time"
)

// Users lists the workspace's members.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out struct {
		Users []User `json:"users"`
	}
	if err := c.do(ctx, "GET", "/api/v1/users", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Users, nil
}

// User returns one member; another workspace's is an *Error with code
// not_found.
func (c *Client) User(ctx context.Context, userID string) (*User, error) {
	var u User
	if err := c.do(ctx, "GET", "/api/v1/users/"+id(userID), nil, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ChangeRole gives a member another role (owner, admin, member, viewer),
// with a note saying why.
func (c *Client) ChangeRole(ctx context.Context, userID, role, why string) (*User, error) {
	var u User
	if err := c.do(ctx, "PUT", "/api/v1/users/"+id(userID)+"/role", nil, map[string]string{"role": role, "note": why}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Deactivate keeps a member from signing in and ends their sessions; their
// API tokens are revoked unless keepTokens, when they stop working until
// the member is activated again.
func (c *Client) Deactivate(ctx context.Context, userID string, keepTokens bool) (*User, error) {
	var u User
	if err := c.do(ctx, "POST", "/api/v1/users/"+id(userID)+"/deactivate", nil, map[string]bool{"keep_api_tokens": keepTokens}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Activate lets a member in again.
func (c *Client) Activate(ctx context.Context, userID string) (*User, error) {
	var u User
	if err := c.do(ctx, "POST", "/api/v1/users/"+id(userID)+"/activate", nil, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Invitation is an invitation to join the workspace.
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
	// Token goes into the invitation link; only Invite answers it.
	Token string `json:"token,omitempty"`
}

// InvitationCreate asks someone to join with a role.
type InvitationCreate struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	Role  string `json:"role"`
	Note  string `json:"note,omitempty"`
}

// Invitations lists the workspace's invitations.
func (c *Client) Invitations(ctx context.Context) ([]Invitation, error) {
	var out struct {
		Invitations []Invitation `json:"invitations"`
	}
	if err := c.do(ctx, "GET", "/api/v1/invitations", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Invitations, nil
}

// Invite invites someone; the answer's Token is not shown again.
func (c *Client) Invite(ctx context.Context, in InvitationCreate) (*Invitation, error) {
	var inv Invitation
	if err := c.do(ctx, "POST", "/api/v1/invitations", nil, in, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// RevokeInvitation withdraws a pending invitation.
func (c *Client) RevokeInvitation(ctx context.Context, invitationID string) error {
	return c.do(ctx, "DELETE", "/api/v1/invitations/"+id(invitationID), nil, nil, nil)
}
