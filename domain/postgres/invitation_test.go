package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/stacktest"
)

// countingHasher is the real hasher, counting its hashes.
type countingHasher struct {
	argon2.Hasher
	hashes atomic.Int64
}

func (h *countingHasher) Hash(ctx context.Context, password string) (string, error) {
	h.hashes.Add(1)
	return h.Hasher.Hash(ctx, password)
}

// TestUnusableInvitationTokensCostNoHash checks that accepting an
// invitation looks its token up before hashing the new password: a made-up,
// revoked or expired token is refused without a hash.
func TestUnusableInvitationTokensCostNoHash(t *testing.T) {
	db := postgrestest.MustDB(t)
	h := &countingHasher{Hasher: argon2.Hasher{Params: postgrestest.Argon2}}
	email, _ := postgrestest.MustWorkspace(t, db, h, "Invites")
	owner := postgrestest.MustPrincipal(t, db, email)
	invitations := postgres.NewInvitationService(db, h, 0)
	ctx := context.Background()
	invite := func() domain.NewInvitation {
		inv, err := invitations.Invite(ctx, owner, domain.InvitationCreate{Email: "inv-" + stacktest.RandomID() + "@example.com", Name: "Ina Vite", Role: activity.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	revoked, expired, valid := invite(), invite(), invite()
	if err := invitations.RevokeInvitation(ctx, owner, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = ?", expired.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, token string }{
		{"made up", "not-a-token-" + stacktest.RandomID()},
		{"empty", ""},
		{"revoked", revoked.Token},
		{"expired", expired.Token},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h.hashes.Store(0)
			_, err := invitations.Accept(ctx, domain.InvitationAnswer{Token: tt.token, Password: "long-enough-1"})
			if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != "token" {
				t.Errorf("Accept = %v, want invalid token", err)
			}
			if n := h.hashes.Load(); n != 0 {
				t.Errorf("refusing the token cost %d hashes", n)
			}
		})
	}
	h.hashes.Store(0)
	if _, err := invitations.Accept(ctx, domain.InvitationAnswer{Token: valid.Token, Password: "long-enough-1"}); err != nil {
		t.Fatal(err)
	}
	if n := h.hashes.Load(); n != 1 {
		t.Errorf("accepting a valid invitation hashed %d times, want once", n)
	}
}
