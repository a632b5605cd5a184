package e2e

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/internal/app"
)

// TestSeedPlaysTheDemoHistoryOnce seeds the demo workspace into the test's
// schema and checks that its history holds the everyday actions, and that
// seeding again adds nothing.
func TestSeedPlaysTheDemoHistoryOnce(t *testing.T) {
	cfg := MustStack(t)
	m := app.NewMain(cfg)
	defer m.Close()
	ctx := context.Background()
	db, err := m.Database()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	box, err := m.KeyBox()
	if err != nil {
		t.Fatal(err)
	}
	hasher := argon2.Hasher{Params: cfg.Argon2.Params}
	created, err := app.Seed(ctx, db, hasher, box, 60, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("the first seed created nothing")
	}
	ob := &outbox{tb: t, db: db}
	events, _ := ob.since(0)
	// The check for an existing demo workspace signs no one in: the
	// history starts with the workspace's creation, not a failed login.
	if len(events) == 0 || events[0].Action == "auth.login_failed" {
		t.Errorf("the seed's check recorded a failed login first")
	}
	seen := map[string]int{}
	for _, e := range events {
		seen[e.Action]++
	}
	for _, action := range []string{"user.created", "auth.login", "auth.login_failed", "auth.logout", "asset.created", "asset.assigned", "asset.status_changed",
		"asset.maintenance_scheduled", "asset.maintenance_completed", "user.invited", "invitation.accepted", "invitation.declined", "license.created",
		"license.assigned", "license.renewed", "license.key_viewed", "system.settings_changed", "user.role_changed"} {
		if seen[action] == 0 {
			t.Errorf("the demo history has no %s (has %v)", action, seen)
		}
	}
	again, err := app.Seed(ctx, db, hasher, box, 60, rand.New(rand.NewPCG(1, 2)))
	if err != nil || again {
		t.Errorf("seeding again: created %v, err %v", again, err)
	}
	if n := len(mustEvents(t, ob)); n != len(events) {
		t.Errorf("seeding again wrote %d events", n-len(events))
	}
}

// mustEvents returns the actions of every event in the outbox.
func mustEvents(t *testing.T, ob *outbox) []string {
	t.Helper()
	events, _ := ob.since(0)
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action
	}
	return out
}

// TestSeedHistoryWritesTheDemoWorkspacesPast writes a history into the
// test's topic and checks that it is made of the demo workspace's own
// members and resources.
func TestSeedHistoryWritesTheDemoWorkspacesPast(t *testing.T) {
	cfg := MustStack(t)
	m := app.NewMain(cfg)
	defer m.Close()
	ctx := context.Background()
	if err := m.Prepare(ctx, app.RoleAPI, app.RoleRelay); err != nil {
		t.Fatal(err)
	}
	db, _ := m.Database()
	box, err := m.KeyBox()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Seed(ctx, db, argon2.Hasher{Params: cfg.Argon2.Params}, box, 20, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	// 6,000 events over a week need a team of 17 (synthetic.TeamSize):
	// the demo team of five grows by twelve.
	sum, err := m.SeedHistory(ctx, db, box, 6000, 7)
	n := sum.Events
	if err != nil || n != 6000 || sum.Members != synthetic.TeamSize(6000, 7) || sum.Members != 17 || sum.Days != 7 || sum.Sessions == 0 {
		t.Fatalf("wrote %+v: %v", sum, err)
	}
	var users int
	if err := db.NewSelect().TableExpr("users").ColumnExpr("count(*)").Scan(ctx, &users); err != nil || users != sum.Members {
		t.Fatalf("%d users after the seed, want %d: %v", users, sum.Members, err)
	}
	var members map[string]bool
	berlin, _ := time.LoadLocation("Europe/Berlin")
	actions, sessions := map[string]int{}, map[string]map[string]bool{}
	msgs := readTopicUntil(t, cfg, "the seeded history", func(got []streamed) bool { return len(got) >= n })
	for _, s := range msgs {
		if members == nil {
			members = map[string]bool{}
			var ids []string
			db.NewSelect().TableExpr("users").Column("id").Scan(ctx, &ids)
			for _, id := range ids {
				members[id] = true
			}
		}
		if !members[s.Event.Actor.ID] || s.Key != s.Event.WorkspaceID || s.HeaderID != s.Event.ID {
			t.Fatalf("event %s by %s is not the demo workspace's", s.Event.ID, s.Event.Actor.ID)
		}
		if age := time.Since(s.Event.OccurredAt); age < -48*time.Hour || age > 9*24*time.Hour {
			t.Fatalf("event %s happened %s ago", s.Event.ID, age)
		}
		day := s.Event.Actor.ID + " " + s.Event.OccurredAt.In(berlin).Format(time.DateOnly)
		actions[day]++
		if s.Event.Context.SessionID != "" {
			if sessions[day] == nil {
				sessions[day] = map[string]bool{}
			}
			sessions[day][s.Event.Context.SessionID] = true
		}
	}
	for day, n := range actions {
		if n > synthetic.MaxDayActions || len(sessions[day]) > synthetic.MaxDaySessions {
			t.Errorf("%s: %d actions in %d sessions", day, n, len(sessions[day]))
		}
	}
}
