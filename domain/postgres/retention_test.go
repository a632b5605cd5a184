package postgres_test

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// TestRetentionLeaseLetsOneProcessRunTheJob claims the retention job's
// lease from two processes: one wins, the other is told another holds it
// until the lease lapses or is released.
func TestRetentionLeaseLetsOneProcessRunTheJob(t *testing.T) {
	db := postgrestest.MustDB(t)
	a, b := postgres.NewRetentionStore(db), postgres.NewRetentionStore(db)
	ctx := t.Context()
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	first, err := a.ClaimRetention(ctx, now, time.Hour)
	if err != nil || first == "" {
		t.Fatalf("first claim = %q, %v; want a lease", first, err)
	}
	if second, err := b.ClaimRetention(ctx, now.Add(time.Minute), time.Hour); err != nil || second != "" {
		t.Fatalf("claim while leased = %q, %v; want none", second, err)
	}
	if second, err := b.ClaimRetention(ctx, now.Add(61*time.Minute), time.Hour); err != nil || second == "" {
		t.Fatalf("claim once lapsed = %q, %v; want a lease", second, err)
	} else if err := b.ReleaseRetention(ctx, second); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseRetention(ctx, first); err != nil { // no longer its lease: changes nothing
		t.Fatal(err)
	}
	if third, err := a.ClaimRetention(ctx, now.Add(62*time.Minute), time.Hour); err != nil || third == "" {
		t.Fatalf("claim once released = %q, %v; want a lease", third, err)
	}
}

// TestLegalHoldsArePlacedAndReleasedByOwnersAndRecorded places, lists and
// releases holds: bad holds are refused naming the field, an admin may not
// place one, a released hold cannot be released again, a hold of another
// workspace is not found, and the retention job sees only holds in force.
func TestLegalHoldsArePlacedAndReleasedByOwnersAndRecorded(t *testing.T) {
	db := postgrestest.MustDB(t)
	hasher := argon2.Hasher{Params: postgrestest.Argon2}
	email, _ := postgrestest.MustWorkspace(t, db, hasher, "Holds")
	other, _ := postgrestest.MustWorkspace(t, db, hasher, "Elsewhere")
	owner, stranger := postgrestest.MustPrincipal(t, db, email), postgrestest.MustPrincipal(t, db, other)
	holds := postgres.NewHoldService(db)
	ctx := t.Context()
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

	for _, tt := range []struct {
		name  string
		p     activity.Principal
		in    domain.NewHold
		code  string
		field string
	}{
		{"neither a period nor a user", owner, domain.NewHold{Reason: "audit"}, activity.EINVALID, "from"},
		{"a period that ends first", owner, domain.NewHold{From: &to, To: &from, Reason: "audit"}, activity.EINVALID, "to"},
		{"no reason", owner, domain.NewHold{From: &from}, activity.EINVALID, "reason"},
		{"a user of another workspace", owner, domain.NewHold{UserID: stranger.UserID, Reason: "audit"}, activity.ENOTFOUND, "user_id"},
		{"an admin", activity.Principal{WorkspaceID: owner.WorkspaceID, UserID: owner.UserID, Role: activity.RoleAdmin}, domain.NewHold{From: &from, Reason: "audit"}, activity.EFORBIDDEN, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := holds.CreateHold(ctx, tt.p, tt.in)
			if activity.ErrorCode(err) != tt.code || activity.ErrorField(err) != tt.field {
				t.Errorf("error = %v; want %s on %q", err, tt.code, tt.field)
			}
		})
	}

	period, err := holds.CreateHold(ctx, owner, domain.NewHold{From: &from, To: &to, Reason: "litigation over January"})
	if err != nil {
		t.Fatal(err)
	}
	user, err := holds.CreateHold(ctx, owner, domain.NewHold{UserID: owner.UserID, Reason: "the owner's changes are disputed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holds.ReleaseHold(ctx, stranger, period.ID); activity.ErrorCode(err) != activity.ENOTFOUND {
		t.Errorf("release from another workspace = %v; want not found", err)
	}
	released, err := holds.ReleaseHold(ctx, owner, period.ID)
	if err != nil || released.ReleasedAt == nil || released.ReleasedBy != owner.UserID {
		t.Fatalf("release = %+v, %v", released, err)
	}
	if _, err := holds.ReleaseHold(ctx, owner, period.ID); activity.ErrorCode(err) != activity.ECONFLICT {
		t.Errorf("second release = %v; want conflict", err)
	}
	list, err := holds.ListHolds(ctx, owner)
	if err != nil || len(list) != 2 || list[0].ID != user.ID || list[1].ReleasedAt == nil {
		t.Fatalf("list = %+v, %v; want the user's hold, then the released one", list, err)
	}

	active := 365
	if _, err := postgres.NewSettingsService(db).UpdateSettings(ctx, owner, domain.SettingsUpdate{ActiveLogDays: &active}); err != nil {
		t.Fatal(err)
	}
	list2, err := postgres.NewRetentionStore(db).RetentionWorkspaces(ctx)
	if err != nil || len(list2) != 2 {
		t.Fatalf("retention workspaces = %+v, %v; want both", list2, err)
	}
	for _, ws := range list2 {
		switch {
		case ws.ID == owner.WorkspaceID && (ws.ActiveDays != 365 || ws.KeepDays != 2555 || len(ws.Holds) != 1 || ws.Holds[0].ID != user.ID):
			t.Errorf("retention of the workspace = %+v; want a year searchable, 7 years kept and its hold in force", ws)
		case ws.ID == stranger.WorkspaceID && (ws.ActiveDays != 0 || ws.KeepDays != 2555 || len(ws.Holds) != 0):
			t.Errorf("retention of the other workspace = %+v; want searchable indefinitely, 7 years kept, no hold", ws)
		}
	}
	var recorded []string
	if err := db.NewSelect().TableExpr("outbox").ColumnExpr("payload->>'action'").Where("workspace_id = ?", owner.WorkspaceID).OrderExpr("seq").Scan(ctx, &recorded); err != nil {
		t.Fatal(err)
	}
	want := []string{"user.created", domain.ActionHoldCreated, domain.ActionHoldCreated, domain.ActionHoldReleased, "system.settings_changed"}
	if len(recorded) != len(want) {
		t.Fatalf("recorded %v; want %v", recorded, want)
	}
	for i := range want {
		if recorded[i] != want[i] {
			t.Fatalf("recorded %v; want %v", recorded, want)
		}
	}
}
