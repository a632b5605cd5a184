package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
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
	// The email change waiting for confirmation, if any.
	PendingEmail          *string    `bun:"pending_email"`
	PendingEmailTokenHash []byte     `bun:"pending_email_token_hash"`
	PendingEmailExpiresAt *time.Time `bun:"pending_email_expires_at"`
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

// errThrottled is the one answer to a throttled login, whether the account
// or the address has failed too often, and whether the account exists.
var errThrottled = activity.Errorf(activity.ETOOMANY, "", "too many failed logins; wait a few minutes and try again")

// AuthConfig tunes sessions and the throttling of password checks.
type AuthConfig struct {
	SessionTTL time.Duration
	// A password is no longer checked while the account, or the address
	// the attempt comes from, has this many checks within ThrottleWindow
	// that failed or are still running. Wrong current passwords of a
	// password change count against the member and the address alike.
	MaxFailuresPerAccount int
	MaxFailuresPerIP      int
	ThrottleWindow        time.Duration
	// CacheTTL is how long an API process may answer for a session or API
	// token from memory instead of the database; 0 turns the cache off.
	// Logout, revocation and every change to the caller drop the entry at
	// once in every process (see ListenForChanges), and no entry outlives
	// its session's or token's expiry. CacheSize bounds the entries, the
	// least recently used going first (DefaultAuthCacheSize when 0).
	CacheTTL  time.Duration
	CacheSize int
	// SecretKey is the platform's secret key. A key derived from it hashes
	// what a failed login typed as its email when that is not an email (a
	// password typed into the wrong box, say), so that only the hash is
	// recorded and counted; without it such text is left out altogether.
	SecretKey []byte
}

// Validate fills in defaults and checks the values.
func (c *AuthConfig) Validate() error {
	if c.SessionTTL == 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.MaxFailuresPerAccount == 0 {
		c.MaxFailuresPerAccount = 5
	}
	if c.MaxFailuresPerIP == 0 {
		c.MaxFailuresPerIP = 20
	}
	if c.ThrottleWindow == 0 {
		c.ThrottleWindow = 15 * time.Minute
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultAuthCacheSize
	}
	if c.CacheTTL < 0 || c.CacheSize < 1 {
		return fmt.Errorf("auth: the cache TTL must not be negative and the cache size must be positive")
	}
	if c.SessionTTL < time.Minute || c.MaxFailuresPerAccount < 1 || c.MaxFailuresPerIP < 1 || c.ThrottleWindow < time.Second {
		return fmt.Errorf("auth: session TTL, failure limits and throttle window must be positive")
	}
	return nil
}

// AuthService logs users in and out with server-side sessions, and
// resolves session and API tokens to their caller.
type AuthService struct {
	db       *DB
	hasher   domain.PasswordHasher
	cfg      AuthConfig
	throttle passwordThrottle
	// identifierKey keys the hashes of login identifiers that are not
	// emails; nil when there is no secret key.
	identifierKey []byte
	// dummyHash is verified against when the email is unknown, so that the
	// answer takes as long as for a known one.
	dummyHash string
	// cache keeps resolved callers; nil when CacheTTL is 0.
	cache *authCache
}

// NewAuthService returns the session service of db.
func NewAuthService(db *DB, hasher domain.PasswordHasher, cfg AuthConfig) (*AuthService, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dummy, err := hasher.Hash(context.Background(), "not a password anyone has")
	if err != nil {
		return nil, fmt.Errorf("prepare dummy hash: %w", err)
	}
	s := &AuthService{db: db, hasher: hasher, cfg: cfg, throttle: passwordThrottle{db: db, cfg: cfg}, dummyHash: dummy}
	if cfg.CacheTTL > 0 {
		s.cache = newAuthCache(cfg.CacheTTL, cfg.CacheSize)
		db.callers.Lock()
		db.callers.caches = append(db.callers.caches, s.cache)
		db.callers.Unlock()
	}
	if len(cfg.SecretKey) > 0 {
		m := hmac.New(sha256.New, cfg.SecretKey)
		m.Write([]byte("fluxera login identifier v1"))
		s.identifierKey = m.Sum(nil)
	}
	return s, nil
}

