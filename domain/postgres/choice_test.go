package postgres_test

import (
	"context"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// TestListChoices checks what the filters offer by name: every member,
// and at most max assets and licenses, each ordered by name whatever its
// case, deleted ones and other workspaces' left out.
func TestListChoices(t *testing.T) {
	db := postgrestest.MustDB(t)
	hasher := argon2.Hasher{Params: postgrestest.Argon2}
	owner := postgrestest.MustPrincipal(t, db, mustWorkspaceEmail(t, db, hasher, "Choices"))
	other := postgrestest.MustPrincipal(t, db, mustWorkspaceEmail(t, db, hasher, "Elsewhere"))
	ctx := context.Background()
	assets := postgres.NewAssetService(db)
	licenses := postgres.NewLicenseService(db, postgrestest.MustKeyBox(t))
	asset := func(p activity.Principal, name string) domain.Asset {
		a, err := assets.CreateAsset(ctx, p, domain.AssetCreate{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, name := range []string{"b laptop", "A desk", "c phone"} {
		asset(owner, name)
	}
	gone := asset(owner, "0 gone")
	if err := assets.DeleteAsset(ctx, owner, gone.ID, "sold"); err != nil {
		t.Fatal(err)
	}
	asset(other, "a elsewhere")
	for _, name := range []string{"Zeta", "alpha", "Beta"} {
		if _, err := licenses.CreateLicense(ctx, owner, domain.LicenseCreate{Name: name, Vendor: "V", Seats: 1}); err != nil {
			t.Fatal(err)
		}
	}
	choices := postgres.NewChoiceService(db)

	names := func(cs []domain.Choice) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	for _, tt := range []struct {
		name             string
		max              int
		assets, licenses []string
	}{
		{"bounded", 2, []string{"A desk", "b laptop"}, []string{"alpha", "Beta"}},
		{"all", 200, []string{"A desk", "b laptop", "c phone"}, []string{"alpha", "Beta", "Zeta"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := choices.ListChoices(ctx, owner, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Users) != 1 || got.Users[0].ID != owner.UserID || got.Users[0].Name != owner.Name || got.Users[0].Email != owner.Email {
				t.Errorf("users %+v, want the owner %+v", got.Users, owner)
			}
			if g := names(got.Assets); !equal(g, tt.assets) {
				t.Errorf("assets %q, want %q", g, tt.assets)
			}
			if g := names(got.Licenses); !equal(g, tt.licenses) {
				t.Errorf("licenses %q, want %q", g, tt.licenses)
			}
			for _, c := range append(got.Assets, got.Licenses...) {
				if c.ID == "" || c.Email != "" {
					t.Errorf("choice %+v: want an id and no email", c)
				}
			}
		})
	}
	t.Run("a role without the inventory", func(t *testing.T) {
		p := owner
		p.Role = "nobody"
		if _, err := choices.ListChoices(ctx, p, 10); activity.ErrorCode(err) != activity.EFORBIDDEN {
			t.Errorf("error %v, want EFORBIDDEN", err)
		}
	})
}

func mustWorkspaceEmail(t *testing.T, db *postgres.DB, h domain.PasswordHasher, name string) string {
	t.Helper()
	email, _ := postgrestest.MustWorkspace(t, db, h, name)
	return email
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
