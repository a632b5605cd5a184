package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type userRow struct {
	bun.BaseModel `bun:"table:users"`
	ID            string    `bun:"id,pk,type:uuid"`
	WorkspaceID   string    `bun:"workspace_id,type:uuid"`
	Email         string    `bun:"email"`
	Name          string    `bun:"name"`
	Role          string    `bun:"role"`
	PasswordHash  string    `bun:"password_hash"`
	Active        bool      `bun:"active"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

func (r userRow) user() domain.User {
	return domain.User{ID: r.ID, WorkspaceID: r.WorkspaceID, Email: r.Email, Name: r.Name, Role: r.Role, Active: r.Active, CreatedAt: r.CreatedAt}
}

func (r userRow) actor() activity.Actor {
	return activity.Actor{ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, Type: activity.ActorUser}
}

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`
	ID            string     `bun:"id,pk,type:uuid"`
	TokenHash     []byte     `bun:"token_hash"`
	UserID        string     `bun:"user_id,type:uuid"`
	WorkspaceID   string     `bun:"workspace_id,type:uuid"`
	IP            string     `bun:"ip"`
	UserAgent     string     `bun:"user_agent"`
	CreatedAt     time.Time  `bun:"created_at"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	EndedAt       *time.Time `bun:"ended_at"`
}

// errBadLogin is the one answer to every failed login, so that a caller
// cannot tell an unknown email from a wrong password.
var errBadLogin = activity.Errorf(activity.EUNAUTHORIZED, "", "email or password is incorrect")

// AuthService logs users in and out with server-side sessions.
type AuthService struct {
	db         *DB
	hasher     domain.PasswordHasher
	sessionTTL time.Duration
	// dummyHash is verified against when the email is unknown, so that the
	// answer takes as long as for a known one.
	dummyHash string
}

// NewAuthService returns the session service of db.
func NewAuthService(db *DB, hasher domain.PasswordHasher, sessionTTL time.Duration) (*AuthService, error) {
	dummy, err := hasher.Hash("not a password anyone has")
	if err != nil {
		return nil, fmt.Errorf("prepare dummy hash: %w", err)
	}
	if sessionTTL <= 0 {
		sessionTTL = 12 * time.Hour
	}
	return &AuthService{db: db, hasher: hasher, sessionTTL: sessionTTL, dummyHash: dummy}, nil
}

// Login checks the credentials, opens a session and records auth.login, or
// records auth.login_failed for a known user and returns EUNAUTHORIZED.
func (s *AuthService) Login(ctx context.Context, c domain.Credentials) (domain.LoginResult, error) {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	if email == "" {
		return domain.LoginResult{}, activity.Errorf(activity.EINVALID, "email", "email is required")
	}
	if c.Password == "" {
		return domain.LoginResult{}, activity.Errorf(activity.EINVALID, "password", "password is required")
	}
	var u userRow
	err := s.db.NewSelect().Model(&u).Where("lower(email) = ?", email).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		s.hasher.Verify(c.Password, s.dummyHash)
		return domain.LoginResult{}, errBadLogin
	}
	if err != nil {
		return domain.LoginResult{}, fmt.Errorf("select user: %w", err)
	}
	if !s.hasher.Verify(c.Password, u.PasswordHash) || !u.Active {
		reason := "wrong_password"
		if !u.Active {
			reason = "deactivated"
		}
		if err := s.recordFailedLogin(ctx, u, reason); err != nil {
			return domain.LoginResult{}, err
		}
		return domain.LoginResult{}, errBadLogin
	}

	token, hash, err := newToken()
	if err != nil {
		return domain.LoginResult{}, err
	}
	req := domain.RequestFrom(ctx)
	var res domain.LoginResult
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, u.WorkspaceID)
		if err != nil {
			return err
		}
		sess := sessionRow{ID: uuid.NewString(), TokenHash: hash, UserID: u.ID, WorkspaceID: u.WorkspaceID, IP: req.IP, UserAgent: req.UserAgent, CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL)}
		if _, err := tx.NewInsert().Model(&sess).Exec(ctx); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		e := activity.NewEvent(u.WorkspaceID, "auth.login", now)
		e.Actor = u.actor()
		e.Resource = activity.Resource{Type: "user", ID: u.ID, Name: u.Name}
		e.Context = domain.EventContext(ctx, sess.ID, ws.TimeZone)
		res = domain.LoginResult{Token: token, SessionID: sess.ID, ExpiresAt: sess.ExpiresAt, User: u.user()}
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.LoginResult{}, err
	}
	return res, nil
}

func (s *AuthService) recordFailedLogin(ctx context.Context, u userRow, reason string) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, u.WorkspaceID)
		if err != nil {
			return err
		}
		e := activity.NewEvent(u.WorkspaceID, "auth.login_failed", now)
		e.Outcome = activity.OutcomeFailure
		e.Actor = u.actor()
		e.Resource = activity.Resource{Type: "user", ID: u.ID, Name: u.Name}
		e.Context = domain.EventContext(ctx, "", ws.TimeZone)
		e.Details = map[string]any{"reason": reason}
		return s.db.recordEvents(ctx, tx, e)
	})
}

// Logout ends the session of token and records auth.logout. An unknown or
// already ended session is not an error.
func (s *AuthService) Logout(ctx context.Context, token string) error {
	p, err := s.Authenticate(ctx, token)
	if err != nil {
		return nil
	}
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		res, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("ended_at = ?", now).
			Where("id = ? AND ended_at IS NULL", p.SessionID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		e := activity.NewEvent(p.WorkspaceID, "auth.logout", now)
		e.Actor = p.Actor()
		e.Resource = activity.Resource{Type: "user", ID: p.UserID, Name: p.Name}
		e.Context = domain.EventContext(ctx, p.SessionID, ws.TimeZone)
		return s.db.recordEvents(ctx, tx, e)
	})
}

// Authenticate resolves a session token to its user.
func (s *AuthService) Authenticate(ctx context.Context, token string) (activity.Principal, error) {
	if token == "" {
		return activity.Principal{}, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	sum := sha256.Sum256([]byte(token))
	var row struct {
		SessionID   string `bun:"session_id"`
		UserID      string `bun:"user_id"`
		WorkspaceID string `bun:"workspace_id"`
		Email       string `bun:"email"`
		Name        string `bun:"name"`
		Role        string `bun:"role"`
	}
	err := s.db.NewSelect().
		TableExpr("sessions AS s").
		Join("JOIN users AS u ON u.id = s.user_id").
		ColumnExpr("s.id AS session_id, u.id AS user_id, u.workspace_id, u.email, u.name, u.role").
		Where("s.token_hash = ?", sum[:]).
		Where("s.ended_at IS NULL AND s.expires_at > ? AND u.active", s.db.Now().UTC()).
		Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return activity.Principal{}, activity.Errorf(activity.EUNAUTHORIZED, "", "session expired or unknown; log in again")
	}
	if err != nil {
		return activity.Principal{}, fmt.Errorf("select session: %w", err)
	}
	return activity.Principal{
		WorkspaceID: row.WorkspaceID, UserID: row.UserID, Email: row.Email, Name: row.Name,
		Role: row.Role, Type: activity.ActorUser, SessionID: row.SessionID,
	}, nil
}

// newToken returns a 256-bit random token and the hash that is stored.
func newToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("read random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}