// attempted is what a failed login records and counts for the email it
// was given: the email itself, or anything else only as a hash keyed with
// the platform's secret key, the same for the same text ("" without a
// key).
func (s *AuthService) attempted(email string) (identifier string, isEmail bool) {
	if validEmail(email) {
		return email, true
	}
	if s.identifierKey == nil {
		return "", false
	}
	m := hmac.New(sha256.New, s.identifierKey)
	m.Write([]byte(email))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil)[:16]), false
}

// Login checks the credentials, opens a session and records auth.login.
// Every failure is recorded as auth.login_failed — for an unknown email in
// the platform's own stream, with the attempted email, or with a keyed
// hash of it when it is not an email at all — and answered with
// EUNAUTHORIZED, or ETOOMANY once the account or the address has its limit
// of failed checks: the password is then not checked at all. It returns
// EUNAVAILABLE, counting nothing, when too many passwords are being
// checked at once.
func (s *AuthService) Login(ctx context.Context, c domain.Credentials) (domain.LoginResult, error) {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	switch {
	case email == "":
		return domain.LoginResult{}, activity.Errorf(activity.EINVALID, "email", "email is required")
	case len(email) > 254:
		return domain.LoginResult{}, activity.Errorf(activity.EINVALID, "email", "email is longer than 254 characters")
	case c.Password == "":
		return domain.LoginResult{}, activity.Errorf(activity.EINVALID, "password", "password is required")
	case len(c.Password) > 256:
		return domain.LoginResult{}, activity.Errorf(activity.EINVALID, "password", "password is longer than 256 characters")
	}
	req := domain.RequestFrom(ctx)
	identifier, _ := s.attempted(email)
	account := "account:" + identifier
	var u userRow
	err := s.db.NewSelect().Model(&u).Where("lower(email) = ?", email).Scan(ctx)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return domain.LoginResult{}, fmt.Errorf("select user: %w", err)
	}
	attempt, err := s.throttle.claim(ctx, throttleKeys(req, account), errThrottled)
	if errors.Is(err, errThrottled) {
		if err := s.recordFailedLogin(ctx, known, u, email, "throttled"); err != nil {
			return domain.LoginResult{}, err
		}
		return domain.LoginResult{}, errThrottled
	}
	if err != nil {
		return domain.LoginResult{}, err
	}
	encoded := s.dummyHash
	if known {
		encoded = u.PasswordHash
	}
	ok, err := s.hasher.Verify(ctx, c.Password, encoded)
	if err != nil {
		// Not checked: the attempt does not count.
		return domain.LoginResult{}, errors.Join(err, s.throttle.forget(context.WithoutCancel(ctx), s.db, attempt))
	}
	if !known || !ok || !u.Active {
		reason := "wrong_password"
		switch {
		case !known:
			reason = "unknown_email"
		case !u.Active:
			reason = "deactivated"
		}
		if err := s.recordFailedLogin(ctx, known, u, email, reason); err != nil {
			return domain.LoginResult{}, err
		}
		return domain.LoginResult{}, errBadLogin
	}

	token, hash, err := newToken("")
	if err != nil {
		return domain.LoginResult{}, err
	}
	var res domain.LoginResult
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, u.WorkspaceID)
		if err != nil {
			return err
		}
		sess := sessionRow{ID: uuid.NewString(), TokenHash: hash, UserID: u.ID, WorkspaceID: u.WorkspaceID, IP: req.IP, UserAgent: req.UserAgent, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
		if _, err := tx.NewInsert().Model(&sess).Exec(ctx); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if err := s.throttle.forget(ctx, tx, attempt, account); err != nil {
			return err
		}
		e := activity.NewEvent(u.WorkspaceID, "auth.login", now)
		e.Actor = u.actor()
		e.Resource = u.resource()
		e.Context = domain.EventContext(ctx, sess.ID, ws.TimeZone)
		res = domain.LoginResult{Token: token, SessionID: sess.ID, ExpiresAt: sess.ExpiresAt, User: u.user()}
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.LoginResult{}, err
	}
	return res, nil
}

