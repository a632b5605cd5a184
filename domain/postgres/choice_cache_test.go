package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/stacktest"
)

// choiceProcesses opens n API processes' choice services on one schema,
// each with its own pool and its listener running until the test ends,
// and waits until every cache is in use. It returns the processes'
// databases, their choice services, and the owners of two workspaces.
func choiceProcesses(t *testing.T, n int) ([]*postgres.DB, []*postgres.ChoiceService, activity.Principal, activity.Principal) {
	t.Helper()
	dbs := postgrestest.MustDBs(t, n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	services := make([]*postgres.ChoiceService, n)
	for i, db := range dbs {
		s := postgres.NewChoiceService(db)
		services[i] = s
		wg.Add(1)
		go func() { defer wg.Done(); s.ListenForChanges(ctx, nil) }()
		stacktest.Eventually(t, "the choice cache listens", s.CacheInUse)
	}
	hasher := argon2.Hasher{Params: postgrestest.Argon2}
	owner := postgrestest.MustPrincipal(t, dbs[0], mustWorkspaceEmail(t, dbs[0], hasher, "Choices "+stacktest.RandomID()))
	other := postgrestest.MustPrincipal(t, dbs[0], mustWorkspaceEmail(t, dbs[0], hasher, "Elsewhere "+stacktest.RandomID()))
	return dbs, services, owner, other
}

// settleChoices renames owner through SQL, then sends s's channel a
// marker of its own and waits until s has dropped it: notifications reach
// a listener in the order of their commits, so by then s has dropped what
// every earlier change (the test's set-up, the rename) announced, and what
// it keeps from now on stays until a later change. Waiting for the new
// name alone would not do: a read that misses the cache sees the rename
// before its notification arrives, and the notification then drops what
// the test has just cached.
func settleChoices(t *testing.T, db *postgres.DB, s *postgres.ChoiceService, owner activity.Principal) {
	t.Helper()
	mustExec(t, db, "UPDATE users SET name = 'Settled Owner' WHERE id = ?", owner.UserID)
	marker := "settled-" + stacktest.RandomID()
	mustExec(t, db, `SELECT pg_notify(left('fluxera_choices_' || current_schema(), 63), ?)`, marker)
	stacktest.Eventually(t, "the set-up's changes are announced", func() bool {
		return s.LastDropped() == marker
	})
	if got := choiceNames(t, s, owner); !slices.Contains(got, "user:Settled Owner"+owner.Email) {
		t.Fatalf("after the rename was announced, the choices offer %q", got)
	}
}

// choiceNames are the names the choices offer, kind by kind.
func choiceNames(t *testing.T, s *postgres.ChoiceService, p activity.Principal) []string {
	t.Helper()
	got, err := s.ListChoices(t.Context(), p, 200)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range []struct {
		kind    string
		choices []domain.Choice
	}{{"user", got.Users}, {"asset", got.Assets}, {"license", got.Licenses}} {
		for _, c := range g.choices {
			out = append(out, g.kind+":"+c.Name+c.Email)
		}
	}
	return out
}

// TestChoiceCacheDropsChangesInEveryProcess caches a workspace's choices
// in one process, changes them through another, and expects the first to
// offer the change once it is announced (members and licenses) or its
// choices aged out (assets), while the other workspace's choices stay its
// own.
func TestChoiceCacheDropsChangesInEveryProcess(t *testing.T) {
	dbs, services, owner, other := choiceProcesses(t, 2)
	cached, changer := services[0], services[1]
	ctx := activity.WithPrincipal(t.Context(), owner)
	assets := postgres.NewAssetService(dbs[1])
	licenses := postgres.NewLicenseService(dbs[1], postgrestest.MustKeyBox(t))
	otherBefore := choiceNames(t, cached, other)
	var asset domain.Asset
	for _, tt := range []struct {
		name   string
		change func(t *testing.T)
		want   string // in the choices after the change
		gone   string // no longer in them
		// bySQL says the change is made with no caller in the context, so
		// that the changing process learns of it by notification too.
		bySQL bool
	}{
		{name: "asset added", want: "asset:Laptop 1", change: func(t *testing.T) {
			var err error
			if asset, err = assets.CreateAsset(ctx, owner, domain.AssetCreate{Name: "Laptop 1"}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "asset renamed", want: "asset:Laptop 2", gone: "asset:Laptop 1", change: func(t *testing.T) {
			name := "Laptop 2"
			if _, err := assets.UpdateAsset(ctx, owner, asset.ID, domain.AssetUpdate{Name: &name}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "asset deleted", gone: "asset:Laptop 2", change: func(t *testing.T) {
			if err := assets.DeleteAsset(ctx, owner, asset.ID, "sold"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "license added", want: "license:Figma", change: func(t *testing.T) {
			if _, err := licenses.CreateLicense(ctx, owner, domain.LicenseCreate{Name: "Figma", Vendor: "Figma", Seats: 1}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "member renamed", want: "user:Renamed Owner" + owner.Email, bySQL: true, change: func(t *testing.T) {
			mustExec(t, dbs[1], "UPDATE users SET name = 'Renamed Owner' WHERE id = ?", owner.UserID)
		}},
		{name: "member added", want: "user:New Membernew-" + owner.UserID + "@example.com", bySQL: true, change: func(t *testing.T) {
			mustExec(t, dbs[1], `INSERT INTO users SELECT (jsonb_populate_record(u, jsonb_build_object('id', gen_random_uuid(), 'email', ?::text, 'name', 'New Member', 'role', 'member'))).* FROM users u WHERE u.id = ?`,
				"new-"+owner.UserID+"@example.com", owner.UserID)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			choiceNames(t, cached, owner) // cached before the change
			tt.change(t)
			offers := func(s *postgres.ChoiceService) bool {
				got := choiceNames(t, s, owner)
				return (tt.want == "" || slices.Contains(got, tt.want)) && (tt.gone == "" || !slices.Contains(got, tt.gone))
			}
			// The process that made the change for a caller offers it at
			// once.
			if !tt.bySQL && !offers(changer) {
				t.Fatalf("the changing process offers %q; want %q in it and %q not", choiceNames(t, changer, owner), tt.want, tt.gone)
			}
			stacktest.Eventually(t, "the changing process offers the change", func() bool { return offers(changer) })
			stacktest.Eventually(t, "the other process offers the change", func() bool { return offers(cached) })
			if got := choiceNames(t, cached, other); !slices.Equal(got, otherBefore) {
				t.Fatalf("the other workspace's choices became %q; want %q", got, otherBefore)
			}
		})
	}
}

// TestChoiceCacheServesFromMemory adds a member without announcing it
// (the triggers disabled): the listening process keeps offering what it
// cached, one that does not listen reads the member at once, and the
// listening process reads it too once its listener connects again,
// sooner than its cached choices would have aged out.
func TestChoiceCacheServesFromMemory(t *testing.T) {
	dbs, services, owner, _ := choiceProcesses(t, 1)
	db, cached := dbs[0], services[0]
	uncached := postgres.NewChoiceService(db)
	settleChoices(t, db, cached, owner)
	read := time.Now()
	before := choiceNames(t, cached, owner)
	mustExec(t, db, "ALTER TABLE users DISABLE TRIGGER USER")
	email := "unannounced-" + owner.UserID + "@example.com"
	mustExec(t, db, `INSERT INTO users SELECT (jsonb_populate_record(u, jsonb_build_object('id', gen_random_uuid(), 'email', ?::text, 'name', 'Unannounced', 'role', 'member'))).* FROM users u WHERE u.id = ?`,
		email, owner.UserID)
	want := "user:Unannounced" + email
	if got := choiceNames(t, cached, owner); !slices.Equal(got, before) {
		t.Fatalf("the listening process offers %q after an unannounced change; want what it cached, %q", got, before)
	}
	if got := choiceNames(t, uncached, owner); !slices.Contains(got, want) {
		t.Fatalf("a process that does not listen offers %q; want the new member", got)
	}
	mustEndListener(t, db, "fluxera_choices_")
	stacktest.Eventually(t, "the reconnected process offers the new member", func() bool {
		return slices.Contains(choiceNames(t, cached, owner), want)
	})
	if age := time.Since(read); age >= postgres.ChoicesMaxAge {
		t.Fatalf("the new member was offered %v after the choices were cached, not before they aged out (%v): the reconnection dropped nothing", age, postgres.ChoicesMaxAge)
	}
}

// TestChoiceCacheReadsAssetsAgainOnceAged adds an asset through another
// process: assets are not announced, so the process that cached the
// choices offers the asset once they are ChoicesMaxAge old, and not
// before.
func TestChoiceCacheReadsAssetsAgainOnceAged(t *testing.T) {
	dbs, services, owner, _ := choiceProcesses(t, 2)
	cached := services[0]
	settleChoices(t, dbs[0], cached, owner)
	read := time.Now()
	before := choiceNames(t, cached, owner)
	if _, err := postgres.NewAssetService(dbs[1]).CreateAsset(activity.WithPrincipal(t.Context(), owner), owner, domain.AssetCreate{Name: "Aged"}); err != nil {
		t.Fatal(err)
	}
	for time.Since(read) < postgres.ChoicesMaxAge-time.Second {
		if got := choiceNames(t, cached, owner); !slices.Equal(got, before) {
			t.Fatalf("offered %q %v after caching; want what it cached until they are %v old", got, time.Since(read), postgres.ChoicesMaxAge)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stacktest.Eventually(t, "the aged choices offer the asset", func() bool {
		return slices.Contains(choiceNames(t, cached, owner), "asset:Aged")
	})
}

// TestChoiceCacheChangesThroughTheProcessAreSeenAtOnce changes the
// choices through the services of the process that cached them, the
// caller in the context as requests carry it and every announcing trigger
// disabled: the process drops the caller's workspace on its own, so its
// next read already offers the change.
func TestChoiceCacheChangesThroughTheProcessAreSeenAtOnce(t *testing.T) {
	dbs, services, owner, _ := choiceProcesses(t, 1)
	db, cached := dbs[0], services[0]
	for _, table := range []string{"users", "assets", "licenses"} {
		mustExec(t, db, "ALTER TABLE "+table+" DISABLE TRIGGER USER")
	}
	key := func() string {
		got, err := cached.ListChoices(t.Context(), owner, 200)
		if err != nil || got.Key == "" {
			t.Fatalf("choices keyed %q, %v; want a key", got.Key, err)
		}
		return got.Key
	}
	before := key()
	if again := key(); again != before {
		t.Fatalf("cached choices keyed %q, then %q; want one key", before, again)
	}
	ctx := activity.WithPrincipal(t.Context(), owner)
	if _, err := postgres.NewAssetService(db).CreateAsset(ctx, owner, domain.AssetCreate{Name: "Seen at once"}); err != nil {
		t.Fatal(err)
	}
	if got := choiceNames(t, cached, owner); !slices.Contains(got, "asset:Seen at once") {
		t.Fatalf("after a change through the process, it offers %q; want the new asset", got)
	}
	if after := key(); after == before {
		t.Fatalf("the choices kept their key %q after a change", before)
	}
}
