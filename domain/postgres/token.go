package postgres

import (
	"context"
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

type apiTokenRow struct {
	bun.BaseModel `bun:"table:api_tokens"`
	ID            string     `bun:"id,pk,type:uuid"`
	WorkspaceID   string     `bun:"workspace_id,type:uuid"`
	UserID        string     `bun:"user_id,type:uuid"`
	Name          string     `bun:"name"`
	TokenHash     []byte     `bun:"token_hash"`
	Prefix        string     `bun:"prefix"`
	CreatedAt     time.Time  `bun:"created_at"`
	LastUsedAt    *time.Time `bun:"last_used_at"`
	ExpiresAt     *time.Time `bun:"expires_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	Scopes        []string   `bun:"scopes,array"`
}

func (r apiTokenRow) token() domain.APIToken {
	return domain.APIToken{ID: r.ID, Name: r.Name, Prefix: r.Prefix, UserID: r.UserID, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, Scopes: r.Scopes}
}

func (r apiTokenRow) resource() activity.Resource {
	return activity.Resource{Type: "api_token", ID: r.ID, Name: r.Name}
}

// TokenService issues and revokes API tokens.
type TokenService struct{ db *DB }

// NewTokenService returns the API token service of db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

// MaxTokenLifetime is the furthest a token's expires_at may lie ahead.
const MaxTokenLifetime = 365 * 24 * time.Hour

// CreateToken issues a token for the caller and records
// user.api_token_created. The token is in the answer and nowhere else. It
// returns EINVALID for a missing name, no scopes, an unknown scope
// (naming scopes[i]) or an expiry in the past or over a year away, and
// EFORBIDDEN, naming scopes[i], for a scope beyond the caller's role.
func (s *TokenService) CreateToken(ctx context.Context, p activity.Principal, in domain.APITokenCreate) (domain.NewAPIToken, error) {
	if err := domain.Require(p, domain.EditOwnProfile); err != nil {
		return domain.NewAPIToken{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return domain.NewAPIToken{}, activity.Errorf(activity.EINVALID, "name", "name is required, so that the token can be recognised later")
	}
	if err := activity.ValidateLine("name", in.Name, 100); err != nil {
		return domain.NewAPIToken{}, err
	}
	if err := domain.CheckTokenScopes(p, in.Scopes); err != nil {
		return domain.NewAPIToken{}, err
	}
	now := s.db.Now().UTC()
	switch {
	case in.ExpiresInDays < 0 || in.ExpiresInDays > 365:
		return domain.NewAPIToken{}, activity.Errorf(activity.EINVALID, "expires_in_days", "expires_in_days must be between 0 (never) and 365")
	case in.ExpiresAt != nil && in.ExpiresInDays != 0:
		return domain.NewAPIToken{}, activity.Errorf(activity.EINVALID, "expires_at", "give expires_at or expires_in_days, not both")
	case in.ExpiresAt != nil && !in.ExpiresAt.After(now):
		return domain.NewAPIToken{}, activity.Errorf(activity.EINVALID, "expires_at", "expires_at must be in the future")
	case in.ExpiresAt != nil && in.ExpiresAt.Sub(now) > MaxTokenLifetime:
		return domain.NewAPIToken{}, activity.Errorf(activity.EINVALID, "expires_at", "expires_at must be at most a year from now")
	}
	token, hash, err := newToken(APITokenPrefix)
	if err != nil {
		return domain.NewAPIToken{}, err
	}
	var row apiTokenRow
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		owner, err := s.db.member(ctx, tx, p.WorkspaceID, p.UserID, "")
		if err != nil {
			return err
		}
		row = apiTokenRow{ID: uuid.NewString(), WorkspaceID: p.WorkspaceID, UserID: p.UserID, Name: in.Name, TokenHash: hash, Prefix: token[:len(APITokenPrefix)+6], CreatedAt: now, Scopes: in.Scopes}
		if in.ExpiresInDays > 0 {
			exp := now.AddDate(0, 0, in.ExpiresInDays)
			row.ExpiresAt = &exp
		}
		if in.ExpiresAt != nil {
			exp := in.ExpiresAt.UTC()
			row.ExpiresAt = &exp
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert api token: %w", err)
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.api_token_created", now, row.resource())
		e.Related = []activity.Resource{{Type: "user", ID: owner.ID, Name: owner.Name, Role: "owner"}}
		detail(&e, "prefix", row.Prefix)
		detail(&e, "scopes", row.Scopes)
		if row.ExpiresAt != nil {
			detail(&e, "expires_at", row.ExpiresAt.Format(time.RFC3339))
		}
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.NewAPIToken{}, err
	}
	return domain.NewAPIToken{APIToken: row.token(), Token: token}, nil
}

// ListTokens returns the caller's tokens, or every member's for those who
// manage members, newest first. Secrets are never listed.
func (s *TokenService) ListTokens(ctx context.Context, p activity.Principal) ([]domain.APIToken, error) {
	if err := domain.Require(p, domain.EditOwnProfile); err != nil {
		return nil, err
	}
	var rows []apiTokenRow
	q := s.db.NewSelect().Model(&rows).Where("workspace_id = ?", p.WorkspaceID).OrderExpr("created_at DESC, id")
	if !domain.Can(p.Role, domain.ManageMembers) {
		q = q.Where("user_id = ?", p.UserID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("select api tokens: %w", err)
	}
	out := make([]domain.APIToken, len(rows))
	for i, r := range rows {
		out[i] = r.token()
	}
	return out, nil
}

// RevokeToken revokes a token and records user.api_token_revoked. Members
// revoke their own tokens; those who manage members revoke anyone's in
// their workspace. Any other token is ENOTFOUND; a revoked one ECONFLICT.
func (s *TokenService) RevokeToken(ctx context.Context, p activity.Principal, id string) error {
	defer s.db.forgetCallers("token:" + id)
	if err := domain.Require(p, domain.EditOwnProfile); err != nil {
		return err
	}
	notFound := activity.Errorf(activity.ENOTFOUND, "", "API token %q not found", id)
	if !validID(id) {
		return notFound
	}
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		var row apiTokenRow
		q := tx.NewSelect().Model(&row).Where("id = ? AND workspace_id = ?", id, p.WorkspaceID).For("UPDATE")
		if !domain.Can(p.Role, domain.ManageMembers) {
			q = q.Where("user_id = ?", p.UserID)
		}
		if err := q.Scan(ctx); errors.Is(err, sql.ErrNoRows) {
			return notFound
		} else if err != nil {
			return fmt.Errorf("select api token: %w", err)
		}
		if row.RevokedAt != nil {
			return activity.Errorf(activity.ECONFLICT, "", "API token %q is already revoked", id)
		}
		if _, err := tx.NewUpdate().Model(&row).Set("revoked_at = ?", now).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("revoke api token: %w", err)
		}
		owner, err := s.db.member(ctx, tx, p.WorkspaceID, row.UserID, "")
		if err != nil {
			return err
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.api_token_revoked", now, row.resource())
		e.Related = []activity.Resource{{Type: "user", ID: owner.ID, Name: owner.Name, Role: "owner"}}
		detail(&e, "prefix", row.Prefix)
		return s.db.recordEvents(ctx, tx, e)
	})
}

// RotateToken gives one of the caller's own tokens a new secret and records
// user.api_token_rotated; the old secret stops working at once. The token
// keeps its id, name, scopes and expiry. Anyone else's token is ENOTFOUND,
// even for those who manage members, since the new secret would be theirs;
// a revoked or expired token is ECONFLICT.
func (s *TokenService) RotateToken(ctx context.Context, p activity.Principal, id string) (domain.NewAPIToken, error) {
	defer s.db.forgetCallers("token:" + id)
	if err := domain.Require(p, domain.EditOwnProfile); err != nil {
		return domain.NewAPIToken{}, err
	}
	notFound := activity.Errorf(activity.ENOTFOUND, "", "API token %q not found", id)
	if !validID(id) {
		return domain.NewAPIToken{}, notFound
	}
	token, hash, err := newToken(APITokenPrefix)
	if err != nil {
		return domain.NewAPIToken{}, err
	}
	var row apiTokenRow
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		err := tx.NewSelect().Model(&row).Where("id = ? AND workspace_id = ? AND user_id = ?", id, p.WorkspaceID, p.UserID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound
		} else if err != nil {
			return fmt.Errorf("select api token: %w", err)
		}
		if row.RevokedAt != nil {
			return activity.Errorf(activity.ECONFLICT, "", "API token %q is revoked", id)
		}
		if row.ExpiresAt != nil && !row.ExpiresAt.After(now) {
			return activity.Errorf(activity.ECONFLICT, "", "API token %q has expired; create a new one", id)
		}
		oldPrefix := row.Prefix
		row.TokenHash, row.Prefix = hash, token[:len(APITokenPrefix)+6]
		if _, err := tx.NewUpdate().Model(&row).Column("token_hash", "prefix").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("rotate api token: %w", err)
		}
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, "user.api_token_rotated", now, row.resource())
		e.Related = []activity.Resource{{Type: "user", ID: p.UserID, Name: p.Name, Role: "owner"}}
		detail(&e, "previous_prefix", oldPrefix)
		detail(&e, "prefix", row.Prefix)
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.NewAPIToken{}, err
	}
	return domain.NewAPIToken{APIToken: row.token(), Token: token}, nil
}