// recordFailedLogin records auth.login_failed. A known user's failure goes
// to their workspace; an unknown email's to the platform stream, with the
// attempted email as the actor, or, when it is not an email, only its
// keyed hash as the resource.
func (s *AuthService) recordFailedLogin(ctx context.Context, known bool, u userRow, email, reason string) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		var e activity.Event
		identifier, isEmail := s.attempted(email)
		switch {
		case known:
			ws, err := s.db.workspace(ctx, tx, u.WorkspaceID)
			if err != nil {
				return err
			}
			e = activity.NewEvent(u.WorkspaceID, "auth.login_failed", now)
			e.Actor = u.actor()
			e.Resource = u.resource()
			e.Context = domain.EventContext(ctx, "", ws.TimeZone)
			detail(&e, "attempted_email", email)
		case isEmail:
			e = activity.NewEvent(activity.PlatformWorkspace, "auth.login_failed", now)
			e.Actor = activity.Actor{Type: activity.ActorAnonymous, Email: email}
			e.Resource = activity.Resource{Type: "user", Name: email}
			e.Context = domain.EventContext(ctx, "", "UTC")
			detail(&e, "attempted_email", email)
		default:
			e = activity.NewEvent(activity.PlatformWorkspace, "auth.login_failed", now)
			e.Actor = activity.Actor{Type: activity.ActorAnonymous}
			e.Resource = activity.Resource{Type: "user", Name: identifier}
			e.Context = domain.EventContext(ctx, "", "UTC")
			if identifier != "" {
				detail(&e, "attempted_identifier_hmac", identifier)
			}
		}
		e.Outcome = activity.OutcomeFailure
		detail(&e, "reason", reason)
		return s.db.recordEvents(ctx, tx, e)
	})
}

// Logout ends the session of token and records auth.logout. An unknown or
// already ended session is not an error.
func (s *AuthService) Logout(ctx context.Context, token string) error {
	p, err := s.Authenticate(ctx, token)
	if err != nil || p.SessionID == "" {
		return nil
	}
	defer s.db.forgetCallers("session:" + p.SessionID)
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		res, err := tx.NewUpdate().Model((*sessionRow)(nil)).Set("ended_at = ?", now).
			Where("id = ? AND ended_at IS NULL", p.SessionID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
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

// APITokenPrefix starts every API token, so that a token can be told from
// a session and recognised by secret scanners.
const APITokenPrefix = "flx_"

// Authenticate resolves a session or API token to its caller. It returns
// EUNAUTHORIZED for an unknown, expired, ended or revoked token and for a
// deactivated user. With a cache (AuthConfig.CacheTTL) it answers from
// memory while ListenForChanges keeps the cache in step with the database.
func (s *AuthService) Authenticate(ctx context.Context, token string) (activity.Principal, error) {
	if token == "" {
		return activity.Principal{}, activity.Errorf(activity.EUNAUTHORIZED, "", "login required")
	}
	if s.cache != nil {
		return s.authenticateCached(ctx, token)
	}
	r, err := s.lookup(ctx, token, sha256.Sum256([]byte(token)), s.db.Now().UTC())
	if err != nil {
		return activity.Principal{}, err
	}
	return r.principal, nil
}

// resolved is what a token resolves to, with the session's or token's
// expiry (zero when it has none) and the token's last use.
type resolved struct {
	principal activity.Principal
	expiresAt time.Time
	lastUsed  time.Time
}

// lookup resolves the token whose hash is sum in the database at now.
func (s *AuthService) lookup(ctx context.Context, token string, sum [sha256.Size]byte, now time.Time) (resolved, error) {
	if strings.HasPrefix(token, APITokenPrefix) {
		return s.lookupToken(ctx, sum, now)
	}
	var row struct {
		SessionID   string    `bun:"session_id"`
		ExpiresAt   time.Time `bun:"expires_at"`
		UserID      string    `bun:"user_id"`
		WorkspaceID string    `bun:"workspace_id"`
		Email       string    `bun:"email"`
		Name        string    `bun:"name"`
		Role        string    `bun:"role"`
		TimeZone    string    `bun:"time_zone"`
	}
	err := s.db.NewSelect().
		TableExpr("sessions AS s").
		Join("JOIN users AS u ON u.id = s.user_id").
		Join("JOIN workspaces AS w ON w.id = u.workspace_id").
		ColumnExpr("s.id AS session_id, s.expires_at, u.id AS user_id, u.workspace_id, u.email, u.name, u.role, w.time_zone").
		Where("s.token_hash = ?", sum[:]).
		Where("s.ended_at IS NULL AND s.expires_at > ? AND u.active", now).
		Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return resolved{}, activity.Errorf(activity.EUNAUTHORIZED, "", "session expired or unknown; log in again")
	}
	if err != nil {
		return resolved{}, fmt.Errorf("select session: %w", err)
	}
	return resolved{
		principal: activity.Principal{
			WorkspaceID: row.WorkspaceID, UserID: row.UserID, Email: row.Email, Name: row.Name,
			Role: row.Role, Type: activity.ActorUser, SessionID: row.SessionID, TimeZone: row.TimeZone,
		},
		expiresAt: row.ExpiresAt,
	}, nil
}

func (s *AuthService) lookupToken(ctx context.Context, sum [sha256.Size]byte, now time.Time) (resolved, error) {
	var row struct {
		TokenID     string     `bun:"token_id"`
		LastUsedAt  *time.Time `bun:"last_used_at"`
		ExpiresAt   *time.Time `bun:"expires_at"`
		UserID      string     `bun:"user_id"`
		WorkspaceID string     `bun:"workspace_id"`
		Email       string     `bun:"email"`
		Name        string     `bun:"name"`
		Role        string     `bun:"role"`
		TimeZone    string     `bun:"time_zone"`
		Scopes      []string   `bun:"scopes,array"`
	}
	err := s.db.NewSelect().
		TableExpr("api_tokens AS t").
		Join("JOIN users AS u ON u.id = t.user_id").
		Join("JOIN workspaces AS w ON w.id = u.workspace_id").
		ColumnExpr("t.id AS token_id, t.last_used_at, t.expires_at, t.scopes, u.id AS user_id, u.workspace_id, u.email, u.name, u.role, w.time_zone").
		Where("t.token_hash = ?", sum[:]).
		Where("t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?) AND u.active", now).
		Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return resolved{}, activity.Errorf(activity.EUNAUTHORIZED, "", "API token is unknown, expired or revoked")
	}
	if err != nil {
		return resolved{}, fmt.Errorf("select api token: %w", err)
	}
	r := resolved{principal: activity.Principal{
		WorkspaceID: row.WorkspaceID, UserID: row.UserID, Email: row.Email, Name: row.Name,
		Role: row.Role, Type: activity.ActorAPIToken, TokenID: row.TokenID, Scopes: row.Scopes, TimeZone: row.TimeZone,
	}}
	if row.ExpiresAt != nil {
		r.expiresAt = *row.ExpiresAt
	}
	// Last use is kept to the minute, which spares a write per request.
	if row.LastUsedAt != nil {
		r.lastUsed = *row.LastUsedAt
	}
	if now.Sub(r.lastUsed) > time.Minute {
		if err := s.noteTokenUse(ctx, row.TokenID, now); err != nil {
			return resolved{}, err
		}
		r.lastUsed = now
	}
	return r, nil
}

// noteTokenUse records the API token's last use at now.
func (s *AuthService) noteTokenUse(ctx context.Context, tokenID string, now time.Time) error {
	if _, err := s.db.NewUpdate().TableExpr("api_tokens").Set("last_used_at = ?", now).Where("id = ?", tokenID).Exec(ctx); err != nil {
		return fmt.Errorf("note api token use: %w", err)
	}
	return nil
}

// newToken returns a 256-bit random token, led by prefix, and the hash
// that is stored.
func newToken(prefix string) (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("read random token: %w", err)
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// HasUser reports whether a user with email exists, in any workspace,
// without signing in or recording anything: the seed's check for the demo
// workspace.
func (db *DB) HasUser(ctx context.Context, email string) (bool, error) {
	ok, err := db.NewSelect().Model((*userRow)(nil)).Where("lower(email) = ?", strings.ToLower(strings.TrimSpace(email))).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("look up user: %w", err)
	}
	return ok, nil
}
